//! Which files `check` reads: compose-named files, found in a directory with `.gitignore`
//! honoured (the `ignore` crate), and override files set aside with a reason.

use std::path::{Path, PathBuf};

/// The names Compose itself looks for, in its order.
pub const BASE_NAMES: &[&str] = &["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/// Directories that never hold a project's own compose files.
const SKIPPED_DIRS: &[&str] = &[".git", "node_modules", "target"];

pub const OVERRIDE_REASON: &str = "an override file replaces the base file's values when Compose merges them; until \
    base and overrides are read merged, as Compose does, override files are not hardened on their own";

/// `compose.override.yml`, `compose.prod.yaml`, `docker-compose.override.yml` and the like.
pub fn is_override(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let stem = name.strip_suffix(".yml").or_else(|| name.strip_suffix(".yaml"));
    let middle = stem.and_then(|s| s.strip_prefix("docker-compose.").or_else(|| s.strip_prefix("compose.")));
    middle.is_some_and(|m| !m.is_empty())
}

fn is_compose_named(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    BASE_NAMES.contains(&name) || is_override(path)
}

/// The files to check, and the override files set aside, in a stable order.
pub fn files(paths: &[PathBuf]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut found = Vec::new();
    if paths.is_empty() {
        found.extend(BASE_NAMES.iter().filter(|n| Path::new(n).is_file()).map(PathBuf::from));
        if found.is_empty() {
            return Err(format!(
                "no compose file here ({}); name files or directories to check",
                BASE_NAMES.join(", ")
            ));
        }
    }
    for path in paths {
        if path.is_dir() {
            found.extend(walk(path));
        } else {
            // A file named on the command line is read whatever its name.
            found.push(path.clone());
        }
    }
    let (overrides, files): (Vec<PathBuf>, Vec<PathBuf>) = found.into_iter().partition(|p| is_override(p));
    // Paths as a user writes them: `sub/compose.yml`, not `./sub/compose.yml`.
    let shown = |p: PathBuf| p.strip_prefix(".").unwrap_or(&p).to_string_lossy().into_owned();
    Ok((files.into_iter().map(shown).collect(), overrides.into_iter().map(shown).collect()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_names() {
        for name in
            ["compose.override.yml", "compose.prod.yaml", "docker-compose.override.yml", "a/docker-compose.ci.yaml"]
        {
            assert!(is_override(Path::new(name)), "{name}");
        }
        for name in ["compose.yml", "docker-compose.yaml", "compose.yml.bak", "my-compose.prod.yml", "compose..yml"] {
            assert!(!is_override(Path::new(name)), "{name}");
        }
    }
}
