//! One service merged over another as Compose merges them: a later `-f` file over an
//! earlier one, an `extends` base under the service that names it, an included file's
//! service under a layer that overrides it. The rules are compose-go's
//! (`override/merge.go`, `override/uncity.go`, `loader/reset.go`), read, not copied:
//!
//! - mappings merge key by key, the later value winning for anything else;
//! - lists append, then repeated entries are dropped by their key (volumes and devices by
//!   target, ports by their spec, `expose` and capabilities by value), the later entry
//!   taking the earlier one's place;
//! - `environment`, `labels`, `sysctls`, `tmpfs`, `extra_hosts` and the like merge by key;
//! - `command`, `entrypoint` and `healthcheck.test` are replaced, and so is each
//!   `ulimits.<name>`;
//! - `logging` merges only where the drivers agree or one is unset;
//! - a later `!reset` drops the value (kept here as the tagged value, so that passes read
//!   it as the user's choice), and a later `!override` replaces it whole.

use super::lookup;
use yaml_serde::{Mapping, Value};

/// Merges `over` onto `base`, both one service's mapping.
pub fn service(base: &mut Mapping, over: &Mapping) {
    mappings(base, over, &mut Vec::new());
}

fn mappings(base: &mut Mapping, over: &Mapping, path: &mut Vec<String>) {
    for (key, value) in over {
        let Some(name) = key.as_str() else {
            base.insert(key.clone(), value.clone());
            continue;
        };
        path.push(name.to_string());
        match lookup::get_mut(base, name) {
            Some(old) => merge(old, value, path),
            None => {
                base.insert(key.clone(), value.clone());
            }
        }
        path.pop();
    }
}

/// `over` onto `base` at `path` (keys below the service).
fn merge(base: &mut Value, over: &Value, path: &mut Vec<String>) {
    // A later `!reset` or `!override` replaces whatever came before.
    if matches!(over, Value::Tagged(t) if t.tag == "reset" || t.tag == "override") {
        *base = over.clone();
        return;
    }
    // An earlier tag was that file's business: a reset value is gone, an overriding one
    // is now a plain value to merge onto.
    if let Value::Tagged(t) = base {
        if t.tag == "reset" {
            *base = over.clone();
            return;
        }
        if t.tag == "override" {
            let inner = std::mem::replace(&mut t.value, Value::Null);
            *base = inner;
        }
    }
    let keys: Vec<&str> = path.iter().map(String::as_str).collect();
    match keys.as_slice() {
        ["command"] | ["entrypoint"] | ["healthcheck", "test"] | ["ulimits", _] => *base = over.clone(),
        ["logging"] => logging(base, over, path),
        ["build"] => {
            let (mut b, o) = (build(base), build(over));
            if let (Some(b), Some(o)) = (b.as_mut(), o) {
                mappings(b, &o, path);
                *base = Value::Mapping(b.clone());
            } else {
                *base = over.clone();
            }
        }
        ["depends_on"] | ["networks"] => {
            let with_defaults = keys == ["depends_on"];
            match (as_mapping(base, with_defaults), as_mapping(over, with_defaults)) {
                (Some(mut b), Some(o)) => {
                    mappings(&mut b, &o, path);
                    *base = Value::Mapping(b);
                }
                _ => *base = over.clone(),
            }
        }
        ["extra_hosts"] | ["build", "extra_hosts"] => {
            let mut b = sequence(base);
            for item in sequence(over) {
                if !b.contains(&item) {
                    b.push(item);
                }
            }
            *base = Value::Sequence(b);
        }
        _ if by_key(&keys) => keyed(base, over, path),
        _ => match (&mut *base, over) {
            (_, Value::Null) => {}
            (Value::Mapping(b), Value::Mapping(o)) => mappings(b, o, path),
            (Value::Sequence(b), Value::Sequence(o)) => {
                b.extend(o.iter().cloned());
                if let Some(index) = indexer(&keys) {
                    unique(b, index);
                }
            }
            (b, o) => *b = o.clone(),
        },
    }
}

/// Lists Compose merges by key (`NAME=value` entries, or the keys of a mapping).
fn by_key(keys: &[&str]) -> bool {
    matches!(
        keys,
        ["environment"]
            | ["labels"]
            | ["sysctls"]
            | ["tmpfs"]
            | ["annotations"]
            | ["dns"]
            | ["dns_opt"]
            | ["dns_search"]
            | ["env_file"]
            | ["label_file"]
            | ["build", "args" | "labels" | "additional_contexts"]
            | ["deploy", "labels"]
    )
}

/// Two mappings merge by key (the later value winning, as Compose's de-duplication of the
/// list it makes of them leaves it); otherwise both become lists, appended, and repeated
/// keys keep the later entry in the earlier one's place.
fn keyed(base: &mut Value, over: &Value, path: &[String]) {
    if let (Value::Mapping(b), Value::Mapping(o)) = (&mut *base, over) {
        for (key, value) in o {
            match b.get_mut(key) {
                Some(old) => *old = value.clone(),
                None => {
                    b.insert(key.clone(), value.clone());
                }
            }
        }
        return;
    }
    let mut items = sequence(base);
    items.extend(sequence(over));
    let index = if path.first().is_some_and(|k| k == "env_file") { env_file_key } else { key_value };
    unique(&mut items, index);
    *base = Value::Sequence(items);
}

fn logging(base: &mut Value, over: &Value, path: &mut Vec<String>) {
    let (Value::Mapping(b), Value::Mapping(o)) = (&mut *base, over) else {
        if !over.is_null() {
            *base = over.clone();
        }
        return;
    };
    let driver = |m: &Mapping| lookup::get(m, "driver").cloned();
    match (driver(b), driver(o)) {
        (Some(x), Some(y)) if x != y => *base = over.clone(),
        _ => mappings(b, o, path),
    }
}

/// `build: ./dir` is `build: {context: ./dir}`.
fn build(value: &Value) -> Option<Mapping> {
    match value {
        Value::String(s) => {
            let mut m = Mapping::new();
            m.insert(Value::from("context"), Value::from(s.as_str()));
            Some(m)
        }
        Value::Mapping(m) => Some(m.clone()),
        _ => None,
    }
}

/// A list of names as a mapping (`depends_on: [db]` is `{db: {condition: service_started,
/// required: true}}`; `networks: [front]` is `{front: null}`).
fn as_mapping(value: &Value, with_defaults: bool) -> Option<Mapping> {
    match value {
        Value::Mapping(m) => Some(m.clone()),
        Value::Sequence(items) => {
            let mut m = Mapping::new();
            for item in items {
                let entry = if with_defaults {
                    let mut d = Mapping::new();
                    d.insert(Value::from("condition"), Value::from("service_started"));
                    d.insert(Value::from("required"), Value::from(true));
                    Value::Mapping(d)
                } else {
                    Value::Null
                };
                m.insert(item.clone(), entry);
            }
            Some(m)
        }
        _ => None,
    }
}

/// A value as the list Compose makes of it: a mapping's entries as sorted `KEY=value`
/// (or `KEY` for a null), a string as one entry.
fn sequence(value: &Value) -> Vec<Value> {
    match value {
        Value::Sequence(items) => items.clone(),
        Value::Mapping(m) => {
            let mut items: Vec<String> = Vec::new();
            for (k, v) in m {
                let k = text(k);
                match v {
                    Value::Null => items.push(k),
                    Value::Sequence(values) => items.extend(values.iter().map(|v| format!("{k}={}", text(v)))),
                    v => items.push(format!("{k}={}", text(v))),
                }
            }
            items.sort();
            items.into_iter().map(Value::from).collect()
        }
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => yaml_serde::to_string(other).unwrap_or_default().trim_end().to_string(),
    }
}

type Index = fn(&Value) -> String;

/// How entries of the list at `keys` are told apart, where Compose drops repeated ones.
fn indexer(keys: &[&str]) -> Option<Index> {
    Some(match keys {
        ["volumes"] => volume,
        ["devices"] => device,
        ["ports"] => port,
        ["secrets"] => |v| mount(v, "/run/secrets"),
        ["configs"] => |v| mount(v, ""),
        ["expose"] | ["cap_add"] | ["cap_drop"] | ["links"] | ["profiles"] => key_value,
        ["networks", _, "aliases" | "link_local_ips"] => key_value,
        ["build", "tags" | "platforms"] => key_value,
        _ => return None,
    })
}

/// Keeps the first place of each key, with the last entry that has it.
fn unique(items: &mut Vec<Value>, index: Index) {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut seen: Vec<String> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let key = index(&item);
        match seen.iter().position(|k| *k == key) {
            Some(at) => out[at] = item,
            None => {
                seen.push(key);
                out.push(item);
            }
        }
    }
    *items = out;
}

fn key_value(value: &Value) -> String {
    let t = text(value);
    t.split_once('=').map_or(t.clone(), |(k, _)| k.to_string())
}

fn env_file_key(value: &Value) -> String {
    match value {
        Value::Mapping(m) => lookup::get(m, "path").map(text).unwrap_or_default(),
        other => text(other),
    }
}

fn target(value: &Value) -> Option<String> {
    value.as_mapping().and_then(|m| lookup::get(m, "target")).map(text)
}

/// A volume by the path it is mounted at (`./data:/data:ro` is `/data`; a lone path is an
/// anonymous volume at that path).
fn volume(value: &Value) -> String {
    if let Some(t) = target(value) {
        return t;
    }
    let t = text(value);
    let parts: Vec<&str> = t.split(':').collect();
    match parts.as_slice() {
        [only] => only.to_string(),
        [_, target, ..] => target.to_string(),
        [] => t,
    }
}

fn device(value: &Value) -> String {
    if let Some(t) = target(value) {
        return t;
    }
    let t = text(value);
    let parts: Vec<&str> = t.split(':').collect();
    parts.get(1).or(parts.first()).map_or(t.clone(), |p| p.to_string())
}

fn port(value: &Value) -> String {
    match value {
        Value::Mapping(m) => {
            let field = |k: &str, default: &str| lookup::get(m, k).map(text).unwrap_or_else(|| default.to_string());
            format!(
                "{}:{}:{}/{}",
                field("host_ip", "0.0.0.0"),
                field("published", ""),
                field("target", ""),
                field("protocol", "tcp")
            )
        }
        other => text(other),
    }
}

fn mount(value: &Value, default: &str) -> String {
    match value {
        Value::Mapping(m) => match lookup::get(m, "target") {
            Some(t) => text(t),
            None => format!("{default}/{}", lookup::get(m, "source").map(text).unwrap_or_default()),
        },
        other => format!("{default}/{}", text(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(base: &str, over: &str) -> Value {
        let mut b: Mapping = yaml_serde::from_str(base).expect("base");
        let o: Mapping = yaml_serde::from_str(over).expect("over");
        service(&mut b, &o);
        Value::Mapping(b)
    }

    fn yaml(text: &str) -> Value {
        yaml_serde::from_str(text).expect("yaml")
    }

    #[test]
    fn mappings_merge_and_scalars_are_replaced() {
        let m = merged(
            "{image: a, deploy: {resources: {limits: {memory: 1g}}}}",
            "{image: b, deploy: {resources: {reservations: {memory: 128m}}}}",
        );
        assert_eq!(m, yaml("{image: b, deploy: {resources: {limits: {memory: 1g}, reservations: {memory: 128m}}}}"));
    }

    #[test]
    fn lists_append_and_drop_repeats_by_key() {
        let m = merged(
            "{ports: ['80:80', '443:443'], volumes: ['./a:/data', 'logs:/logs'], cap_drop: [ALL], expose: [80]}",
            "{ports: ['80:80'], volumes: ['./b:/data:ro'], cap_drop: [ALL, NET_RAW], expose: [80, 81]}",
        );
        assert_eq!(
            m,
            yaml(
                "{ports: ['80:80', '443:443'], volumes: ['./b:/data:ro', 'logs:/logs'], cap_drop: [ALL, NET_RAW], \
                 expose: [80, 81]}"
            )
        );
        let long = merged("{volumes: [{type: bind, source: ./a, target: /x}]}", "{volumes: ['./b:/x']}");
        assert_eq!(long, yaml("{volumes: ['./b:/x']}"));
        let devices = merged("{devices: ['/dev/a:/dev/x']}", "{devices: ['/dev/b:/dev/x', '/dev/c']}");
        assert_eq!(devices, yaml("{devices: ['/dev/b:/dev/x', '/dev/c']}"));
    }

    #[test]
    fn keyed_lists_merge_by_key_in_either_form() {
        assert_eq!(
            merged("{environment: {A: '1', B: '2'}}", "{environment: {B: '3'}}"),
            yaml("{environment: {A: '1', B: '3'}}")
        );
        assert_eq!(
            merged("{environment: [A=1, B=2]}", "{environment: {B: 3, C: null}}"),
            yaml("{environment: [A=1, B=3, C]}")
        );
        assert_eq!(merged("{labels: [a=1]}", "{labels: [a=2, b=1]}"), yaml("{labels: [a=2, b=1]}"));
        assert_eq!(merged("{extra_hosts: [a:1]}", "{extra_hosts: [a:1, b:2]}"), yaml("{extra_hosts: [a:1, b:2]}"));
    }

    #[test]
    fn commands_probes_and_ulimits_are_replaced_whole() {
        let m = merged(
            "{command: [a, b], healthcheck: {test: [CMD, x], interval: 5s}, ulimits: {nofile: {soft: 1, hard: 2}, nproc: 9}}",
            "{command: [c], healthcheck: {test: [CMD, y]}, ulimits: {nofile: 7}}",
        );
        assert_eq!(
            m,
            yaml("{command: [c], healthcheck: {test: [CMD, y], interval: 5s}, ulimits: {nofile: 7, nproc: 9}}")
        );
    }

    #[test]
    fn logging_merges_only_where_the_drivers_agree() {
        let same =
            merged("{logging: {driver: json-file, options: {max-file: '3'}}}", "{logging: {options: {max-size: 1m}}}");
        assert_eq!(same, yaml("{logging: {driver: json-file, options: {max-file: '3', max-size: 1m}}}"));
        let other = merged("{logging: {driver: json-file, options: {max-file: '3'}}}", "{logging: {driver: syslog}}");
        assert_eq!(other, yaml("{logging: {driver: syslog}}"));
    }

    #[test]
    fn depends_on_networks_and_build_take_either_form() {
        let m = merged(
            "{depends_on: [db], networks: [front], build: ./app}",
            "{depends_on: {db: {condition: service_healthy}}, networks: {back: null}, build: {target: prod}}",
        );
        assert_eq!(
            m,
            yaml(
                "{depends_on: {db: {condition: service_healthy, required: true}}, networks: {front: null, back: null}, \
                 build: {context: ./app, target: prod}}"
            )
        );
    }

    #[test]
    fn reset_and_override_replace_what_came_before() {
        let m = merged(
            "{ports: ['80:80'], logging: {driver: syslog}}",
            "{ports: !override ['81:81'], logging: !reset null}",
        );
        let ports = lookup::get(m.as_mapping().expect("map"), "ports").expect("ports");
        assert!(matches!(ports, Value::Tagged(t) if t.tag == "override"));
        let logging = lookup::get(m.as_mapping().expect("map"), "logging").expect("logging");
        assert!(matches!(logging, Value::Tagged(t) if t.tag == "reset"));
        // A later layer sets a reset key again: its value counts.
        let again = merged("{logging: !reset null}", "{logging: {driver: local}}");
        assert_eq!(again, yaml("{logging: {driver: local}}"));
    }
}
