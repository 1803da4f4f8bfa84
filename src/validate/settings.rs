//! `x-compose-harden`, the tool's own settings in a compose file: Compose ignores `x-` keys,
//! so a malformed one would be silently ignored and the skip it meant would not happen.

use yaml_serde::Value;

/// What is wrong with the settings at `path` (the file's or a service's), and where: the
/// path of the node to point at, and the key there, if the complaint is about a key.
pub(super) fn check(settings: &Value, path: &[String]) -> Result<(), (Vec<String>, Option<String>, String)> {
    let here = |more: &[&str]| path.iter().cloned().chain(more.iter().map(|s| s.to_string())).collect::<Vec<_>>();
    let Some(map) = settings.as_mapping() else {
        return Err((
            here(&[]),
            None,
            "`x-compose-harden` must be a mapping: `{skip: [pass or rule id, ...], reason: ...}`".to_string(),
        ));
    };
    for (key, value) in map {
        let key = super::key_text(key);
        match key.as_str() {
            "skip" => skip(value, &here(&["skip"]))?,
            "reason" if value.is_string() => {}
            "reason" => return Err((here(&["reason"]), None, "`x-compose-harden.reason` must be text".to_string())),
            _ => {
                let message = crate::suggest::unknown_key(&key, " in `x-compose-harden`", &["skip", "reason"]);
                return Err((here(&[]), Some(key), message));
            }
        }
    }
    Ok(())
}

fn skip(value: &Value, path: &[String]) -> Result<(), (Vec<String>, Option<String>, String)> {
    let Some(items) = value.as_sequence() else {
        let shown = value.as_str().map_or("[...]".to_string(), |s| format!("[{s}]"));
        return Err((path.to_vec(), None, format!("`x-compose-harden.skip` must be a list: `skip: {shown}`")));
    };
    for (i, item) in items.iter().enumerate() {
        let at = || path.iter().cloned().chain([i.to_string()]).collect::<Vec<_>>();
        let entry = "each `x-compose-harden.skip` entry is a pass name, a rule id, or `{id: ..., reason: ...}`";
        match item {
            Value::String(_) => {}
            Value::Mapping(m) => {
                for (k, v) in m {
                    match (super::key_text(k).as_str(), v) {
                        ("id" | "reason", Value::String(_)) => {}
                        ("id" | "reason", _) => return Err((at(), None, entry.to_string())),
                        (other, _) => {
                            let message = crate::suggest::unknown_key(other, " in a skip entry", &["id", "reason"]);
                            return Err((at(), Some(other.to_string()), message));
                        }
                    }
                }
                if !m.contains_key("id") {
                    return Err((at(), None, format!("{entry}: this one has no `id`")));
                }
            }
            _ => return Err((at(), None, entry.to_string())),
        }
    }
    Ok(())
}
