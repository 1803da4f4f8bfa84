//! `--format github`: workflow commands that GitHub shows as annotations. GitHub shows at
//! most 10 of a type per step (50 per job): the most severe come first, and a notice
//! counts the rest.

use super::Report;
use crate::rule::Severity;

const PER_TYPE: usize = 10;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    let mut items: Vec<_> = report.items().collect();
    items.sort_by_key(|(_, i)| std::cmp::Reverse(i.severity()));
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut rest = 0;
    for (file, item) in items {
        let (kind, slot) = match item.severity() {
            Severity::Error => ("error", 0),
            Severity::Warning => ("warning", 1),
            Severity::Info => ("notice", 2),
        };
        if shown[slot] == PER_TYPE {
            rest += 1;
            continue;
        }
        shown[slot] += 1;
        let mut props = format!("file={}", escape_property(&file.path));
        if let Some(s) = item.span {
            props.push_str(&format!(",line={},endLine={}", s.line, s.end_line));
            if s.line == s.end_line {
                props.push_str(&format!(",col={},endColumn={}", s.col, s.end_col));
            }
        }
        props.push_str(&format!(",title={}", escape_property(item.rule.id)));
        let service = if item.service.is_empty() { String::new() } else { format!("service `{}`: ", item.service) };
        let mut message = format!("{service}{}", item.message);
        if let Some(h) = item.hint() {
            message.push_str(&format!(" ({h})"));
        }
        out.push_str(&format!("::{kind} {props}::{}\n", escape_data(&message)));
    }
    for f in &report.failed {
        let at = f.position.map(|(l, c)| format!(",line={l},col={c}")).unwrap_or_default();
        out.push_str(&format!("::error file={}{at}::{}\n", escape_property(&f.path), escape_data(&f.message)));
    }
    if rest > 0 {
        out.push_str(&format!(
            "::notice::{rest} more finding{} not shown as annotations (GitHub shows {PER_TYPE} of each type per step); run `compose-harden check` to see them all\n",
            if rest == 1 { " is" } else { "s are" }
        ));
    }
    out
}
