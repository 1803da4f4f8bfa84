//! For people: grouped by file and service, each finding with its source lines and a caret
//! under the exact node (annotate-snippets, as rustc and ruff render), its hint and fix.

use super::{FileReport, Item, Report};
use crate::rule::Severity;
use annotate_snippets::{Level, Renderer, Snippet};

/// One file's findings (files are independent: a caller renders them on several cores,
/// then appends the [`summary`]).
pub fn file(file: &FileReport, color: bool) -> String {
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let mut items: Vec<&Item> = file.items.iter().collect();
    // Grouped by service, in the order the services come (stable: file order kept).
    let mut services: Vec<&str> = Vec::new();
    for i in &items {
        if !services.contains(&i.service.as_str()) {
            services.push(&i.service);
        }
    }
    items.sort_by_key(|i| services.iter().position(|s| *s == i.service));
    // Most findings of a service point at its key: its snippet is rendered once.
    let mut snippets: Vec<((usize, usize, Severity), String)> = Vec::new();
    let mut out = String::new();
    for item in items {
        let key = item.span.map_or((0, 0), |s| (s.start, s.end));
        let key = (key.0, key.1, item.severity());
        let body = match snippets.iter().find(|(k, _)| *k == key) {
            Some((_, body)) => body.clone(),
            None => {
                let body = snippet(&renderer, file, item);
                snippets.push((key, body.clone()));
                body
            }
        };
        let mut title = match item.service.as_str() {
            "" => item.message.clone(),
            s => format!("service `{s}`: {}", item.message),
        };
        if item.baselined {
            title.push_str(" (in the baseline)");
        }
        out.push_str(&renderer.render(level(item.severity()).title(&title).id(item.rule.id)).to_string());
        out.push('\n');
        out.push_str(&body);
        // The footers, under the snippet's gutter (as wide as its widest line number).
        let gutter = " ".repeat(item.span.map_or(1, |s| s.end_line.to_string().len()) + 1);
        match (&item.fix, item.hint()) {
            (Some(yaml), hint) => {
                out.push_str(&format!("\n{gutter}= help: {}:", hint.as_deref().unwrap_or("fix")));
                for line in yaml.lines() {
                    out.push_str(&format!("\n{gutter}      {line}"));
                }
            }
            (None, Some(hint)) => out.push_str(&format!("\n{gutter}= help: {hint}")),
            (None, None) => {}
        }
        out.push_str("\n\n");
    }
    out
}

fn level(severity: Severity) -> Level {
    match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    }
}

/// The source lines of the item's node with a caret under it: what follows the title.
fn snippet(renderer: &Renderer, file: &FileReport, item: &Item) -> String {
    let level = level(item.severity());
    // Only the lines of the node are given to the renderer: a large file is not read for
    // each finding.
    let source;
    let masked;
    let mut message = level.title("");
    if let Some(span) = item.span {
        let text = &file.text;
        let start = text[..span.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
        let end = text[span.end.min(text.len())..].find('\n').map_or(text.len(), |i| span.end + i);
        masked = file.mask_bytes(&text[start..end]);
        source = &masked;
        let range = span.start - start..(span.end - start).max(span.start - start + 1).min(source.len().max(1));
        message = message.snippet(
            Snippet::source(source).line_start(span.line).origin(&file.path).fold(false).annotation(level.span(range)),
        );
    } else {
        message = message.snippet(Snippet::source("").origin(&file.path));
    }
    let rendered = renderer.render(message).to_string();
    // Without its (empty) title line.
    rendered.split_once('\n').map_or(String::new(), |(_, rest)| rest.to_string())
}

pub fn summary(report: &Report) -> String {
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
    // A file not checked is never a clean one: the summary says so first.
    let failed = match report.failed.len() {
        0 => String::new(),
        n => format!("{n} file{} could not be checked (errors above); ", if n == 1 { "" } else { "s" }),
    };
    out.push_str(&format!(
        "{failed}{}: {}, {}, {}; {fixable} fixable with `apply`\n",
        n(report.files.len(), "file"),
        n(report.count(Severity::Error), "error"),
        n(report.count(Severity::Warning), "warning"),
        n(report.count(Severity::Info), "info"),
    ));
    out
}
