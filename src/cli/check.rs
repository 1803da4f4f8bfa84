//! `check`: report, as findings with rule ids, what `apply` would change and what it cannot
//! fix, in one of several formats; write nothing. For CI gates and pull-request review.

use clap::{Args, ValueEnum};
use compose_harden::document::spec::Spec;
use compose_harden::report::{self, FileReport, Report};
use compose_harden::rule::Severity;
use compose_harden::{harden_project, Options};
use std::io::IsTerminal;
use std::path::PathBuf;

use super::config::{ProfileArgs, Profiles};
use super::discover;
use super::images::{Images, ImagesArgs};
use super::parallel::in_parallel;

#[derive(Args)]
pub struct Check {
    /// Files and directories (searched for compose-named files; .gitignore honoured), each
    /// checked with the project Compose loads it in. Default: this directory's project.
    #[arg(value_name = "PATH", conflicts_with = "layers")]
    paths: Vec<PathBuf>,
    /// The project's files, in the order Compose merges them (as `docker compose -f`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    layers: Vec<String>,
    /// Read the project's variables from this file instead of its `.env` (repeatable).
    #[arg(long = "env-file", value_name = "PATH")]
    env_files: Vec<PathBuf>,
    #[command(flatten)]
    profiles: ProfileArgs,
    #[command(flatten)]
    images: ImagesArgs,
    /// Check as `apply --enforce` would change the files.
    #[arg(long)]
    enforce: bool,
    /// Check as `apply --unsafe-fixes` would change the files.
    #[arg(long)]
    unsafe_fixes: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The least that fails: `fix` (the default) fails on anything `apply` would change and
    /// on any error.
    #[arg(long, value_enum, default_value = "fix", value_name = "LEVEL")]
    fail_on: FailOn,
    /// Report without failing (exit 0 unless a file could not be read).
    #[arg(long)]
    exit_zero: bool,
    /// Fail only on findings that are not in this baseline (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write every current finding to FILE as the baseline, and exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: Color,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
    Github,
    Gitlab,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum FailOn {
    Fix,
    Error,
    Warning,
    Info,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Color {
    Auto,
    Always,
    Never,
}

pub fn run(args: &Check) -> u8 {
    let found = match args.layers.is_empty() {
        true => discover::projects(&args.paths, &args.env_files),
        false => Spec::layers(&args.layers, &args.env_files).map(|s| vec![s]).map_err(|e| e.to_string()),
    };
    let specs = match found {
        Ok(found) => found,
        Err(e) => {
            super::say(&format!("error: {e}"));
            return 2;
        }
    };
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
    let mut report = Report::default();
    let options = Options { enforce: args.enforce, locate_changes: true, unsafe_fixes: args.unsafe_fixes, facts: None };
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let rendered_apart = args.write_baseline.is_none();
    // Projects are independent: read, harden and (as text) render each on any core.
    let results = in_parallel(&specs, |spec| {
        let first = spec.files.first().map(String::as_str).unwrap_or("-");
        let chosen = profiles.for_file(first).map_err(|e| {
            // The profile's own place is in the message: the compose file has none to give.
            compose_harden::Error::new(first, format!("its profile: {e}"))
        })?;
        let facts = images.for_file(first, &chosen.profile)?;
        let facts_found = facts.as_ref().filter(|l| l.found).map(|l| l.describe());
        let project = super::apply::load(spec)?;
        let outcomes = match project.incomplete.is_some() {
            // A layer that cannot run alone is reported as one, and not hardened alone.
            true => compose_harden::layer_outcomes(project),
            false => {
                let options = Options { facts: facts.as_ref().map(|l| &l.facts), ..options };
                harden_project(project, &chosen.profile, options)?
            }
        };
        let mut shown = Vec::new();
        for outcome in outcomes {
            let mut found = FileReport::of(&outcome.file.clone(), outcome);
            found.profile = chosen.name.clone();
            found.profile_found = chosen.found;
            let text = match args.format {
                Format::Text if rendered_apart => report::text::file(&found, color),
                Format::Json if rendered_apart => report::json::file(&found),
                _ => String::new(),
            };
            shown.push((found, text));
        }
        Ok::<_, compose_harden::Error>((shown, facts_found))
    });
    // A file another project reads (an include, a layer) is reported there, not again alone.
    let canonical = |path: &str| std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
    let shared: Vec<PathBuf> = results
        .iter()
        .flatten()
        .filter(|(files, _)| files.len() > 1)
        .flat_map(|(files, _)| files.iter().map(|(found, _)| canonical(&found.path)))
        .collect();
    let mut shown_files = Vec::new();
    let mut facts_files: Vec<String> = Vec::new();
    for (spec, result) in specs.iter().zip(results) {
        let alone = matches!(&result, Ok((files, _)) if files.len() == 1) && spec.files.len() == 1;
        if alone && shared.contains(&canonical(&spec.files[0])) {
            continue;
        }
        match result {
            Ok((files, facts_found)) => {
                facts_files.extend(facts_found.filter(|f| !facts_files.contains(f)));
                for (found, shown) in files {
                    shown_files.push(shown);
                    report.files.push(found);
                }
            }
            Err(e) => report.failed.push(report::Failed {
                path: if e.file.is_empty() { spec.files.join(", ") } else { e.file.clone() },
                position: e.position,
                message: e.message,
            }),
        }
    }
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &report);
    }
    let known = match &args.baseline {
        Some(path) => match read_baseline(path) {
            Ok(k) => k,
            Err(e) => {
                super::say(&format!("error: {e}"));
                return 2;
            }
        },
        None => Vec::new(),
    };
    let mut told = true;
    for s in &report.skipped {
        told &= super::say(&format!("notice: skipped {}: {}", s.path, s.reason));
    }
    let mut team: Vec<&str> = report.files.iter().filter(|f| f.profile_found).map(|f| f.profile.as_str()).collect();
    team.dedup();
    for name in team {
        told &= super::say(&format!("notice: hardened with the team profile {name}"));
    }
    for name in &facts_files {
        told &= super::say(&format!("notice: image facts from {name}"));
    }
    let text = match args.format {
        Format::Text => shown_files.concat() + &report::text::summary(&report),
        Format::Json => report::json::render(&report, &shown_files),
        Format::Sarif => report::sarif::render(&report, env!("CARGO_PKG_VERSION")),
        Format::Github => report::github::render(&report),
        Format::Gitlab => report::gitlab::render(&report),
    };
    if super::print(&text) != 0 || !report.failed.is_empty() || !told {
        return 2;
    }
    let failing =
        report.items().filter(|(f, i)| !known.contains(&i.fingerprint(&f.path))).any(|(_, i)| match args.fail_on {
            FailOn::Fix => i.fixable() || i.severity() == Severity::Error,
            FailOn::Error => i.severity() >= Severity::Error,
            FailOn::Warning => i.severity() >= Severity::Warning,
            FailOn::Info => true,
        });
    u8::from(failing && !args.exit_zero)
}

fn write_baseline(path: &PathBuf, report: &Report) -> u8 {
    let mut prints: Vec<String> = report.items().map(|(f, i)| i.fingerprint(&f.path)).collect();
    prints.sort();
    prints.dedup();
    let text =
        serde_json::to_string_pretty(&serde_json::json!({"version": 1, "fingerprints": prints})).unwrap_or_default();
    match std::fs::write(path, text + "\n") {
        Ok(()) => {
            super::say(&format!("baseline of {} findings written to {}", prints.len(), path.display()));
            u8::from(!report.failed.is_empty()) * 2
        }
        Err(e) => {
            super::say(&format!("error: cannot write {}: {e}", path.display()));
            2
        }
    }
}

fn read_baseline(path: &PathBuf) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a baseline: {e}", path.display()))?;
    let prints = value.get("fingerprints").and_then(|f| f.as_array()).ok_or_else(|| {
        format!("{}: not a baseline (no `fingerprints`); write one with --write-baseline", path.display())
    })?;
    Ok(prints.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
}
