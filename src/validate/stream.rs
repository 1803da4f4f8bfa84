//! The fast reading of the verifier: walks the parser's events of a run of services and
//! matches them against the values expected there, without building those values again.
//! Anything it does not handle plainly (tags, in the text or in the value expected,
//! anchors, aliases, `<<`, keys that are not strings, tabs in indentation) is a
//! mismatch, and the verifier then reads the whole output with yaml_serde, which stays
//! the authority. A mismatch costs time, never a wrong answer.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, StrInput};
use yaml_serde::{Mapping, Value};

use crate::document::lookup;
use crate::plan::Change;

use super::verify::{expected, keys, Changed, ChangedValues, Keys, Seen};

type Fail = &'static str;

pub(super) struct Matcher<'t> {
    text: &'t str,
    parser: Parser<'t, StrInput<'t>>,
}

impl<'t> Matcher<'t> {
    /// `text` is a run of whole services, each key at the same indentation.
    pub fn new(text: &'t str) -> Self {
        Matcher { text, parser: Parser::new_from_str(text) }
    }

    fn next(&mut self) -> Result<Event<'t>, Fail> {
        match self.parser.next_event() {
            Some(Ok((event, _))) => Ok(event),
            _ => Err("the text does not parse"),
        }
    }

    /// The services `names` (with their input values), in order, and nothing else.
    pub fn services(
        &mut self,
        services: &[(&Value, &Value)],
        changed: &Changed,
        seen: &mut Seen,
        values: &mut ChangedValues,
    ) -> Result<(), Fail> {
        if tab_in_indentation(self.text) {
            return Err("a tab in indentation");
        }
        let (Event::StreamStart, Event::DocumentStart(false)) = (self.next()?, self.next()?) else {
            return Err("not one document");
        };
        let Event::MappingStart(0, None) = self.next()? else { return Err("not a plain mapping") };
        let mut built = Built::default();
        for (name, service) in services {
            let Event::Scalar(key, style, 0, None) = self.next()? else { return Err("not a plain key") };
            if !untagged_scalar_is(&key, style, name) {
                return Err("another service");
            }
            let name = name.as_str().ok_or("a service name that is not a string")?;
            match changed.get(name) {
                Some(changes) => self.changed_service(name, service, &keys(changes), &mut built, seen, values)?,
                None => {
                    let event = self.next()?;
                    self.value(event, service)?;
                }
            }
        }
        let (Event::MappingEnd, Event::DocumentEnd, Event::StreamEnd) = (self.next()?, self.next()?, self.next()?)
        else {
            return Err("more than the services");
        };
        Ok(())
    }

    /// A changed service: its unchanged keys as in the input, its changed keys as the
    /// input's plus the changes (only these are built, and kept for the schema check).
    fn changed_service(
        &mut self,
        name: &str,
        service: &Value,
        keys: &Keys,
        built: &mut Built,
        seen: &mut Seen,
        values: &mut ChangedValues,
    ) -> Result<(), Fail> {
        let Event::MappingStart(0, None) = self.next()? else { return Err("a service that is not a plain mapping") };
        let Value::Mapping(before) = service else { return Err("a changed service that is not a plain mapping") };
        let mut matched: Vec<&str> = Vec::with_capacity(before.len() + keys.len());
        loop {
            let key = match self.next()? {
                Event::MappingEnd => break,
                Event::Scalar(key, ScalarStyle::Plain, 0, None) => key,
                _ => return Err("a key that is not plain"),
            };
            let key = matched_key(&key, before, keys)?;
            if matched.contains(&key) {
                return Err("a duplicate key");
            }
            matched.push(key);
            let event = self.next()?;
            match keys.get(key) {
                // A key the service did not have: its value is the changes' alone, and
                // the same changes (shared paths and values) were often built already.
                Some(changes) if lookup::get(before, key).is_none() => {
                    let id = changes.iter().map(|c| (Arc::as_ptr(&c.path), Arc::as_ptr(&c.value))).collect();
                    let want = match built.entry(id) {
                        Entry::Occupied(e) => e.into_mut(),
                        Entry::Vacant(e) => {
                            let want =
                                expected(before, key, changes).remove(key).ok_or("a changed key without a value")?;
                            keep(name, key, &want, seen, values);
                            e.insert(want)
                        }
                    };
                    self.value(event, want)?;
                }
                Some(changes) => {
                    let expected = expected(before, key, changes);
                    let want = lookup::get(&expected, key).ok_or("a changed key without a value")?;
                    self.value(event, want)?;
                    keep(name, key, want, seen, values);
                }
                None => self.value(event, lookup::get(before, key).ok_or("an unexpected key")?)?,
            }
        }
        let mut count = before.len() + keys.keys().filter(|k| lookup::get(before, k).is_none()).count();
        // Less the keys a change deletes.
        if keys.values().flatten().any(|c| c.removes) {
            let gone = |(k, c): &(&&str, &Vec<&Change>)| {
                lookup::get(before, k).is_some() && lookup::get(&expected(before, k, c), k).is_none()
            };
            count -= keys.iter().filter(gone).count();
        }
        if matched.len() != count {
            return Err("a missing key");
        }
        Ok(())
    }

    /// One value, from its first event, equal to `want`.
    fn value(&mut self, event: Event<'t>, want: &Value) -> Result<(), Fail> {
        if let Value::Tagged(_) = want {
            return Err("a tag where the text has none");
        }
        match event {
            Event::Scalar(text, style, 0, None) => scalar_is(&text, style, want).then_some(()).ok_or("another scalar"),
            Event::SequenceStart(0, None) => {
                let items = want.as_sequence().ok_or("a sequence where none was")?;
                for item in items {
                    let event = self.next()?;
                    self.value(event, item)?;
                }
                matches!(self.next()?, Event::SequenceEnd).then_some(()).ok_or("a longer sequence")
            }
            Event::MappingStart(0, None) => {
                let map = want.as_mapping().ok_or("a mapping where none was")?;
                let mut matched: Vec<*const Value> = Vec::with_capacity(map.len());
                loop {
                    let want = match self.next()? {
                        Event::MappingEnd => break,
                        Event::Scalar(key, style, 0, None) => value_of(&key, style, map).ok_or("an unexpected key")?,
                        _ => return Err("a key that is not a plain scalar"),
                    };
                    if matched.contains(&(want as *const Value)) {
                        return Err("a duplicate key");
                    }
                    matched.push(want);
                    let event = self.next()?;
                    self.value(event, want)?;
                }
                (matched.len() == map.len()).then_some(()).ok_or("a missing key")
            }
            _ => Err("a tag, anchor or alias"),
        }
    }
}

/// Whether a line of `text` has a tab in its indentation. libyaml and Compose's reader
/// allow one only where a plain scalar's continuation takes it, at a column its block
/// allows; saphyr accepts more (found by the fuzzer: a comment line indented with spaces
/// and tabs, legal after the plain scalar above it, refused once keys were written
/// between them). Such text is left to the whole reading.
fn tab_in_indentation(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\t', bytes).any(|at| {
        let line = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
        bytes[line..at].iter().all(|b| *b == b' ' || *b == b'\t')
    })
}

/// New keys' values by the changes that build them.
type Built = foldhash::HashMap<Vec<(*const [String], *const Value)>, Value>;

/// A changed key's value, for the schema check, unless the same was kept already.
fn keep(name: &str, key: &str, want: &Value, seen: &mut Seen, values: &mut ChangedValues) {
    if !seen.get(key).is_some_and(|s| s.contains(want)) {
        seen.entry(key.to_string()).or_default().insert(want.clone());
        values.push((name.to_string(), key.to_string(), want.clone()));
    }
}

/// The key of a changed service's mapping, borrowed from the input or the changes.
fn matched_key<'a>(key: &str, before: &'a Mapping, keys: &Keys<'a>) -> Result<&'a str, Fail> {
    if let Some((k, _)) = keys.get_key_value(key) {
        return Ok(k);
    }
    if plain_resolves_to_string(key) {
        if let Some((Value::String(k), _)) = before.iter().find(|(k, _)| matches!(k, Value::String(s) if s == key)) {
            return Ok(k);
        }
    }
    Err("an unexpected key")
}

/// The value of the key of `map` that a key scalar reads as.
fn value_of<'m>(text: &str, style: ScalarStyle, map: &'m Mapping) -> Option<&'m Value> {
    map.iter().find_map(|(k, v)| untagged_scalar_is(text, style, k).then_some(v))
}

/// [`scalar_is`] for a scalar written without a tag: yaml_serde's accessors see through
/// a tag, so a tagged `want` is never equal to it.
fn untagged_scalar_is(text: &str, style: ScalarStyle, want: &Value) -> bool {
    !matches!(want, Value::Tagged(_)) && scalar_is(text, style, want)
}

/// Whether a scalar reads as `want`, as yaml_serde would read it: quoted and block
/// scalars are strings; a plain one may be null, a boolean or a number (YAML 1.2 core).
pub(super) fn scalar_is(text: &str, style: ScalarStyle, want: &Value) -> bool {
    if style != ScalarStyle::Plain || plain_resolves_to_string(text) {
        return want.as_str() == Some(text);
    }
    if let Some(n) = plain_u64(text) {
        return want.as_u64() == Some(n);
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return want.is_null(),
        "true" | "True" | "TRUE" => return want.as_bool() == Some(true),
        "false" | "False" | "FALSE" => return want.as_bool() == Some(false),
        _ => {}
    }
    // The rare rest (null, booleans, other numbers): yaml_serde reads the scalar itself,
    // as a value in a block mapping, where it stood.
    let wrapped: Result<Mapping, _> = yaml_serde::from_str(&format!("v: {text}"));
    matches!(wrapped, Ok(m) if m.len() == 1 && m.get("v") == Some(want))
}

/// A decimal integer without sign or leading zero that fits in u64 (what yaml_serde reads
/// as such).
fn plain_u64(text: &str) -> Option<u64> {
    let digits = text.len() <= 19 && !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    (digits && (text == "0" || !text.starts_with('0'))).then(|| text.parse().ok()).flatten()
}

/// A plain scalar that no YAML 1.2 core rule reads as anything but a string: it is not
/// a null or boolean literal, and if it starts like a number it holds a character no
/// number has (`30s`, `512M`, `8080:80`).
pub(super) fn plain_resolves_to_string(text: &str) -> bool {
    match text.as_bytes().first() {
        None => false,
        Some(b) if b.is_ascii_digit() || b"+-.".contains(b) => {
            let unsigned = text.trim_start_matches(['+', '-']);
            !matches!(unsigned, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN")
                && text.bytes().any(|b| !(b.is_ascii_hexdigit() || b"xXoO+-.".contains(&b)))
        }
        Some(b'~') => text != "~",
        Some(b'n' | b'N' | b't' | b'T' | b'f' | b'F') => {
            !matches!(text, "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
        }
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Value {
        yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn tabs_in_indentation_are_found() {
        assert!(tab_in_indentation("a:\n  b: x\n   \t# c\n"));
        assert!(tab_in_indentation("\ta: 1\n"));
        assert!(tab_in_indentation("a: x\n \t \n"));
        assert!(!tab_in_indentation("a: \"x\ty\"\n  b: 1 \t# c\n"));
        assert!(!tab_in_indentation("a: 1\n"));
    }

    #[test]
    fn scalars_read_as_yaml_serde_reads_them() {
        for plain in [
            "nginx",
            "3",
            "0",
            "012",
            "0x1F",
            "0o17",
            "1.5",
            "1e3",
            ".inf",
            "-.inf",
            ".nan",
            "-3",
            "+3",
            "~",
            "null",
            "Null",
            "true",
            "True",
            "FALSE",
            "yes",
            "no",
            "on",
            "10m",
            "1.2.3",
            "0.5",
            "",
            "nulls",
            "trueish",
            "false_",
            "-x",
            ".5",
            "1_000",
            "30s",
            "512M",
            "8080:80",
            "+.inf",
            "-.Inf",
            "0b101",
            "1e400",
            "+inf",
            "~x",
            "1.",
            "-0",
            "+0x1F",
            "0xG",
            "1e",
            "9223372036854775808",
        ] {
            let want = read(&format!("v: {plain}"));
            let want = &want["v"];
            assert!(scalar_is(plain, ScalarStyle::Plain, want), "{plain:?} -> {want:?}");
            let other = Value::String(format!("{plain}!"));
            assert!(!scalar_is(plain, ScalarStyle::Plain, &other), "{plain:?}");
        }
        // An empty plain scalar is null.
        assert!(scalar_is("", ScalarStyle::Plain, &Value::Null));
        assert!(scalar_is("3", ScalarStyle::DoubleQuoted, &Value::from("3")));
        assert!(!scalar_is("3", ScalarStyle::DoubleQuoted, &Value::from(3)));
    }
}
