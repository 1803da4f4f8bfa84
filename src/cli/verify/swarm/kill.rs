//! A task killed from outside, and Swarm replacing it as the service's restart policy says.

use super::super::bound::deadline;
use super::super::report::Service;
use super::tasks::{containers, is_job, wanted, Tasks};
use super::Prepared;
use crate::engine::{Cancel, Docker};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Kills one running task of each service from outside and waits for Swarm to replace it,
/// as the service's restart policy says it will.
pub fn replace_killed(
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
