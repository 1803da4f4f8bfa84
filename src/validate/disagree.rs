//! Where the file's two readings differ: the layout (saphyr) and the value Compose sees
//! (libyaml). They differ only on unusual text (an anchor name with `:`, odd indentation);
//! an edit planned on one and placed by the other then fails the verifier, and the user
//! is told where the file is ambiguous rather than that the tool failed.

use saphyr_parser::ScalarStyle;
use yaml_serde::Value;

use super::stream::{plain_resolves_to_string, scalar_is};
use crate::document::layout::{Kind, Layout, NodeId, Style};
use crate::document::Document;

/// The line and column of the first node the two readings read differently.
pub fn first_disagreement(doc: &Document) -> Option<(usize, usize)> {
    let layout = &doc.layout;
    differs(layout, layout.root, &doc.value).map(|id| (layout.node(id).line, layout.node(id).col))
}

fn differs(layout: &Layout, id: NodeId, value: &Value) -> Option<NodeId> {
    let id = layout.resolve(id);
    let node = layout.node(id);
    // A tag's meaning is not compared, only what it is on (a tagged scalar not at all).
    let value = match value {
        Value::Tagged(tagged) => &tagged.value,
        value => value,
    };
    if node.tagged && matches!(node.kind, Kind::Scalar { .. }) {
        return None;
    }
    match (&node.kind, value) {
        (Kind::Map { entries, .. }, Value::Mapping(map)) => {
            // `<<` merges change the value by design: such a mapping is not compared.
            if entries.iter().any(|(k, _)| layout.scalar(*k) == Some("<<")) {
                return None;
            }
            if entries.len() != map.len() {
                return Some(id);
            }
            entries.iter().find_map(|(k, v)| {
                let key = layout.node(*k);
                let Kind::Scalar { value: text, style } = &key.kind else { return None };
                // A key that reads as a string is found by hashing first (services can be
                // thousands); any other, or one not found so, by comparing each key.
                let hashed = (!key.tagged && (*style != Style::Plain || plain_resolves_to_string(text)))
                    .then(|| map.get(&**text))
                    .flatten();
                let got = hashed.or_else(|| {
                    map.iter().find(|(want, _)| scalar_is(text, saphyr_style(*style), want)).map(|(_, got)| got)
                });
                match got {
                    Some(got) => differs(layout, *v, got),
                    None => Some(*k),
                }
            })
        }
        (Kind::Seq { items, .. }, Value::Sequence(values)) => {
            if items.len() != values.len() {
                return Some(id);
            }
            items.iter().zip(values).find_map(|(item, value)| differs(layout, *item, value))
        }
        (Kind::Scalar { value: text, style }, value) => (!scalar_is(text, saphyr_style(*style), value)).then_some(id),
        _ => Some(id),
    }
}

fn saphyr_style(style: Style) -> ScalarStyle {
    match style {
        Style::Plain => ScalarStyle::Plain,
        Style::SingleQuoted => ScalarStyle::SingleQuoted,
        Style::DoubleQuoted => ScalarStyle::DoubleQuoted,
        Style::Block { .. } => ScalarStyle::Literal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::load;

    #[test]
    fn the_readings_agree_on_plain_files_and_the_first_difference_is_found() {
        let plain = "x-a: &a {k: [1, 'two', null, true]}\nservices:\n  web:\n    <<: *a\n    image: \"n\"\n    command: |\n      run\n";
        assert_eq!(first_disagreement(&load("f.yml", plain.as_bytes()).expect("loads")), None);
        // libyaml ends an anchor name at `:`, saphyr does not: a mapping to one, a null to
        // the other.
        let odd = "services:\n  e:\n    image: x\n    ulimits:\n      &o::\n";
        assert_eq!(first_disagreement(&load("f.yml", odd.as_bytes()).expect("loads")), Some((5, 7)));
        // Under a tagged mapping as well (found by the fuzzer).
        let tagged = format!("!t\n{odd}");
        assert_eq!(first_disagreement(&load("f.yml", tagged.as_bytes()).expect("loads")), Some((6, 7)));
    }
}
