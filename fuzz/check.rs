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
    let diff = outcome.diff();
    match patched(&outcome.input, &diff) {
        Ok(p) if p == outcome.output => {}
        Ok(p) => {
            return Err(show(format!("the diff applied gives another text:\n{p}\n--- diff\n{diff}"), &outcome.output))
        }
        Err(e) => return Err(show(format!("the diff does not apply: {e}\n--- diff\n{diff}"), &outcome.output)),
    }
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

/// `input` with a unified diff applied, strictly: every context and removed line must be
/// the input's, as `git apply` requires.
pub fn patched(input: &str, diff: &str) -> Result<String, String> {
    let old: Vec<&str> = input.split_inclusive('\n').collect();
    let (mut out, mut at) = (String::new(), 0usize);
    // Whether the last line written or passed ends without a line break.
    let mut last_in_output = true;
    for line in diff.split_inclusive('\n').skip_while(|l| l.starts_with("--- ") || l.starts_with("+++ ")) {
        if let Some(header) = line.strip_prefix("@@ -") {
            let range = header.split(' ').next().ok_or("a hunk header without a range")?;
            let (start, len) = range.split_once(',').unwrap_or((range, "1"));
            let start: usize = start.parse().map_err(|_| format!("bad hunk start {start}"))?;
            let len: usize = len.parse().map_err(|_| format!("bad hunk length {len}"))?;
            let first = if len == 0 { start } else { start.saturating_sub(1) };
            if first < at || first > old.len() {
                return Err(format!("a hunk at line {start} out of order"));
            }
            old[at..first].iter().for_each(|l| out.push_str(l));
            at = first;
            continue;
        }
        if line.starts_with("\\ No newline at end of file") {
            if last_in_output {
                out.pop().filter(|c| *c == '\n').ok_or("a no-newline marker after a line without one")?;
            }
            continue;
        }
        let (tag, text) = line.split_at(1);
        match tag {
            " " | "-" => {
                let want = old.get(at).ok_or("the diff runs past the input")?;
                if want.trim_end_matches('\n') != text.trim_end_matches('\n') {
                    return Err(format!("line {} is {want:?}, the diff says {text:?}", at + 1));
                }
                at += 1;
                if tag == " " {
                    out.push_str(want);
                    // A context line without a line break gets the marker too.
                    if !want.ends_with('\n') {
                        out.push('\n');
                    }
                }
                last_in_output = tag == " ";
            }
            "+" => {
                out.push_str(text);
                last_in_output = true;
            }
            _ => return Err(format!("a diff line that is not a change: {line:?}")),
        }
    }
    old[at..].iter().for_each(|l| out.push_str(l));
    Ok(out)
}
