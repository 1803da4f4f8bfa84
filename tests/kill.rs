//! `--write` killed with SIGKILL in the middle of a batch: every target is whole, either
//! its old or its new content; the only leftovers are recognisable temporary files.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

fn inputs() -> Vec<PathBuf> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = ["exercise2", "anchors", "comments", "crlf", "flow-multi", "probes", "stop"]
        .iter()
        .map(|f| fixtures.join(f).join("input.yml"))
        .collect();
    if let Some(corpus) = std::env::var_os("COMPOSE_HARDEN_CORPUS")
        .map(PathBuf::from)
        .or_else(|| Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")))
        .filter(|d| d.is_dir())
    {
        let mut real: Vec<PathBuf> =
            fs::read_dir(corpus.join("casaos-appstore")).into_iter().flatten().flatten().map(|e| e.path()).collect();
        real.sort();
        files.extend(real.into_iter().filter(|p| p.extension().is_some_and(|x| x == "yml")).take(40));
    }
    files
}

#[test]
fn sigkill_during_a_batch_of_writes_leaves_every_file_whole() {
    let profile = compose_harden::Profile::load("production").expect("profile");
    let originals: BTreeMap<String, (String, String)> = inputs()
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let text = fs::read_to_string(path).expect("input");
            let hardened = compose_harden::harden("x", text.as_bytes(), &profile).expect("hardens").output;
            (format!("f{i:03}.yml"), (text, hardened))
        })
        .collect();
    let mut seen_new = 0;
    let mut seen_old = 0;
    for (round, kill_after_ms) in [15u64, 40, 80, 130, 200, 320].into_iter().enumerate() {
        let tmp = tempfile::tempdir().expect("tmp");
        for (name, (text, _)) in &originals {
            fs::write(tmp.path().join(name), text).expect("write");
        }
        let mut child = common::bin()
            .arg("apply")
            .arg("--write")
            .args(originals.keys())
            .current_dir(tmp.path())
            .env("COMPOSE_HARDEN_TEST_WRITE_DELAY_MS", "10")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns");
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        for (name, (old, new)) in &originals {
            let now = fs::read_to_string(tmp.path().join(name)).expect("target still there");
            if now == *new && old != new {
                seen_new += 1;
            } else if now == *old {
                seen_old += 1;
            } else {
                panic!("round {round}: {name} is neither its old nor its new content:\n{now}");
            }
        }
        for entry in fs::read_dir(tmp.path()).expect("dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                originals.contains_key(&name) || (name.starts_with(".compose-harden-") && name.ends_with(".tmp")),
                "round {round}: unexpected file {name}"
            );
        }
    }
    // The kills landed inside the batch: some files were written, some not yet.
    assert!(seen_new > 0 && seen_old > 0, "kills missed the batch (new {seen_new}, old {seen_old})");
}
