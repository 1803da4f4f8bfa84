//! `probes`: runs the project in `verify`'s safe copy and finds, for each service, a
//! healthcheck that works there, the way an operator would with `docker exec`, and proves it
//! can fail: three passes in a row, well inside the timeout, and a failure while the app is
//! frozen (SIGSTOP from the host). What it proved goes into the facts file's per-service
//! section (`services`), which `apply` reads.

mod candidates;
mod service;

use super::config::{ProfileArgs, Profiles};
use super::verify::copy::Allow;
use super::verify::run::{self, Fatal};
use super::{print, say};
use crate::engine::{self, Cancel, Project};
use clap::{Args, ValueEnum};
use compose_harden::document::spec::Spec;
use compose_harden::facts::{self, DecidedBy, Facts, Owner, Proven};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args)]
pub struct Probes {
    /// The compose file to run, with the project Compose loads it in.
    #[arg(value_name = "FILE", required_unless_present = "layers", conflicts_with = "layers")]
    file: Option<PathBuf>,
    /// The project's files, in the order Compose merges them (as `docker compose -f`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    layers: Vec<String>,
    /// Probe only this service (repeatable); the others' entries in the facts file are kept.
    #[arg(long, value_name = "NAME")]
    service: Vec<String>,
    /// The facts file to read the images' tools from and write the proven probes to.
    /// Default: compose-harden.images.yml beside the file (written by `inspect`).
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Seconds each service has to listen and pass a first probe.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// The profile whose probe catalogue gives the apps' own CLIs (as `apply --profile`).
    #[arg(short, long = "profile", value_name = "NAME|PATH")]
    profile: Vec<String>,
    /// Ignore compose-harden.yml files.
    #[arg(long)]
    no_config: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Let the copy keep writable bind mounts (it will write to those host paths).
    #[arg(long)]
    allow_writable_binds: bool,
    /// Let the copy keep host access (as `verify --allow-host`).
    #[arg(long)]
    allow_host: bool,
    /// The Docker Compose v2 binary (also COMPOSE_HARDEN_COMPOSE).
    #[arg(long, value_name = "PATH")]
    compose: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// A duration as Compose writes one: `5s`, `1m20s`.
pub fn duration(seconds: u64) -> String {
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// 0: a probe proven for every service probed; 1: some service got none, or could not be
/// probed (each says why);
/// 2: probes could not run; 130: interrupted (the copy was torn down).
pub fn run(args: &Probes) -> u8 {
    let cancel = Cancel::on_signals();
    match probes(args, &cancel) {
        Ok(code) => code,
        Err(_) if cancel.is_set() => {
            say("interrupted: the copy was torn down; nothing was written");
            130
        }
        Err(e) if e.contains(": error: ") => {
            say(&e);
            2
        }
        Err(e) => {
            say(&format!("error: {e}"));
            2
        }
    }
}

/// One service as the project writes it: its image reference, whether it builds, what
/// decides its probe, and whether it has a healthcheck of its own.
struct Written {
    image: Option<String>,
    builds: bool,
    decided_by: DecidedBy,
    own_check: bool,
    /// It mounts volumes: in the copy they are empty, so its start there is a lower bound.
    stateful: bool,
}

fn probes(args: &Probes, cancel: &Cancel) -> Result<u8, String> {
    let started = Instant::now();
    let spec = match (&args.file, args.layers.is_empty()) {
        (_, false) => Spec::layers(&args.layers, &[]),
        (Some(file), true) => Spec::named(&file.display().to_string(), &[]),
        (None, true) => return Err("no compose file named".into()),
    }
    .map_err(|e| e.to_string())?;
    if spec.files.iter().any(|f| f == "-") {
        return Err("probes runs a file from its directory: name the file, not standard input".into());
    }
    let mut files = Vec::new();
    for file in &spec.files {
        let absolute = std::path::absolute(file).map_err(|e| format!("{file}: {e}"))?;
        if !absolute.is_file() {
            return Err(format!("{file}: no such file"));
        }
        files.push(absolute);
    }
    let Some(file) = files.pop() else { return Err("no compose file named".into()) };
    let directory = files.first().unwrap_or(&file).parent().map(Path::to_path_buf).unwrap_or_default();
    let target = args.output.clone().unwrap_or_else(|| directory.join(facts::FILE_NAME));
    let shown = target.display().to_string();
    let existing = std::fs::read_to_string(&target).map_err(|e| {
        format!(
            "{shown}: {}; run `compose-harden inspect` first: probes builds candidates from the tools it found",
            compose_harden::error::io_reason(&e)
        )
    })?;
    let known = facts::parse(&shown, &existing).map_err(|e| e.to_string())?;
    let profile_args = ProfileArgs {
        profile: args.profile.clone(),
        no_config: args.no_config,
        sizing: None,
        headroom: 1.3,
        allow_lower: false,
    };
    let profiles = Profiles::new(&profile_args).map_err(|e| e.to_string())?;
    let chosen = profiles.for_file(&spec.files[0]).map_err(|e| e.to_string())?;
    let catalogue = chosen.profile.healthcheck.as_ref().map(|h| h.probes.clone()).unwrap_or_default();
    let written = written(&spec)?;
    for name in &args.service {
        if !written.contains_key(name) {
            return Err(format!("no service `{name}` in {}", spec.files.join(", ")));
        }
    }
    let engine = engine::connect(args.compose.as_deref(), false)?;
    let socket = engine::stats::socket(&engine.endpoint)?;
    say(&format!("engine: {} (Docker Engine {})", engine.endpoint, engine.version));
    let as_written = Project {
        name: None,
        directory: directory.clone(),
        layers: files.clone(),
        file: file.clone(),
        profiles: vec![],
    };
    let dotenv = std::fs::read_to_string(directory.join(".env")).ok();
    let allow = Allow { writable_binds: args.allow_writable_binds, host: args.allow_host };
    let prepared =
        run::prepare(&engine, "probes", &as_written, None, allow, Some(args.timeout.max(30)), dotenv.as_deref())
            .map_err(|Fatal(e)| e)?;
    say(&format!("running the copy as project {}", prepared.project));
    let wanted: Vec<String> =
        written.keys().filter(|name| args.service.is_empty() || args.service.contains(name)).cloned().collect();
    let context =
        service::Context { socket: &socket, engine: &engine, cancel, timeout: args.timeout, catalogue: &catalogue };
    let results = run::hold(&engine, &prepared, cancel, |containers| {
        service::probe_all(&context, &containers, &wanted, &written, &known)
    });
    if cancel.is_set() {
        return Err("interrupted".into());
    }
    let mut next = Facts::new();
    next.services = known.services.clone();
    for result in &results {
        match &result.proven {
            Some(proven) => {
                next.services.insert(result.service.clone(), proven.clone());
            }
            // A service skipped keeps nothing that no longer applies.
            None => {
                next.services.remove(&result.service);
            }
        }
    }
    let text = facts::render(&shown, Some(&existing), &next, Owner::Probes).map_err(|e| e.to_string())?;
    super::output::clean_up_on_signals();
    super::output::output(&target, &text, &shown).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let report = match args.format {
        Format::Text => text_report(&results, &written, &shown, seconds),
        Format::Json => json_report(&results, &written, &shown, &prepared.project, seconds),
    };
    if print(&report) != 0 {
        return Ok(2);
    }
    let missing = results
        .iter()
        .any(|r| r.blocked || (r.skipped.is_none() && r.proven.as_ref().is_none_or(|p| p.probe.is_none())));
    Ok(u8::from(missing))
}

/// Each service as the project writes it (merged as Compose merges it, not interpolated).
fn written(spec: &Spec) -> Result<BTreeMap<String, Written>, String> {
    let project = super::apply::load(spec).map_err(|e| e.to_string())?;
    // A file alone keeps its services in the file (`extends` resolved apart).
    let mut services = project.services.clone();
    if project.is_single() {
        let doc = &project.files[0];
        let inherited = compose_harden::document::extends::of(doc);
        for (name, own) in doc.services().into_iter().flatten() {
            let resolved = match name.as_str().and_then(|n| inherited.get(n)) {
                Some(Ok((merged, _))) => yaml_serde::Value::Mapping(merged.clone()),
                _ => own.clone(),
            };
            services.insert(name.clone(), resolved);
        }
    }
    let mut out = BTreeMap::new();
    for (name, value) in &services {
        let (Some(name), Some(service)) = (name.as_str(), value.as_mapping()) else { continue };
        let get = |key: &str| compose_harden::document::lookup::get(service, key);
        let own_check = get("healthcheck").is_some_and(|h| {
            !h.as_mapping().is_some_and(|m| {
                compose_harden::document::lookup::get(m, "disable").and_then(|d| d.as_bool()) == Some(true)
            })
        });
        out.insert(
            name.to_string(),
            Written {
                image: get("image").and_then(|i| i.as_str()).map(str::to_string),
                builds: get("build").is_some(),
                decided_by: DecidedBy::of(service),
                own_check,
                stateful: get("volumes").and_then(|v| v.as_sequence()).is_some_and(|v| !v.is_empty()),
            },
        );
    }
    Ok(out)
}

fn text_report(results: &[service::Outcome], written: &BTreeMap<String, Written>, file: &str, seconds: f64) -> String {
    let mut out = String::new();
    let width = results.iter().map(|r| r.service.len()).max().unwrap_or(0);
    let mut found = 0;
    for r in results {
        let line = match (&r.skipped, &r.proven) {
            (Some(why), _) if r.blocked => format!("not probed: {why}"),
            (Some(why), _) => format!("skipped: {why}"),
            (None, Some(Proven { probe: Some(p), evidence, .. })) => {
                found += 1;
                let words = p.test.get(1..).unwrap_or_default().join(" ");
                let first =
                    evidence.first_pass_seconds.map(|s| format!(", first pass after {s:.1} s")).unwrap_or_default();
                let kind = match p.socket_only {
                    true => "socket only: passed while the app was frozen",
                    false => "proven: failed while the app was frozen",
                };
                let bound = match written.get(&r.service).is_some_and(|w| w.stateful) {
                    true => "; a lower bound: its volumes were empty in the copy",
                    false => "",
                };
                format!("{words}  ({kind}; start_period {}{first}{bound})", p.start_period)
            }
            (None, Some(Proven { none: Some(why), .. })) => format!("no probe: {why}"),
            _ => "no probe".to_string(),
        };
        out.push_str(&format!("{:<width$}  {line}\n", r.service));
    }
    let probed = results.iter().filter(|r| r.skipped.is_none()).count();
    out.push_str(&format!("{found} of {probed} services probed got a probe, in {seconds:.1} s; written to {file}\n"));
    out
}

fn json_report(
    results: &[service::Outcome],
    written: &BTreeMap<String, Written>,
    file: &str,
    project: &str,
    seconds: f64,
) -> String {
    let services: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let p = r.proven.as_ref();
            serde_json::json!({
                "service": r.service,
                "skipped": r.skipped,
                "blocked": r.blocked,
                "probe": p.and_then(|p| p.probe.as_ref()).map(|p| serde_json::json!({
                    "test": p.test, "interval": p.interval, "timeout": p.timeout,
                    "start_period": p.start_period, "retries": p.retries, "socket_only": p.socket_only,
                })),
                "none": p.and_then(|p| p.none.clone()),
                "listening": p.map(|p| p.evidence.listening.clone()).unwrap_or_default(),
                "first_pass_seconds": p.and_then(|p| p.evidence.first_pass_seconds),
                // Its volumes were empty in the copy: the time to the first pass is a lower bound.
                "first_pass_lower_bound": written.get(&r.service).is_some_and(|w| w.stateful),
                "frozen": p.and_then(|p| p.evidence.frozen.clone()),
                "refused": p.map(|p| p.evidence.refused.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let report = serde_json::json!({"version": 1, "file": file, "project": project, "seconds": (seconds * 10.0).round() / 10.0, "services": services});
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
