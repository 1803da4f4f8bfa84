//! `apply`: harden files, and print the YAML or a diff, write in place, or check.

use clap::Args;
use compose_harden::report::line;
use compose_harden::{harden_with, Error, Options, Outcome};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::config::{ProfileArgs, Profiles};
use super::discover;
use super::images::{Images, ImagesArgs};
use super::io::read;
use super::output::{self, Written};
use super::parallel::in_parallel;

#[derive(Args)]
pub struct Apply {
    /// Compose files to harden; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    #[command(flatten)]
    profiles: ProfileArgs,
    #[command(flatten)]
    images: ImagesArgs,
    /// Write the hardened YAML to this file instead of standard output.
    #[arg(short, long, value_name = "PATH", conflicts_with_all = ["write", "diff", "check"])]
    output: Option<PathBuf>,
    /// Rewrite each file in place (atomically).
    #[arg(short, long, conflicts_with_all = ["diff", "check"])]
    write: bool,
    /// Print a unified diff (a/ b/ headers) instead of the YAML.
    #[arg(long)]
    diff: bool,
    /// Change nothing; exit 1 if hardening would change a file (with --diff: print the
    /// diff too).
    #[arg(long)]
    check: bool,
    /// Print no findings.
    #[arg(short, long)]
    quiet: bool,
    /// Also replace values the user set where the profile disagrees (each reported).
    #[arg(long)]
    enforce: bool,
    /// Also write the fixes that may change what a service does (`cap_drop`, `read_only`);
    /// without it they are reported with the YAML they would write.
    #[arg(long)]
    unsafe_fixes: bool,
}

pub fn run(args: &Apply) -> u8 {
    if args.files.iter().filter(|f| *f == "-").count() > 1 {
        super::say("error: standard input is named more than once; it can be read only once");
        return 2;
    }
    let many_allowed = args.write || args.diff || args.check;
    if !many_allowed && args.files.len() > 1 {
        super::say("error: YAML on standard output and --output take exactly one file; use --write, --diff or --check for several");
        return 2;
    }
    if args.write && args.files.iter().any(|f| f == "-") {
        super::say("error: --write cannot rewrite standard input; use --output or a shell redirect");
        return 2;
    }
    if args.write || args.output.is_some() {
        output::clean_up_on_signals();
    }
    let profiles = match Profiles::new(&args.profiles) {
        Ok(p) => p,
        Err(e) => {
            super::say(&format!("{e}"));
            return 2;
        }
    };
    let images = match Images::new(&args.images) {
        Ok(i) => i,
        Err(e) => {
            super::say(&format!("{e}"));
            return 2;
        }
    };
    // Files are independent: harden them on every core, report them in the order given.
    let reports = in_parallel(&args.files, |file| {
        let mut report = Report::default();
        report.code = one(args, file, &profiles, &images, &mut report).unwrap_or_else(|e| {
            report.stderr.push_str(&format!("{e}\n"));
            2
        });
        report
    });
    let mut worst = 0;
    for report in reports {
        if std::io::stderr().lock().write_all(report.stderr.as_bytes()).is_err() {
            // Findings that cannot be shown: the run fails (no message can be written).
            worst = 2;
        }
        if let Err(e) = std::io::stdout().lock().write_all(report.stdout.as_bytes()) {
            let _ = writeln!(std::io::stderr(), "error: cannot write to standard output: {e}");
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

fn one(args: &Apply, file: &str, profiles: &Profiles, images: &Images, report: &mut Report) -> Result<u8, Error> {
    let name = if file == "-" { "<stdin>" } else { file };
    if file != "-" && discover::is_override(std::path::Path::new(file)) {
        report.stderr.push_str(&format!("notice: skipped {name}: {}\n", discover::OVERRIDE_REASON));
        return Ok(0);
    }
    if args.write {
        output::check_rewritable(std::path::Path::new(file), name)?;
    }
    let chosen = profiles.for_file(file)?;
    if chosen.found && !args.quiet {
        report.stderr.push_str(&format!("notice: {name}: hardened with the team profile {}\n", chosen.name));
    }
    let facts = images.for_file(file, &chosen.profile)?;
    if let Some(loaded) = facts.as_ref().filter(|l| l.found && !args.quiet) {
        report.stderr.push_str(&format!("notice: {name}: image facts from {}\n", loaded.describe()));
    }
    let bytes = read(file, name)?;
    let options = Options { enforce: args.enforce, unsafe_fixes: args.unsafe_fixes, ..Options::default() };
    let mut outcome = harden_with(name, bytes, &chosen.profile, options)?;
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
    if !args.quiet {
        for (finding, at) in &outcome.findings {
            report.stderr.push_str(&line::finding(name, finding, at.map(|s| (s.line, s.col))));
            report.stderr.push('\n');
        }
    }
    let count = outcome.changes.len();
    if args.check {
        if outcome.changed() {
            if args.diff {
                report.stdout = outcome.diff();
            }
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
            let written = output::rewrite(Path::new(file), &outcome.output, name)?;
            report.stderr.push_str(&format!("hardened {name} ({count} changes)\n"));
            note(report, name, written);
        }
        return Ok(0);
    }
    match &args.output {
        Some(path) => {
            let shown = path.display().to_string();
            let written = output::output(path, &outcome.output, &shown)?;
            note(report, &shown, written);
        }
        None => report.stdout = std::mem::take(&mut outcome.output),
    }
    Ok(0)
}

/// What users should know about how a file was written.
fn note(report: &mut Report, name: &str, written: Written) {
    match written {
        Written::Atomic => {}
        Written::InPlace(why) | Written::OwnerChanged(why) => {
            report.stderr.push_str(&format!("notice: {name}: {why}\n"))
        }
    }
}
