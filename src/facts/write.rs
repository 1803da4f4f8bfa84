//! Writing a facts file: one stable text for the same facts (sorted, no times), and each
//! command's sections rewritten while the others' are kept byte for byte.

use super::{Facts, Healthcheck, Image};
use crate::document::layout::{self, Kind};
use crate::quote::{double_quoted, scalar};
use crate::Error;

/// The command that writes a facts file, and so the sections it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// `compose-harden inspect`: `inspected`, `images` and `builds`.
    Inspect,
    /// The per-service sections (`services`), written by the command that proves probes.
    Probes,
}

/// The top-level sections, in the order they are written.
const SECTIONS: &[&str] = &["inspected", "images", "builds", "services"];

impl Owner {
    fn owns(self, section: &str) -> bool {
        match self {
            Owner::Inspect => matches!(section, "inspected" | "images" | "builds"),
            Owner::Probes => section == "services",
        }
    }
}

/// The file `owner` writes: its sections from `facts`, every other section as `existing`
/// (the file as it stands, if there is one) holds it, byte for byte. An existing file that
/// cannot be read is an error: it is not overwritten.
pub fn render(file: &str, existing: Option<&str>, facts: &Facts, owner: Owner) -> Result<String, Error> {
    let old = match existing {
        Some(text) => Some((super::parse(file, text)?, kept_sections(file, text)?)),
        None => None,
    };
    let mut out = String::from(super::HEADER);
    out.push_str(&format!("version: {}\n", super::VERSION));
    for section in SECTIONS {
        if owner.owns(section) {
            out.push_str(&section_text(section, facts));
        } else if let Some((old_facts, kept)) = &old {
            match kept.iter().find(|(name, _)| name == section) {
                Some((_, text)) => out.push_str(text),
                // A file whose top level is written in flow style has no lines to keep.
                None if kept.is_empty() => out.push_str(&section_text(section, old_facts)),
                None => {}
            }
        }
    }
    // What was kept reads back as it was, and what was written as it was given.
    let again = super::parse(file, &out)
        .map_err(|e| Error::new(file, format!("internal error: the facts written do not read back ({e})")))?;
    let mut expected = facts.clone();
    let before = old.map(|(f, _)| f).unwrap_or_else(Facts::new);
    for section in SECTIONS.iter().filter(|s| !owner.owns(s)) {
        take_section(&mut expected, &before, section);
    }
    expected.version = super::VERSION;
    expected.share_searched();
    if again != expected {
        return Err(Error::new(file, "internal error: the facts written read back differently; nothing was written"));
    }
    Ok(out)
}

fn take_section(into: &mut Facts, from: &Facts, section: &str) {
    match section {
        "inspected" => into.inspected = from.inspected.clone(),
        "images" => into.images = from.images.clone(),
        "builds" => into.builds = from.builds.clone(),
        _ => into.services = from.services.clone(),
    }
}

/// Each top-level section of a block-style file, with the comments and blank lines above
/// it, as text ending in a line break. Empty for a file whose top level is flow style.
fn kept_sections(file: &str, text: &str) -> Result<Vec<(String, String)>, Error> {
    let layout = layout::build(text, file)?;
    let root = &layout.nodes[layout.root];
    let Kind::Map { flow: false, entries } = &root.kind else { return Ok(Vec::new()) };
    // The start of the line after the one a node ends on (a block collection's end may
    // already be past its line break).
    let line_after = |end: usize| match end > 0 && text.as_bytes().get(end - 1) == Some(&b'\n') {
        true => end,
        false => text.get(end..).and_then(|rest| rest.find('\n')).map_or(text.len(), |i| end + i + 1),
    };
    let mut out = Vec::new();
    let mut from = 0;
    for (i, (key, value)) in entries.iter().enumerate() {
        let name = layout.scalar(*key).unwrap_or_default().to_string();
        let value_end = layout.nodes[*value].end.max(layout.nodes[*key].end);
        let to = if i + 1 == entries.len() { text.len() } else { line_after(value_end).max(from) };
        // The first section's comments above it are the file's header, written anew.
        let start = if i == 0 { line_start(text, layout.nodes[*key].start) } else { from };
        let mut piece = text[start..to].to_string();
        if !piece.ends_with('\n') {
            piece.push('\n');
        }
        out.push((name, piece));
        from = to;
    }
    Ok(out)
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// One section as `owner` writes it; empty where there is nothing to write.
fn section_text(section: &str, facts: &Facts) -> String {
    let mut out = String::new();
    match section {
        "inspected" => {
            if let Some(inspected) = &facts.inspected {
                out.push_str("inspected:\n");
                out.push_str(&format!("  engine: {}\n", scalar(&inspected.engine)));
                out.push_str(&format!("  tools: {}\n", flow(&inspected.tools)));
            }
        }
        // References are quoted (they hold `:` and `${...}`); service names are plain.
        "images" => images(&mut out, "images", &facts.images, true),
        "builds" => images(&mut out, "builds", &facts.builds, false),
        _ => out.push_str(&super::proven::render(&facts.services)),
    }
    out
}

/// A section of images; `references` names them by reference (always written, quoted),
/// else by service (written only when there is one).
fn images(out: &mut String, name: &str, images: &std::collections::BTreeMap<String, Image>, references: bool) {
    if images.is_empty() {
        if references {
            out.push_str(&format!("{name}: {{}}\n"));
        }
        return;
    }
    out.push_str(&format!("{name}:\n"));
    for (key, image) in images {
        let key = if references { double_quoted(key) } else { scalar(key) };
        out.push_str(&format!("  {key}:\n"));
        image_text(out, image);
    }
}

fn image_text(out: &mut String, image: &Image) {
    let line = |out: &mut String, key: &str, value: String| out.push_str(&format!("    {key}: {value}\n"));
    line(out, "id", scalar(&image.id));
    if let Some(reference) = &image.reference {
        line(out, "reference", scalar(reference));
    }
    if !image.repo_digests.is_empty() {
        line(out, "repo_digests", flow(&image.repo_digests));
    }
    line(out, "platform", scalar(&image.platform));
    if let Some(entrypoint) = &image.entrypoint {
        line(out, "entrypoint", flow(entrypoint));
    }
    if let Some(cmd) = &image.cmd {
        line(out, "cmd", flow(cmd));
    }
    for (key, value) in
        [("user", &image.user), ("working_dir", &image.working_dir), ("stop_signal", &image.stop_signal)]
    {
        if let Some(v) = value {
            line(out, key, scalar(v));
        }
    }
    if let Some(check) = &image.healthcheck {
        healthcheck(out, check);
    }
    for (key, list) in [("exposed_ports", &image.exposed_ports), ("volumes", &image.volumes), ("env", &image.env)] {
        if !list.is_empty() {
            line(out, key, flow(list));
        }
    }
    if !image.labels.is_empty() {
        out.push_str("    labels:\n");
        for (k, v) in &image.labels {
            out.push_str(&format!("      {}: {}\n", scalar(k), scalar(v)));
        }
    }
    line(out, "path", flow(&image.path));
    line(out, "bin_sh", image.bin_sh.to_string());
    if image.tools.is_empty() {
        out.push_str("    tools: {}\n");
    } else {
        out.push_str("    tools:\n");
        for (name, tool) in &image.tools {
            out.push_str(&format!("      {}: {}\n", scalar(name), scalar(&tool.to_string())));
        }
    }
    if let Some(init) = &image.init {
        let marker = init.marker.as_deref().map(|m| format!(", marker: {}", scalar(m))).unwrap_or_default();
        line(out, "init", format!("{{kind: {}, path: {}{marker}}}", init.kind.name(), scalar(&init.path)));
    }
}

fn healthcheck(out: &mut String, check: &Healthcheck) {
    out.push_str("    healthcheck:\n");
    out.push_str(&format!("      test: {}\n", flow(&check.test)));
    let durations = [
        ("interval", &check.interval),
        ("timeout", &check.timeout),
        ("start_period", &check.start_period),
        ("start_interval", &check.start_interval),
    ];
    for (key, value) in durations {
        if let Some(v) = value {
            out.push_str(&format!("      {key}: {}\n", scalar(v)));
        }
    }
    if let Some(retries) = check.retries {
        out.push_str(&format!("      retries: {retries}\n"));
    }
}

/// A list in flow style, each item plain where that reads back as the same string.
fn flow(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| scalar(i)).collect();
    format!("[{}]", items.join(", "))
}
