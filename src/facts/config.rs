//! An image's config, as the engine gives it (`GET /images/{name}/json`), turned into facts:
//! lists sorted, durations as Compose writes them, environment names without values.

use super::{Healthcheck, Image};
use serde_json::Value;
use std::collections::BTreeMap;

/// The PATH the engine gives a Linux container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The prefix of the labels kept: the OCI image annotations.
const OCI: &str = "org.opencontainers.image.";

/// The facts an image's config gives (its filesystem's are added by [`super::search`]).
pub fn image(inspect: &Value) -> Result<Image, String> {
    let id = inspect["Id"].as_str().filter(|id| !id.is_empty()).ok_or("the engine gave the image no Id")?;
    let config = &inspect["Config"];
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array().map(|items| items.iter().filter_map(Value::as_str).map(str::to_string).collect())
    };
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let mut repo_digests = strings(&inspect["RepoDigests"]).unwrap_or_default();
    repo_digests.sort();
    let env_pairs = strings(&config["Env"]).unwrap_or_default();
    let mut env: Vec<String> =
        env_pairs.iter().map(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k).to_string()).collect();
    env.sort();
    env.dedup();
    let path_value = env_pairs.iter().rev().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
    let mut exposed_ports: Vec<String> =
        config["ExposedPorts"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    exposed_ports.sort_by_key(|p| port_order(p));
    let mut volumes: Vec<String> =
        config["Volumes"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    volumes.sort();
    let labels: BTreeMap<String, String> = config["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with(OCI))
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut platform = format!(
        "{}/{}",
        inspect["Os"].as_str().unwrap_or("unknown"),
        inspect["Architecture"].as_str().unwrap_or("unknown")
    );
    if let Some(variant) = text(&inspect["Variant"]) {
        platform = format!("{platform}/{variant}");
    }
    Ok(Image {
        id: id.to_string(),
        repo_digests,
        platform,
        entrypoint: strings(&config["Entrypoint"]).filter(|e| !e.is_empty()),
        cmd: strings(&config["Cmd"]).filter(|c| !c.is_empty()),
        user: text(&config["User"]).filter(|u| u != "root" && u != "0"),
        working_dir: text(&config["WorkingDir"]),
        stop_signal: text(&config["StopSignal"]).filter(|s| s != "SIGTERM" && s != "15" && s != "TERM"),
        healthcheck: healthcheck(&config["Healthcheck"]),
        exposed_ports,
        volumes,
        env,
        labels,
        path: path_value.split(':').filter(|d| d.starts_with('/')).map(str::to_string).collect(),
        ..Image::default()
    })
}

/// `80/tcp` before `443/tcp` before `8080/tcp`: by number, then protocol.
fn port_order(port: &str) -> (u32, String) {
    let (number, protocol) = port.split_once('/').unwrap_or((port, "tcp"));
    (number.parse().unwrap_or(u32::MAX), protocol.to_string())
}

fn healthcheck(v: &Value) -> Option<Healthcheck> {
    let test: Vec<String> = v["Test"].as_array()?.iter().filter_map(Value::as_str).map(str::to_string).collect();
    if test.is_empty() {
        return None;
    }
    let duration = |key: &str| v[key].as_u64().filter(|ns| *ns > 0).map(duration);
    Some(Healthcheck {
        test,
        interval: duration("Interval"),
        timeout: duration("Timeout"),
        start_period: duration("StartPeriod"),
        start_interval: duration("StartInterval"),
        retries: v["Retries"].as_u64().filter(|r| *r > 0),
    })
}

/// Nanoseconds as Compose writes a duration: `30s`, `1m30s`, `1h`, `500ms`, `1.5s`.
pub fn duration(ns: u64) -> String {
    const S: u64 = 1_000_000_000;
    if ns % S != 0 {
        if ns < S && ns % 1_000_000 == 0 {
            return format!("{}ms", ns / 1_000_000);
        }
        if ns < S && ns % 1_000 == 0 {
            return format!("{}us", ns / 1_000);
        }
        if ns < S {
            return format!("{ns}ns");
        }
        let whole = duration(ns - ns % S);
        let fraction = format!("{:09}", ns % S);
        // `1m30.5s`: the fraction belongs to the seconds, which may be written as `0s`.
        let fraction = fraction.trim_end_matches('0');
        let base = whole.strip_suffix('s').filter(|_| whole.ends_with('s') && !whole.ends_with("ms"));
        return match base {
            Some(b) => format!("{b}.{fraction}s"),
            None => format!("{whole}0.{fraction}s"),
        };
    }
    let secs = ns / S;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_compose_writes_them() {
        let s = 1_000_000_000;
        assert_eq!(duration(30 * s), "30s");
        assert_eq!(duration(90 * s), "1m30s");
        assert_eq!(duration(3600 * s), "1h");
        assert_eq!(duration(3660 * s), "1h1m");
        assert_eq!(duration(500_000_000), "500ms");
        assert_eq!(duration(1_500_000_000), "1.5s");
        assert_eq!(duration(60 * s + 500_000_000), "1m0.5s");
        for text in ["30s", "1m30s", "1h", "1h1m", "500ms", "1.5s", "1m0.5s"] {
            assert!(crate::units::seconds(text).is_some(), "{text} reads back");
        }
        assert_eq!(crate::units::seconds("1m0.5s"), Some(60.5));
    }

    #[test]
    fn a_config_gives_sorted_facts_and_no_values() {
        let v: Value = serde_json::from_str(
            r#"{"Id": "sha256:aa", "RepoDigests": ["x@sha256:2", "x@sha256:1"], "Os": "linux",
                "Architecture": "arm64", "Variant": "v8",
                "Config": {"User": "1000:1000", "Env": ["PATH=/opt/java/bin:/usr/bin", "SECRET=hunter2", "A=1"],
                  "ExposedPorts": {"8080/tcp": {}, "443/tcp": {}, "80/tcp": {}, "53/udp": {}},
                  "Volumes": {"/var/lib/b": {}, "/data": {}},
                  "Labels": {"org.opencontainers.image.title": "app", "maintainer": "someone"},
                  "StopSignal": "SIGQUIT", "Entrypoint": ["tini", "--"], "Cmd": null, "WorkingDir": "",
                  "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000, "Retries": 3}}}"#,
        )
        .expect("json");
        let image = image(&v).expect("facts");
        assert_eq!(image.platform, "linux/arm64/v8");
        assert_eq!(image.repo_digests, ["x@sha256:1", "x@sha256:2"]);
        assert_eq!(image.env, ["A", "PATH", "SECRET"]);
        assert!(!format!("{image:?}").contains("hunter2"), "no value of a variable is kept");
        assert_eq!(image.path, ["/opt/java/bin", "/usr/bin"]);
        assert_eq!(image.exposed_ports, ["53/udp", "80/tcp", "443/tcp", "8080/tcp"]);
        assert_eq!(image.volumes, ["/data", "/var/lib/b"]);
        assert_eq!(image.labels.keys().collect::<Vec<_>>(), ["org.opencontainers.image.title"]);
        assert_eq!(image.user.as_deref(), Some("1000:1000"));
        assert_eq!((image.working_dir, image.cmd), (None, None));
        let check = image.healthcheck.expect("its own check");
        assert_eq!((check.interval.as_deref(), check.timeout, check.retries), (Some("30s"), None, Some(3)));
    }

    #[test]
    fn an_image_without_path_is_searched_on_the_engines_default() {
        let v: Value = serde_json::from_str(
            r#"{"Id": "sha256:bb", "Os": "linux", "Architecture": "amd64",
            "Config": {"Env": null, "User": "root", "StopSignal": "SIGTERM"}}"#,
        )
        .expect("json");
        let image = image(&v).expect("facts");
        assert_eq!(image.path.join(":"), DEFAULT_PATH);
        assert_eq!((image.user, image.stop_signal), (None, None), "the defaults are not written");
        assert!(super::image(&serde_json::json!({"Config": {}})).is_err());
    }
}
