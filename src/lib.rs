//! compose-harden: hardens a Docker Compose file for production and changes nothing else.
//!
//! Text flows one way: [`document::load`] -> [`passes::plan`] -> [`gate`] -> [`edit::apply`]
//! -> [`validate`]; [`report`] turns the [`Outcome`] into what users read.

pub mod document;
pub mod edit;
pub mod error;
pub mod facts;
pub mod gate;
pub mod passes;
pub mod plan;
pub mod profile;
pub mod profiles;
pub mod quote;
pub mod report;
pub mod rule;
pub mod sizing;
pub mod suggest;
pub mod units;
pub mod validate;

pub use document::project::Project;
pub use error::Error;
pub use profile::Profile;

use document::lookup;
use plan::{Change, Finding, Plan, Span};
use std::sync::Arc;
use yaml_serde::Value;

/// The result of hardening one file.
pub struct Outcome {
    pub file: String,
    pub input: String,
    pub output: String,
    /// Where the output differs from the input, in order (for the diff).
    pub edits: Vec<edit::Edit>,
    pub changes: Vec<Change>,
    /// Findings, each with the node it points at.
    pub findings: Vec<(Finding, Option<Span>)>,
    /// Where each change lands (the deepest node of its path the input has), when
    /// [`Options::locate_changes`] asks for it; empty otherwise.
    pub change_spans: Vec<Option<Span>>,
    /// Additions written once into a block several services merge.
    pub hoisted: Vec<edit::Hoisted>,
    /// Unsafe fixes the gate held back (not written), for reports to show.
    pub held: Vec<Change>,
    /// The rules whose fixes counted as unsafe in this run (the profile may move a rule).
    pub unsafe_rules: Vec<&'static str>,
}

impl Outcome {
    pub fn changed(&self) -> bool {
        self.input != self.output
    }
}

/// What to do besides filling in what is missing, and what to decide from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Replace values the user set where the profile disagrees (each reported).
    pub enforce: bool,
    /// Place every change in the input, for reports that show what `apply` would write.
    pub locate_changes: bool,
    /// Write the fixes that may change what a service does (`cap_drop`, `read_only`).
    pub unsafe_fixes: bool,
    /// The image facts (`compose-harden.images.yml`) the passes decide from, where any.
    pub facts: Option<&'a facts::Facts>,
}

impl Options<'_> {
    fn inputs(&self) -> passes::Inputs<'_> {
        passes::Inputs { enforce: self.enforce, facts: self.facts }
    }
}

/// `bytes` is taken by value where the caller can give it (no copy of a large file).
pub fn harden<'a>(
    file: &str,
    bytes: impl Into<std::borrow::Cow<'a, [u8]>>,
    profile: &Profile,
) -> Result<Outcome, Error> {
    harden_with(file, bytes, profile, Options::default())
}

/// Loads the file, plans its changes, writes them and proves the result (see the steps
/// below); the hardened text with every change and finding placed in the input.
pub fn harden_with<'a>(
    file: &str,
    bytes: impl Into<std::borrow::Cow<'a, [u8]>>,
    profile: &Profile,
    options: Options<'_>,
) -> Result<Outcome, Error> {
    harden_document(document::load(file, bytes)?, Vec::new(), profile, options)
}

/// Hardens a project, the files Compose loads together (see [`document::project`]): an
/// outcome per file, in the project's order (its layers, then the files they include). A
/// project of one file without includes is that file hardened alone. The caller decides
/// what to do with a project that cannot run as loaded ([`Project::incomplete`]).
pub fn harden_project(mut project: Project, profile: &Profile, options: Options<'_>) -> Result<Vec<Outcome>, Error> {
    if project.is_single() {
        let notes = project.notes.iter().map(passes::note).collect();
        let Some(doc) = project.files.pop() else { return Ok(Vec::new()) };
        return harden_document(doc, notes, profile, options).map(|o| vec![o]);
    }
    harden_files(project, profile, options)
}

/// Hardens the project `spec` names into an overlay at `path` (`apply --overlay`): a layer
/// Compose merges last, holding what hardening adds, so that the project's own files stay
/// as they are. `existing` is the overlay's text where it exists: it counts as a layer (what
/// it sets is set) and is updated in place, its comments and keys kept; a new one starts with
/// `header`. It holds exactly what hardening in place writes (a change in-place editing
/// refuses, for text other services share, is not written here either). The outcomes are
/// the project's files (unchanged) and the overlay, last, whose input is its text before
/// (empty for a new one).
pub fn harden_overlay(
    spec: &document::spec::Spec,
    path: &str,
    existing: Option<&str>,
    header: &str,
    read: document::project::Read,
    profile: &Profile,
    options: Options<'_>,
) -> Result<Vec<Outcome>, Error> {
    let mut layered = spec.clone();
    layered.files.push(path.to_string());
    // The overlay's header names every layer with -f, as this project now is.
    layered.origin = document::spec::Origin::Named;
    let overlay_doc = |text: &str| document::load(path, text.as_bytes().to_vec());
    let with = |text: String| {
        move |file: &str| match file == path {
            true => Ok(text.clone().into_bytes()),
            false => read(file),
        }
    };
    // The services that get changes, planned with the overlay as it is.
    let before = match existing {
        Some(text) => {
            let reader = with(text.to_string());
            harden_project(Project::load(&layered, &reader)?, profile, options)?
        }
        None => harden_project(Project::load(spec, read)?, profile, options)?,
    };
    let mut services: Vec<String> = Vec::new();
    for change in before.iter().flat_map(|o| &o.changes) {
        if !services.iter().any(|s| **s == *change.service) {
            services.push(change.service.to_string());
        }
    }
    let written = before.iter().flat_map(|o| o.changes.iter().map(key)).collect();
    let text = match existing {
        Some(text) => {
            let doc = overlay_doc(text)?;
            validate::check(&doc)?;
            document::overlay::with_services(&doc, &services).map_err(|e| Error::new(path, e))?
        }
        None => document::overlay::skeleton(header, &services),
    };
    let reader = with(text);
    let mut project = Project::load(&layered, &reader)?;
    let overlay = project.layers - 1;
    project.write_into(overlay);
    project.written = Some(written);
    let mut outcomes = harden_files(project, profile, options)?;
    let mut outcome = outcomes.remove(overlay);
    // What the file held before, not the entries added to write into.
    outcome.input = existing.unwrap_or_default().to_string();
    outcome.edits.clear();
    outcomes.push(outcome);
    Ok(outcomes)
}

/// A project that cannot run as loaded (a layer named without its base, see
/// [`Project::incomplete`]), reported and not hardened: its first file unchanged, with a
/// finding that says why and which files to name.
pub fn layer_outcomes(mut project: Project) -> Vec<Outcome> {
    let Some(doc) = project.files.drain(..).next() else { return Vec::new() };
    let note = document::project::Note {
        kind: document::project::NoteKind::Incomplete,
        file: 0,
        service: String::new(),
        path: vec!["services".to_string()],
        message: project.incomplete.unwrap_or_default(),
    };
    let findings = place(&doc, vec![passes::note(&note)]);
    vec![Outcome {
        file: doc.file.clone(),
        input: doc.text.clone(),
        output: doc.text,
        edits: Vec::new(),
        changes: Vec::new(),
        findings,
        change_spans: Vec::new(),
        hoisted: Vec::new(),
        held: Vec::new(),
        unsafe_rules: Vec::new(),
    }]
}

/// One file: planned, edited, proven and its findings placed, with `notes` from its loading.
fn harden_document(
    doc: document::Document,
    notes: Vec<Finding>,
    profile: &Profile,
    options: Options<'_>,
) -> Result<Outcome, Error> {
    let file = doc.file.clone();
    let (mut plan, mut edited, held) = plan_and_edit(&doc, profile, options)?;
    plan.findings.splice(0..0, notes);
    let (applied, refused) = written(std::mem::take(&mut plan.changes), std::mem::take(&mut edited.refused));
    plan.findings.extend(refused_findings(&refused));
    plan.findings.extend(reported_changes(&applied));
    let findings = verify_and_place(&doc, &edited, &applied, plan.findings)?;
    let change_spans = match options.locate_changes {
        true => applied.iter().map(|c| locate(&doc, &c.service, &c.path)).collect(),
        false => Vec::new(),
    };
    Ok(Outcome {
        file,
        input: free(doc),
        output: edited.text,
        edits: edited.edits,
        changes: applied,
        findings,
        change_spans,
        hoisted: edited.hoisted,
        held,
        unsafe_rules: unsafe_rules(profile),
    })
}

/// Plans the changes, holds back the unsafe ones and writes the rest, while the schema
/// check runs on the other core: the plan, the edited text and the changes held back. The
/// check's error (the input's fault) comes before anything planned.
fn plan_and_edit(
    doc: &document::Document,
    profile: &Profile,
    options: Options<'_>,
) -> Result<(Plan, edit::Edited, Vec<Change>), Error> {
    let (checked, planned) = std::thread::scope(|scope| {
        let checked = scope.spawn(|| validate::check(doc));
        let inherited = document::extends::of(doc);
        let mut plan = passes::plan(doc, profile, options.inputs(), &inherited);
        let (held, held_findings) = gate::hold_back(&mut plan.changes, profile, options.unsafe_fixes);
        plan.findings.extend(held_findings);
        let edited = edit::apply(doc, &plan.changes);
        (checked.join(), (plan, edited, held))
    });
    checked.map_err(|_| Error::new(&doc.file, "internal error: the schema check stopped unexpectedly"))??;
    Ok(planned)
}

/// The planned changes split into what the text now holds and what the edit could not
/// write, with why. Usually nothing was refused, and the plan (large at thousands of
/// services) is kept as it is.
fn written(planned: Vec<Change>, refused: Vec<(usize, String)>) -> (Vec<Change>, Vec<(Change, String)>) {
    if refused.is_empty() {
        return (planned, Vec::new());
    }
    let mut reasons: std::collections::HashMap<usize, String> = refused.into_iter().collect();
    let (mut applied, mut refused) = (Vec::new(), Vec::new());
    for (i, change) in planned.into_iter().enumerate() {
        match reasons.remove(&i) {
            Some(reason) => refused.push((change, reason)),
            None => applied.push(change),
        }
    }
    (applied, refused)
}

/// The findings of written changes that say why (a repair, a replaced value), each linked
/// to its change. What the rule is about is then fixed: at most a warning.
fn reported_changes(applied: &[Change]) -> impl Iterator<Item = Finding> + '_ {
    applied.iter().enumerate().filter_map(|(i, c)| {
        // The message first: most changes have none, and the rest is not built for them.
        let message = c.message.as_deref()?.to_string();
        let finding = Finding::new(c.rule, c.service.to_string(), c.path.to_vec(), message);
        Some(Finding { change: Some(i), severity: finding.severity.min(rule::Severity::Warning), ..finding })
    })
}

/// Proves the output is the input plus exactly the written changes while the findings are
/// put in order and placed on the other core (the verifier reads in two halves after a
/// first step on one core). A failed proof is the tool's fault, unless the file itself
/// reads differently in the two readers (then the edit was placed by one reading and
/// planned on the other).
fn verify_and_place(
    doc: &document::Document,
    edited: &edit::Edited,
    applied: &[Change],
    findings: Vec<Finding>,
) -> Result<Vec<(Finding, Option<Span>)>, Error> {
    let file = doc.file.as_str();
    let outside: Vec<_> = edited.hoisted.iter().flat_map(|h| h.values.iter().cloned()).collect();
    let (verified, placed) = std::thread::scope(|scope| {
        let placed = scope.spawn(|| place(doc, findings));
        (validate::verify(doc, &edited.text, applied, &outside), placed.join())
    });
    verified.map_err(|detail| match validate::first_disagreement(doc) {
        Some((line, col)) => Error::at(file, line, col, READERS_DIFFER),
        None => Error::new(
            file,
            format!(
                "internal error: the hardened output failed its own check ({detail}); nothing was written. \
                 Please report this with the input file"
            ),
        ),
    })?;
    placed.map_err(|_| Error::new(file, "internal error: placing the findings stopped unexpectedly"))
}

/// The findings in file order of their services, then in pass order, each with the node it
/// points at.
fn place(doc: &document::Document, mut findings: Vec<Finding>) -> Vec<(Finding, Option<Span>)> {
    let services: foldhash::HashMap<&str, usize> = doc
        .services()
        .map(|s| s.keys().filter_map(|k| k.as_str()).enumerate().map(|(i, k)| (k, i + 1)).collect())
        .unwrap_or_default();
    findings.sort_by_cached_key(|f| (services.get(f.service.as_str()).copied().unwrap_or(0), passes::order(f.pass())));
    findings
        .into_iter()
        .map(|f| {
            let at = locate(doc, &f.service, &f.path);
            (f, at)
        })
        .collect()
}

/// The input's text, with its layout and semantic view freed before the caller renders a
/// report or a diff, which reuse their memory. A large file's (a million small values at
/// 10,000 services, about 25 ms to free) are freed on another core meanwhile.
fn free(doc: document::Document) -> String {
    let document::Document { text, layout, value, .. } = doc;
    if text.len() >= document::FREE_APART_FROM {
        std::thread::spawn(move || drop((layout, value)));
    }
    text
}

/// A project of several files: its services planned as Compose merges them, each change
/// routed to the file it belongs in, each file edited and proven on its own, and then what
/// the merged project becomes proven too.
fn harden_files(project: Project, profile: &Profile, options: Options<'_>) -> Result<Vec<Outcome>, Error> {
    // An overlay's empty entries are not services yet (its text was checked before they
    // were added, and what is written into them is checked by the verifier).
    for (_, doc) in project.files.iter().enumerate().filter(|(i, _)| project.overlay != Some(*i)) {
        validate::check(doc)?;
    }
    let model = document::Model {
        services: Some(&project.services),
        settings: project.files.first().and_then(|d| d.value.get("x-compose-harden")),
        inherited: &project.inherited,
        unread_includes: None,
        top: project.files.first().map(|d| &d.value),
    };
    let mut plan = passes::plan_model(&model, profile, options.inputs());
    let (held, held_findings) = gate::hold_back(&mut plan.changes, profile, options.unsafe_fixes);
    plan.findings.extend(held_findings);
    let (routes, tagged) = route(&project, &plan.changes);
    let count = project.files.len();
    let mut changes: Vec<Vec<Change>> = vec![Vec::new(); count];
    let mut findings: Vec<Vec<Finding>> = vec![Vec::new(); count];
    let mut unwritable = Vec::new();
    // The changes written whole into the overlay (`!override`), by service and keys.
    let mut overrides: Vec<(String, Vec<String>)> = Vec::new();
    for ((mut change, to), tag) in plan.changes.into_iter().zip(routes).zip(tagged) {
        match to {
            Some(file) => {
                if tag {
                    overrides.push((change.service.to_string(), change.path.to_vec()));
                }
                // A value written in another file is set here anew: an addition to this one.
                if change.replaces.is_some()
                    && !change.removes
                    && !holds(&project.files[file], &change.service, &change.path)
                {
                    change.replaces = None;
                }
                changes[file].push(change);
            }
            None if change.removes => {
                let reason = match project.overlay {
                    Some(_) => "an overlay adds and replaces, it does not delete what the files below it set",
                    None => "more than one file of the project sets it",
                };
                unwritable.push((change, reason.to_string()));
            }
            None => unwritable.push((change, UNWRITABLE.to_string())),
        }
    }

    for note in &project.notes {
        let finding = passes::note(note);
        let file = if note.service.is_empty() { note.file.min(count - 1) } else { finding_file(&project, &finding) };
        findings[file].push(finding);
    }
    for finding in plan.findings.into_iter().chain(refused_findings(&unwritable)) {
        findings[finding_file(&project, &finding)].push(finding);
    }
    let mut held_by_file: Vec<Vec<Change>> = vec![Vec::new(); count];
    for change in held {
        held_by_file[home(&project, &change.service)].push(change);
    }
    let edit_file = |doc: &document::Document, changes: &[Change]| match changes.is_empty() {
        true => edit::Edited { text: doc.text.clone(), edits: Vec::new(), refused: Vec::new(), hoisted: Vec::new() },
        false => edit::apply(doc, changes),
    };
    let mut edits: Vec<edit::Edited> = project.files.iter().zip(&changes).map(|(d, c)| edit_file(d, c)).collect();
    // A key deleted in one file whose fix is not written in another is kept (as each file's
    // edit keeps one whose fix it could not write), and its file edited again.
    let mut failed: Vec<(Arc<str>, &str)> =
        unwritable.iter().map(|(c, _)| c).filter(|c| !c.removes).map(pair).collect();
    for (file, edited) in changes.iter().zip(&edits) {
        failed.extend(edited.refused.iter().map(|(i, _)| &file[*i]).filter(|c| !c.removes).map(pair));
    }
    for (f, doc) in project.files.iter().enumerate() {
        let refused: Vec<usize> = edits[f].refused.iter().map(|(i, _)| *i).collect();
        let held: Vec<usize> = (0..changes[f].len())
            .filter(|i| changes[f][*i].removes && !refused.contains(i) && failed.contains(&pair(&changes[f][*i])))
            .collect();
        if held.is_empty() {
            continue;
        }
        let kept: Vec<(Change, String)> =
            held.into_iter().rev().map(|i| (changes[f].remove(i), edit::UNSUPPORTED.to_string())).collect();
        findings[f].extend(refused_findings(&kept));
        edits[f] = edit_file(doc, &changes[f]);
    }
    let mut outcomes = Vec::with_capacity(count);
    let mut outputs: Vec<Option<Value>> = vec![None; count];
    for (i, (((doc, mut changes), mut edited), (mut found, held))) in
        project.files.iter().zip(changes).zip(edits).zip(findings.into_iter().zip(held_by_file)).enumerate()
    {
        let (applied, refused) = written(std::mem::take(&mut changes), std::mem::take(&mut edited.refused));
        found.extend(refused_findings(&refused));
        found.extend(reported_changes(&applied));
        let found = verify_and_place(doc, &edited, &applied, found)?;
        if project.overlay == Some(i) && !overrides.is_empty() {
            let written: Vec<_> = overrides.iter().filter(|o| applied.iter().any(|c| key(c) == **o)).cloned().collect();
            edited.text = document::overlay::tag_overrides(&doc.file, &edited.text, &written).map_err(|e| {
                Error::new(
                    &doc.file,
                    format!("internal error: the overlay's `!override` tags: {e}; nothing was written"),
                )
            })?;
        }
        if !applied.is_empty() {
            outputs[i] = Some(document::semantic_value(&doc.file, &edited.text)?);
        }
        let change_spans = match options.locate_changes {
            true => applied.iter().map(|c| locate(doc, &c.service, &c.path)).collect(),
            false => Vec::new(),
        };
        outcomes.push(Outcome {
            file: doc.file.clone(),
            input: doc.text.clone(),
            output: edited.text,
            edits: edited.edits,
            changes: applied,
            findings: found,
            change_spans,
            hoisted: edited.hoisted,
            held,
            unsafe_rules: unsafe_rules(profile),
        });
    }
    prove_merged(&project, &outcomes, &outputs).map_err(|detail| {
        Error::new(
            &project.files[0].file,
            format!(
                "internal error: the hardened project, merged as Compose merges it, is not the project plus the \
                 planned changes ({detail}); nothing was written. Please report this with the input files"
            ),
        )
    })?;
    Ok(outcomes)
}

/// A change's service and rule: a removal is written only with the rest of its fix.
fn pair(change: &Change) -> (Arc<str>, &'static str) {
    (change.service.clone(), change.rule.id)
}

/// A change as the overlay's run knows it from the run in place: its service and keys.
fn key(change: &Change) -> (String, Vec<String>) {
    (change.service.to_string(), change.path.to_vec())
}

/// Why a change is not written anywhere.
const UNWRITABLE: &str = "no file of the project can hold it such that Compose's merge of the files keeps it";

/// The file of the project each change is written into (None: none keeps it, merged). A
/// change to a value the user wrote goes where it is written (the last file that sets
/// its key); an addition into the service's home, the first file that defines it (the
/// base; an included service's own file), unless Compose's merge would drop it there
/// (a later layer's `!override`, a logging driver that differs): then into a later file
/// that keeps it.
fn route(project: &Project, changes: &[Change]) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut routes = vec![None; changes.len()];
    let mut tagged = vec![false; changes.len()];
    let mut by_service: indexmap::IndexMap<&str, Vec<usize>> = indexmap::IndexMap::new();
    for (i, change) in changes.iter().enumerate() {
        by_service.entry(&change.service).or_default().push(i);
    }
    for (service, indices) in by_service {
        let Some(parts) = project.parts.get(service) else { continue };
        if let Some(overlay) = project.overlay {
            // Everything goes into the overlay, where the merge keeps it: what hardening in
            // place writes, so that the two give the same project.
            // A value the layers below hold is replaced whole (`!override`) where merging would
            // keep some of theirs (a list appended to, a mapping merged).
            for i in indices {
                if project.written.as_ref().is_some_and(|w| !w.contains(&key(&changes[i]))) {
                    continue;
                }
                if kept(project, service, changes, &[(i, overlay, false)]) {
                    routes[i] = Some(overlay);
                } else if kept(project, service, changes, &[(i, overlay, true)]) {
                    (routes[i], tagged[i]) = (Some(overlay), true);
                }
            }
            continue;
        }
        let Some(home) = parts.first().map(|p| p.file) else { continue };
        let first_choice = |c: &Change| match c.replaces.is_some() {
            true => parts
                .iter()
                .rev()
                .find(|p| c.path.first().is_some_and(|k| lookup::field(&p.value, k).is_some()))
                .map_or(home, |p| p.file),
            false => home,
        };
        let chosen: Vec<(usize, usize, bool)> =
            indices.iter().map(|&i| (i, first_choice(&changes[i]), false)).collect();
        if kept(project, service, changes, &chosen) {
            for (i, file, _) in chosen {
                routes[i] = Some(file);
            }
            continue;
        }
        // Each change on its own: the first file, of its first choice and then the later
        // files first, where the merge keeps it.
        for (i, first, _) in chosen {
            let later = parts.iter().rev().map(|p| p.file);
            routes[i] =
                std::iter::once(first).chain(later).find(|file| kept(project, service, changes, &[(i, *file, false)]));
        }
    }
    (routes, tagged)
}

/// Whether the changes at `chosen` (index, file, tagged `!override`), written into those
/// files' parts of the service, are all in the service as Compose merges the parts.
fn kept(project: &Project, service: &str, changes: &[Change], chosen: &[(usize, usize, bool)]) -> bool {
    let Some(parts) = project.parts.get(service) else { return false };
    let mut values: Vec<Value> = parts.iter().map(|p| p.value.clone()).collect();
    for (i, file, tag) in chosen {
        let Some(at) = parts.iter().position(|p| p.file == *file) else { return false };
        // An item of a list is changed only in the file that writes it: another file's
        // list is merged with it, not into it.
        if through_list(project.services.get(service), &changes[*i].path)
            && value_at(&parts[at].value, &changes[*i].path).is_none()
        {
            return false;
        }
        let Some(map) = values[at].as_mapping_mut() else { return false };
        if changes[*i].removes {
            document::lookup::remove_path(map, &changes[*i].path);
            continue;
        }
        let value = (*changes[*i].value).clone();
        let value = match tag {
            true => Value::Tagged(Box::new(yaml_serde::value::TaggedValue {
                tag: yaml_serde::value::Tag::new("override"),
                value,
            })),
            false => value,
        };
        document::lookup::set_path(map, &changes[*i].path, value);
    }
    // Each file must still be one Compose reads on its own.
    for (value, part) in values.iter().zip(parts) {
        if let (Some(after), Some(before)) = (value.as_mapping(), part.value.as_mapping()) {
            if after != before && validate::legacy_conflict_added(before, after) {
                return false;
            }
        }
    }
    let Some(merged) = document::project::merge_parts(&values).map(untag_overrides) else { return false };
    chosen.iter().all(|(i, ..)| value_at(&merged, &changes[*i].path) == changes[*i].new_value())
}

/// Whether `path` below a service runs through a list (an item's key).
fn through_list(service: Option<&Value>, path: &[String]) -> bool {
    (1..path.len()).any(|n| service.and_then(|s| value_at(s, &path[..n])).is_some_and(Value::is_sequence))
}

/// The value at `path` below a service (a list item by its index), through tags.
fn value_at<'v>(service: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut here = service;
    for key in path {
        let inner = match here {
            Value::Tagged(t) => &t.value,
            other => other,
        };
        here = match inner {
            Value::Sequence(items) => items.get(key.parse::<usize>().ok()?)?,
            other => lookup::field(other, key)?,
        };
    }
    Some(here)
}

/// The file additions to `service` go into: the first that defines it.
fn home(project: &Project, service: &str) -> usize {
    project.parts.get(service).and_then(|p| p.first()).map_or(0, |p| p.file)
}

/// The file a finding is shown in: the last file of its service that holds its whole path,
/// else the service's home (the first file for the project's own findings).
fn finding_file(project: &Project, finding: &Finding) -> usize {
    if finding.service.is_empty() {
        return 0;
    }
    let Some(parts) = project.parts.get(finding.service.as_str()) else { return 0 };
    if !finding.path.is_empty() {
        if let Some(p) = parts.iter().rev().find(|p| holds(&project.files[p.file], &finding.service, &finding.path)) {
            return p.file;
        }
    }
    home(project, &finding.service)
}

/// Whether a file's own text (its `<<` merged) holds `path` below `service`.
fn holds(doc: &document::Document, service: &str, path: &[String]) -> bool {
    let service = doc.services().and_then(|s| lookup::get(s, service));
    service.is_some_and(|s| value_at(s, path).is_some())
}

/// Proves that every changed service, merged from the files as written, is the merged
/// input plus exactly its changes (each file alone was proven already).
fn prove_merged(project: &Project, outcomes: &[Outcome], outputs: &[Option<Value>]) -> Result<(), String> {
    let mut expected: indexmap::IndexMap<&str, Value> = indexmap::IndexMap::new();
    for change in outcomes.iter().flat_map(|o| &o.changes) {
        let service = &*change.service;
        if !expected.contains_key(service) {
            let merged = project.services.get(service).cloned().ok_or(format!("no service `{service}`"))?;
            expected.insert(service, document::project::plain(merged));
        }
        if let Some(Value::Mapping(map)) = expected.get_mut(service) {
            match change.removes {
                true => document::lookup::remove_path(map, &change.path),
                false => document::lookup::set_path(map, &change.path, (*change.value).clone()),
            }
        }
    }
    for (service, want) in expected {
        let parts = project.parts.get(service).ok_or(format!("no parts of `{service}`"))?;
        let mut values = Vec::with_capacity(parts.len());
        for part in parts {
            values.push(match &outputs[part.file] {
                Some(output) => project.part_from(part.file, output, service).ok_or(format!("`{service}` is gone"))?,
                None => part.value.clone(),
            });
        }
        // An `!override` in a file merged first has nothing to override: it is compared as
        // the value it tags, which the merge makes of it once another layer follows.
        let got = document::project::merge_parts(&values).map(untag_overrides);
        if got != Some(untag_overrides(want)) {
            return Err(format!("service `{service}` differs"));
        }
    }
    Ok(())
}

/// `value` with every `!override` tag taken off what it tags.
fn untag_overrides(value: Value) -> Value {
    match value {
        Value::Tagged(t) if t.tag == "override" => untag_overrides(t.value),
        Value::Mapping(m) => Value::Mapping(m.into_iter().map(|(k, v)| (k, untag_overrides(v))).collect()),
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(untag_overrides).collect()),
        other => other,
    }
}

/// The rules whose fixes count as unsafe under `profile`.
fn unsafe_rules(profile: &Profile) -> Vec<&'static str> {
    let all = passes::all_rules().iter();
    all.filter(|r| gate::applicability(r, profile) == rule::Fix::Unsafe).map(|r| r.id).collect()
}

/// Why a file whose two readings differ is refused.
const READERS_DIFFER: &str = "this part of the file reads differently in the two YAML readers the tool checks with \
    (Docker Compose reads it as libyaml does); nothing was written; write it more plainly \
    (an anchor name of letters, digits, `-` and `_`; a value on its key's line or indented under it)";

/// One finding per service, pass and reason, naming every key the edit could not write. A
/// key not deleted, or an error's fix not written, leaves what the rule is about in place:
/// reported under that rule.
fn refused_findings(refused: &[(Change, String)]) -> Vec<Finding> {
    let mut grouped: Vec<(&Change, &String, Vec<String>)> = Vec::new();
    let mut kept = Vec::new();
    for (change, reason) in refused {
        if change.removes || change.rule.severity == rule::Severity::Error {
            let key = change.path.join(".");
            let (done, todo) = match (change.removes, &change.replaces) {
                (true, _) => ("deleted", "delete"),
                (false, Some(_)) => ("changed", "change"),
                (false, None) => ("written", "write"),
            };
            let message = format!("{}; `{key}` not {done}: {reason}; {todo} it by hand", change.rule.summary);
            kept.push(Finding::new(change.rule, change.service.to_string(), change.path.to_vec(), message));
            continue;
        }
        let key = change.path.join(".");
        match grouped
            .iter_mut()
            .find(|(c, r, _)| c.service == change.service && c.pass() == change.pass() && *r == reason)
        {
            Some((_, _, keys)) => keys.push(key),
            None => grouped.push((change, reason, vec![key])),
        }
    }
    grouped
        .into_iter()
        .map(|(change, reason, keys)| {
            Finding::new(
                &passes::LOAD_NOT_WRITTEN,
                change.service.to_string(),
                Vec::new(),
                format!("not written: {}: {reason}", keys.join(", ")),
            )
        })
        .chain(kept)
        .collect()
}

/// Where a finding or change points: the deepest existing node on its path (the top level
/// for one without a service).
fn locate(doc: &document::Document, service: &str, path: &[String]) -> Option<Span> {
    let prefix = ["services".to_string(), service.to_string()];
    let prefix = if service.is_empty() { &[][..] } else { &prefix[..] };
    let path: Vec<String> = prefix.iter().chain(path).cloned().collect();
    let node = doc.layout.locate(&path)?;
    // The end's line and column, counted over the node's own text.
    let text = doc.text.get(node.start..node.end).unwrap_or("").trim_end();
    let breaks = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let last = text.rfind('\n').map_or(text, |i| &text[i + 1..]);
    let end_col = if breaks == 0 { node.col + last.chars().count() } else { last.chars().count() + 1 };
    Some(Span {
        start: node.start,
        end: node.start + text.len(),
        line: node.line,
        col: node.col,
        end_line: node.line + breaks,
        end_col,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use document::spec::{Origin, Spec};

    /// A project of `files` (name, text), read from memory.
    fn project(files: &[(&str, &str)]) -> Project {
        let spec = Spec {
            files: files.iter().map(|(n, _)| n.to_string()).collect(),
            directory: std::path::PathBuf::from("."),
            env: document::env::Env::given([]),
            origin: Origin::Named,
            beside: None,
        };
        let texts: Vec<(String, String)> = files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let read = move |file: &str| {
            let found = texts.iter().find(|(n, _)| n == file).map(|(_, t)| t.clone().into_bytes());
            found.ok_or_else(|| Error::new(file, "no such file"))
        };
        Project::load(&spec, &read).expect("loads")
    }

    fn change(service: &str, path: &[&str], value: &str, replaces: Option<&str>) -> Change {
        let parse = |t: &str| yaml_serde::from_str::<Value>(t).expect("yaml");
        Change {
            service: service.into(),
            path: path.iter().map(|s| s.to_string()).collect(),
            value: std::sync::Arc::new(parse(value)),
            rule: &passes::LOAD_NOT_WRITTEN,
            note: None,
            replaces: replaces.map(|r| Box::new(parse(r))),
            removes: false,
            message: None,
        }
    }

    #[test]
    fn changes_go_where_the_merge_keeps_them() {
        let p = project(&[
            ("base.yml", "services:\n  web:\n    image: x\n    logging: {driver: syslog}\n"),
            ("prod.yml", "services:\n  web:\n    logging: {driver: json-file}\n    command: [a]\n"),
        ]);
        let changes = [
            change("web", &["init"], "true", None),
            // Into the base the differing driver would drop it: into the layer that has it.
            change("web", &["logging", "options", "max-size"], "10m", None),
            // A value the layer writes is changed there.
            change("web", &["command"], "[b]", Some("[a]")),
        ];
        let (routes, tagged) = route(&p, &changes);
        assert_eq!(routes, [Some(0), Some(1), Some(1)]);
        assert_eq!(tagged, [false, false, false]);
    }

    #[test]
    fn an_overlay_replaces_a_list_whole_where_a_merge_would_append() {
        let mut p = project(&[
            ("base.yml", "services:\n  web:\n    image: x\n    cap_add: [A]\n    command: [a]\n"),
            ("o.yml", "services:\n  web:\n"),
        ]);
        p.write_into(1);
        let changes = [
            change("web", &["cap_add"], "[B]", Some("[A]")),
            // `command` is replaced by the merge itself: no tag.
            change("web", &["command"], "[b]", Some("[a]")),
            change("web", &["init"], "true", None),
        ];
        let (routes, tagged) = route(&p, &changes);
        assert_eq!(routes, [Some(1), Some(1), Some(1)]);
        assert_eq!(tagged, [true, false, false]);
    }

    #[test]
    fn a_deploy_block_goes_where_its_file_still_loads() {
        let p = project(&[
            ("base.yml", "services:\n  db:\n    image: y\n    mem_limit: 1g\n"),
            ("prod.yml", "services:\n  db:\n    mem_limit: 2g\n"),
        ]);
        // Beside `mem_limit: 1g` in the base, Compose would refuse the base on its own.
        let changes = [change("db", &["deploy", "resources", "limits", "memory"], "2g", None)];
        let (routes, _) = route(&p, &changes);
        assert_eq!(routes, [Some(1)]);
    }

    #[test]
    fn a_key_is_deleted_in_the_one_file_that_sets_it() {
        let profile: Profile =
            yaml_serde::from_str("swarm: {refused: [mem_limit], ignored: [], source: measured}").expect("profile");
        let p = project(&[
            ("base.yml", "services:\n  app:\n    image: x\n  db:\n    image: y\n    mem_limit: 1g\n"),
            ("prod.yml", "services:\n  app:\n    mem_limit: 512m\n  db:\n    mem_limit: 2g\n"),
        ]);
        let options = Options { enforce: true, ..Options::default() };
        let outcomes = harden_project(p, &profile, options).expect("hardens");
        let outputs: Vec<&str> = outcomes.iter().map(|o| o.output.as_str()).collect();
        // `app`'s key goes from the layer (left a mapping), its Swarm spelling into the
        // base; `db`'s is set in both files: it stays, and its spelling goes beside the
        // value the merge keeps, so that each file still loads on its own.
        assert_eq!(
            outputs,
            [
                "services:\n  app:\n    image: x\n    deploy:\n      resources:\n        limits:\n          memory: 512m\n  db:\n    image: y\n    mem_limit: 1g\n",
                "services:\n  app: {}\n  db:\n    mem_limit: 2g\n    deploy:\n      resources:\n        limits:\n          memory: 2g\n",
            ]
        );
        let db = outcomes[1].findings.iter().find(|(f, _)| f.service == "db").map(|(f, _)| f.message.as_str());
        assert_eq!(
            db,
            Some(
                "`docker stack deploy` refuses this key: the file does not deploy; `mem_limit` not deleted: more than \
                 one file of the project sets it; delete it by hand"
            )
        );
    }

    // Deleting a key (`--enforce`), in the edit layer's own terms.

    /// `text` with `keys` of `service` (dotted paths) deleted, or why not.
    fn removed(text: &str, service: &str, keys: &[&str]) -> Result<String, String> {
        removed_with(text, service, keys, &[])
    }

    /// The same, with `added` (dotted path, value) written too.
    fn removed_with(text: &str, service: &str, keys: &[&str], added: &[(&str, &str)]) -> Result<String, String> {
        let doc = crate::document::load("t.yml", text.as_bytes()).expect("loads");
        fn path(p: &str) -> Vec<&str> {
            p.split('.').collect()
        }
        let mut changes: Vec<Change> = added.iter().map(|(p, v)| change(service, &path(p), v, None)).collect();
        for key in keys {
            changes.push(Change { removes: true, ..change(service, &path(key), "null", Some("null")) });
        }
        let edited = edit::apply(&doc, &changes);
        match edited.refused.first() {
            Some((_, why)) => Err(why.clone()),
            None => Ok(edited.text),
        }
    }

    #[test]
    fn a_block_entry_goes_with_its_value_and_its_own_comments() {
        let text = "services:
  app:
    image: x
    # the cap
    mem_limit: 1g  # one gig
    # mem_limit: 2g
    cpus: 0.5
    ports:
      - 80
      # - 81

    # about the end
    command: [run]
";
        assert_eq!(
            removed(text, "app", &["mem_limit", "ports"]).as_deref(),
            Ok("services:
  app:
    image: x
    cpus: 0.5

    # about the end
    command: [run]
")
        );
        // A key commented out is that key's: it stays with it.
        assert_eq!(
            removed(text, "app", &["cpus"]).as_deref(),
            Ok("services:
  app:
    image: x
    # the cap
    mem_limit: 1g  # one gig
    # mem_limit: 2g
    ports:
      - 80
      # - 81

    # about the end
    command: [run]
")
        );
        let block = "services:\n  app:\n    image: x\n    labels:\n      a: |+\n        text\n\n    cpus: 1\n";
        assert_eq!(removed(block, "app", &["labels"]).as_deref(), Ok("services:\n  app:\n    image: x\n    cpus: 1\n"));
    }

    #[test]
    fn a_flow_entry_goes_with_its_comma() {
        let one = "services:\n  app: {mem_limit: 1g, image: x, cpus: 1}\n";
        assert_eq!(removed(one, "app", &["mem_limit"]).as_deref(), Ok("services:\n  app: {image: x, cpus: 1}\n"));
        assert_eq!(removed(one, "app", &["cpus"]).as_deref(), Ok("services:\n  app: {mem_limit: 1g, image: x}\n"));
        assert_eq!(removed(one, "app", &["image", "cpus"]).as_deref(), Ok("services:\n  app: {mem_limit: 1g}\n"));
        assert_eq!(removed(one, "app", &["mem_limit", "image", "cpus"]).as_deref(), Ok("services:\n  app: {}\n"));
        let lines = "services:\n  app: {\n    image: x,  # the image\n    mem_limit: 1g,  # cap\n    # cpus\n    cpus: 1\n  }\n";
        assert_eq!(
            removed(lines, "app", &["mem_limit"]).as_deref(),
            Ok("services:\n  app: {\n    image: x,  # the image\n    # cpus\n    cpus: 1\n  }\n")
        );
        assert_eq!(
            removed(lines, "app", &["cpus"]).as_deref(),
            Ok("services:\n  app: {\n    image: x,  # the image\n    mem_limit: 1g  # cap\n    # cpus\n  }\n")
        );
        let json = "{\"services\": {\"app\": {\"image\": \"x\", \"mem_limit\": \"1g\"}}}\n";
        assert_eq!(
            removed(json, "app", &["mem_limit"]).as_deref(),
            Ok("{\"services\": {\"app\": {\"image\": \"x\"}}}\n")
        );
    }

    #[test]
    fn a_mapping_left_empty_stays_a_mapping() {
        let block = "services:\n  app:  # the app\n    mem_limit: 1g\n  db:\n    image: y\n";
        assert_eq!(
            removed(block, "app", &["mem_limit"]).as_deref(),
            Ok("services:\n  app: {}  # the app\n  db:\n    image: y\n")
        );
        // Unless what is added fills it.
        assert_eq!(
            removed_with(block, "app", &["mem_limit"], &[("deploy.replicas", "2")]).as_deref(),
            Ok("services:\n  app:  # the app\n    deploy:\n      replicas: 2\n  db:\n    image: y\n")
        );
        let flow = "services:\n  app: {mem_limit: 1g}\n";
        assert_eq!(
            removed_with(flow, "app", &["mem_limit"], &[("deploy.replicas", "2")]).as_deref(),
            Ok("services:\n  app: {deploy: {replicas: 2}}\n")
        );
    }

    #[test]
    fn text_other_services_read_is_left_alone() {
        let merged = "x-lim: &lim\n  mem_limit: 1g\nservices:\n  app:\n    <<: *lim\n    image: x\n";
        assert_eq!(
            removed(merged, "app", &["mem_limit"]),
            Err("it comes through `<<: *lim`, which other services may merge too".into())
        );
        let shadowed = "x-lim: &lim\n  mem_limit: 1g\nservices:\n  app:\n    <<: *lim\n    mem_limit: 2g\n";
        assert_eq!(
            removed(shadowed, "app", &["mem_limit"]),
            Err("`<<: *lim` sets it too, which deleting it here would bring back".into())
        );
        let shared = "services:\n  app: &app\n    image: x\n    mem_limit: 1g\n  worker:\n    <<: *app\n";
        assert_eq!(
            removed(shared, "app", &["mem_limit"]),
            Err("it is written in `&app`, which `*app` copies elsewhere".into())
        );
        let anchored =
            "services:\n  app:\n    mem_limit: &mem 1g\n    image: x\n  db:\n    image: y\n    shm_size: *mem\n";
        assert_eq!(
            removed(anchored, "app", &["mem_limit"]),
            Err("its value holds `&mem`, which `*mem` names elsewhere".into())
        );
        let extended = "services:\n  base:\n    image: x\n    mem_limit: 1g\n  app:\n    extends: base\n    cpus: 1\n";
        assert_eq!(
            removed(extended, "app", &["mem_limit"]),
            Err("it is not written in the service itself (it comes through `extends`)".into())
        );
        assert_eq!(
            removed(extended, "app", &["cpus"]),
            Err("the service uses `extends`, and what it extends may set it too".into())
        );
    }
}
