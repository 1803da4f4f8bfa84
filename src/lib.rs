//! compose-harden: hardens a Docker Compose file for production and changes nothing else.
//!
//! Text flows one way: [`document::load`] -> [`passes::plan`] -> [`edit::apply`] ->
//! [`validate`] -> [`render`].

pub mod document;
pub mod edit;
pub mod error;
pub mod facts;
pub mod gate;
pub mod passes;
pub mod plan;
pub mod profile;
pub mod render;
pub mod report;
pub mod rule;
pub mod sizing;
pub mod units;
pub mod validate;

pub use error::Error;
pub use profile::Profile;

use plan::{Change, Finding, Span};

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

    /// The unified diff from the input to the output, for `git apply`.
    pub fn diff(&self) -> String {
        render::diff(&self.file, &self.input, &self.output, &self.edits)
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

pub fn harden_with<'a>(
    file: &str,
    bytes: impl Into<std::borrow::Cow<'a, [u8]>>,
    profile: &Profile,
    options: Options,
) -> Result<Outcome, Error> {
    let doc = document::load(file, bytes)?;
    // The schema check and the planning are independent: run them on two cores, and
    // report the check's error (the input's fault) before anything planned.
    let (checked, (mut plan, edited, held)) = std::thread::scope(|scope| {
        let checked = scope.spawn(|| validate::check(&doc));
        let inherited = document::extends::of(&doc);
        let mut plan = passes::plan(&doc, profile, options.enforce, &inherited);
        let (held, held_findings) = gate::hold_back(&mut plan.changes, profile, options.unsafe_fixes);
        plan.findings.extend(held_findings);
        let edited = edit::apply(&doc, &plan.changes);
        (checked.join(), (plan, edited, held))
    });
    checked.map_err(|_| Error::new(file, "internal error: the schema check stopped unexpectedly"))??;
    // Split the plan into what the text now holds and what it could not. Usually nothing
    // was refused, and the plan (large at thousands of services) is kept as it is.
    let (mut applied, mut refused) = (std::mem::take(&mut plan.changes), Vec::new());
    if !edited.refused.is_empty() {
        let mut reasons: std::collections::HashMap<usize, String> = edited.refused.into_iter().collect();
        let all = std::mem::take(&mut applied);
        for (i, change) in all.into_iter().enumerate() {
            match reasons.remove(&i) {
                Some(reason) => refused.push((change, reason)),
                None => applied.push(change),
            }
        }
    }
    plan.findings.extend(refused_findings(&refused));
    plan.findings.extend(applied.iter().filter_map(|c| {
        // The message first: most changes have none, and the rest is not built for them.
        let message = c.message.as_deref()?.to_string();
        Some(Finding::new(c.rule, c.service.to_string(), c.path.to_vec(), message))
    }));
    // A failed check is the tool's fault, unless the file itself reads differently in the
    // two readers (then the edit was placed by one reading and planned on the other).
    let internal = |detail: String| match validate::first_disagreement(&doc) {
        Some((line, col)) => Error::at(file, line, col, READERS_DIFFER),
        None => Error::new(
            file,
            format!(
                "internal error: the hardened output failed its own check ({detail}); nothing was written. \
                 Please report this with the input file"
            ),
        ),
    };
    // Verifying and placing the findings are independent: the second thread takes the
    // findings while the verifier starts (which reads in two halves after a first step
    // on one core).
    let mut findings = plan.findings;
    let outside: Vec<_> = edited.hoisted.iter().flat_map(|h| h.values.iter().cloned()).collect();
    let (verified, findings) = std::thread::scope(|scope| {
        let placed = scope.spawn(|| {
            // In file order of the services, then in pass order.
            let services: foldhash::HashMap<&str, usize> = doc
                .services()
                .map(|s| s.keys().filter_map(|k| k.as_str()).enumerate().map(|(i, k)| (k, i + 1)).collect())
                .unwrap_or_default();
            findings.sort_by_cached_key(|f| {
                (services.get(f.service.as_str()).copied().unwrap_or(0), passes::order(f.pass()))
            });
            findings
                .into_iter()
                .map(|f| {
                    let at = locate(&doc, &f.service, &f.path);
                    (f, at)
                })
                .collect::<Vec<_>>()
        });
        (validate::verify(&doc, &edited.text, &applied, &outside), placed.join())
    });
    verified.map_err(internal)?;
    let change_spans = match options.locate_changes {
        true => applied.iter().map(|c| locate(&doc, &c.service, &c.path)).collect(),
        false => Vec::new(),
    };
    let findings =
        findings.map_err(|_| Error::new(file, "internal error: placing the findings stopped unexpectedly"))?;
    // The layout and the semantic view are freed before the caller renders a report or a
    // diff, which reuse their memory. A large file's (a million small values at 10,000
    // services, about 25 ms to free) are freed on another core meanwhile.
    let document::Document { text, layout, value, .. } = doc;
    if text.len() >= document::FREE_APART_FROM {
        std::thread::spawn(move || drop((layout, value)));
    }
    Ok(Outcome {
        file: file.to_string(),
        input: text,
        output: edited.text,
        edits: edited.edits,
        changes: applied,
        findings,
        change_spans,
        hoisted: edited.hoisted,
        held,
        unsafe_rules: rule::ALL
            .iter()
            .filter(|r| gate::applicability(r, profile) == rule::Fix::Unsafe)
            .map(|r| r.id)
            .collect(),
    })
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
                &rule::EDIT_NOT_WRITTEN,
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
