//! Validate: the vendored Compose schema (compiled once), the checks it cannot express,
//! and the verifier that proves an output is its input plus the planned changes.

use std::sync::OnceLock;

use serde_json::Value as Json;
use yaml_serde::Value;

use crate::document::layout::{Kind, Style};
use crate::document::Document;
use crate::error::Error;
use crate::suggest::unknown_key;
use crate::units::{interpolated, valid_restart};

mod disagree;
mod settings;
mod stream;
mod verify;

pub use disagree::first_disagreement;
pub use verify::{inserted_only, legacy_conflict_added, readings_agree, verify};

/// compose-go's schema (`schema/compose-spec.json`) at the version named: the newest
/// published, so that files for the newest Compose (`pre_start`, `build.no_cache_filter`)
/// are read. The README says how to update it; a test pins it.
const COMPOSE_SCHEMA: &str = include_str!("../../schemas/compose-spec.json");
pub const COMPOSE_SCHEMA_VERSION: &str = "compose-go v2.13.0";

/// Compiles the schema now (a few milliseconds, most of a small file's run), so that a
/// caller can start it on another thread while it reads the file.
pub fn prepare() {
    schema();
}

pub(crate) fn schema() -> &'static (Json, jsonschema::Validator) {
    static SCHEMA: OnceLock<(Json, jsonschema::Validator)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // Both are compiled into the binary and covered by tests: failing here is a build defect.
        let json: Json = serde_json::from_str(COMPOSE_SCHEMA).expect("vendored compose schema is JSON");
        // Compiled as draft-07: the schema uses no keyword whose meaning differs from 2020-12
        // (a test holds that), and checking it against draft-07's smaller meta-schema costs
        // a third of the instructions of a one-service run less than 2020-12's.
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&json)
            .expect("vendored compose schema compiles");
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
    let settings = |value: Option<&Value>, path: &[String]| match value.map(|v| settings::check(v, path)) {
        Some(Err((path, Some(key), message))) => Err(at_key(doc, &path, &key, message)),
        Some(Err((path, None, message))) => Err(at(&path, message)),
        _ => Ok(()),
    };
    settings(root.get("x-compose-harden"), &["x-compose-harden".to_string()])?;
    let service_keys = property_names(definition(schema_json, "service").and_then(|s| s.get("properties")));
    if let Some(services) = doc.services() {
        for (name, service) in services {
            let name = key_text(name);
            if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) && !is_reset(service) {
                let message = format!(
                    "service name `{name}` is not allowed: Compose accepts only letters, digits, `.`, `_` and `-` in service names"
                );
                return Err(at_key(doc, &["services".to_string()], &name, message));
            }
            let Some(service) = service.as_mapping() else {
                continue;
            };
            let path = ["services".to_string(), name.clone(), "x-compose-harden".to_string()];
            settings(crate::document::lookup::get(service, "x-compose-harden"), &path)?;
            for key in service.keys() {
                let key = key_text(key);
                if !key.starts_with("x-") && !service_keys.contains(&key.as_str()) {
                    let path = ["services".to_string(), name.clone(), key.clone()];
                    let message = unknown_key(&key, &format!(" in service `{name}`"), &service_keys);
                    return Err(at_key(doc, &path[..2], &key, message));
                }
            }
            if let Some(legacy) = crate::units::legacy_conflict(service) {
                let (key, block, leaf) = (legacy.key, legacy.block, legacy.leaf);
                let message = format!(
                    "`{key}` beside a `deploy.resources.{block}` block that does not repeat it: Docker Compose refuses \
                     this as it loads the file for `up` (\"can't set distinct values on '{key}' and \
                     'deploy.resources.{block}.{leaf}'\"); write the value in one place"
                );
                return Err(at_key(doc, &path[..2], key, message));
            }
            // A `!reset` restart is no value of the user's (and `<<` may merge one in beside it).
            let restart = crate::document::lookup::get(service, "restart").filter(|r| !is_reset(r));
            if let Some(restart) = restart.and_then(Value::as_str) {
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
    if let Some((path, key)) = non_string_key(&doc.value, &mut Vec::new()) {
        let place = if path.is_empty() { "(top level)".to_string() } else { path.join(".") };
        let message = match key.as_str() {
            "null" => format!("an empty or null key in `{place}`: Compose accepts only strings as keys"),
            _ => format!(
                "non-string key `{key}` in `{place}`: Compose accepts only strings as keys; quote it (`\"{key}\":`)"
            ),
        };
        return Err(match key_position(doc, &path) {
            Some((line, col)) => Error::at(&doc.file, line, col, message),
            None => at(&path, message),
        });
    }
    // The file without its services' contents, then one service at a time: the schema
    // checks each service on its own, and no JSON copy of a large file is held at once.
    let services = root.get("services").and_then(Value::as_mapping);
    let rest = match services {
        Some(services) => Json::Object(
            root.iter()
                .filter(|(_, v)| !is_reset(v))
                .map(|(k, v)| match k.as_str() {
                    Some("services") => (key_text(k), stand_ins(services)),
                    _ => (key_text(k), to_json(v, 1)),
                })
                .collect(),
        ),
        None => to_json(&doc.value, 0),
    };
    // A key the schema does not know is pointed at itself, not at the mapping holding it.
    let fail = |(path, message, unexpected): SchemaError| match unexpected.and_then(|k| key_at(doc, &path, &k)) {
        Some((line, col)) => Err(Error::at(&doc.file, line, col, message)),
        None => Err(at(&path, message)),
    };
    schema_error(validator, &rest).map_or(Ok(()), fail)?;
    let services: Vec<(&Value, &Value)> = services.into_iter().flatten().filter(|(_, v)| !is_reset(v)).collect();
    let first_error = |run: &[(&Value, &Value)]| {
        run.iter().find_map(|(name, service)| {
            let one = Json::Object([(key_text(name), to_json(service, 2))].into_iter().collect());
            schema_error(validator, &Json::Object([("services".to_string(), one)].into_iter().collect()))
        })
    };
    // Services are checked independently: a large file's in two halves on two cores (a file
    // already hardened has little else to do), the earlier half's complaint first.
    let found = if services.len() < 64 {
        first_error(&services)
    } else {
        let (earlier, later) = services.split_at(services.len() / 2);
        std::thread::scope(|scope| {
            let later = scope.spawn(|| first_error(later));
            let earlier = first_error(earlier);
            // A panic there surfaces here, as it would have in one thread.
            let later = later.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            earlier.or(later)
        })
    };
    found.map_or(Ok(()), fail)
}

/// A schema complaint: the path it is about, the message, and the first key the schema
/// does not allow there (for "additional properties").
type SchemaError = (Vec<String>, String, Option<String>);

/// Whether the schema wants a mapping or a list there, and nothing a string can become.
fn wants_collection(kind: &jsonschema::error::ValidationErrorKind) -> bool {
    use jsonschema::error::{TypeKind, ValidationErrorKind};
    use jsonschema::JsonType;
    let ValidationErrorKind::Type { kind } = kind else { return false };
    let scalar = |t: JsonType| !matches!(t, JsonType::Object | JsonType::Array);
    match kind {
        TypeKind::Single(t) => !scalar(*t),
        TypeKind::Multiple(set) => !set.iter().any(scalar),
    }
}

/// The schema's first complaint about `instance`.
fn schema_error(validator: &jsonschema::Validator, instance: &Json) -> Option<SchemaError> {
    // Nearly every instance is valid, and the yes/no check is the cheaper walk.
    if validator.is_valid(instance) {
        return None;
    }
    let error = validator.iter_errors(instance).find(|error| {
        // Compose checks after interpolation; the value may fit then, unless only a mapping
        // or a list would (interpolation gives a string).
        !matches!(error.instance().as_ref(), Json::String(s) if interpolated(s)) || wants_collection(error.kind())
    })?;
    let path: Vec<String> = error.instance_path().segments().map(|s| s.to_string()).collect();
    let shown = if path.is_empty() { "(top level)".to_string() } else { path.join(".") };
    let unexpected = match error.kind() {
        jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => unexpected.first().cloned(),
        _ => None,
    };
    Some((path, format!("invalid compose file: {shown}: {error}"), unexpected))
}

/// Where `key` is written in the mapping at `path` (sequence items by index), if it is
/// written there itself (not merged in).
fn key_at(doc: &Document, path: &[String], key: &str) -> Option<(usize, usize)> {
    let layout = &doc.layout;
    let (k, _) = layout.get(node_at(doc, path)?, key)?;
    Some((layout.node(k).line, layout.node(k).col))
}

/// The node written at `path` (mapping keys, sequence items by index; aliases followed).
fn node_at(doc: &Document, path: &[String]) -> Option<crate::document::layout::NodeId> {
    let layout = &doc.layout;
    let mut node = layout.root;
    for step in path {
        node = match &layout.node(layout.resolve(node)).kind {
            Kind::Map { .. } => layout.get(layout.resolve(node), step)?.1,
            Kind::Seq { items, .. } => *items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(layout.resolve(node))
}

/// `services` with every service an empty mapping (checked one by one afterwards).
fn stand_ins(services: &yaml_serde::Mapping) -> Json {
    Json::Object(
        services
            .iter()
            .filter(|(_, v)| !is_reset(v))
            .map(|(k, _)| (key_text(k), Json::Object(Default::default())))
            .collect(),
    )
}

fn is_reset(value: &Value) -> bool {
    matches!(value, Value::Tagged(t) if t.tag == "reset")
}

/// The first mapping key that is not a string (`1:`, `true:`, an empty `?`), with the
/// path to its mapping: Compose refuses such files.
fn non_string_key(value: &Value, path: &mut Vec<String>) -> Option<(Vec<String>, String)> {
    match value {
        Value::Mapping(map) => map.iter().find_map(|(k, v)| {
            if !k.is_string() {
                return Some((path.clone(), key_text(k)));
            }
            path.push(key_text(k));
            let found = non_string_key(v, path);
            path.pop();
            found
        }),
        Value::Sequence(items) => items.iter().enumerate().find_map(|(i, v)| {
            path.push(i.to_string());
            let found = non_string_key(v, path);
            path.pop();
            found
        }),
        Value::Tagged(tagged) => non_string_key(&tagged.value, path),
        _ => None,
    }
}

/// Where the first key that does not read as a string sits in the mapping at `path`.
fn key_position(doc: &Document, path: &[String]) -> Option<(usize, usize)> {
    let layout = &doc.layout;
    let Kind::Map { entries, .. } = &layout.node(node_at(doc, path)?).kind else { return None };
    entries.iter().map(|(k, _)| layout.node(*k)).find_map(|k| match &k.kind {
        Kind::Scalar { value, style: Style::Plain } if !stream::plain_resolves_to_string(value) => {
            Some((k.line, k.col))
        }
        _ => None,
    })
}

/// A definition of the schema: under `$defs` from JSON Schema 2020-12 on (compose-go
/// v2.11 and later), under `definitions` in draft-07 (before).
fn definition<'a>(schema: &'a Json, name: &str) -> Option<&'a Json> {
    ["$defs", "definitions"].iter().find_map(|defs| schema.get(defs)?.get(name))
}

fn property_names(properties: Option<&Json>) -> Vec<&str> {
    properties.and_then(Json::as_object).map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

/// An error at a key itself (the mapping at `parent`, followed through aliases).
fn at_key(doc: &Document, parent: &[String], key: &str, message: String) -> Error {
    match key_at(doc, parent, key) {
        Some((line, col)) => Error::at(&doc.file, line, col, message),
        None => Error::new(&doc.file, message),
    }
}

pub(crate) fn key_text(key: &Value) -> String {
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
pub(crate) fn to_json(value: &Value, depth: usize) -> Json {
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
            map.iter().filter(|(_, v)| !is_reset(v)).map(|(k, v)| (key_text(k), to_json(v, depth + 1))).collect(),
        ),
        Value::Tagged(t) => to_json(&t.value, depth),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::load;

    fn error(text: &str) -> String {
        let doc = load("f.yml", text.as_bytes()).expect("loads");
        check(&doc).expect_err("refused").to_string()
    }

    #[test]
    fn of_a_large_files_services_the_first_invalid_one_in_the_file_is_reported() {
        // Checked in two halves on two cores: the earlier half's complaint comes first.
        let file = |bad: &[usize]| {
            let mut text = String::from("services:\n");
            for i in 0..100 {
                let ports = if bad.contains(&i) { "80" } else { "[\"80\"]" };
                text.push_str(&format!("  s{i}:\n    image: x\n    ports: {ports}\n"));
            }
            error(&text)
        };
        let at = |i: usize| format!("f.yml:{}:12: error: invalid compose file: services.s{i}.ports: 80", 3 * i + 4);
        assert!(file(&[30, 80]).starts_with(&at(30)), "{}", file(&[30, 80]));
        assert!(file(&[80]).starts_with(&at(80)), "{}", file(&[80]));
        assert!(file(&[10, 20]).starts_with(&at(10)), "{}", file(&[10, 20]));
    }

    /// The embedded schema is the one [`COMPOSE_SCHEMA_VERSION`] names, byte for byte (its
    /// length and FNV-1a hash, which change with any update: see the README).
    #[test]
    fn the_embedded_schema_is_the_version_named() {
        let hash = COMPOSE_SCHEMA
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
        assert_eq!(COMPOSE_SCHEMA_VERSION, "compose-go v2.13.0");
        assert_eq!(
            (COMPOSE_SCHEMA.len(), hash),
            (76664, 0x5eb0_d7ef_eb55_a925),
            "not {COMPOSE_SCHEMA_VERSION}'s schema"
        );
        let (json, _) = schema();
        assert_eq!(json["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }

    /// The schema is compiled as draft-07 (a cheaper meta-schema check): that reads it as
    /// 2020-12 would only while it uses no keyword whose meaning differs between the two
    /// and no `$ref` beside a keyword that constrains (draft-07 ignores those).
    #[test]
    fn the_embedded_schema_means_the_same_under_draft_07() {
        fn walk(node: &Json, path: &str, wrong: &mut Vec<String>) {
            match node {
                Json::Object(map) => {
                    for key in map.keys() {
                        let differs = [
                            "prefixItems",
                            "unevaluatedProperties",
                            "unevaluatedItems",
                            "dependentRequired",
                            "dependentSchemas",
                            "$dynamicRef",
                            "$dynamicAnchor",
                            "$recursiveRef",
                            "minContains",
                            "maxContains",
                            "dependencies",
                        ];
                        if differs.contains(&key.as_str()) {
                            wrong.push(format!("{path}/{key}"));
                        }
                    }
                    if map.contains_key("$ref")
                        && map.keys().any(|k| !["$ref", "description", "title", "$comment"].contains(&k.as_str()))
                    {
                        wrong.push(format!("{path}: $ref beside other keywords"));
                    }
                    if map.get("items").is_some_and(Json::is_array) {
                        wrong.push(format!("{path}/items is an array"));
                    }
                    for (key, value) in map {
                        walk(value, &format!("{path}/{key}"), wrong);
                    }
                }
                Json::Array(items) => {
                    items.iter().enumerate().for_each(|(i, v)| walk(v, &format!("{path}/{i}"), wrong))
                }
                _ => {}
            }
        }
        let mut wrong = Vec::new();
        walk(&schema().0, "", &mut wrong);
        assert!(wrong.is_empty(), "read differently under draft-07: {wrong:?}");
    }

    /// The service keys are read from `$defs` (2020-12) and `definitions` (draft-07): read
    /// from neither, every key would be unknown.
    #[test]
    fn service_keys_are_read_from_either_spelling_of_the_definitions() {
        fn keys(schema: &Json) -> Vec<&str> {
            property_names(definition(schema, "service").and_then(|s| s.get("properties")))
        }
        let (json, _) = schema();
        let newest = keys(json);
        assert!(newest.contains(&"image") && newest.contains(&"pre_start"), "{newest:?}");
        let draft7 = serde_json::json!({"definitions": {"service": {"properties": {"image": {}, "init": {}}}}});
        assert_eq!(keys(&draft7), ["image", "init"]);
        assert!(error("services:\n  a:\n    image: x\n    imagee: y\n").contains("did you mean `image`?"));
    }

    #[test]
    fn the_schema_checks_the_top_level_and_each_service_where_it_is() {
        // Checked service by service: each error still names its path and position.
        assert_eq!(
            error("services:\n  a:\n    image: x\n  b:\n    image: y\n    ports: 80\n"),
            "f.yml:6:12: error: invalid compose file: services.b.ports: 80 is not of type \"array\""
        );
        assert_eq!(
            error("services:\n  a:\n    image: x\nvolumes: 5\n"),
            "f.yml:4:10: error: invalid compose file: volumes: 5 is not of type \"object\""
        );
        assert_eq!(
            error("services:\n  web:\n    image: x\n  a b:\n    image: x\n"),
            "f.yml:4:3: error: service name `a b` is not allowed: Compose accepts only letters, digits, `.`, `_` and `-` in service names"
        );
        assert_eq!(
            error("services:\n  a: 5\n"),
            "f.yml:2:6: error: invalid compose file: services.a: 5 is not of type \"object\""
        );
        // A `!reset` service is dropped by Compose and not checked.
        let doc = load("f.yml", "services:\n  a: !reset {ports: 80}\n  b:\n    image: y\n".as_bytes()).expect("loads");
        assert_eq!(check(&doc).map_err(|e| e.to_string()), Ok(()));
    }
}
