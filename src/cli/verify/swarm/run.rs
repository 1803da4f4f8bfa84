//! One run on the swarm: the stack deployed, waited for until it converges, compared with
//! `docker service inspect`, one task of each service killed from outside, with
//! `--update-check` an update that never turns healthy, then each service scaled to zero (its
//! stop, read from the engine's events), and always removed.

use super::super::bound::deadline;
use super::super::report::{Run, Service, Swarm};
use super::kill::replace_killed;
use super::stop::stop_all;
use super::tasks::{containers, every_container, is_job, mode, wanted, Tasks};
use super::update::update_check;
use super::{spec, Prepared, Teardown};
use crate::engine::{Cancel, Docker};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Seconds a service must keep its tasks running, none failing, to have converged: a task
/// that exits a moment after it starts is caught here.
const STEADY: f64 = 3.0;
/// Failed tasks after which a service that has not converged is taken as crash-looping.
const LOOPING: usize = 3;

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
