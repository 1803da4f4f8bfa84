//! For people: grouped by file and service, each finding with its source lines and a caret
//! under the exact node (annotate-snippets, as rustc and ruff render), its hint and fix.

use super::{FileReport, Item, Report};
use crate::plan::Severity;
use annotate_snippets::{Level, Renderer, Snippet};

pub fn render(report: &Report, color: bool) -> String {
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let mut out = String::new();
    for file in &report.files {
        let mut items: Vec<&Item> = file.items.iter().collect();
        // Grouped by service, in the order the services come (stable: file order kept).
        let mut services: Vec<&str> = Vec::new();
        for i in &items {
            if !services.contains(&i.service.as_str()) {
                services.push(&i.service);
            }
        }
        items.sort_by_key(|i| services.iter().position(|s| *s == i.service));
        for item in items {
            out.push_str(&one(&renderer, file, item));
            out.push_str("\n\n");
        }
    }
    out.push_str(&summary(report));
    out
}

fn level(severity: Severity) -> Level {
    match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    }
}

fn one(renderer: &Renderer, file: &FileReport, item: &Item) -> String {
    let title = match item.service.as_str() {
        "" => item.message.clone(),
        s => format!("service `{s}`: {}", item.message),
    };
    let level = level(item.severity());
    let fix = item.fix.as_ref().map(|yaml| {
        let shown: Vec<String> = yaml.lines().map(|l| format!("    {l}")).collect();
        format!("{}:\n{}", item.hint().unwrap_or("fix"), shown.join("\n"))
    });
    let hint = match (&fix, item.hint()) {
        (None, Some(h)) => Some(h.to_string()),
        _ => None,
    };
    let mut message = level.title(&title).id(item.rule.id);
    // Only the lines of the node are given to the renderer: a large file is not read for
    // each finding.
    let lines = item.span.map(|span| {
        let start = file.text[..span.start.min(file.text.len())].rfind('\n').map_or(0, |i| i + 1);
        let end = file.text[span.end.min(file.text.len())..].find('\n').map_or(file.text.len(), |i| span.end + i);
        (start, end, span)
    });
    let snippet;
    if let Some((start, end, span)) = lines {
        let source = &file.text[start..end];
        let range = span.start - start..(span.end - start).max(span.start - start + 1).min(source.len().max(1));
        snippet =
            Snippet::source(source).line_start(span.line).origin(&file.path).fold(false).annotation(level.span(range));
        message = message.snippet(snippet);
    } else {
        message = message.snippet(Snippet::source("").origin(&file.path));
    }
    if let Some(h) = &hint {
        message = message.footer(Level::Help.title(h));
    }
    if let Some(f) = &fix {
        message = message.footer(Level::Help.title(f));
    }
    // Bound before returning: the rendered value borrows the locals above.
    let text = renderer.render(message).to_string();
    text
}

fn summary(report: &Report) -> String {
    let mut out = String::new();
    for s in &report.skipped {
        out.push_str(&format!("skipped {}: {}\n", s.path, s.reason));
    }
    for f in &report.failed {
        match f.position {
            Some((l, c)) => out.push_str(&format!("{}:{l}:{c}: error: {}\n", f.path, f.message)),
            None => out.push_str(&format!("{}: error: {}\n", f.path, f.message)),
        }
    }
    let fixable = report.items().filter(|(_, i)| i.fixable()).count();
    let n = |count: usize, one: &str| format!("{count} {one}{}", if count == 1 { "" } else { "s" });
    out.push_str(&format!(
        "{}: {}, {}, {}; {fixable} fixable with `apply`\n",
        n(report.files.len(), "file"),
        n(report.count(Severity::Error), "error"),
        n(report.count(Severity::Warning), "warning"),
        n(report.count(Severity::Info), "info"),
    ));
    out
}
