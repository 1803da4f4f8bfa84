//! The thin binary: parse the arguments and run the command (`cli`), with the allocator
//! tuned for the run.

mod cli;
mod engine;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    return_memory_sooner();
    let cli = cli::Cli::parse();
    // Every run needs the schema: compile it while the profile and the file are read (a
    // detached thread: an early exit just ends it).
    std::thread::spawn(compose_harden::validate::prepare);
    ExitCode::from(cli::run(cli))
}

// The run allocates many small values (two parses of the file); mimalloc does that
// markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc gives freed memory back to the system `purge_delay` ms after it is freed (1 s
/// by default in the v3 the crate builds, so never within a run). A large file's stages
/// free tens of MiB each; 10 ms (v2's default) keeps the peak near what is in use (10,000
/// services: 150-165 -> about 135 MiB peak RSS, same time). Set before anything is
/// allocated on another thread (set later, it was measured to have no effect).
fn return_memory_sooner() {
    // `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the crate names no constant).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return; // Set by hand, as mimalloc documents.
    }
    // SAFETY: sets a plain integer option; mimalloc reads it at each purge.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 10) };
}
