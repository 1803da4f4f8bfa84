//! What the file and each service say before any pass runs: includes, merge tags, skip
//! lists. Reported once here, so that no pass has to.

use super::PASSES;
use crate::document::project::{Note, NoteKind};
use crate::document::{kept_by_merge, lookup};
use crate::plan::{Finding, Plan};
use crate::rule::rules;
use yaml_serde::{Mapping, Value};

rules! {
    LOAD_FAILED = "load/failed", Error, None,
        "a file could not be read or parsed, so nothing in it was checked",
        "A file that cannot be read, is not valid YAML or is not a valid Compose file is reported as an error in \
         every format, at the place the reader stopped (SARIF: a failed invocation with a notification, and an \
         error result, since code scanning shows results and would close a file's alerts as fixed if they \
         vanished). A broken file never looks clean. Fix the error the message names; `check` exits 2.";
    LOAD_INCLUDE = "load/include", Warning, None,
        "an included file's services are not hardened here",
        "Compose reads `include:` files as part of the project, but their services live in those files, and a \
         change to them belongs there. Where a file is hardened alone (the library's single-file call), the files it \
         includes are not read: run compose-harden on the project (the command line reads them).";
    LOAD_PROJECT = "load/project", Info, None,
        "the files Compose loads together are hardened as one project",
        "Compose merges the `-f` files in order, else those COMPOSE_FILE names (from the shell or the project's \
         `.env`), else a base file and its default override beside it (`compose.override.yml`). Every service is \
         decided on what all of them give it merged: a value set in any of them counts as set. Additions go into the \
         file that first defines the service; a change to a value goes where that value is written.";
    LOAD_INCLUDED = "load/included", Info, None,
        "an included file's services are hardened in that file",
        "The services of an `include:` file are part of the project: what the other files say of them (a \
         `service_healthy` wait) counts, and a change to one is written into its own file (Compose refuses a root \
         file that redefines an included service).";
    LOAD_INCLUDE_UNKNOWN = "load/include-unknown", Warning, None,
        "an include cannot be read, so its services are not known",
        "An `include:` whose path uses a variable that is not set (an unset `${VAR:?message}` among them), or whose \
         file or env_file does not exist, is not read. Compose would refuse the project; the tool decides with what \
         it knows, says so, and no longer reports a dependency on a service nobody defines.";
    LOAD_SHARES_NAMES = "load/shares-names", Warning, None,
        "a file named alone shares service names with a base beside it",
        "A file such as `compose.prod.yml` that runs on its own is hardened as `docker compose -f` that file runs \
         it. Where a base beside it defines the same services, the two may also run together (`-f compose.yml -f \
         compose.prod.yml`): then a key added to the layer replaces the base's value when Compose merges them. \
         Harden them together with `apply -f compose.yml -f compose.prod.yml`.";
    LOAD_LAYER = "load/layer", Warning, None,
        "a file cannot run on its own: it is a layer over another",
        "A service with neither `image` nor `build`, or a `depends_on` on a service no file defines, makes Compose \
         refuse the file alone: it is a layer that runs over a base. `apply` refuses to harden it alone and names the \
         `-f` to add; `check` reports it. Name the files Compose runs together, in order (`-f base -f layer`).";
    LOAD_PROFILES = "load/profiles", Info, None,
        "services that run only under a Compose profile that is not turned on",
        "Compose starts a service with `profiles:` only when one of its profiles is turned on (`--profile`, or \
         COMPOSE_PROFILES in the shell or the project's `.env`; `*` turns on every one). The tool reads \
         COMPOSE_PROFILES as Compose does, hardens those services all the same (they run once turned on) and names \
         them, so a reader knows `up` will not start them.";
    LOAD_PROFILE_DEPENDENCY = "load/profile-dependency", Warning, None,
        "a service waits for one whose Compose profile is not turned on",
        "Compose refuses `up` (\"depends on undefined service\") when a service it starts has a required \
         `depends_on` on a service whose profiles are all off. Turn the profile on (`--profile`, COMPOSE_PROFILES), \
         give the dependency `required: false`, or put both in the same profile.";
    LOAD_UNKNOWN_SKIP = "load/unknown-skip", Warning, None,
        "x-compose-harden.skip names no pass or rule",
        "`x-compose-harden: {skip: [...]}` takes pass names (init, healthcheck, ...) and rule ids \
         (healthcheck/missing). An entry that names neither skips nothing, which is almost always a typo.";
    LOAD_MERGE_TAG = "load/merge-tag", Info, None,
        "a value is `!override` or `!reset`",
        "`!reset` drops a key and makes Compose use its default: the user chose that, so nothing is added under \
         it. Beside a `<<` that merges the same key in, Compose drops only the value written in the mapping and \
         keeps the merged one; nothing is added there either. `!override` makes Compose take the value as a \
         whole instead of merging it with another layer's (extends, override files; beside `<<` a key written \
         in the mapping replaces the merged one anyway); the value is hardened as written.";
    LOAD_RESET_SERVICE = "load/reset-service", Info, None,
        "the service is `!reset`",
        "Compose drops a service tagged `!reset`; it is left alone.";
    LOAD_NOT_MAPPING = "load/not-mapping", Warning, None,
        "the service is not a mapping",
        "A service that is not a mapping cannot be read; it is left alone.";
    LOAD_EXTENDS = "load/extends", Info, None,
        "what a service inherits through `extends` counts as set",
        "Compose merges an `extends` base into the service. What the base sets is the user's explicit choice and \
         is never overridden by the profile; only what neither sets is added.";
    LOAD_EXTENDS_UNREADABLE = "load/extends-unreadable", Warning, None,
        "an `extends` base cannot be read, so nothing is added",
        "When the file or service an `extends` names cannot be read, what the service inherits is unknown, and \
         any key added could contradict it. Nothing is added to that service.";
    LOAD_NOT_WRITTEN = "load/not-written", Warning, None,
        "a change could not be written into text other services share",
        "Where a change for one service would land in an anchor or a merged mapping that other services also \
         use, and they would not all get the same change, it is not written; the finding names the keys.";
}

/// Compose's merge tags, decided once for every pass. `!override` matters only where
/// Compose merges (extends, override files): in one file the value is the user's own, so
/// passes see it untagged and fill it as usual. `!reset` drops the key: the user chose
/// Compose's default, so nothing is added under it. Each is reported.
pub(super) fn report_tags(value: &mut Mapping, service: &str, path: &mut Vec<String>, plan: &mut Plan) {
    // Most services hold no tag at all: look before building any path.
    if !value.values().any(tagged) {
        return;
    }
    for (key, v) in value.iter_mut() {
        let Some(key) = key.as_str() else { continue };
        path.push(key.to_string());
        let message = match v {
            Value::Tagged(t) if t.tag == "override" && t.value.is_mapping() => {
                let inner = std::mem::replace(&mut t.value, Value::Null);
                *v = inner;
                Some(format!(
                    "`{}` is `!override`: Compose takes this value as a whole instead of merging it with another \
                     layer's (an `extends` base or an override file; beside `<<` a key written in the mapping replaces \
                     the merged one anyway); it is hardened as written",
                    path.join(".")
                ))
            }
            // Compose keeps what `<<` merges in for the key (its own `config` shows it).
            Value::Tagged(_) if kept_by_merge(v).is_some() => Some(format!(
                "`{}` is `!reset`, but `<<` merges a `{key}` into this mapping: Compose drops only the value written \
                 here and keeps the merged one; nothing is added under it",
                path.join(".")
            )),
            Value::Tagged(t) if t.tag == "reset" => Some(format!(
                "`{}` is `!reset`: Compose drops it and uses its default, as the user chose; nothing is added under it",
                path.join(".")
            )),
            _ => None,
        };
        if let Some(message) = message {
            plan.findings.push(Finding::new(&LOAD_MERGE_TAG, service, path.clone(), message));
        }
        if let Value::Mapping(m) = v {
            report_tags(m, service, path, plan);
        }
        path.pop();
    }
}

fn tagged(value: &Value) -> bool {
    match value {
        Value::Tagged(_) => true,
        Value::Mapping(m) => m.values().any(tagged),
        _ => false,
    }
}

/// The files a file hardened alone includes are not read: each include is reported.
pub(super) fn report_includes(includes: &Value, plan: &mut Plan) {
    let Value::Sequence(items) = includes else { return };
    for (i, item) in items.iter().enumerate() {
        let at = |more: &[String]| -> Vec<String> {
            ["include".to_string(), i.to_string()].into_iter().chain(more.iter().cloned()).collect()
        };
        let paths: Vec<(String, Vec<String>)> = match item {
            Value::String(s) => vec![(s.clone(), at(&[]))],
            Value::Mapping(m) => match lookup::get(m, "path") {
                Some(Value::String(s)) => vec![(s.clone(), at(&["path".to_string()]))],
                Some(Value::Sequence(p)) => p
                    .iter()
                    .enumerate()
                    .filter_map(|(j, s)| Some((s.as_str()?.to_string(), at(&["path".to_string(), j.to_string()]))))
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        for (path, position) in paths {
            plan.findings.push(Finding::new(
                &LOAD_INCLUDE,
                String::new(),
                position,
                format!(
                    "the services of the included `{path}` are not hardened here: run compose-harden on that file too"
                ),
            ));
        }
    }
}

/// What the project's loader found, as a finding of its rule.
pub(super) fn note(note: &Note) -> Finding {
    let rule = match note.kind {
        NoteKind::Project => &LOAD_PROJECT,
        NoteKind::Included => &LOAD_INCLUDED,
        NoteKind::IncludeUnknown => &LOAD_INCLUDE_UNKNOWN,
        NoteKind::SharesNames => &LOAD_SHARES_NAMES,
        NoteKind::Incomplete => &LOAD_LAYER,
        NoteKind::Profiles => &LOAD_PROFILES,
        NoteKind::ProfileDependency => &LOAD_PROFILE_DEPENDENCY,
    };
    Finding::new(rule, note.service.clone(), note.path.clone(), note.message.clone())
}

/// Reports pass names that match no pass (`service` is empty for the top-level list).
pub(super) fn check_skips(skips: &[String], service: &str, plan: &mut Plan) {
    let known = |s: &str| PASSES.iter().any(|p| p.name() == s) || super::find_rule(s).is_some();
    // Pointed at the entry itself (skip_list keeps the entries in order, one each).
    for (i, skip) in skips.iter().enumerate().filter(|(_, s)| !known(s)) {
        let names: Vec<&str> = PASSES.iter().map(|p| p.name()).collect();
        let path = vec!["x-compose-harden".to_string(), "skip".to_string(), i.to_string()];
        let message = format!(
            "unknown pass or rule `{skip}` in x-compose-harden.skip (passes: {}; `compose-harden rules` lists the rule ids)",
            names.join(", ")
        );
        plan.findings.push(Finding::new(&LOAD_UNKNOWN_SKIP, service, path, message));
    }
}

/// Pass names and rule ids; an entry may be `{id: ..., reason: ...}` (the reason is for the
/// reader of the file).
pub(super) fn skip_list(settings: Option<&Value>) -> Vec<String> {
    // One entry per item (an unreadable one is empty), so that an index points at its item.
    let entry = |item: &Value| match item {
        Value::String(s) => Some(s.clone()),
        Value::Mapping(m) => Some(lookup::get(m, "id").and_then(Value::as_str).unwrap_or("").to_string()),
        _ => Some(String::new()),
    };
    settings
        .and_then(|s| s.get("skip"))
        .and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(entry).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::passes::init::Init;
    use crate::passes::testing::{check, plan, profile};

    /// The load findings come with any pass: here `init`, whose own changes show what a
    /// skip list drops.
    const SETTINGS: &str = "init: {own_init_entrypoints: []}";

    #[test]
    fn skip_lists_include_and_merge_tags_are_reported_once() {
        let compose = "x-compose-harden: {skip: [nonsense]}
include: [db.yml]
services:
  skipped: {image: example/app:1, x-compose-harden: {skip: [init]}}
  by-rule: {image: example/app:1, x-compose-harden: {skip: [{id: init/missing, reason: tini in the image}]}}
  tagged: {image: example/app:1, logging: !reset null, deploy: !override {replicas: 2}}
";
        check(
            plan(&Init, &profile(SETTINGS), compose),
            r#"
+ tagged: init = true  [init/missing]
warning[load/include] (file) at include.0: the services of the included `db.yml` are not hardened here: run compose-harden on that file too
warning[load/unknown-skip] (file) at x-compose-harden.skip.0: unknown pass or rule `nonsense` in x-compose-harden.skip (passes: init, shell, healthcheck, probe, restart, stop, logging, measured, resources, limits, ulimits, security, dangerous, mounts, image, credentials, swarm; `compose-harden rules` lists the rule ids)
info[load/merge-tag] tagged at logging: `logging` is `!reset`: Compose drops it and uses its default, as the user chose; nothing is added under it
info[load/merge-tag] tagged at deploy: `deploy` is `!override`: Compose takes this value as a whole instead of merging it with another layer's (an `extends` base or an override file; beside `<<` a key written in the mapping replaces the merged one anyway); it is hardened as written
"#,
        );
    }

    /// A service that is not a mapping fails the schema check before a plan is used; the
    /// planner still leaves it alone and says so.
    #[test]
    fn services_left_alone_and_what_extends_gives_are_reported() {
        let compose = "services:
  base: {image: example/app:1, init: false}
  child: {extends: base}
  lost: {extends: {file: missing.yml, service: x}}
  reset: !reset
  text: not a mapping
";
        check(
            plan(&Init, &profile(SETTINGS), compose),
            r#"
info[load/extends] child at extends: extends `base` (compose.yml): what it inherits counts as set
warning[load/extends-unreadable] lost at extends: nothing added: `missing.yml` cannot be read: no such file, so what the service inherits is not known and any key added here could contradict it
info[load/reset-service] reset: the service is `!reset`: Compose drops it; left alone
warning[load/not-mapping] text: the service is not a mapping; left alone
"#,
        );
    }
}
