//! The thin binary: parse arguments, call the library, print, map errors to exit codes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use compose_harden::error::io_reason;
use compose_harden::{document::MAX_BYTES, harden_with, render, Error, Options, Outcome, Profile};

/// Harden Docker Compose files for production, changing nothing else.
#[derive(Parser)]
#[command(name = "compose-harden", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply a hardening profile: init, healthcheck, restart, logging, resources, ulimits.
    Apply(Apply),
}

#[derive(Args)]
struct Apply {
    /// Compose files to harden; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// A built-in profile name or the path of a profile file.
    #[arg(short, long, default_value = "production")]
    profile: String,
    /// Write the hardened YAML to this file instead of standard output.
    #[arg(short, long, value_name = "PATH", conflicts_with_all = ["write", "diff", "check"])]
    output: Option<PathBuf>,
    /// Rewrite each file in place (atomically).
    #[arg(short, long, conflicts_with_all = ["diff", "check"])]
    write: bool,
    /// Print a unified diff (a/ b/ headers) instead of the YAML.
    #[arg(long, conflicts_with = "check")]
    diff: bool,
    /// Change nothing; exit 1 if hardening would change a file.
    #[arg(long)]
    check: bool,
    /// Also replace values the user set where the profile disagrees (each reported).
    #[arg(long)]
    enforce: bool,
}

fn main() -> ExitCode {
    return_memory_sooner();
    let cli = Cli::parse();
    // Every run needs the schema: compile it while the profile and the file are read (a
    // detached thread: an early exit just ends it).
    std::thread::spawn(compose_harden::validate::prepare);
    let Command::Apply(args) = cli.command;
    ExitCode::from(apply(&args))
}

fn apply(args: &Apply) -> u8 {
    let many_allowed = args.write || args.diff || args.check;
    if !many_allowed && args.files.len() > 1 {
        eprintln!("error: YAML on standard output and --output take exactly one file; use --write, --diff or --check for several");
        return 2;
    }
    if args.write && args.files.iter().any(|f| f == "-") {
        eprintln!("error: --write cannot rewrite standard input; use --output or a shell redirect");
        return 2;
    }
    let profile = match Profile::load(&args.profile) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    // Files are independent: harden them on every core, report them in the order given.
    let reports = in_parallel(&args.files, |file| {
        let mut report = Report::default();
        report.code = one(args, file, &profile, &mut report).unwrap_or_else(|e| {
            report.stderr.push_str(&format!("{e}\n"));
            2
        });
        report
    });
    let mut worst = 0;
    for report in reports {
        eprint!("{}", report.stderr);
        if let Err(e) = std::io::stdout().lock().write_all(report.stdout.as_bytes()) {
            eprintln!("error: cannot write to standard output: {e}");
            return 2;
        }
        worst = worst.max(report.code);
    }
    worst
}

/// What one file's run prints, kept until its turn comes.
#[derive(Default)]
struct Report {
    stdout: String,
    stderr: String,
    code: u8,
}

fn in_parallel<T: Send>(items: &[String], work: impl Fn(&str) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, work(item)));
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn one(args: &Apply, file: &str, profile: &Profile, report: &mut Report) -> Result<u8, Error> {
    let name = if file == "-" { "<stdin>" } else { file };
    let bytes = read(file, name)?;
    let mut outcome = harden_with(name, bytes, profile, Options { enforce: args.enforce })?;
    let code = report_outcome(args, file, name, &mut outcome, report);
    if args.files.len() == 1 {
        // The process exits next: freeing a large file's changes and texts (about 10 ms at
        // 10,000 services) would only delay it.
        std::mem::forget(outcome);
    }
    code
}

fn report_outcome(
    args: &Apply,
    file: &str,
    name: &str,
    outcome: &mut Outcome,
    report: &mut Report,
) -> Result<u8, Error> {
    for (finding, at) in &outcome.findings {
        report.stderr.push_str(&render::finding(name, finding, *at));
        report.stderr.push('\n');
    }
    let count = outcome.changes.len();
    if args.check {
        if outcome.changed() {
            report.stderr.push_str(&format!("would harden {name} ({count} changes)\n"));
            return Ok(1);
        }
        return Ok(0);
    }
    if args.diff {
        if outcome.changed() {
            report.stdout = outcome.diff();
        }
        return Ok(0);
    }
    if args.write {
        if outcome.changed() {
            write_atomic(Path::new(file), outcome)?;
            report.stderr.push_str(&format!("hardened {name} ({count} changes)\n"));
        }
        return Ok(0);
    }
    match &args.output {
        Some(path) => write_new(path, outcome)?,
        None => report.stdout = std::mem::take(&mut outcome.output),
    }
    Ok(0)
}

fn read(file: &str, name: &str) -> Result<Vec<u8>, Error> {
    let too_big = |len: u64| {
        Error::new(
            name,
            format!(
                "the file is {len} bytes, over the limit of {MAX_BYTES} bytes (64 MiB); no compose file is that large"
            ),
        )
    };
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin()
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::new(name, format!("cannot read standard input: {}", io_reason(&e))))?;
        if bytes.len() > MAX_BYTES {
            return Err(Error::new(name, format!("standard input is over the limit of {MAX_BYTES} bytes (64 MiB)")));
        }
        return Ok(bytes);
    }
    let meta =
        std::fs::metadata(file).map_err(|e| Error::new(name, format!("cannot read the file: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(Error::new(name, "is a directory, not a compose file"));
    }
    if meta.len() > MAX_BYTES as u64 {
        return Err(too_big(meta.len()));
    }
    // Room for the whole file at once (plus the byte that shows EOF): no doubling copies.
    bytes.reserve_exact(meta.len() as usize + 1);
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::new(name, format!("cannot read the file: {}", io_reason(&e))))?;
    Ok(bytes)
}

/// Replaces `path` (through a symlink, its target) with the hardened text: a temporary
/// file beside it, synced, then renamed over it, keeping the file's mode.
fn write_atomic(path: &Path, outcome: &Outcome) -> Result<(), Error> {
    let name = &outcome.file;
    let fail =
        |what: &str, e: std::io::Error| Error::new(name, format!("{what}: {}; the file is unchanged", io_reason(&e)));
    let target = std::fs::canonicalize(path).map_err(|e| fail("cannot resolve the file", e))?;
    let meta = std::fs::metadata(&target).map_err(|e| fail("cannot read the file's metadata", e))?;
    if meta.permissions().readonly() {
        return Err(Error::new(name, "the file is read-only; refusing to replace it (the file is unchanged)"));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".compose-harden-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail("cannot create a temporary file beside it", e))?;
    tmp.write_all(outcome.output.as_bytes())
        .and_then(|()| tmp.as_file().set_permissions(meta.permissions()))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| fail("cannot write the temporary file", e))?;
    // Tests widen the window between write and rename to kill the process inside it.
    if let Some(ms) = std::env::var("COMPOSE_HARDEN_TEST_WRITE_DELAY_MS").ok().and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    // A dropped temporary file is removed, so every error above leaves nothing behind.
    tmp.persist(&target).map_err(|e| fail("cannot rename the temporary file over it", e.error))?;
    Ok(())
}

/// `--output`: the same atomic replacement, for a file that may not exist yet.
fn write_new(path: &Path, outcome: &Outcome) -> Result<(), Error> {
    let shown = path.display().to_string();
    let fail = |e: std::io::Error| Error::new(&shown, format!("cannot write the output: {}", io_reason(&e)));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".compose-harden-").suffix(".tmp").tempfile_in(dir).map_err(fail)?;
    tmp.write_all(outcome.output.as_bytes()).and_then(|()| tmp.as_file().sync_all()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
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
