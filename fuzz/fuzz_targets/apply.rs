//! load + apply + render on arbitrary bytes: never a panic; an output that hardens
//! again to itself (it re-parses and is idempotent) and keeps every input byte.
#![no_main]

use std::sync::OnceLock;

use compose_harden::{harden, validate::inserted_only, Profile};
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
    match harden("fuzz.yml", outcome.output.as_bytes(), profile()) {
        Ok(again) => assert!(!again.changed(), "not idempotent:\n{}\n--- then\n{}", outcome.output, again.output),
        Err(e) => panic!("the output does not load again: {e}\n{}", outcome.output),
    }
});
