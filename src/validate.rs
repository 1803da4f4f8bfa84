//! Validate: the vendored Compose schema (compiled once), the checks it cannot express,
//! and the verifier that proves an output is its input plus the planned changes.

use std::sync::OnceLock;

use serde_json::Value as Json;
use yaml_serde::Value;

use crate::document::Document;
use crate::error::Error;
use crate::passes::set_path;
use crate::plan::Change;
use indexmap::IndexMap;

const COMPOSE_SCHEMA: &str = include_str!("../schemas/compose-spec.json");

fn schema() -> &'static (Json, jsonschema::Validator) {
    static SCHEMA: OnceLock<(Json, jsonschema::Validator)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // Both are compiled into the binary and covered by tests: failing here is a build defect.
        let json: Json = serde_json::from_str(COMPOSE_SCHEMA).expect("vendored compose schema is JSON");
        let validator = jsonschema::validator_for(&json).expect("vendored compose schema compiles");
        (json, validator)
    })
}

/// Checks a loaded file the way Docker Compose would, plus what Compose lets through
/// that cannot run (such as `restart: sometimes`).
pub fn check(doc: &Document) -> Result<(), Error> {
    let (schema_json, validator) = schema();
    let at = |path: &[String], message: String| match doc.layout.locate(path) {
        Some(n) => Error::at(&doc.file, n.line, n.col, message),
        None => Error::new(&doc.file, message),
    };
    let Some(root) = doc.value.as_mapping() else {
        return Err(Error::new(&doc.file, "the top level of a compose file must be a mapping"));
    };
    let top_keys = property_names(schema_json.get("properties"));
    for key in root.keys() {
        let key = key_text(key);
        if !key.starts_with("x-") && !top_keys.contains(&key.as_str()) {
            return Err(at_key(doc, &[], &key, unknown_key(&key, "", &top_keys)));
        }
    }
    let service_keys = property_names(schema_json.pointer("/definitions/service/properties"));
    if let Some(services) = doc.services() {
        for (name, service) in services {
            let name = key_text(name);
            let Some(service) = service.as_mapping() else {
                continue;
            };
            for key in service.keys() {
                let key = key_text(key);
                if !key.starts_with("x-") && !service_keys.contains(&key.as_str()) {
                    let path = ["services".to_string(), name.clone(), key.clone()];
                    let message = unknown_key(&key, &format!(" in service `{name}`"), &service_keys);
                    return Err(at_key(doc, &path[..2], &key, message));
                }
            }
            if let Some(restart) = service.get("restart").and_then(Value::as_str) {
                if !valid_restart(restart) {
                    let path = ["services".to_string(), name.clone(), "restart".to_string()];
                    return Err(at(
                        &path,
                        format!(
                            "`restart: {restart}` is not a restart policy (no, always, on-failure[:N], unless-stopped); \
                             Docker would refuse to start the container"
                        ),
                    ));
                }
            }
        }
    }
    let instance = to_json(&doc.value, 0);
    for error in validator.iter_errors(&instance) {
        if let Json::String(s) = error.instance().as_ref() {
            if interpolated(s) {
                continue; // Compose checks after interpolation; the value may fit then.
            }
        }
        let path: Vec<String> = error.instance_path().segments().map(|s| s.to_string()).collect();
        let shown = if path.is_empty() { "(top level)".to_string() } else { path.join(".") };
        return Err(at(&path, format!("invalid compose file: {shown}: {error}")));
    }
    Ok(())
}

/// Proves the output is the input with exactly the `applied` changes and still valid.
/// It parses the output with the second parser and never consults the passes. Services
/// without changes must be equal as they are; changed ones equal to the input's plus the
/// changes; and, since the input passed the full schema and a service's properties are
/// checked independently of each other, only the changed keys need the schema again.
pub fn verify(input: &Document, output_text: &str, applied: &[Change]) -> Result<(), String> {
    let output = crate::document::semantic_value(&input.file, output_text).map_err(|e| e.to_string())?;
    let (Some(before), Some(after)) = (input.value.as_mapping(), output.as_mapping()) else {
        return Err("the output's top level is not a mapping".to_string());
    };
    let mut changed: IndexMap<&str, IndexMap<&str, Vec<&Change>>> = IndexMap::new();
    for change in applied {
        let Some(key) = change.path.first() else { continue };
        changed.entry(change.service.as_str()).or_default().entry(key.as_str()).or_default().push(change);
    }
    if before.len() != after.len() {
        return Err("the output has other top-level keys than the input".to_string());
    }
    for (key, value) in before {
        let Some(out) = after.get(key) else {
            return Err(format!("`{}` is missing from the output", key_text(key)));
        };
        if key.as_str() != Some("services") {
            if value != out {
                return Err(format!("`{}` differs in the output", key_text(key)));
            }
            continue;
        }
        let (Some(services), Some(out_services)) = (value.as_mapping(), out.as_mapping()) else {
            if value != out {
                return Err("`services` differs in the output".to_string());
            }
            continue;
        };
        if services.len() != out_services.len() {
            return Err("the output has other services than the input".to_string());
        }
        for (name, service) in services {
            let out_service =
                out_services.get(name).ok_or_else(|| format!("service `{}` is missing", key_text(name)))?;
            let Some(keys) = name.as_str().and_then(|n| changed.get(n)) else {
                if service != out_service {
                    return Err(format!("service `{}` changed without a planned change", key_text(name)));
                }
                continue;
            };
            let mut expected = service.as_mapping().cloned().unwrap_or_default();
            for change in keys.values().flatten() {
                set_path(&mut expected, &change.path, change.value.clone());
            }
            let expected = Value::Mapping(expected);
            if expected != *out_service {
                let mut path = vec!["services".to_string(), key_text(name)];
                return Err(first_difference(&expected, out_service, &mut path)
                    .unwrap_or_else(|| format!("service `{}` differs in the output", key_text(name))));
            }
        }
    }
    check_changed(&output, &changed)
}

/// The schema and the restart check on the changed keys of the changed services. Many
/// services get the same values, so each distinct (key, value) is checked once.
fn check_changed(output: &Value, changed: &IndexMap<&str, IndexMap<&str, Vec<&Change>>>) -> Result<(), String> {
    let (_, validator) = schema();
    let mut seen = std::collections::HashSet::new();
    let mut services = serde_json::Map::new();
    for (name, keys) in changed {
        let mut service = serde_json::Map::new();
        for key in keys.keys() {
            let value = output.get("services").and_then(|s| s.get(*name)).and_then(|s| s.get(*key));
            if let Some(value) = value {
                if *key == "restart" && !value.as_str().is_some_and(valid_restart) {
                    return Err(format!("services.{name}.restart is not a restart policy"));
                }
                if seen.insert((*key, value)) {
                    service.insert(key.to_string(), to_json(value, 3));
                }
            }
        }
        if !service.is_empty() {
            services.insert(name.to_string(), Json::Object(service));
        }
    }
    let instance = serde_json::json!({ "services": services });
    let failure = validator
        .iter_errors(&instance)
        .find(|e| !matches!(e.instance().as_ref(), Json::String(s) if interpolated(s)))
        .map(|error| {
            let path: Vec<String> = error.instance_path().segments().map(|s| s.to_string()).collect();
            format!("{}: {error}", path.join("."))
        });
    failure.map_or(Ok(()), Err)
}

/// The edit layer's invariant, for tests and the fuzzer: `output` is `input` with text
/// inserted and nothing removed or altered, every input byte still there in order. The
/// one removal allowed is the alias of `key: *alias`, which moves into `<<: *alias` below.
pub fn inserted_only(input: &str, output: &str) -> Result<(), String> {
    let mut out = output.bytes();
    for (n, line) in input.split_inclusive('\n').enumerate() {
        let kept = match line.split_once(": *") {
            Some((key, rest)) if !key.trim_start().starts_with('#') => {
                let after = rest.find(|c: char| c.is_whitespace()).map_or("", |p| &rest[p..]);
                format!("{key}:{after}")
            }
            _ => line.to_string(),
        };
        for b in kept.bytes() {
            if !out.any(|o| o == b) {
                return Err(format!("input line {} is not kept in the output: {line:?}", n + 1));
            }
        }
    }
    Ok(())
}

fn first_difference(want: &Value, got: &Value, path: &mut Vec<String>) -> Option<String> {
    match (want, got) {
        (Value::Mapping(w), Value::Mapping(g)) => {
            for (k, wv) in w {
                path.push(key_text(k));
                let found = match g.get(k) {
                    None => Some(format!("`{}` is missing from the output", path.join("."))),
                    Some(gv) => first_difference(wv, gv, path),
                };
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            g.keys().find(|k| !w.contains_key(*k)).map(|k| {
                format!(
                    "the output has an unexpected `{}`",
                    path.iter().cloned().chain([key_text(k)]).collect::<Vec<_>>().join(".")
                )
            })
        }
        _ if want == got => None,
        _ => Some(format!("`{}` is {:?} in the output, expected {:?}", path.join("."), got, want)),
    }
}

fn property_names(properties: Option<&Json>) -> Vec<&str> {
    properties.and_then(Json::as_object).map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

/// An error at a key itself (the mapping at `parent`, followed through aliases).
fn at_key(doc: &Document, parent: &[String], key: &str, message: String) -> Error {
    let layout = &doc.layout;
    let mut map = layout.root;
    for step in parent {
        match layout.get(layout.resolve(map), step) {
            Some((_, v)) => map = v,
            None => return Error::new(&doc.file, message),
        }
    }
    match layout.get(layout.resolve(map), key) {
        Some((k, _)) => Error::at(&doc.file, layout.node(k).line, layout.node(k).col, message),
        None => Error::new(&doc.file, message),
    }
}

fn unknown_key(key: &str, context: &str, valid: &[&str]) -> String {
    let nearest = valid.iter().map(|v| (edit_distance(key, v), *v)).filter(|(d, v)| *d <= 2.max(v.len() / 3)).min();
    match nearest {
        Some((_, v)) => format!("unknown key `{key}`{context}: did you mean `{v}`?"),
        None => format!("unknown key `{key}`{context} (custom keys must start with `x-`)"),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

fn valid_restart(value: &str) -> bool {
    if interpolated(value) {
        return true;
    }
    match value.split_once(':') {
        Some(("on-failure", n)) => n.parse::<u32>().is_ok(),
        _ => matches!(value, "no" | "always" | "on-failure" | "unless-stopped"),
    }
}

/// Whether a string holds `${VAR}` or `$VAR` (not just the `$$` escape).
pub fn interpolated(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            match b.get(i + 1) {
                Some(b'$') => i += 2,
                Some(c) if *c == b'{' || *c == b'_' || c.is_ascii_alphabetic() => return true,
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    false
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        other => format!("{other:?}"),
    }
}

/// The JSON that Compose validates: tags resolved (`!reset` removes, `!override`
/// replaces) and, below `services`, repeated list items dropped as compose-go does.
fn to_json(value: &Value, depth: usize) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map_or(Json::Null, Json::Number)
            }
        }
        Value::String(s) => Json::String(s.clone()),
        Value::Sequence(items) => {
            let mut out: Vec<Json> = Vec::with_capacity(items.len());
            for item in items {
                let item = to_json(item, depth + 1);
                if depth < 3 || !out.contains(&item) {
                    out.push(item);
                }
            }
            Json::Array(out)
        }
        Value::Mapping(map) => Json::Object(
            map.iter()
                .filter(|(_, v)| !matches!(v, Value::Tagged(t) if t.tag == "reset"))
                .map(|(k, v)| (key_text(k), to_json(v, depth + 1)))
                .collect(),
        ),
        Value::Tagged(t) => to_json(&t.value, depth),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::load;

    const INPUT: &str = "services:\n  a:\n    image: x\n  b:\n    image: y\n";

    fn change(service: &str, path: &[&str], value: Value) -> Change {
        Change {
            service: service.into(),
            path: path.iter().map(|s| s.to_string()).collect(),
            value,
            pass: "test",
            note: None,
            replaces: None,
            message: None,
        }
    }

    #[test]
    fn verify_accepts_exactly_the_planned_change() {
        let doc = load("f.yml", INPUT.as_bytes()).expect("loads");
        let out = "services:\n  a:\n    image: x\n    init: true\n  b:\n    image: y\n";
        assert_eq!(verify(&doc, out, &[change("a", &["init"], Value::Bool(true))]), Ok(()));
    }

    #[test]
    fn verify_catches_missing_extra_and_stray_edits() {
        let doc = load("f.yml", INPUT.as_bytes()).expect("loads");
        let planned = [change("a", &["init"], Value::Bool(true))];
        let missing = "services:\n  a:\n    image: x\n  b:\n    image: y\n";
        assert_eq!(verify(&doc, missing, &planned), Err("`services.a.init` is missing from the output".into()));
        let extra = "services:\n  a:\n    image: x\n    init: true\n    restart: always\n  b:\n    image: y\n";
        assert_eq!(verify(&doc, extra, &planned), Err("the output has an unexpected `services.a.restart`".into()));
        let stray = "services:\n  a:\n    image: x\n    init: true\n  b:\n    image: z\n";
        assert_eq!(verify(&doc, stray, &planned), Err("service `b` changed without a planned change".into()));
    }

    #[test]
    fn verify_checks_changed_keys_against_the_schema() {
        let doc = load("f.yml", INPUT.as_bytes()).expect("loads");
        let path = ["deploy", "resources", "limits", "memory"];
        let out = "services:\n  a:\n    image: x\n    deploy: {resources: {limits: {memory: 5}}}\n  b:\n    image: y\n";
        let err = verify(&doc, out, &[change("a", &path, Value::from(5))]).expect_err("memory must be a string");
        assert!(err.starts_with("services.a.deploy.resources.limits.memory: 5 is not of type \"string\""), "{err}");
        let bad_restart = "services:\n  a:\n    image: x\n    restart: sometimes\n  b:\n    image: y\n";
        let err = verify(&doc, bad_restart, &[change("a", &["restart"], Value::from("sometimes"))]);
        assert_eq!(err, Err("services.a.restart is not a restart policy".into()));
    }
}
