//! The verifier: proves an output is its input plus exactly the planned changes, and
//! still valid. It reads the output with the second parser (yaml_serde, independent of
//! the layout the edit used) and never consults the passes.

use indexmap::IndexMap;
use serde_json::Value as Json;
use yaml_serde::Value;

use super::{interpolated, key_text, schema, to_json, valid_restart};
use crate::document::Document;
use crate::passes::set_path;
use crate::plan::Change;

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
