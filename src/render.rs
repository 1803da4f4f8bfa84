//! Render: findings for people, unified diffs for review and `git apply`.

use crate::plan::Finding;

/// `file:line:col: warning[pass]: service `name`: message`
pub fn finding(file: &str, finding: &Finding, at: Option<(usize, usize)>) -> String {
    let place = match at {
        Some((line, col)) => format!("{file}:{line}:{col}"),
        None => file.to_string(),
    };
    let service = match finding.service.as_str() {
        "" => String::new(),
        name => format!("service `{name}`: "),
    };
    format!("{place}: {}[{}]: {service}{}", finding.severity.label(), finding.pass, finding.message)
}

/// A unified diff with `a/` and `b/` headers, as `git apply` expects.
pub fn diff(path: &str, old: &str, new: &str) -> String {
    let name = path.trim_start_matches("./").trim_start_matches('/');
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
