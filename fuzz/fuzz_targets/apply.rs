//! load + apply + render on arbitrary bytes: never a panic; an output that hardens
//! again to itself (it re-parses and is idempotent) and keeps every input byte.
#![no_main]

use std::sync::OnceLock;

use compose_harden::document::load;
use compose_harden::validate::{inserted_only, readings_agree};
use compose_harden::{harden, Profile};
use libfuzzer_sys::fuzz_target;

fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| Profile::load("production").expect("built-in profile"))
}

fuzz_target!(|data: &[u8]| {
    let outcome = match harden("fuzz.yml", data, profile()) {
        Ok(outcome) => outcome,
        // Refusing bad input is right; failing the tool's own check is a bug.
        Err(e) if e.to_string().contains("internal error") => panic!("{e}\n--- input\n{}", String::from_utf8_lossy(data)),
        Err(_) => return,
    };
    // Additions only insert text; a repair may rewrite the value it replaces.
    let repaired = outcome.changes.iter().any(|c| c.replaces.is_some());
    if let (false, Err(e)) = (repaired, inserted_only(&outcome.input, &outcome.output)) {
        panic!("{e}\n--- input\n{}\n--- output\n{}", outcome.input, outcome.output);
    }
    let _ = compose_harden::render::diff("fuzz.yml", &outcome.input, &outcome.output);
    // The verifier's fast reading must never accept a damaged output the whole reading
    // refuses: damage the output in a place the input chooses, and compare the verdicts.
    if let (Ok(doc), false) = (load("fuzz.yml", data), outcome.output.is_empty()) {
        let at = data.iter().fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(*b as usize)) % outcome.output.len();
        let at = (0..=at).rev().find(|i| outcome.output.is_char_boundary(*i)).unwrap_or(0);
        let mut damaged = [outcome.output.clone(), outcome.output.clone()];
        damaged[0].remove(at);
        damaged[1].insert(at, ' ');
        for output in damaged.iter().chain([&outcome.output]) {
            if let Err(e) = readings_agree(&doc, output, &outcome.changes) {
                panic!("{e}\n--- input\n{}\n--- output\n{output}", outcome.input);
            }
        }
    }
    match harden("fuzz.yml", outcome.output.as_bytes(), profile()) {
        Ok(again) => assert!(!again.changed(), "not idempotent:\n{}\n--- then\n{}", outcome.output, again.output),
        Err(e) => panic!("the output does not load again: {e}\n{}", outcome.output),
    }
});
