//! `--format concise`: one line a finding (`file:line:col: severity[rule] message`), for
//! large repositories and grep; and `--statistics`: how many findings each rule has.

use super::{text, Report};
use crate::rule::Severity;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for (file, item) in report.items() {
        let (line, col) = item.span.map_or((1, 1), |s| (s.line, s.col));
        let service = if item.service.is_empty() { String::new() } else { format!("service `{}`: ", item.service) };
        let baselined = if item.baselined { " (in the baseline)" } else { "" };
        out.push_str(&format!(
            "{}:{line}:{col}: {}[{}] {service}{}{baselined}\n",
            file.path,
            item.severity().label(),
            item.rule.id,
            item.message
        ));
    }
    out + &text::summary(report)
}

/// Per rule: the findings, how many `apply` fixes, the severity and the summary; most
/// findings first.
pub fn statistics(report: &Report) -> String {
    let mut rows: Vec<(&'static str, usize, usize, Severity, &'static str)> = Vec::new();
    for (_, item) in report.items() {
        match rows.iter_mut().find(|r| r.0 == item.rule.id) {
            Some(row) => {
                row.1 += 1;
                row.2 += usize::from(item.fixable());
            }
            None => rows.push((item.rule.id, 1, usize::from(item.fixable()), item.severity(), item.rule.summary)),
        }
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (id, count, fixable, severity, summary) in rows {
        let fixable = if fixable > 0 { format!("{fixable} fixable") } else { "-".to_string() };
        out.push_str(&format!("{count:>6}  {id:<width$}  {:<7}  {fixable:<12}  {summary}\n", severity.label()));
    }
    for f in &report.failed {
        out.push_str(&format!("{}: error: {}\n", f.path, f.message));
    }
    out
}
