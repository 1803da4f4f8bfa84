//! `--format github`: workflow commands that GitHub shows as annotations. GitHub shows at
//! most 10 errors, 10 warnings and 10 notices per step (and 50 per job): the most severe
//! come first, a file that could not be read first of all, and where some are left out a
//! notice, itself one of the 10, counts them. Paths are relative to the repository's root.

use super::Report;
use crate::rule::Severity;

/// Annotations GitHub shows of each type per step.
pub const PER_TYPE: usize = 10;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    // Each type's annotations, in the order shown.
    let mut kinds: [Vec<String>; 3] = Default::default();
    for f in &report.failed {
        let at = f.position.map(|(l, c)| format!(",line={l},col={c}")).unwrap_or_default();
        kinds[0].push(format!(
            "::error file={}{at},title=load/failed::{}\n",
            escape_property(&f.uri),
            escape_data(&f.message)
        ));
    }
    let mut items: Vec<_> = report.items().filter(|(_, i)| !i.baselined).collect();
    items.sort_by_key(|(_, i)| std::cmp::Reverse(i.severity()));
    for (file, item) in items {
        let (kind, slot) = match item.severity() {
            Severity::Error => ("error", 0),
            Severity::Warning => ("warning", 1),
            Severity::Info => ("notice", 2),
        };
        let mut props = format!("file={}", escape_property(&file.uri));
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
        kinds[slot].push(format!("::{kind} {props}::{}\n", escape_data(&message)));
    }
    let total: usize = kinds.iter().map(Vec::len).sum();
    let over = kinds.iter().any(|k| k.len() > PER_TYPE);
    // The summary notice is one of the notices GitHub shows.
    let limits = [PER_TYPE, PER_TYPE, if over { PER_TYPE - 1 } else { PER_TYPE }];
    let mut out = String::new();
    let mut shown = 0;
    for (kind, limit) in kinds.iter().zip(limits) {
        for line in kind.iter().take(limit) {
            out.push_str(line);
            shown += 1;
        }
    }
    let rest = total - shown;
    if rest > 0 {
        out.push_str(&format!(
            "::notice::{rest} more finding{} not shown as annotations (GitHub shows {PER_TYPE} of each type per step, this notice among them); run `compose-harden check` to see them all\n",
            if rest == 1 { " is" } else { "s are" }
        ));
    }
    out
}
