//! The hardening settings Compose resolved for a service, against what the engine gave its
//! container (`docker inspect`'s HostConfig and Config).

use super::bound::seconds;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Mismatch {
    pub setting: String,
    pub expected: String,
    pub actual: String,
}

/// What was compared: the mismatches, and notes on settings that have no effect here.
#[derive(Default)]
pub struct Compared {
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
}

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(path).filter(|v| !v.is_null())
}

/// A byte count as Compose writes it in JSON: a number or a numeric string.
fn bytes(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "unset".into(),
        other => other.to_string(),
    }
}

pub fn compare(service: &Value, host: &Value, config: &Value) -> Compared {
    let mut out = Compared::default();
    let mut check = |setting: &str, expected: Option<Value>, actual: Value| {
        if let Some(expected) = expected {
            if expected != actual {
                out.mismatches.push(Mismatch {
                    setting: setting.into(),
                    expected: show(&expected),
                    actual: show(&actual),
                });
            }
        }
    };
    let actual = |path: &str, of: &Value| get(of, path).cloned().unwrap_or(Value::Null);

    let init = get(service, "/init").and_then(Value::as_bool);
    check("init", init.map(Value::from), Value::from(get(host, "/Init").and_then(Value::as_bool).unwrap_or(false)));

    if let Some((name, retries)) = restart(service) {
        let got_name = get(host, "/RestartPolicy/Name").and_then(Value::as_str).unwrap_or("no");
        let got_name = if got_name.is_empty() { "no" } else { got_name };
        let got_retries = get(host, "/RestartPolicy/MaximumRetryCount").and_then(Value::as_i64).unwrap_or(0);
        let shown = |n: &str, r: i64| if r > 0 { format!("{n}:{r}") } else { n.to_string() };
        check("restart", Some(Value::from(shown(&name, retries))), Value::from(shown(got_name, got_retries)));
    }

    if let Some(logging) = get(service, "/logging") {
        if let Some(driver) = get(logging, "/driver") {
            check("logging.driver", Some(driver.clone()), actual("/LogConfig/Type", host));
        }
        for (key, value) in get(logging, "/options").and_then(Value::as_object).into_iter().flatten() {
            let got = get(host, "/LogConfig/Config").and_then(|c| c.get(key)).cloned().unwrap_or(Value::Null);
            check(&format!("logging.options.{key}"), Some(value.clone()), got);
        }
    }

    let limit = |legacy: &str, deploy: &str| get(service, legacy).or_else(|| get(service, deploy));
    let mem = |v: Option<&Value>| v.and_then(bytes).map(Value::from);
    let host_int = |path: &str| Value::from(get(host, path).and_then(Value::as_i64).unwrap_or(0));
    check("memory limit", mem(limit("/mem_limit", "/deploy/resources/limits/memory")), host_int("/Memory"));
    check(
        "memory reservation",
        mem(limit("/mem_reservation", "/deploy/resources/reservations/memory")),
        host_int("/MemoryReservation"),
    );
    check("memswap_limit", mem(get(service, "/memswap_limit")), host_int("/MemorySwap"));
    let cpus =
        limit("/cpus", "/deploy/resources/limits/cpus").and_then(|c| c.as_f64().or_else(|| c.as_str()?.parse().ok()));
    check("cpus", cpus.map(|c| Value::from((c * 1e9).round() as i64)), host_int("/NanoCpus"));
    for (key, path) in [("cpu_quota", "/CpuQuota"), ("cpu_period", "/CpuPeriod"), ("cpu_shares", "/CpuShares")] {
        check(key, get(service, &format!("/{key}")).and_then(bytes).map(Value::from), host_int(path));
    }
    let pids = limit("/pids_limit", "/deploy/resources/limits/pids").and_then(bytes);
    check("pids limit", pids.map(Value::from), host_int("/PidsLimit"));
    if get(service, "/deploy/resources/reservations/cpus").is_some() {
        out.notes.push(
            "deploy.resources.reservations.cpus has no effect outside Swarm (compose up never applies it)".into(),
        );
    }

    for (name, value) in get(service, "/ulimits").and_then(Value::as_object).into_iter().flatten() {
        let (soft, hard) = match value {
            Value::Object(_) => {
                (get(value, "/soft").and_then(Value::as_i64), get(value, "/hard").and_then(Value::as_i64))
            }
            single => (single.as_i64(), single.as_i64()),
        };
        let got = get(host, "/Ulimits")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|u| u.get("Name").and_then(Value::as_str) == Some(name));
        let pair = |s: Option<i64>, h: Option<i64>| Value::from(format!("{}:{}", s.unwrap_or(-1), h.unwrap_or(-1)));
        let got = got.map(|u| pair(u.get("Soft").and_then(Value::as_i64), u.get("Hard").and_then(Value::as_i64)));
        check(&format!("ulimits.{name}"), Some(pair(soft, hard)), got.unwrap_or(Value::Null));
    }

    if let Some(hc) = get(service, "/healthcheck") {
        healthcheck(hc, config, &mut check, &mut out.notes);
    }
    check("stop_signal", get(service, "/stop_signal").cloned(), actual("/StopSignal", config));
    let grace = get(service, "/stop_grace_period").and_then(Value::as_str).and_then(seconds);
    check("stop_grace_period", grace.map(|g| Value::from(g as i64)), actual("/StopTimeout", config));
    out
}

fn healthcheck(
    hc: &Value,
    config: &Value,
    check: &mut impl FnMut(&str, Option<Value>, Value),
    notes: &mut Vec<String>,
) {
    let got = |path: &str| get(config, &format!("/Healthcheck{path}")).cloned().unwrap_or(Value::Null);
    if get(hc, "/disable").and_then(Value::as_bool) == Some(true) {
        check("healthcheck.test", Some(Value::from(vec!["NONE"])), got("/Test"));
        return;
    }
    if let Some(test) = get(hc, "/test") {
        // The model keeps Compose's `$$` escape; the engine is given a single `$`.
        let literal = |s: &str| Value::from(s.replace("$$", "$"));
        let test = match test {
            Value::String(s) => Value::from(vec![Value::from("CMD-SHELL"), literal(s)]),
            Value::Array(parts) => {
                Value::from(parts.iter().map(|p| p.as_str().map(literal).unwrap_or(p.clone())).collect::<Vec<_>>())
            }
            other => other.clone(),
        };
        check("healthcheck.test", Some(test), got("/Test"));
    }
    for (key, field) in [
        ("interval", "/Interval"),
        ("timeout", "/Timeout"),
        ("start_period", "/StartPeriod"),
        ("start_interval", "/StartInterval"),
    ] {
        // Engines before API 1.44 have no start interval: the setting has no effect there.
        let unknown = get(config, "/Healthcheck/StartInterval").is_none();
        if key == "start_interval" && get(hc, "/start_interval").is_some() && unknown {
            notes.push(
                "healthcheck.start_interval has no effect on this engine (it needs Docker Engine 25 or later)".into(),
            );
            continue;
        }
        let expected = get(hc, &format!("/{key}")).and_then(Value::as_str).and_then(seconds);
        let nanos = got(field).as_i64().unwrap_or(0);
        check(
            &format!("healthcheck.{key}"),
            expected.map(|s| Value::from((s * 1e9).round() as i64)),
            Value::from(nanos),
        );
    }
    check("healthcheck.retries", get(hc, "/retries").cloned(), got("/Retries"));
}

/// The restart policy `up` gives: `restart`, else `deploy.restart_policy` read as Compose does.
fn restart(service: &Value) -> Option<(String, i64)> {
    if let Some(r) = get(service, "/restart").and_then(Value::as_str) {
        return Some(match r.split_once(':') {
            Some((name, n)) => (name.to_string(), n.parse().unwrap_or(0)),
            None => (r.to_string(), 0),
        });
    }
    let policy = get(service, "/deploy/restart_policy")?;
    let attempts = get(policy, "/max_attempts").and_then(Value::as_i64).unwrap_or(0);
    Some(match get(policy, "/condition").and_then(Value::as_str).unwrap_or("any") {
        "none" => ("no".into(), 0),
        "on-failure" => ("on-failure".into(), attempts),
        _ => ("always".into(), 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_hardened_service_matches_its_container() {
        let service = json!({"init": true, "restart": "unless-stopped", "mem_limit": "536870912",
            "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
            "ulimits": {"nofile": {"soft": 1024, "hard": 2048}}, "stop_grace_period": "20s",
            "healthcheck": {"test": ["CMD", "true"], "interval": "10s", "retries": 3},
            "deploy": {"resources": {"reservations": {"cpus": 0.25}}}});
        let host = json!({"Init": true, "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
            "Memory": 536870912, "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]});
        let config = json!({"StopTimeout": 20, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 10_000_000_000u64, "Retries": 3}});
        let compared = compare(&service, &host, &config);
        assert_eq!(compared.mismatches, []);
        assert_eq!(
            compared.notes,
            ["deploy.resources.reservations.cpus has no effect outside Swarm (compose up never applies it)"]
        );
    }

    #[test]
    fn what_the_engine_did_not_apply_is_a_mismatch() {
        let service = json!({"init": true, "deploy": {"resources": {"limits": {"memory": "1073741824", "cpus": 1.5}}}});
        let host = json!({"Init": false, "Memory": 0, "NanoCpus": 1_500_000_000});
        let compared = compare(&service, &host, &json!({}));
        let shown: Vec<String> =
            compared.mismatches.iter().map(|m| format!("{}: {} != {}", m.setting, m.expected, m.actual)).collect();
        assert_eq!(shown, ["init: true != false", "memory limit: 1073741824 != 0"]);
    }
}
