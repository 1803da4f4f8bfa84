//! `--format json`: version 1, documented in the README. Built here field by field, not
//! dumped from internal types, so that it changes only on purpose.

use super::{Item, Report};
use crate::plan::Severity;
use serde_json::{json, Value};

pub fn render(report: &Report) -> String {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|f| json!({"file": f.path, "findings": f.items.iter().map(item).collect::<Vec<_>>()}))
        .collect();
    let skipped: Vec<Value> = report.skipped.iter().map(|s| json!({"file": s.path, "reason": s.reason})).collect();
    let failed: Vec<Value> = report
        .failed
        .iter()
        .map(|f| json!({"file": f.path, "line": f.position.map(|p| p.0), "column": f.position.map(|p| p.1), "message": f.message}))
        .collect();
    let out = json!({
        "version": 1,
        "files": files,
        "skipped": skipped,
        "failed": failed,
        "summary": {
            "error": report.count(Severity::Error),
            "warning": report.count(Severity::Warning),
            "info": report.count(Severity::Info),
            "fixable": report.items().filter(|(_, i)| i.fixable()).count(),
        },
    });
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
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
        "fix": i.fix.as_ref().map(|yaml| json!({"applicability": i.rule.fix.label(), "yaml": yaml})),
        "hint": i.hint(),
    })
}
