//! `verify`: runs a copy of a stack on the local engine and proves what hardening claims
//! (it starts, becomes healthy, matches its settings, stops on its signal); with
//! `--harden`, runs the file before and after hardening and names every regression.

mod bound;
pub(super) mod copy;
mod expect;
mod explain;
mod logs;
mod mask;
mod on_swarm;
mod report;
pub(super) mod run;
mod swarm;
mod tree;

use super::config::{ProfileArgs, Profiles};
use super::images::{Images, ImagesArgs};
use super::{print, say};
use crate::engine::{self, Cancel, Project};
use clap::{Args, ValueEnum};
use compose_harden::document::spec::Spec;
use compose_harden::{harden_overlay, harden_project, Options, Profile};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct Verify {
    /// The compose file to run, with the project Compose loads it in (its default override,
    /// or the files COMPOSE_FILE names).
    #[arg(value_name = "FILE", required_unless_present_any = ["cleanup", "layers"], conflicts_with = "layers")]
    file: Option<PathBuf>,
    /// The project's files, in the order Compose merges them (as `docker compose -f`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    layers: Vec<String>,
    /// Harden FILE in memory, run it before and after, and report regressions.
    #[arg(long)]
    harden: bool,
    /// With --harden: the profile (as `apply` takes it).
    #[command(flatten)]
    profiles: ProfileArgs,
    /// With --harden: the image facts (as `apply` takes them).
    #[command(flatten)]
    images: ImagesArgs,
    /// With --harden: also replace values the user set where the profile disagrees.
    #[arg(long, requires = "harden")]
    enforce: bool,
    /// With --harden: also write the unsafe fixes (as `apply --unsafe-fixes`).
    #[arg(long, requires = "harden")]
    unsafe_fixes: bool,
    /// A Compose profile to enable (repeatable), as `docker compose --profile`.
    #[arg(long = "compose-profile", value_name = "NAME")]
    compose_profiles: Vec<String>,
    /// The project directory, as `docker compose --project-directory` (default: FILE's).
    #[arg(long, value_name = "DIR")]
    project_directory: Option<PathBuf>,
    /// Seconds to wait for the stack to be ready (default: derived from its healthchecks).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Let the copy keep writable bind mounts (it will write to those host paths).
    #[arg(long)]
    allow_writable_binds: bool,
    /// Let the copy keep host access: privileged (hooks too), host namespaces, devices, the
    /// docker socket, `use_api_socket`, and services a provider runs outside the copy.
    #[arg(long)]
    allow_host: bool,
    /// Run on an engine that DOCKER_HOST or the context names although it is not local.
    #[arg(long)]
    allow_remote: bool,
    /// The Docker Compose v2 binary (also COMPOSE_HARDEN_COMPOSE).
    #[arg(long, value_name = "PATH")]
    compose: Option<PathBuf>,
    /// Deploy the copy as a stack on the swarm the engine is a manager of (`docker stack
    /// deploy`), instead of running it with Compose; verify never makes or leaves a swarm.
    #[arg(long, conflicts_with_all = ["compose_profiles", "compose", "project_directory"])]
    swarm: bool,
    /// With --swarm: also start, in each service with a healthcheck, an update whose new task
    /// never turns healthy, and prove that Swarm rolls it back on its own within its bound.
    #[arg(long, requires = "swarm")]
    update_check: bool,
    /// Remove what an interrupted or killed verify left behind (found by its label), and exit.
    #[arg(long, conflicts_with_all = ["file", "layers", "harden"])]
    cleanup: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The project hardened in memory, as Compose runs it: the command's project, the text it
/// reads from standard input, and how many changes. A file alone is replaced by its
/// hardened text; a project of several files gets what hardening adds as a last layer (the
/// overlay `apply --overlay` writes, which gives what hardening in place gives).
pub(super) fn harden(
    spec: &Spec,
    as_written: &Project,
    profile: &Profile,
    options: Options,
) -> Result<(Project, String, usize), String> {
    let project = super::apply::load(spec).map_err(|e| e.to_string())?;
    if let Some(why) = &project.incomplete {
        return Err(format!("{}: {why}", spec.files[0]));
    }
    let stdin = PathBuf::from("-");
    if project.is_single() {
        let outcome = harden_project(project, profile, options).map_err(|e| e.to_string())?.pop();
        let outcome = outcome.ok_or("nothing was hardened")?;
        let count = outcome.changes.len();
        return Ok((Project { file: stdin, ..as_written.clone() }, outcome.output, count));
    }
    drop(project);
    let path = as_written.directory.join(".compose-harden-verify.yml").display().to_string();
    let read = |file: &str| super::io::read(file, file);
    let outcomes = harden_overlay(spec, &path, None, "verify", &read, profile, options).map_err(|e| e.to_string())?;
    let overlay = outcomes.last().ok_or("nothing was hardened")?;
    if overlay.changes.is_empty() {
        return Ok((as_written.clone(), String::new(), 0));
    }
    let mut layers = as_written.layers.clone();
    layers.push(as_written.file.clone());
    Ok((Project { layers, file: stdin, ..as_written.clone() }, overlay.output.clone(), overlay.changes.len()))
}

/// 0: everything proven; 1: something failed (the "after" run with --harden); 2: verify
/// could not run; 130: interrupted (the copy was torn down).
pub fn run(args: &Verify) -> u8 {
    let profile_given = !args.profiles.profile.is_empty() || args.profiles.no_config || args.profiles.sizing.is_some();
    if !args.harden && (profile_given || args.images.given()) {
        say("error: --profile, --no-config, --sizing, --images, --inspect and --no-images choose how --harden hardens; add --harden");
        return 2;
    }
    let cancel = Cancel::on_signals();
    if args.cleanup {
        let (docker, endpoint, version) = match engine::local(args.allow_remote) {
            Ok(found) => found,
            Err(e) => {
                say(&format!("error: {e}"));
                return 2;
            }
        };
        say(&format!("engine: {endpoint} (Docker Engine {version})"));
        // The copy of a verify that is still running is its own; it tears it down itself.
        let alive = |pid: &str| !pid.is_empty() && Path::new("/proc").join(pid).exists();
        let mut removed = swarm::cleanup(&docker, alive);
        removed.extend(docker.remove_labelled(copy::LABEL, copy::PID_LABEL, alive));
        let mut text: String = removed.iter().map(|r| format!("removed {r}\n")).collect();
        text.push_str(&format!("{} left behind by verify removed\n", removed.len()));
        return print(&text);
    }
    if args.swarm {
        return on_swarm::run(args, &cancel);
    }
    let engine = match engine::connect(args.compose.as_deref(), args.allow_remote) {
        Ok(e) => e,
        Err(e) => {
            say(&format!("error: {e}"));
            return 2;
        }
    };
    say(&format!("engine: {} (Docker Engine {})", engine.endpoint, engine.version));
    let spec = match (&args.file, args.layers.is_empty()) {
        (_, false) => Spec::layers(&args.layers, &[]),
        (Some(file), true) => Spec::named(&file.display().to_string(), &[]),
        (None, true) => return 2,
    };
    let spec = match spec {
        Ok(spec) => spec,
        Err(e) => {
            say(&e.to_string());
            return 2;
        }
    };
    match prove(args, &spec, &engine, &cancel) {
        Ok(code) => code,
        Err(run::Fatal(e)) => {
            say(&format!("error: {e}"));
            2
        }
    }
}

/// What a verify runs: the project as written, and hardened when asked.
pub(super) struct Planned {
    pub as_written: Project,
    /// The hardened project and the text it reads from standard input.
    pub hardened: Option<(Project, String)>,
    pub allow: copy::Allow,
    pub dotenv: Option<String>,
}

impl Planned {
    /// The runs: as written alone, or before and after hardening.
    pub fn runs(&self) -> Vec<(&'static str, &Project, Option<&[u8]>)> {
        match &self.hardened {
            None => vec![("as-written", &self.as_written, None)],
            Some((after, text)) => vec![
                ("before", &self.as_written, None),
                ("after", after, (after.file == Path::new("-")).then_some(text.as_bytes())),
            ],
        }
    }
}

/// Finds the project's files and hardens it in memory when asked (with `swarm` by default
/// under --swarm, where no profile is named and no team profile is found).
fn plan(args: &Verify, spec: &Spec) -> Result<Planned, run::Fatal> {
    let fatal = |e: String| run::Fatal(e);
    let shown = spec.files.join(", ");
    if spec.files.iter().any(|f| f == "-") {
        return Err(fatal("verify runs a file from its directory: name the file, not standard input".into()));
    }
    let mut files = Vec::new();
    for file in &spec.files {
        let absolute = std::path::absolute(file).map_err(|e| fatal(format!("{file}: {e}")))?;
        if !absolute.is_file() {
            return Err(fatal(format!("{file}: no such file")));
        }
        files.push(absolute);
    }
    let Some(file) = files.pop() else { return Err(fatal("no compose file named".into())) };
    let directory = match &args.project_directory {
        Some(d) => std::path::absolute(d).map_err(|e| fatal(format!("{}: {e}", d.display())))?,
        None => files.first().unwrap_or(&file).parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    if spec.files.len() > 1 {
        let how = if args.swarm { "as docker stack deploy reads them" } else { "as Compose loads it" };
        say(&format!("project: {} ({how})", spec.files.join(", then ")));
    }
    let dotenv = std::fs::read_to_string(directory.join(".env")).ok();
    let allow = copy::Allow { writable_binds: args.allow_writable_binds, host: args.allow_host };
    let as_written = Project {
        name: None,
        directory: directory.clone(),
        layers: files.clone(),
        file: file.clone(),
        profiles: args.compose_profiles.clone(),
    };
    if !args.harden {
        return Ok(Planned { as_written, hardened: None, allow, dotenv });
    }
    let mut chosen = Profiles::new(&args.profiles).map_err(|e| fatal(e.to_string()))?.for_file(&spec.files[0]);
    let unnamed = args.profiles.profile.is_empty();
    if args.swarm && unnamed && chosen.as_ref().is_ok_and(|c| !c.found) {
        let swarm = ProfileArgs { profile: vec!["swarm".into()], ..args.profiles.clone() };
        chosen = Profiles::new(&swarm).map_err(|e| fatal(e.to_string()))?.for_file(&spec.files[0]);
        say(&format!("notice: {}: hardened with the built-in profile swarm (--swarm)", spec.files[0]));
    }
    let chosen = chosen.map_err(|e| fatal(e.to_string()))?;
    if chosen.found {
        say(&format!("notice: {}: hardened with the team profile {}", spec.files[0], chosen.name));
    }
    let images = Images::new(&args.images).map_err(|e| fatal(e.to_string()))?;
    let facts = images.for_file(&file.display().to_string(), &chosen.profile).map_err(|e| fatal(e.to_string()))?;
    if let Some(loaded) = facts.as_ref().filter(|l| l.found) {
        say(&format!("notice: {shown}: image facts from {}", loaded.describe()));
    }
    let facts = facts.as_ref().map(|l| &l.facts);
    let options = Options { enforce: args.enforce, unsafe_fixes: args.unsafe_fixes, facts, ..Options::default() };
    let (hardened, text, count) = harden(spec, &as_written, &chosen.profile, options).map_err(fatal)?;
    say(&format!("hardened {shown} in memory ({count} changes)"));
    Ok(Planned { as_written, hardened: Some((hardened, text)), allow, dotenv })
}

/// Each adjustment once, in the order the runs made them (before and after share most).
fn distinct<'a>(all: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in all {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

fn prove(args: &Verify, spec: &Spec, engine: &engine::Engine, cancel: &Cancel) -> Result<u8, run::Fatal> {
    let planned = plan(args, spec)?;
    let mut prepared = Vec::new();
    for (label, project, input) in planned.runs() {
        let dotenv = planned.dotenv.as_deref();
        prepared.push(run::prepare(engine, label, project, input, planned.allow, args.timeout, dotenv)?);
    }
    let adjustments = distinct(prepared.iter().flat_map(|p| &p.adjustments));
    let mut runs = Vec::new();
    for p in &prepared {
        if cancel.is_set() {
            break;
        }
        say(&format!("{}: running the copy as project {} (waiting up to {} s)", p.label, p.project, p.seconds()));
        runs.push(run::execute(engine, p, cancel));
    }
    let report = report::Report {
        version: 1,
        ok: false,
        endpoint: engine.endpoint.clone(),
        engine_version: engine.version.clone(),
        compose_version: engine.compose.version.clone(),
        swarm: false,
        adjustments,
        runs,
    };
    Ok(finish(report, args, cancel))
}

/// Marks regressions, prints the report and gives the exit code: 0 proven, 1 failed, 2 the
/// report could not be written, 130 interrupted.
pub(super) fn finish(mut report: report::Report, args: &Verify, cancel: &Cancel) -> u8 {
    if let [before, after] = report.runs.as_mut_slice() {
        for s in &mut after.services {
            let passed_before = before.services.iter().any(|b| b.service == s.service && b.ok);
            s.regression = passed_before && !s.ok;
        }
    }
    let interrupted = cancel.is_set();
    report.ok = !interrupted && report.runs.last().is_some_and(|r| r.ok && r.error.is_none());
    let text = match args.format {
        Format::Text => report::text(&report),
        Format::Json => report::json(&report),
    };
    if print(&text) != 0 {
        return 2;
    }
    if interrupted {
        130
    } else if report.ok {
        0
    } else {
        1
    }
}
