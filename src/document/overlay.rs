//! The text of an overlay file (`apply --overlay`): a layer Compose merges last, which holds
//! what hardening adds. A new one starts as a header and an empty entry for each service
//! that gets changes; an existing one gets an entry for each such service it lacks. The
//! edit layer then writes the changes into those entries, as into any file.

use super::layout::Kind;
use super::Document;
use yaml_serde::{Mapping, Value};

/// A new overlay: `header` (comment lines) and an entry for each of `services`.
pub fn skeleton(header: &str, services: &[String]) -> String {
    let mut text = String::new();
    for line in header.lines() {
        text.push_str(format!("# {line}").trim_end());
        text.push('\n');
    }
    text.push_str("services:\n");
    for name in services {
        text.push_str(&format!("  {}:\n", key(name)));
    }
    text
}

/// An existing overlay with an entry added for each of `services` it lacks. They go at its
/// end, which must be the block mapping under `services` (as a written overlay is); else
/// the user is asked to add them.
pub fn with_services(doc: &Document, services: &[String]) -> Result<String, String> {
    let have = doc.services();
    let missing: Vec<&String> =
        services.iter().filter(|s| have.is_none_or(|h| super::lookup::get(h, s).is_none())).collect();
    if missing.is_empty() {
        return Ok(doc.text.clone());
    }
    let names: Vec<String> = missing.iter().map(|s| format!("`{s}:`")).collect();
    let ask = || {
        format!(
            "the overlay has no entry for {}, and it cannot be added at the end of the file (its last key is not a \
             block `services:`); add {} under `services:`, or remove the file to write it anew",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )
    };
    let layout = &doc.layout;
    let root = layout.node(layout.root);
    let Kind::Map { flow: false, entries } = &root.kind else { return Err(ask()) };
    let Some((last_key, last_value)) = entries.last() else { return Err(ask()) };
    if layout.scalar(*last_key) != Some("services") {
        return Err(ask());
    }
    let value = layout.node(*last_value);
    let indent = match &value.kind {
        Kind::Map { flow: false, entries } => match entries.first() {
            Some((key, _)) => layout.node(*key).col - 1,
            None => return Err(ask()),
        },
        Kind::Scalar { .. } if doc.services().is_none() => 2,
        _ => return Err(ask()),
    };
    let mut text = doc.text.clone();
    if !text.ends_with('\n') {
        text.push_str(doc.eol);
    }
    for name in &missing {
        text.push_str(&format!("{}{}:{}", " ".repeat(indent), key(name), doc.eol));
    }
    // The text must read as before plus exactly those entries.
    let read = super::semantic_value(&doc.file, &text).map_err(|_| ask())?;
    let mut want = doc.value.clone();
    let services = want.as_mapping_mut().and_then(|m| m.get_mut("services")).ok_or_else(ask)?;
    if services.is_null() {
        *services = Value::Mapping(Mapping::new());
    }
    let map = services.as_mapping_mut().ok_or_else(ask)?;
    for name in missing {
        map.insert(Value::from(name.as_str()), Value::Null);
    }
    match read == want {
        true => Ok(text),
        false => Err(ask()),
    }
}

/// A service name as a key: plain where YAML reads it back as that string, else quoted.
pub fn key(name: &str) -> String {
    let plain = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && yaml_serde::from_str::<yaml_serde::Value>(name).ok().and_then(|v| v.as_str().map(str::to_string))
            == Some(name.to_string());
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
