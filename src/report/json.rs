//! `--format json`: version 1, documented in the README. Built here field by field, not
//! dumped from internal types, so that it changes only on purpose.

use super::{FileReport, Item, Report};
use crate::rule::Severity;
use serde_json::{json, Value};

/// One file's object (files are independent: a caller may render them on several cores).
pub fn file(f: &FileReport) -> String {
    let value = json!({"file": f.path, "profile": f.profile, "findings": f.items.iter().map(item).collect::<Vec<_>>()});
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// The whole report, around file objects rendered by [`file`] (on several cores).
pub fn render(report: &Report, files: &[String]) -> String {
    let skipped: Vec<Value> = report.skipped.iter().map(|s| json!({"file": s.path, "reason": s.reason})).collect();
    let failed: Vec<Value> = report
        .failed
        .iter()
        .map(|f| json!({"file": f.path, "rule": crate::passes::LOAD_FAILED.id, "severity": "error", "line": f.position.map(|p| p.0), "column": f.position.map(|p| p.1), "message": f.message}))
        .collect();
    let out = json!({
        "version": 1,
        "files": [],
        "skipped": skipped,
        "failed": failed,
        "summary": {
            "error": report.count(Severity::Error),
            "warning": report.count(Severity::Warning),
            "info": report.count(Severity::Info),
            "fixable": report.items().filter(|(_, i)| i.fixable()).count(),
            "failed": report.failed.len(),
            "baselined": report.items().filter(|(_, i)| i.baselined).count(),
        },
    });
    let text = serde_json::to_string_pretty(&out).unwrap_or_default();
    // The file objects go in as rendered, indented one level deeper.
    let indented: Vec<String> = files.iter().map(|f| format!("    {}", f.replace('\n', "\n    "))).collect();
    let list = if indented.is_empty() { "[]".to_string() } else { format!("[\n{}\n  ]", indented.join(",\n")) };
    text.replacen("\"files\": []", &format!("\"files\": {list}"), 1) + "\n"
}

fn item(i: &Item) -> Value {
    let place = |line: usize, column: usize| json!({"line": line, "column": column});
    json!({
        "rule": i.rule.id,
        "severity": i.severity().label(),
        "service": if i.service.is_empty() { Value::Null } else { Value::from(i.service.clone()) },
        "start": i.span.map(|s| place(s.line, s.col)),
        "end": i.span.map(|s| place(s.end_line, s.end_col)),
        "message": i.message,
        "fix": i.fix.as_ref().map(|yaml| json!({"applicability": i.applicability.label(), "yaml": yaml, "into": i.into, "written": !i.held})),
        "hint": i.hint(),
        "baselined": i.baselined,
    })
}
