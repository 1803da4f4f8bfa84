//! `--diff` is written from the edits themselves, not by comparing the texts again. It
//! must be the diff a general line diff (similar's patience algorithm) gives, for the
//! fixtures and, where present, the real corpus; and it must apply (the fuzz checks apply
//! it to every kept fuzz input).

mod common;

use std::path::{Path, PathBuf};

fn line_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures"))
        .expect("fixtures")
        .flatten()
        .map(|e| e.path().join("input.yml"))
        .filter(|p| p.is_file())
        .collect();
    if let Some(corpus) = common::corpus() {
        for sub in ["awesome-compose", "casaos-appstore"] {
            let entries = std::fs::read_dir(corpus.join(sub)).expect("corpus");
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files
}

#[test]
fn the_diff_from_the_edits_is_the_line_diff() {
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let enforce = compose_harden::Options { enforce: true, ..Default::default() };
    let (mut compared, mut failures) = (0, Vec::new());
    for file in inputs() {
        let bytes = std::fs::read(&file).expect("read");
        for options in [compose_harden::Options::default(), enforce] {
            let Ok(outcome) = compose_harden::harden_with("compose.yml", &bytes, &profile, options) else { continue };
            let want = if outcome.changed() {
                line_diff("compose.yml", &outcome.input, &outcome.output)
            } else {
                String::new()
            };
            if outcome.diff() != want {
                failures.push(format!("{}:\n{}\n--- line diff:\n{want}", file.display(), outcome.diff()));
            }
            compared += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared >= 100, "compared {compared}");
}
