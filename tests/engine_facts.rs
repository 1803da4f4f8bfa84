//! Image facts end to end on a real engine, with images built here (tests/engine/facts/images.sh,
//! no registry): each image is inspected, the stack hardened from the facts file
//! (`apply --images`), and the hardened stack proven with `verify`. Every image with a usable
//! HTTP client and a declared TCP port must end with a probe (the count is printed), and each
//! decision (no init over an own init, the own HEALTHCHECK kept, no probe without a tool) is
//! checked in the hardened file. Skipped with a notice where no engine answers; required under CI.

mod common;

use compose_harden::facts::Presence;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const NS: &str = "compose-harden-test";

fn docker(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A busybox httpd serving `/health` (and `/`) from a tmpfs, as the app's own endpoint.
const HTTPD: &str =
    r#"["sh", "-c", "echo ok > /www/health && echo ok > /www/index.html && exec httpd -f -p PORT -h /www"]"#;
/// Perl (in Debian's minbase) answering 200 to every request, for the image with curl only.
const PERL: &str = r#"["perl", "-MIO::Socket::INET", "-e", "$$SIG{TERM} = sub { exit 0 }; my $$s = IO::Socket::INET->new(LocalPort => 80, Listen => 5, ReuseAddr => 1) or die; while (my $$c = $$s->accept) { while (<$$c>) { last if /^\\r?$$/ } print $$c qq(HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok); close $$c }"]"#;
const LOOP: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]"#;

fn compose() -> String {
    let httpd = |port: &str| HTTPD.replace("PORT", port);
    format!(
        r#"services:
  own:
    image: {NS}/facts-healthcheck:1
    command: {own}
    tmpfs: [/www]
  s6:
    image: {NS}/facts-s6:1
    command: {LOOP}
  tini:
    image: {NS}/facts-tini:1
  static:
    image: {NS}/facts-static:1
    ports: ["127.0.0.1::8080"]
  busybox:
    image: {NS}/busybox:1
    command: {busybox}
    tmpfs: [/www]
    ports: ["127.0.0.1::80"]
  curl:
    image: {NS}/facts-curl:1
    command: {PERL}
    ports: ["127.0.0.1::80"]
  nc:
    image: {NS}/facts-nc:1
    command: {LOOP}
    ports: ["127.0.0.1::80"]
  java:
    image: {NS}/facts-java:1
    command: {java}
    tmpfs: [/www]
    ports: ["127.0.0.1::8080"]
"#,
        own = httpd("8080"),
        busybox = httpd("80"),
        java = httpd("8080"),
    )
}

/// The team's word that its services answer GET /health (examples/exercise2-profile.yml), with
/// nofile within what this engine grants.
fn team(nofile: u64) -> String {
    format!(
        "extends: production\nhealthcheck:\n  http_fallback:\n    test: [\"CMD\", \"wget\", \"-qO-\", \"http://localhost:{{port}}/health\"]\n    note: \"our services answer GET /health on port {{port}}\"\nulimits:\n  nofile:\n    soft: {nofile}\n    hard: {nofile}\n"
    )
}

fn run(dir: &Path, args: &[&str], compose: &Path) -> Output {
    common::bin().args(args).current_dir(dir).env("COMPOSE_HARDEN_COMPOSE", compose).output().expect("the binary runs")
}

#[test]
fn each_image_is_inspected_hardened_from_its_facts_and_verified() {
    if docker(&["version", "--format", "{{.Server.Version}}"]).is_none() {
        common::missing("a Docker engine that answers");
        return;
    }
    let Some(oracle) = common::oracle() else { return };
    if !Command::new("bash").args(["tests/engine/images.sh", "facts"]).status().is_ok_and(|s| s.success()) {
        common::missing("the facts test images (tests/engine/images.sh facts failed)");
        return;
    }
    let nofile = docker(&["run", "--rm", &format!("{NS}/busybox:1"), "sh", "-c", "ulimit -Hn"])
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(1024)
        .min(65536);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yml"), compose()).expect("compose file");
    std::fs::write(dir.path().join("team.yml"), team(nofile)).expect("team profile");

    let out = run(dir.path(), &["inspect", "--profile", "team.yml", "-o", "facts.yml", "compose.yml"], &oracle);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.path().join("facts.yml")).expect("facts written");
    let facts = compose_harden::facts::parse("facts.yml", &text).expect("facts read");

    let out = run(dir.path(), &["apply", "--profile", "team.yml", "--images", "facts.yml", "compose.yml"], &oracle);
    let findings = String::from_utf8_lossy(&out.stderr).to_string();
    print!("{findings}");
    assert_eq!(out.status.code(), Some(0), "{findings}");
    let hardened = String::from_utf8_lossy(&out.stdout).to_string();
    std::fs::write(dir.path().join("hardened.yml"), &hardened).expect("hardened written");
    let model: yaml_serde::Value = yaml_serde::from_str(&hardened).expect("hardened YAML");
    let service = |name: &str| &model["services"][name];
    let probe = |name: &str| -> Option<String> {
        service(name)["healthcheck"]["test"]
            .as_sequence()
            .map(|t| t.iter().filter_map(|w| w.as_str()).collect::<Vec<_>>().join(" "))
    };

    // The figure: every image with an HTTP client and a declared TCP port ends with a probe,
    // written from the team's endpoint or its own HEALTHCHECK kept.
    let names = ["own", "s6", "tini", "static", "busybox", "curl", "nc", "java"];
    let (mut usable, mut probed, mut written) = (Vec::new(), Vec::new(), 0);
    for name in names {
        let image = service(name)["image"].as_str().expect("an image");
        let facts = facts.for_service(name, Some(image), false).expect("inspected");
        let client = ["curl", "wget"].iter().any(|t| matches!(facts.tool(t), Presence::Found(_)));
        let tcp = service(name)["ports"].as_sequence().is_some_and(|p| !p.is_empty())
            || facts.exposed_ports.iter().any(|p| p.ends_with("/tcp"));
        if !(client && tcp) {
            continue;
        }
        usable.push(name);
        let own = facts.healthcheck.as_ref().is_some_and(|h| !h.disabled());
        if probe(name).is_some() {
            written += 1;
            probed.push(name);
        } else if own && service(name)["healthcheck"].is_null() {
            probed.push(name);
        }
    }
    println!(
        "{} of {} images with an HTTP client and a declared TCP port got a probe ({written} written from the facts, {} their own HEALTHCHECK): {probed:?}",
        probed.len(),
        usable.len(),
        probed.len() - written,
    );
    assert!(!probed.is_empty());
    assert_eq!(usable, ["own", "busybox", "curl", "java"]);
    assert_eq!(probed, usable);
    assert_eq!(written, 3);

    // The decisions, each from the facts.
    assert!(service("own")["healthcheck"].is_null(), "the image's own HEALTHCHECK is kept");
    assert!(findings.contains("info[healthcheck/image-own]: service `own`: no healthcheck added"), "{findings}");
    for name in ["s6", "tini"] {
        assert!(service(name)["init"].is_null(), "no init: true over the own init of {name}");
        assert!(findings.contains(&format!("info[init/own-init]: service `{name}`: init not added")), "{findings}");
    }
    assert!(findings.contains("s6-overlay's `/init` (seen: `/package/admin/s6-overlay`)"), "{findings}");
    assert!(findings.contains("tini (`/sbin/tini`)"), "{findings}");
    for name in ["own", "static", "busybox", "curl", "nc", "java"] {
        assert_eq!(service(name)["init"].as_bool(), Some(true), "{name} gets docker-init");
    }
    for name in ["static", "nc"] {
        assert!(service(name)["healthcheck"].is_null(), "no probe for {name}");
        assert!(
            findings.contains(&format!("warning[healthcheck/tool-missing]: service `{name}`: no healthcheck added"))
        );
    }
    assert!(findings.contains("has no HTTP client to ask it with (it has none of "), "{findings}");
    assert!(findings.contains("(it has `nc` (/usr/bin/nc -> /usr/bin/nc.openbsd))"), "{findings}");
    assert_eq!(probe("busybox").as_deref(), Some("CMD wget -qO- http://localhost:80/health"));
    assert_eq!(probe("java").as_deref(), Some("CMD wget -qO- http://localhost:8080/health"));
    assert_eq!(
        probe("curl").as_deref(),
        Some("CMD curl -fsS -o /dev/null http://localhost:80/health"),
        "curl, not wget"
    );
    assert!(facts.for_service("java", Some(&format!("{NS}/facts-java:1")), false).is_some_and(|i| i.has_java()));
    assert_eq!(service("java")["healthcheck"]["start_period"].as_str(), Some("60s"), "a JVM's start period");
    for name in ["s6", "tini"] {
        assert!(service(name)["healthcheck"].is_null(), "no port, no probe for {name}");
    }

    // The hardened stack runs: started, healthy where it has a check, stopped on its signal.
    let out = run(dir.path(), &["verify", "--format", "json", "hardened.yml"], &oracle);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{report}\n{stderr}");
    let services = report["runs"][0]["services"].as_array().cloned().unwrap_or_default();
    assert_eq!(services.len(), names.len(), "{report}");
    for s in &services {
        let name = s["service"].as_str().unwrap_or("");
        println!("{name}: started {}, health {}, stopped by {}", s["started"], s["health"], s["stopped_by"]);
        assert_eq!(s["started"], true, "{name}: {s}");
        let want = if probed.contains(&name) { "healthy" } else { "none" };
        assert_eq!(s["health"], want, "{name}: {s}");
        assert_eq!(s["stopped_by"], "signal", "{name} stops on its signal: {s}");
    }
    let project = report["runs"][0]["project"].as_str().unwrap_or("");
    let filter = format!("label=io.compose-harden.verify={project}");
    assert_eq!(docker(&["ps", "-a", "-q", "--filter", &filter]).unwrap_or_default(), "", "nothing left");
}
