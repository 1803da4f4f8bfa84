//! `extends`: what a service inherits, resolved as Compose does, within the file and from
//! other files (read relative to the file that names them). Passes see each service with
//! what it inherits, so an inherited setting counts as set; nothing is ever written into a
//! base service or another file.

use super::{lookup, merge_keys};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use yaml_serde::{Mapping, Value};

/// Keys Compose does not copy from the base service.
const NOT_INHERITED: [&str; 3] = ["links", "volumes_from", "depends_on"];
/// Chains longer than this are refused (Compose refuses cycles).
const DEEPEST: usize = 32;

/// Per extending service: what it is with its bases merged in, and a line for the
/// report; or why that cannot be known.
pub type Inheritance = HashMap<String, Result<(Mapping, String), String>>;

/// Resolves every service of the document that has `extends`.
pub fn of(doc: &super::Document) -> Inheritance {
    match doc.services() {
        Some(services) if services.values().any(|s| lookup::field(s, "extends").is_some()) => {
            resolve(services, &doc.file)
        }
        _ => Inheritance::new(),
    }
}

/// Resolves every service of `services` that has `extends`. `file` names the file they
/// are in (its folder is where `extends.file` is looked for).
pub fn resolve(services: &Mapping, file: &str) -> Inheritance {
    let mut out = Inheritance::new();
    let dir = Path::new(file).parent().map(Path::to_path_buf).unwrap_or_default();
    let mut files = Files::default();
    for (name, service) in services {
        let (Some(name), Some(service)) = (name.as_str(), service.as_mapping()) else { continue };
        let Some(extends) = lookup::get(service, "extends") else { continue };
        let mut chain = Vec::new();
        let resolved = resolve_one(services, &dir, file, name, service, extends, &mut files, &mut chain);
        out.insert(name.to_string(), resolved.map(|m| (m, describe(&chain))));
    }
    out
}

/// The files read so far, by path: a base file is read once.
#[derive(Default)]
struct Files {
    read: HashMap<PathBuf, Result<Mapping, String>>,
}

impl Files {
    fn services(&mut self, path: &Path, shown: &str) -> Result<Mapping, String> {
        self.read
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("`{shown}` cannot be read: {}", crate::error::io_reason(&e)))?;
                let mut value: Value =
                    yaml_serde::from_str(&text).map_err(|e| format!("`{shown}` is not valid YAML: {e}"))?;
                merge_keys(&mut value).map_err(|e| format!("`{shown}`: {e}"))?;
                Ok(value.get("services").and_then(Value::as_mapping).cloned().unwrap_or_default())
            })
            .clone()
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_one(
    services: &Mapping,
    dir: &Path,
    file: &str,
    name: &str,
    service: &Mapping,
    extends: &Value,
    files: &mut Files,
    chain: &mut Vec<(String, String)>,
) -> Result<Mapping, String> {
    let (base_file, base_name) = match extends {
        Value::String(s) => (None, s.clone()),
        Value::Mapping(m) => {
            let base = lookup::get(m, "service").and_then(Value::as_str).ok_or("`extends` names no service")?;
            (lookup::get(m, "file").and_then(Value::as_str).map(str::to_string), base.to_string())
        }
        _ => return Err("`extends` is neither a service name nor a mapping".to_string()),
    };
    if base_name.contains('$') || base_file.as_deref().is_some_and(|f| f.contains('$')) {
        return Err("`extends` is known only once the file is interpolated".to_string());
    }
    let (base_services, base_dir, base_label) = match &base_file {
        Some(f) => {
            let path = dir.join(f);
            let label = path.display().to_string();
            let services = files.services(&path, &label)?;
            (services, path.parent().map(Path::to_path_buf).unwrap_or_default(), label)
        }
        None => (services.clone(), dir.to_path_buf(), file.to_string()),
    };
    if chain.iter().any(|(f, s)| *f == base_label && *s == base_name) || chain.len() >= DEEPEST {
        return Err(format!("`extends` of `{name}` runs in a circle"));
    }
    chain.push((base_label.clone(), base_name.clone()));
    let base = lookup::get(&base_services, &base_name)
        .and_then(Value::as_mapping)
        .ok_or_else(|| format!("`{base_label}` has no service `{base_name}`"))?;
    let mut resolved = match lookup::get(base, "extends") {
        Some(more) => resolve_one(&base_services, &base_dir, &base_label, &base_name, base, more, files, chain)?,
        None => base.clone(),
    };
    for key in NOT_INHERITED.iter().chain(&["extends"]) {
        resolved.remove(*key);
    }
    let mut own = service.clone();
    own.remove("extends");
    // The service's own values over its base's, as Compose merges them (see `layer`).
    super::layer::service(&mut resolved, &own);
    Ok(resolved)
}

fn describe(chain: &[(String, String)]) -> String {
    chain.iter().map(|(file, service)| format!("`{service}` ({file})")).collect::<Vec<_>>().join(", then ")
}
