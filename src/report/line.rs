//! `apply`'s findings: one line each, as compilers write them, on standard error.

use crate::plan::Finding;

/// `file:line:col: warning[pass/kind]: service `name`: message`
pub fn finding(file: &str, finding: &Finding, at: Option<(usize, usize)>) -> String {
    let place = match at {
        Some((line, col)) => format!("{file}:{line}:{col}"),
        None => file.to_string(),
    };
    let service = match finding.service.as_str() {
        "" => String::new(),
        name => format!("service `{name}`: "),
    };
    let mut line =
        format!("{place}: {}[{}]: {service}{}", finding.severity().label(), finding.rule.id, finding.message);
    if finding.enforceable {
        line.push_str(&format!(" ({})", super::ENFORCE_HINT));
    }
    line
}
