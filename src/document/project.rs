//! The project as Compose loads it: its layers (the `-f` files in order, `COMPOSE_FILE`, or
//! a file and its default override), the files they `include`, and each file's `extends`,
//! merged into one view of every service (see [`layer`]). Passes read that view and never
//! open a file; `lib.rs` writes each change into the file a reviewer expects, and proves
//! what the merged project becomes.

use super::env::Env;
use super::extends::{self, Inheritance};
pub use super::spec::{folder, is_override_name, Origin, Spec, BASE_NAMES, OVERRIDE_NAMES};
use super::{layer, lookup, Document};
use crate::error::Error;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use yaml_serde::{Mapping, Value};

/// What a file of the project gives one service.
#[derive(Debug, Clone)]
pub struct Part {
    /// The file (an index into [`Project::files`]).
    pub file: usize,
    /// The service as that file says it, its `extends` resolved.
    pub value: Value,
}

/// Something the loader found that users should know (the passes turn each into a finding).
#[derive(Debug, Clone)]
pub struct Note {
    pub kind: NoteKind,
    pub file: usize,
    pub service: String,
    pub path: Vec<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Which files make the project.
    Project,
    /// A file an `include` brings in.
    Included,
    /// An `include` whose file is not known or cannot be read.
    IncludeUnknown,
    /// A file named alone whose services a base beside it also defines.
    SharesNames,
    /// The project cannot run as loaded (a service with neither image nor build).
    Incomplete,
    /// Services that run only under a Compose profile that is not turned on.
    Profiles,
    /// A service that runs waits for one that does not (Compose refuses `up`).
    ProfileDependency,
}

pub struct Project {
    /// Every file read: the layers first, in order, then the files includes bring in.
    pub files: Vec<Document>,
    /// How many of `files` are layers.
    pub layers: usize,
    pub origin: Origin,
    /// Every service as Compose merges the project.
    pub services: Mapping,
    /// Per service, what each file that defines it gives, in the order Compose merges them:
    /// the first is its home, where additions go.
    pub parts: HashMap<String, Vec<Part>>,
    /// Services whose `extends` is resolved (with the chain, for the report), or cannot be.
    pub inherited: Inheritance,
    pub notes: Vec<Note>,
    /// Why the project cannot run as loaded, if it cannot (a layer named without its base).
    pub incomplete: Option<String>,
    /// The service Compose refuses it for: where the refusal points.
    pub refused: Option<String>,
    /// The layer every change is written into, where there is one (`apply --overlay`).
    pub overlay: Option<usize>,
    /// With an overlay: the changes (service and keys) hardening in place writes; no other
    /// is written into it.
    pub written: Option<std::collections::HashSet<(String, Vec<String>)>>,
    /// Per file: its services and the services it imports, before `extends`, from which a
    /// file's output is merged again to prove the result.
    imported: Vec<Mapping>,
}

/// What `read` returns for a file named in the project: its bytes, or why not.
pub type Read<'a> = &'a (dyn Fn(&str) -> Result<Vec<u8>, Error> + Sync);

impl Project {
    /// Reads the project `spec` names: its layers through `read`, the files they include. A
    /// single file without includes is read as it is, with nothing merged or copied.
    pub fn load(spec: &Spec, read: Read) -> Result<Project, Error> {
        let mut loader = Loader {
            files: Vec::new(),
            imported: Vec::new(),
            notes: Vec::new(),
            read,
            chain: Vec::new(),
            partial: false,
        };
        let at = loader.read_all(&spec.files)?;
        if at.len() == 1 && loader.files[0].value.get("include").is_none() {
            let mut project = Project::single(loader.files.remove(0));
            project.origin = spec.origin;
            let empty = Mapping::new();
            let services = project.files[0].services().unwrap_or(&empty);
            let (incomplete, refused, mut notes) = standing(spec, services, &project.inherited, false);
            notes.extend(super::active::notes(&spec.env, services, |_| 0));
            (project.incomplete, project.refused, project.notes) = (incomplete, refused, notes);
            return Ok(project);
        }
        let unit = loader.unit(&at, &spec.directory, &spec.env)?;
        let layers = spec.files.len();
        let Loader { files, imported, mut notes, partial, .. } = loader;
        let mut project = Project {
            files,
            layers,
            origin: spec.origin,
            services: unit.services,
            parts: unit.parts,
            inherited: Inheritance::new(),
            notes: Vec::new(),
            incomplete: None,
            refused: None,
            overlay: None,
            written: None,
            imported,
        };
        for (name, chains) in unit.chains {
            let merged = project.services.get(name.as_str()).and_then(Value::as_mapping).cloned().unwrap_or_default();
            project.inherited.insert(name, chains.map(|c| (merged, c.join("; "))));
        }
        if layers > 1 {
            notes.insert(0, layers_note(spec));
        }
        let (incomplete, refused, more) = standing(spec, &project.services, &project.inherited, partial);
        notes.extend(more);
        let home = |name: &str| project.parts.get(name).and_then(|p| p.first()).map_or(0, |p| p.file);
        notes.extend(super::active::notes(&spec.env, &project.services, home));
        (project.incomplete, project.refused, project.notes) = (incomplete, refused, notes);
        Ok(project)
    }

    /// A project of one file read already, without includes: hardened as the file alone.
    pub fn single(doc: Document) -> Project {
        Project {
            files: vec![doc],
            layers: 1,
            origin: Origin::Alone,
            services: Mapping::new(),
            parts: HashMap::new(),
            inherited: Inheritance::new(),
            notes: Vec::new(),
            incomplete: None,
            refused: None,
            overlay: None,
            written: None,
            imported: vec![Mapping::new()],
        }
    }

    /// Whether the project is one file without includes: it is hardened as a file alone
    /// (its services are read from that file; [`Project::services`] is empty).
    pub fn is_single(&self) -> bool {
        self.files.len() == 1 && self.parts.is_empty()
    }

    /// Makes layer `index` the one every change is written into (`apply --overlay`): its
    /// empty service entries read as empty mappings, which the edit fills.
    pub fn write_into(&mut self, index: usize) {
        self.overlay = Some(index);
        let Some(doc) = self.files.get_mut(index) else { return };
        if let Some(Value::Mapping(services)) = doc.value.get_mut("services") {
            for value in services.values_mut().filter(|v| v.is_null()) {
                *value = Value::Mapping(Mapping::new());
            }
        }
        for part in self.parts.values_mut().flatten().filter(|p| p.file == index && p.value.is_null()) {
            part.value = Value::Mapping(Mapping::new());
        }
    }

    /// The service as file `file` gives it in `output` (that file's new value): its
    /// `extends` resolved as the input's was.
    pub fn part_from(&self, file: usize, output: &Value, name: &str) -> Option<Value> {
        let own = output.get("services").and_then(Value::as_mapping)?;
        let value = lookup::get(own, name)?;
        if lookup::field(value, "extends").is_none() {
            return Some(value.clone());
        }
        let mut combined = own.clone();
        for (k, v) in self.imported.get(file)? {
            if !combined.contains_key(k) {
                combined.insert(k.clone(), v.clone());
            }
        }
        match extends::resolve(&combined, &self.files.get(file)?.file).remove(name) {
            Some(Ok((resolved, _))) => Some(Value::Mapping(resolved)),
            _ => Some(value.clone()),
        }
    }
}

fn layers_note(spec: &Spec) -> Note {
    let names: Vec<String> = spec.files.iter().map(|f| format!("`{f}`")).collect();
    let why = match spec.origin {
        Origin::Override => {
            "Compose merges a default override over its base when no `-f` and no COMPOSE_FILE are given"
        }
        Origin::ComposeFile => "as COMPOSE_FILE names them",
        Origin::Named | Origin::Alone => "as `-f` names them",
    };
    Note {
        kind: NoteKind::Project,
        file: 0,
        service: String::new(),
        path: vec!["services".to_string()],
        message: format!(
            "hardened as the project Compose loads: {} ({why}); each service is decided on what the files give it \
             merged",
            names.join(", then ")
        ),
    }
}

/// Whether the project can run as loaded: why not, and what to add where it is a layer
/// named alone (`apply` then refuses it); notes for the report otherwise. A file named
/// alone beside a base that shares its services' names is noted.
fn standing(
    spec: &Spec,
    services: &Mapping,
    inherited: &Inheritance,
    partial: bool,
) -> (Option<String>, Option<String>, Vec<Note>) {
    let mut notes = Vec::new();
    let alone = spec.files.len() == 1;
    let file = spec.files.first().cloned().unwrap_or_default();
    if let Some((service, why)) = cannot_run(services, inherited, partial) {
        // Compose refuses it, so a hardened copy would not run either: `apply` refuses it,
        // `check` reports it (never hardened as if it stood alone).
        if !alone {
            return (Some(format!("Compose refuses this project as loaded: {why}")), Some(service), notes);
        }
        // Where a base stands beside it, or its name is an override's, it is a layer for sure.
        let (base, known) = match &spec.beside {
            Some(base) => (base.clone(), true),
            None => ("BASE".to_string(), is_override_name(&file)),
        };
        let what =
            if known { "it is a layer over another file; name" } else { "if it is a layer over another file, name" };
        let incomplete = format!(
            "this file cannot run on its own ({why}): {what} the files Compose runs together, in order (`-f {base} -f \
             {file}`)"
        );
        return (Some(incomplete), Some(service), notes);
    }
    if let (true, Some(base)) = (alone, &spec.beside) {
        let shared = shared_names(base, services);
        if let Some(first) = shared.first() {
            let names: Vec<String> = shared.iter().map(|s| format!("`{s}`")).collect();
            notes.push(Note {
                kind: NoteKind::SharesNames,
                file: 0,
                service: String::new(),
                path: vec!["services".to_string(), first.clone()],
                message: format!(
                    "`{base}` beside this file also defines {}: hardened alone, as `docker compose -f {file}` runs \
                     it; if the two run together (`-f {base} -f {file}`), harden them together (`compose-harden \
                     apply -f {base} -f {file}`): a key added to a layer replaces the base's value when Compose \
                     merges them",
                    names.join(", ")
                ),
            });
        }
    }
    (None, None, notes)
}

/// Why Compose refuses the services as loaded, if it does: a service with neither image
/// nor build, or a dependency no file defines (not looked for where an include was not read).
fn cannot_run(services: &Mapping, inherited: &Inheritance, partial: bool) -> Option<(String, String)> {
    for (name, service) in services {
        // A `!reset` service is dropped; one that is not a mapping is refused by the schema.
        let (Some(name), Value::Mapping(service)) = (name.as_str(), service) else { continue };
        if matches!(inherited.get(name), Some(Err(_))) {
            continue;
        }
        if ["image", "build", "provider", "extends"].iter().all(|k| lookup::get(service, k).is_none()) {
            return Some((name.to_string(), format!("service `{name}` has neither `image` nor `build`")));
        }
        if partial {
            continue;
        }
        let missing = |dep: &str| lookup::get(services, dep).is_none();
        let dep = match lookup::get(service, "depends_on") {
            Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).find(|d| missing(d)),
            Some(Value::Mapping(m)) => m.iter().find_map(|(d, how)| {
                let required = lookup::field(how, "required").and_then(Value::as_bool).unwrap_or(true);
                d.as_str().filter(|d| required && missing(d))
            }),
            _ => None,
        };
        if let Some(dep) = dep {
            let why = format!("service `{name}` depends on `{dep}`, which no file of the project defines");
            return Some((name.to_string(), why));
        }
    }
    None
}

/// One service's parts (what each file gives it) merged in order, as Compose merges them.
pub fn merge_parts<'v>(values: impl IntoIterator<Item = &'v Value>) -> Option<Value> {
    let mut merged = None;
    for value in values {
        match value {
            Value::Tagged(t) if t.tag == "!" => merge_service(&mut merged, &t.value),
            _ => merge_service(&mut merged, value),
        }
    }
    merged
}

/// A value tagged with YAML's non-specific `!` is the value it tags (Compose reads it so).
pub fn plain(value: Value) -> Value {
    match value {
        Value::Tagged(t) if t.tag == "!" => t.value,
        other => other,
    }
}

/// One service's parts merged in order.
fn merge_service(merged: &mut Option<Value>, over: &Value) {
    match (merged.as_mut(), over) {
        // An empty entry (an overlay's, before its keys are written) changes nothing.
        (Some(_), Value::Null) => {}
        (Some(Value::Mapping(base)), Value::Mapping(o)) => layer::service(base, o),
        _ => *merged = Some(over.clone()),
    }
}

/// The services of `base` (read plainly) that `services` also has.
fn shared_names(base: &str, services: &Mapping) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(base) else { return Vec::new() };
    let Ok(value) = super::semantic_value(base, &text) else { return Vec::new() };
    let Some(theirs) = value.get("services").and_then(Value::as_mapping) else { return Vec::new() };
    services.keys().filter_map(Value::as_str).filter(|n| theirs.contains_key(*n)).map(str::to_string).collect()
}

/// What the layers of a project (or of an include) give.
struct Unit {
    services: Mapping,
    parts: HashMap<String, Vec<Part>>,
    /// Per service with `extends`: the chains, or why one cannot be read.
    chains: HashMap<String, Result<Vec<String>, String>>,
}

struct Loader<'r> {
    files: Vec<Document>,
    imported: Vec<Mapping>,
    notes: Vec<Note>,
    read: Read<'r>,
    /// The files of the includes being read, to refuse a cycle (Compose does).
    chain: Vec<PathBuf>,
    /// An include could not be read: what the others need is not all known.
    partial: bool,
}

/// The services a file includes, each with its parts (in the included files).
type Imported = indexmap::IndexMap<String, (Value, Vec<Part>)>;

impl Loader<'_> {
    /// Reads `files`, in order (so that the layers come first in the project's files):
    /// their indices.
    fn read_all(&mut self, files: &[String]) -> Result<Vec<usize>, Error> {
        let mut at = Vec::new();
        for file in files {
            let bytes = (self.read)(file)?;
            at.push(self.files.len());
            let name = if file == "-" { "<stdin>" } else { file.as_str() };
            self.files.push(super::load(name, bytes)?);
            self.imported.push(Mapping::new());
        }
        Ok(at)
    }

    /// The files at `at` merged in order, each with what it includes (imported before its
    /// own `extends` are resolved, as Compose does).
    fn unit(&mut self, at: &[usize], directory: &Path, env: &Env) -> Result<Unit, Error> {
        let mut unit = Unit { services: Mapping::new(), parts: HashMap::new(), chains: HashMap::new() };
        for &index in at {
            let file = self.files[index].file.clone();
            let own = self.files[index].services().cloned().unwrap_or_default();
            let imported = self.includes(index, directory, env)?;
            let mut combined = own.clone();
            for (name, (value, parts)) in &imported {
                if let Some(mine) = lookup::get(&own, name) {
                    if mine != value {
                        let theirs = parts.first().map(|p| self.files[p.file].file.as_str()).unwrap_or("");
                        return Err(Error::new(
                            &file,
                            format!(
                                "service `{name}` is defined here and in `{theirs}`, which this file includes: Compose \
                                 refuses such a project (\"services.{name} conflicts with imported resource\"); change \
                                 it in `{theirs}`, or in a later `-f` file"
                            ),
                        ));
                    }
                    continue;
                }
                combined.insert(Value::from(name.as_str()), value.clone());
            }
            let inherited = match combined.values().any(|s| lookup::field(s, "extends").is_some()) {
                true => extends::resolve(&combined, &file),
                false => Inheritance::new(),
            };
            let mut imported_raw = Mapping::new();
            for (name, value) in &combined {
                let Some(name) = name.as_str() else { continue };
                let value = match inherited.get(name) {
                    Some(Ok((resolved, chain))) => {
                        add_chain(&mut unit.chains, name, Ok(chain.clone()));
                        Value::Mapping(resolved.clone())
                    }
                    Some(Err(why)) => {
                        add_chain(&mut unit.chains, name, Err(why.clone()));
                        value.clone()
                    }
                    None => value.clone(),
                };
                let parts = unit.parts.entry(name.to_string()).or_default();
                match imported.get(name) {
                    Some((_, theirs)) if lookup::get(&own, name).is_none() => {
                        imported_raw.insert(Value::from(name), value.clone());
                        parts.extend(theirs.iter().cloned());
                    }
                    _ => parts.push(Part { file: index, value: value.clone() }),
                }
                match lookup::get_mut(&mut unit.services, name) {
                    Some(merged) => {
                        let mut m = Some(std::mem::replace(merged, Value::Null));
                        merge_service(&mut m, &value);
                        *merged = m.unwrap_or(Value::Null);
                    }
                    None => {
                        unit.services.insert(Value::from(name), value);
                    }
                }
            }
            self.imported[index] = imported_raw;
        }
        Ok(unit)
    }

    /// The services file `index` includes.
    fn includes(&mut self, index: usize, directory: &Path, env: &Env) -> Result<Imported, Error> {
        let mut out = Imported::new();
        let Some(Value::Sequence(items)) = self.files[index].value.get("include").cloned() else { return Ok(out) };
        let including = self.files[index].file.clone();
        for (i, item) in items.iter().enumerate() {
            let Some(include) = Include::of(item, i) else { continue };
            let Some((paths, dir, env)) = self.resolve(&include, index, directory, env) else { continue };
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let canonical = std::fs::canonicalize(&paths[0]).unwrap_or_else(|_| paths[0].clone());
            if self.chain.contains(&canonical) {
                return Err(Error::new(&including, format!("include cycle: `{}` includes itself again", shown[0])));
            }
            self.chain.push(canonical);
            let unit = self.read_all(&shown).and_then(|at| self.unit(&at, &dir, &env));
            self.chain.pop();
            let unit = unit?;
            let names: Vec<String> = unit.services.keys().filter_map(Value::as_str).map(|s| format!("`{s}`")).collect();
            self.notes.push(Note {
                kind: NoteKind::Included,
                file: index,
                service: String::new(),
                path: include.at(0),
                message: format!(
                    "`{}` {} included: {} services ({}) are part of the project, decided with the others and \
                     changed in their own file",
                    shown.join("`, `"),
                    if shown.len() == 1 { "is" } else { "are" },
                    if shown.len() == 1 { "its" } else { "their" },
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            });
            for (name, value) in unit.services {
                let Some(name) = name.as_str().map(str::to_string) else { continue };
                if out.contains_key(&name) {
                    return Err(Error::new(
                        &including,
                        format!("service `{name}` comes from two included files: Compose refuses such a project"),
                    ));
                }
                let parts = unit.parts.get(&name).cloned().unwrap_or_default();
                out.insert(name, (value, parts));
            }
        }
        Ok(out)
    }

    /// The files, project directory and variables of one include; None where they are not
    /// known or cannot be read (noted).
    fn resolve(
        &mut self,
        include: &Include,
        index: usize,
        directory: &Path,
        env: &Env,
    ) -> Option<(Vec<PathBuf>, PathBuf, Env)> {
        let mut paths = Vec::new();
        for (j, raw) in include.paths.iter().enumerate() {
            let read = env.interpolate(raw);
            if !read.known() {
                self.unknown(index, include.at(j), format!("`{raw}` is not known: {}", read.why()));
                return None;
            }
            let path = clean(&directory.join(&read.text));
            if !path.is_file() {
                self.unknown(index, include.at(j), format!("`{}` cannot be read: no such file", path.display()));
                return None;
            }
            paths.push(path);
        }
        let first = paths.first()?.display().to_string();
        let dir = match &include.project_directory {
            Some(d) => clean(&directory.join(env.interpolate(d).text)),
            None => folder(&first),
        };
        let env_files: Vec<PathBuf> = match &include.env_files {
            Some(files) => files
                .iter()
                .map(|f| env.interpolate(f).text)
                .filter(|f| f != "/dev/null")
                .map(|f| clean(&directory.join(f)))
                .collect(),
            None if dir.join(".env").is_file() => vec![dir.join(".env")],
            None => Vec::new(),
        };
        let mut env = env.clone();
        for f in env_files {
            match std::fs::read_to_string(&f) {
                Ok(text) => env = env.under(&text),
                Err(e) => {
                    let why = crate::error::io_reason(&e);
                    self.unknown(index, include.at(0), format!("its env_file `{}` cannot be read: {why}", f.display()));
                    return None;
                }
            }
        }
        Some((paths, dir, env))
    }

    fn unknown(&mut self, file: usize, path: Vec<String>, why: String) {
        self.partial = true;
        self.notes.push(Note {
            kind: NoteKind::IncludeUnknown,
            file,
            service: String::new(),
            path,
            message: format!(
                "an include is not read: {why}; its services are not hardened, and a dependency on one of them is not called \
                 missing"
            ),
        });
    }
}

fn add_chain(chains: &mut HashMap<String, Result<Vec<String>, String>>, name: &str, chain: Result<String, String>) {
    let entry = chains.entry(name.to_string()).or_insert_with(|| Ok(Vec::new()));
    match (entry, chain) {
        (Ok(list), Ok(c)) => list.push(c),
        (entry @ Ok(_), Err(why)) => *entry = Err(why),
        (Err(_), _) => {}
    }
}

/// One `include` entry: a path, or the long form.
struct Include {
    index: usize,
    /// Whether `path` is a list (positions then name an item of it).
    listed: Option<bool>,
    paths: Vec<String>,
    project_directory: Option<String>,
    env_files: Option<Vec<String>>,
}

impl Include {
    fn of(item: &Value, index: usize) -> Option<Include> {
        let strings = |v: &Value| -> Vec<String> {
            match v {
                Value::String(s) => vec![s.clone()],
                Value::Sequence(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                _ => Vec::new(),
            }
        };
        match item {
            Value::String(s) => {
                Some(Include { index, listed: None, paths: vec![s.clone()], project_directory: None, env_files: None })
            }
            Value::Mapping(m) => {
                let path = lookup::get(m, "path")?;
                Some(Include {
                    index,
                    listed: Some(path.is_sequence()),
                    paths: strings(path),
                    project_directory: lookup::get(m, "project_directory").and_then(Value::as_str).map(str::to_string),
                    env_files: lookup::get(m, "env_file").map(strings),
                })
            }
            _ => None,
        }
    }

    /// The keys from the top of the file to path `j` of this include.
    fn at(&self, j: usize) -> Vec<String> {
        let mut path = vec!["include".to_string(), self.index.to_string()];
        match self.listed {
            None => {}
            Some(false) => path.push("path".to_string()),
            Some(true) => path.extend(["path".to_string(), j.to_string()]),
        }
        path
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (a path as users read it).
pub(super) fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.components().next_back().is_some_and(|l| matches!(l, Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_as_users_read_them() {
        assert_eq!(clean(Path::new("./a/./b/../c.yml")), PathBuf::from("a/c.yml"));
        assert_eq!(clean(Path::new("../x/y.yml")), PathBuf::from("../x/y.yml"));
        assert_eq!(clean(Path::new("./")), PathBuf::from("."));
    }
}
