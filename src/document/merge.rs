//! `<<` merge keys, resolved the way Compose does: a mapping's own keys win, then the
//! merged mappings in order. Children are merged first, so chains of merges
//! (`base` -> `defaults` -> service) resolve fully, which `Value::apply_merge` does not.

use yaml_serde::value::{Tag, TaggedValue};
use yaml_serde::Value;

/// Marks, inside a `!reset` beside `<<`, the value `<<` merges in for that key: Compose
/// drops only the value written in the mapping and keeps the merged one.
const KEPT: &str = "compose-harden-kept";

/// The value Compose keeps for a `!reset` key that `<<` also merges in, if it is one.
pub fn kept_by_merge(value: &Value) -> Option<&Value> {
    match value {
        Value::Tagged(reset) if reset.tag == "reset" => match &reset.value {
            Value::Tagged(kept) if kept.tag == KEPT => Some(&kept.value),
            _ => None,
        },
        _ => None,
    }
}

pub fn merge_keys(value: &mut Value) -> Result<(), String> {
    match value {
        Value::Mapping(map) => {
            for (_, v) in map.iter_mut() {
                merge_keys(v)?;
            }
            // Looked for by comparing keys (a hashed lookup costs more, on every mapping).
            if super::lookup::get(map, "<<").is_none() {
                return Ok(());
            }
            let Some(merge) = map.remove("<<") else {
                return Ok(());
            };
            let sources = match merge {
                Value::Mapping(m) => vec![m],
                Value::Sequence(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Value::Mapping(m) => Ok(m),
                        _ => Err("a `<<` merge list may hold only mappings".to_string()),
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err("a `<<` merge key must name a mapping (`<<: *anchor`)".to_string()),
            };
            for source in sources {
                for (k, v) in source {
                    match map.get_mut(&k) {
                        None => {
                            map.insert(k, v);
                        }
                        // The first merged value is the one Compose keeps; the key still
                        // reads as reset (nothing is added under it), and says what is kept.
                        Some(Value::Tagged(reset)) if reset.tag == "reset" && kept_by_merge_inner(&reset.value) => {
                            reset.value = Value::Tagged(Box::new(TaggedValue { tag: Tag::new(KEPT), value: v }));
                        }
                        Some(_) => {}
                    }
                }
            }
            Ok(())
        }
        Value::Sequence(items) => items.iter_mut().try_for_each(merge_keys),
        Value::Tagged(tagged) => merge_keys(&mut tagged.value),
        _ => Ok(()),
    }
}

/// Whether a `!reset`'s value is not marked yet.
fn kept_by_merge_inner(value: &Value) -> bool {
    !matches!(value, Value::Tagged(kept) if kept.tag == KEPT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_beside_a_merge_keeps_what_the_merge_gives() {
        let text = "a: &a {restart: always, deploy: {restart_policy: {condition: any}}}\n\
                    s: {<<: [*a, {ulimits: {}}], restart: !reset '', deploy: !reset {}, init: !reset null}\n";
        let mut value: Value = yaml_serde::from_str(text).expect("yaml");
        merge_keys(&mut value).expect("merges");
        let s = &value["s"];
        assert_eq!(kept_by_merge(&s["restart"]), Some(&Value::from("always")));
        assert!(kept_by_merge(&s["deploy"]).is_some_and(|d| d.get("restart_policy").is_some()));
        // Nothing merged for it: Compose drops it.
        assert_eq!(kept_by_merge(&s["init"]), None);
        assert!(matches!(&s["init"], Value::Tagged(t) if t.tag == "reset"));
    }
}
