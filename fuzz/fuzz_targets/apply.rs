//! load + apply + render on arbitrary bytes; what must hold is in `fuzz/check.rs`.
#![no_main]

#[path = "../check.rs"]
mod check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = check::check(data) {
        panic!("{e}");
    }
});
