//! The `swarm` profile's promise, held to its oracle: `docker stack config -c` (the docker
//! CLI's own reading, as `docker stack deploy` reads a file; it needs no swarm). Over the
//! fixtures hardened with `swarm` (a project's files written, then read together with one
//! `-c` each) and the corpus hardened with it (with and without `--enforce`), an output
//! deploys exactly when the tool reports no `swarm/refused-*` error: what the tool writes
//! never stops a deploy, and each refusal is reported. Skips with a notice where the docker
//! CLI or the corpus is absent; CI requires both.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the docker CLI here has `stack config` (a client command: no engine needed).
fn stack_config_exists() -> bool {
    let found = Command::new("docker").args(["stack", "config", "--help"]).output();
    if found.is_ok_and(|o| o.status.success()) {
        return true;
    }
    common::missing("the docker CLI with `docker stack config`");
    false
}

/// `docker stack config -c FILE` in `dir`: None where it accepts the file, else its error.
/// Each `${VAR}` the text names gets a stand-in (`1`, a valid port, size and name), as a
/// deploy script would set it: an unset variable is the deploy's concern, not the file's.
fn refusal(dir: &Path, file: &Path, text: &str) -> Option<String> {
    refusal_of(dir, &[file], text)
}

/// The same for the files of a project, each with `-c`, in order (`text`: all of them).
fn refusal_of(dir: &Path, files: &[&Path], text: &str) -> Option<String> {
    let mut command = Command::new("docker");
    command.args(["stack", "config"]).current_dir(dir).env_clear();
    for file in files {
        command.arg("-c").arg(file);
    }
    command.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for name in compose_harden::facts::proven::variable_names(text) {
        command.env(name, "1");
    }
    let out = command.output().expect("docker runs");
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).trim().to_string())
}

fn reports_refusal(stderr: &str) -> bool {
    stderr.contains("error[swarm/refused-")
}

/// The fixtures hardened or checked with `swarm` or a profile that extends it: `apply` runs
/// that exit 0, and `check` runs without `--enforce` (exit 0 or 1), whose file is the one
/// read as it is. `check --enforce` reports on a file it does not write: left out.
fn swarm_fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<PathBuf> = fs::read_dir(&root)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|dir| {
            let args = fs::read_to_string(dir.join("args")).unwrap_or_default();
            let team = fs::read_to_string(dir.join("team.yml")).unwrap_or_default();
            let code = fs::read_to_string(dir.join("code")).unwrap_or_default();
            let ok = match args.split_whitespace().next() {
                Some("apply") => code.trim() == "0",
                Some("check") => matches!(code.trim(), "0" | "1") && !args.contains("--enforce"),
                _ => false,
            };
            ok && (args.contains("--profile swarm") || (args.contains("team.yml") && team.contains("extends: swarm")))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn swarm_fixture_outputs_deploy_exactly_when_no_refusal_is_reported() {
    if !stack_config_exists() {
        return;
    }
    let fixtures = swarm_fixtures();
    assert!(fixtures.len() >= 9, "only {} swarm fixtures", fixtures.len());
    let (mut failures, mut deployable) = (Vec::new(), 0);
    let tmp = tempfile::tempdir().expect("temp dir");
    for dir in &fixtures {
        let stdout = fs::read_to_string(dir.join("stdout")).unwrap_or_default();
        let stderr = fs::read_to_string(dir.join("stderr")).unwrap_or_default();
        let checked = fs::read_to_string(dir.join("args")).expect("args").starts_with("check");
        // `check` reports on stdout, of the file as it is.
        let (stderr, refused) = match project_files(dir) {
            _ if checked => {
                let input = fs::read_to_string(dir.join("input.yml")).expect("input.yml");
                (stdout, refusal(dir, Path::new("input.yml"), &input))
            }
            Some(files) => (stderr, project_refusal(dir, &files, &tmp.path().join("project"))),
            None => (stderr, refusal(dir, Path::new("stdout"), &stdout)),
        };
        deployable += usize::from(refused.is_none());
        match (reports_refusal(&stderr), refused) {
            (false, Some(why)) => failures.push(format!("{}: no refusal reported, but: {why}", dir.display())),
            (true, None) => failures.push(format!("{}: a refusal reported, but it deploys", dir.display())),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{} swarm fixtures, {deployable} deployable", fixtures.len());
    assert!(deployable >= 3 && deployable < fixtures.len(), "the fixtures show both sides");
}

/// The files a project fixture (`apply ... --diff -f A -f B`) names, in order; None for a
/// fixture whose stdout is the hardened file.
fn project_files(dir: &Path) -> Option<Vec<String>> {
    let args = fs::read_to_string(dir.join("args")).unwrap_or_default();
    let words: Vec<&str> = args.split_whitespace().collect();
    if !words.contains(&"--diff") {
        return None;
    }
    let files = words.windows(2).filter(|w| w[0] == "-f").map(|w| w[1].to_string()).collect();
    Some(files)
}

/// A project fixture written in a copy of its folder (its `--diff` made `--write`), then
/// given to `docker stack config` as `docker stack deploy -c A -c B` reads it; a second
/// `--write` must change nothing.
fn project_refusal(dir: &Path, files: &[String], copy: &Path) -> Option<String> {
    let _ = fs::remove_dir_all(copy);
    common::copy_dir(dir, copy);
    let args = fs::read_to_string(dir.join("args")).expect("args").replace("--diff", "--write");
    let args: Vec<&str> = args.split_whitespace().collect();
    let read = || files.iter().map(|f| fs::read_to_string(copy.join(f)).expect("a project file")).collect::<Vec<_>>();
    assert!(common::run(copy, &args, b"").status.success(), "{}: apply --write fails", dir.display());
    let written = read();
    assert!(common::run(copy, &args, b"").status.success(), "{}: apply --write fails again", dir.display());
    assert_eq!(read(), written, "{}: a second apply changed the files", dir.display());
    let paths: Vec<&Path> = files.iter().map(Path::new).collect();
    refusal_of(copy, &paths, &written.concat())
}

#[test]
fn corpus_hardened_with_swarm_deploys_exactly_when_no_refusal_is_reported() {
    if !stack_config_exists() {
        return;
    }
    let Some(root) = common::corpus() else { return };
    let profile = compose_harden::Profile::load("swarm").expect("built-in profile");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut files: Vec<PathBuf> = ["awesome-compose", "casaos-appstore"]
        .iter()
        .flat_map(|sub| fs::read_dir(root.join(sub)).expect("corpus dir").flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 200, "the corpus has {} files", files.len());
    let (mut failures, mut deployable, mut checked) = (Vec::new(), [0, 0], 0);
    for file in &files {
        let bytes = fs::read(file).expect("corpus file");
        for (i, enforce) in [false, true].into_iter().enumerate() {
            let options = compose_harden::Options { enforce, ..Default::default() };
            let name = file.display().to_string();
            let Ok(outcome) = compose_harden::harden_with(&name, &bytes, &profile, options) else { continue };
            let reported = outcome.findings.iter().any(|(f, _)| f.rule.id.starts_with("swarm/refused-"));
            let out = tmp.path().join("out.yml");
            fs::write(&out, &outcome.output).expect("written");
            let refused = refusal(file.parent().expect("a folder"), &out, &outcome.output);
            checked += 1;
            deployable[i] += usize::from(refused.is_none());
            let under = if enforce { " (--enforce)" } else { "" };
            match (reported, refused) {
                (false, Some(why)) => failures.push(format!("{name}{under}: no refusal reported, but: {why}")),
                (true, None) => failures.push(format!("{name}{under}: a refusal reported, but it deploys")),
                _ => {}
            }
        }
    }
    println!(
        "{checked} corpus outputs checked; deployable: {} plain, {} under --enforce",
        deployable[0], deployable[1]
    );
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 2 * 200, "only {checked} outputs checked");
}
