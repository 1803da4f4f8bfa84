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

/// `text` (an overlay) with `!override` before the value at each of `places` (a service and
/// the keys below it): Compose then takes that value whole instead of merging it with the
/// layers below (appending to a list, merging a mapping). The tag goes right after the
/// key's colon, which reads the same for a block or a flow value. The result must read as
/// the text with those values tagged, else it is refused.
pub fn tag_overrides(file: &str, text: &str, places: &[(String, Vec<String>)]) -> Result<String, String> {
    let doc = super::load(file, text.as_bytes().to_vec()).map_err(|e| e.to_string())?;
    let layout = &doc.layout;
    let mut at = Vec::new();
    for (service, path) in places {
        let keys = ["services", service.as_str()].into_iter().chain(path.iter().map(String::as_str));
        let (mut here, mut key) = (layout.root, None);
        for k in keys {
            let (found, value) = layout.get(layout.resolve(here), k).ok_or_else(|| format!("no `{k}` to tag"))?;
            (here, key) = (value, Some(found));
        }
        let key = layout.node(key.ok_or("no key to tag")?);
        let colon = text[key.end..].find(':').map(|i| key.end + i + 1).ok_or("no colon after the key")?;
        at.push(colon);
    }
    at.sort_unstable();
    let mut out = text.to_string();
    for colon in at.iter().rev() {
        out.insert_str(*colon, " !override");
    }
    let mut want = doc.value.clone();
    for (service, path) in places {
        let mut here = want.get_mut("services").and_then(|s| s.get_mut(service.as_str())).ok_or("no service")?;
        for k in path {
            here = here.get_mut(k.as_str()).ok_or("no key")?;
        }
        let value = std::mem::replace(here, Value::Null);
        *here = Value::Tagged(Box::new(yaml_serde::value::TaggedValue {
            tag: yaml_serde::value::Tag::new("override"),
            value,
        }));
    }
    match super::semantic_value(file, &out) {
        Ok(read) if read == want => Ok(out),
        _ => Err("the tagged overlay does not read as the values tagged".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_value_is_tagged_after_its_colon_in_block_and_flow_style() {
        let text = "# h\nservices:\n  web:\n    cap_add:\n      - NET_ADMIN\n    dns: [1.1.1.1]\n    init: true\n";
        let places = [("web".to_string(), vec!["cap_add".to_string()]), ("web".to_string(), vec!["dns".to_string()])];
        let tagged = tag_overrides("o.yml", text, &places).expect("tags");
        assert_eq!(
            tagged,
            "# h\nservices:\n  web:\n    cap_add: !override\n      - NET_ADMIN\n    dns: !override [1.1.1.1]\n    init: true\n"
        );
        assert!(tag_overrides("o.yml", text, &[("web".to_string(), vec!["gone".to_string()])]).is_err());
    }

    #[test]
    fn a_new_overlay_and_a_missing_entry() {
        let text = skeleton("made by a test\nrun it", &["web".to_string(), "my app".to_string()]);
        assert_eq!(text, "# made by a test\n# run it\nservices:\n  web:\n  \"my app\":\n");
        let doc = super::super::load("o.yml", "services:\n  web:\n    init: true\n".as_bytes()).expect("reads");
        let more = with_services(&doc, &["web".to_string(), "db".to_string()]).expect("adds");
        assert_eq!(more, "services:\n  web:\n    init: true\n  db:\n");
        let later = super::super::load("o.yml", "services:\n  web: {}\nx-after: 1\n".as_bytes()).expect("reads");
        assert!(with_services(&later, &["db".to_string()]).is_err());
    }
}
