//! `check`: report, as findings with rule ids, what `apply` would change and what it cannot
//! fix, in one of several formats; write nothing. For CI gates and pull-request review.

use clap::{Args, ValueEnum};
use compose_harden::document::spec::Spec;
use compose_harden::passes::all_rules;
use compose_harden::profile::Level;
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
    /// Keep the baseline's findings in SARIF (marked `baselineState: unchanged`); by
    /// default they are left out, as code scanning reads no baseline.
    #[arg(long, requires = "baseline")]
    include_baselined: bool,
    /// Report only these rules: ids or prefixes (`dangerous`, `mounts/host-path`), comma-separated.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    select: Vec<String>,
    /// Leave out these rules: ids or prefixes, comma-separated.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    ignore: Vec<String>,
    /// Print how many findings each rule has, instead of the findings.
    #[arg(long)]
    statistics: bool,
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: Color,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    /// One line a finding: `file:line:col: severity[rule] message`.
    Concise,
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
    for pattern in args.select.iter().chain(&args.ignore) {
        if !all_rules().iter().any(|r| matches_rule(pattern, r.id)) {
            super::say(&format!(
                "error: no rule or pass `{pattern}` to select or ignore; `compose-harden rules` lists them"
            ));
            return 2;
        }
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
    let root = repo_root();
    let mut report = Report { root: root.as_ref().map(|r| r.display().to_string()), ..Report::default() };
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
            found.uri = relative(&found.path, root.as_deref());
            found.items.retain(|i| {
                let id = i.rule.id;
                (args.select.is_empty() || args.select.iter().any(|p| matches_rule(p, id)))
                    && !args.ignore.iter().any(|p| matches_rule(p, id))
            });
            for item in &mut found.items {
                if let Some(level) = chosen.profile.severity.get(item.rule.id) {
                    item.level = match level {
                        Level::Error => Severity::Error,
                        Level::Warning => Severity::Warning,
                        Level::Info => Severity::Info,
                    };
                }
                item.baselined = known.contains(&item.fingerprint(&found.uri));
            }
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
            Err(e) => {
                let path = if e.file.is_empty() { spec.files.join(", ") } else { e.file.clone() };
                let uri = relative(&path, root.as_deref());
                report.failed.push(report::Failed { path, uri, position: e.position, message: e.message })
            }
        }
    }
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &report);
    }
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
        _ if args.statistics => report::concise::statistics(&report),
        Format::Text => shown_files.concat() + &report::text::summary(&report),
        Format::Concise => report::concise::render(&report),
        Format::Json => report::json::render(&report, &shown_files),
        Format::Sarif => report::sarif::render(&report, env!("CARGO_PKG_VERSION"), args.include_baselined),
        Format::Github => report::github::render(&report),
        Format::Gitlab => report::gitlab::render(&report),
    };
    if super::print(&text) != 0 || !report.failed.is_empty() || !told {
        return 2;
    }
    let failing = report.items().filter(|(_, i)| !i.baselined).any(|(_, i)| match args.fail_on {
        FailOn::Fix => i.fixable() || i.severity() == Severity::Error,
        FailOn::Error => i.severity() >= Severity::Error,
        FailOn::Warning => i.severity() >= Severity::Warning,
        FailOn::Info => true,
    });
    u8::from(failing && !args.exit_zero)
}

/// Whether `pattern` names the rule `id`: the id, or a prefix of it that ends at a `/`
/// (`dangerous`, `dangerous/`, `mounts/device` for `mounts/device` alone).
fn matches_rule(pattern: &str, id: &str) -> bool {
    let pattern = pattern.trim();
    id == pattern || id.strip_prefix(pattern.trim_end_matches('/')).is_some_and(|rest| rest.starts_with('/'))
}

/// The repository's root: the nearest folder from here up that holds `.git`; else here.
fn repo_root() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    let found = here.ancestors().find(|d| d.join(".git").exists()).map(PathBuf::from);
    Some(found.unwrap_or(here))
}

/// `path` relative to `root`, with `.` and `..` resolved and `/` as separator; as given
/// (normalised) where it lies outside the root.
fn relative(path: &str, root: Option<&std::path::Path>) -> String {
    use std::path::Component;
    let Some(root) = root else { return path.to_string() };
    let absolute = std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| PathBuf::from(path));
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    let mut prefix = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => prefix.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(p) => parts.push(p.to_os_string()),
        }
    }
    let normal: PathBuf = parts.iter().fold(prefix, |p, part| p.join(part));
    match normal.strip_prefix(root) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => normal.to_string_lossy().replace('\\', "/"),
    }
}

fn write_baseline(path: &PathBuf, report: &Report) -> u8 {
    let mut prints: Vec<String> = report.items().map(|(f, i)| i.fingerprint(&f.uri)).collect();
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
