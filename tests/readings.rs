//! A large file's services are read a run at a time (`document::slices`); that reading
//! must equal the whole reading for every input where it applies: the fixtures, the kept
//! fuzz inputs and, where present, the real corpus, each read with one service per run.

mod common;

use std::path::{Path, PathBuf};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.extension().is_none_or(|x| x == "yml" || x == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn reading_in_runs_equals_the_whole_reading() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&root.join("tests/fixtures"), &mut files);
    files_under(&root.join("fuzz/seeds"), &mut files);
    if let Some(corpus) = common::corpus() {
        files_under(&corpus, &mut files);
    }
    let (mut compared, mut failures) = (0, Vec::new());
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        match compose_harden::document::slices::agrees_with_whole(&text) {
            Ok(true) => compared += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("{}: {e}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared >= 200, "read in runs and compared: {compared} of {} files", files.len());
    println!("read in runs and compared: {compared} of {} files", files.len());
}
