//! In-process timing of each stage, one after the other on one core, for development:
//! `cargo bench --bench phases -- FILE [RUNS]`. The user-facing figures are whole-process
//! (bench/bench.py); this shows where the time goes inside.

use std::time::{Duration, Instant};

use compose_harden::{document, edit, passes, validate, Profile};

// The same allocator as the binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let Some(file) = args.first() else {
        eprintln!("usage: cargo bench --bench phases -- FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let profile = Profile::load("production").expect("built-in profile");
    let mut times: Vec<[Duration; 6]> = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let doc = document::load(file, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let load = t.elapsed();
        let t = Instant::now();
        validate::check(&doc).unwrap_or_else(|e| panic!("{e}"));
        let check = t.elapsed();
        let t = Instant::now();
        let plan =
            passes::plan(&doc, &profile, passes::Inputs::default(), &compose_harden::document::extends::of(&doc));
        let planned = t.elapsed();
        let t = Instant::now();
        let edited = edit::apply(&doc, &plan.changes);
        let edit = t.elapsed();
        let t = Instant::now();
        validate::verify(&doc, &edited.text, &plan.changes, &[]).unwrap_or_else(|e| panic!("{e}"));
        let verify = t.elapsed();
        let t = Instant::now();
        drop((doc, plan, edited));
        times.push([load, check, planned, edit, verify, t.elapsed()]);
    }
    // The two readings inside `load`, one at a time.
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    let t = Instant::now();
    let _ = document::layout::build(text, file);
    println!("  (layout alone {:.1} ms)", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let _ = document::semantic_value(file, text);
    println!("  (semantic view alone {:.1} ms)", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    let mut events = 0usize;
    while let Some(Ok(_)) = parser.next_event() {
        events += 1;
    }
    println!("  (saphyr events alone {:.1} ms, {events} events)", t.elapsed().as_secs_f64() * 1000.0);
    // The whole library call (stages overlapping as they do in the binary), and the
    // report of findings the binary renders from it.
    let t = Instant::now();
    let outcome = compose_harden::harden(file, &bytes[..], &profile).unwrap_or_else(|e| panic!("{e}"));
    println!("  (harden, whole {:.1} ms)", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let report: usize = outcome
        .findings
        .iter()
        .map(|(f, at)| compose_harden::report::line::finding(file, f, at.map(|s| (s.line, s.col))).len())
        .sum();
    println!("  (findings rendered {:.1} ms, {report} bytes)", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let diff = outcome.diff();
    println!("  (diff {:.1} ms, {} bytes)", t.elapsed().as_secs_f64() * 1000.0, diff.len());
    let t = Instant::now();
    drop(outcome);
    println!("  (outcome dropped {:.1} ms)", t.elapsed().as_secs_f64() * 1000.0);
    let names = ["load", "check", "plan", "edit", "verify", "drop"];
    for (i, name) in names.iter().enumerate() {
        let mut v: Vec<Duration> = times.iter().map(|t| t[i]).collect();
        v.sort();
        println!("{name:>7} {:>8.1} ms", v[v.len() / 2].as_secs_f64() * 1000.0);
    }
}
