//! Suggestions for a name that is not known: the nearest valid one, by edit distance.

/// An unknown key's message, naming the nearest valid key where one is near (`context`
/// says where the key is: ` in service `web``).
pub fn unknown_key(key: &str, context: &str, valid: &[&str]) -> String {
    let nearest = valid.iter().map(|v| (edit_distance(key, v), *v)).filter(|(d, v)| *d <= 2.max(v.len() / 3)).min();
    match nearest {
        Some((_, v)) => format!("unknown key `{key}`{context}: did you mean `{v}`?"),
        None => format!("unknown key `{key}`{context} (custom keys must start with `x-`)"),
    }
}

/// Levenshtein distance, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_key_is_suggested_when_it_is_near() {
        assert_eq!(edit_distance("restrat", "restart"), 2);
        assert_eq!(unknown_key("restrat", "", &["image", "restart"]), "unknown key `restrat`: did you mean `restart`?");
        assert_eq!(
            unknown_key("zzz", " in service `a`", &["image"]),
            "unknown key `zzz` in service `a` (custom keys must start with `x-`)"
        );
    }
}
