//! A service as the stack file says it (the v3 model `docker stack config` prints) against
//! the spec Swarm runs (`docker service inspect`): resources and reservations, restart
//! policy, update and rollback config, healthcheck, stop signal and grace, init, ulimits,
//! logging. Reservations are compared here because Swarm schedules on them and never sets
//! them on a container.

use super::super::expect::Mismatch;
use compose_harden::units::seconds;
use serde_json::Value;

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(path).filter(|v| !v.is_null())
}

/// A size as the v3 model gives it (bytes, as a number or numeric string; else `512M`).
fn bytes(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s
            .parse()
            .ok()
            .or_else(|| compose_harden::units::bytes(&yaml_serde::Value::from(s.as_str())).map(|b| b.round() as i64)),
        _ => None,
    }
}

fn nanos(v: &Value) -> Option<i64> {
    v.as_str().and_then(seconds).map(|s| (s * 1e9).round() as i64)
}

fn nano_cpus(v: &Value) -> Option<i64> {
    let cpus = v.as_f64().or_else(|| v.as_str()?.trim().parse().ok())?;
    Some((cpus * 1e9).round() as i64)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "unset".into(),
        other => other.to_string(),
    }
}

/// Every setting the file gives that the spec does not hold as given.
pub fn compare(file: &Value, inspected: &Value) -> Vec<Mismatch> {
    let spec = get(inspected, "/Spec").unwrap_or(&Value::Null);
    let task = get(spec, "/TaskTemplate").unwrap_or(&Value::Null);
    let container = get(task, "/ContainerSpec").unwrap_or(&Value::Null);
    let mut out = Vec::new();
    let mut check = |setting: &str, expected: Option<Value>, of: &Value, path: &str| {
        let Some(expected) = expected else { return };
        let actual = get(of, path).cloned().unwrap_or(Value::Null);
        if differs(&expected, &actual) {
            out.push(Mismatch { setting: setting.into(), expected: show(&expected), actual: show(&actual) });
        }
    };
    let at = |path: &str| get(file, path);
    let int = |v: Option<i64>| v.map(Value::from);

    // A job runs its replicas as completions; a global service has none.
    let replicas = match at("/deploy/mode").and_then(Value::as_str) {
        Some("replicated-job") => Some("/Mode/ReplicatedJob/TotalCompletions"),
        Some("global" | "global-job") => None,
        _ => Some("/Mode/Replicated/Replicas"),
    };
    if let Some(path) = replicas {
        check("deploy.replicas", at("/deploy/replicas").cloned(), spec, path);
    }
    for (kind, field) in [("limits", "Limits"), ("reservations", "Reservations")] {
        let leaf = |key: &str| at(&format!("/deploy/resources/{kind}/{key}"));
        let name = |key: &str| format!("deploy.resources.{kind}.{key}");
        let path = |key: &str| format!("/Resources/{field}/{key}");
        check(&name("memory"), int(leaf("memory").and_then(bytes)), task, &path("MemoryBytes"));
        check(&name("cpus"), int(leaf("cpus").and_then(nano_cpus)), task, &path("NanoCPUs"));
        if kind == "limits" {
            check(&name("pids"), int(leaf("pids").and_then(bytes)), task, &path("Pids"));
        }
    }
    let restart = |key: &str| at(&format!("/deploy/restart_policy/{key}"));
    check("deploy.restart_policy.condition", restart("condition").cloned(), task, "/RestartPolicy/Condition");
    check("deploy.restart_policy.delay", int(restart("delay").and_then(nanos)), task, "/RestartPolicy/Delay");
    check("deploy.restart_policy.max_attempts", restart("max_attempts").cloned(), task, "/RestartPolicy/MaxAttempts");
    check("deploy.restart_policy.window", int(restart("window").and_then(nanos)), task, "/RestartPolicy/Window");
    for (key, field) in [("update_config", "UpdateConfig"), ("rollback_config", "RollbackConfig")] {
        let leaf = |name: &str| at(&format!("/deploy/{key}/{name}"));
        let name = |name: &str| format!("deploy.{key}.{name}");
        let path = |name: &str| format!("/{field}/{name}");
        check(&name("parallelism"), leaf("parallelism").cloned(), spec, &path("Parallelism"));
        check(&name("delay"), int(leaf("delay").and_then(nanos)), spec, &path("Delay"));
        check(&name("failure_action"), leaf("failure_action").cloned(), spec, &path("FailureAction"));
        check(&name("monitor"), int(leaf("monitor").and_then(nanos)), spec, &path("Monitor"));
        check(&name("max_failure_ratio"), leaf("max_failure_ratio").cloned(), spec, &path("MaxFailureRatio"));
        check(&name("order"), leaf("order").cloned(), spec, &path("Order"));
    }
    if let Some(hc) = at("/healthcheck") {
        if hc.get("disable").and_then(Value::as_bool) == Some(true) {
            check("healthcheck.test", Some(Value::from(vec!["NONE"])), container, "/Healthcheck/Test");
        } else {
            check("healthcheck.test", hc.get("test").cloned(), container, "/Healthcheck/Test");
        }
        for (key, field) in [("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")] {
            let path = format!("/Healthcheck/{field}");
            check(&format!("healthcheck.{key}"), int(hc.get(key).and_then(nanos)), container, &path);
        }
        check("healthcheck.retries", hc.get("retries").cloned(), container, "/Healthcheck/Retries");
    }
    check("stop_signal", at("/stop_signal").cloned(), container, "/StopSignal");
    check("stop_grace_period", int(at("/stop_grace_period").and_then(nanos)), container, "/StopGracePeriod");
    check("init", at("/init").cloned(), container, "/Init");
    if let Some(logging) = at("/logging") {
        check("logging.driver", logging.get("driver").cloned(), task, "/LogDriver/Name");
        for (key, value) in logging.get("options").and_then(Value::as_object).into_iter().flatten() {
            check(&format!("logging.options.{key}"), Some(value.clone()), task, &format!("/LogDriver/Options/{key}"));
        }
    }
    for (name, value) in at("/ulimits").and_then(Value::as_object).into_iter().flatten() {
        let (soft, hard) = match value {
            Value::Object(pair) => (pair.get("soft").and_then(Value::as_i64), pair.get("hard").and_then(Value::as_i64)),
            single => (single.as_i64(), single.as_i64()),
        };
        let got = get(container, "/Ulimits")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|u| u.get("Name").and_then(Value::as_str) == Some(name));
        let pair = |s: Option<i64>, h: Option<i64>| format!("{}:{}", s.unwrap_or(-1), h.unwrap_or(-1));
        let expected = pair(soft, hard);
        let actual = got.map(|u| pair(u.get("Soft").and_then(Value::as_i64), u.get("Hard").and_then(Value::as_i64)));
        if actual.as_deref() != Some(expected.as_str()) {
            let actual = actual.unwrap_or_else(|| "unset".into());
            out.push(Mismatch { setting: format!("ulimits.{name}"), expected, actual });
        }
    }
    out
}

/// The engine leaves a zero number out of the spec (zero means its default), so an absent
/// field holds a file's 0.
fn differs(expected: &Value, actual: &Value) -> bool {
    let zero = expected.as_f64() == Some(0.0);
    expected != actual && !(zero && actual.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> Value {
        json!({
            "image": "web", "init": true, "stop_grace_period": "20s",
            "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "timeout": "1s", "retries": 2},
            "ulimits": {"nofile": {"soft": 1024, "hard": 2048}},
            "logging": {"driver": "json-file", "options": {"max-size": "10m"}},
            "deploy": {
                "replicas": 2,
                "resources": {"limits": {"memory": "268435456", "cpus": "0.5", "pids": 100},
                              "reservations": {"memory": "67108864", "cpus": "0.1"}},
                "restart_policy": {"condition": "any", "delay": "5s"},
                "update_config": {"parallelism": 1, "monitor": "30s", "failure_action": "rollback", "order": "start-first"}
            }
        })
    }

    fn inspected() -> Value {
        json!({"Spec": {
            "Mode": {"Replicated": {"Replicas": 2}},
            "UpdateConfig": {"Parallelism": 1, "Monitor": 30_000_000_000u64, "FailureAction": "rollback", "Order": "start-first"},
            "TaskTemplate": {
                "Resources": {"Limits": {"MemoryBytes": 268435456, "NanoCPUs": 500_000_000, "Pids": 100},
                              "Reservations": {"MemoryBytes": 67108864, "NanoCPUs": 100_000_000}},
                "RestartPolicy": {"Condition": "any", "Delay": 5_000_000_000u64},
                "LogDriver": {"Name": "json-file", "Options": {"max-size": "10m"}},
                "ContainerSpec": {
                    "Init": true, "StopGracePeriod": 20_000_000_000u64,
                    "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1_000_000_000, "Timeout": 1_000_000_000, "Retries": 2},
                    "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
                }
            }
        }})
    }

    #[test]
    fn a_service_that_runs_as_its_file_says_has_no_mismatch() {
        assert_eq!(compare(&file(), &inspected()), []);
    }

    #[test]
    fn what_swarm_does_not_hold_is_named() {
        let mut spec = inspected();
        spec["Spec"]["TaskTemplate"]["Resources"]["Reservations"] = json!({});
        spec["Spec"]["UpdateConfig"]["Order"] = json!("stop-first");
        spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Ulimits"] = json!([]);
        let shown: Vec<String> =
            compare(&file(), &spec).iter().map(|m| format!("{}: {} != {}", m.setting, m.expected, m.actual)).collect();
        assert_eq!(
            shown,
            [
                "deploy.resources.reservations.memory: 67108864 != unset",
                "deploy.resources.reservations.cpus: 100000000 != unset",
                "deploy.update_config.order: start-first != stop-first",
                "ulimits.nofile: 1024:2048 != unset",
            ]
        );
    }

    #[test]
    fn a_jobs_completions_and_the_engines_omitted_zeros_match() {
        let mut file = file();
        file["deploy"]["mode"] = json!("replicated-job");
        file["deploy"]["replicas"] = json!(3);
        file["healthcheck"]["retries"] = json!(0);
        file["healthcheck"]["start_period"] = json!("0s");
        let mut spec = inspected();
        spec["Spec"]["Mode"] = json!({"ReplicatedJob": {"MaxConcurrent": 3, "TotalCompletions": 3}});
        spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"]["Retries"].take();
        assert_eq!(compare(&file, &spec), []);
        spec["Spec"]["Mode"]["ReplicatedJob"]["TotalCompletions"] = json!(1);
        let shown: Vec<String> =
            compare(&file, &spec).iter().map(|m| format!("{}: {} != {}", m.setting, m.expected, m.actual)).collect();
        assert_eq!(shown, ["deploy.replicas: 3 != 1"]);
    }
}
