//! How profile values merge (a child over its parent, a later layer over an earlier one, a
//! per-service override over the profile): mappings merge key by key; a list of entries
//! (probes, classes, ...) and `ignore` are consulted child-first (the child's entries, then
//! the parent's); any other value, a list of plain values included, is replaced; `false`
//! turns a pass off.

use yaml_serde::Value;

/// The merged value as the types read it: passes turned off are left out.
pub fn finish(mut value: Value) -> Value {
    if let Some(map) = value.as_mapping_mut() {
        map.retain(|_, v| v.as_bool() != Some(false));
        map.remove("extends");
    }
    value
}

/// `child` over `parent`, as above (`key` names the value, for `ignore`).
pub fn merge(parent: Value, child: Value, key: &str) -> Value {
    match (parent, child) {
        (Value::Mapping(mut base), Value::Mapping(own)) => {
            for (k, v) in own {
                let name = k.as_str().unwrap_or_default().to_string();
                match base.get_mut(&k) {
                    Some(old) => *old = merge(std::mem::take(old), v, &name),
                    None => {
                        base.insert(k, v);
                    }
                }
            }
            Value::Mapping(base)
        }
        (Value::Sequence(base), Value::Sequence(mut own))
            if matches!(key, "ignore" | "safe_fixes" | "unsafe_fixes")
                || own.iter().chain(&base).all(Value::is_mapping) =>
        {
            for item in base {
                if !own.contains(&item) {
                    own.push(item);
                }
            }
            Value::Sequence(own)
        }
        (_, own) => own,
    }
}
