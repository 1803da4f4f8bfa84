//! `--update-check`: an update whose new task never turns healthy, rolled back by Swarm on its
//! own within the bound the file's own settings give.

use super::super::bound::{deadline, has_check, Timing};
use super::super::report::{Service, Update, SLACK};
use super::tasks::{containers, is_job, secs, wanted, Tasks, GRACE};
use super::{spec, Prepared};
use crate::engine::{Cancel, Docker};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Swarm's default where the file sets no `rollback_config.monitor`.
const ROLLBACK_MONITOR: f64 = 5.0;

/// The bound on a failing update: the new task's probe gives up after start_period + retries
/// x (interval + timeout); it is stopped (its grace); the rollback is watched for its monitor.
fn rollback_bound(spec: &Value) -> f64 {
    let probe = Timing::of(spec.get("healthcheck").unwrap_or(&Value::Null)).gives_up();
    let grace = secs(spec.get("stop_grace_period"), GRACE);
    probe + grace + secs(spec.pointer("/deploy/rollback_config/monitor"), ROLLBACK_MONITOR)
}

/// Starts, in every service that can show it, an update whose new task never turns healthy,
/// and waits for Swarm to roll it back on its own, counting the healthy tasks that serve.
pub fn update_check(
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
        let has_check = spec.get("healthcheck").is_some_and(has_check);
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
