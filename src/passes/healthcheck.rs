//! HEALTHCHECK: tells Docker and `depends_on` whether a service works, not just runs.
//! A probe must work inside the image, so it comes from the profile's catalogue; the one
//! guess allowed is the profile's HTTP probe for a service with exactly one port, marked
//! as an assumption in the file and the report.

use super::shell::{last_step, Step};
use super::{Out, Pass, Service};
use crate::document::lookup;
use crate::profile::{glob_match, major_version, HealthcheckSettings, ProbeEntry, ProbePassword, Profile, Reference};
use crate::rule::{rules, Rule};
use std::collections::BTreeSet;
use yaml_serde::Value;

pub struct Healthcheck;

rules! {
    HEALTHCHECK_MISSING = "healthcheck/missing", Warning, Safe,
        "no healthcheck: Docker cannot tell whether the service works",
        "Without a healthcheck a running container counts as working, and `depends_on: service_healthy` cannot \
         be used. The fix writes the probe catalogue's check for the image (each proven on the real software), \
         with the profile's interval, timeout, retries and start period. Skipped for one-shot jobs, images \
         with their own HEALTHCHECK, and services another waits for with service_healthy where no probe is \
         known (a guessed probe there would block the waiter).";
    HEALTHCHECK_ASSUMED = "healthcheck/assumed", Warning, Safe,
        "an assumed HTTP probe was written",
        "For an image not in the catalogue that publishes a TCP port, the profile's HTTP probe is written with a \
         comment saying it is assumed. Replace it with the service's real check.";
    HEALTHCHECK_CATALOGUE = "healthcheck/catalogue", Info, None,
        "what the probe catalogue says of this image",
        "A note from the catalogue entry the probe was taken from (what it needs, what to change), or how the \
         probe follows the service's command: the port the command gives the server, or the container's \
         variable that holds the password the server is started with.";
    HEALTHCHECK_NO_PROBE = "healthcheck/no-probe", Warning, None,
        "no healthcheck added: no probe is known for the image",
        "The image is not in the catalogue, or the catalogue records that it ships no tool a probe could use, \
         and it publishes no port an assumed probe could try. Write a probe that works inside the image.";
    HEALTHCHECK_OTHER_COMMAND = "healthcheck/other-command", Warning, None,
        "the service runs something other than the image's server",
        "A catalogue probe checks the image's own server (redis-server, postgres, apache2-foreground). A service \
         whose entrypoint or command runs something else (Nextcloud's `/cron.sh`, a queue worker on a web \
         image) listens on nothing the probe knows, so the probe would keep it unhealthy for ever: none is \
         written. Options for the server itself (`postgres -c ...`, a command of flags only) keep the probe. \
         Write a probe for what the service runs, if it serves anything.";
    HEALTHCHECK_PASSWORD = "healthcheck/password", Warning, None,
        "the server needs a password the probe cannot read from the container",
        "A redis started with `--requirepass` answers NOAUTH to a probe without the password, and stays \
         unhealthy. The probe passes it from the container's own variable at run time (`REDISCLI_AUTH`, \
         redis-cli 5.0.3 and later), never written into the file, where it would also show in `docker \
         inspect`. Where the password is a literal in the command, or interpolated by Compose from a variable \
         the container does not have, no probe is written: give the container the variable.";
    HEALTHCHECK_IMAGE_OWN = "healthcheck/image-own", Info, None,
        "the image defines its own HEALTHCHECK",
        "A healthcheck in the file would replace the image's own, which knows the software better.";
    HEALTHCHECK_ONE_SHOT = "healthcheck/one-shot", Info, None,
        "a one-shot job gets no healthcheck",
        "A job that runs once and exits is not watched by a probe.";
    HEALTHCHECK_IMAGE_UNKNOWN = "healthcheck/image-unknown", Warning, None,
        "the image is known only after interpolation",
        "With `image: ${VAR}` no catalogue entry can be chosen, so no probe is written.";
    HEALTHCHECK_HEALTH_WAITER = "healthcheck/health-waiter", Warning, None,
        "another service waits for this one to be healthy, and no probe is known",
        "`depends_on: condition: service_healthy` needs a probe that passes; a guessed one that fails would keep \
         the waiter from ever starting. Write the service's real check.";
}

impl Pass for Healthcheck {
    const NAME: &'static str = "healthcheck";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p HealthcheckSettings;

    fn settings(profile: &Profile) -> Option<&HealthcheckSettings> {
        profile.healthcheck.as_ref()
    }

    fn run(&self, settings: &HealthcheckSettings, service: &Service, out: &mut Out) {
        // A healthcheck the user wrote is theirs as a whole.
        if service.is_set(&["healthcheck"]) {
            return;
        }
        if let Some(why) = service.one_shot() {
            out.report(
                &HEALTHCHECK_ONE_SHOT,
                &[],
                format!("no healthcheck added: the service looks like a job that runs once ({why}), which a probe does not watch"),
            );
            return;
        }
        let image = service.image();
        if let Some(i) = image.filter(|_| service.reference().is_some_and(|r| !r.repo_known)) {
            out.report(
                &HEALTHCHECK_IMAGE_UNKNOWN,
                &["image"],
                format!(
                    "no healthcheck added: the image `{i}` is known only once the file is interpolated, so no probe \
                     can be chosen for it; write one that works inside the image"
                ),
            );
            return;
        }
        let entry = service.signs.probe.and_then(|i| settings.probes.get(i));
        let choice = image.zip(service.reference()).zip(entry).map(|((i, r), p)| catalogue_probe(p, i, r));
        if let Some(Choice { test, why, own, any_tag }) = choice {
            match (test, own) {
                (Some(test), _) => {
                    let Some(entry) = entry else { return };
                    let Some(test) = fitted(service, out, entry, test) else { return };
                    if any_tag {
                        out.report(&HEALTHCHECK_CATALOGUE, &["image"], why.clone());
                    }
                    add(service, out, settings, &HEALTHCHECK_MISSING, strings(&test), None)
                }
                (None, true) => out.report(
                    &HEALTHCHECK_IMAGE_OWN,
                    &["image"],
                    format!("no healthcheck added: the image defines its own HEALTHCHECK, which one here would replace ({why})"),
                ),
                (None, false) => out.report(&HEALTHCHECK_NO_PROBE, &["image"], format!("no healthcheck added: {why}")),
            }
            return;
        }
        let ports = container_ports(service);
        let waiter = service.relations.health_waiter.get(service.name);
        match (&settings.http_fallback, ports.as_deref().unwrap_or_default()) {
            (Some(_), [_]) if waiter.is_some() => {
                let waiter = waiter.map_or("", String::as_str);
                out.report(
                    &HEALTHCHECK_HEALTH_WAITER,
                    &[],
                    format!(
                        "no healthcheck added: `{waiter}` waits for this service to be healthy (service_healthy), which works only \
                         if the image has a HEALTHCHECK of its own, and a compose one would replace it; and a guessed probe that \
                         fails would keep `{waiter}` from starting"
                    ),
                );
            }
            (Some(fallback), [port]) => {
                let test: Vec<String> = fallback.test.iter().map(|t| t.replace("{port}", port)).collect();
                let note = fallback.note.replace("{port}", port);
                let what = match image {
                    Some(i) => format!("`{i}` is not in the probe catalogue"),
                    None => "the service builds its own image".to_string(),
                };
                out.report(
                    &HEALTHCHECK_ASSUMED,
                    &["healthcheck", "test"],
                    format!(
                        "assumed healthcheck: {what}, so it got the profile's HTTP probe on port {port}; \
                         check that it answers GET /health or write a real probe"
                    ),
                );
                add(service, out, settings, &HEALTHCHECK_ASSUMED, strings(&test), Some(note));
            }
            _ => {
                let what = match image {
                    Some(i) => format!("image `{i}` is not in the probe catalogue"),
                    None => "the service has no image to look up in the probe catalogue".to_string(),
                };
                let why = match (ports.map(|p| p.len()), &settings.http_fallback) {
                    (None, _) => "a container port of it is not a fixed number".to_string(),
                    (Some(0), _) => "it publishes no TCP container port".to_string(),
                    (Some(1), None) => "the profile assumes no HTTP probe".to_string(),
                    (Some(n), _) => format!("it has {n} container ports"),
                };
                out.report(
                    &HEALTHCHECK_NO_PROBE,
                    &[],
                    format!("no healthcheck added: {what} and {why}; write a probe that works inside the image"),
                );
            }
        }
    }
}

/// The probe with the profile's timings; a slow starter (the `probe` settings' list:
/// databases, JVMs) gets that list's longer `start_period`.
fn add(
    service: &Service,
    out: &mut Out,
    settings: &HealthcheckSettings,
    id: &'static Rule,
    test: Value,
    note: Option<String>,
) {
    let start_period = service
        .profile
        .probe
        .as_ref()
        .and_then(|p| p.slow_start.iter().find(|s| super::probe::is_slow(service, s)))
        .map_or(settings.start_period.as_str(), |s| s.start_period.as_str());
    out.add_noted(id, &["healthcheck", "test"], test, note);
    out.add(id, &["healthcheck", "interval"], settings.interval.as_str());
    out.add(id, &["healthcheck", "timeout"], settings.timeout.as_str());
    out.add(id, &["healthcheck", "retries"], settings.retries);
    out.add(id, &["healthcheck", "start_period"], start_period);
}

fn strings(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|s| Value::from(s.as_str())).collect())
}

/// The catalogue's answer for an image.
struct Choice<'r> {
    /// None: no probe to write.
    test: Option<&'r Vec<String>>,
    why: String,
    /// The image defines its own HEALTHCHECK.
    own: bool,
    /// Chosen to work with every tag, since the tag is not known.
    any_tag: bool,
}

fn catalogue_probe<'r>(probe: &'r ProbeEntry, image: &str, reference: &Reference) -> Choice<'r> {
    let Reference { tag, tag_known, .. } = reference;
    if !*tag_known && !probe.variants.is_empty() {
        // The probe differs by tag, and the tag is not known: the one for every tag.
        let why = |tail: &str| format!("the tag of `{image}` is known only once interpolated, and {tail}");
        return match &probe.any_tag {
            Some(any) if any.test.is_some() => Choice {
                test: any.test.as_ref(),
                why: format!(
                    "the tag of `{image}` is known only once interpolated, so the probe works with every tag: {}",
                    any.why
                ),
                own: false,
                any_tag: true,
            },
            Some(any) => Choice { test: None, why: why(&any.why), own: false, any_tag: false },
            None => Choice { test: None, why: why("the probe depends on it"), own: false, any_tag: false },
        };
    }
    let tag = tag.as_deref().unwrap_or_default();
    let major = major_version(tag);
    // The first variant whose every condition holds wins.
    let variant = probe.variants.iter().find(|v| {
        v.below_major.is_none_or(|b| major.is_some_and(|m| m < b))
            && v.tag_contains.as_deref().is_none_or(|t| tag.contains(t))
            && v.tag_matches.as_deref().is_none_or(|p| glob_match(p, tag))
            && (v.below_major.is_some() || v.tag_contains.is_some() || v.tag_matches.is_some())
    });
    let (test, why, own) = match variant {
        Some(v) => (v.test.as_ref(), v.why.as_str(), false),
        None => (probe.test.as_ref(), probe.why.as_str(), probe.own_healthcheck),
    };
    Choice { test, why: why.trim_end_matches('.').to_string(), own, any_tag: false }
}

/// The distinct TCP container ports a service publishes or exposes; None if one is not a
/// fixed number (`${PORT}`, a range), which makes "exactly one" unknowable.
fn container_ports(service: &Service) -> Option<Vec<String>> {
    let mut ports = BTreeSet::new();
    let mut unknown = false;
    let lists = [service.get(&["ports"]), service.get(&["expose"])];
    for item in lists.into_iter().flatten().filter_map(Value::as_sequence).flatten() {
        let spec = match item {
            Value::Mapping(m) => {
                if lookup::get(m, "protocol").and_then(Value::as_str).is_some_and(|p| p != "tcp") {
                    continue;
                }
                lookup::get(m, "target").map(scalar_text)
            }
            other => Some(scalar_text(other)),
        };
        let Some(spec) = spec else { continue };
        let (spec, protocol) = spec.split_once('/').unwrap_or((&spec, "tcp"));
        if protocol != "tcp" {
            continue;
        }
        let container = spec.rsplit(':').next().unwrap_or(spec);
        if container.contains('$') || container.contains('-') || container.parse::<u16>().is_err() {
            unknown = true;
            continue;
        }
        ports.insert(container.to_string());
    }
    (!unknown).then(|| ports.into_iter().collect())
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The catalogue's probe as it fits the service's command: none where the command runs
/// something other than the image's server (the probe would ask a server that is not
/// there); the port the command gives the server; the password it gives it, passed from a
/// variable of the container at run time and never written into the file.
fn fitted(service: &Service, out: &mut Out, probe: &ProbeEntry, test: &[String]) -> Option<Vec<String>> {
    let mut test = test.to_vec();
    if !service.is_set(&["entrypoint"]) && !service.is_set(&["command"]) {
        return Some(test);
    }
    let step = last_step(service.value);
    let key = step.as_ref().map_or(if service.is_set(&["command"]) { "command" } else { "entrypoint" }, |s| s.key);
    if !probe.servers.is_empty() && !runs_server(service, probe, step.as_ref()) {
        let runs = step.as_ref().map_or_else(
            || "a script whose last step is not one command".to_string(),
            |s| format!("`{}`", s.words.join(" ")),
        );
        let servers: Vec<String> = probe.servers.iter().map(|s| format!("`{s}`")).collect();
        let repo = service.repo().unwrap_or_default();
        out.report(
            &HEALTHCHECK_OTHER_COMMAND,
            &[key],
            format!(
                "no healthcheck added: the service runs {runs}, not the image's server ({}), so the catalogue's probe \
                 for `{repo}` does not apply; write a probe for what it runs, if it serves anything",
                servers.join(", ")
            ),
        );
        return None;
    }
    let step = step?;
    let program = match test.first().map(String::as_str) {
        Some("CMD-SHELL") => test.get(1).and_then(|t| t.split_whitespace().next()).unwrap_or("").to_string(),
        _ => test.get(1).cloned().unwrap_or_default(),
    };
    if let Some(port) = &probe.port {
        if let Some((given, value)) = option_value(&step.words, &port.flags) {
            if value != port.default.to_string() {
                let shell_test = test.first().is_some_and(|t| t == "CMD-SHELL");
                let usable = value.parse::<u16>().is_ok()
                    || (value.starts_with('$') && !value.starts_with("$$"))
                    || (value.starts_with("$$") && step.shell && shell_test);
                if !usable {
                    out.report(
                        &HEALTHCHECK_NO_PROBE,
                        &[key],
                        format!(
                            "no healthcheck added: the command gives the server the port `{value}` (`{given}`), which \
                             the probe cannot be given as written; write a probe that asks that port"
                        ),
                    );
                    return None;
                }
                with_option(&mut test, &[port.option.as_str(), value.as_str()]);
                out.report(
                    &HEALTHCHECK_CATALOGUE,
                    &[key],
                    format!("the probe asks port {value}, which `{given}` in the command gives the server"),
                );
            }
        }
    }
    if let Some(password) = &probe.password {
        if let Some((_, value)) = option_value(&step.words, &password.flags) {
            let variable = secret_variable(service, out, password, &step, &value, &program, key)?;
            let Some(reads) = &password.variable else { return None };
            match test.first().map(String::as_str) {
                Some("CMD-SHELL") if test.len() == 2 => test[1] = format!("{reads}=\"$${variable}\" {}", test[1]),
                _ => {
                    out.report(
                        &HEALTHCHECK_PASSWORD,
                        &[key],
                        "no healthcheck added: the server is started with a password, and the catalogue's probe \
                         runs without a shell that could pass it from a variable; write one that does",
                    );
                    return None;
                }
            }
            out.report(
                &HEALTHCHECK_CATALOGUE,
                &[key],
                format!(
                    "the probe passes the password from the container's variable `{variable}` through {reads} \
                     ({program}{}): it is not written into the file",
                    password.since.as_deref().map_or(String::new(), |v| format!(" {v} and later"))
                ),
            );
        }
    }
    Some(test)
}

/// Whether the service's command starts the image's own server: one of the catalogue's
/// server words, in a row, or (with the image's entrypoint) only flags, which the official
/// images' entrypoints hand to their server.
fn runs_server(service: &Service, probe: &ProbeEntry, step: Option<&Step>) -> bool {
    let Some(step) = step else { return false };
    let words: Vec<&str> = step.words.iter().map(|w| w.rsplit('/').next().unwrap_or(w)).collect();
    let first = words.iter().find(|w| **w != "exec" && !is_assignment(w));
    if first.is_some_and(|w| w.starts_with('-')) && !service.is_set(&["entrypoint"]) {
        return true;
    }
    probe.servers.iter().any(|server| {
        let server: Vec<&str> = server.split_whitespace().collect();
        !server.is_empty() && words.windows(server.len()).any(|w| w == server.as_slice())
    })
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit()
    })
}

/// The value of the first of `flags` in a command (`--port 6380`, `--port=6380`, or
/// `port=5433` for `port`), with the words that give it.
fn option_value(words: &[String], flags: &[String]) -> Option<(String, String)> {
    words.iter().enumerate().find_map(|(i, word)| {
        flags.iter().find_map(|flag| {
            if word == flag {
                let value = words.get(i + 1)?;
                Some((format!("{flag} {value}"), value.clone()))
            } else {
                let value = word.strip_prefix(flag.as_str())?.strip_prefix('=')?;
                Some((word.clone(), value.to_string()))
            }
        })
    })
}

/// `option...` right after the probe's program (`redis-cli -p 6380 ping`).
fn with_option(test: &mut Vec<String>, option: &[&str]) {
    if test.first().is_some_and(|t| t == "CMD-SHELL") {
        if let Some(script) = test.get_mut(1) {
            let start = script.len() - script.trim_start().len();
            let end = script[start..].find(char::is_whitespace).map_or(script.len(), |e| start + e);
            script.insert_str(end, &format!(" {}", option.join(" ")));
        }
        return;
    }
    // A list form (`CMD`, program, ...) gets each word as an item after the program.
    let at = 2.min(test.len());
    test.splice(at..at, option.iter().map(|o| o.to_string()));
}

/// The container's variable that holds the password a server is given, where one does;
/// otherwise reports why no probe is written.
fn secret_variable(
    service: &Service,
    out: &mut Out,
    password: &ProbePassword,
    step: &Step,
    value: &str,
    program: &str,
    key: &'static str,
) -> Option<String> {
    let flag = password.flags.first().map_or("", String::as_str);
    let mut refuse = |why: String| out.report(&HEALTHCHECK_PASSWORD, &[key], format!("no healthcheck added: {why}"));
    let Some(reads) = &password.variable else {
        refuse(format!(
            "the server is started with a password, and no variable is known that `{program}` reads one from, so a \
             probe would have to carry it in the file; write one that passes it yourself"
        ));
        return None;
    };
    if let (Some(since), Some(tag)) = (&password.since, service.reference().and_then(|r| r.tag.as_deref())) {
        if older(tag, since) {
            let image = service.image().unwrap_or_default();
            refuse(format!(
                "{program} reads the password from {reads} only from {since} on, and `{image}` is older; a probe \
                 that passed it on the command line would show it in `docker inspect`: write one yourself, or use \
                 a newer image"
            ));
            return None;
        }
    }
    // `$$NAME` in a script: the shell reads the container's variable at run time.
    if let Some(name) = value.strip_prefix("$$").and_then(variable_name).filter(|_| step.shell) {
        return Some(name);
    }
    // `${NAME}`: Compose writes the value into the command; a variable of the container
    // set to the same expression holds it too.
    if let Some(name) = value.strip_prefix('$').filter(|v| !v.starts_with('$')).and_then(variable_name) {
        if let Some(holder) = environment_holding(service, value) {
            return Some(holder);
        }
        refuse(format!(
            "the server's password is `{value}`, which Compose interpolates into the command, and no variable of \
             the container holds it; a probe that repeated it would write the secret into the file and `docker \
             inspect`: give the service a variable that holds it (`environment: {{{name}: {value}}}`) and a probe \
             can pass it at run time (`{reads}=$${name}`)"
        ));
        return None;
    }
    refuse(format!(
        "the server's password is written in the command, and a probe would have to repeat it in the file and \
         `docker inspect`: pass it through a variable of the container (`{flag} \"$$PASSWORD\"` in `sh -c`) and a \
         probe can pass it at run time (`{reads}=$$PASSWORD`)"
    ));
    None
}

/// `NAME` of `NAME`, `{NAME}` or `{NAME:-default}` (the whole text one variable).
fn variable_name(text: &str) -> Option<String> {
    let name = match text.strip_prefix('{') {
        Some(inner) => {
            let inner = inner.strip_suffix('}')?;
            &inner[..inner.find([':', '-', '?', '+']).unwrap_or(inner.len())]
        }
        None => text,
    };
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    valid.then(|| name.to_string())
}

/// The service's variable whose value is exactly `expression`.
fn environment_holding(service: &Service, expression: &str) -> Option<String> {
    match lookup::get(service.value, "environment")? {
        Value::Mapping(m) => {
            m.iter().find(|(_, v)| v.as_str() == Some(expression)).and_then(|(k, _)| k.as_str().map(str::to_string))
        }
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .find_map(|i| i.split_once('=').filter(|(_, v)| *v == expression).map(|(k, _)| k.to_string())),
        _ => None,
    }
}

/// Whether a tag names a version older than `since` (`5.0.2` < `5.0.3`); a part the tag
/// leaves out is its newest (`5.0` is the latest 5.0), and a tag without a version is not
/// older.
fn older(tag: &str, since: &str) -> bool {
    let parts = |text: &str| -> Vec<u64> {
        let version = text.split(['-', '_']).next().unwrap_or("");
        version.split('.').map_while(|p| p.parse().ok()).collect()
    };
    let (have, want) = (parts(tag), parts(since));
    if have.is_empty() {
        return false;
    }
    for (i, w) in want.iter().enumerate() {
        match have.get(i) {
            None => return false,
            Some(h) if h != w => return h < w,
            Some(_) => {}
        }
    }
    false
}

#[cfg(test)]
mod command_tests {
    use super::*;

    #[test]
    fn versions_ports_and_variables_are_read_as_the_server_reads_them() {
        assert!(older("5.0.2", "5.0.3") && older("4", "5.0.3") && older("4.0-alpine", "5.0.3"));
        assert!(!older("5.0", "5.0.3") && !older("5", "5.0.3") && !older("7.2-alpine", "5.0.3"));
        assert!(!older("latest", "5.0.3") && !older("alpine", "5.0.3") && !older("5.0.3", "5.0.3"));
        let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        let flags = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let port = flags(&["-p", "port"]);
        assert_eq!(option_value(&words("postgres -p 5433"), &port), Some(("-p 5433".into(), "5433".into())));
        assert_eq!(option_value(&words("postgres -c port=5434"), &port), Some(("port=5434".into(), "5434".into())));
        assert_eq!(option_value(&words("postgres -c portal=1"), &port), None);
        let port = flags(&["--port"]);
        assert_eq!(
            option_value(&words("redis-server --port=6380"), &port),
            Some(("--port=6380".into(), "6380".into()))
        );
        assert_eq!(option_value(&words("redis-server --port"), &port), None);
        assert_eq!(variable_name("{REDIS_PASSWORD:-x}").as_deref(), Some("REDIS_PASSWORD"));
        assert_eq!(variable_name("PASS").as_deref(), Some("PASS"));
        assert_eq!(variable_name("{PASS}x"), None);
        assert_eq!(variable_name("PASS-x"), None);
        let mut list = vec!["CMD".to_string(), "mongosh".into(), "--quiet".into()];
        with_option(&mut list, &["--port", "27018"]);
        assert_eq!(list, ["CMD", "mongosh", "--port", "27018", "--quiet"]);
        let mut shell = vec!["CMD-SHELL".to_string(), "redis-cli ping | grep -q PONG".into()];
        with_option(&mut shell, &["-p", "6380"]);
        assert_eq!(shell[1], "redis-cli -p 6380 ping | grep -q PONG");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    /// Two catalogue entries (one with a variant by tag, one for an image with its own
    /// HEALTHCHECK), the HTTP probe assumed for one port, and the one-shot signs the
    /// `restart` settings give.
    const SETTINGS: &str = r#"
healthcheck:
  interval: 30s
  timeout: 10s
  retries: 3
  start_period: 15s
  http_fallback:
    test: [CMD, wget, -qO-, "http://localhost:{port}/health"]
    note: "assumed probe on port {port}"
  probes:
    - images: [redis]
      test: [CMD-SHELL, redis-cli ping | grep -q PONG]
      why: redis-cli ships in every tag.
      variants:
        - {below_major: 5, test: [CMD, redis-cli, ping], why: old tags.}
      any_tag: {test: [CMD, redis-cli, ping], why: it works in every tag.}
    - images: [example/own]
      test: null
      own_healthcheck: true
      why: the image has a HEALTHCHECK.
    - images: [example/bare]
      test: null
      why: the image ships no tool a probe could use.
restart:
  policy: unless-stopped
  one_shot: {policy: on-failure, commands: [migrate]}
"#;

    #[test]
    fn the_catalogue_probe_is_written_with_the_profile_timings() {
        let compose = "services:
  cache: {image: redis:7}
  old: {image: redis:4}
  any: {image: 'redis:${TAG}'}
  set: {image: redis:7, healthcheck: {test: [CMD, true]}}
";
        check(plan(&Healthcheck, &profile(SETTINGS), compose), r#"
+ cache: healthcheck.test = ["CMD-SHELL","redis-cli ping | grep -q PONG"]  [healthcheck/missing]
+ cache: healthcheck.interval = "30s"  [healthcheck/missing]
+ cache: healthcheck.timeout = "10s"  [healthcheck/missing]
+ cache: healthcheck.retries = 3  [healthcheck/missing]
+ cache: healthcheck.start_period = "15s"  [healthcheck/missing]
+ old: healthcheck.test = ["CMD","redis-cli","ping"]  [healthcheck/missing]
+ old: healthcheck.interval = "30s"  [healthcheck/missing]
+ old: healthcheck.timeout = "10s"  [healthcheck/missing]
+ old: healthcheck.retries = 3  [healthcheck/missing]
+ old: healthcheck.start_period = "15s"  [healthcheck/missing]
+ any: healthcheck.test = ["CMD","redis-cli","ping"]  [healthcheck/missing]
+ any: healthcheck.interval = "30s"  [healthcheck/missing]
+ any: healthcheck.timeout = "10s"  [healthcheck/missing]
+ any: healthcheck.retries = 3  [healthcheck/missing]
+ any: healthcheck.start_period = "15s"  [healthcheck/missing]
info[healthcheck/catalogue] any at image: the tag of `redis:${TAG}` is known only once interpolated, so the probe works with every tag: it works in every tag.
"#);
    }

    #[test]
    fn an_unknown_image_with_one_port_gets_the_assumed_probe_unless_a_waiter_needs_it() {
        let compose = "services:
  api: {image: example/api:1, ports: ['8080:80']}
  web: {image: example/web:1, expose: ['3000']}
  client: {image: example/client:1, depends_on: {web: {condition: service_healthy}}}
";
        check(plan(&Healthcheck, &profile(SETTINGS), compose), r#"
+ api: healthcheck.test = ["CMD","wget","-qO-","http://localhost:80/health"]  # assumed probe on port 80  [healthcheck/assumed]
+ api: healthcheck.interval = "30s"  [healthcheck/assumed]
+ api: healthcheck.timeout = "10s"  [healthcheck/assumed]
+ api: healthcheck.retries = 3  [healthcheck/assumed]
+ api: healthcheck.start_period = "15s"  [healthcheck/assumed]
warning[healthcheck/assumed] api at healthcheck.test: assumed healthcheck: `example/api:1` is not in the probe catalogue, so it got the profile's HTTP probe on port 80; check that it answers GET /health or write a real probe
warning[healthcheck/health-waiter] web: no healthcheck added: `client` waits for this service to be healthy (service_healthy), which works only if the image has a HEALTHCHECK of its own, and a compose one would replace it; and a guessed probe that fails would keep `client` from starting
warning[healthcheck/no-probe] client: no healthcheck added: image `example/client:1` is not in the probe catalogue and it publishes no TCP container port; write a probe that works inside the image
"#);
    }

    #[test]
    fn no_probe_is_written_where_none_is_known() {
        let compose = "services:
  own: {image: example/own:1}
  bare: {image: example/bare:1}
  ports: {image: example/app:1, ports: ['80', '443']}
  none: {image: example/app:1}
  dynamic: {image: '${IMAGE}'}
  db-migrate: {image: example/app:1, command: [./manage.py, migrate]}
  db-seed: {image: example/app:1, command: daemon}
";
        check(plan(&Healthcheck, &profile(SETTINGS), compose), r#"
info[healthcheck/image-own] own at image: no healthcheck added: the image defines its own HEALTHCHECK, which one here would replace (the image has a HEALTHCHECK)
warning[healthcheck/no-probe] bare at image: no healthcheck added: the image ships no tool a probe could use
warning[healthcheck/no-probe] ports: no healthcheck added: image `example/app:1` is not in the probe catalogue and it has 2 container ports; write a probe that works inside the image
warning[healthcheck/no-probe] none: no healthcheck added: image `example/app:1` is not in the probe catalogue and it publishes no TCP container port; write a probe that works inside the image
warning[healthcheck/image-unknown] dynamic at image: no healthcheck added: the image `${IMAGE}` is known only once the file is interpolated, so no probe can be chosen for it; write one that works inside the image
info[healthcheck/one-shot] db-migrate: no healthcheck added: the service looks like a job that runs once (the last step of its command runs `migrate`, and nothing is started after it), which a probe does not watch
warning[healthcheck/no-probe] db-seed: no healthcheck added: image `example/app:1` is not in the probe catalogue and it publishes no TCP container port; write a probe that works inside the image
"#);
    }
}
