//! The projects `check` finds in directories (`.gitignore` honoured, by the `ignore`
//! crate): each base with its default override (or the files the directory's COMPOSE_FILE
//! names), then every other compose file alone. Which files make the project of a file
//! named is `document::spec`'s.

use compose_harden::document::env::Env;
use compose_harden::document::spec::{
    compose_file, first_of, is_override_name, project_env, same, shown, Origin, Spec, BASE_NAMES, OVERRIDE_NAMES,
};
use compose_harden::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Directories that never hold a project's own compose files.
const SKIPPED_DIRS: &[&str] = &[".git", "node_modules", "target"];

/// The projects `check` reads: the one of this directory where no path is given (its
/// COMPOSE_FILE, else its base file and default override), each file named, and the
/// projects of each directory named.
pub fn projects(paths: &[PathBuf], env_files: &[PathBuf]) -> Result<Vec<Spec>, String> {
    let mut specs = Vec::new();
    if paths.is_empty() {
        return match Spec::directory(Path::new("."), env_files).map_err(|e| e.to_string())? {
            Some(spec) => Ok(vec![spec]),
            None => {
                Err(format!("no compose file here ({}); name files or directories to check", BASE_NAMES.join(", ")))
            }
        };
    }
    for path in paths {
        if path.is_dir() {
            specs.extend(in_directory(path, env_files).map_err(|e| e.to_string())?);
        } else {
            // A file named on the command line is read whatever its name.
            specs.push(Spec::named(&path.to_string_lossy(), env_files).map_err(|e| e.to_string())?);
        }
    }
    if specs.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "no compose files found in {} ({}, their default overrides, nor compose.*.yml or docker-compose.*.yml)",
            names.join(", "),
            BASE_NAMES.join(", ")
        ));
    }
    Ok(specs)
}

/// The projects under `dir`, directory by directory in path order.
fn in_directory(dir: &Path, env_files: &[PathBuf]) -> Result<Vec<Spec>, Error> {
    let mut by_dir: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for file in walk(dir) {
        by_dir.entry(file.parent().map(Path::to_path_buf).unwrap_or_default()).or_default().push(file);
    }
    let mut specs = Vec::new();
    for (directory, files) in by_dir {
        let mut left: Vec<String> = files.iter().map(|f| shown(f)).collect();
        let env = project_env(&directory, env_files)?;
        // The directory's own COMPOSE_FILE (in its `.env`), else its base and override.
        let dotenv = std::fs::read_to_string(directory.join(".env")).ok();
        let listed = dotenv.map(|text| Env::given([]).under(&text)).and_then(|d| compose_file(&d, &directory));
        let chosen = match listed {
            Some(files) => Some((files, Origin::ComposeFile)),
            None => first_of(&directory, BASE_NAMES).map(|base| {
                let mut files = vec![base];
                files.extend(first_of(&directory, OVERRIDE_NAMES));
                let origin = if files.len() > 1 { Origin::Override } else { Origin::Alone };
                (files, origin)
            }),
        };
        let base = first_of(&directory, BASE_NAMES);
        if let Some((files, origin)) = chosen {
            left.retain(|f| !files.iter().any(|g| same(f, g)));
            specs.push(Spec { files, directory: directory.clone(), env: env.clone(), origin, beside: None });
        }
        for file in left {
            let beside = base.clone().filter(|b| !same(b, &file));
            specs.push(Spec {
                files: vec![file],
                directory: directory.clone(),
                env: env.clone(),
                origin: Origin::Alone,
                beside,
            });
        }
    }
    Ok(specs)
}

fn is_compose_named(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    BASE_NAMES.contains(&name) || is_override_name(name)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let walker = ignore::WalkBuilder::new(dir)
        .follow_links(true)
        // A repository's own .gitignore counts even outside a git checkout.
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir()) && SKIPPED_DIRS.iter().any(|d| e.file_name() == *d))
        })
        .build();
    let mut files: Vec<PathBuf> = walker
        .filter_map(Result::ok) // a symlink loop is an error entry: skipped
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && is_compose_named(e.path()))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}
