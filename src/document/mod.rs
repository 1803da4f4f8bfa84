//! Load: text to a [`Document`], the source plus a semantic view with merges resolved.

pub mod active;
pub mod env;
pub mod extends;
pub mod layer;
pub mod layout;
pub mod lookup;
mod merge;
pub mod overlay;
pub mod project;
pub mod slices;
pub mod spec;

pub use merge::{kept_by_merge, merge_keys};

use crate::error::Error;
use layout::Layout;
use yaml_serde::Value;

/// Larger inputs are refused before parsing; the biggest real compose files are a few MB.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// Files from this size on have their services read a run at a time, of about
/// `RUN_BYTES` each, on both cores once the layout is built (a smaller file reads as
/// fast whole).
const SLICED_FROM: usize = 256 * 1024;
const RUN_BYTES: usize = 16 * 1024;
/// From this size on, a finished document is freed on its own thread (see `harden_with`).
pub const FREE_APART_FROM: usize = SLICED_FROM;
/// A longer line is refused: no hand-written or generated compose file has one.
pub const MAX_LINE: usize = 1024 * 1024;

pub struct Document {
    /// The name used in messages (the path as given, or `<stdin>`).
    pub file: String,
    pub text: String,
    pub layout: Layout,
    /// The whole file as Compose reads it: aliases expanded, `<<` merged.
    pub value: Value,
    /// The file's own line ending, used for every line the tool adds.
    pub eol: &'static str,
}

impl Document {
    /// Whether the file is written as JSON (a flow mapping at the top whose keys are all
    /// double-quoted): what is added to it must stay JSON, quoted and without comments.
    pub fn is_json(&self) -> bool {
        match &self.layout.node(self.layout.root).kind {
            layout::Kind::Map { flow: true, entries } => self.layout.quoted_keys(entries),
            _ => false,
        }
    }

    pub fn services(&self) -> Option<&yaml_serde::Mapping> {
        self.value.get("services").and_then(Value::as_mapping)
    }
}

/// What the passes read of a project: every service as Compose merges it.
pub struct Model<'a> {
    pub services: Option<&'a yaml_serde::Mapping>,
    /// The `x-compose-harden` settings of the project's first file.
    pub settings: Option<&'a Value>,
    /// Services whose `extends` is resolved (the view to plan with), or cannot be.
    pub inherited: &'a extends::Inheritance,
    /// The `include` list of a file hardened alone, whose files are not read: each is
    /// reported.
    pub unread_includes: Option<&'a Value>,
    /// The (first) file's top level, for checks of keys beside `services`.
    pub top: Option<&'a Value>,
}

impl<'a> Model<'a> {
    /// One file alone, its includes not read.
    pub fn of(doc: &'a Document, inherited: &'a extends::Inheritance) -> Model<'a> {
        Model {
            services: doc.services(),
            settings: doc.value.get("x-compose-harden"),
            inherited,
            unread_includes: doc.value.get("include"),
            top: Some(&doc.value),
        }
    }
}

/// Takes the bytes by value where it can: a file of thousands of services is not copied.
pub fn load<'a>(file: &str, bytes: impl Into<std::borrow::Cow<'a, [u8]>>) -> Result<Document, Error> {
    let text = text(file, bytes.into().into_owned())?;
    check_line_breaks(file, &text)?;
    check_lines(file, &text)?;
    let (layout, value) = read(file, &text)?;
    let eol = match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    };
    Ok(Document { file: file.to_string(), text, layout, value, eol })
}

/// The bytes as text: within the size limit, UTF-8, without a NUL byte.
fn text(file: &str, bytes: Vec<u8>) -> Result<String, Error> {
    if bytes.len() > MAX_BYTES {
        return Err(Error::new(
            file,
            format!(
                "the file is {} bytes, over the limit of {MAX_BYTES} bytes (64 MiB); no compose file is that large",
                bytes.len()
            ),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, col) = line_col(e.as_bytes(), e.utf8_error().valid_up_to());
            return Err(Error::at(file, line, col, "the file is not valid UTF-8 text (a binary file?)"));
        }
    };
    if let Some(nul) = text.find('\0') {
        let (line, col) = line_col(text.as_bytes(), nul);
        return Err(Error::at(file, line, col, "the file holds a NUL byte: it is binary, not YAML"));
    }
    Ok(text)
}

/// Line breaks that YAML readers and line-based tools count differently are refused.
fn check_line_breaks(file: &str, text: &str) -> Result<(), Error> {
    // YAML reads a lone carriage return as a line break; every line-based tool (and this
    // one's edits) would not. Such files are rare (classic Mac OS): ask for a conversion.
    if let Some(cr) = text.match_indices('\r').map(|(i, _)| i).find(|i| text.as_bytes().get(i + 1) != Some(&b'\n')) {
        let (line, col) = line_col(text.as_bytes(), cr);
        return Err(Error::at(
            file,
            line,
            col,
            "a carriage return without a line feed (a classic Mac OS line break): YAML reads it as a line break, \
             most tools do not; convert the file to LF or CRLF line endings",
        ));
    }
    // The same for YAML 1.1's other line breaks, which Docker Compose's reader (go-yaml)
    // honours and YAML 1.2 readers and line-based tools do not.
    let breaks = [
        ('\u{85}', "next line (NEL, U+0085)"),
        ('\u{2028}', "line separator (U+2028)"),
        ('\u{2029}', "paragraph separator (U+2029)"),
    ];
    if let Some((at, (c, name))) = breaks.iter().filter_map(|b| Some((text.find(b.0)?, b))).min_by_key(|(at, _)| *at) {
        let (line, col) = line_col(text.as_bytes(), at);
        return Err(Error::at(
            file,
            line,
            col,
            format!(
                "a {name}: Docker Compose reads it as a line break, most tools do not; remove it, or write it as an escape (`\\u{:04X}`) inside double quotes",
                *c as u32
            ),
        ));
    }
    Ok(())
}

/// No line over [`MAX_LINE`], some content, and no YAML directive.
fn check_lines(file: &str, text: &str) -> Result<(), Error> {
    // One pass over the lines (by memchr) for the two checks that look at every line.
    let (mut too_long, mut directive) = (None, None);
    let mut start = 0;
    for (n, end) in memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]).enumerate() {
        if too_long.is_none() && end - start > MAX_LINE {
            too_long = Some((n + 1, end - start));
        }
        if directive.is_none() && text.as_bytes().get(start) == Some(&b'%') {
            directive = Some(n + 1);
        }
        start = end + 1;
    }
    if let Some((n, len)) = too_long {
        return Err(Error::at(
            file,
            n,
            1,
            format!("line {n} is {len} bytes long, over the limit of {MAX_LINE} bytes (1 MiB)"),
        ));
    }
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    }) {
        return Err(Error::new(file, "empty compose file: it has no content (Compose refuses it too)"));
    }
    if let Some(n) = directive {
        return Err(Error::at(
            file,
            n,
            1,
            "YAML directives (`%YAML`, `%TAG`) are not supported: Docker Compose rejects such files; remove the line",
        ));
    }
    Ok(())
}

/// The layout and the semantic view, read by the two parsers on two cores. A large file's
/// services are read a run at a time (see `slices`), by both threads once the layout is
/// built, if the layout agrees with the split.
fn read(file: &str, text: &str) -> Result<(Layout, Value), Error> {
    let runs = (text.len() >= SLICED_FROM).then(|| slices::Runs::split(text, RUN_BYTES)).flatten();
    let (layout, value, helped) = std::thread::scope(|scope| {
        let value = scope.spawn(|| match &runs {
            Some(runs) => Ok(Read::Runs(runs.work())),
            None => semantic_value(file, text).map(Read::Whole),
        });
        let layout = layout::build(text, file);
        let helped = match (&runs, &layout) {
            (Some(runs), Ok(_)) => runs.work(),
            (Some(runs), Err(_)) => {
                runs.stop();
                Vec::new()
            }
            (None, _) => Vec::new(),
        };
        (layout, value.join(), helped)
    });
    let layout = layout?;
    let root = layout.node(layout.root);
    if !matches!(root.kind, layout::Kind::Map { .. }) {
        return Err(Error::at(
            file,
            root.line,
            root.col,
            "the top level of a compose file must be a mapping (`services:`, `volumes:`, ...)",
        ));
    }
    check_merges(&layout, file)?;
    let value = value.map_err(|_| Error::new(file, "internal error: the YAML reader stopped unexpectedly"))??;
    let value = match value {
        Read::Whole(value) => value,
        Read::Runs(done) => match runs.and_then(|runs| runs.finish(vec![done, helped])) {
            Some(reading) if reading.fits(&layout) => reading.value,
            _ => semantic_value(file, text)?,
        },
    };
    Ok((layout, value))
}

/// What the loader's second thread read: the whole file, or its share of the runs.
enum Read {
    Whole(Value),
    Runs(slices::Done),
}

/// A `<<` must name a mapping (or a list of them); say where one does not.
fn check_merges(layout: &Layout, file: &str) -> Result<(), Error> {
    for node in &layout.nodes {
        let layout::Kind::Map { entries, .. } = &node.kind else { continue };
        for (key, value) in entries {
            if layout.scalar(*key) != Some("<<") {
                continue;
            }
            let value = layout.resolve(*value);
            let ok = match &layout.node(value).kind {
                layout::Kind::Map { .. } => true,
                layout::Kind::Seq { items, .. } => {
                    items.iter().all(|i| matches!(layout.node(layout.resolve(*i)).kind, layout::Kind::Map { .. }))
                }
                _ => false,
            };
            if !ok {
                let k = layout.node(*key);
                return Err(Error::at(file, k.line, k.col, "a `<<` merge key must name a mapping (`<<: *anchor`)"));
            }
        }
    }
    Ok(())
}

/// The file as Compose reads it (aliases expanded, `<<` merged), by a second parser
/// (libyaml's port): the verifier reads outputs with it, independently of the layout.
pub fn semantic_value(file: &str, text: &str) -> Result<Value, Error> {
    let mut value: Value = yaml_serde::from_str(text).map_err(|e| {
        // libyaml's reader gives only a byte offset for a character it refuses: find it.
        if e.to_string().starts_with("control characters are not allowed") {
            if let Some((at, c)) = text.char_indices().find(|(_, c)| !yaml_printable(*c)) {
                let (line, col) = line_col(text.as_bytes(), at);
                let code = c as u32;
                return Error::at(
                    file,
                    line,
                    col,
                    format!(
                        "a control character (U+{code:04X}): YAML does not allow it in a file; remove it, or write it as an escape (`\\u{code:04X}`) inside double quotes"
                    ),
                );
            }
        }
        match e.location() {
            Some(l) => Error::at(file, l.line(), l.column(), format!("invalid YAML: {e}")),
            None => Error::new(file, format!("invalid YAML: {e}")),
        }
    })?;
    merge_keys(&mut value).map_err(|m| Error::new(file, m))?;
    Ok(value)
}

/// Whether YAML (and libyaml's reader) allows a character in a file: the printable ones,
/// tab and line breaks.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_reading_reads_ascii_runs_and_other_characters_alike() {
        // The patched reader copies ASCII runs at once (vendor/libyaml-rs): what surrounds
        // other characters, and where an error is, must come out as before.
        let text = "a: héllo wörld\nb: 'x\ty'\r\nc: \"\\u00e9 ok\"\nd: 日本 text\ne: |\n  line one\n  ünïcode\n";
        let value = semantic_value("t.yml", text).expect("reads");
        let expected: Value = yaml_serde::from_str(
            "{a: \"héllo wörld\", b: \"x\\ty\", c: \"é ok\", d: \"日本 text\", e: \"line one\\nünïcode\\n\"}",
        )
        .expect("expected value");
        assert_eq!(value, expected);
        // The reader gives a byte offset (5 + 4 + 2 bytes before the character), which is
        // reported as a line and a column.
        let err = semantic_value("t.yml", "a: b\nc: dé\u{7}e\n").expect_err("a control character");
        assert!(err.to_string().starts_with("t.yml:2:6: error: a control character (U+0007)"), "{err}");
        let c1 = semantic_value("t.yml", "a: b\nc: \u{9F}\n").expect_err("a C1 control character");
        assert!(c1.to_string().starts_with("t.yml:2:4: error: a control character (U+009F)"), "{c1}");
    }
}
