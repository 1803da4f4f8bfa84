//! Each replicated service scaled to zero, its tasks' stop read from the engine's events.

use super::super::bound::deadline;
use super::super::report::Service;
use super::super::tree;
use super::tasks::{containers, mode, secs, GRACE};
use super::Prepared;
use crate::engine::{Docker, Events};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn nanos_now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// Scales each replicated service to zero and reads each task's stop from the engine's
/// events: how long from the request to its death, and whether SIGKILL ended it. Swarm
/// removes a scaled-down task's container, so its own events are all there is.
pub fn stop_all(
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
