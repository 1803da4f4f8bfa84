//! `<<` merge keys, resolved the way Compose does: a mapping's own keys win, then the
//! merged mappings in order. Children are merged first, so chains of merges
//! (`base` -> `defaults` -> service) resolve fully, which `Value::apply_merge` does not.

use yaml_serde::Value;

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
                    map.entry(k).or_insert(v);
                }
            }
            Ok(())
        }
        Value::Sequence(items) => items.iter_mut().try_for_each(merge_keys),
        Value::Tagged(tagged) => merge_keys(&mut tagged.value),
        _ => Ok(()),
    }
}
