//! `profiles show`: a profile with its parents and layers merged, as YAML; with origins,
//! each value says which file and line it came from.

use super::layers::{resolve, Source};
use super::BUILTIN;
use crate::error::Error;
use yaml_serde::Value;

/// The merged profile of `references` as YAML.
pub fn show(references: &[&str], origins: bool) -> Result<String, Error> {
    let (value, mut sources) = resolve(references)?;
    if !origins {
        return yaml_serde::to_string(&value).map_err(|e| Error::new("profile", e.to_string()));
    }
    // A built-in's lines are those of its YAML file.
    for source in sources.iter_mut().filter(|s| s.doc.is_none()) {
        let name = source.file.trim_start_matches("<built-in profile ").trim_end_matches('>');
        if let Some((_, yaml, _)) = BUILTIN.iter().find(|(n, ..)| *n == name) {
            source.doc = crate::document::load(&format!("profiles/{name}.yml"), yaml.as_bytes()).ok();
        }
    }
    // The later a file comes in merge order, the more it counts.
    let order: Vec<Place> =
        sources.iter().rev().map(|s| Place { source: s, value: &s.value, path: Vec::new() }).collect();
    let mut out = String::new();
    emit(&value, &order, 0, &mut out);
    Ok(out)
}

/// A value in one file, at its keys there.
#[derive(Clone)]
struct Place<'a> {
    source: &'a Source,
    value: &'a Value,
    path: Vec<String>,
}

impl Place<'_> {
    /// `file:line` of the value.
    fn origin(&self) -> String {
        let file = match self.source.file.strip_prefix("<built-in profile ") {
            Some(name) => format!("profiles/{}.yml", name.trim_end_matches('>')),
            None => self.source.file.clone(),
        };
        let line = self.source.doc.as_ref().and_then(|d| d.layout.locate(&self.path)).map(|n| n.line);
        match line {
            Some(line) => format!("{file}:{line}"),
            None => file,
        }
    }
}

fn emit(value: &Value, places: &[Place], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let key = k.as_str().unwrap_or_default();
                // The files that set this key, the one that counts first.
                let inner: Vec<Place> = places
                    .iter()
                    .filter_map(|p| {
                        let v = p.value.get(key)?;
                        Some(Place { source: p.source, value: v, path: [&p.path[..], &[key.to_string()]].concat() })
                    })
                    .collect();
                let from = inner.first().map(|p| p.origin()).unwrap_or_default();
                let shown = yaml_serde::to_string(k).unwrap_or_default();
                match flat(v) {
                    Some(text) => out.push_str(&format!("{pad}{}: {text}  # {from}\n", shown.trim_end())),
                    None => {
                        out.push_str(&format!("{pad}{}:  # {from}\n", shown.trim_end()));
                        emit(v, &inner, indent + 2, out);
                    }
                }
            }
        }
        Value::Sequence(items) => {
            for item in items {
                // An entry comes whole from the first file whose list holds it.
                let entry: Vec<Place> = places
                    .iter()
                    .find_map(|p| {
                        let list = p.value.as_sequence()?;
                        let i = list.iter().position(|x| x == item)?;
                        Some(Place {
                            source: p.source,
                            value: &list[i],
                            path: [&p.path[..], &[i.to_string()]].concat(),
                        })
                    })
                    .into_iter()
                    .collect();
                let from = entry.first().map(|p| p.origin()).unwrap_or_default();
                match flat(item) {
                    Some(text) => out.push_str(&format!("{pad}- {text}  # {from}\n")),
                    None => {
                        out.push_str(&format!("{pad}-  # {from}\n"));
                        emit(item, &entry, indent + 2, out);
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", flat(other).unwrap_or_default())),
    }
}

/// A scalar, or a list of scalars, on one line (flow style); None for what needs a block.
fn flat(value: &Value) -> Option<String> {
    let scalar = |v: &Value| match v {
        Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_) => None,
        // JSON strings are YAML's double-quoted scalars: always read back as the same text.
        Value::String(s) => Some(serde_json::to_string(s).unwrap_or_default()),
        other => Some(yaml_serde::to_string(other).unwrap_or_default().trim_end().to_string()),
    };
    match value {
        Value::Sequence(items) => {
            let parts: Option<Vec<String>> = items.iter().map(scalar).collect();
            parts.map(|p| format!("[{}]", p.join(", ")))
        }
        Value::Mapping(m) if m.is_empty() => Some("{}".into()),
        other => scalar(other),
    }
}
