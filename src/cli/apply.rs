//! `apply`: harden files, and print the YAML or a diff, write in place, or check.

use clap::Args;
use compose_harden::document::project::Spec;
use compose_harden::facts::Facts;
use compose_harden::report::line;
use compose_harden::{harden_project, Error, Options, Outcome, Project};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::config::{Chosen, ProfileArgs, Profiles};
use super::images::{Images, ImagesArgs};
use super::io::read;
use super::output::{self, Written};
use super::parallel::in_parallel;

#[derive(Args)]
pub struct Apply {
    /// Compose files to harden, each with the project Compose loads it in (its default
    /// override, or the files COMPOSE_FILE names); `-` reads standard input.
    #[arg(value_name = "FILE", required_unless_present = "layers", conflicts_with = "layers")]
    files: Vec<String>,
    /// The project's files, in the order Compose merges them (as `docker compose -f`);
    /// they are hardened together.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    layers: Vec<String>,
    /// Read the project's variables from this file instead of its `.env` (repeatable).
    #[arg(long = "env-file", value_name = "PATH")]
    env_files: Vec<PathBuf>,
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
    /// Write what hardening adds into this override file instead of editing the project's
    /// files (run it with `docker compose -f ... -f FILE`); update it where it exists.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["output", "write", "diff", "check"])]
    overlay: Option<PathBuf>,
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
    // Projects are independent: harden them on every core, report them in the order given.
    let jobs: Vec<Job> = match args.layers.is_empty() {
        true => args.files.iter().map(|f| Job::Named(f.clone())).collect(),
        false => vec![Job::Layers(args.layers.clone())],
    };
    let reports = in_parallel(&jobs, |job| {
        let mut report = Report::default();
        report.code = one(args, job, &profiles, &images, &mut report).unwrap_or_else(|e| {
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

/// What one run hardens: a file named (with the project Compose loads it in), or the
/// `-f` files.
enum Job {
    Named(String),
    Layers(Vec<String>),
}

fn shown(file: &str) -> &str {
    if file == "-" {
        "<stdin>"
    } else {
        file
    }
}

fn one(args: &Apply, job: &Job, profiles: &Profiles, images: &Images, report: &mut Report) -> Result<u8, Error> {
    let (spec, named) = match job {
        Job::Named(file) => (Spec::named(file, &args.env_files)?, file.as_str()),
        Job::Layers(files) => (Spec::layers(files, &args.env_files)?, files[0].as_str()),
    };
    if args.write {
        // Before anything is read: a FIFO or a stream named for --write is refused, not read.
        // (A file Compose adds to the project is checked once it is known to change.)
        let named_files = match job {
            Job::Named(file) => std::slice::from_ref(file),
            Job::Layers(files) => files.as_slice(),
        };
        for file in named_files {
            output::check_rewritable(Path::new(file), shown(file))?;
        }
    }
    let chosen = profiles.for_file(named)?;
    if chosen.found && !args.quiet {
        report.stderr.push_str(&format!("notice: {}: hardened with the team profile {}\n", shown(named), chosen.name));
    }
    let facts = images.for_file(named, &chosen.profile)?;
    if let Some(loaded) = facts.as_ref().filter(|l| l.found && !args.quiet) {
        report.stderr.push_str(&format!("notice: {}: image facts from {}\n", shown(named), loaded.describe()));
    }
    let facts = facts.as_ref().map(|l| &l.facts);
    if let Some(overlay) = &args.overlay {
        return into_overlay(args, &spec, overlay, &chosen, facts, report);
    }
    let project = load(&spec)?;
    refuse_incomplete(&project, shown(named))?;
    let options = Options { enforce: args.enforce, unsafe_fixes: args.unsafe_fixes, facts, ..Options::default() };
    let mut outcomes = harden_project(project, &chosen.profile, options)?;
    // The file whose hardened text standard output or --output holds.
    let main = outcomes.iter().position(|o| o.file == shown(named)).unwrap_or(0);
    let code = report_outcomes(args, main, &mut outcomes, report);
    if matches!(job, Job::Layers(_)) || args.files.len() == 1 {
        // The process exits next: freeing a large file's changes and texts (about 10 ms at
        // 10,000 services) would only delay it.
        std::mem::forget(outcomes);
    }
    code
}

/// A project Compose refuses as loaded is not hardened: a file's own error, with its
/// place, comes first; else why it cannot run, and which `-f` to add.
fn refuse_incomplete(project: &Project, named: &str) -> Result<(), Error> {
    let Some(why) = &project.incomplete else { return Ok(()) };
    for doc in &project.files {
        compose_harden::validate::check(doc)?;
    }
    let path = ["services".to_string(), project.refused.clone().unwrap_or_default()];
    // The first file that writes the service.
    let defines = |doc: &&compose_harden::document::Document| doc.services().is_some_and(|s| s.contains_key(&path[1]));
    let at = project.files.iter().find(defines).and_then(|doc| Some((doc, doc.layout.locate(&path)?)));
    Err(match at {
        Some((doc, node)) => Error::at(&doc.file, node.line, node.col, why.clone()),
        None => Error::new(named, why.clone()),
    })
}

/// `--overlay`: what hardening adds, written into the overlay file (created, or updated in
/// place), the project's own files untouched.
fn into_overlay(
    args: &Apply,
    spec: &Spec,
    overlay: &Path,
    chosen: &Chosen,
    facts: Option<&Facts>,
    report: &mut Report,
) -> Result<u8, Error> {
    let path = overlay.display().to_string();
    if spec.files.iter().any(|f| f == "-") {
        return Err(Error::new(&path, "an overlay is run beside the project's files: name them, not standard input"));
    }
    let existing = match overlay.exists() {
        true => Some(String::from_utf8_lossy(&read(&path, &path)?).into_owned()),
        false => None,
    };
    let project = load(spec)?;
    refuse_incomplete(&project, &spec.files[0])?;
    drop(project);
    let options = Options { enforce: args.enforce, unsafe_fixes: args.unsafe_fixes, facts, ..Options::default() };
    let header = overlay_header(args, spec, &path, chosen);
    let reader = |file: &str| read(file, shown(file));
    let mut outcomes =
        compose_harden::harden_overlay(spec, &path, existing.as_deref(), &header, &reader, &chosen.profile, options)?;
    let Some(written) = outcomes.pop() else { return Ok(0) };
    if !args.quiet {
        for outcome in outcomes.iter().chain([&written]) {
            for (finding, at) in &outcome.findings {
                report.stderr.push_str(&line::finding(&outcome.file, finding, at.map(|s| (s.line, s.col))));
                report.stderr.push('\n');
            }
        }
    }
    if written.changes.is_empty() {
        if existing.is_none() {
            report.stderr.push_str(&format!("nothing to add: {path} not written\n"));
        }
        return Ok(0);
    }
    let how = output::output(overlay, &written.output, &path)?;
    let verb = if existing.is_some() { "updated" } else { "wrote" };
    report.stderr.push_str(&format!("{verb} {path} ({} changes)\n", written.changes.len()));
    note(report, &path, how);
    Ok(0)
}

/// The overlay's first lines: how it was made, and the command that runs the project with
/// it (every layer named, the default override among them: naming files turns Compose's
/// own choice off).
fn overlay_header(args: &Apply, spec: &Spec, path: &str, chosen: &Chosen) -> String {
    let mut made = vec!["compose-harden apply".to_string()];
    if !args.profiles.profile.is_empty() {
        made.extend(args.profiles.profile.iter().map(|p| format!("--profile {p}")));
    }
    if args.enforce {
        made.push("--enforce".into());
    }
    if args.unsafe_fixes {
        made.push("--unsafe-fixes".into());
    }
    made.push(format!("--overlay {path}"));
    match args.layers.is_empty() {
        true => made.extend(args.files.iter().cloned()),
        false => made.extend(args.layers.iter().map(|f| format!("-f {f}"))),
    }
    let layers: Vec<String> = spec.files.iter().chain([&path.to_string()]).map(|f| format!("-f {f}")).collect();
    format!(
        "What hardening adds to this project (profile {}), as a layer Compose merges last.\n\
         Made by `{}`.\n\
         Running that again updates this file and keeps the keys and comments you add.\n\
         Run the project with it:\n  docker compose {} up -d",
        chosen.name,
        made.join(" "),
        layers.join(" ")
    )
}

/// The project `spec` names, its files read within the size limit.
pub fn load(spec: &Spec) -> Result<Project, Error> {
    Project::load(spec, &|file: &str| read(file, shown(file)))
}

fn report_outcomes(args: &Apply, main: usize, outcomes: &mut [Outcome], report: &mut Report) -> Result<u8, Error> {
    if !args.quiet {
        for outcome in outcomes.iter() {
            for (finding, at) in &outcome.findings {
                report.stderr.push_str(&line::finding(&outcome.file, finding, at.map(|s| (s.line, s.col))));
                report.stderr.push('\n');
            }
        }
    }
    let changed = || outcomes.iter().filter(|o| o.changed());
    if args.check {
        if changed().next().is_none() {
            return Ok(0);
        }
        for outcome in changed() {
            if args.diff {
                report.stdout.push_str(&outcome.diff());
            }
            report.stderr.push_str(&format!("would harden {} ({} changes)\n", outcome.file, outcome.changes.len()));
        }
        return Ok(1);
    }
    if args.diff {
        for outcome in changed() {
            report.stdout.push_str(&outcome.diff());
        }
        return Ok(0);
    }
    if args.write {
        // Every file is checked before any is written: a project is written whole or not at all.
        for outcome in changed() {
            output::check_rewritable(Path::new(&outcome.file), &outcome.file)?;
        }
        for outcome in changed() {
            let written = output::rewrite(Path::new(&outcome.file), &outcome.output, &outcome.file)?;
            report.stderr.push_str(&format!("hardened {} ({} changes)\n", outcome.file, outcome.changes.len()));
            note(report, &outcome.file, written);
        }
        return Ok(0);
    }
    // One file's text: the changes that belong in the project's other files are not in it.
    for (i, outcome) in outcomes.iter().enumerate() {
        if i != main && outcome.changed() {
            report.stderr.push_str(&format!(
                "warning: {} changes belong in {}, which this output does not hold: --write or --diff writes every \
                 file of the project\n",
                outcome.changes.len(),
                outcome.file
            ));
        }
    }
    let Some(outcome) = outcomes.get_mut(main) else { return Ok(0) };
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
