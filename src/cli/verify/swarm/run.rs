//! One run on the swarm: the stack deployed, waited for until it converges, compared with
//! `docker service inspect`, one task of each service killed from outside, with
//! `--update-check` an update that never turns healthy, then each service scaled to zero (its
//! stop, read from the engine's events), and always removed.

use super::super::bound::{deadline, Timing};
use super::super::report::{Run, Service, Swarm, Update, SLACK};
use super::super::tree;
use super::{spec, Prepared, Teardown};
use crate::engine::swarm::Task;
use crate::engine::{Cancel, Docker, Events};
use compose_harden::units::seconds;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Swarm's and the engine's defaults where the file sets none.
const GRACE: f64 = 10.0;
const ROLLBACK_MONITOR: f64 = 5.0;
/// Seconds a service must keep its tasks running, none failing, to have converged: a task
/// that exits a moment after it starts is caught here.
const STEADY: f64 = 3.0;
/// Failed tasks after which a service that has not converged is taken as crash-looping.
const LOOPING: usize = 3;

/// What the stack's services are doing, polled.
struct Tasks {
    all: Vec<Task>,
    /// Service id by the service's name in the file.
    ids: BTreeMap<String, String>,
}

impl Tasks {
    fn read(docker: &Docker, stack: &str) -> Tasks {
        let prefix = format!("{stack}_");
        let ids = docker
            .stack_services(stack)
            .into_iter()
            .filter_map(|(id, name)| Some((name.strip_prefix(&prefix)?.to_string(), id)))
            .collect();
        Tasks { all: docker.stack_tasks(stack), ids }
    }

    fn of<'a>(&'a self, service: &str) -> impl Iterator<Item = &'a Task> + 'a {
        let id = self.ids.get(service).cloned().unwrap_or_default();
        // `service ls` gives the short id, a task the full one.
        self.all.iter().filter(move |t| !id.is_empty() && t.service_id().starts_with(&id))
    }

    /// Tasks that do what the service asks: running (healthy where it has a check; Swarm
    /// holds a task in `starting` until then), or for a job, completed.
    fn done(&self, service: &str, job: bool) -> Vec<&Task> {
        let state = if job { "complete" } else { "running" };
        self.of(service).filter(|t| t.state() == state && (job || t.desired() == "running")).collect()
    }

    fn failed(&self, service: &str) -> usize {
        self.of(service).filter(|t| matches!(t.state(), "failed" | "rejected")).count()
    }

    /// Why tasks failed or wait, in Swarm's words, each once.
    fn errors(&self, service: &str) -> Vec<String> {
        let mut errors: Vec<String> = Vec::new();
        for t in self.of(service) {
            let said = match (t.state(), t.error()) {
                ("failed" | "rejected", Some(e)) => Some(e.to_string()),
                ("pending" | "assigned" | "preparing", Some(e)) => Some(format!("{}: {e}", t.state())),
                _ => None,
            };
            if let Some(said) = said.filter(|s| !errors.contains(s)) {
                errors.push(said);
            }
        }
        errors
    }
}

fn mode(service: &Value) -> String {
    service.pointer("/deploy/mode").and_then(Value::as_str).unwrap_or("replicated").to_string()
}

fn is_job(service: &Value) -> bool {
    mode(service).ends_with("-job")
}

/// Tasks the service asks for; a global service one per node that runs one.
fn wanted(service: &Value, name: &str, tasks: &Tasks) -> u64 {
    match mode(service).as_str() {
        "global" => tasks.of(name).filter(|t| t.desired() == "running").count().max(1) as u64,
        "global-job" => 1,
        _ => service.pointer("/deploy/replicas").and_then(Value::as_u64).unwrap_or(1),
    }
}

fn secs(value: Option<&Value>, default: f64) -> f64 {
    value.and_then(Value::as_str).and_then(seconds).unwrap_or(default)
}

pub fn execute(docker: &Docker, p: &Prepared, cancel: &Cancel) -> Run {
    let mut guard = Teardown { docker, stack: &p.stack, done: false };
    let mut run = deployed(docker, p, cancel);
    guard.done = true;
    super::tear_down(docker, p, &mut run);
    run
}

/// The stack deployed and proven; the caller removes it.
fn deployed(docker: &Docker, p: &Prepared, cancel: &Cancel) -> Run {
    let timeout = p.seconds();
    let mut run = Run {
        label: p.label,
        project: p.stack.clone(),
        ok: false,
        timeout_seconds: timeout,
        timeout_reason: p.wait(),
        error: None,
        services: Vec::new(),
        stop_phase_seconds: 0.0,
        swarm: true,
    };
    let services = p.services.clone();
    let events = docker.events(&format!("com.docker.stack.namespace={}", p.stack)).ok();
    let start = Instant::now();
    if let Err(e) = docker.stack_deploy(&p.file, &p.stack) {
        run.error = Some(format!("docker stack deploy failed: {}", p.mask.apply(&e)));
        return run;
    }
    let mut rows = converge(docker, p, &services, start, timeout, cancel);
    if cancel.is_set() {
        run.error = Some("interrupted; the stack was removed".into());
        return run;
    }
    for (name, row) in rows.iter_mut() {
        observe(docker, p, name, row);
    }
    replace_killed(docker, p, &services, &mut rows, timeout, cancel);
    if p.update_check && !cancel.is_set() {
        update_check(docker, p, &services, &mut rows, timeout, cancel);
    }
    if cancel.is_set() {
        run.error = Some("interrupted; the stack was removed".into());
        return run;
    }
    // Listed before the stop: Swarm removes a stopped task's container.
    let ids: Vec<(&String, Vec<String>)> = services
        .keys()
        .map(|name| {
            let label = format!("com.docker.swarm.service.name={}_{name}", p.stack);
            (name, docker.containers(&label).unwrap_or_default())
        })
        .collect();
    run.stop_phase_seconds = stop_all(docker, p, &services, &mut rows, events.as_ref());
    if let Some(events) = &events {
        let killed: Vec<String> = events.seen().iter().filter(|e| e.action == "oom").map(|e| e.id.clone()).collect();
        for (name, ids) in &ids {
            if let Some(row) = rows.get_mut(*name).filter(|_| ids.iter().any(|i| killed.contains(i))) {
                row.oom_killed = true;
            }
        }
    }
    run.services = rows
        .into_values()
        .map(|mut s| {
            s.judge();
            s
        })
        .collect();
    run.ok = run.services.iter().all(|s| s.ok);
    run
}

/// Waits until every service runs what it asks for (or crash-loops), the deadline passes or
/// the run is cancelled.
fn converge(
    docker: &Docker,
    p: &Prepared,
    services: &Map<String, Value>,
    start: Instant,
    timeout: u64,
    cancel: &Cancel,
) -> BTreeMap<String, Service> {
    let until = deadline(start, timeout as f64);
    let mut rows: BTreeMap<String, Service> = BTreeMap::new();
    loop {
        let tasks = Tasks::read(docker, &p.stack);
        let mut settled = true;
        for (name, spec) in services {
            let job = is_job(spec);
            let row = rows.entry(name.clone()).or_insert_with(|| Service {
                service: name.clone(),
                job,
                health: "none".into(),
                swarm: Some(Swarm { mode: mode(spec), ..Swarm::default() }),
                ..Service::default()
            });
            let done = tasks.done(name, job).len() as u64;
            let wanted = wanted(spec, name, &tasks);
            let failed = tasks.failed(name);
            let failing = failed as u64 > row.restarts;
            let Some(swarm) = row.swarm.as_mut() else { continue };
            swarm.tasks_wanted = wanted;
            swarm.tasks_done = done;
            swarm.task_errors = tasks.errors(name).iter().map(|e| p.mask.apply(e)).collect();
            row.restarts = failed as u64;
            row.started |= tasks.of(name).any(|t| t.container().is_some());
            // A task that runs for a moment and fails has not converged.
            if done < wanted || (failing && !job) {
                swarm.seconds_to_converge = None;
            } else if swarm.seconds_to_converge.is_none() {
                swarm.seconds_to_converge = Some(start.elapsed().as_secs_f64());
            }
            let now = start.elapsed().as_secs_f64();
            let steady = job || swarm.seconds_to_converge.is_some_and(|t| now - t >= STEADY);
            row.crash_loop = done < wanted && failed >= LOOPING;
            settled &= (done >= wanted && steady) || row.crash_loop;
        }
        if settled || cancel.is_set() || Instant::now() >= until {
            return rows;
        }
        cancel.sleep(Duration::from_millis(500));
    }
}

/// The service's running containers, inspected.
fn containers(docker: &Docker, stack: &str, name: &str) -> Vec<crate::engine::Container> {
    every_container(docker, stack, name).into_iter().filter(|c| c.status() == "running").collect()
}

/// The service's containers, those of failed tasks too (Swarm keeps a few of them).
fn every_container(docker: &Docker, stack: &str, name: &str) -> Vec<crate::engine::Container> {
    let label = format!("com.docker.swarm.service.name={stack}_{name}");
    let ids = docker.containers(&label).unwrap_or_default();
    docker.inspect(&ids).unwrap_or_default()
}

/// The spec Swarm runs against the file, and the health of the running tasks.
fn observe(docker: &Docker, p: &Prepared, name: &str, row: &mut Service) {
    let file = p.model.get("services").and_then(|s| s.get(name));
    match docker.service_inspect(&format!("{}_{name}", p.stack)) {
        Ok(inspected) => {
            let found = spec::compare(file.unwrap_or(&Value::Null), &inspected);
            row.mismatches = found
                .into_iter()
                .map(|mut m| {
                    m.expected = p.mask.apply(&m.expected);
                    m.actual = p.mask.apply(&m.actual);
                    m
                })
                .collect();
        }
        Err(e) => row.error = Some(format!("docker service inspect: {}", p.mask.apply(&e))),
    }
    let mut seen = containers(docker, &p.stack, name);
    if seen.is_empty() {
        // No task runs: the failed tasks' containers tell whether their check failed them.
        seen = every_container(docker, &p.stack, name);
    }
    let health: Vec<&str> = seen.iter().filter_map(|c| c.health()).collect();
    row.health = if health.is_empty() {
        "none".into()
    } else if let Some(bad) = health.iter().find(|h| **h != "healthy") {
        bad.to_string()
    } else {
        "healthy".into()
    };
    if row.health == "unhealthy" {
        let said = seen.iter().find(|c| c.health() == Some("unhealthy")).and_then(|c| c.last_probe_output());
        row.last_probe_output = said.map(|o| p.mask.apply(o));
    }
    if let Some(s) = &row.swarm {
        row.seconds_to_healthy = s.seconds_to_converge.filter(|_| row.health == "healthy");
    }
}

/// Kills one running task of each service from outside and waits for Swarm to replace it,
/// as the service's restart policy says it will.
fn replace_killed(
    docker: &Docker,
    p: &Prepared,
    services: &Map<String, Value>,
    rows: &mut BTreeMap<String, Service>,
    timeout: u64,
    cancel: &Cancel,
) {
    let mut killed: Vec<(String, String, Instant)> = Vec::new();
    for (name, spec) in services {
        let Some(row) = rows.get_mut(name) else { continue };
        let Some(swarm) = row.swarm.as_mut() else { continue };
        if is_job(spec) {
            continue;
        }
        let condition = spec.pointer("/deploy/restart_policy/condition").and_then(Value::as_str).unwrap_or("any");
        if condition == "none" {
            swarm.killed_task = Some("not tried: restart_policy.condition is none (Swarm replaces no task)".into());
            continue;
        }
        if swarm.tasks_done < swarm.tasks_wanted {
            swarm.killed_task = Some("not tried: the service never ran all its tasks".into());
            continue;
        }
        let Some(victim) = containers(docker, &p.stack, name).into_iter().next() else {
            swarm.killed_task = Some("not tried: no task of it runs on this engine".into());
            continue;
        };
        match docker.kill(victim.id()) {
            Ok(()) => killed.push((name.clone(), victim.id().to_string(), Instant::now())),
            Err(e) => swarm.killed_task = Some(format!("not tried: docker kill failed: {}", p.mask.apply(&e))),
        }
    }
    let until = deadline(Instant::now(), timeout as f64 + 30.0);
    while !killed.is_empty() && !cancel.is_set() && Instant::now() < until {
        cancel.sleep(Duration::from_millis(500));
        let tasks = Tasks::read(docker, &p.stack);
        killed.retain(|(name, victim, at)| {
            let Some(spec) = services.get(name) else { return false };
            let done = tasks.done(name, false);
            let fresh =
                done.len() as u64 >= wanted(spec, name, &tasks) && done.iter().all(|t| t.container() != Some(victim));
            if fresh {
                if let Some(swarm) = rows.get_mut(name).and_then(|r| r.swarm.as_mut()) {
                    swarm.killed_task = Some("replaced".into());
                    swarm.seconds_to_replace = Some(at.elapsed().as_secs_f64());
                }
            }
            !fresh
        });
    }
    for (name, _, at) in killed {
        if let Some(swarm) = rows.get_mut(&name).and_then(|r| r.swarm.as_mut()) {
            swarm.killed_task = Some(format!("not replaced within {:.0} s", at.elapsed().as_secs_f64()));
        }
    }
}

/// The bound on a failing update: the new task's probe gives up after start_period + retries
/// x (interval + timeout); it is stopped (its grace); the rollback is watched for its monitor.
fn rollback_bound(spec: &Value) -> f64 {
    let probe = Timing::of(spec.get("healthcheck").unwrap_or(&Value::Null)).gives_up();
    let grace = secs(spec.get("stop_grace_period"), GRACE);
    probe + grace + secs(spec.pointer("/deploy/rollback_config/monitor"), ROLLBACK_MONITOR)
}

/// Starts, in every service that can show it, an update whose new task never turns healthy,
/// and waits for Swarm to roll it back on its own, counting the healthy tasks that serve.
fn update_check(
    docker: &Docker,
    p: &Prepared,
    services: &Map<String, Value>,
    rows: &mut BTreeMap<String, Service>,
    timeout: u64,
    cancel: &Cancel,
) {
    let mut watched: Vec<(String, Instant)> = Vec::new();
    for (name, spec) in services {
        let Some(row) = rows.get_mut(name) else { continue };
        if is_job(spec) {
            continue;
        }
        let has_check = spec.get("healthcheck").is_some_and(super::super::bound::has_check);
        let action = spec.pointer("/deploy/update_config/failure_action").and_then(Value::as_str).unwrap_or("pause");
        let bound = rollback_bound(spec);
        let order = spec.pointer("/deploy/update_config/order").and_then(Value::as_str).unwrap_or("stop-first");
        let wanted = row.swarm.as_ref().map_or(1, |s| s.tasks_wanted);
        let parallelism = spec.pointer("/deploy/update_config/parallelism").and_then(Value::as_u64).unwrap_or(1);
        let replaced = if parallelism == 0 { wanted } else { parallelism.min(wanted) };
        let kept_serving = if order == "start-first" { wanted } else { wanted - replaced };
        let mut update = Update { bound_seconds: bound, fewest_serving: u64::MAX, kept_serving, ..Update::default() };
        if !has_check {
            row.notes.push(
                "update check not run: without a healthcheck Swarm sees a bad update only when its task exits".into(),
            );
            continue;
        }
        if action != "rollback" {
            update.skipped = Some(format!("deploy.update_config.failure_action is {action}, not rollback"));
        } else if row.swarm.as_ref().is_some_and(|s| s.tasks_done < s.tasks_wanted) {
            update.skipped = Some("the service never ran all its tasks".into());
        } else if let Err(e) = docker.service_update(&format!("{}_{name}", p.stack), &["--health-cmd", "exit 1"]) {
            update.skipped = Some(format!("docker service update failed: {}", p.mask.apply(&e)));
        } else {
            watched.push((name.clone(), Instant::now()));
        }
        if let Some(swarm) = row.swarm.as_mut() {
            swarm.update = Some(update);
        }
    }
    let longest = watched.iter().filter_map(|(n, _)| services.get(n)).map(rollback_bound).fold(0.0, f64::max);
    let until = deadline(Instant::now(), longest + SLACK + 30.0);
    let mut left = watched.clone();
    while !left.is_empty() && !cancel.is_set() && Instant::now() < until {
        left.retain(|(name, at)| {
            let Some(update) = rows.get_mut(name).and_then(|r| r.swarm.as_mut()).and_then(|s| s.update.as_mut()) else {
                return false;
            };
            let serving =
                containers(docker, &p.stack, name).iter().filter(|c| c.health() == Some("healthy")).count() as u64;
            update.fewest_serving = update.fewest_serving.min(serving);
            let full = format!("{}_{name}", p.stack);
            let state = docker.service_inspect(&full).ok();
            update.state = state
                .as_ref()
                .and_then(|s| s.pointer("/UpdateStatus/State"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let over =
                matches!(update.state.as_str(), "rollback_completed" | "rollback_paused" | "paused" | "completed");
            if update.state == "rollback_completed" {
                update.rolled_back = true;
                update.seconds = Some(at.elapsed().as_secs_f64());
            }
            !over
        });
        cancel.sleep(Duration::from_millis(500));
    }
    // After the rollback the spec must be the file's again, and the service whole before its
    // stop is measured.
    for (name, _) in &watched {
        let Some(row) = rows.get_mut(name) else { continue };
        if let Some(u) = row.swarm.as_mut().and_then(|s| s.update.as_mut()) {
            if u.fewest_serving == u64::MAX {
                u.fewest_serving = 0;
            }
        }
        if let Ok(inspected) = docker.service_inspect(&format!("{}_{name}", p.stack)) {
            let file = p.model.get("services").and_then(|s| s.get(name)).unwrap_or(&Value::Null);
            for mut m in spec::compare(file, &inspected) {
                m.setting = format!("{} (after the rollback)", m.setting);
                row.mismatches.push(m);
            }
        }
    }
    let until = deadline(Instant::now(), timeout as f64);
    while !cancel.is_set() && Instant::now() < until {
        let tasks = Tasks::read(docker, &p.stack);
        let whole = watched.iter().all(|(name, _)| {
            services.get(name).is_none_or(|s| tasks.done(name, false).len() as u64 >= wanted(s, name, &tasks))
        });
        if whole {
            break;
        }
        cancel.sleep(Duration::from_millis(500));
    }
}

fn nanos_now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// Scales each replicated service to zero and reads each task's stop from the engine's
/// events: how long from the request to its death, and whether SIGKILL ended it. Swarm
/// removes a scaled-down task's container, so its own events are all there is.
fn stop_all(
    docker: &Docker,
    p: &Prepared,
    services: &Map<String, Value>,
    rows: &mut BTreeMap<String, Service>,
    events: Option<&Events>,
) -> f64 {
    let mut stopping: Vec<(String, Vec<String>, f64)> = Vec::new();
    for (name, spec) in services {
        let Some(row) = rows.get_mut(name) else { continue };
        if mode(spec) != "replicated" {
            continue;
        }
        let running = containers(docker, &p.stack, name);
        if let Some(c) = running.first() {
            if let Some(found) = docker.top(c.id()).ok().and_then(|ps| tree::signalled(&ps, c.pid())) {
                row.signal_reaches_app = Some(found.reaches_app());
                row.signal_receiver = Some(match &found.app_behind_shell {
                    Some(app) => format!("{}, not {app}", found.receiver),
                    None => found.receiver.clone(),
                });
            }
        }
        let ids: Vec<String> = running.iter().map(|c| c.id().to_string()).collect();
        if !ids.is_empty() {
            stopping.push((name.clone(), ids, secs(spec.get("stop_grace_period"), GRACE)));
        }
    }
    let Some(events) = events else { return 0.0 };
    let asked = nanos_now();
    for (name, _, _) in &stopping {
        let _ = docker.service_update(&format!("{}_{name}", p.stack), &["--replicas", "0"]);
    }
    let longest = stopping.iter().map(|s| s.2).fold(0.0, f64::max);
    let until = deadline(Instant::now(), longest + 20.0);
    let died = |id: &str| events.seen().iter().any(|e| e.id == id && e.action == "die");
    while Instant::now() < until && !stopping.iter().all(|(_, ids, _)| ids.iter().all(|i| died(i))) {
        std::thread::sleep(Duration::from_millis(250));
    }
    let seen = events.seen();
    let mut phase: f64 = 0.0;
    for (name, ids, grace) in &stopping {
        let Some(row) = rows.get_mut(name) else { continue };
        for id in ids {
            let Some(die) = seen.iter().find(|e| e.id == *id && e.action == "die") else {
                row.notes.push(format!("a task did not stop within {:.0} s", longest + 20.0));
                continue;
            };
            // From the stop signal (Swarm's agent takes a few seconds to send it) to the end.
            let signalled = seen.iter().filter(|e| e.id == *id && e.action == "kill").map(|e| e.nanos).min();
            let took = die.nanos.saturating_sub(signalled.unwrap_or(asked)) as f64 / 1e9;
            let killed = seen.iter().any(|e| {
                e.id == *id && e.action == "kill" && matches!(e.signal.as_deref(), Some("9" | "SIGKILL" | "KILL"))
            });
            let by_kill = killed || (die.exit_code == Some(137) && took >= grace - 0.5);
            row.stop_seconds = Some(row.stop_seconds.unwrap_or(0.0).max(took));
            if by_kill || row.stopped_by.is_none() {
                row.stopped_by = Some(if by_kill { "kill" } else { "signal" });
            }
            row.exit_code = die.exit_code.or(row.exit_code);
            phase = phase.max(took);
        }
    }
    for (name, spec) in services {
        if mode(spec) != "replicated" {
            if let Some(row) = rows.get_mut(name) {
                row.notes.push(format!("its stop is not measured (mode {}; removed with the stack)", mode(spec)));
            }
        }
    }
    phase
}

#[cfg(test)]
mod tests {
    use super::rollback_bound;
    use serde_json::json;

    #[test]
    fn the_bound_is_the_probe_giving_up_the_stop_and_the_rollback_monitor() {
        let spec = json!({
            "healthcheck": {"interval": "1s", "timeout": "2s", "retries": 2, "start_period": "5s"},
            "stop_grace_period": "20s",
            "deploy": {"rollback_config": {"monitor": "30s"}},
        });
        // 5 + 2 x (1 + 2) + 20 + 30
        assert_eq!(rollback_bound(&spec), 61.0);
    }

    #[test]
    fn the_bound_takes_the_engines_defaults_where_the_file_sets_none() {
        // Probe: 0 + 3 x (30 + 30); grace 10; rollback monitor 5.
        assert_eq!(rollback_bound(&json!({"healthcheck": {"test": ["CMD", "true"]}})), 195.0);
    }
}
