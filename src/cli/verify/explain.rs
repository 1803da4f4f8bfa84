//! Engine errors in plain words: the cause named, then the engine's own message.

use serde_json::Value;

/// `service` is the service's model, for the value the engine refused.
pub fn explain(message: &str, service: &Value) -> String {
    let hard = |name: &str| {
        let limit = service.pointer(&format!("/ulimits/{name}"));
        let hard = limit.and_then(|l| l.get("hard").or(Some(l))).and_then(Value::as_i64);
        hard.map(|h| h.to_string()).unwrap_or_else(|| "the value asked".into())
    };
    let rlimit = |name: &str| {
        format!(
            "the engine cannot raise {name} to {}: dockerd itself runs under a lower limit or without CAP_SYS_RESOURCE (rootless and nested engines); lower ulimits.{name} to what the engine grants",
            hard(name)
        )
    };
    let cause = if message.contains("rlimit type 7") {
        rlimit("nofile")
    } else if message.contains("rlimit type 8") {
        rlimit("memlock")
    } else {
        match CAUSES.iter().find(|(said, _)| message.contains(said)) {
            Some((_, cause)) => cause.to_string(),
            None => return format!("the engine said: {}", message.trim()),
        }
    };
    format!("{cause} (the engine said: {})", message.trim())
}

/// What the engine says, and what it means.
const CAUSES: &[(&str, &str)] = &[
    (
        "Nano CPUs and CPU Period cannot both be set",
        "cpus and cpu_period/cpu_quota are both set; the engine takes one or the other",
    ),
    ("range of CPUs is from", "the cpus limit is above this host's CPU count"),
    ("Minimum memoryswap limit should be larger than memory limit", "memswap_limit is below the memory limit"),
    ("Memory limit when using Memoryswap", "memswap_limit is set without a memory limit"),
    (
        "Minimum memory limit can not be less than memory reservation limit",
        "the memory reservation is above the memory limit",
    ),
    ("Minimum memory limit allowed is", "the memory limit is below the engine's minimum (6 MiB)"),
    ("No such image", "the image is not on this engine (verify never pulls or builds)"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nofile_names_the_value() {
        let service = json!({"ulimits": {"nofile": {"soft": 65536, "hard": 65536}}});
        let said = "OCI runtime create failed: runc create failed: unable to start container process: error during container init: error setting rlimit type 7: operation not permitted: unknown";
        assert!(explain(said, &service).starts_with("the engine cannot raise nofile to 65536: "));
    }
}
