//! Testing one pass alone: [`plan`] runs it on inline YAML with a profile of only the
//! settings the case needs, and writes what it planned as text, one line each, to be
//! compared whole:
//!
//! ```text
//! + app: init = true  [init/missing]
//! - app: mem_limit (was "256m")  [swarm/refused-key]: ...
//! ~ app: command = "exec node app.js" (was "node app.js")  [shell/sigterm-swallowed]: ...
//! warning[healthcheck/no-probe] app: no healthcheck added: ...
//! info[init/own-init] app at image: init not added: ...
//! ```
//!
//! Changes come first, in the order planned, then findings. A finding the pass would have
//! made a change of under `--enforce` ends with `(enforceable)`.
//!
//! A failing case shows its place and the whole text the pass planned, to be read and,
//! where it is right, taken as the expectation.

use super::{plan_with, AnyPass, Inputs};
use crate::plan::{Change, Finding};
use crate::profile::Profile;
use yaml_serde::Value;

/// A profile of only the settings given (YAML, as a profile file writes them).
pub(crate) fn profile(yaml: &str) -> Profile {
    yaml_serde::from_str(yaml).unwrap_or_else(|e| panic!("the case's profile: {e}"))
}

/// What `pass` alone plans for the services of `compose` under `profile`.
pub(crate) fn plan(pass: &dyn AnyPass, profile: &Profile, compose: &str) -> String {
    run(pass, profile, compose, false)
}

/// The same under `--enforce`.
pub(crate) fn enforced(pass: &dyn AnyPass, profile: &Profile, compose: &str) -> String {
    run(pass, profile, compose, true)
}

/// What `pass` alone plans with the image facts `facts` (a facts file's text) at hand.
pub(crate) fn with_facts(pass: &dyn AnyPass, profile: &Profile, facts: &str, compose: &str) -> String {
    let facts =
        crate::facts::parse("compose-harden.images.yml", facts).unwrap_or_else(|e| panic!("the case's facts: {e}"));
    planned(pass, profile, compose, Inputs { enforce: false, facts: Some(&facts) })
}

fn run(pass: &dyn AnyPass, profile: &Profile, compose: &str, enforce: bool) -> String {
    planned(pass, profile, compose, Inputs { enforce, facts: None })
}

fn planned(pass: &dyn AnyPass, profile: &Profile, compose: &str, inputs: Inputs) -> String {
    let doc = crate::document::load("compose.yml", compose.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let inherited = crate::document::extends::of(&doc);
    let plan = plan_with(&[pass], &super::Model::of(&doc, &inherited), profile, inputs);
    let changes = plan.changes.iter().map(change);
    changes.chain(plan.findings.iter().map(finding)).collect::<Vec<_>>().join("\n")
}

fn change(c: &Change) -> String {
    if c.removes {
        let old = c.replaces.as_deref().map(json).unwrap_or_default();
        let message = c.message.as_deref().unwrap_or_default();
        return format!("- {}: {} (was {old})  [{}]: {message}", c.service, c.path.join("."), c.rule.id);
    }
    let mut line = format!(
        "{} {}: {} = {}",
        if c.replaces.is_some() { "~" } else { "+" },
        c.service,
        c.path.join("."),
        json(&c.value)
    );
    if let Some(old) = &c.replaces {
        line.push_str(&format!(" (was {})", json(old)));
    }
    if let Some(note) = &c.note {
        line.push_str(&format!("  # {note}"));
    }
    line.push_str(&format!("  [{}]", c.rule.id));
    if let Some(message) = &c.message {
        line.push_str(&format!(": {message}"));
    }
    line
}

fn finding(f: &Finding) -> String {
    let service = if f.service.is_empty() { "(file)" } else { &f.service };
    let at = if f.path.is_empty() { String::new() } else { format!(" at {}", f.path.join(".")) };
    let enforceable = if f.enforceable { " (enforceable)" } else { "" };
    format!("{}[{}] {service}{at}: {}{enforceable}", f.severity().label(), f.rule.id, f.message)
}

fn json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

/// Compares a case's text with what it should be (leading and trailing blank lines of
/// `expected` aside).
#[track_caller]
pub(crate) fn check(actual: String, expected: &str) {
    let expected = expected.trim_matches('\n');
    let at = std::panic::Location::caller();
    assert!(
        actual == expected,
        "{}:{}: what the pass planned:\n@@@\n{actual}\n@@@\n--- expected:\n{expected}",
        at.file(),
        at.line()
    );
}
