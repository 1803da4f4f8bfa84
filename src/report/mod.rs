//! The report model every format reads: per file, items that each name their rule, the
//! service, the exact node's span, the message and the fix `apply` would write (or none).
//! Formats never name passes or read the document; they read this and the rules.

pub mod concise;
pub mod diff;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod line;
pub mod sarif;
pub mod text;

use crate::edit::Edit;
use crate::plan::Span;
use crate::rule::{Fix, Rule, Severity};
use crate::Outcome;
use yaml_serde::Value;

/// One finding, as every format shows it.
#[derive(Debug, Clone)]
pub struct Item {
    pub rule: &'static Rule,
    pub service: String,
    /// Keys below the service (what a fingerprint is built from, not a line).
    pub path: Vec<String>,
    pub span: Option<Span>,
    pub message: String,
    /// The YAML `apply` writes for it, when it would change the file.
    pub fix: Option<String>,
    /// The block outside `services` the fix is written into, once for every service that
    /// merges it (`x-defaults`); None where it is written in the service.
    pub into: Option<String>,
    /// How the fix counts in this run (a profile may move a rule between safe and unsafe).
    pub applicability: Fix,
    /// An unsafe fix `apply` holds back unless asked: `fix` is what it would write.
    pub held: bool,
    /// `--enforce` would change what it is about.
    pub enforceable: bool,
    /// The finding's severity: the rule's (or lower where the rule says the case is
    /// milder), or the one the profile gives the rule (`severity:`).
    pub level: Severity,
    /// In the baseline `check --baseline` was given: known, and not failing.
    pub baselined: bool,
}

impl Item {
    pub fn severity(&self) -> Severity {
        self.level
    }

    /// Whether code scanning should file it under security (`tags: [security]`): the rules
    /// of the passes about what a container may reach.
    pub fn security(&self) -> bool {
        security(self.rule)
    }

    /// `apply` would change the file for it.
    pub fn fixable(&self) -> bool {
        self.fix.is_some() && !self.held
    }

    /// What the user can do about it, in words.
    pub fn hint(&self) -> Option<String> {
        let hint = match (self.fix.is_some(), self.applicability) {
            (true, _) if self.held => "`apply --unsafe-fixes` writes this",
            (true, Fix::Repair) => "`apply` repairs this",
            (true, Fix::Replace) => "`apply --enforce` changes this",
            (true, _) => "`apply` writes this",
            (false, _) if self.enforceable => ENFORCE_HINT,
            (false, _) => return None,
        };
        Some(match &self.into {
            Some(block) => format!("{hint} once, into `{block}`, for every service that merges it"),
            None => hint.to_string(),
        })
    }

    /// A stable identity that survives lines moving: file (its `uri`), rule, service and path.
    pub fn fingerprint(&self, file: &str) -> String {
        let key = format!("{file}\u{0}{}\u{0}{}\u{0}{}", self.rule.id, self.service, self.path.join("."));
        format!("{:016x}", fnv1a(key.as_bytes()))
    }
}

/// Whether a rule is about what a container may reach (code scanning's `security` tag).
pub fn security(rule: &Rule) -> bool {
    matches!(rule.pass(), "dangerous" | "mounts" | "image" | "credentials" | "security")
}

/// What a finding says where enforcing the profile would change what it is about.
pub const ENFORCE_HINT: &str = "`--enforce` would change this";

/// [`fnv1a`] of a text, as 16 hex digits.
pub(crate) fn fnv_hex(text: &str) -> String {
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// FNV-1a, 64 bits: fixed forever, unlike a std hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// One file's findings.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// As given (relative where it was), for display.
    pub path: String,
    /// Relative to the repository root (the nearest folder above with `.git`, else the
    /// working folder), normalised: what URIs, code-quality paths and fingerprints use, so
    /// that they do not depend on how the path was spelled or where the command ran. The
    /// path as given where it lies outside that root.
    pub uri: String,
    /// Credentials the findings are about: masked wherever the file's text is shown.
    pub secrets: Vec<String>,
    /// The input, for snippets and character offsets.
    pub text: String,
    pub items: Vec<Item>,
    /// The splices `apply` makes, each with its service: SARIF fixes are built from them.
    pub edits: Vec<(String, Edit, String)>,
    /// The profile the file was checked with, as the command line named it (or its path).
    pub profile: String,
    /// That profile is the team's, found beside or above the file.
    pub profile_found: bool,
}

/// A file that was not read, and why (a notice, not a failure).
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// A file that could not be processed (exit 2; the other files are still reported).
#[derive(Debug, Clone)]
pub struct Failed {
    pub path: String,
    /// As [`FileReport::uri`].
    pub uri: String,
    pub position: Option<(usize, usize)>,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The folder `uri`s are relative to, absolute (SARIF's `%SRCROOT%`).
    pub root: Option<String>,
    pub files: Vec<FileReport>,
    pub skipped: Vec<Skipped>,
    pub failed: Vec<Failed>,
}

impl Report {
    pub fn items(&self) -> impl Iterator<Item = (&FileReport, &Item)> {
        self.files.iter().flat_map(|f| f.items.iter().map(move |i| (f, i)))
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items().filter(|(_, i)| i.severity() == severity).count()
    }
}

impl FileReport {
    /// `outcome` must come from `harden_with` with `locate_changes`; its input is taken.
    pub fn of(path: &str, mut outcome: Outcome) -> FileReport {
        let mut items = Vec::new();
        // Changes that carry a message are already findings: they get their fix there.
        let mut removals = Vec::new();
        for (finding, span) in &outcome.findings {
            let change = finding.change.and_then(|i| outcome.changes.get(i));
            if change.is_some_and(|c| c.removes) {
                removals.push(items.len());
            }
            items.push(Item {
                rule: finding.rule,
                service: finding.service.clone(),
                path: finding.path.clone(),
                span: *span,
                message: finding.message.clone(),
                fix: change.map(fix),
                into: change.and_then(|c| into(&outcome, c)),
                applicability: applicability(&outcome, finding.rule),
                held: false,
                enforceable: finding.enforceable,
                level: finding.severity,
                baselined: false,
            });
        }
        // The other changes, one item per service and rule (a healthcheck is one fix).
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, c) in outcome.changes.iter().enumerate().filter(|(_, c)| c.message.is_none()) {
            let same = |g: &(usize, Vec<usize>)| {
                let first = &outcome.changes[g.0];
                first.service == c.service && first.rule.id == c.rule.id
            };
            match groups.iter_mut().rev().find(|g| same(g)) {
                Some(g) => g.1.push(i),
                None => groups.push((i, vec![i])),
            }
        }
        for (first, members) in groups {
            let c = &outcome.changes[first];
            let pairs: Vec<(&[String], &Value)> =
                members.iter().map(|&m| (&outcome.changes[m].path[..], &*outcome.changes[m].value)).collect();
            // A key deleted under the same rule is where its setting goes: the first such
            // item shows what is written.
            let moved = removals.iter().find(|n| items[**n].rule.id == c.rule.id && items[**n].service == *c.service);
            if let Some(item) = moved.map(|n| &mut items[*n]) {
                item.fix = Some(yaml(&pairs) + item.fix.as_deref().unwrap_or_default());
                continue;
            }
            // A pass that reports what it writes (a probe with a note) gets one item, with the fix.
            let reported =
                items.iter_mut().find(|i| i.fix.is_none() && i.rule.id == c.rule.id && i.service == *c.service);
            if let Some(item) = reported {
                item.fix = Some(yaml(&pairs));
                item.into = into(&outcome, c);
                continue;
            }
            items.push(Item {
                rule: c.rule,
                service: c.service.to_string(),
                path: c.path.first().map(|p| vec![p.clone()]).unwrap_or_default(),
                span: outcome.change_spans.get(first).copied().flatten(),
                message: c.rule.summary.to_string(),
                fix: Some(yaml(&pairs)),
                into: into(&outcome, c),
                applicability: applicability(&outcome, c.rule),
                held: false,
                enforceable: false,
                level: c.rule.severity,
                baselined: false,
            });
        }
        // Unsafe fixes held back: their findings carry what `--unsafe-fixes` would write.
        for item in items.iter_mut().filter(|i| i.fix.is_none()) {
            let pairs: Vec<(&[String], &Value)> = outcome
                .held
                .iter()
                .filter(|c| *c.service == *item.service && c.rule.id == item.rule.id)
                .map(|c| (&c.path[..], &*c.value))
                .collect();
            if !pairs.is_empty() {
                item.fix = Some(yaml(&pairs));
                item.held = true;
            }
        }
        // In file order, then by rule (the passes' order) where they share a place.
        let order = |id: &str| crate::passes::all_rules().iter().position(|r| r.id == id).unwrap_or(0);
        items.sort_by_key(|i| (i.span.map_or((0, 0), |s| (s.line, s.col)), order(i.rule.id)));
        let edits = outcome
            .edits
            .iter()
            .map(|e| {
                let service = service_at(&outcome, e.old.start);
                (service, e.clone(), outcome.output.get(e.new.clone()).unwrap_or("").to_string())
            })
            .collect();
        let text = std::mem::take(&mut outcome.input);
        let mut secrets: Vec<String> =
            outcome.findings.iter().filter_map(|(f, _)| f.secret.as_deref().map(str::to_string)).collect();
        secrets.sort();
        secrets.dedup();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len())); // A longer one may hold a shorter.
        let mut report = FileReport {
            path: path.to_string(),
            uri: path.to_string(),
            text,
            items,
            edits,
            profile: String::new(),
            profile_found: false,
            secrets,
        };
        let mut items = std::mem::take(&mut report.items);
        for item in &mut items {
            item.fix = item.fix.take().map(|f| report.mask(&f));
        }
        report.items = items;
        report
    }

    /// `text` with every credential the findings name replaced by as many `*`.
    pub fn mask(&self, text: &str) -> String {
        self.masked(text, |s| s.chars().count())
    }

    /// The same, one `*` a byte: offsets into the text stay right (a source excerpt).
    pub fn mask_bytes(&self, text: &str) -> String {
        self.masked(text, str::len)
    }

    fn masked(&self, text: &str, width: fn(&str) -> usize) -> String {
        let mut text = text.to_string();
        for secret in self.secrets.iter().filter(|s| !s.is_empty()) {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), &"*".repeat(width(secret)));
            }
        }
        text
    }
}

/// How a rule's fix counts in the run that made `outcome`.
fn applicability(outcome: &Outcome, rule: &'static Rule) -> Fix {
    match (outcome.unsafe_rules.contains(&rule.id), rule.fix) {
        (true, _) => Fix::Unsafe,
        (false, Fix::Unsafe) => Fix::Safe,
        (false, fix) => fix,
    }
}

/// The YAML `apply` writes for a change; a comment that says what it does where that is no
/// YAML to merge: a key deleted, an item of a list changed.
fn fix(change: &crate::plan::Change) -> String {
    let at = change.path.join(".");
    match change.removes {
        true => format!("# `{at}` deleted\n"),
        false if change.path.iter().any(|k| k.parse::<usize>().is_ok()) => {
            format!("# `{at}` set to {}\n", flow(&change.value))
        }
        false => yaml(&[(&change.path[..], &change.value)]),
    }
}

/// The block a change is written into once, if it is.
fn into(outcome: &Outcome, change: &crate::plan::Change) -> Option<String> {
    outcome
        .hoisted
        .iter()
        .find(|h| h.carried.iter().any(|(s, p)| *s == change.service && *p == change.path))
        .map(|h| h.block.clone())
}

/// The service whose change lands at `offset`: the last change span starting before it.
/// A write into a block that several services merge belongs to the first of them (so
/// that applying every fix applies it once).
fn service_at(outcome: &Outcome, offset: usize) -> String {
    if let Some(h) = outcome.hoisted.iter().find(|h| h.range.start <= offset && offset <= h.range.end) {
        return h.services.first().cloned().unwrap_or_default();
    }
    let mut best: Option<(usize, &str)> = None;
    for (c, span) in outcome.changes.iter().zip(&outcome.change_spans) {
        if let Some(span) = span.filter(|s| s.start <= offset) {
            if best.is_none_or(|(start, _)| span.start >= start) {
                best = Some((span.start, &c.service));
            }
        }
    }
    best.map(|(_, s)| s.to_string()).unwrap_or_default()
}

/// The YAML of some values at paths below a service, nested as a file holds them, with
/// lists in flow style (as `apply` writes a probe).
pub fn yaml(pairs: &[(&[String], &Value)]) -> String {
    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    for (path, value) in pairs {
        let Some((last, parents)) = path.split_last() else { continue };
        let shared = open.iter().zip(parents.iter()).take_while(|(a, b)| **a == b.as_str()).count();
        open.truncate(shared);
        for key in &parents[shared..] {
            out.push_str(&format!("{}{}:\n", "  ".repeat(open.len()), key));
            open.push(key);
        }
        out.push_str(&format!("{}{}: {}\n", "  ".repeat(open.len()), last, flow(value)));
    }
    out
}

fn flow(value: &Value) -> String {
    match value {
        // As `apply` writes a probe: every string of a list in double quotes.
        Value::Sequence(items) => {
            let quoted = |v: &Value| match v {
                Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
                other => flow(other),
            };
            format!("[{}]", items.iter().map(quoted).collect::<Vec<_>>().join(", "))
        }
        Value::String(s) if needs_quotes(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => yaml_serde::to_string(other).unwrap_or_default().trim_end().to_string(),
    }
}

/// Whether a string would read as something else unquoted (a number, a bool, YAML syntax).
fn needs_quotes(s: &str) -> bool {
    let plain = s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    let other_type = yaml_serde::from_str::<Value>(s).map_or(true, |v| !v.is_string());
    s.is_empty() || !plain || other_type
}
