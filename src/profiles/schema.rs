//! The profile file's JSON schema: generated from the types the loader reads, plus what a
//! file may say that the merged profile no longer holds (`extends`, `false` for a pass).

use super::layers::sections;
use crate::profile::Profile;
use serde_json::{json, Value as Json};
use std::sync::OnceLock;

/// The schema as `schemas/profile.schema.json` holds it.
pub fn json_schema() -> String {
    serde_json::to_string_pretty(&generated()).unwrap_or_default() + "\n"
}

fn generated() -> Json {
    let mut schema = serde_json::to_value(schemars::schema_for!(Profile)).unwrap_or(Json::Null);
    // A file may leave out what its parent gives: the sections' own keys are not required
    // there (the loader asks for them in a profile without `extends`); an entry of a list
    // (a probe, a class) is whole in one file, and keeps its required keys.
    let mut section_types = Vec::new();
    section_defs(&schema, &schema, &mut section_types);
    if let Some(defs) = schema.get_mut("$defs").and_then(Json::as_object_mut) {
        for name in section_types {
            if let Some(def) = defs.get_mut(&name).and_then(Json::as_object_mut) {
                def.remove("required");
            }
        }
    }
    if let Some(properties) = schema.get_mut("properties").and_then(Json::as_object_mut) {
        for section in sections() {
            if let Some(own) = properties.get_mut(section) {
                let description = own.as_object_mut().and_then(|o| o.remove("description"));
                let off =
                    json!({"const": false, "description": "turns the pass off (in a profile that extends another)"});
                let mut wrapped = json!({"anyOf": [own.take(), off]});
                if let Some(d) = description {
                    wrapped["description"] = d;
                }
                *own = wrapped;
            }
        }
    }
    schema
}

/// The definitions reached from `node` through properties alone (not list items).
fn section_defs(schema: &Json, node: &Json, out: &mut Vec<String>) {
    let branches = node.get("anyOf").and_then(Json::as_array).into_iter().flatten();
    for branch in branches.chain(node.get("properties").and_then(Json::as_object).into_iter().flat_map(|p| p.values()))
    {
        if let Some(name) = branch.get("$ref").and_then(Json::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
                if let Some(def) = schema.get("$defs").and_then(|d| d.get(name)) {
                    section_defs(schema, def, out);
                }
            }
        } else {
            section_defs(schema, branch, out);
        }
    }
}

/// The schema a file's values are checked with, and its compiled validator, made once.
/// Optional values are plain there (`{"$ref": ...}`, not "that or null"), and the value
/// checked has its nulls and `false` sections taken out first: so a complaint points into the
/// value, not at a choice between schemas.
pub(super) fn compiled() -> &'static (Json, jsonschema::Validator) {
    static COMPILED: OnceLock<(Json, jsonschema::Validator)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let mut schema = serde_json::to_value(schemars::schema_for!(Profile)).unwrap_or(Json::Null);
        plain_options(&mut schema);
        // The schema is the crate's own (a test compiles it): failing here is a build defect.
        let validator = jsonschema::validator_for(&schema).expect("the profile schema compiles");
        (schema, validator)
    })
}

fn plain_options(node: &mut Json) {
    match node {
        Json::Object(map) => {
            let nullable = map.get("anyOf").and_then(Json::as_array).and_then(|b| match b.as_slice() {
                [one, null] if null.get("type").and_then(Json::as_str) == Some("null") => Some(one.clone()),
                _ => None,
            });
            if let Some(one) = nullable {
                map.remove("anyOf");
                if let Json::Object(inner) = one {
                    map.extend(inner);
                }
            }
            map.values_mut().for_each(plain_options);
        }
        Json::Array(items) => items.iter_mut().for_each(plain_options),
        _ => {}
    }
}

/// A file's value as [`compiled`] checks it: no nulls in mappings, no pass turned off.
pub(super) fn checked_form(value: &Json) -> Json {
    fn strip(v: &Json) -> Json {
        match v {
            Json::Object(m) => {
                Json::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip(v))).collect())
            }
            Json::Array(items) => Json::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    let mut out = strip(value);
    if let Json::Object(m) = &mut out {
        m.retain(|k, v| !(*v == Json::Bool(false) && sections().any(|s| s == k.as_str())));
    }
    out
}

/// The keys the schema allows in the mapping at `path`, to suggest the nearest.
pub(super) fn keys_at(schema: &Json, path: &[String]) -> Vec<String> {
    let mut node = schema;
    for step in path {
        node = resolve(schema, node, |n| {
            n.get("properties").is_some() || n.get("items").is_some() || n.get("additionalProperties").is_some()
        });
        let next = match step.parse::<usize>() {
            Ok(_) => node.get("items"),
            Err(_) => node.get("properties").and_then(|p| p.get(step)).or_else(|| node.get("additionalProperties")),
        };
        match next {
            Some(n) => node = n,
            None => return Vec::new(),
        }
    }
    let node = resolve(schema, node, |n| n.get("properties").is_some());
    node.get("properties").and_then(Json::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default()
}

/// Follows `$ref` and `anyOf` to the branch that `wanted` accepts.
fn resolve<'a>(schema: &'a Json, mut node: &'a Json, wanted: impl Fn(&Json) -> bool) -> &'a Json {
    for _ in 0..16 {
        if let Some(name) = node.get("$ref").and_then(Json::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            match schema.get("$defs").and_then(|d| d.get(name)) {
                Some(n) => node = n,
                None => return node,
            }
            continue;
        }
        if wanted(node) {
            return node;
        }
        let branches = node.get("anyOf").or_else(|| node.get("oneOf")).and_then(Json::as_array);
        let Some(branch) = branches.and_then(|b| b.iter().find(|b| b.get("$ref").is_some() || wanted(b))) else {
            return node;
        };
        node = branch;
    }
    node
}
