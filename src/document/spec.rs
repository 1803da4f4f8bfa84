//! Which files make a project, as Compose chooses them: the `-f` files; else, for a file
//! named on the command line, the files COMPOSE_FILE names (from the shell or the
//! project's `.env`) where they include it; else the file with its default override
//! beside it, where it is a base file; else the file alone (as `docker compose -f FILE`).

use super::env::Env;
use super::project::clean;
use crate::error::Error;
use std::path::{Path, PathBuf};

/// The names Compose looks for in a directory, in its order.
pub const BASE_NAMES: &[&str] = &["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
/// The default overrides Compose merges over any of those, in its order.
pub const OVERRIDE_NAMES: &[&str] =
    &["compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml"];

/// Which files make a project, and why those.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The layers in the order Compose merges them, as named (the first is the base).
    pub files: Vec<String>,
    /// Where `include` paths resolve: the first file's folder, as Compose's project directory.
    pub directory: PathBuf,
    pub env: Env,
    pub origin: Origin,
    /// A base file beside a file named alone (which Compose would merge it over, were both
    /// named).
    pub beside: Option<String>,
}

/// How the layers were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// One file, as `docker compose -f FILE` loads it.
    Alone,
    /// `-f` files.
    Named,
    /// `COMPOSE_FILE`, from the shell or the project's `.env`.
    ComposeFile,
    /// A base file and its default override (Compose merges them when no `-f` and no
    /// `COMPOSE_FILE` are given).
    Override,
}

impl Spec {
    /// One file, alone.
    pub fn alone(file: &str, env: Env) -> Spec {
        Spec { files: vec![file.to_string()], directory: folder(file), env, origin: Origin::Alone, beside: None }
    }

    /// The files `docker stack deploy -c` reads: only those named (no default override, no
    /// COMPOSE_FILE), interpolated from the shell alone (it reads no `.env`).
    pub fn stack(files: &[String]) -> Spec {
        let first = files.first().map(String::as_str).unwrap_or("-");
        let origin = if files.len() > 1 { Origin::Named } else { Origin::Alone };
        Spec { files: files.to_vec(), directory: folder(first), env: Env::shell(), origin, beside: None }
    }
}

/// The folder of a file as named (`.` for a bare name).
pub fn folder(file: &str) -> PathBuf {
    match Path::new(file).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Spec {
    /// The `-f` files, in order.
    pub fn layers(files: &[String], env_files: &[PathBuf]) -> Result<Spec, Error> {
        let first = files.first().map(String::as_str).unwrap_or("-");
        let directory = folder(first);
        let env = project_env(&directory, env_files)?;
        Ok(Spec { files: files.to_vec(), directory, env, origin: Origin::Named, beside: None })
    }

    /// The project a file named on the command line belongs to, as Compose would load it
    /// run in that file's directory.
    pub fn named(file: &str, env_files: &[PathBuf]) -> Result<Spec, Error> {
        if file == "-" {
            return Ok(Spec::alone(file, Env::shell()));
        }
        let directory = folder(file);
        let env = project_env(&directory, env_files)?;
        if let Some(files) = compose_file(&env, &directory).filter(|files| files.iter().any(|f| same(f, file))) {
            return Ok(Spec { files, directory, env, origin: Origin::ComposeFile, beside: None });
        }
        let name = Path::new(file).file_name().and_then(|n| n.to_str()).unwrap_or("");
        if BASE_NAMES.contains(&name) {
            let mut files = vec![file.to_string()];
            files.extend(first_of(&directory, OVERRIDE_NAMES));
            let origin = if files.len() > 1 { Origin::Override } else { Origin::Alone };
            return Ok(Spec { files, directory, env, origin, beside: None });
        }
        let beside = first_of(&directory, BASE_NAMES).filter(|b| !same(b, file));
        Ok(Spec { files: vec![file.to_string()], directory, env, origin: Origin::Alone, beside })
    }

    /// The project of a directory where no file is named: its COMPOSE_FILE, else its
    /// base file and default override; None where it has neither.
    pub fn directory(directory: &Path, env_files: &[PathBuf]) -> Result<Option<Spec>, Error> {
        let env = project_env(directory, env_files)?;
        if let Some(files) = compose_file(&env, directory) {
            let spec =
                Spec { files, directory: directory.to_path_buf(), env, origin: Origin::ComposeFile, beside: None };
            return Ok(Some(spec));
        }
        match first_of(directory, BASE_NAMES) {
            Some(base) => Spec::named(&base, env_files).map(Some),
            None => Ok(None),
        }
    }
}

/// The variables of a project in `dir`: the shell's over the `--env-file`s, else over the
/// directory's `.env`.
pub fn project_env(dir: &Path, env_files: &[PathBuf]) -> Result<Env, Error> {
    let dotenv = dir.join(".env");
    let files: Vec<&Path> = match env_files.is_empty() {
        true if dotenv.is_file() => vec![dotenv.as_path()],
        true => Vec::new(),
        false => env_files.iter().map(PathBuf::as_path).collect(),
    };
    Env::load(&files).map_err(|e| Error::new(&dir.display().to_string(), e))
}

/// The files COMPOSE_FILE names, as paths from here (relative ones are in the project's
/// directory).
pub fn compose_file(env: &Env, directory: &Path) -> Option<Vec<String>> {
    let list = env.get("COMPOSE_FILE").filter(|l| !l.is_empty())?;
    let separator = env.get("COMPOSE_PATH_SEPARATOR").filter(|s| !s.is_empty()).unwrap_or_else(|| ":".into());
    Some(list.split(separator.as_str()).filter(|f| !f.is_empty()).map(|f| shown(&directory.join(f))).collect())
}

/// Whether two paths name the same file.
pub fn same(a: &str, b: &str) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => Path::new(a) == Path::new(b),
    }
}

/// The first of `names` that is a file in `dir`.
pub fn first_of(dir: &Path, names: &[&str]) -> Option<String> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file()).map(|p| shown(&p))
}

/// A path as a user writes it: `sub/compose.yml`, not `./sub/compose.yml`.
pub fn shown(path: &Path) -> String {
    clean(path).to_string_lossy().into_owned()
}

/// `compose.override.yml`, `compose.prod.yaml`, `docker-compose.ci.yml` and the like: a
/// compose name with a word between the stem and the extension.
pub fn is_override_name(file: &str) -> bool {
    let Some(name) = Path::new(file).file_name().and_then(|n| n.to_str()) else { return false };
    let stem = name.strip_suffix(".yml").or_else(|| name.strip_suffix(".yaml"));
    let middle = stem.and_then(|s| s.strip_prefix("docker-compose.").or_else(|| s.strip_prefix("compose.")));
    middle.is_some_and(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_names() {
        for name in
            ["compose.override.yml", "compose.prod.yaml", "docker-compose.override.yml", "a/docker-compose.ci.yaml"]
        {
            assert!(is_override_name(name), "{name}");
        }
        for name in ["compose.yml", "docker-compose.yaml", "compose.yml.bak", "my-compose.prod.yml", "compose..yml"] {
            assert!(!is_override_name(name), "{name}");
        }
    }
}
