//! Reading profiles: each file checked on its own (schema, then values, each error at its
//! place in that file), `extends` chains resolved, `--profile` layers merged (by the
//! way [`crate::profile::merge`] says).

use super::{values, BUILTIN};
use crate::document::layout::Kind;
use crate::error::Error;
use crate::profile::{finish, merge, Profile};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use yaml_serde::{Mapping, Value};

/// The profile sections that hold a pass's settings, in the order the passes run: what
/// `false` turns off in a profile that extends another.
pub fn sections() -> impl Iterator<Item = &'static str> {
    crate::passes::PASSES.iter().filter_map(|p| p.section())
}

/// One profile file as read.
struct Layer {
    /// As messages name it: the path given, or `<built-in profile NAME>`.
    file: String,
    /// Where a relative `extends` is read from.
    dir: PathBuf,
    value: Value,
    /// The text's layout, for positions (none for a built-in).
    doc: Option<crate::document::Document>,
    /// What identifies it in a chain (to find a cycle).
    key: String,
}

/// A file that went into a profile, as read: in merge order (parents first).
pub(super) struct Source {
    pub file: String,
    /// Its own value, without `extends`.
    pub value: Value,
    /// Its text's layout, for positions (none for a built-in).
    pub doc: Option<crate::document::Document>,
}

/// The layers, each with its parents, merged in order, as one value.
pub(super) fn resolve(references: &[&str]) -> Result<(Value, Vec<Source>), Error> {
    let cwd = PathBuf::from(".");
    let mut merged: Option<Value> = None;
    let mut files = Vec::new();
    for (i, reference) in references.iter().enumerate() {
        // A later layer is merged over the earlier ones, as if it extended them.
        let over = i > 0;
        let layer = read(reference, &cwd, false)?;
        let value = resolved(layer, None, over, &mut Vec::new(), &mut files)?;
        merged = Some(match merged {
            Some(earlier) => merge(earlier, value, ""),
            None => value,
        });
    }
    Ok((finish(merged.unwrap_or(Value::Mapping(Mapping::new()))), files))
}

/// A profile file and its `extends` chain, merged. `from` says which file names it, for
/// an error at its `extends`.
fn chain(
    reference: &str,
    dir: &Path,
    from: Option<(&Layer, &str)>,
    stack: &mut Vec<(String, String)>,
    files: &mut Vec<Source>,
) -> Result<Value, Error> {
    let layer = match read(reference, dir, from.is_some()) {
        Ok(layer) => layer,
        Err(e) => {
            return Err(match from {
                Some((child, _)) => at(child, &["extends".to_string()], None, format!("extends: {}", e.message)),
                None => e,
            })
        }
    };
    resolved(layer, from, false, stack, files)
}

/// A layer with its `extends` chain merged under it.
fn resolved(
    layer: Layer,
    from: Option<(&Layer, &str)>,
    over: bool,
    stack: &mut Vec<(String, String)>,
    files: &mut Vec<Source>,
) -> Result<Value, Error> {
    if stack.iter().any(|(key, _)| *key == layer.key) {
        let names: Vec<&str> = stack.iter().map(|(_, name)| name.as_str()).chain([layer.file.as_str()]).collect();
        let message = format!("extends: a cycle: {}", names.join(" -> "));
        return Err(match from {
            Some((child, _)) => at(child, &["extends".to_string()], None, message),
            None => Error::new(&layer.file, message),
        });
    }
    let parent = layer.value.get("extends").map(|e| e.as_str().map(str::to_string));
    check(&layer, parent.is_some() || over)?;
    let mut layer = layer;
    // A sizing file is named relative to the profile that names it.
    let dir = layer.dir.clone();
    if let Some(file) = layer.value.get_mut("sizing").and_then(|s| s.get_mut("file")) {
        if let Some(relative) = file.as_str().filter(|f| !Path::new(f).is_absolute()) {
            *file = Value::from(dir.join(relative).display().to_string());
        }
    }
    let Some(parent) = parent else {
        files.push(Source { file: layer.file, value: layer.value.clone(), doc: layer.doc });
        return Ok(layer.value);
    };
    let Some(parent) = parent else {
        return Err(at(&layer, &["extends".to_string()], None, "extends: a built-in profile name or a path".into()));
    };
    stack.push((layer.key.clone(), layer.file.clone()));
    let base = chain(&parent, &layer.dir.clone(), Some((&layer, &parent)), stack, files)?;
    stack.pop();
    let mut own = layer.value;
    if let Some(map) = own.as_mapping_mut() {
        map.remove("extends");
    }
    // Parents first: the last file named is the one the user gave.
    files.push(Source { file: layer.file, value: own.clone(), doc: layer.doc });
    Ok(merge(base, own, ""))
}

/// A profile given as text (named `file`, its `extends` read from the current directory).
pub(super) fn parsed(file: &str, text: &str) -> Result<Profile, Error> {
    let layer = from_text(file.to_string(), text, PathBuf::from("."), file.to_string())?;
    let mut files = Vec::new();
    let value = resolved(layer, None, false, &mut Vec::new(), &mut files)?;
    Profile::from_merged(finish(value), &files)
}

/// `extended`: named by another file's `extends` (the message then says what was looked for).
fn read(reference: &str, dir: &Path, extended: bool) -> Result<Layer, Error> {
    if let Some((name, _, json)) = BUILTIN.iter().find(|(n, ..)| *n == reference) {
        let file = format!("<built-in profile {name}>");
        let value = serde_json::from_str(json).map_err(|e| Error::new(&file, format!("invalid profile: {e}")))?;
        return Ok(Layer { file, dir: dir.to_path_buf(), value, doc: None, key: name.to_string() });
    }
    // `./` parts dropped, so that messages show the path as a user would write it.
    let path: PathBuf =
        dir.join(reference).components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect();
    let file = if dir == Path::new(".") { reference.to_string() } else { path.display().to_string() };
    if !path.exists() {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, ..)| *n).collect();
        let what = match extended {
            false => String::new(),
            true => format!(" `{reference}` (no file {})", path.display()),
        };
        return Err(Error::new(
            &file,
            format!(
                "no such profile{what}: built-in profiles are {}, or give a path to a profile file",
                names.join(", ")
            ),
        ));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(&file, format!("cannot read the profile: {}", crate::error::io_reason(&e))))?;
    let key = std::fs::canonicalize(&path).unwrap_or(path.clone()).display().to_string();
    let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    from_text(file, &text, dir, key)
}

fn from_text(file: String, text: &str, dir: PathBuf, key: String) -> Result<Layer, Error> {
    let empty = "invalid profile: it is empty, and an empty profile would turn every pass off; \
                 write its rules, or start it with `extends: production`";
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(Error::new(&file, empty));
    }
    let doc = crate::document::load(&file, text.as_bytes()).map_err(|e| {
        let mut e = e.prefixed("invalid profile: ");
        e.message = e.message.replace("a compose file", "a profile").replace(" and Compose refuses the file", "");
        e
    })?;
    if doc.value.as_mapping().is_some_and(Mapping::is_empty) {
        return Err(Error::new(&file, empty));
    }
    Ok(Layer { file, dir, value: doc.value.clone(), doc: Some(doc), key })
}

/// Keys a profile once took, with why they went and what replaces them: a team profile
/// written for an earlier version gets that instead of "unknown key".
const REMOVED: &[(&str, &str)] = &[(
    "restart.one_shot.names",
    "a name alone never makes a service a job (a `service_completed_successfully` waiter or the command's \
     last step does); delete it",
)];

/// One file on its own: the schema (a file with `extends` may leave out what its parent
/// gives), then the values.
fn check(layer: &Layer, partial: bool) -> Result<(), Error> {
    if layer.doc.is_none() {
        return Ok(()); // The built-ins are checked by the tests.
    }
    let json = super::schema::checked_form(&serde_json::to_value(&layer.value).unwrap_or(Json::Null));
    let (schema, validator) = super::schema::compiled();
    // The first complaint, at its place.
    if let Some(error) = validator.iter_errors(&json).find(|e| !given_elsewhere(e, partial)) {
        let path = instance_path(&error);
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
            let key = unexpected.first().cloned().unwrap_or_default();
            let valid = super::schema::keys_at(schema, &path);
            let valid: Vec<&str> = valid.iter().map(String::as_str).collect();
            let context = if path.is_empty() { String::new() } else { format!(" in `{}`", path.join(".")) };
            let full = path.iter().chain([&key]).map(String::as_str).collect::<Vec<_>>().join(".");
            let message = match REMOVED.iter().find(|(removed, _)| *removed == full) {
                Some((_, why)) => format!("`{full}` was removed: {why}"),
                None => crate::suggest::unknown_key(&key, &context, &valid)
                    .replace(" (custom keys must start with `x-`)", ""),
            };
            return Err(at(layer, &path, Some(&key), message));
        }
        let shown = if path.is_empty() { "(top level)".to_string() } else { path.join(".") };
        return Err(at(layer, &path, None, format!("{shown}: {error}")));
    }
    // A file merged over another is checked as a whole once merged.
    let whole = |v: &Value| if partial { Ok(()) } else { values::check_merged(v) };
    if let Err((path, message)) = values::check(&layer.value).and_then(|_| whole(&layer.value)) {
        return Err(at(layer, &path, None, message));
    }
    let severities = layer.value.get("severity").and_then(Value::as_mapping).into_iter().flatten();
    for (id, _) in severities {
        let id = id.as_str().unwrap_or_default();
        if crate::passes::find_rule(id).is_none() {
            let message = format!("severity: no rule `{id}` (`compose-harden rules` lists them)");
            return Err(at(layer, &["severity".to_string()], Some(id), message));
        }
    }
    for list in ["ignore", "safe_fixes", "unsafe_fixes"] {
        let ids = layer.value.get(list).and_then(Value::as_sequence).into_iter().flatten().enumerate();
        for (i, id) in ids {
            let id = id.as_str().unwrap_or_default();
            let at_id = |message: String| at(layer, &[list.to_string(), i.to_string()], None, message);
            let Some(rule) = crate::passes::find_rule(id) else {
                return Err(at_id(format!("{list}: no rule `{id}` (`compose-harden rules` lists them)")));
            };
            let movable = !matches!(rule.fix, crate::rule::Fix::None | crate::rule::Fix::Replace);
            if list != "ignore" && !movable {
                let why = match rule.fix {
                    crate::rule::Fix::Replace => "replaces the user's value, which only --enforce does",
                    _ => "writes nothing",
                };
                return Err(at_id(format!("{list}: `{id}` {why}, so it cannot be moved")));
            }
        }
    }
    Ok(())
}

fn instance_path(error: &jsonschema::ValidationError) -> Vec<String> {
    error.instance_path().segments().map(|s| s.to_string()).collect()
}

/// A missing key that something merged with this value gives: the parent's, for a file
/// merged over another (`partial`), outside list entries (an entry is whole in one file);
/// the profile's, for a per-service override (checked once merged over it, in `with_overrides`).
fn given_elsewhere(error: &jsonschema::ValidationError, partial: bool) -> bool {
    if !matches!(error.kind(), jsonschema::error::ValidationErrorKind::Required { .. }) {
        return false;
    }
    let path = instance_path(error);
    let in_entry = path.iter().any(|s| s.parse::<usize>().is_ok());
    (partial && !in_entry) || (path.len() >= 3 && path[0] == "services")
}

/// An error in a profile file, at the node at `path` (or its key `key`).
fn at(layer: &Layer, path: &[String], key: Option<&str>, message: String) -> Error {
    at_doc(&layer.file, layer.doc.as_ref(), path, key, message)
}

/// Whether `value` holds something at `path` (mapping keys, list indexes).
fn has_path(value: &Value, path: &[String]) -> bool {
    let mut here = value;
    for step in path {
        let next = match here {
            Value::Mapping(m) => m.get(step.as_str()),
            Value::Sequence(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => here = v,
            None => return false,
        }
    }
    true
}

fn at_source(source: &Source, path: &[String], message: String) -> Error {
    at_doc(&source.file, source.doc.as_ref(), path, None, message)
}

fn at_doc(
    file: &str,
    doc: Option<&crate::document::Document>,
    path: &[String],
    key: Option<&str>,
    message: String,
) -> Error {
    let message = format!("invalid profile: {message}");
    let Some(doc) = doc else { return Error::new(file, message) };
    let layout = &doc.layout;
    let mut node = layout.root;
    for step in path {
        let here = layout.resolve(node);
        let next = match &layout.node(here).kind {
            Kind::Map { .. } => layout.get(here, step).map(|(_, v)| v),
            Kind::Seq { items, .. } => step.parse::<usize>().ok().and_then(|i| items.get(i).copied()),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    let target = key.and_then(|k| layout.get(layout.resolve(node), k)).map_or(node, |(k, _)| k);
    let n = layout.node(target);
    Error::at(file, n.line, n.col, message)
}

impl Profile {
    /// Profiles named by built-in name or path, each merged over the ones before it.
    pub fn layered(references: &[&str]) -> Result<Profile, Error> {
        let (value, files) = resolve(references)?;
        Profile::from_merged(value, &files)
    }

    fn from_merged(value: Value, files: &[Source]) -> Result<Profile, Error> {
        let file = files.last().map(|s| s.file.clone()).unwrap_or_default();
        // Each layer passed on its own; what is still wrong comes of merging them.
        let json = super::schema::checked_form(&serde_json::to_value(&value).unwrap_or(Json::Null));
        if let Some(error) = super::schema::compiled().1.iter_errors(&json).find(|e| !given_elsewhere(e, false)) {
            let path = instance_path(&error);
            let shown = if path.is_empty() { "(top level)".to_string() } else { path.join(".") };
            return Err(Error::new(&file, format!("invalid profile, with its parents merged: {shown}: {error}")));
        }
        if let Err((path, message)) = values::check_merged(&value) {
            // At the value in the file that set it last, where one did.
            let setter = files.iter().rev().find(|s| has_path(&s.value, &path) && s.doc.is_some());
            return Err(match setter {
                Some(source) => at_source(source, &path, message),
                None => Error::new(
                    &file,
                    format!("invalid profile, with its parents merged: {}: {message}", path.join(".")),
                ),
            });
        }
        let source = std::sync::Arc::new(value.clone());
        let mut profile: Profile =
            yaml_serde::from_value(value).map_err(|e| Error::new(&file, format!("invalid profile: {e}")))?;
        profile.source = crate::profile::Source(Some(source), None);
        // Each per-service override must make a whole profile over this one.
        for i in 0..profile.services.len() {
            if let Err(e) = profile.with_overrides(&[i]) {
                let top = files.last();
                let at = top.map(|s| (s, vec!["services".to_string(), i.to_string()]));
                let message = format!("services.{i}: merged over the profile, {e}");
                return Err(match at {
                    Some((layer, path)) if layer.doc.is_some() => at_source(layer, &path, message),
                    _ => Error::new(&file, format!("invalid profile: {message}")),
                });
            }
        }
        Ok(profile)
    }
}
