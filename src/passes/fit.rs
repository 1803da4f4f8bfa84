//! A catalogue probe as it fits the service's command: none where the command runs
//! something other than the image's server, the port the command gives the server, and the
//! password it gives it, passed from a variable of the container at run time.

use super::healthcheck::{
    HEALTHCHECK_CATALOGUE, HEALTHCHECK_NO_PROBE, HEALTHCHECK_OTHER_COMMAND, HEALTHCHECK_PASSWORD,
};
use super::shell::{last_step, Step};
use super::{Out, Service};
use crate::document::lookup;
use crate::profile::{ProbeEntry, ProbePassword};
use yaml_serde::Value;

/// The catalogue's probe as it fits the service's command: none where the command runs
/// something other than the image's server (the probe would ask a server that is not
/// there); the port the command gives the server; the password it gives it, passed from a
/// variable of the container at run time and never written into the file.
pub(super) fn fitted(service: &Service, out: &mut Out, probe: &ProbeEntry, test: &[String]) -> Option<Vec<String>> {
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
