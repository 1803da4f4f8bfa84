//! One run: the copy brought up under a fresh project, waited for, compared, stopped
//! service by service, and always torn down.

use super::bound;
use super::copy::{self, Allow, LABEL, PID_LABEL};
use super::expect;
use super::explain::explain;
use super::logs;
use super::mask::Mask;
use super::report::{Run, Service};
use super::tree;
use crate::engine::{run as run_tool, Cancel, Container, Engine, Project};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// A run that is ready to go: every check that needs no container has passed.
pub struct Prepared {
    pub label: &'static str,
    pub project: String,
    pub adjustments: Vec<String>,
    model: Value,
    file: PathBuf,
    _dir: tempfile::TempDir,
    mask: Mask,
    bound: bound::Bound,
    timeout: Option<u64>,
}

/// Why verify could not run (exit 2).
pub struct Fatal(pub String);

/// Reads the model Compose resolves for `project` (with `input` as the file when given),
/// makes the copy and checks that every image is present.
pub fn prepare(
    engine: &Engine,
    label: &'static str,
    project: &Project,
    input: Option<&[u8]>,
    allow: Allow,
    timeout: Option<u64>,
    dotenv: Option<&str>,
) -> Result<Prepared, Fatal> {
    let mut cmd = engine.compose.project(project);
    cmd.args(["config", "--format", "json"]);
    let done = run_tool(cmd, input, Some(Instant::now() + Duration::from_secs(60)), None).map_err(Fatal)?;
    let model: Value = if done.ok {
        serde_json::from_str(&done.stdout)
            .map_err(|e| Fatal(format!("Compose printed a model that is not JSON: {e}")))?
    } else {
        let which = match label {
            "after" => "the hardened file (a hardening bug: please report it)".to_string(),
            _ => project.file.display().to_string(),
        };
        return Err(Fatal(format!("Docker Compose cannot read {which}: {}", done.stderr.trim())));
    };
    let mask = Mask::of(&model, dotenv);
    let name = fresh_name(label);
    let dir = tempfile::tempdir().map_err(|e| Fatal(format!("cannot make a temporary directory: {e}")))?;
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").map_err(|e| Fatal(format!("cannot write the copy: {e}")))?;
    let made = copy::make(&model, &name, allow, &empty.to_string_lossy()).map_err(|refused| {
        Fatal(format!("verify refuses to run this stack (nothing was started):\n  - {}", refused.join("\n  - ")))
    })?;
    let mut missing = Vec::new();
    let mut services = made.model.get("services").and_then(Value::as_object).cloned().unwrap_or_default();
    // A provider's service has no container (its plugin runs outside the copy).
    for (service, spec) in services.iter_mut().filter(|(_, spec)| spec.get("provider").is_none()) {
        let image = spec.get("image").and_then(Value::as_str).unwrap_or("").to_string();
        match engine.docker.image_healthcheck(&image) {
            None => missing.push(format!("{image} (service {service})")),
            // The wait must allow for the image's own check where the file sets none.
            Some(own) => bound::inherit(spec, &own),
        }
    }
    if !missing.is_empty() {
        return Err(Fatal(format!(
            "missing images; verify never pulls or builds, so pull or build them first: {}",
            missing.join(", ")
        )));
    }
    let file = dir.path().join("compose.json");
    let text = serde_json::to_string_pretty(&made.model).unwrap_or_default();
    std::fs::write(&file, text).map_err(|e| Fatal(format!("cannot write the copy: {e}")))?;
    let bound = bound::of(&services);
    Ok(Prepared {
        label,
        project: name,
        adjustments: made.adjustments,
        model: made.model,
        file,
        _dir: dir,
        mask,
        bound,
        timeout,
    })
}

impl Prepared {
    pub fn seconds(&self) -> u64 {
        self.timeout.unwrap_or(self.bound.seconds)
    }

    /// How long the run waits for the stack, and why.
    pub fn wait(&self) -> String {
        match self.timeout {
            Some(t) => format!("waiting up to {t} s (--timeout)"),
            None => self.bound.describe(),
        }
    }
}

pub(super) fn fresh_name(label: &str) -> String {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("chv-{}-{:x}{:04x}", label, std::process::id(), nanos & 0xffff)
}

/// Tears the copy down when dropped: also on an error, a timeout or an interrupt.
struct Teardown<'a> {
    engine: &'a Engine,
    prepared: &'a Prepared,
}

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        let p = self.prepared;
        let project = Project {
            name: Some(p.project.clone()),
            directory: dir_of(&p.file),
            layers: Vec::new(),
            file: p.file.clone(),
            profiles: vec![],
        };
        let mut cmd = self.engine.compose.project(&project);
        cmd.args(["down", "-v", "--remove-orphans", "-t", "1"]);
        let _ = run_tool(cmd, None, Some(Instant::now() + Duration::from_secs(120)), None);
        // What `down` missed (a container created while it ran): found by the label.
        self.engine.docker.remove_labelled(&format!("{LABEL}={}", p.project), PID_LABEL, |_| false);
    }
}

pub(super) fn dir_of(file: &std::path::Path) -> PathBuf {
    file.parent().map(PathBuf::from).unwrap_or_default()
}

/// What the wait saw of one container.
#[derive(Default)]
struct Seen {
    running_since: Option<Instant>,
    healthy_after: Option<f64>,
    done: bool,
}

pub fn execute(engine: &Engine, p: &Prepared, cancel: &Cancel) -> Run {
    let _teardown = Teardown { engine, prepared: p };
    let timeout = p.timeout.unwrap_or(p.bound.seconds);
    let mut run = Run {
        label: p.label,
        project: p.project.clone(),
        ok: false,
        timeout_seconds: timeout,
        timeout_reason: p.wait(),
        error: None,
        services: Vec::new(),
        stop_phase_seconds: 0.0,
        swarm: false,
    };
    let services = p.model.get("services").and_then(Value::as_object).cloned().unwrap_or_default();
    let jobs = bound::jobs(&services);
    let events = engine.docker.events(&format!("com.docker.compose.project={}", p.project)).ok();
    let waited = wait(engine, p, &services, &jobs, timeout, cancel);
    if cancel.is_set() {
        run.error = Some("interrupted; the copy was torn down".into());
        return run;
    }
    let label = format!("com.docker.compose.project={}", p.project);
    let containers = engine.docker.containers(&label).and_then(|ids| engine.docker.inspect(&ids)).unwrap_or_default();
    let mut rows = rows(&containers, &services, &jobs, &waited.seen, &waited.up_said, p);
    stop_all(engine, &containers, &services, &mut rows, p, waited.progress);
    run.stop_phase_seconds = rows.values().filter_map(|r| r.1.stop_seconds).fold(0.0, f64::max);
    if let Some(events) = &events {
        for event in events.seen().iter().filter(|e| e.action == "oom") {
            for (id, row) in rows.values_mut() {
                if id == &event.id {
                    row.oom_killed = true;
                }
            }
        }
    }
    run.services = rows
        .into_values()
        .map(|(_, mut s)| {
            s.judge();
            s
        })
        .collect();
    run.ok = run.services.iter().all(|s| s.ok);
    run
}

/// Brings the copy up, waits as `execute` does, hands the containers to `f` while they run,
/// and always tears the copy down (also when `f` fails or the run is interrupted): what
/// `probes` runs its candidates in.
pub fn hold<T>(engine: &Engine, p: &Prepared, cancel: &Cancel, f: impl FnOnce(Vec<Container>) -> T) -> T {
    let _teardown = Teardown { engine, prepared: p };
    let timeout = p.timeout.unwrap_or(p.bound.seconds);
    let services = p.model.get("services").and_then(Value::as_object).cloned().unwrap_or_default();
    let jobs = bound::jobs(&services);
    wait(engine, p, &services, &jobs, timeout, cancel);
    let label = format!("com.docker.compose.project={}", p.project);
    let containers = engine.docker.containers(&label).and_then(|ids| engine.docker.inspect(&ids)).unwrap_or_default();
    f(containers)
}

/// What the wait saw: each container's progress, what `up` said where it failed, and
/// whether progress is shown (on a terminal).
struct Waited {
    seen: HashMap<String, Seen>,
    up_said: String,
    progress: bool,
}

/// Brings the copy up (`up -d`, on its own thread) and waits until every container has
/// settled and Compose is done, the run is cancelled or the deadline passes.
fn wait(
    engine: &Engine,
    p: &Prepared,
    services: &serde_json::Map<String, Value>,
    jobs: &[String],
    timeout: u64,
    cancel: &Cancel,
) -> Waited {
    let project = Project {
        name: Some(p.project.clone()),
        directory: dir_of(&p.file),
        layers: Vec::new(),
        file: p.file.clone(),
        profiles: vec![],
    };
    let start = Instant::now();
    let deadline = super::bound::deadline(start, timeout as f64);
    let up = {
        let mut cmd = engine.compose.project(&project);
        cmd.args(["up", "-d", "--pull", "never", "--no-build", "--remove-orphans"]);
        let cancel = cancel.clone();
        std::thread::spawn(move || run_tool(cmd, None, Some(deadline), Some(&cancel)))
    };
    let expected: usize = services.values().map(replicas).sum();
    let label = format!("com.docker.compose.project={}", p.project);
    let progress = std::io::stderr().is_terminal();
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut up_result = None;
    let mut up_handle = Some(up);
    loop {
        if up_handle.as_ref().is_some_and(|h| h.is_finished()) {
            up_result = up_handle.take().and_then(|h| h.join().ok());
        }
        let containers =
            engine.docker.containers(&label).and_then(|ids| engine.docker.inspect(&ids)).unwrap_or_default();
        let up_done = up_result.is_some();
        let (ready, pending) = look(&containers, &mut seen, jobs, up_done);
        if progress {
            let mut err = std::io::stderr();
            let waiting = if pending.is_empty() { String::new() } else { format!("; {}", pending.join(", ")) };
            let _ =
                write!(err, "\r\x1b[K{}: {ready}/{expected} ready, {} s{waiting}", p.label, start.elapsed().as_secs());
            let _ = err.flush();
        }
        let all = containers.len() >= expected && ready == containers.len();
        if (all && up_done) || cancel.is_set() || Instant::now() >= deadline {
            break;
        }
        // Compose is done and some containers never came: nothing more will.
        if up_done && ready == containers.len() {
            break;
        }
        cancel.sleep(Duration::from_millis(500));
    }
    if progress {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    if let Some(h) = up_handle.take() {
        // Past the deadline the tool is killed; its thread ends promptly.
        up_result = h.join().ok();
    }
    let up_said = match up_result {
        Some(Ok(done)) if !done.ok => p.mask.apply(done.stderr.trim()),
        _ => String::new(),
    };
    Waited { seen, up_said, progress }
}

/// Notes what each container has reached: how many have settled, and the others as
/// `service state`.
fn look(
    containers: &[Container],
    seen: &mut HashMap<String, Seen>,
    jobs: &[String],
    up_done: bool,
) -> (usize, Vec<String>) {
    let mut ready = 0;
    let mut pending: Vec<String> = Vec::new();
    for c in containers {
        let s = seen.entry(c.id().to_string()).or_default();
        if c.status() == "running" && s.running_since.is_none() {
            s.running_since = Some(Instant::now());
        }
        if c.health() == Some("healthy") && s.healthy_after.is_none() {
            s.healthy_after = s.running_since.map(|t| t.elapsed().as_secs_f64());
        }
        s.done = settled(c, jobs.contains(&c.service().to_string()), up_done);
        ready += usize::from(s.done);
        if !s.done {
            pending.push(format!("{} {}", c.service(), c.health().unwrap_or(c.status())));
        }
    }
    (ready, pending)
}

/// The containers a service runs: none for a provider's (its plugin runs outside the copy).
fn replicas(service: &Value) -> usize {
    if service.get("provider").is_some() {
        return 0;
    }
    let n = service.pointer("/deploy/replicas").or(service.get("scale")).and_then(Value::as_u64);
    n.unwrap_or(1) as usize
}

/// Whether a container has reached a state that the wait need not watch any longer.
fn settled(c: &Container, job: bool, up_done: bool) -> bool {
    let looping = c.restart_count() >= 2;
    match c.status() {
        // A running job is still working; a service is ready unless its check is pending.
        "running" => (!job && c.health() != Some("starting")) || looping,
        "restarting" => looping,
        "exited" | "dead" => job || !restarts(c) || looping,
        "created" => c.error().is_some() || up_done,
        _ => up_done,
    }
}

/// Whether the engine will start this exited container again.
fn restarts(c: &Container) -> bool {
    let policy = c.host_config().pointer("/RestartPolicy/Name").and_then(Value::as_str).unwrap_or("no");
    policy == "always" || policy == "unless-stopped" || (policy == "on-failure" && c.exit_code() != 0)
}

/// One row per expected container, keyed `service` or `service-N` (replicas), with the
/// container id where there is one.
fn rows(
    containers: &[Container],
    services: &serde_json::Map<String, Value>,
    jobs: &[String],
    seen: &HashMap<String, Seen>,
    up_said: &str,
    p: &Prepared,
) -> BTreeMap<String, (String, Service)> {
    let mut rows = BTreeMap::new();
    for (name, spec) in services {
        let count = replicas(spec);
        for n in 1..=count {
            let key = if count > 1 { format!("{name}-{n}") } else { name.clone() };
            let found = containers.iter().find(|c| c.service() == name && c.number() as usize == n);
            let mut row =
                Service { service: key.clone(), job: jobs.contains(name), health: "none".into(), ..Service::default() };
            let id = match found {
                Some(c) => {
                    observe(c, spec, seen.get(c.id()), &mut row, p);
                    c.id().to_string()
                }
                None => {
                    row.error = Some(not_created(name, spec, &p.project, up_said));
                    String::new()
                }
            };
            rows.insert(key, (id, row));
        }
    }
    rows
}

/// Why Compose did not create a service's container: the engine's answer on Compose's
/// line for that container (`<project>-<service>-1  Error response from daemon: ...`).
fn not_created(service: &str, spec: &Value, project: &str, up_said: &str) -> String {
    let container = format!("{project}-{service}-");
    const DAEMON: &str = "Error response from daemon: ";
    let said = up_said.lines().filter(|l| l.contains(&container)).find_map(|l| l.split_once(DAEMON).map(|(_, m)| m));
    match said {
        Some(message) => explain(message, spec),
        None => "never created (a service it depends on failed?)".into(),
    }
}

fn observe(c: &Container, spec: &Value, seen: Option<&Seen>, row: &mut Service, p: &Prepared) {
    row.started = seen.is_some_and(|s| s.running_since.is_some()) || c.status() == "running" || c.restart_count() > 0;
    row.restarts = c.restart_count();
    row.crash_loop = row.restarts >= 2 || (row.restarts >= 1 && c.status() != "running");
    row.oom_killed = c.oom_killed();
    row.health = c.health().unwrap_or("none").to_string();
    row.seconds_to_healthy = seen.and_then(|s| s.healthy_after);
    if row.health == "unhealthy" {
        row.last_probe_output = c.last_probe_output().map(|o| p.mask.apply(o));
    }
    if let Some(error) = c.error() {
        row.error = Some(p.mask.apply(&explain(error, spec)));
    } else if c.status() == "created" {
        row.error =
            Some("created but never started: Compose stops starting a stack when one of its services fails".into());
    } else if !row.job && matches!(c.status(), "exited" | "dead") && !row.crash_loop {
        if c.exit_code() == 0 {
            row.notes.push("exited 0 on its own and is not restarted: a job that finished".into());
        } else {
            row.error = Some(format!("exited with code {}", c.exit_code()));
        }
    }
    if row.job || matches!(c.status(), "exited" | "dead") {
        row.exit_code = Some(c.exit_code());
    }
    let compared = expect::compare(spec, c.host_config(), c.config());
    row.mismatches = compared
        .mismatches
        .into_iter()
        .map(|mut m| {
            m.expected = p.mask.apply(&m.expected);
            m.actual = p.mask.apply(&m.actual);
            m
        })
        .collect();
    row.notes.extend(compared.notes);
}

/// Stops the running containers, those nothing else depends on first, each layer at once;
/// reads who SIGTERM reaches just before.
fn stop_all(
    engine: &Engine,
    containers: &[Container],
    services: &serde_json::Map<String, Value>,
    rows: &mut BTreeMap<String, (String, Service)>,
    p: &Prepared,
    progress: bool,
) {
    let running: Vec<&Container> =
        containers.iter().filter(|c| matches!(c.status(), "running" | "restarting")).collect();
    signal_receivers(engine, &running, rows);
    let mut left: Vec<&Container> = running;
    while !left.is_empty() {
        // A layer: containers whose service no other remaining service depends on.
        let depended: Vec<&str> = left
            .iter()
            .filter_map(|c| services.get(c.service()))
            .filter_map(|s| s.get("depends_on").and_then(Value::as_object))
            .flat_map(|d| d.keys().map(String::as_str))
            .collect();
        let (layer, rest): (Vec<&Container>, Vec<&Container>) =
            left.iter().partition(|c| !depended.contains(&c.service()));
        let layer = if layer.is_empty() { rest.clone() } else { layer };
        let rest: Vec<&Container> = left.iter().filter(|c| !layer.iter().any(|l| l.id() == c.id())).copied().collect();
        if progress {
            let names: Vec<&str> = layer.iter().map(|c| c.service()).collect();
            let _ = write!(std::io::stderr(), "\r\x1b[K{}: stopping {}", p.label, names.join(", "));
        }
        let stopped: Vec<(String, f64, SystemTime)> = std::thread::scope(|scope| {
            let handles: Vec<_> = layer
                .iter()
                .map(|c| {
                    scope.spawn(move || {
                        let asked = SystemTime::now();
                        let t = Instant::now();
                        let _ = engine.docker.stop(c.id());
                        (c.id().to_string(), t.elapsed().as_secs_f64(), asked)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let ids: Vec<String> = stopped.iter().map(|s| s.0.clone()).collect();
        let after = engine.docker.inspect(&ids).unwrap_or_default();
        for (id, seconds, asked) in stopped {
            let Some(c) = after.iter().find(|c| c.id() == id) else { continue };
            let words = engine.docker.logs_since(&id, asked);
            let Some(row) = row_of(rows, &id) else { continue };
            row.stop_seconds = Some(seconds);
            let grace = c.stop_timeout() as f64;
            row.stopped_by = Some(if c.exit_code() == 137 && seconds >= grace - 0.5 { "kill" } else { "signal" });
            row.exit_code = Some(c.exit_code());
            row.last_words =
                words.lines().rev().take(5).map(|l| p.mask.apply(l)).collect::<Vec<_>>().into_iter().rev().collect();
            if c.oom_killed() {
                row.oom_killed = true;
            }
            row.logs = logs::read(&c.0);
        }
        left = rest;
    }
    if progress {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    restarted_after_stop(engine, containers, rows);
}

/// Who SIGTERM reaches in each running container (the app, or a shell in front of it),
/// read from its processes just before the stop.
fn signal_receivers(engine: &Engine, running: &[&Container], rows: &mut BTreeMap<String, (String, Service)>) {
    for c in running.iter().filter(|c| c.status() == "running") {
        let Ok(processes) = engine.docker.top(c.id()) else { continue };
        if let (Some(found), Some(row)) = (tree::signalled(&processes, c.pid()), row_of(rows, c.id())) {
            row.signal_reaches_app = Some(found.reaches_app());
            row.signal_receiver = Some(match &found.app_behind_shell {
                Some(app) => format!("{}, not {app}", found.receiver),
                None => found.receiver.clone(),
            });
        }
    }
}

/// The engine must not start an explicitly stopped container again, whatever its policy:
/// one running half a second after the stops is marked.
fn restarted_after_stop(engine: &Engine, containers: &[Container], rows: &mut BTreeMap<String, (String, Service)>) {
    std::thread::sleep(Duration::from_millis(500));
    let ids: Vec<String> = containers.iter().map(|c| c.id().to_string()).collect();
    for c in engine.docker.inspect(&ids).unwrap_or_default() {
        if matches!(c.status(), "running" | "restarting") {
            if let Some(row) = row_of(rows, c.id()) {
                row.restarted_after_stop = true;
            }
        }
    }
}

fn row_of<'a>(rows: &'a mut BTreeMap<String, (String, Service)>, id: &str) -> Option<&'a mut Service> {
    rows.values_mut().find(|(i, _)| i == id).map(|(_, s)| s)
}
