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

pub use error::Error;
pub use profile::Profile;

use plan::{Change, Finding, Plan, Span};

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

/// What to do besides filling in what is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Replace values the user set where the profile disagrees (each reported).
    pub enforce: bool,
    /// Place every change in the input, for reports that show what `apply` would write.
    pub locate_changes: bool,
    /// Write the fixes that may change what a service does (`cap_drop`, `read_only`).
    pub unsafe_fixes: bool,
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
    options: Options,
) -> Result<Outcome, Error> {
    let doc = document::load(file, bytes)?;
    let (mut plan, mut edited, held) = plan_and_edit(&doc, profile, options)?;
    let (applied, refused) = written(std::mem::take(&mut plan.changes), std::mem::take(&mut edited.refused));
    plan.findings.extend(refused_findings(&refused));
    plan.findings.extend(reported_changes(&applied));
    let findings = verify_and_place(&doc, &edited, &applied, plan.findings)?;
    let change_spans = match options.locate_changes {
        true => applied.iter().map(|c| locate(&doc, &c.service, &c.path)).collect(),
        false => Vec::new(),
    };
    Ok(Outcome {
        file: file.to_string(),
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
    options: Options,
) -> Result<(Plan, edit::Edited, Vec<Change>), Error> {
    let (checked, planned) = std::thread::scope(|scope| {
        let checked = scope.spawn(|| validate::check(doc));
        let inherited = document::extends::of(doc);
        let mut plan = passes::plan(doc, profile, options.enforce, &inherited);
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
/// to its change.
fn reported_changes(applied: &[Change]) -> impl Iterator<Item = Finding> + '_ {
    applied.iter().enumerate().filter_map(|(i, c)| {
        // The message first: most changes have none, and the rest is not built for them.
        let message = c.message.as_deref()?.to_string();
        Some(Finding { change: Some(i), ..Finding::new(c.rule, c.service.to_string(), c.path.to_vec(), message) })
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

/// The rules whose fixes count as unsafe under `profile`.
fn unsafe_rules(profile: &Profile) -> Vec<&'static str> {
    let all = passes::all_rules().iter();
    all.filter(|r| gate::applicability(r, profile) == rule::Fix::Unsafe).map(|r| r.id).collect()
}

/// Why a file whose two readings differ is refused.
const READERS_DIFFER: &str = "this part of the file reads differently in the two YAML readers the tool checks with \
    (Docker Compose reads it as libyaml does); nothing was written; write it more plainly \
    (an anchor name of letters, digits, `-` and `_`; a value on its key's line or indented under it)";

/// One finding per service, pass and reason, naming every key the edit could not write.
fn refused_findings(refused: &[(Change, String)]) -> Vec<Finding> {
    let mut grouped: Vec<(&Change, &String, Vec<String>)> = Vec::new();
    for (change, reason) in refused {
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
