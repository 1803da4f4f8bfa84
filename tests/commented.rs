//! Lines commented out inside a block (`# - OPTIONAL=1` under `environment:`) are there
//! to be uncommented. Keys added after the block must not come between the block and
//! them: uncommenting them in the output must mean what hardening the uncommented input
//! means, and give a file Docker Compose accepts.

mod common;

use std::path::Path;

use compose_harden::document::semantic_value;
use compose_harden::{harden, Profile};

/// Every comment line with its `#` (and one space after it) removed, as an editor's
/// "uncomment" does.
fn uncomment(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let body = line.trim_start_matches(' ');
            match body.strip_prefix('#') {
                Some(rest) => {
                    let indent = &line[..line.len() - body.len()];
                    format!("{indent}{}", rest.strip_prefix(' ').unwrap_or(rest))
                }
                None => line.to_string(),
            }
        })
        .collect()
}

#[test]
fn uncommenting_the_output_keeps_the_lines_in_their_block() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/comments-commented-items");
    let input = std::fs::read_to_string(dir.join("input.yml")).expect("the fixture's input");
    // The minimal profile adds no key the commented lines set, so hardening the
    // uncommented input adds what hardening the input adds.
    let profile = Profile::load("minimal").expect("built-in profile");
    let output = harden("input.yml", input.as_bytes(), &profile).expect("hardens").output;
    let uncommented = uncomment(&output);
    let got = semantic_value("uncommented.yml", &uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    let want = harden("input.yml", uncomment(&input).as_bytes(), &profile).expect("hardens").output;
    let want = semantic_value("want.yml", &want).expect("loads");
    assert_eq!(got, want, "uncommented output:\n{uncommented}");

    let Some(oracle) = common::oracle() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("compose.yml");
    std::fs::write(&file, &uncommented).expect("write");
    common::oracle_accepts(&oracle, &file).unwrap_or_else(|e| panic!("Compose refuses:\n{e}\n{uncommented}"));
}

#[test]
fn uncomment_removes_the_mark_and_one_space() {
    assert_eq!(uncomment("a:\n  # - b\n  #c\n    #   d: 1\n"), "a:\n  - b\n  c\n      d: 1\n");
}
