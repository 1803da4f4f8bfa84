//! `inspect`: read every image a project uses from the local engine (its config, and its
//! filesystem through a container created and never started) and write the facts file that
//! `apply`, `check` and `verify --harden` decide from. Never pulls without `--pull`.

use super::config::{ProfileArgs, Profiles};
use super::discover;
use crate::engine::image::{self, Unstarted};
use crate::engine::{self, api::Connection, stats, Cancel, Docker, Project};
use clap::Args;
use compose_harden::document::{self, lookup};
use compose_harden::facts::{self, search, Facts, Freshness, Image, Inspected, Owner};
use compose_harden::Profile;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct Inspect {
    /// The project's compose files; default: the compose file of the current directory.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Write the facts here (`-`: standard output). Default: compose-harden.images.yml
    /// beside the files.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Pull the images the engine does not have (without it, a missing image is an error).
    #[arg(long)]
    pull: bool,
    /// Compare the facts file with the engine and report what is stale or missing; write
    /// nothing (exit 1 on a warning).
    #[arg(long, conflicts_with = "pull")]
    check: bool,
    /// The profile whose probe catalogue names the tools looked for, besides the usual ones
    /// (as `apply --profile`; default: the team's compose-harden.yml, else `production`).
    #[arg(short, long = "profile", value_name = "NAME|PATH")]
    profile: Vec<String>,
    /// Ignore compose-harden.yml files.
    #[arg(long)]
    no_config: bool,
    /// The Docker Compose v2 that interpolates `${...}` in references and names the images
    /// of services that only build (also COMPOSE_HARDEN_COMPOSE).
    #[arg(long, value_name = "PATH")]
    compose: Option<PathBuf>,
}

/// 0: written (with --check: current); 1: --check found a warning; 2: an error; 130:
/// interrupted (every container created was removed).
pub fn run(args: &Inspect) -> u8 {
    let cancel = Cancel::on_signals();
    match inspect(args, &cancel) {
        Ok(code) => code,
        Err(_) if cancel.is_set() => {
            super::say("interrupted: every container inspect created was removed");
            130
        }
        Err(e) => {
            super::say(&shown(&e));
            2
        }
    }
}

/// An error as users read it: a compose or facts file's error already names its place.
fn shown(e: &str) -> String {
    if e.contains(": error: ") {
        e.to_string()
    } else {
        format!("error: {e}")
    }
}

fn inspect(args: &Inspect, cancel: &Cancel) -> Result<u8, String> {
    let files = match args.files.is_empty() {
        true => discover::projects(&[], &[])?.into_iter().flat_map(|spec| spec.files).collect(),
        false => args.files.clone(),
    };
    if files.iter().any(|f| f == "-") {
        return Err("inspect reads the files of a project from their directory: name them, not standard input".into());
    }
    let target = match &args.output {
        Some(path) => path.clone(),
        None => beside(&files)?,
    };
    if args.check {
        return check(args, &files, &target);
    }
    let profile_args = ProfileArgs {
        profile: args.profile.clone(),
        no_config: args.no_config,
        sizing: None,
        headroom: 1.3,
        allow_lower: false,
    };
    let profiles = Profiles::new(&profile_args).map_err(|e| e.to_string())?;
    let profile = profiles.for_file(&files[0]).map_err(|e| e.to_string())?;
    let shown = target.display().to_string();
    // A facts file already there must read before the engine is asked: it is not overwritten
    // otherwise, and its other sections are kept.
    let existing = match std::fs::read_to_string(&target) {
        _ if shown == "-" => None,
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{shown}: cannot read it: {}", compose_harden::error::io_reason(&e))),
    };
    if let Some(text) = &existing {
        facts::parse(&shown, text).map_err(|e| e.to_string())?;
    }
    let started = Instant::now();
    let read = live(&files, &profile.profile, args.compose.as_deref(), args.pull, Some(cancel))?;
    if shown == "-" {
        let text = facts::render("<stdout>", None, &read, Owner::Inspect).map_err(|e| e.to_string())?;
        return Ok(super::print(&text));
    }
    let text = facts::render(&shown, existing.as_deref(), &read, Owner::Inspect).map_err(|e| e.to_string())?;
    super::output::clean_up_on_signals();
    super::output::output(&target, &text, &shown).map_err(|e| e.to_string())?;
    let count = read.images.len() + read.builds.len();
    super::say(&format!(
        "wrote {shown} ({count} image{}, {:.1} s)",
        if count == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    ));
    Ok(0)
}

/// `compose-harden.images.yml` in the files' directory.
fn beside(files: &[String]) -> Result<PathBuf, String> {
    let dir = |f: &String| Path::new(f).parent().map(Path::to_path_buf).unwrap_or_default();
    let first = dir(&files[0]);
    if files.iter().any(|f| dir(f) != first) {
        return Err(
            "the files are in different directories: name the facts file with -o, or inspect each directory on its own"
                .into(),
        );
    }
    Ok(first.join(facts::FILE_NAME))
}

/// What a project's files use: each reference as the files write it, with the reference
/// the engine is asked for; each service that builds and names no image, with the name
/// Compose gives its image.
#[derive(Default)]
struct Wanted {
    references: BTreeMap<String, String>,
    builds: BTreeMap<String, String>,
}

fn wanted(files: &[String], compose: Option<&Path>) -> Result<Wanted, String> {
    let mut wanted = Wanted::default();
    for file in files {
        let bytes = super::io::read(file, file).map_err(|e| e.to_string())?;
        let doc = document::load(file, bytes).map_err(|e| e.to_string())?;
        let inherited = document::extends::of(&doc);
        let Some(services) = doc.services() else { continue };
        let mut needs_compose = Vec::new();
        for (name, service) in services {
            let (Some(name), Some(own)) = (name.as_str(), service.as_mapping()) else { continue };
            let resolved = match inherited.get(name) {
                Some(Ok((merged, _))) => merged,
                _ => own,
            };
            let image = lookup::get(resolved, "image").and_then(|v| v.as_str());
            match image {
                Some(reference) if reference.contains('$') => {
                    needs_compose.push((name.to_string(), Some(reference.to_string())))
                }
                Some(reference) => {
                    wanted.references.insert(reference.to_string(), reference.to_string());
                }
                None if lookup::get(resolved, "build").is_some() => needs_compose.push((name.to_string(), None)),
                None => {}
            }
        }
        if needs_compose.is_empty() {
            continue;
        }
        let model = compose_model(file, compose)?;
        let project = model["name"].as_str().unwrap_or_default();
        for (service, raw) in needs_compose {
            match raw {
                Some(raw) => {
                    let engine_ref = model["services"][&service]["image"]
                        .as_str()
                        .ok_or_else(|| format!("{file}: Docker Compose gives service `{service}` no image"))?;
                    wanted.references.insert(raw, engine_ref.to_string());
                }
                None => {
                    wanted.builds.insert(service.clone(), format!("{project}-{service}"));
                }
            }
        }
    }
    Ok(wanted)
}

/// The project as Compose reads it (interpolated, every Compose profile enabled).
fn compose_model(file: &str, compose: Option<&Path>) -> Result<serde_json::Value, String> {
    let docker = Docker::find()?;
    let compose = engine::Compose::find(compose, &docker).map_err(|e| {
        format!("{file}: a reference holds `${{...}}` or a service only builds, so Docker Compose must read the project: {e}")
    })?;
    let path = PathBuf::from(file);
    let directory = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let directory = if directory.as_os_str().is_empty() { PathBuf::from(".") } else { directory };
    let project = Project { name: None, directory, layers: Vec::new(), file: path, profiles: vec!["*".into()] };
    let mut cmd = compose.project(&project);
    cmd.args(["config", "--format", "json"]);
    let done = engine::run(cmd, None, Some(Instant::now() + Duration::from_secs(60)), None)?;
    if !done.ok {
        return Err(format!("Docker Compose cannot read {file}: {}", done.stderr.trim()));
    }
    serde_json::from_str(&done.stdout).map_err(|e| format!("Docker Compose printed no project for {file}: {e}"))
}

/// The facts of every image `files` use, read from the engine now. With `command` (the
/// `inspect` command's own run, interruptible), a line per image on stderr.
pub fn live(
    files: &[String],
    profile: &Profile,
    compose: Option<&Path>,
    pull: bool,
    command: Option<&Cancel>,
) -> Result<Facts, String> {
    let wanted = wanted(files, compose)?;
    let tools = search::tools_for(profile);
    let (docker, endpoint, version) = engine::local(false)?;
    let socket = stats::socket(&endpoint)?;
    let mut conn = Connection::open(&socket)?;
    // The engine's reference for each section, and its config.
    let mut configs: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut missing = Vec::new();
    let engine_refs: BTreeSet<&String> = wanted.references.values().chain(wanted.builds.values()).collect();
    for reference in engine_refs {
        let mut found = image::inspect(&mut conn, reference)?;
        if found.is_none() && pull && !wanted.builds.values().any(|b| b == reference) {
            super::say(&format!("pulling {reference}"));
            image::pull(&docker, reference)?;
            found = image::inspect(&mut conn, reference)?;
        }
        match found {
            Some(config) => {
                configs.insert(reference.clone(), config);
            }
            None => missing.push(reference.clone()),
        }
    }
    if !missing.is_empty() {
        let built = |r: &String| wanted.builds.values().any(|b| b == r);
        let (unbuilt, unpulled): (Vec<&String>, Vec<&String>) = missing.iter().partition(|r| built(r));
        let mut why = Vec::new();
        if !unpulled.is_empty() {
            let list = unpulled.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
            why.push(match pull {
                true => format!("the engine has no image {list}"),
                false => format!("the engine has no image {list}: pull it (docker compose pull), or pass --pull"),
            });
        }
        if !unbuilt.is_empty() {
            let services: Vec<String> =
                wanted.builds.iter().filter(|(_, r)| unbuilt.contains(r)).map(|(s, _)| format!("`{s}`")).collect();
            why.push(format!(
                "the engine has no image of {} (it builds {}): build it first (docker compose build)",
                services.join(", "),
                unbuilt.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        return Err(why.join("; "));
    }
    // Each image once, by ID (two references may name one image), on a few connections.
    let mut by_id: BTreeMap<String, Image> = BTreeMap::new();
    for config in configs.values() {
        let image = facts::config::image(config)?;
        by_id.entry(image.id.clone()).or_insert(image);
    }
    // Each image's line names it as the files do.
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let sections = wanted.references.iter().chain(wanted.builds.iter());
    for (name, engine_ref) in sections {
        let id = configs.get(engine_ref).and_then(|c| c["Id"].as_str()).unwrap_or_default();
        names.entry(id.to_string()).or_default().push(name.clone());
    }
    let searched = search_all(&socket, by_id, &tools, command.map(|c| (c, &names)))?;
    let mut read = Facts::new();
    read.inspected = Some(Inspected { engine: version, tools });
    let fact = |engine_ref: &String, own: &str| -> Result<Image, String> {
        let id = configs.get(engine_ref).and_then(|c| c["Id"].as_str()).unwrap_or_default();
        let mut image = searched.get(id).cloned().ok_or_else(|| format!("no facts were read for {engine_ref}"))?;
        image.reference = (engine_ref != own).then(|| engine_ref.clone());
        Ok(image)
    };
    for (raw, engine_ref) in &wanted.references {
        read.images.insert(raw.clone(), fact(engine_ref, raw)?);
    }
    for (service, engine_ref) in &wanted.builds {
        read.builds.insert(service.clone(), fact(engine_ref, "")?);
    }
    read.share_searched();
    Ok(read)
}

/// Searches each image's filesystem, a few at a time; the images by ID.
fn search_all(
    socket: &Path,
    images: BTreeMap<String, Image>,
    tools: &[String],
    command: Option<(&Cancel, &BTreeMap<String, Vec<String>>)>,
) -> Result<BTreeMap<String, Image>, String> {
    let cancel = command.map(|(c, _)| c.clone());
    let queue = std::sync::Mutex::new(images.into_iter().collect::<Vec<_>>());
    let workers = 4.min(queue.lock().map(|q| q.len()).unwrap_or(1)).max(1);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((id, mut image)) = next else { break };
                let started = Instant::now();
                let done = Unstarted::create(socket, &id, cancel.clone()).and_then(|mut fs| {
                    search::search(&mut fs, &mut image, tools)?;
                    Ok(fs.asked)
                });
                let line = done.map(|asked| {
                    let seconds = started.elapsed().as_secs_f64();
                    (summary(&image, seconds, asked), image)
                });
                if let Ok(mut r) = results.lock() {
                    r.push((id, line));
                }
            });
        }
    });
    let mut out = BTreeMap::new();
    let mut results = results.into_inner().map_err(|_| "a search stopped unexpectedly".to_string())?;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, result) in results {
        let (line, image) = result?;
        if let Some((_, names)) = command {
            let named = names.get(&id).map(|n| n.join(", ")).unwrap_or_default();
            super::say(&format!("inspected {named} {line}"));
        }
        out.insert(id, image);
    }
    Ok(out)
}

/// One image's line: what was found, and what it cost.
fn summary(image: &Image, seconds: f64, asked: usize) -> String {
    let short = image.id.strip_prefix("sha256:").unwrap_or(&image.id);
    let tools: Vec<&str> = image.tools.keys().map(String::as_str).collect();
    let tools = if tools.is_empty() { "no tools".to_string() } else { tools.join(", ") };
    let init = image.init.as_ref().map(|i| format!("; init {}", i.kind.name())).unwrap_or_default();
    let check = match &image.healthcheck {
        Some(h) if h.disabled() => "; HEALTHCHECK NONE",
        Some(_) => "; own HEALTHCHECK",
        None => "",
    };
    format!(
        "({}, {}): {tools}{init}{check} ({:.2} s, {asked} paths)",
        short.chars().take(12).collect::<String>(),
        image.platform,
        seconds
    )
}

/// `--check`: the facts file against the engine, without reading any filesystem.
fn check(args: &Inspect, files: &[String], target: &Path) -> Result<u8, String> {
    let shown = target.display().to_string();
    let text = std::fs::read_to_string(target).map_err(|e| {
        format!(
            "{shown}: cannot read it: {}; write it with `compose-harden inspect`",
            compose_harden::error::io_reason(&e)
        )
    })?;
    let recorded = facts::parse(&shown, &text).map_err(|e| e.to_string())?;
    let wanted = wanted(files, args.compose.as_deref())?;
    let (_, endpoint, _) = engine::local(false)?;
    let mut conn = Connection::open(&stats::socket(&endpoint)?)?;
    let layout = document::layout::build(&text, &shown).map_err(|e| e.to_string())?;
    let place = |section: &str, key: &str| {
        let node = layout.locate(&[section.to_string(), key.to_string()]);
        node.map_or_else(|| shown.clone(), |n| format!("{shown}:{}:{}", n.line, n.col))
    };
    let mut lines = Vec::new();
    let mut warnings = 0;
    let sections = [("images", &wanted.references, &recorded.images), ("builds", &wanted.builds, &recorded.builds)];
    for (section, wanted, recorded) in sections {
        for (key, engine_ref) in wanted {
            let what = if section == "images" {
                format!("image `{key}`")
            } else {
                format!("the image service `{key}` builds")
            };
            let Some(image) = recorded.get(key) else {
                warnings += 1;
                lines.push(format!("{shown}: warning: {what}: no facts; run `compose-harden inspect`"));
                continue;
            };
            let now = image::inspect(&mut conn, engine_ref)?;
            let now_id = now.as_ref().and_then(|c| c["Id"].as_str());
            let (severity, message) = match image.freshness(now_id) {
                Freshness::Current => continue,
                Freshness::Gone => ("warning", format!("the engine no longer has {engine_ref}")),
                Freshness::Stale { now } if section == "builds" => (
                    "info",
                    format!("rebuilt since it was inspected ({} -> {}); a build's ID changes with every build", short(&image.id), short(&now)),
                ),
                Freshness::Stale { now } => (
                    "warning",
                    format!("stale: the engine now resolves {engine_ref} to {} (the facts are of {}); run `compose-harden inspect`", short(&now), short(&image.id)),
                ),
            };
            warnings += usize::from(severity == "warning");
            lines.push(format!("{}: {severity}: {what}: {message}", place(section, key)));
        }
        for key in recorded.keys().filter(|k| !wanted.contains_key(*k)) {
            lines.push(format!("{}: info: `{key}`: the project no longer uses it", place(section, key)));
        }
    }
    lines.push(format!("{shown}: {} warning{}", warnings, if warnings == 1 { "" } else { "s" }));
    let code = super::print(&(lines.join("\n") + "\n"));
    Ok(if code != 0 { code } else { u8::from(warnings > 0) })
}

fn short(id: &str) -> String {
    id.strip_prefix("sha256:").unwrap_or(id).chars().take(12).collect()
}
