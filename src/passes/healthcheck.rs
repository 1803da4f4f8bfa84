//! HEALTHCHECK: tells Docker and `depends_on` whether a service works, not just runs.
//! A probe is written only on evidence, in this order (README, "Image facts"): the user's
//! own healthcheck, in any layer; the image's own HEALTHCHECK (kept); a probe `probes`
//! proved for this service; the probe catalogue's (built-in and team entries), where the
//! image facts show its tool (or no facts are at hand); the endpoint a team profile
//! declares its services answer (`http_fallback`), with a tool the image has. Where
//! nothing gives one, a finding says what is missing; a probe that calls a tool the image
//! lacks is reported.

use super::{evidence, fit, Out, Pass, Service};
use crate::document::lookup;
use crate::facts::Image;
use crate::profile::{glob_match, major_version, HealthcheckSettings, ProbeEntry, Profile, Reference};
use crate::rule::{rules, Rule};
use std::collections::BTreeSet;
use yaml_serde::Value;

pub struct Healthcheck;

rules! {
    HEALTHCHECK_MISSING = "healthcheck/missing", Warning, Safe,
        "no healthcheck: Docker cannot tell whether the service works",
        "Without a healthcheck a running container counts as working, and `depends_on: service_healthy` cannot \
         be used. The fix writes the probe catalogue's check for the image (each proven on the real software), \
         with the profile's interval, timeout, retries and start period, where the image facts show the tool \
         it calls (or no facts are at hand). Skipped for one-shot jobs, images with their own HEALTHCHECK, and \
         where no probe has evidence.";
    HEALTHCHECK_PROVEN = "healthcheck/proven", Info, Safe,
        "a probe proven on the engine was written",
        "`compose-harden probes` ran the service in a safe copy, found what it listens on, and kept a probe that \
         passed three times in a row and failed while the app was frozen (or, marked socket only, one that proves \
         only an open socket). It is in the facts file's section for this service, keyed by its image ID and what \
         it runs; it is written with the timings measured there. It comes after the user's own healthcheck and the \
         image's own HEALTHCHECK, and before the catalogue.";
    HEALTHCHECK_DECLARED = "healthcheck/declared", Info, Safe,
        "a probe of the endpoint the profile declares was written",
        "A team profile (or a per-service override) declares the HTTP endpoint its services answer \
         (`healthcheck.http_fallback`). For a service the catalogue does not know that has exactly one TCP port, \
         the probe asks that endpoint with a tool the image facts show it has (curl or wget, or busybox's wget), \
         or as declared where no facts are at hand. No built-in profile declares one: a guessed endpoint is no \
         evidence.";
    HEALTHCHECK_CATALOGUE = "healthcheck/catalogue", Info, None,
        "what the probe catalogue says of this image",
        "A note from the catalogue entry the probe was taken from (what it needs, what to change), or how the \
         probe follows the service's command: the port the command gives the server, or the container's \
         variable that holds the password the server is started with.";
    HEALTHCHECK_NO_PROBE = "healthcheck/no-probe", Warning, None,
        "no healthcheck added: nothing gives a probe with evidence",
        "The image is not in the catalogue (or the catalogue records that it ships no tool a probe could use), \
         and no profile declares the endpoint the service answers, or the image has no tool to ask it with. \
         Write the service's real check, or declare its endpoint in a team profile (`healthcheck.http_fallback`); \
         `compose-harden inspect` records the image's own HEALTHCHECK and probe tools.";
    HEALTHCHECK_TOOL_MISSING = "healthcheck/tool-missing", Warning, None,
        "the healthcheck calls a program the image does not have",
        "The image facts list the probe tools found on the image's PATH. A healthcheck (the user's, or the \
         catalogue's, which is then not written) that calls one the image lacks always fails: the container \
         stays unhealthy, and a `service_healthy` waiter never starts. The finding names what the image has \
         instead.";
    HEALTHCHECK_NO_SHELL = "healthcheck/no-shell", Warning, None,
        "a CMD-SHELL healthcheck on an image without /bin/sh",
        "The engine runs a `CMD-SHELL` test (or a test written as one string) with `/bin/sh -c`, whatever the \
         image's SHELL says. An image without `/bin/sh` (scratch, distroless) fails it every time. Write the \
         test as `CMD` and a program the image has.";
    HEALTHCHECK_OVERRIDES_IMAGE = "healthcheck/overrides-image", Info, None,
        "the file's healthcheck replaces the image's own",
        "The image facts show a HEALTHCHECK in the image. A `test` in the file (or `disable: true`) replaces \
         it; the engine merges the other fields one by one, so a file that sets only `interval` or `retries` \
         keeps the image's test. Kept as written.";
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
        "A healthcheck in the file would replace the image's own, which knows the software better. Read from \
         the image facts; without them, from the catalogue.";
    HEALTHCHECK_ONE_SHOT = "healthcheck/one-shot", Info, None,
        "a one-shot job gets no healthcheck",
        "A job that runs once and exits is not watched by a probe.";
    HEALTHCHECK_IMAGE_UNKNOWN = "healthcheck/image-unknown", Warning, None,
        "the image is known only after interpolation",
        "With `image: ${VAR}` no catalogue entry can be chosen, so no probe is written (image facts, keyed by \
         the reference as the file writes it, still decide).";
    HEALTHCHECK_HEALTH_WAITER = "healthcheck/health-waiter", Warning, None,
        "another service waits for this one to be healthy, and no probe is known",
        "`depends_on: condition: service_healthy` needs a probe that passes; none has evidence here, so the \
         waiter starts only if the image has a HEALTHCHECK of its own. Write the service's real check.";
}

impl Pass for Healthcheck {
    const NAME: &'static str = "healthcheck";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p HealthcheckSettings;

    fn settings(profile: &Profile) -> Option<&HealthcheckSettings> {
        profile.healthcheck.as_ref()
    }

    fn run(&self, settings: &HealthcheckSettings, service: &Service, out: &mut Out) {
        // A healthcheck the user wrote is theirs as a whole: checked against the image.
        if service.is_set(&["healthcheck"]) {
            if let Some(image) = service.facts {
                check_users(service, image, out);
            }
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
        if let Some(image) = service.facts {
            if let Some(own) = image.healthcheck.as_ref().filter(|h| !h.disabled()) {
                out.report(
                    &HEALTHCHECK_IMAGE_OWN,
                    &["image"],
                    format!(
                        "no healthcheck added: {} has its own HEALTHCHECK (`{}`), which one here would replace",
                        evidence::image(service, image),
                        own.test.join(" ")
                    ),
                );
                return;
            }
        }
        if let Some(proven) = service.proven {
            let id = service.facts.map(|i| i.id.trim_start_matches("sha256:")).unwrap_or_default();
            let id = id.get(..12).unwrap_or(id);
            let only = if proven.socket_only { "; socket only: it passed while the app was frozen" } else { "" };
            let note = format!("compose-harden: proven by `probes` (image ID {id}{only})");
            out.add_noted(&HEALTHCHECK_PROVEN, &["healthcheck", "test"], strings(&proven.test), Some(note));
            out.add(&HEALTHCHECK_PROVEN, &["healthcheck", "interval"], proven.interval.as_str());
            out.add(&HEALTHCHECK_PROVEN, &["healthcheck", "timeout"], proven.timeout.as_str());
            out.add(&HEALTHCHECK_PROVEN, &["healthcheck", "retries"], proven.retries);
            out.add(&HEALTHCHECK_PROVEN, &["healthcheck", "start_period"], proven.start_period.as_str());
            return;
        }
        let image = service.image();
        if let Some(i) = image.filter(|_| service.facts.is_none() && service.reference().is_some_and(|r| !r.repo_known)) {
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
        // The catalogue's word that the image has its own HEALTHCHECK gives way to the facts.
        let unproven = choice.as_ref().is_some_and(|c| c.test.is_none() && c.own && service.facts.is_some());
        let choice = choice.filter(|_| !unproven);
        if let Some(Choice { test, why, own, any_tag }) = choice {
            match (test, own) {
                (Some(test), _) => {
                    let Some(entry) = entry else { return };
                    let Some(test) = fit::fitted(service, out, entry, test) else { return };
                    if !usable(service, out, &test, "the catalogue's probe") {
                        return;
                    }
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
        if let (Some(declared), [port]) = (&settings.http_fallback, ports.as_deref().unwrap_or_default()) {
            let test: Vec<String> = declared.test.iter().map(|t| t.replace("{port}", port)).collect();
            match evidence::with_tool_found(&test, service.facts) {
                Ok(test) => {
                    let note = declared.note.replace("{port}", port);
                    return add(service, out, settings, &HEALTHCHECK_DECLARED, strings(&test), Some(note));
                }
                Err(why) => {
                    let image = service.facts.map(|i| evidence::image(service, i)).unwrap_or_default();
                    out.report(
                        &HEALTHCHECK_TOOL_MISSING,
                        &[],
                        format!(
                            "no healthcheck added: the profile declares the endpoint its services answer, and {image} \
                             {why}; write a probe with a program the image has"
                        ),
                    );
                    return;
                }
            }
        }
        if let Some(waiter) = service.relations.health_waiter.get(service.name) {
            out.report(
                &HEALTHCHECK_HEALTH_WAITER,
                &[],
                format!(
                    "no healthcheck added: `{waiter}` waits for this service to be healthy (service_healthy), and no \
                     probe has evidence here; write the service's real check, or `{waiter}` starts only if the image \
                     has a HEALTHCHECK of its own"
                ),
            );
            return;
        }
        let what = match (image, service.facts) {
            (Some(i), Some(facts)) if unproven => format!(
                "the catalogue says `{i}` has a HEALTHCHECK of its own, but the image (image ID {}) has none",
                evidence::id(facts)
            ),
            (_, Some(facts)) => {
                format!("{} has no HEALTHCHECK of its own nor an entry in the probe catalogue", evidence::image(service, facts))
            }
            (Some(i), None) => format!("image `{i}` is not in the probe catalogue"),
            (None, None) => "the service has no image to look up in the probe catalogue".to_string(),
        };
        let why = match (ports.map(|p| p.len()), &settings.http_fallback) {
            (None, _) => "a container port of it is not a fixed number".to_string(),
            (Some(0), _) => "it publishes no TCP container port".to_string(),
            (Some(1), _) => "no profile declares the endpoint it answers (`healthcheck.http_fallback`)".to_string(),
            (Some(n), _) => format!("it has {n} container ports"),
        };
        let inspect = match (service.facts, service.facts_at_hand) {
            (Some(_), _) => "; `compose-harden probes` finds one on the engine and proves it",
            (None, true) => "; the image facts do not cover its image: run `compose-harden inspect`, then `probes`",
            (None, false) => "; `compose-harden inspect` records the image's own HEALTHCHECK and probe tools",
        };
        out.report(
            &HEALTHCHECK_NO_PROBE,
            &[],
            format!("no healthcheck added: {what} and {why}; write the service's real check{inspect}"),
        );
    }
}

/// Whether the image has what `test` needs (always, without facts); otherwise reports why
/// `what` is not written.
fn usable(service: &Service, out: &mut Out, test: &[String], what: &str) -> bool {
    let Some(image) = service.facts else { return true };
    if let Some(why) = evidence::no_shell(test, image) {
        let message = format!("no healthcheck added: {what} {why} in {}", evidence::image(service, image));
        out.report(&HEALTHCHECK_NO_SHELL, &["image"], message);
        return false;
    }
    if let Some(missing) = evidence::missing_tools(test, image) {
        out.report(
            &HEALTHCHECK_TOOL_MISSING,
            &["image"],
            format!(
                "no healthcheck added: {what} calls {missing}, which {} does not have; it has {}",
                evidence::image(service, image),
                evidence::tools(image)
            ),
        );
        return false;
    }
    true
}

/// The user's healthcheck against the image: a shell or a program the image lacks, and
/// whether it replaces the image's own.
fn check_users(service: &Service, image: &Image, out: &mut Out) {
    let Some(Value::Mapping(healthcheck)) = service.get(&["healthcheck"]) else { return };
    let test = lookup::get(healthcheck, "test").and_then(evidence::test_words);
    let disabled = lookup::get(healthcheck, "disable").and_then(Value::as_bool) == Some(true);
    if let Some(own) = image.healthcheck.as_ref().filter(|h| !h.disabled()) {
        if disabled || test.is_some() {
            let how = if disabled { "disables" } else { "replaces" };
            out.report(
                &HEALTHCHECK_OVERRIDES_IMAGE,
                &["healthcheck"],
                format!(
                    "the file's healthcheck {how} the own HEALTHCHECK of {} (`{}`)",
                    evidence::image(service, image),
                    own.test.join(" ")
                ),
            );
        }
    }
    let Some(test) = test.filter(|_| !disabled) else { return };
    if let Some(why) = evidence::no_shell(&test, image) {
        out.report(
            &HEALTHCHECK_NO_SHELL,
            &["healthcheck", "test"],
            format!("the healthcheck {why} in {}: it always fails", evidence::image(service, image)),
        );
    } else if let Some(missing) = evidence::missing_tools(&test, image) {
        out.report(
            &HEALTHCHECK_TOOL_MISSING,
            &["healthcheck", "test"],
            format!(
                "the healthcheck calls {missing}, which {} does not have, so it always fails; it has {}",
                evidence::image(service, image),
                evidence::tools(image)
            ),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile, with_facts};

    /// Catalogue entries (one with a variant by tag, one for an image with its own
    /// HEALTHCHECK), the endpoint a team declares its services answer, and the one-shot
    /// signs the `restart` settings give.
    /// The endpoint declared (the part of [`SETTINGS`] a case without it leaves out).
    const DECLARED: &str = r#"  http_fallback:
    test: [CMD, wget, -qO-, "http://localhost:{port}/health"]
    note: "declared: GET /health on port {port}"
"#;

    const SETTINGS: &str = r#"
healthcheck:
  interval: 30s
  timeout: 10s
  retries: 3
  start_period: 15s
  http_fallback:
    test: [CMD, wget, -qO-, "http://localhost:{port}/health"]
    note: "declared: GET /health on port {port}"
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
    fn a_declared_endpoint_is_probed_on_a_service_with_one_port() {
        let compose = "services:
  api: {image: example/api:1, ports: ['8080:80']}
  web: {image: example/web:1, expose: ['3000']}
  client: {image: example/client:1, depends_on: {web: {condition: service_healthy}}}
";
        check(plan(&Healthcheck, &profile(SETTINGS), compose), r#"
+ api: healthcheck.test = ["CMD","wget","-qO-","http://localhost:80/health"]  # declared: GET /health on port 80  [healthcheck/declared]
+ api: healthcheck.interval = "30s"  [healthcheck/declared]
+ api: healthcheck.timeout = "10s"  [healthcheck/declared]
+ api: healthcheck.retries = 3  [healthcheck/declared]
+ api: healthcheck.start_period = "15s"  [healthcheck/declared]
+ web: healthcheck.test = ["CMD","wget","-qO-","http://localhost:3000/health"]  # declared: GET /health on port 3000  [healthcheck/declared]
+ web: healthcheck.interval = "30s"  [healthcheck/declared]
+ web: healthcheck.timeout = "10s"  [healthcheck/declared]
+ web: healthcheck.retries = 3  [healthcheck/declared]
+ web: healthcheck.start_period = "15s"  [healthcheck/declared]
warning[healthcheck/no-probe] client: no healthcheck added: image `example/client:1` is not in the probe catalogue and it publishes no TCP container port; write the service's real check; `compose-harden inspect` records the image's own HEALTHCHECK and probe tools
"#);
    }

    #[test]
    fn without_a_declared_endpoint_one_port_is_no_evidence() {
        let settings = SETTINGS.replace(DECLARED, "");
        let compose = "services:
  api: {image: example/api:1, ports: ['8080:80']}
  web: {image: example/web:1, expose: ['3000']}
  client: {image: example/client:1, depends_on: {web: {condition: service_healthy}}}
";
        check(plan(&Healthcheck, &profile(&settings), compose), r#"
warning[healthcheck/no-probe] api: no healthcheck added: image `example/api:1` is not in the probe catalogue and no profile declares the endpoint it answers (`healthcheck.http_fallback`); write the service's real check; `compose-harden inspect` records the image's own HEALTHCHECK and probe tools
warning[healthcheck/health-waiter] web: no healthcheck added: `client` waits for this service to be healthy (service_healthy), and no probe has evidence here; write the service's real check, or `client` starts only if the image has a HEALTHCHECK of its own
warning[healthcheck/no-probe] client: no healthcheck added: image `example/client:1` is not in the probe catalogue and it publishes no TCP container port; write the service's real check; `compose-harden inspect` records the image's own HEALTHCHECK and probe tools
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
warning[healthcheck/no-probe] ports: no healthcheck added: image `example/app:1` is not in the probe catalogue and it has 2 container ports; write the service's real check; `compose-harden inspect` records the image's own HEALTHCHECK and probe tools
warning[healthcheck/no-probe] none: no healthcheck added: image `example/app:1` is not in the probe catalogue and it publishes no TCP container port; write the service's real check; `compose-harden inspect` records the image's own HEALTHCHECK and probe tools
warning[healthcheck/image-unknown] dynamic at image: no healthcheck added: the image `${IMAGE}` is known only once the file is interpolated, so no probe can be chosen for it; write one that works inside the image
info[healthcheck/one-shot] db-migrate: no healthcheck added: the service looks like a job that runs once (the last step of its command runs `migrate`, and nothing is started after it), which a probe does not watch
warning[healthcheck/no-probe] db-seed: no healthcheck added: image `example/app:1` is not in the probe catalogue and it publishes no TCP container port; write the service's real check; `compose-harden inspect` records the image's own HEALTHCHECK and probe tools
"#);
    }

    /// Image facts: an image with its own HEALTHCHECK, catalogue images without the
    /// catalogue's tool or without a shell, curl only, busybox alone, nothing at all.
    const FACTS: &str = r#"version: 1
inspected: {engine: "20.10", tools: [busybox, curl, redis-cli, sh, wget]}
images:
  "example/own:1":
    id: sha256:8fcd95fc1b3b578f1d676442ce91c87d2acb75a4f2b5cabf635757bb70d029f0
    platform: linux/amd64
    healthcheck: {test: [CMD-SHELL, "wget -qO- http://127.0.0.1:8080/ || exit 1"], interval: 5s}
    path: [/bin]
    bin_sh: true
    tools: {busybox: /bin/busybox, sh: /bin/sh -> /bin/busybox, wget: /bin/wget -> /bin/busybox}
  "example/own:2":
    id: sha256:1111111111111111111111111111111111111111111111111111111111111111
    platform: linux/amd64
    path: [/bin]
    bin_sh: true
    tools: {sh: /bin/sh}
  "redis:7":
    id: sha256:2222222222222222222222222222222222222222222222222222222222222222
    platform: linux/amd64
    path: [/bin]
    bin_sh: true
    tools: {sh: /bin/sh}
  "redis:8":
    id: sha256:3333333333333333333333333333333333333333333333333333333333333333
    platform: linux/amd64
    path: [/bin]
    bin_sh: false
    tools: {redis-cli: /bin/redis-cli}
  "example/curl:1":
    id: sha256:4444444444444444444444444444444444444444444444444444444444444444
    platform: linux/amd64
    path: [/usr/bin, /bin]
    bin_sh: true
    tools: {curl: /usr/bin/curl, sh: /bin/sh -> /bin/dash}
  "example/busybox:1":
    id: sha256:5555555555555555555555555555555555555555555555555555555555555555
    platform: linux/amd64
    path: [/bin]
    bin_sh: false
    tools: {busybox: /bin/busybox}
  "example/static:1":
    id: sha256:6666666666666666666666666666666666666666666666666666666666666666
    platform: linux/amd64
    path: [/]
    bin_sh: false
"#;

    #[test]
    fn the_image_facts_decide_which_probe_can_run() {
        let compose = "services:
  own: {image: example/own:1, ports: ['8080']}
  not-own: {image: example/own:2}
  no-cli: {image: redis:7}
  no-shell: {image: redis:8}
  curl: {image: example/curl:1, ports: ['80']}
  busybox: {image: example/busybox:1, ports: ['80']}
  static: {image: example/static:1, ports: ['80']}
  uncovered: {image: example/other:1}
";
        check(with_facts(&Healthcheck, &profile(SETTINGS), FACTS, compose), r#"
+ curl: healthcheck.test = ["CMD","curl","-fsS","-o","/dev/null","http://localhost:80/health"]  # declared: GET /health on port 80  [healthcheck/declared]
+ curl: healthcheck.interval = "30s"  [healthcheck/declared]
+ curl: healthcheck.timeout = "10s"  [healthcheck/declared]
+ curl: healthcheck.retries = 3  [healthcheck/declared]
+ curl: healthcheck.start_period = "15s"  [healthcheck/declared]
+ busybox: healthcheck.test = ["CMD","busybox","wget","-qO-","http://localhost:80/health"]  # declared: GET /health on port 80  [healthcheck/declared]
+ busybox: healthcheck.interval = "30s"  [healthcheck/declared]
+ busybox: healthcheck.timeout = "10s"  [healthcheck/declared]
+ busybox: healthcheck.retries = 3  [healthcheck/declared]
+ busybox: healthcheck.start_period = "15s"  [healthcheck/declared]
info[healthcheck/image-own] own at image: no healthcheck added: `example/own:1` (image ID 8fcd95fc1b3b) has its own HEALTHCHECK (`CMD-SHELL wget -qO- http://127.0.0.1:8080/ || exit 1`), which one here would replace
warning[healthcheck/no-probe] not-own: no healthcheck added: the catalogue says `example/own:2` has a HEALTHCHECK of its own, but the image (image ID 111111111111) has none and it publishes no TCP container port; write the service's real check; `compose-harden probes` finds one on the engine and proves it
warning[healthcheck/tool-missing] no-cli at image: no healthcheck added: the catalogue's probe calls `redis-cli`, which `redis:7` (image ID 222222222222) does not have; it has none of `curl`, `wget`, `nc`, `python3`, `node`, `busybox`
warning[healthcheck/no-shell] no-shell at image: no healthcheck added: the catalogue's probe is a `CMD-SHELL` test, which the engine runs with `/bin/sh`, and there is none in `redis:8` (image ID 333333333333)
warning[healthcheck/tool-missing] static: no healthcheck added: the profile declares the endpoint its services answer, and `example/static:1` (image ID 666666666666) has no HTTP client to ask it with (it has none of `curl`, `wget`, `nc`, `python3`, `node`, `busybox`); write a probe with a program the image has
warning[healthcheck/no-probe] uncovered: no healthcheck added: image `example/other:1` is not in the probe catalogue and it publishes no TCP container port; write the service's real check; the image facts do not cover its image: run `compose-harden inspect`, then `probes`
"#);
    }

    #[test]
    fn a_probe_proven_for_the_service_is_written_while_it_still_applies() {
        let facts = format!(
            "{FACTS}services:
  web:
    image: sha256:5555555555555555555555555555555555555555555555555555555555555555
    decided_by: {{command: [httpd, -f, -p, '8080'], ports: [8080/tcp]}}
    probe: {{test: [CMD, busybox, wget, -q, -O, /dev/null, 'http://127.0.0.1:8080/'], interval: 10s, timeout: 3s, start_period: 5s, retries: 3, socket_only: true}}
  moved:
    image: sha256:5555555555555555555555555555555555555555555555555555555555555555
    decided_by: {{command: [httpd, -f, -p, '8080'], ports: [8080/tcp]}}
    probe: {{test: [CMD, busybox, wget, -q, -O, /dev/null, 'http://127.0.0.1:8080/'], interval: 10s, timeout: 3s, start_period: 5s, retries: 3}}
"
        );
        let compose = "services:
  web: {image: example/busybox:1, command: httpd -f -p 8080, expose: ['8080']}
  moved: {image: example/busybox:1, command: httpd -f -p 9090, expose: ['9090']}
";
        check(with_facts(&Healthcheck, &profile(SETTINGS), &facts, compose), r#"
+ web: healthcheck.test = ["CMD","busybox","wget","-q","-O","/dev/null","http://127.0.0.1:8080/"]  # compose-harden: proven by `probes` (image ID 555555555555; socket only: it passed while the app was frozen)  [healthcheck/proven]
+ web: healthcheck.interval = "10s"  [healthcheck/proven]
+ web: healthcheck.timeout = "3s"  [healthcheck/proven]
+ web: healthcheck.retries = 3  [healthcheck/proven]
+ web: healthcheck.start_period = "5s"  [healthcheck/proven]
+ moved: healthcheck.test = ["CMD","busybox","wget","-qO-","http://localhost:9090/health"]  # declared: GET /health on port 9090  [healthcheck/declared]
+ moved: healthcheck.interval = "30s"  [healthcheck/declared]
+ moved: healthcheck.timeout = "10s"  [healthcheck/declared]
+ moved: healthcheck.retries = 3  [healthcheck/declared]
+ moved: healthcheck.start_period = "15s"  [healthcheck/declared]
"#);
    }

    #[test]
    fn a_users_healthcheck_is_checked_against_the_image() {
        let compose = r#"services:
  replaces: {image: example/own:1, healthcheck: {test: [CMD, wget, -qO-, "http://localhost:8080/"]}}
  disables: {image: example/own:1, healthcheck: {disable: true}}
  timing: {image: example/own:1, healthcheck: {interval: 1m, retries: 5}}
  no-curl: {image: example/own:1, healthcheck: {test: [CMD, curl, -f, "http://localhost/"]}}
  no-wget: {image: example/curl:1, healthcheck: {test: "wget -qO- http://localhost/ || exit 1"}}
  either: {image: example/curl:1, healthcheck: {test: [CMD-SHELL, "curl -f http://localhost/ || wget -qO- http://localhost/"]}}
  no-shell: {image: example/static:1, healthcheck: {test: "true"}}
  unknown: {image: example/curl:1, healthcheck: {test: [CMD, /app/check]}}
"#;
        check(with_facts(&Healthcheck, &profile(SETTINGS), FACTS, compose), r#"
info[healthcheck/overrides-image] replaces at healthcheck: the file's healthcheck replaces the own HEALTHCHECK of `example/own:1` (image ID 8fcd95fc1b3b) (`CMD-SHELL wget -qO- http://127.0.0.1:8080/ || exit 1`)
info[healthcheck/overrides-image] disables at healthcheck: the file's healthcheck disables the own HEALTHCHECK of `example/own:1` (image ID 8fcd95fc1b3b) (`CMD-SHELL wget -qO- http://127.0.0.1:8080/ || exit 1`)
info[healthcheck/overrides-image] no-curl at healthcheck: the file's healthcheck replaces the own HEALTHCHECK of `example/own:1` (image ID 8fcd95fc1b3b) (`CMD-SHELL wget -qO- http://127.0.0.1:8080/ || exit 1`)
warning[healthcheck/tool-missing] no-curl at healthcheck.test: the healthcheck calls `curl`, which `example/own:1` (image ID 8fcd95fc1b3b) does not have, so it always fails; it has `wget` (/bin/wget -> /bin/busybox), `busybox` (/bin/busybox)
warning[healthcheck/tool-missing] no-wget at healthcheck.test: the healthcheck calls `wget`, which `example/curl:1` (image ID 444444444444) does not have, so it always fails; it has `curl` (/usr/bin/curl)
warning[healthcheck/no-shell] no-shell at healthcheck.test: the healthcheck is a `CMD-SHELL` test, which the engine runs with `/bin/sh`, and there is none in `example/static:1` (image ID 666666666666): it always fails
"#);
    }
}
