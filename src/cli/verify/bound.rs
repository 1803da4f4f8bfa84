//! How long to wait for a stack: each healthcheck's worst case, added up along the
//! `depends_on` chains (a service starts only when what it waits for is ready).

use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Compose's and the engine's healthcheck defaults.
const INTERVAL: f64 = 30.0;
const TIMEOUT: f64 = 30.0;
const RETRIES: f64 = 3.0;
/// A container without a check: time to be started.
const START: f64 = 5.0;
/// Creating the containers: a base, and a second for each (fuse-overlayfs is slow).
const CREATE: f64 = 10.0;
const CREATE_EACH: f64 = 1.0;
/// A one-shot job: its work is unknown; this much is allowed.
const JOB: f64 = 60.0;

pub struct Bound {
    pub seconds: u64,
    pub create: u64,
    pub services: usize,
    /// The longest chain, first to last.
    pub chain: Vec<String>,
}

impl Bound {
    pub fn describe(&self) -> String {
        format!(
            "waiting up to {} s: {} s to create {} container{}, then the longest depends_on chain ({}), each step its healthcheck's start_period + (retries + 1) x interval + timeout; --timeout overrides",
            self.seconds,
            self.create,
            self.services,
            if self.services == 1 { "" } else { "s" },
            self.chain.join(" -> ")
        )
    }
}

pub use compose_harden::units::seconds;

/// The longest any wait lasts (a day): a bound from absurd values, or `--timeout`, stops here.
const LONGEST: f64 = 86_400.0;

/// The moment `seconds` after `from`, no later than a day after it.
pub fn deadline(from: Instant, seconds: f64) -> Instant {
    let capped = if seconds.is_finite() { seconds.clamp(0.0, LONGEST) } else { LONGEST };
    from + Duration::from_secs_f64(capped)
}

/// A healthcheck's timing as the engine runs it: a zero interval, timeout or retries means
/// the engine's default, as an unset one does.
pub struct Timing {
    pub start_period: f64,
    pub interval: f64,
    pub timeout: f64,
    pub retries: f64,
}

impl Timing {
    pub fn of(check: &Value) -> Timing {
        let time = |key: &str| check.get(key).and_then(Value::as_str).and_then(seconds).filter(|t| *t > 0.0);
        Timing {
            start_period: time("start_period").unwrap_or(0.0),
            interval: time("interval").unwrap_or(INTERVAL),
            timeout: time("timeout").unwrap_or(TIMEOUT),
            retries: check.get("retries").and_then(Value::as_f64).filter(|r| *r > 0.0).unwrap_or(RETRIES),
        }
    }

    /// When the engine gives up on a task that never passes: `start_period + retries x
    /// (interval + timeout)`.
    pub fn gives_up(&self) -> f64 {
        self.start_period + self.retries * (self.interval + self.timeout)
    }
}

/// The worst case for one service on its own to be ready.
fn own(service: &Value, job: bool) -> f64 {
    if job {
        return JOB;
    }
    let Some(check) = service.get("healthcheck").filter(|h| has_check(h)) else { return START };
    let t = Timing::of(check);
    START + t.start_period + (t.retries + 1.0) * t.interval + t.timeout
}

/// A healthcheck that runs (not `disable`, not `NONE`). Without `test`, the image's own
/// check runs; that is seen on the container, not here.
pub fn has_check(check: &Value) -> bool {
    let disabled = check.get("disable").and_then(Value::as_bool) == Some(true);
    let none =
        check.get("test").and_then(Value::as_array).and_then(|t| t.first()).and_then(Value::as_str) == Some("NONE");
    !disabled && !none
}

/// Fills what the service's healthcheck leaves unset from the image's own HEALTHCHECK
/// (`docker image inspect`'s `Config.Healthcheck`, durations in nanoseconds), for the bound.
pub fn inherit(service: &mut Value, image: &Value) {
    let Some(test) = image.get("Test").filter(|t| t.is_array()) else { return };
    let Some(service) = service.as_object_mut() else { return };
    let check = service.entry("healthcheck").or_insert_with(|| serde_json::json!({}));
    let Some(check) = check.as_object_mut() else { return };
    check.entry("test").or_insert_with(|| test.clone());
    for (key, field) in [("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")] {
        if let Some(ns) = image.get(field).and_then(Value::as_u64).filter(|ns| *ns > 0) {
            check.entry(key).or_insert_with(|| Value::from(format!("{}ms", ns / 1_000_000)));
        }
    }
    if let Some(retries) = image.get("Retries").and_then(Value::as_u64).filter(|r| *r > 0) {
        check.entry("retries").or_insert(Value::from(retries));
    }
}

/// The services other services wait for with `service_completed_successfully`, and those a
/// swarm runs to completion (`deploy.mode: replicated-job` or `global-job`).
pub fn jobs(services: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut jobs: Vec<String> = services
        .values()
        .filter_map(|s| s.get("depends_on").and_then(Value::as_object))
        .flat_map(|d| d.iter())
        .filter(|(_, dep)| dep.get("condition").and_then(Value::as_str) == Some("service_completed_successfully"))
        .map(|(name, _)| name.clone())
        .collect();
    let mode = |s: &Value| s.pointer("/deploy/mode").and_then(Value::as_str).is_some_and(|m| m.ends_with("-job"));
    jobs.extend(services.iter().filter(|(_, s)| mode(s)).map(|(name, _)| name.clone()));
    jobs.sort();
    jobs.dedup();
    jobs
}

pub fn of(services: &serde_json::Map<String, Value>) -> Bound {
    let jobs = jobs(services);
    let mut memo: HashMap<String, (f64, Vec<String>)> = HashMap::new();
    let mut best = (START, Vec::new());
    for name in services.keys() {
        let found = chain(name, services, &jobs, &mut memo, 0);
        if found.0 > best.0 || best.1.is_empty() {
            best = found;
        }
    }
    let create = CREATE + CREATE_EACH * services.len() as f64;
    Bound {
        seconds: (create + best.0).min(LONGEST).ceil() as u64,
        create: create as u64,
        services: services.len(),
        chain: best.1,
    }
}

fn chain(
    name: &str,
    services: &serde_json::Map<String, Value>,
    jobs: &[String],
    memo: &mut HashMap<String, (f64, Vec<String>)>,
    depth: usize,
) -> (f64, Vec<String>) {
    if let Some(found) = memo.get(name) {
        return found.clone();
    }
    let Some(service) = services.get(name) else { return (0.0, Vec::new()) };
    let mut before = (0.0, Vec::new());
    // Compose refuses cycles; the depth guard only keeps a malformed model finite.
    if depth < 64 {
        for dep in service.get("depends_on").and_then(Value::as_object).into_iter().flat_map(|d| d.keys()) {
            let found = chain(dep, services, jobs, memo, depth + 1);
            if found.0 > before.0 {
                before = found;
            }
        }
    }
    let mut path = before.1;
    path.push(name.to_string());
    let found = (before.0 + own(service, jobs.iter().any(|j| j == name)), path);
    memo.insert(name.to_string(), found.clone());
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_images_own_check_counts() {
        let mut service = json!({"image": "x"});
        inherit(&mut service, &json!({"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000u64, "Retries": 2}));
        assert_eq!(service["healthcheck"], json!({"test": ["CMD-SHELL", "true"], "interval": "5000ms", "retries": 2}));
        let services = json!({"x": service});
        // 11 to create; 5 + 3 x 5 + 30 (the default timeout).
        assert_eq!(of(services.as_object().unwrap()).seconds, 61);
    }

    #[test]
    fn chains_add_up() {
        let model = json!({
            "db": {"healthcheck": {"test": ["CMD", "true"], "interval": "10s", "timeout": "5s", "retries": 3, "start_period": "30s"}},
            "migrate": {"depends_on": {"db": {"condition": "service_healthy"}}},
            "app": {"depends_on": {"migrate": {"condition": "service_completed_successfully"}},
                    "healthcheck": {"test": ["CMD", "true"], "interval": "5s", "timeout": "2s", "retries": 2}},
            "lone": {}
        });
        let bound = of(model.as_object().unwrap());
        // Creating 4: 14; db 5 + 30 + 4 x 10 + 5 = 80; migrate 60; app 5 + 3 x 5 + 2 = 22.
        assert_eq!(bound.seconds, 176);
        assert_eq!(bound.chain, ["db", "migrate", "app"]);
    }

    #[test]
    fn a_swarm_job_gets_a_jobs_time_and_zeros_are_the_engines_defaults() {
        let model = json!({
            "seed": {"deploy": {"mode": "replicated-job"}},
            "web": {"healthcheck": {"test": ["CMD", "true"], "interval": "0s", "retries": 0}}
        });
        let bound = of(model.as_object().unwrap());
        // Creating 2: 12; seed 60; web 5 + 4 x 30 + 30 = 155, the defaults for the zeros.
        assert_eq!(bound.seconds, 167);
        assert_eq!(bound.chain, ["web"]);
        assert_eq!(jobs(model.as_object().unwrap()), ["seed"]);
    }
}
