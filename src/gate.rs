//! The one gate between planning and editing. Passes plan every fix they know; this holds
//! back the unsafe ones (a fix that may change what a service does) unless they are asked
//! for, so no pass branches on how it was run. A profile may raise a rule to safe, or lower
//! one to unsafe, for its team (`safe_fixes`, `unsafe_fixes`).

use crate::plan::{Change, Finding};
use crate::rule::{Fix, Rule};
use crate::Profile;

/// How a rule's fix counts under `profile`.
pub fn applicability(rule: &Rule, profile: &Profile) -> Fix {
    let named = |ids: &[String]| ids.iter().any(|id| id == rule.id);
    match rule.fix {
        Fix::None | Fix::Replace => rule.fix,
        _ if named(&profile.unsafe_fixes) => Fix::Unsafe,
        Fix::Unsafe if named(&profile.safe_fixes) => Fix::Safe,
        fix => fix,
    }
}

/// Takes the unsafe changes out of `changes` unless `unsafe_fixes` allows them: the
/// changes held back, and one finding per service and rule saying so.
pub fn hold_back(changes: &mut Vec<Change>, profile: &Profile, unsafe_fixes: bool) -> (Vec<Change>, Vec<Finding>) {
    if unsafe_fixes || !changes.iter().any(|c| applicability(c.rule, profile) == Fix::Unsafe) {
        return (Vec::new(), Vec::new());
    }
    let (held, kept): (Vec<Change>, Vec<Change>) =
        std::mem::take(changes).into_iter().partition(|c| applicability(c.rule, profile) == Fix::Unsafe);
    *changes = kept;
    let mut findings: Vec<Finding> = Vec::new();
    for c in &held {
        if findings.iter().any(|f| f.service == *c.service && f.rule.id == c.rule.id) {
            continue;
        }
        findings.push(Finding::new(
            c.rule,
            c.service.to_string(),
            c.path.first().map(|k| vec![k.clone()]).unwrap_or_default(),
            format!(
                "not written: {}; an unsafe fix (it may change what the service may do), written with --unsafe-fixes",
                c.rule.summary
            ),
        ));
    }
    (held, findings)
}
