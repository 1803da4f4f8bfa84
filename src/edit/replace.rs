//! Replacing a value the user wrote, in as little text as possible: where the new value
//! is the old one with something inserted (`exec ` before a command, `-f` into a probe),
//! only that insertion is written, inside the existing quoting or list.

use super::{render, Splice};
use crate::document::layout::{Kind, NodeId, Style};
use crate::document::Document;
use yaml_serde::Value;

/// The splices that turn the value at `node` from `old` into `new`.
pub fn splices(doc: &Document, node: NodeId, old: &Value, new: &Value) -> Result<Vec<Splice>, String> {
    let n = doc.layout.node(node);
    match (&n.kind, old, new) {
        (Kind::Scalar { style, .. }, Value::String(old), Value::String(new)) => {
            Ok(vec![string(doc, node, *style, old, new)])
        }
        (Kind::Seq { flow, items }, Value::Sequence(old_items), Value::Sequence(new_items)) => {
            if let Some(inserts) = inserted_items(old_items, new_items) {
                return Ok(sequence(doc, *flow, items, &inserts));
            }
            if old_items.len() == new_items.len() && items.len() == old_items.len() {
                // Same length: edit each changed item in place.
                let mut out = Vec::new();
                for ((item, o), n) in items.iter().zip(old_items).zip(new_items).filter(|((_, o), n)| o != n) {
                    out.extend(splices(doc, *item, o, n)?);
                }
                return Ok(out);
            }
            if *flow {
                Ok(vec![whole(doc, node, new)])
            } else {
                Err("the list changed in a way that cannot be written in place".to_string())
            }
        }
        (Kind::Scalar { .. } | Kind::Seq { flow: true, .. } | Kind::Map { flow: true, .. }, _, _) => {
            Ok(vec![whole(doc, node, new)])
        }
        _ => Err("the value is a block collection that cannot be rewritten in place".to_string()),
    }
}

/// The whole node replaced by the new value in flow style.
fn whole(doc: &Document, node: NodeId, new: &Value) -> Splice {
    let n = doc.layout.node(node);
    let mut text = String::new();
    render::flow_value_in(&mut text, new, doc.is_json());
    Splice { start: n.start, end: n.end, order: 0, text }
}

/// A string: insert into the existing text where the source spells the value out as it
/// is (no escapes, one line); otherwise rewrite the scalar, keeping it quoted if it was.
fn string(doc: &Document, node: NodeId, style: Style, old: &str, new: &str) -> Splice {
    let n = doc.layout.node(node);
    let source = &doc.text[n.start..n.end];
    let (open, inner) = match style {
        Style::Plain => (0, source),
        Style::DoubleQuoted | Style::SingleQuoted => (1, source.get(1..source.len().saturating_sub(1)).unwrap_or("")),
        Style::Block { .. } => (0, ""),
    };
    let prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    let prefix = (0..=prefix).rev().find(|p| old.is_char_boundary(*p) && new.is_char_boundary(*p)).unwrap_or(0);
    let room = old.len().min(new.len()) - prefix;
    let mut suffix = old.bytes().rev().zip(new.bytes().rev()).take_while(|(a, b)| a == b).count().min(room);
    while suffix > 0 && !(old.is_char_boundary(old.len() - suffix) && new.is_char_boundary(new.len() - suffix)) {
        suffix -= 1;
    }
    let pure_insert = prefix + suffix == old.len() && new.len() > old.len();
    let inserted = &new[prefix..new.len() - suffix];
    let escaped = match style {
        Style::DoubleQuoted => crate::quote::double_quoted(inserted).trim_matches('"').to_string(),
        Style::SingleQuoted => inserted.replace('\'', "''"),
        _ => inserted.to_string(),
    };
    let spelled_out = inner == old && (style != Style::Plain || crate::quote::scalar(new) == new);
    if pure_insert && spelled_out {
        let at = n.start + open + prefix;
        return Splice { start: at, end: at, order: 0, text: escaped };
    }
    // A block scalar: an insertion into its first line, which the source spells out.
    if let (Style::Block { .. }, true) = (style, pure_insert && !inserted.contains(['\n', '\r'])) {
        // The node starts at its `|` or `>` header, or at its first content line.
        let body = match source.starts_with(['|', '>']) {
            true => source.find('\n').map(|i| i + 1),
            false => Some(0),
        };
        if let Some(body) = body {
            let indent = source[body..].len() - source[body..].trim_start_matches(' ').len();
            let first = source[body + indent..].split(['\n', '\r']).next().unwrap_or("");
            if old.starts_with(first) && prefix <= first.len() && !first.is_empty() {
                let at = n.start + body + indent + prefix;
                return Splice { start: at, end: at, order: 0, text: inserted.to_string() };
            }
        }
    }
    let text = match style {
        Style::DoubleQuoted | Style::SingleQuoted => crate::quote::double_quoted(new),
        _ => crate::quote::scalar(new),
    };
    Splice { start: n.start, end: n.end, order: 0, text }
}

/// Where `new` is `old` with items inserted: each new item and the index of the old item
/// it goes before (`old.len()` for the end).
fn inserted_items<'a>(old: &[Value], new: &'a [Value]) -> Option<Vec<(usize, &'a Value)>> {
    let mut inserts = Vec::new();
    let mut i = 0;
    for item in new {
        if i < old.len() && old[i] == *item {
            i += 1;
        } else {
            inserts.push((i, item));
        }
    }
    (i == old.len() && !inserts.is_empty()).then_some(inserts)
}

fn sequence(doc: &Document, flow: bool, items: &[NodeId], inserts: &[(usize, &Value)]) -> Vec<Splice> {
    let layout = &doc.layout;
    inserts
        .iter()
        .filter_map(|(before, value)| {
            let mut item = String::new();
            render::flow_item(&mut item, value);
            if flow {
                return Some(match items.get(*before) {
                    Some(next) => {
                        let at = layout.node(*next).start;
                        Splice { start: at, end: at, order: 0, text: format!("{item}, ") }
                    }
                    None => {
                        let at = layout.node(*items.last()?).end;
                        Splice { start: at, end: at, order: 0, text: format!(", {item}") }
                    }
                });
            }
            // Block items: a new `- item` line at the column of the existing dashes.
            let first = layout.node(*items.first()?);
            let line_start = doc.text[..first.start].rfind('\n').map_or(0, |p| p + 1);
            let dash = doc.text[line_start..first.start].find('-')?;
            let line = format!("{}- {item}{}", " ".repeat(dash), doc.eol);
            let at = match items.get(*before) {
                Some(next) => doc.text[..layout.node(*next).start].rfind('\n').map_or(0, |p| p + 1),
                None => {
                    let after = super::next_line_start(&doc.text, layout.node(*items.last()?).end);
                    super::past_own_lines(&doc.text, after, dash)
                }
            };
            Some(Splice { start: at, end: at, order: 0, text: line })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::load;

    fn replaced(text: &str, old: &str, new: &str) -> String {
        let doc = load("t.yml", text.as_bytes()).expect("loads");
        let node = doc.layout.get(doc.layout.root, "k").expect("key k").1;
        let s = splices(&doc, node, &Value::from(old), &Value::from(new)).expect("splices");
        crate::edit::splice(&doc.text, s).0
    }

    #[test]
    fn strings_get_the_smallest_edit_in_their_own_quoting() {
        assert_eq!(replaced("k: sh run\n", "sh run", "sh exec run"), "k: sh exec run\n");
        assert_eq!(replaced("k: 'a b'\n", "a b", "a it's b"), "k: 'a it''s b'\n");
        assert_eq!(replaced("k: \"a b\"\n", "a b", "a \"x\" b"), "k: \"a \\\"x\\\" b\"\n");
        // Shorter, overlapping and non-ASCII replacements rewrite the scalar whole.
        assert_eq!(replaced("k: aa\n", "aa", "a"), "k: a\n");
        assert_eq!(replaced("k: \"é1é\"\n", "é1é", "é22é"), "k: \"é22é\"\n");
        assert_eq!(replaced("k: x\n", "x", "yes"), "k: \"yes\"\n");
        // A block scalar's first line takes the insertion in place.
        assert_eq!(replaced("k: |\n  node app\n", "node app\n", "exec node app\n"), "k: |\n  exec node app\n");
    }

    #[test]
    fn an_item_added_at_the_end_goes_past_the_lines_the_last_item_allows() {
        // A line indented with a tab is legal after the plain scalar above it; a comment
        // at the dashes' column stays below the new item, as after a mapping's keys.
        let doc = load("t.yml", "k:\n  - a\n   \t# t\n  # - b\nx: 1\n".as_bytes()).expect("loads");
        let node = doc.layout.get(doc.layout.root, "k").expect("key k").1;
        let (old, new) = (Value::Sequence(vec!["a".into()]), Value::Sequence(vec!["a".into(), "c".into()]));
        let s = splices(&doc, node, &old, &new).expect("splices");
        assert_eq!(crate::edit::splice(&doc.text, s).0, "k:\n  - a\n   \t# t\n  - \"c\"\n  # - b\nx: 1\n");
    }
}
