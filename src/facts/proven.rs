//! The per-service section of the facts file (`services`): the probe `compose-harden probes`
//! proved for each service on the engine, keyed by the image ID and by what decides the
//! probe (the command and entrypoint as the compose file writes them, the container ports
//! the service declares, the variables those use), so that the same image under another
//! command is proven again, not reused. Plain data; the format is in `docs/facts.md`.

use crate::document::lookup;
use crate::quote::scalar;
use schemars::JsonSchema;
use serde::Deserialize;
use yaml_serde::{Mapping, Value};

/// What `probes` found for one service.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Proven {
    /// The image ID the probe was proven on (`sha256:...`).
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub image: String,
    /// What decides the probe besides the image; a service whose own differs is proven again.
    #[serde(default)]
    pub decided_by: DecidedBy,
    /// The probe proven; none where none could be (see `none`).
    #[serde(default)]
    pub probe: Option<ProvenProbe>,
    /// Why there is no probe (no usable tool, listening on nothing or on UDP only, never
    /// ready in the copy): what to do instead.
    #[serde(default)]
    pub none: Option<String>,
    /// What the proof saw.
    #[serde(default)]
    pub evidence: Evidence,
}

/// What decides a service's probe besides its image, as the compose file writes it (`${...}`
/// kept: values are never recorded, they may be secrets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecidedBy {
    /// The service's `entrypoint`, in words; none: the image's.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// The service's `command`, in words; none: the image's.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// The container ports the service declares (`ports` targets and `expose`), sorted.
    #[serde(default)]
    pub ports: Vec<String>,
    /// The variables (`${NAME}`) the command, entrypoint and ports use, sorted.
    #[serde(default)]
    pub variables: Vec<String>,
}

/// A proven healthcheck, as Compose writes one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvenProbe {
    /// The healthcheck's `test` (`[CMD, ...]` or `[CMD-SHELL, ...]`).
    pub test: Vec<String>,
    pub interval: String,
    pub timeout: String,
    /// Sized from the time the service took to pass first (a lower bound for a stateful
    /// service: the copy's volumes were empty).
    pub start_period: String,
    pub retries: u32,
    /// The probe still passed while the app was frozen: it proves only that a socket is
    /// open. Ranked below any probe that failed as it should.
    #[serde(default)]
    pub socket_only: bool,
}

/// What the proof saw, kept as evidence.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The LISTEN sockets seen (`tcp 0.0.0.0:8080`, `tcp6 [::]:80`, `udp 0.0.0.0:53`).
    #[serde(default)]
    pub listening: Vec<String>,
    /// Where the probe is aimed (`127.0.0.1`, `::1`).
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    /// The HTTP path, for an HTTP probe.
    #[serde(default)]
    pub path: Option<String>,
    /// The HTTP status the path answered.
    #[serde(default)]
    pub status: Option<u16>,
    /// The slowest of the passing runs, in milliseconds.
    #[serde(default)]
    pub run_ms: Option<u64>,
    /// Seconds from the container's start to the probe's first pass.
    #[serde(default)]
    pub first_pass_seconds: Option<f64>,
    /// What the probe did while the app was frozen (SIGSTOP): `failed (...)` as it should,
    /// or `passed`.
    #[serde(default)]
    pub frozen: Option<String>,
    /// Each candidate tried and refused, with why.
    #[serde(default)]
    pub refused: Vec<String>,
}

impl DecidedBy {
    /// What decides the probe of a service, from its mapping as Compose reads it (merges and
    /// `extends` applied, not interpolated): what `probes` records and the passes look up by.
    pub fn of(service: &Mapping) -> DecidedBy {
        let words = |key: &str| lookup::get(service, key).and_then(command_words);
        let mut ports: Vec<String> = Vec::new();
        if let Some(Value::Sequence(list)) = lookup::get(service, "ports") {
            ports.extend(list.iter().filter_map(container_port));
        }
        if let Some(Value::Sequence(list)) = lookup::get(service, "expose") {
            ports.extend(list.iter().filter_map(plain_text).map(|p| with_protocol(&p)));
        }
        ports.sort();
        ports.dedup();
        let mut decided =
            DecidedBy { entrypoint: words("entrypoint"), command: words("command"), ports, variables: vec![] };
        let mut variables = Vec::new();
        let all = decided.entrypoint.iter().chain(decided.command.iter()).flatten().chain(decided.ports.iter());
        for text in all {
            variables.extend(variable_names(text));
        }
        variables.sort();
        variables.dedup();
        decided.variables = variables;
        decided
    }
}

/// A command as words: a list as it is; a string split as Compose splits it (shell words).
fn command_words(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Sequence(items) => Some(items.iter().map(|v| plain_text(v).unwrap_or_default()).collect()),
        Value::String(s) => Some(shell_words(s)),
        Value::Tagged(t) => command_words(&t.value),
        _ => None,
    }
}

fn plain_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The container side of a `ports` entry: `8080:80` -> `80/tcp`, `{target: 80}` -> `80/tcp`.
fn container_port(entry: &Value) -> Option<String> {
    if let Some(map) = entry.as_mapping() {
        let target = lookup::get(map, "target").and_then(plain_text)?;
        let protocol = lookup::get(map, "protocol").and_then(Value::as_str).unwrap_or("tcp");
        return Some(format!("{target}/{protocol}"));
    }
    let text = plain_text(entry)?;
    let (ports, protocol) = text.split_once('/').unwrap_or((&text, "tcp"));
    // `[ip:][host:]container`: the last field; an IPv6 host address is bracketed.
    let container = ports.rsplit(':').next().unwrap_or(ports);
    Some(format!("{container}/{protocol}"))
}

fn with_protocol(port: &str) -> String {
    if port.contains('/') {
        port.to_string()
    } else {
        format!("{port}/tcp")
    }
}

/// The names of the `${NAME...}` and `$NAME` a text uses (`$$` is a literal dollar).
pub fn variable_names(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => {
                let rest = &text[i + 2..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
                if end > 0 {
                    names.push(rest[..end].to_string());
                }
                i += 2 + end;
            }
            _ => {
                let rest = &text[i + 1..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
                if end > 0 {
                    names.push(rest[..end].to_string());
                }
                i += 1 + end.max(1);
            }
        }
    }
    names
}

/// Splits a command string into words as a POSIX shell would (quotes and backslashes),
/// which is how Compose turns `command: redis-server --port 6380` into a list.
pub fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => word.push(n),
                            Some(n) => {
                                word.push('\\');
                                word.push(n);
                            }
                            None => word.push('\\'),
                        },
                        _ => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

impl super::Facts {
    /// The probe proven for `service` on image `image_id` under what `decided_by` says, if
    /// there is one (the image changed, or the command, entrypoint, ports or variables: none).
    pub fn proven(&self, service: &str, image_id: &str, decided_by: &DecidedBy) -> Option<&ProvenProbe> {
        self.proven_service(service, image_id, decided_by)?.probe.as_ref()
    }

    /// Everything `probes` recorded for `service`, where it still applies: the probe, or why
    /// there is none.
    pub fn proven_service(&self, service: &str, image_id: &str, decided_by: &DecidedBy) -> Option<&Proven> {
        self.services.get(service).filter(|p| p.image == image_id && &p.decided_by == decided_by)
    }
}

/// A check of one service's section; on failure, the field and why.
pub(super) fn check(proven: &Proven) -> Result<(), (Vec<String>, String)> {
    let field = |f: &[&str], message: String| Err((f.iter().map(|s| s.to_string()).collect(), message));
    let hex = proven.image.strip_prefix("sha256:").unwrap_or("");
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return field(&["image"], format!("`{}` is not an image ID (`sha256:` and 64 hex digits)", proven.image));
    }
    match (&proven.probe, &proven.none) {
        (Some(_), Some(_)) => return field(&["none"], "a probe and `none` at once: give one".into()),
        (None, None) => return field(&["probe"], "neither a probe nor `none` (why there is none)".into()),
        _ => {}
    }
    if let Some(probe) = &proven.probe {
        if !matches!(probe.test.first().map(String::as_str), Some("CMD" | "CMD-SHELL")) || probe.test.len() < 2 {
            return field(&["probe", "test"], "a probe's test is `[CMD, ...]` or `[CMD-SHELL, ...]`".into());
        }
        for (key, value) in
            [("interval", &probe.interval), ("timeout", &probe.timeout), ("start_period", &probe.start_period)]
        {
            if crate::units::seconds(value).is_none() {
                return field(&["probe", key], format!("`{value}` is not a duration (`30s`, `1m30s`)"));
            }
        }
    }
    Ok(())
}

/// The `services` section's text; empty where there is none.
pub(super) fn render(services: &std::collections::BTreeMap<String, Proven>) -> String {
    if services.is_empty() {
        return String::new();
    }
    let mut out = String::from("services:\n");
    for (name, p) in services {
        out.push_str(&format!("  {}:\n", scalar(name)));
        out.push_str(&format!("    image: {}\n", scalar(&p.image)));
        let d = &p.decided_by;
        if d != &DecidedBy::default() {
            out.push_str("    decided_by:\n");
            for (key, words) in [("entrypoint", &d.entrypoint), ("command", &d.command)] {
                if let Some(words) = words {
                    out.push_str(&format!("      {key}: {}\n", flow(words)));
                }
            }
            for (key, list) in [("ports", &d.ports), ("variables", &d.variables)] {
                if !list.is_empty() {
                    out.push_str(&format!("      {key}: {}\n", flow(list)));
                }
            }
        }
        if let Some(probe) = &p.probe {
            out.push_str("    probe:\n");
            out.push_str(&format!("      test: {}\n", flow(&probe.test)));
            for (key, value) in
                [("interval", &probe.interval), ("timeout", &probe.timeout), ("start_period", &probe.start_period)]
            {
                out.push_str(&format!("      {key}: {}\n", scalar(value)));
            }
            out.push_str(&format!("      retries: {}\n", probe.retries));
            if probe.socket_only {
                out.push_str("      socket_only: true\n");
            }
        }
        if let Some(none) = &p.none {
            out.push_str(&format!("    none: {}\n", scalar(none)));
        }
        let e = &p.evidence;
        if e != &Evidence::default() {
            out.push_str("    evidence:\n");
            if !e.listening.is_empty() {
                out.push_str(&format!("      listening: {}\n", flow(&e.listening)));
            }
            let mut line = |key: &str, value: Option<String>| {
                if let Some(v) = value {
                    out.push_str(&format!("      {key}: {v}\n"));
                }
            };
            line("address", e.address.as_deref().map(scalar));
            line("port", e.port.map(|p| p.to_string()));
            line("path", e.path.as_deref().map(scalar));
            line("status", e.status.map(|s| s.to_string()));
            line("run_ms", e.run_ms.map(|s| s.to_string()));
            line("first_pass_seconds", e.first_pass_seconds.map(|s| format!("{s:.1}")));
            line("frozen", e.frozen.as_deref().map(scalar));
            if !e.refused.is_empty() {
                out.push_str("      refused:\n");
                for r in &e.refused {
                    out.push_str(&format!("      - {}\n", scalar(r)));
                }
            }
        }
    }
    out
}

fn flow(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| scalar(i)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided(yaml: &str) -> DecidedBy {
        let value: Value = yaml_serde::from_str(yaml).expect("yaml");
        DecidedBy::of(value.as_mapping().expect("a mapping"))
    }

    #[test]
    fn what_decides_a_probe_is_read_as_compose_reads_it() {
        let d = decided(
            "image: redis\ncommand: redis-server --port \"${PORT:-6380}\" --save ''\nports: [\"127.0.0.1:7000:6380\", {target: 9000, protocol: udp}]\nexpose: [8080]\n",
        );
        assert_eq!(
            d.command,
            Some(vec!["redis-server".into(), "--port".into(), "${PORT:-6380}".into(), "--save".into(), "".into()])
        );
        assert_eq!(d.entrypoint, None);
        assert_eq!(d.ports, vec!["6380/tcp", "8080/tcp", "9000/udp"]);
        assert_eq!(d.variables, vec!["PORT"]);
        // The same command as a list decides the same.
        let list = decided("command: [redis-server, --port, \"${PORT:-6380}\", --save, \"\"]\nports: [\"7000:6380\"]\nexpose: [\"8080\", \"9000/udp\"]\n");
        assert_eq!(list, d);
        assert_ne!(decided("command: cron\n"), decided("{}"));
        assert_eq!(variable_names("$$HOME ${A} $B-${C:?x}"), vec!["A", "B", "C"]);
    }

    #[test]
    fn shell_words_split_as_a_shell_does() {
        assert_eq!(shell_words(r#"sh -c 'echo "a b"' "x\"y" a\ b"#), vec!["sh", "-c", "echo \"a b\"", "x\"y", "a b"]);
        assert!(shell_words("   ").is_empty());
    }
}
