//! How a string is written as a YAML scalar that every reader (YAML 1.1 or 1.2) reads back
//! as the same string: the edit layer writes new values with it, the facts file its own.

/// A string as a plain scalar where every YAML reader (1.1 or 1.2) reads it back as the
/// same string, else double-quoted.
pub fn scalar(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_scalar(&mut out, s);
    out
}

/// [`scalar`], written onto `out` (thousands of services write hundreds of thousands).
pub fn push_scalar(out: &mut String, s: &str) {
    if plain_is_safe(s) {
        out.push_str(s);
    } else {
        push_double_quoted(out, s);
    }
}

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control() || "{}[],".contains(c))
    {
        return false;
    }
    let special = ["null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", ".nan", "-.inf", "+.inf"];
    if special.iter().any(|word| s.eq_ignore_ascii_case(word)) {
        return false;
    }
    // Anything that starts like a number and holds only number characters could be one
    // (ints, floats, hex, octal, YAML 1.1 sexagesimal `2222:22`).
    let numeric_start = first.is_ascii_digit() || "+-.".contains(first);
    !(numeric_start && s.chars().all(|c| c.is_ascii_hexdigit() || "._:+-xXoO".contains(c)))
}

pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_double_quoted(&mut out, s);
    out
}

pub fn push_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::scalar;

    #[test]
    fn quotes_only_what_could_read_as_another_type() {
        assert_eq!(scalar("10m"), "10m");
        assert_eq!(scalar("512M"), "512M");
        assert_eq!(scalar("30s"), "30s");
        assert_eq!(scalar("unless-stopped"), "unless-stopped");
        assert_eq!(scalar("5"), "\"5\"");
        assert_eq!(scalar("0.5"), "\"0.5\"");
        assert_eq!(scalar("2222:22"), "\"2222:22\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("1e3"), "\"1e3\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("*x"), "\"*x\"");
        assert_eq!(scalar(""), "\"\"");
    }
}
