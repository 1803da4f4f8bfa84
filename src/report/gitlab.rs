//! `--format gitlab`: Code Quality JSON for merge-request widgets. Each issue's fingerprint
//! is built from the file, rule, service and path (not the line), so it survives edits.

use super::Report;
use crate::rule::Severity;
use serde_json::{json, Value};

pub fn render(report: &Report) -> String {
    let mut seen: Vec<String> = Vec::new();
    let issues: Vec<Value> = report
        .items()
        .map(|(file, item)| {
            // Two findings of one rule on one path (two ports) stay distinct.
            let mut fingerprint = item.fingerprint(&file.path);
            let repeats = seen.iter().filter(|f| **f == fingerprint).count();
            seen.push(fingerprint.clone());
            if repeats > 0 {
                fingerprint = format!("{fingerprint}-{repeats}");
            }
            let severity = match item.severity() {
                Severity::Error => "critical",
                Severity::Warning => "major",
                Severity::Info => "info",
            };
            let service = if item.service.is_empty() { String::new() } else { format!("service `{}`: ", item.service) };
            let (begin, end) = item.span.map_or((1, 1), |s| (s.line, s.end_line));
            json!({
                "description": format!("{service}{}", item.message),
                "check_name": item.rule.id,
                "fingerprint": fingerprint,
                "severity": severity,
                "location": {"path": file.path, "lines": {"begin": begin, "end": end}},
            })
        })
        .collect();
    serde_json::to_string_pretty(&issues).unwrap_or_default() + "\n"
}
