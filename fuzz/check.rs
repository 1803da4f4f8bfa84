//! What must hold for any input, shared by the fuzz target and the test that replays the
//! kept fuzz inputs (`tests/fuzz_seeds.rs`): no panic; bad input refused without an
//! internal error; an output that keeps every input byte (a repair may rewrite the value
//! it replaces), loads again and is a fixed point; a verifier whose fast reading never
//! accepts a damaged output that the whole reading refuses; and a reading of services in
//! runs (a large file's) that equals the whole reading wherever it applies.

use std::sync::OnceLock;

use compose_harden::document::load;
use compose_harden::document::slices::agrees_with_whole;
use compose_harden::validate::{inserted_only, readings_agree};
use compose_harden::{harden, Profile};

fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| Profile::load("production").expect("built-in profile"))
}

pub fn check(data: &[u8]) -> Result<(), String> {
    if let Ok(text) = std::str::from_utf8(data) {
        agrees_with_whole(text).map_err(|e| format!("{e}\n--- input\n{text}"))?;
    }
    let outcome = match harden("fuzz.yml", data, profile()) {
        Ok(outcome) => outcome,
        // Refusing bad input is right; failing the tool's own check is a bug.
        Err(e) if e.to_string().contains("internal error") => return Err(e.to_string()),
        Err(_) => return Ok(()),
    };
    let show = |e: String, output: &str| format!("{e}\n--- input\n{}\n--- output\n{output}", outcome.input);
    if !outcome.changes.iter().any(|c| c.replaces.is_some()) {
        inserted_only(&outcome.input, &outcome.output).map_err(|e| show(e, &outcome.output))?;
    }
    let _ = compose_harden::render::diff("fuzz.yml", &outcome.input, &outcome.output);
    // Damage the output in a place the input chooses, and compare the verdicts.
    if let (Ok(doc), false) = (load("fuzz.yml", data), outcome.output.is_empty()) {
        let at = data.iter().fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(*b as usize)) % outcome.output.len();
        let at = (0..=at).rev().find(|i| outcome.output.is_char_boundary(*i)).unwrap_or(0);
        let mut damaged = [outcome.output.clone(), outcome.output.clone()];
        damaged[0].remove(at);
        damaged[1].insert(at, ' ');
        for output in damaged.iter().chain([&outcome.output]) {
            readings_agree(&doc, output, &outcome.changes).map_err(|e| show(e, output))?;
        }
    }
    agrees_with_whole(&outcome.output).map_err(|e| show(e, &outcome.output))?;
    match harden("fuzz.yml", outcome.output.as_bytes(), profile()) {
        Ok(again) if again.changed() => Err(show(format!("not idempotent; then:\n{}", again.output), &outcome.output)),
        Ok(_) => Ok(()),
        Err(e) => Err(show(format!("the output does not load again: {e}"), &outcome.output)),
    }
}
