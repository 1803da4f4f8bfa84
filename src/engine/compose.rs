//! Finding Docker Compose v2 and building its commands.

use super::docker::Docker;
use super::process::run;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The environment variable that names the Compose binary, as `--compose` does.
pub const ENV: &str = "COMPOSE_HARDEN_COMPOSE";

pub struct Compose {
    program: PathBuf,
    /// `compose` for the docker plugin, nothing for a standalone binary.
    prefix: Vec<String>,
    pub version: String,
}

impl Compose {
    /// `explicit` (or the environment variable), else the `docker compose` plugin, else a
    /// `docker-compose` on PATH that reports v2.
    pub fn find(explicit: Option<&Path>, docker: &Docker) -> Result<Compose, String> {
        let chosen = explicit.map(Path::to_path_buf).or_else(|| std::env::var_os(ENV).map(PathBuf::from));
        if let Some(program) = chosen {
            return Compose::try_one(program, Vec::new());
        }
        let plugin = Compose::try_one(docker.program().to_path_buf(), vec!["compose".into()]);
        let standalone = || Compose::try_one(PathBuf::from("docker-compose"), Vec::new());
        match plugin {
            Ok(c) => Ok(c),
            Err(plugin_err) => standalone().map_err(|e| {
                format!("no Docker Compose v2 found: {plugin_err}; {e}; install the compose plugin, or name a v2 binary with --compose or {ENV}")
            }),
        }
    }

    fn try_one(program: PathBuf, prefix: Vec<String>) -> Result<Compose, String> {
        let shown =
            std::iter::once(program.display().to_string()).chain(prefix.iter().cloned()).collect::<Vec<_>>().join(" ");
        let mut cmd = Command::new(&program);
        cmd.args(&prefix).args(["version", "--short"]);
        let done = run(cmd, None, Some(Instant::now() + Duration::from_secs(20)), None)?;
        let version = done.stdout.trim().trim_start_matches('v').to_string();
        if !done.ok || version.is_empty() {
            return Err(format!("`{shown} version` failed (not installed?)"));
        }
        let major: u32 = version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
        if major < 2 {
            return Err(format!(
                "`{shown}` is Docker Compose {version}; verify needs Compose v2 (v1 reads files differently and is no longer maintained)"
            ));
        }
        // A wrapper that exits 0 whatever happened would hide every failed `up`.
        let mut cmd = Command::new(&program);
        cmd.args(&prefix).arg("--compose-harden-no-such-option");
        let probe = run(cmd, None, Some(Instant::now() + Duration::from_secs(20)), None)?;
        if probe.ok {
            return Err(format!(
                "`{shown}` exits 0 on an unknown option, so its failures cannot be seen (a wrapper script?); name the Compose binary itself"
            ));
        }
        Ok(Compose { program, prefix, version })
    }

    /// A command for one project: `[-p NAME] --project-directory DIR [-f LAYER]... -f FILE
    /// [--profile P]...`; FILE `-` reads the file from standard input.
    pub fn project(&self, project: &Project) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.prefix).args(["--ansi", "never", "--progress", "plain"]);
        if let Some(name) = &project.name {
            cmd.args(["-p", name]);
        }
        cmd.arg("--project-directory").arg(&project.directory);
        for layer in &project.layers {
            cmd.arg("-f").arg(layer);
        }
        cmd.arg("-f").arg(&project.file);
        for profile in &project.profiles {
            cmd.args(["--profile", profile]);
        }
        cmd
    }
}

/// What names a Compose project on the command line.
#[derive(Clone)]
pub struct Project {
    pub name: Option<String>,
    pub directory: PathBuf,
    /// The files Compose merges before `file`, in order.
    pub layers: Vec<PathBuf>,
    pub file: PathBuf,
    pub profiles: Vec<String>,
}
