//! The verifier: proves an output is its input plus exactly the planned changes, and
//! still valid. It reads the output with the second parser (yaml_serde, independent of
//! the layout the edit used) and never consults the passes.

use indexmap::IndexMap;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::sync::Arc;
use yaml_serde::{Mapping, Value};

use super::{key_text, schema, to_json};
use crate::document::layout::Kind;
use crate::document::lookup::{self, remove_path, set_path};
use crate::document::Document;
use crate::plan::Change;
use crate::units::{interpolated, valid_restart, Legacy, LEGACY};

/// The changes by service (grouped by key on the thread that reads the service).
pub(super) type Changed<'a> = IndexMap<&'a str, Vec<&'a Change>, Fast>;
/// One service's changes by the top-level key they touch.
pub(super) type Keys<'a> = IndexMap<&'a str, Vec<&'a Change>, Fast>;
type Fast = foldhash::fast::RandomState;

/// Proves the output is the input with exactly the `applied` changes and still valid.
/// Services without changes must be equal as they are; changed ones equal to the input's
/// plus the changes; and, since the input passed the full schema and a service's
/// properties are checked independently of each other, only the changed keys need the
/// schema again.
///
/// Where the file has no aliases and a plain block `services:`, the services' text is
/// matched as it is parsed (on two cores, without building the values again); any doubt
/// there falls back to reading the whole output with yaml_serde, which is the authority.
///
/// `outside` holds the values written once outside `services` (into a block services
/// merge), at their keys from the top: that block must be its input plus exactly those.
pub fn verify(
    input: &Document,
    output_text: &str,
    applied: &[Change],
    outside: &[(Vec<String>, Arc<Value>)],
) -> Result<(), String> {
    // Nothing planned and nothing written (a file hardened already, as in every CI run
    // after the first): the output is the input, which passed the full check.
    if applied.is_empty() && output_text == input.text {
        return Ok(());
    }
    let changed = by_service(applied);
    let values = match sliced(input, output_text, &changed) {
        Some(Ok(values)) if outside.is_empty() => values,
        _ => whole(input, output_text, &changed, outside)?,
    };
    check_changed(&values)?;
    legacy_kept_apart(input, &changed)
}

/// Compose's comparison of legacy keys with `deploy.resources` blocks (see
/// [`LEGACY`]), on each service whose `deploy` or legacy keys changed, as the output has
/// them: a conflict the input did not have was written here, and fails the proof. A value
/// known only once interpolated counts as a conflict unless the leaf repeats it.
fn legacy_kept_apart(input: &Document, changed: &Changed) -> Result<(), String> {
    let legacy = |k: &str| LEGACY.iter().any(|l| l.key == k);
    let services = input.services();
    // The services whose input sets a legacy key (few: their keys are compared, not
    // hashed), then those a change gives one.
    for (name, service) in services.into_iter().flatten() {
        let Some(before) = service.as_mapping() else { continue };
        if !before.keys().any(|k| k.as_str().is_some_and(legacy)) {
            continue;
        }
        if let Some(changes) = name.as_str().and_then(|n| changed.get(n)) {
            kept_apart(name.as_str().unwrap_or(""), Some(before), changes)?;
        }
    }
    for (name, changes) in changed {
        if changes.iter().any(|c| c.path.len() == 1 && legacy(&c.path[0])) {
            let before = services.and_then(|s| lookup::get(s, name)).and_then(Value::as_mapping);
            kept_apart(name, before, changes)?;
        }
    }
    Ok(())
}

fn kept_apart(name: &str, before: Option<&Mapping>, changes: &[&Change]) -> Result<(), String> {
    for legacy in &LEGACY {
        let after = |path: &[&str]| written(before, changes, path);
        let had = |path: &[&str]| before.and_then(|b| get(b, path)).map(Cow::Borrowed);
        if conflicts(legacy, after) && !conflicts(legacy, had) {
            return Err(format!(
                "services.{name}: `{}` beside a `deploy.resources.{}` block that does not repeat it, which Compose \
                 refuses",
                legacy.key, legacy.block
            ));
        }
    }
    Ok(())
}

/// Whether `after`, a service as one file writes it, holds a legacy key beside a
/// `deploy.resources` block that does not repeat it where `before` did not: Compose refuses
/// that file (it checks each file of a project on its own).
pub fn legacy_conflict_added(before: &Mapping, after: &Mapping) -> bool {
    let (after, before) =
        (|p: &[&str]| get(after, p).map(Cow::Borrowed), |p: &[&str]| get(before, p).map(Cow::Borrowed));
    LEGACY.iter().any(|legacy| conflicts(legacy, after) && !conflicts(legacy, before))
}

/// Whether Compose may refuse `legacy` beside its block in a service read through `at`.
fn conflicts<'a>(legacy: &Legacy, at: impl Fn(&[&str]) -> Option<Cow<'a, Value>>) -> bool {
    let Some(value) = at(&[legacy.key]).filter(|v| legacy.counts(v)) else { return false };
    let block = ["deploy", "resources", legacy.block];
    if !at(&block).is_some_and(|b| b.is_mapping()) {
        return false;
    }
    let leaf = at(&["deploy", "resources", legacy.block, legacy.leaf]);
    leaf.is_none_or(|leaf| legacy.same(&value, &leaf) != Some(true))
}

/// The value at `path` in a service's output: the input's with the changes written (an
/// empty mapping stands for one a change below `path` creates).
fn written<'a>(before: Option<&'a Mapping>, changes: &[&'a Change], path: &[&str]) -> Option<Cow<'a, Value>> {
    let mut value = before.and_then(|b| get(b, path)).map(Cow::Borrowed);
    for change in changes {
        let shared = change.path.len().min(path.len());
        if change.path[..shared].iter().zip(&path[..shared]).any(|(a, b)| a != b) {
            continue;
        }
        if change.path.len() <= path.len() {
            // The change holds the value (or a mapping above it), or deletes it.
            let rest = &path[change.path.len()..];
            value = match rest.is_empty() {
                _ if change.removes => None,
                true => Some(Cow::Borrowed(&*change.value)),
                false => change.value.as_mapping().and_then(|m| get(m, rest)).map(Cow::Borrowed),
            };
        } else if !value.as_ref().is_some_and(|v| v.is_mapping()) {
            // A change below the path: the output holds a mapping there.
            value = Some(Cow::Owned(Value::Mapping(Mapping::new())));
        }
    }
    value
}

fn get<'a>(map: &'a Mapping, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut here = lookup::get(map, first)?;
    for key in rest {
        here = lookup::get(here.as_mapping()?, key)?;
    }
    Some(here)
}

fn by_service(applied: &[Change]) -> Changed<'_> {
    let mut changed: Changed = IndexMap::default();
    // The plan lists a service's changes together: its entry is found once per run of them.
    let mut current: Option<(&str, usize)> = None;
    for change in applied.iter().filter(|c| !c.path.is_empty()) {
        let service = &*change.service;
        let index = match current {
            Some((name, index)) if name == service => index,
            _ => {
                let entry = changed.entry(service);
                let index = entry.index();
                entry.or_default();
                current = Some((service, index));
                index
            }
        };
        changed[index].push(change);
    }
    changed
}

/// One service's changes by the top-level key of the service they touch.
pub(super) fn keys<'a>(changes: &[&'a Change]) -> Keys<'a> {
    let mut keys = Keys::default();
    for change in changes {
        if let Some(key) = change.path.first() {
            keys.entry(key.as_str()).or_default().push(*change);
        }
    }
    keys
}

/// For tests and the fuzzer: the fast reading never accepts an output the whole reading
/// refuses (refusing one it accepts only costs time).
pub fn readings_agree(input: &Document, output_text: &str, applied: &[Change]) -> Result<(), String> {
    let changed = by_service(applied);
    match (sliced(input, output_text, &changed), whole(input, output_text, &changed, &[])) {
        (Some(Ok(_)), Err(whole)) => Err(format!("the fast reading accepts what the whole reading refuses: {whole}")),
        _ => Ok(()),
    }
}

/// The changed keys' new values, (service, key, value), for the schema check.
pub(super) type ChangedValues = Vec<(String, String, Value)>;

fn whole(
    input: &Document,
    output_text: &str,
    changed: &Changed,
    outside: &[(Vec<String>, Arc<Value>)],
) -> Result<ChangedValues, String> {
    let output = crate::document::semantic_value(&input.file, output_text).map_err(|e| e.to_string())?;
    let (Some(before), Some(after)) = (input.value.as_mapping(), output.as_mapping()) else {
        return Err("the output's top level is not a mapping".to_string());
    };
    if before.len() != after.len() {
        return Err("the output has other top-level keys than the input".to_string());
    }
    let (mut values, mut seen) = (Vec::new(), Seen::default());
    for (key, value) in before {
        let Some(out) = after.get(key) else {
            return Err(format!("`{}` is missing from the output", key_text(key)));
        };
        if key.as_str() != Some("services") {
            let written: Vec<_> =
                outside.iter().filter(|(p, _)| p.first().map(String::as_str) == key.as_str()).collect();
            let mut expected = value.clone();
            for (path, new) in &written {
                match expected.as_mapping_mut() {
                    Some(map) if path.len() > 1 => set_path(map, &path[1..], Value::clone(new)),
                    _ => return Err(format!("`{}` cannot hold a value written into it", key_text(key))),
                }
            }
            if expected != *out {
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
            values.extend(compare_service(name, service, out_service, changed, &mut seen)?);
        }
    }
    Ok(values)
}

/// One service of the output against the input's plus its changes; its changed values,
/// each distinct (key, value) once. Only the changed keys' input values are copied.
fn compare_service(
    name: &Value,
    service: &Value,
    out: &Value,
    changed: &Changed,
    seen: &mut Seen,
) -> Result<ChangedValues, String> {
    let Some(keys) = name.as_str().and_then(|n| changed.get(n)).map(|c| keys(c)) else {
        if service != out {
            return Err(format!("service `{}` changed without a planned change", key_text(name)));
        }
        return Ok(Vec::new());
    };
    let path = || vec!["services".to_string(), key_text(name)];
    let (Some(before), Some(after)) = (service.as_mapping(), out.as_mapping()) else {
        return Err(format!("service `{}` is not a mapping in the output", key_text(name)));
    };
    for (key, value) in before {
        if key.as_str().is_some_and(|k| keys.contains_key(k)) {
            continue;
        }
        match after.get(key) {
            Some(got) if got == value => {}
            Some(got) => {
                let mut path = path();
                path.push(key_text(key));
                return Err(first_difference(value, got, &mut path)
                    .unwrap_or_else(|| format!("service `{}` differs in the output", key_text(name))));
            }
            None => return Err(format!("`{}.{}` is missing from the output", path().join("."), key_text(key))),
        }
    }
    let mut values = Vec::new();
    for (key, changes) in &keys {
        let expected = expected(before, key, changes);
        let (want, got) = (expected.get(*key), after.get(*key));
        if want != got {
            let (want, got) = (Value::Mapping(expected), after.iter().filter(|(k, _)| k.as_str() == Some(*key)));
            let got = Value::Mapping(got.map(|(k, v)| (k.clone(), v.clone())).collect());
            return Err(first_difference(&want, &got, &mut path())
                .unwrap_or_else(|| format!("service `{}` differs in the output", key_text(name))));
        }
        if let Some(got) = got {
            if seen.entry(key.to_string()).or_default().insert(got.clone()) {
                values.push((key_text(name), key.to_string(), got.clone()));
            }
        }
    }
    if let Some(extra) =
        after.keys().find(|k| !before.contains_key(*k) && !k.as_str().is_some_and(|k| keys.contains_key(k)))
    {
        return Err(format!("the output has an unexpected `{}.{}`", path().join("."), key_text(extra)));
    }
    Ok(values)
}

/// `{key: value}` as the changes leave the service's `key`: only that key is copied.
pub(super) fn expected(before: &Mapping, key: &str, changes: &[&Change]) -> Mapping {
    let mut expected = Mapping::new();
    if let Some(old) = crate::document::lookup::get(before, key) {
        expected.insert(Value::from(key), old.clone());
    }
    for change in changes {
        match change.removes {
            true => remove_path(&mut expected, &change.path),
            false => set_path(&mut expected, &change.path, (*change.value).clone()),
        }
    }
    expected
}

/// The (key, value) pairs already collected for the schema check.
pub(super) type Seen = foldhash::HashMap<String, foldhash::HashSet<Value>>;

/// Service by service. None where the file's shape does not allow it (aliases, a flow
/// `services`, unusual indentation); Some(Err) where a part did not match, which the
/// whole reading then decides.
fn sliced(input: &Document, out: &str, changed: &Changed) -> Option<Result<ChangedValues, String>> {
    let layout = &input.layout;
    // Without a final line break, a `|+` block scalar that ends the file reads differently
    // in the two parsers (found by the fuzzer): such rare files are read whole.
    if layout.has_aliases() || !out.ends_with('\n') {
        return None;
    }
    let (services_key, services) = layout.get(layout.root, "services")?;
    let Kind::Map { flow: false, entries } = &layout.node(services).kind else { return None };
    let in_services = input.services()?;
    if layout.node(services_key).col != 1 || entries.is_empty() || entries.len() != in_services.len() {
        return None;
    }
    let indent = layout.node(entries[0].0).col - 1;
    let keys: Vec<&str> =
        entries.iter().map(|(k, _)| &input.text[layout.node(*k).start..layout.node(*k).end]).collect();
    if indent == 0 || entries.iter().any(|(k, _)| layout.node(*k).col - 1 != indent) {
        return None;
    }
    // Where each service's text starts in the output, and where `services` ends.
    let header = format!("{}:", &input.text[layout.node(services_key).start..layout.node(services_key).end]);
    let found = crate::document::slices::entries(out, &header, Some(indent))?;
    let (starts, end) = (&found.starts, found.end);
    let keys_match = starts.len() == keys.len()
        && starts.iter().zip(&keys).all(|(start, key)| {
            let rest = &out[start + indent..];
            rest.starts_with(key) && rest[key.len()..].starts_with(':')
        });
    if !keys_match {
        return None;
    }
    // Outside `services`: the rest of the file, read with `services` emptied.
    let rest_text = found.outside(out);
    // Everything but `services` equal, and `services` now empty.
    let same_rest = |rest: &Value| {
        let (Some(rest), Some(before)) = (rest.as_mapping(), input.value.as_mapping()) else { return false };
        rest.len() == before.len()
            && before.iter().all(|(k, v)| match k.as_str() {
                Some("services") => rest.get(k).is_some_and(Value::is_null),
                _ => rest.get(k) == Some(v),
            })
    };
    match crate::document::semantic_value(&input.file, &rest_text) {
        Ok(v) if same_rest(&v) => {}
        _ => return Some(Err("outside services".to_string())),
    }
    let bounds: Vec<(usize, usize)> =
        starts.iter().enumerate().map(|(i, s)| (*s, starts.get(i + 1).copied().unwrap_or(end))).collect();
    let names: Vec<(&Value, &Value)> = in_services.iter().collect();
    // Each half of the services, read as one run of events and matched as it is read.
    let check = |range: std::ops::Range<usize>| -> Result<ChangedValues, String> {
        let (mut values, mut seen) = (Vec::new(), Seen::default());
        let text = &out[bounds[range.start].0..bounds[range.end - 1].1];
        let mut matcher = super::stream::Matcher::new(text);
        matcher.services(&names[range], changed, &mut seen, &mut values)?;
        Ok(values)
    };
    let half = names.len() / 2;
    let (first, second) = if names.len() < 64 {
        (check(0..names.len()), Ok(Vec::new()))
    } else {
        std::thread::scope(|scope| {
            let second = scope.spawn(|| check(half..names.len()));
            let first = check(0..half);
            (first, second.join().unwrap_or_else(|_| Err("verifier thread stopped".to_string())))
        })
    };
    Some(first.and_then(|mut a| {
        a.extend(second?);
        Ok(a)
    }))
}

/// The schema and the restart check on the changed keys of the changed services. Many
/// services get the same values, so each distinct (key, value) is checked once.
fn check_changed(values: &ChangedValues) -> Result<(), String> {
    let (_, validator) = schema();
    let mut seen = std::collections::HashSet::new();
    let mut services = serde_json::Map::new();
    // Services by a plain stand-in name: only the values are checked here (a name the
    // schema would refuse belongs to a service the input check let pass, such as `!reset`).
    let mut names: Vec<&str> = Vec::new();
    for (name, key, value) in values {
        if key == "restart" && !value.as_str().is_some_and(valid_restart) {
            return Err(format!("services.{name}.restart is not a restart policy"));
        }
        if seen.insert((key, value)) {
            let index = names.iter().position(|n| n == name).unwrap_or_else(|| {
                names.push(name);
                names.len() - 1
            });
            let service = services.entry(format!("s{index}")).or_insert_with(|| Json::Object(serde_json::Map::new()));
            if let Json::Object(service) = service {
                service.insert(key.clone(), to_json(value, 3));
            }
        }
    }
    let instance = serde_json::json!({ "services": services });
    if validator.is_valid(&instance) {
        return Ok(());
    }
    let failure = validator
        .iter_errors(&instance)
        .find(|e| !matches!(e.instance().as_ref(), Json::String(s) if interpolated(s)))
        .map(|error| {
            let mut path: Vec<String> = error.instance_path().segments().map(|s| s.to_string()).collect();
            if let Some(name) = path.get(1).and_then(|s| s.strip_prefix('s')?.parse::<usize>().ok()) {
                path[1] = names.get(name).map_or_else(|| path[1].clone(), |n| n.to_string());
            }
            format!("{}: {error}", path.join("."))
        });
    failure.map_or(Ok(()), Err)
}

/// The edit layer's invariant for additions, for tests and the fuzzer: `output` is `input`
/// with text inserted and nothing removed or altered, every input byte still there in
/// order. The one removal allowed is the alias of `key: *alias`, which moves into
/// `<<: *alias` below. (A replacement may rewrite the value it replaces.)
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
    use crate::rule::{Fix, Rule, Severity};

    /// The verifier never reads a change's rule.
    pub(super) static TEST_RULE: Rule = Rule {
        id: "init/missing",
        severity: Severity::Warning,
        fix: Fix::Safe,
        summary: "",
        explanation: "",
        references: "",
    };

    const INPUT: &str = "services:\n  a:\n    image: x\n  b:\n    image: y\n";

    fn change(service: &str, path: &[&str], value: Value) -> Change {
        Change {
            service: service.into(),
            path: path.iter().map(|s| s.to_string()).collect(),
            value: value.into(),
            rule: &TEST_RULE,
            note: None,
            replaces: None,
            removes: false,
            message: None,
        }
    }

    #[test]
    fn verify_accepts_exactly_the_planned_change() {
        let doc = load("f.yml", INPUT.as_bytes()).expect("loads");
        let out = "services:\n  a:\n    image: x\n    init: true\n  b:\n    image: y\n";
        assert_eq!(verify(&doc, out, &[change("a", &["init"], Value::Bool(true))], &[]), Ok(()));
    }

    #[test]
    fn without_changes_the_output_must_be_the_input() {
        let doc = load("f.yml", INPUT.as_bytes()).expect("loads");
        assert_eq!(verify(&doc, INPUT, &[], &[]), Ok(()));
        let stray = INPUT.replace("image: y", "image: z");
        assert_eq!(verify(&doc, &stray, &[], &[]), Err("service `b` changed without a planned change".into()));
    }

    #[test]
    fn verify_catches_missing_extra_and_stray_edits() {
        let doc = load("f.yml", INPUT.as_bytes()).expect("loads");
        let planned = [change("a", &["init"], Value::Bool(true))];
        let missing = "services:\n  a:\n    image: x\n  b:\n    image: y\n";
        assert_eq!(verify(&doc, missing, &planned, &[]), Err("`services.a.init` is missing from the output".into()));
        let extra = "services:\n  a:\n    image: x\n    init: true\n    restart: always\n  b:\n    image: y\n";
        assert_eq!(verify(&doc, extra, &planned, &[]), Err("the output has an unexpected `services.a.restart`".into()));
        let stray = "services:\n  a:\n    image: x\n    init: true\n  b:\n    image: z\n";
        assert_eq!(verify(&doc, stray, &planned, &[]), Err("service `b` changed without a planned change".into()));
    }

    #[test]
    fn a_tab_in_indentation_after_a_moved_line_is_refused() {
        // A line indented with spaces and a tab is legal after a plain scalar whose block
        // allows its column, and refused by Compose's reader anywhere else (found by the
        // fuzzer: the fast reading accepted it after a quoted scalar written above it).
        let input = "services:\n  a:\n    image: x\n       \t# c\n  b:\n    image: y\n";
        let doc = load("f.yml", input.as_bytes()).expect("loads");
        let planned = [change("a", &["restart"], Value::from("unless-stopped"))];
        let kept = input.replace("\t# c\n", "\t# c\n    restart: \"unless-stopped\"\n");
        assert_eq!(verify(&doc, &kept, &planned, &[]), Ok(()));
        let moved = input.replace("    image: x\n", "    image: x\n    restart: \"unless-stopped\"\n");
        let err = verify(&doc, &moved, &planned, &[]).expect_err("Compose refuses the tab");
        assert!(err.contains("found character that cannot start any token"), "{err}");
        assert_eq!(readings_agree(&doc, &moved, &planned), Ok(()));
    }

    #[test]
    fn a_tag_dropped_from_the_output_is_caught() {
        // yaml_serde's accessors (`as_str`, `as_mapping`) see through a tag: the fast
        // reading took an untagged value for the tagged one it expected (found by the
        // fuzzer, `lgacy: !` over a plain scalar with its `!` removed).
        let cases = [
            ("\n    environment: !override\n      A: \"1\"", " !override"),
            ("\n    command: !t run", " !t"),
            ("\n    !t image: x", "!t "),
            (" !t\n    image: x", " !t"),
        ];
        for (service, tag) in cases {
            let input = format!("services:\n  a:{service}\n  b:\n    image: y\n");
            let doc = load("f.yml", input.as_bytes()).expect("loads");
            let planned = [change("b", &["init"], Value::Bool(true))];
            let out = format!("{input}    init: true\n");
            assert_eq!(verify(&doc, &out, &planned, &[]), Ok(()));
            let dropped = out.replacen(tag, "", 1);
            assert!(verify(&doc, &dropped, &planned, &[]).is_err(), "{dropped}");
            assert_eq!(readings_agree(&doc, &dropped, &planned), Ok(()));
        }
    }

    #[test]
    fn verify_checks_changed_keys_against_the_schema() {
        let doc = load("f.yml", INPUT.as_bytes()).expect("loads");
        let path = ["deploy", "resources", "limits", "memory"];
        let out = "services:\n  a:\n    image: x\n    deploy: {resources: {limits: {memory: 5}}}\n  b:\n    image: y\n";
        let err = verify(&doc, out, &[change("a", &path, Value::from(5))], &[]).expect_err("memory must be a string");
        assert!(err.starts_with("services.a.deploy.resources.limits.memory: 5 is not of type \"string\""), "{err}");
        let bad_restart = "services:\n  a:\n    image: x\n    restart: sometimes\n  b:\n    image: y\n";
        let err = verify(&doc, bad_restart, &[change("a", &["restart"], Value::from("sometimes"))], &[]);
        assert_eq!(err, Err("services.a.restart is not a restart policy".into()));
    }

    /// As `up` loads a file, Compose refuses a non-zero legacy key beside a block that does
    /// not repeat it: a change that makes one fails the proof; one the input had does not.
    #[test]
    fn a_written_block_beside_a_legacy_key_it_does_not_repeat_fails() {
        let input = "services:\n  a:\n    image: x\n    pids_limit: 100\n";
        let doc = load("f.yml", input.as_bytes()).expect("loads");
        let cpus = ["deploy", "resources", "limits", "cpus"];
        let out = format!("{input}    deploy: {{resources: {{limits: {{cpus: \"0.5\"}}}}}}\n");
        let err = verify(&doc, &out, &[change("a", &cpus, Value::from("0.5"))], &[]);
        let refused =
            "services.a: `pids_limit` beside a `deploy.resources.limits` block that does not repeat it, which \
                       Compose refuses";
        assert_eq!(err, Err(refused.to_string()));
        // The block repeats it: accepted.
        let pids = ["deploy", "resources", "limits", "pids"];
        let out = format!("{input}    deploy: {{resources: {{limits: {{cpus: \"0.5\", pids: 100}}}}}}\n");
        let planned = [change("a", &cpus, Value::from("0.5")), change("a", &pids, Value::from(100))];
        assert_eq!(verify(&doc, &out, &planned, &[]), Ok(()));
        // A reservations block is not compared with pids_limit.
        let memory = ["deploy", "resources", "reservations", "memory"];
        let out = format!("{input}    deploy: {{resources: {{reservations: {{memory: 128M}}}}}}\n");
        assert_eq!(verify(&doc, &out, &[change("a", &memory, Value::from("128M"))], &[]), Ok(()));
        // A legacy key written beside a block the user has.
        let input = "services:\n  a:\n    image: x\n    deploy: {resources: {limits: {memory: 1G}}}\n";
        let doc = load("f.yml", input.as_bytes()).expect("loads");
        let out = format!("{input}    pids_limit: 4096\n");
        let err = verify(&doc, &out, &[change("a", &["pids_limit"], Value::from(4096))], &[]);
        assert!(err.is_err_and(|e| e.contains("`pids_limit` beside")));
    }
}

#[cfg(test)]
mod sliced_tests {
    use super::tests::TEST_RULE;
    use super::*;
    use crate::document::load;
    use std::sync::Arc;

    fn file(n: usize, extra: &str) -> String {
        let mut text = String::from("name: big\nservices:\n");
        for i in 0..n {
            text.push_str(&format!("  s{i}:\n    image: x{i}\n"));
            if i == 70 {
                text.push_str(extra);
            }
        }
        text.push_str("volumes:\n  data: {}\n");
        text
    }

    fn init(i: usize) -> Change {
        Change {
            service: format!("s{i}").into(),
            path: vec!["init".to_string()].into(),
            value: Value::Bool(true).into(),
            rule: &TEST_RULE,
            note: None,
            replaces: None,
            removes: false,
            message: None,
        }
    }

    #[test]
    fn services_sharing_a_planned_value_are_each_held_to_it() {
        // Every service gets the same change (one shared value, as the plan makes them);
        // the verifier builds the expected value once, and must still read each service.
        let doc = load("f.yml", file(100, "").as_bytes()).expect("loads");
        let shared: Arc<Value> = Value::Bool(true).into();
        let planned: Vec<Change> = (0..100).map(|i| Change { value: shared.clone(), ..init(i) }).collect();
        let all = |i: usize, v: &str| format!("    image: x{i}\n    init: {v}\n");
        let mut good = String::from("name: big\nservices:\n");
        let mut bad = good.clone();
        for i in 0..100 {
            good.push_str(&format!("  s{i}:\n{}", all(i, "true")));
            bad.push_str(&format!("  s{i}:\n{}", all(i, if i == 70 { "false" } else { "true" })));
        }
        let tail = "volumes:\n  data: {}\n";
        assert_eq!(verify(&doc, &(good + tail), &planned, &[]), Ok(()));
        assert!(verify(&doc, &(bad + tail), &planned, &[]).is_err(), "s70's value differs from the shared one");
    }

    #[test]
    fn the_sliced_reading_accepts_the_planned_change_and_catches_any_other() {
        let doc = load("f.yml", file(100, "").as_bytes()).expect("loads");
        assert!(
            matches!(sliced(&doc, &doc.text, &IndexMap::default()), Some(Ok(_))),
            "a plain file reads service by service"
        );
        let planned = [init(70)];
        assert_eq!(verify(&doc, &file(100, "    init: true\n"), &planned, &[]), Ok(()));
        // A stray key, a key at the wrong depth, a change outside services.
        let stray = file(100, "    init: true\n    privileged: true\n");
        assert_eq!(
            verify(&doc, &stray, &planned, &[]),
            Err("the output has an unexpected `services.s70.privileged`".into())
        );
        let shallow = file(100, "    init: true\n  init: true\n");
        assert!(verify(&doc, &shallow, &planned, &[]).is_err(), "a key between services is caught");
        let outside = file(100, "    init: true\n").replace("name: big", "name: small");
        assert_eq!(verify(&doc, &outside, &planned, &[]), Err("`name` differs in the output".into()));
        let no_final_break = file(100, "");
        assert!(sliced(&doc, no_final_break.trim_end(), &IndexMap::default()).is_none(), "read whole");
        let unplanned = file(100, "    init: true\n").replace("image: x3\n", "image: x3\n    init: true\n");
        assert_eq!(
            verify(&doc, &unplanned, &planned, &[]),
            Err("service `s3` changed without a planned change".into())
        );
    }
}
