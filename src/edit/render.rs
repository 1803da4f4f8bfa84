//! New YAML text for inserted values: scalars quoted only where a reader could take them
//! for something other than a string, sequences in flow style, mappings in the style of
//! the place they go.

use crate::quote::{push_double_quoted, push_scalar};
use indexmap::IndexMap;
use yaml_serde::Value;

/// A branch's keys in the order they were planned (hashed with foldhash: these maps are
/// built for every service of a large file).
pub type Children<'a> = IndexMap<&'a str, Tree<'a>, foldhash::fast::RandomState>;

/// The keys and values to insert at one place, nested.
#[derive(Debug, Clone)]
/// It borrows keys, values and notes from the planned changes.
pub enum Tree<'a> {
    Leaf {
        value: &'a Value,
        note: Option<&'a str>,
    },
    /// A mapping; `base` is an alias (`*name`) merged into it with `<<`.
    Branch {
        base: Option<String>,
        children: Children<'a>,
    },
}

impl<'a> Tree<'a> {
    pub fn branch() -> Tree<'a> {
        Tree::Branch { base: None, children: Children::default() }
    }

    /// Adds `value` at `path` below this branch.
    pub fn insert(&mut self, path: &'a [String], value: &'a Value, note: Option<&'a str>) {
        let Tree::Branch { children, .. } = self else {
            return;
        };
        match path {
            [] => {}
            [last] => {
                children.insert(last, Tree::Leaf { value, note });
            }
            [first, rest @ ..] => children.entry(first).or_insert_with(Tree::branch).insert(rest, value, note),
        }
    }

    /// Marks the branches along `path` as merging `bases` (one per leading key).
    pub fn set_bases(&mut self, path: &[String], bases: &[String]) {
        let (Some(key), Some(base)) = (path.first(), bases.first()) else {
            return;
        };
        let Tree::Branch { children, .. } = self else {
            return;
        };
        if let Some(child @ Tree::Branch { .. }) = children.get_mut(key.as_str()) {
            if let Tree::Branch { base: b, .. } = child {
                *b = Some(base.clone());
            }
            child.set_bases(&path[1..], &bases[1..]);
        }
    }

    pub fn notes(&self) -> Vec<&'a str> {
        match self {
            Tree::Leaf { note, .. } => note.iter().copied().collect(),
            Tree::Branch { children, .. } => children.values().flat_map(Tree::notes).collect(),
        }
    }
}

/// Block lines for the children of a branch, each at `indent` spaces, ending in `eol`.
pub fn block(out: &mut String, children: &Children, indent: usize, step: usize, eol: &str) {
    for (key, tree) in children {
        out.extend(std::iter::repeat_n(' ', indent));
        push_scalar(out, key);
        out.push(':');
        match tree {
            Tree::Leaf { value, note } => {
                out.push(' ');
                flow_value(out, value);
                if let Some(note) = note {
                    out.push_str(" # ");
                    out.push_str(note);
                }
                out.push_str(eol);
            }
            Tree::Branch { base, children } => {
                out.push_str(eol);
                if let Some(base) = base {
                    out.extend(std::iter::repeat_n(' ', indent + step));
                    out.push_str("<<: ");
                    out.push_str(base);
                    out.push_str(eol);
                }
                block(out, children, indent + step, step, eol);
            }
        }
    }
}

/// `key: value` pairs in flow style, joined by `sep`; with `json`, every key and string is
/// double-quoted, as in the JSON file (or mapping of quoted keys) they go into.
pub fn flow_entries(out: &mut String, base: Option<&str>, children: &Children, sep: &str, json: bool) {
    let mut first = true;
    if let Some(base) = base {
        out.push_str("<<: ");
        out.push_str(base);
        first = false;
    }
    for (key, tree) in children {
        if !first {
            out.push_str(sep);
        }
        first = false;
        push_string(out, key, json);
        out.push_str(": ");
        match tree {
            Tree::Leaf { value, .. } => flow_value_in(out, value, json),
            Tree::Branch { base, children } => {
                out.push('{');
                flow_entries(out, base.as_deref(), children, ", ", json);
                out.push('}');
            }
        }
    }
}

/// A sequence item in flow style: strings always double-quoted, as in `["CMD", "curl"]`.
pub fn flow_item(out: &mut String, value: &Value) {
    flow_item_in(out, value, false);
}

fn flow_item_in(out: &mut String, value: &Value, json: bool) {
    match value {
        Value::String(s) => push_double_quoted(out, s),
        other => flow_value_in(out, other, json),
    }
}

pub fn flow_value(out: &mut String, value: &Value) {
    flow_value_in(out, value, false);
}

/// [`flow_value`]; with `json`, mapping keys and strings double-quoted.
pub fn flow_value_in(out: &mut String, value: &Value, json: bool) {
    match value {
        Value::Sequence(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow_item_in(out, item, json);
            }
            out.push(']');
        }
        Value::Mapping(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow_value_in(out, k, json);
                out.push_str(": ");
                flow_value_in(out, v, json);
            }
            out.push('}');
        }
        Value::String(s) => push_string(out, s, json),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Null => out.push_str("null"),
        Value::Tagged(t) => flow_value_in(out, &t.value, json),
    }
}

/// A string double-quoted with `json`, else as [`push_scalar`] writes it.
fn push_string(out: &mut String, s: &str, json: bool) {
    if json {
        push_double_quoted(out, s);
    } else {
        push_scalar(out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::flow_value_in;
    use yaml_serde::Value;

    #[test]
    fn json_mode_quotes_every_key_and_string() {
        let value: Value = yaml_serde::from_str("{a: 10m, num: 5, t: true, l: [CMD, 1], m: {k: x}}").unwrap();
        let mut out = String::new();
        flow_value_in(&mut out, &value, true);
        assert_eq!(out, r#"{"a": "10m", "num": 5, "t": true, "l": ["CMD", 1], "m": {"k": "x"}}"#);
        out.clear();
        flow_value_in(&mut out, &value, false);
        assert_eq!(out, r#"{a: 10m, num: 5, t: true, l: ["CMD", 1], m: {k: x}}"#);
    }
}
