//! `check`: exit codes, discovery, colour and the baseline, as users see them.

mod common;

use std::fs;
use std::path::Path;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    fs::write(path, text).expect("write");
}

fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["check"];
    all.extend(args);
    let out = common::run(dir, &all, b"");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const BARE: &str = "services:\n  web:\n    image: nginx:1.27\n";

#[test]
fn apply_write_then_check_passes() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "compose.yml", BARE);
    let (code, out, _) = check(tmp.path(), &["--format", "github"]);
    assert_eq!(code, 1, "{out}");
    let applied = common::run(tmp.path(), &["apply", "--write", "compose.yml"], b"");
    assert_eq!(applied.status.code(), Some(0));
    let (code, out, _) = check(tmp.path(), &["--format", "github"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn fail_on_levels_and_exit_zero() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Nothing to fix, one warning apply cannot fix (no probe is known), one info (a
    // remote logging driver is kept).
    write(
        tmp.path(),
        "compose.yml",
        "services:\n  app:\n    image: example/app:1\n    init: true\n    restart: unless-stopped\n    logging: {driver: syslog}\n    deploy: {resources: {limits: {cpus: \"0.5\", memory: 512M}, reservations: {cpus: \"0.1\", memory: 128M}}}\n    ulimits: {nofile: {soft: 65536, hard: 65536}}\n",
    );
    let codes: Vec<i32> = [
        &[][..],
        &["--fail-on", "error"],
        &["--fail-on", "warning"],
        &["--fail-on", "info"],
        &["--fail-on", "info", "--exit-zero"],
    ]
    .iter()
    .map(|extra| {
        let mut args = vec!["--format", "json"];
        args.extend(*extra);
        check(tmp.path(), &args).0
    })
    .collect();
    assert_eq!(codes, [0, 0, 1, 1, 0]);
}

#[test]
fn an_unreadable_file_is_exit_2_and_the_others_are_reported() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "a/compose.yml", "services:\n  web: [\n");
    write(tmp.path(), "b/compose.yml", BARE);
    let (code, out, _) = check(tmp.path(), &["--format", "github", "."]);
    assert_eq!(code, 2);
    assert!(out.contains("::error file=a/compose.yml,line="), "{out}");
    assert!(out.contains("file=b/compose.yml"), "{out}");
}

#[test]
fn discovery_survives_a_symlink_loop() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "sub/compose.yaml", BARE);
    std::os::unix::fs::symlink("..", tmp.path().join("sub/loop")).expect("symlink");
    let (code, out, err) = check(tmp.path(), &["--format", "gitlab", "--exit-zero", "."]);
    assert_eq!(code, 0, "{err}");
    let issues: serde_json::Value = serde_json::from_str(&out).expect("json");
    let paths: Vec<&str> =
        issues.as_array().expect("issues").iter().filter_map(|i| i["location"]["path"].as_str()).collect();
    assert!(!paths.is_empty() && paths.iter().all(|p| *p == "sub/compose.yaml"), "{paths:?}");
}

#[test]
fn no_path_reads_the_compose_file_here_and_says_when_there_is_none() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (code, _, err) = check(tmp.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(err, "error: no compose file here (compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml); name files or directories to check\n");
    write(tmp.path(), "docker-compose.yml", BARE);
    write(tmp.path(), "other.yml", "not: [valid\n");
    let (code, out, _) = check(tmp.path(), &["--format", "json"]);
    assert_eq!(code, 1);
    assert!(out.contains("\"file\": \"docker-compose.yml\"") && !out.contains("other.yml"), "{out}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "compose.yml", BARE);
    let esc = |args: &[&str], no_color: bool| {
        let mut cmd = common::bin();
        cmd.arg("check").args(args).current_dir(tmp.path());
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.output().expect("runs");
        out.stdout.contains(&0x1b)
    };
    // Not a terminal here: auto means none.
    assert!(!esc(&[], false));
    assert!(esc(&["--color", "always"], false));
    assert!(esc(&["--color", "always"], true), "an explicit --color always overrides NO_COLOR");
    assert!(!esc(&["--color", "never"], false));
}

#[test]
fn a_baseline_fails_only_on_new_findings() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "compose.yml", BARE);
    let (code, _, err) = check(tmp.path(), &["--write-baseline", "baseline.json"]);
    assert_eq!(code, 0);
    assert!(err.starts_with("baseline of "), "{err}");
    assert_eq!(check(tmp.path(), &["--baseline", "baseline.json", "--format", "json"]).0, 0);
    // A new service brings new findings: they fail.
    write(tmp.path(), "compose.yml", &format!("{BARE}  api:\n    image: example/api:1\n"));
    assert_eq!(check(tmp.path(), &["--baseline", "baseline.json", "--format", "json"]).0, 1);
    // Lines moving keep a finding known.
    write(tmp.path(), "compose.yml", &format!("# a comment\n\n{BARE}"));
    assert_eq!(check(tmp.path(), &["--baseline", "baseline.json", "--format", "json"]).0, 0);
}

/// A compose-named file that another project includes is checked once, as part of that
/// project, and `apply --write` on the project then leaves nothing to report in either file.
#[test]
fn an_included_compose_file_is_checked_once_with_its_project() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "compose.yml", "include:\n  - compose.db.yml\nservices:\n  web:\n    image: nginx:1.27\n");
    write(tmp.path(), "compose.db.yml", "services:\n  db:\n    image: postgres:16\n");
    let (code, out, err) = check(tmp.path(), &["--format", "json", "."]);
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    let files: Vec<&str> =
        report["files"].as_array().expect("files").iter().filter_map(|f| f["file"].as_str()).collect();
    assert_eq!(files, ["compose.yml", "compose.db.yml"], "{out}");
    let applied = common::run(tmp.path(), &["apply", "--write", "compose.yml"], b"");
    assert_eq!(applied.status.code(), Some(0), "{}", String::from_utf8_lossy(&applied.stderr));
    let (code, out, _) = check(tmp.path(), &["--format", "github", "--fail-on", "fix", "."]);
    assert_eq!(code, 0, "{out}");
}
