//! Projects of several files (`tests/fixtures/project-*`): what `apply` writes into them,
//! with the project's other files, is loaded by the real Docker Compose as `up` loads it
//! (interpolated, normalised, with its consistency checks), choosing the files as Compose
//! does; and so is the input, so that the check is not empty.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

/// `docker compose config -q` in `dir`, with the files as the fixture's `args` name them:
/// the `-f` files, else what Compose finds itself (COMPOSE_FILE in `.env`, or a base and
/// its default override) where the file named is one it would find, else `-f FILE`.
fn compose_loads(oracle: &Path, dir: &Path, words: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(oracle);
    let layers: Vec<&str> = words.windows(2).filter(|w| w[0] == "-f" || w[0] == "--file").map(|w| w[1]).collect();
    if layers.is_empty() {
        let named = words.iter().skip(1).find(|w| !w.starts_with('-')).copied().unwrap_or("input.yml");
        let dotenv = fs::read_to_string(dir.join(".env")).unwrap_or_default();
        let found_by_compose = dotenv.lines().any(|l| l.starts_with("COMPOSE_FILE="))
            || ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"].contains(&named);
        if !found_by_compose {
            cmd.args(["-f", named]);
        }
    } else {
        for layer in layers {
            cmd.args(["-f", layer]);
        }
    }
    let out = cmd
        .args(["config", "-q"])
        .current_dir(dir)
        .env("COMPOSE_PROJECT_NAME", "oracle")
        .env_remove("COMPOSE_FILE")
        .output()
        .map_err(|e| e.to_string())?;
    match out.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

#[test]
fn project_outputs_load_in_compose_as_up_loads_them() {
    let Some(oracle) = common::oracle() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let tmp = tempfile::tempdir().expect("temp dir");
    let (mut checked, mut failures) = (0, Vec::new());
    let mut dirs: Vec<_> = fs::read_dir(&root).expect("fixtures").flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let code = fs::read_to_string(dir.join("code")).unwrap_or_default();
        if !name.starts_with("project-") || code.trim() != "0" {
            continue;
        }
        let args = fs::read_to_string(dir.join("args")).expect("args");
        let words: Vec<&str> = args.split_whitespace().collect();
        let here = tmp.path().join(&name);
        common::copy_dir(&dir, &here);
        if let Err(e) = compose_loads(&oracle, &here, &words) {
            failures.push(format!("{name}: Compose refuses the input: {e}"));
            continue;
        }
        let mut write: Vec<&str> = vec!["apply", "--write"];
        write.extend(words.iter().skip(1).filter(|w| !matches!(**w, "--diff" | "--check")));
        let out = common::run(&here, &write, b"");
        if !out.status.success() {
            failures.push(format!("{name}: apply --write failed: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        if !String::from_utf8_lossy(&out.stderr).contains("hardened ") {
            failures.push(format!("{name}: apply --write wrote nothing"));
            continue;
        }
        match compose_loads(&oracle, &here, &words) {
            Ok(()) => checked += 1,
            Err(e) => failures.push(format!("{name}: Compose refuses the output: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 5, "only {checked} project fixtures checked");
}
