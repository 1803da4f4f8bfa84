//! Key lookups in the semantic view's mappings. yaml_serde hashes every lookup with
//! SipHash (about 350 instructions for a short key); a compose mapping holds a handful
//! of keys, and comparing them is several times cheaper. The passes and the verifier
//! look up about a hundred keys per service.

use yaml_serde::{Mapping, Value};

/// Larger mappings (a list of services, a long `environment`) are hashed as before.
const SCAN_UP_TO: usize = 16;

/// `map[key]` for a string key, as [`Mapping::get`] finds it (a `String` key only).
pub fn get<'a>(map: &'a Mapping, key: &str) -> Option<&'a Value> {
    if map.len() > SCAN_UP_TO {
        return map.get(key);
    }
    map.iter().find_map(|(k, v)| matches!(k, Value::String(s) if s == key).then_some(v))
}

pub fn get_mut<'a>(map: &'a mut Mapping, key: &str) -> Option<&'a mut Value> {
    if map.len() > SCAN_UP_TO {
        return map.get_mut(key);
    }
    map.iter_mut().find_map(|(k, v)| matches!(k, Value::String(s) if s == key).then_some(v))
}

/// `value[key]`, as [`Value::get`] finds it (a tagged mapping's too).
pub fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    get(value.as_mapping()?, key)
}

/// Sets `path` in a mapping, creating (or replacing non-mapping) parents as needed. A key
/// that indexes a list on the way (`ports.0.published`) goes into that item.
pub fn set_path(map: &mut Mapping, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut here = map;
    for (i, key) in parents.iter().enumerate() {
        // Found by comparing keys; only a new key is hashed (by the insert).
        if get(here, key).is_none() {
            here.insert(Value::from(key.as_str()), Value::Mapping(Mapping::new()));
        }
        let Some(mut entry) = get_mut(here, key) else { return };
        // A tagged mapping (`!override`) keeps its tag: the key goes inside it.
        if matches!(entry, Value::Tagged(t) if t.value.is_mapping()) {
            let Value::Tagged(t) = entry else { return };
            entry = &mut t.value;
        }
        let index = path[i + 1].parse::<usize>().ok();
        if let (Value::Sequence(items), Some(n)) = (&mut *entry, index) {
            let Some(item) = items.get_mut(n) else { return };
            match (&path[i + 2..], item) {
                ([], item) => *item = value,
                (rest, Value::Mapping(item)) => set_path(item, rest, value),
                _ => {}
            }
            return;
        }
        if !entry.is_mapping() {
            *entry = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(next) = entry else { return };
        here = next;
    }
    match get_mut(here, last) {
        Some(old) => *old = value,
        None => {
            here.insert(Value::from(last.as_str()), value);
        }
    }
}

/// Deletes `path` from a mapping, where it is there.
pub fn remove_path(map: &mut Mapping, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut here = map;
    for key in parents {
        match get_mut(here, key) {
            Some(Value::Mapping(next)) => here = next,
            _ => return,
        }
    }
    here.shift_remove(last.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(n: usize) -> Mapping {
        let mut map = Mapping::new();
        for i in 0..n {
            map.insert(Value::from(format!("k{i}")), Value::from(i as u64));
        }
        map.insert(Value::from(7u64), Value::from("seven"));
        map.insert(
            Value::Tagged(Box::new(yaml_serde::value::TaggedValue {
                tag: yaml_serde::value::Tag::new("t"),
                value: Value::from("tagged"),
            })),
            Value::from("t"),
        );
        map
    }

    #[test]
    fn finds_what_the_hashed_lookup_finds_in_small_and_large_mappings() {
        for n in [0, 3, SCAN_UP_TO - 2, SCAN_UP_TO + 5] {
            let mut map = mapping(n);
            for key in ["k0", "k2", "k13", "k20", "missing", "7", "tagged", ""] {
                assert_eq!(get(&map, key), map.get(key), "{n} keys, {key}");
                let expected = map.get(key).cloned();
                assert_eq!(get_mut(&mut map, key).cloned(), expected, "{n} keys, {key}");
            }
            let value = Value::Mapping(map.clone());
            assert_eq!(field(&value, "k2"), value.get("k2"));
            assert_eq!(field(&Value::from("text"), "k2"), None);
            // A tagged key is not the string it wraps, in either lookup.
            assert_eq!(get(&map, "tagged"), None);
        }
    }
}
