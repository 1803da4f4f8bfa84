//! `--format gitlab`: Code Quality JSON for merge-request widgets. Paths are relative to
//! the repository's root; each issue's fingerprint is built from the file, rule, service
//! and path (not the line), so it survives edits. Severities use the whole scale: a file
//! that could not be read is `blocker`, an error `critical`, a security warning `major`,
//! other warnings (hygiene: logs, restarts, limits) `minor`, infos `info`.

use super::Report;
use crate::passes::LOAD_FAILED;
use crate::rule::Severity;
use serde_json::{json, Value};

pub fn render(report: &Report) -> String {
    let mut issues: Vec<Value> = report
        .failed
        .iter()
        .map(|f| {
            let line = f.position.map_or(1, |p| p.0.max(1));
            json!({
                "description": format!("not checked: {}", f.message),
                "check_name": LOAD_FAILED.id,
                "fingerprint": super::fnv_hex(&format!("{}\u{0}{}", f.uri, LOAD_FAILED.id)),
                "severity": "blocker",
                "location": {"path": f.uri, "lines": {"begin": line, "end": line}},
            })
        })
        .collect();
    let mut seen: Vec<String> = Vec::new();
    issues.extend(report.items().map(|(file, item)| {
        // Two findings of one rule on one path (two ports) stay distinct.
        let mut fingerprint = item.fingerprint(&file.uri);
        let repeats = seen.iter().filter(|f| **f == fingerprint).count();
        seen.push(fingerprint.clone());
        if repeats > 0 {
            fingerprint = format!("{fingerprint}-{repeats}");
        }
        let severity = match item.severity() {
            Severity::Error => "critical",
            Severity::Warning if item.security() => "major",
            Severity::Warning => "minor",
            Severity::Info => "info",
        };
        let service = if item.service.is_empty() { String::new() } else { format!("service `{}`: ", item.service) };
        let (begin, end) = item.span.map_or((1, 1), |s| (s.line, s.end_line));
        json!({
            "description": format!("{service}{}", item.message),
            "check_name": item.rule.id,
            "fingerprint": fingerprint,
            "severity": severity,
            "location": {"path": file.uri, "lines": {"begin": begin, "end": end}},
        })
    }));
    serde_json::to_string_pretty(&issues).unwrap_or_default() + "\n"
}
