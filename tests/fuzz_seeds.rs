//! Replays the kept fuzz inputs (`fuzz/seeds/`, a minimised corpus and every input that
//! once failed) through the fuzz target's checks.

#[path = "../fuzz/check.rs"]
mod check;

#[test]
fn every_kept_fuzz_input_passes_the_fuzz_checks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/seeds") {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        if let Err(e) = check::check(&data) {
            panic!("{}: {e}", path.display());
        }
        count += 1;
    }
    assert!(count > 100, "the seeds are there: {count}");
}
