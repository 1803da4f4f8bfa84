//! `probes` on a real engine, with images built here (tests/engine/images.sh probes, no
//! registry): each kind of service gets the probe it should (an HTTP path, a TCP connect
//! marked socket only, none with the reason), a slow start is covered, a shared namespace's
//! port goes to its owner, and the probes written are healthy when the stack runs with them.
//! Skipped with a notice where no engine answers; required under CI.

mod common;

use compose_harden::facts::{self, Facts, Proven};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const NS: &str = "compose-harden-test";

fn docker(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The Compose v2 to run with, where the engine answers and the images are built.
fn ready() -> Option<std::path::PathBuf> {
    let found = (|| {
        docker(&["version", "--format", "{{.Server.Version}}"])?;
        let compose = common::oracle()?;
        let built = Command::new("bash").args(["tests/engine/images.sh", "probes"]).status().is_ok_and(|s| s.success());
        if !built {
            common::missing("the probes test images (tests/engine/images.sh probes failed)");
            return None;
        }
        Some(compose)
    })();
    if found.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no Docker engine answers (or no Compose v2, or no test images); this engine test checks nothing here"
        );
    }
    found
}

const STACK: &str = r#"services:
  web:
    image: compose-harden-test/busybox:1
    command: [sh, -c, "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"]
  notfound:
    image: compose-harden-test/probes-nc404:1
  tcp:
    image: compose-harden-test/busybox:1
    command: [nc, -ll, -p, "7000", -e, cat]
  static:
    image: compose-harden-test/probes-static:1
  idle:
    image: compose-harden-test/busybox:1
    command: [sleep, "3600"]
  udp:
    image: compose-harden-test/busybox:1
    command: [sh, -c, "mkdir -p /var/lib/misc && touch /var/lib/misc/udhcpd.leases && printf 'interface eth0\\nstart 10.0.0.10\\nend 10.0.0.20\\n' > /u.conf && exec udhcpd -f /u.conf"]
  slow:
    image: compose-harden-test/busybox:1
    command: [sh, -c, "sleep 8; mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"]
  vpn:
    image: compose-harden-test/busybox:1
    command: [sh, -c, "mkdir -p /v && echo ok > /v/healthz && exec httpd -f -p 9000 -h /v"]
  member:
    image: compose-harden-test/busybox:1
    network_mode: service:vpn
    command: [sh, -c, "mkdir -p /www && echo ok > /www/status && exec httpd -f -p 8080 -h /www"]
"#;

fn run(compose: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    common::bin().args(args).current_dir(dir).env("COMPOSE_HARDEN_COMPOSE", compose).output().expect("the binary runs")
}

fn entry<'a>(facts: &'a Facts, service: &str) -> &'a Proven {
    facts.services.get(service).unwrap_or_else(|| panic!("no entry for {service}"))
}

fn test_of(proven: &Proven) -> String {
    proven.probe.as_ref().map(|p| p.test.join(" ")).unwrap_or_default()
}

#[test]
fn each_service_gets_the_probe_it_should_and_the_probes_are_healthy() {
    let Some(compose) = ready() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yml"), STACK).expect("compose file");
    let inspected = run(&compose, dir.path(), &["inspect", "compose.yml"]);
    assert!(inspected.status.success(), "{}", String::from_utf8_lossy(&inspected.stderr));
    let out = run(&compose, dir.path(), &["probes", "compose.yml", "--timeout", "20", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Some services get no probe, each with why: exit 1.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let text = std::fs::read_to_string(dir.path().join(facts::FILE_NAME)).expect("the facts file");
    let facts = facts::parse("f.yml", &text).expect("the facts read");
    println!("{}\n{text}", report["seconds"]);

    // busybox httpd, seen only in tcp6: an HTTP probe on the health file's path, which
    // failed against the frozen app.
    let web = entry(&facts, "web");
    assert_eq!(test_of(web), "CMD wget -q -O /dev/null http://127.0.0.1:8080/healthz");
    assert_eq!(web.evidence.listening, ["tcp6 [::]:8080"]);
    assert_eq!(web.evidence.status, Some(200));
    assert!(web.evidence.frozen.as_deref().is_some_and(|f| f.starts_with("failed")), "{:?}", web.evidence);
    assert!(!web.probe.as_ref().is_some_and(|p| p.socket_only));
    // 404 on every path: the HTTP candidates refused, a TCP connect kept as socket only.
    let notfound = entry(&facts, "notfound");
    assert_eq!(test_of(notfound), "CMD nc -z 127.0.0.1 8080");
    assert!(notfound.probe.as_ref().is_some_and(|p| p.socket_only));
    assert_eq!(notfound.evidence.frozen.as_deref(), Some("passed"));
    assert!(
        notfound.evidence.refused.iter().any(|r| r.contains("busybox, wget") && r.contains("404")),
        "{:?}",
        notfound.evidence.refused
    );
    // A TCP-only listener: a TCP probe (busybox's nc waits for the app to close: it fails
    // against the frozen app).
    assert_eq!(test_of(entry(&facts, "tcp")), "CMD nc -w 2 127.0.0.1 7000");
    // No tool, nothing listening, UDP only: none, with the reason.
    let none = |s: &str| entry(&facts, s).none.clone().unwrap_or_default();
    assert!(none("static").starts_with("no tool to probe with"), "{}", none("static"));
    assert!(none("idle").starts_with("listens on nothing"), "{}", none("idle"));
    assert!(none("udp").starts_with("listens on UDP only (udp 0.0.0.0:67)"), "{}", none("udp"));
    // A slow start: its start_period covers the measured time to the first pass.
    let slow = entry(&facts, "slow");
    let first = slow.evidence.first_pass_seconds.expect("timed");
    assert!(first >= 8.0, "{first}");
    let period =
        compose_harden::units::seconds(&slow.probe.as_ref().expect("a probe").start_period).expect("a duration");
    assert!(period >= first, "{period} < {first}");
    // A shared namespace: each port to the container whose process holds it.
    assert_eq!(entry(&facts, "member").evidence.listening, ["tcp6 [::]:8080"]);
    assert_eq!(entry(&facts, "vpn").evidence.listening, ["tcp6 [::]:9000"]);
    assert!(test_of(entry(&facts, "vpn")).contains(":9000/healthz"));
    assert_eq!(
        docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=io.compose-harden.verify={}", report["project"].as_str().expect("the copy's project"))
        ])
        .unwrap_or_default(),
        "",
        "the copy was torn down"
    );

    // `apply` writes each proven probe from the facts file beside the compose file.
    let applied = run(&compose, dir.path(), &["apply", "compose.yml"]);
    let hardened: Value = yaml_serde::from_slice(&applied.stdout).unwrap_or(Value::Null);
    for (name, proven) in &facts.services {
        let Some(p) = &proven.probe else { continue };
        let written = &hardened["services"][name.as_str()]["healthcheck"]["test"];
        let want: Vec<Value> = p.test.iter().map(|w| Value::from(w.as_str())).collect();
        assert_eq!(
            written,
            &Value::Array(want),
            "{name}: apply did not write the proven probe\n{}",
            String::from_utf8_lossy(&applied.stderr)
        );
    }

    // The stack run with the probes written is healthy: every probe passes on the engine.
    let mut overlay = String::from("services:\n");
    for (name, proven) in &facts.services {
        let Some(p) = &proven.probe else { continue };
        let test: Vec<String> = p.test.iter().map(|w| format!("{w:?}")).collect();
        overlay.push_str(&format!(
            "  {name}:\n    healthcheck:\n      test: [{}]\n      interval: 2s\n      timeout: {}\n      start_period: {}\n      retries: {}\n",
            test.join(", "),
            p.timeout,
            p.start_period,
            p.retries
        ));
    }
    std::fs::write(dir.path().join("probes.yml"), &overlay).expect("overlay");
    let verified = run(
        &compose,
        dir.path(),
        &["verify", "-f", "compose.yml", "-f", "probes.yml", "--format", "json", "--timeout", "60"],
    );
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap_or(Value::Null);
    let services = report["runs"][0]["services"].as_array().cloned().unwrap_or_default();
    for (name, proven) in &facts.services {
        if proven.probe.is_none() {
            continue;
        }
        let row = services.iter().find(|s| s["service"] == name.as_str()).unwrap_or(&Value::Null);
        assert_eq!(row["health"], "healthy", "{name}: {row}\n{}", String::from_utf8_lossy(&verified.stderr));
    }
}

#[test]
fn probes_needs_the_image_facts_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yml"), format!("services:\n  web:\n    image: {NS}/busybox:1\n"))
        .expect("file");
    let out = common::bin().args(["probes", "compose.yml"]).current_dir(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("compose-harden.images.yml: no such file; run `compose-harden inspect` first"), "{stderr}");
}
