//! Validate: the vendored Compose schema (compiled once), the checks it cannot express,
//! and the verifier that proves an output is its input plus the planned changes.

use std::sync::OnceLock;

use serde_json::Value as Json;
use yaml_serde::Value;

use crate::document::Document;
use crate::error::Error;
use crate::passes::set_path;
use crate::plan::Change;

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
            return Err(at(std::slice::from_ref(&key), unknown_key("top-level key", &key, &top_keys)));
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
                    return Err(at(&path, unknown_key(&format!("key in service `{name}`"), &key, &service_keys)));
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

/// Proves `output` is `input` with exactly the `applied` changes, as any reader sees it.
/// It parses both texts and never consults the passes.
pub fn verify(input: &Document, output: &Document, applied: &[Change]) -> Result<(), String> {
    let mut expected = input.value.clone();
    for change in applied {
        let service = expected
            .get_mut("services")
            .and_then(|s| s.get_mut(change.service.as_str()))
            .and_then(Value::as_mapping_mut)
            .ok_or_else(|| format!("service `{}` vanished", change.service))?;
        set_path(service, &change.path, change.value.clone());
    }
    if expected != output.value {
        return Err(first_difference(&expected, &output.value, &mut Vec::new())
            .unwrap_or_else(|| "the output differs from the input plus the planned changes".to_string()));
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

fn unknown_key(what: &str, key: &str, valid: &[&str]) -> String {
    let nearest = valid.iter().map(|v| (edit_distance(key, v), *v)).filter(|(d, v)| *d <= 2.max(v.len() / 3)).min();
    match nearest {
        Some((_, v)) => format!("unknown {what} `{key}`: did you mean `{v}`?"),
        None => format!("unknown {what} `{key}` (custom keys must start with `x-`)"),
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
