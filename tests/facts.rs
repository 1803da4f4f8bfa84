//! The facts file without an engine: one text for the same facts, each command's sections
//! rewritten and the others kept byte for byte, every malformed file refused at its
//! position, the lookups passes will make, and the schema kept current.

use compose_harden::facts::{self, Facts, Freshness, InitKind, Owner, Presence};
use std::path::Path;

const SAMPLE: &str = include_str!("facts/sample.yml");

fn sample() -> Facts {
    facts::parse("compose-harden.images.yml", SAMPLE).expect("the sample reads")
}

#[test]
fn the_same_facts_give_the_same_text() {
    let facts = sample();
    let written = facts::render("f.yml", None, &facts, Owner::Inspect).expect("written");
    assert_eq!(written, SAMPLE, "the writer's text is the sample's, byte for byte");
    let again = facts::render("f.yml", Some(&written), &facts, Owner::Inspect).expect("written again");
    assert_eq!(again, written);
    assert_eq!(facts::parse("f.yml", &written).expect("reads back"), facts);
}

#[test]
fn lookups_answer_what_passes_ask() {
    let facts = sample();
    let busybox = facts.for_service("web", Some("compose-harden-test/busybox:1"), false).expect("by reference");
    assert!(matches!(busybox.tool("wget"), Presence::Found(t) if t.is_busybox_applet()));
    assert_eq!(busybox.tool("curl"), Presence::Absent, "looked for, not found");
    assert_eq!(busybox.tool("pg_isready"), Presence::Unknown, "never looked for");
    assert!(busybox.bin_sh && !busybox.has_java());
    let postgres = facts.for_service("db", Some("postgres:${PG_VERSION:-16}"), false).expect("the file's own text");
    assert_eq!(postgres.reference.as_deref(), Some("postgres:16"));
    assert_eq!(postgres.init.as_ref().map(|i| i.kind), Some(InitKind::Tini));
    assert!(facts.for_service("db", Some("postgres:16"), false).is_none(), "keyed as the file writes it");
    let api = facts.for_service("api", None, true).expect("a build by service name");
    assert_eq!(api.init.as_ref().map(|i| i.kind), Some(InitKind::S6Overlay));
    assert!(facts.for_service("api", None, false).is_none());
    assert_eq!(postgres.freshness(Some(&postgres.id)), Freshness::Current);
    assert_eq!(postgres.freshness(Some("sha256:1")), Freshness::Stale { now: "sha256:1".into() });
    assert_eq!(postgres.freshness(None), Freshness::Gone);
}

/// A per-service section as another command would have written it, comments and all.
const SERVICES: &str = include_str!("facts/services.yml");

#[test]
fn inspect_rewrites_its_sections_and_keeps_the_services_byte_for_byte() {
    let existing = format!("{SAMPLE}{SERVICES}");
    let mut newer = sample();
    newer.images.remove("postgres:${PG_VERSION:-16}");
    newer.builds.clear();
    let written = facts::render("f.yml", Some(&existing), &newer, Owner::Inspect).expect("written");
    assert!(written.ends_with(SERVICES), "the services section and its comments are kept:\n{written}");
    assert!(!written.contains("postgres") && !written.contains("builds:"));
    let read = facts::parse("f.yml", &written).expect("reads back");
    assert_eq!(read.services, facts::parse("f.yml", &existing).expect("reads").services);
    // Sections another command wrote before inspect's keep their place in the order.
    let services_first = format!("version: 1\n{SERVICES}");
    let written = facts::render("f.yml", Some(&services_first), &sample(), Owner::Inspect).expect("written");
    assert_eq!(written, format!("{SAMPLE}{SERVICES}"));
}

#[test]
fn the_per_service_writer_keeps_inspects_sections_byte_for_byte() {
    // The section as `probes` writes it: read, written again, the same text.
    let proven = facts::parse("f.yml", &format!("version: 1\n{SERVICES}")).expect("the services read");
    let written = facts::render("f.yml", Some(SAMPLE), &proven, Owner::Probes).expect("written");
    let comments_dropped: String =
        SERVICES.lines().filter(|l| !l.trim_start().starts_with('#')).map(|l| format!("{l}\n")).collect();
    assert_eq!(written, format!("{SAMPLE}{comments_dropped}"));
    // And inspect, run again, keeps what that wrote; probes, run again, keeps inspect's.
    let again = facts::render("f.yml", Some(&written), &sample(), Owner::Inspect).expect("written");
    assert_eq!(again, written);
    let again = facts::render("f.yml", Some(&written), &proven, Owner::Probes).expect("written");
    assert_eq!(again, written);
    // A run that proved nothing writes no section, and keeps inspect's.
    let none = facts::render("f.yml", Some(&written), &Facts::new(), Owner::Probes).expect("written");
    assert_eq!(none, SAMPLE);
}

#[test]
fn a_proven_probe_is_found_only_for_the_image_and_command_it_was_proven_under() {
    let facts = facts::parse("f.yml", &format!("{SAMPLE}{SERVICES}")).expect("reads");
    let service = |yaml: &str| -> facts::DecidedBy {
        let value: yaml_serde::Value = yaml_serde::from_str(yaml).expect("yaml");
        facts::DecidedBy::of(value.as_mapping().expect("a mapping"))
    };
    let web = service("image: compose-harden-test/busybox:1\ncommand: httpd -f -p 8080 -h /srv\nports: [\"8080\"]\n");
    let image = format!("sha256:{}", "4".repeat(64));
    let probe = facts.proven("web", &image, &web).expect("proven");
    assert_eq!(probe.test, ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]);
    assert_eq!(
        (probe.interval.as_str(), probe.timeout.as_str(), probe.start_period.as_str(), probe.retries),
        ("10s", "3s", "5s", 3)
    );
    assert!(!probe.socket_only);
    assert!(facts.proven("web", &format!("sha256:{}", "5".repeat(64)), &web).is_none(), "another image");
    let cron = service("image: compose-harden-test/busybox:1\ncommand: crond -f\nports: [\"8080\"]\n");
    assert!(facts.proven("web", &image, &cron).is_none(), "another command");
    let moved = service(
        "image: compose-harden-test/busybox:1\ncommand: httpd -f -p 8080 -h /srv\nports: [\"9090:8080\", \"8443\"]\n",
    );
    assert!(facts.proven("web", &image, &moved).is_none(), "other ports");
    assert!(facts.proven("api", &image, &web).is_none(), "another service");
    let tcp = facts.proven("cache", &format!("sha256:{}", "6".repeat(64)), &service("image: x\n")).expect("proven");
    assert!(tcp.socket_only);
    let udp = service("image: x\ncommand: [nc, -lup, \"53\"]\n");
    let none = facts.proven_service("dns", &format!("sha256:{}", "7".repeat(64)), &udp).expect("recorded");
    assert!(none.probe.is_none());
    assert_eq!(
        none.none.as_deref(),
        Some("listens on UDP only (udp 0.0.0.0:53): no probe from inside can tell it works; check it from outside")
    );
}

#[test]
fn a_file_written_in_flow_style_keeps_its_other_sections_by_value() {
    let existing = format!(
        "{{version: 1, services: {{web: {{image: 'sha256:{}', none: listens on nothing}}}}}}\n",
        "a".repeat(64)
    );
    let written = facts::render("f.yml", Some(&existing), &sample(), Owner::Inspect).expect("written");
    assert_eq!(
        written,
        format!("{SAMPLE}services:\n  web:\n    image: sha256:{}\n    none: listens on nothing\n", "a".repeat(64))
    );
}

#[test]
fn a_file_that_cannot_be_read_is_not_overwritten() {
    let err = facts::render("f.yml", Some("version: 1\nimages: [\n"), &sample(), Owner::Inspect).expect_err("refused");
    assert!(err.to_string().starts_with("f.yml:"), "{err}");
}

/// Each malformed file, and the whole message it gets.
#[test]
fn malformed_files_are_refused_at_their_position() {
    let image = |extra: &str| {
        format!(
            "version: 1\ninspected: {{engine: '20.10', tools: [sh, curl]}}\nimages:\n  \"app:1\":\n    id: sha256:{}\n    platform: linux/amd64\n    path: [/bin]\n    bin_sh: true\n{extra}",
            "a".repeat(64)
        )
    };
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "f.yml: error: empty facts file: write one with `compose-harden inspect`"),
        ("version: 2\n".into(), "f.yml:1:10: error: invalid facts file: version 2 is not 1, the one this compose-harden reads; write the file again with `compose-harden inspect`"),
        ("version: 1\nimgaes: {}\n".into(), "f.yml:2:1: error: invalid facts file: unknown field `imgaes`, expected one of `version`, `inspected`, `images`, `builds`, `services`"),
        ("version: 1\nimages: [\n".into(), "f.yml:3:1: error: invalid YAML: while parsing a node, did not find expected node content"),
        ("images: {}\n".into(), "f.yml:1:1: error: invalid facts file: missing field `version`"),
        (image("    tools: {curl: usr/bin/curl}\n"), "f.yml:9:19: error: invalid facts file: images `app:1`: tool `curl`: `usr/bin/curl` is not a place: write `/usr/bin/curl` or `/bin/wget -> /bin/busybox`"),
        (image("    tools: {wget: /bin/wget}\n"), "f.yml:9:19: error: invalid facts file: images `app:1`: tool `wget` is not among `inspected.tools`, so its absence elsewhere would mean nothing"),
        (image("    healthcheck: {test: [CMD, 'true'], interval: 30 seconds}\n"), "f.yml:9:50: error: invalid facts file: images `app:1`: `30 seconds` is not a duration (`30s`, `1m30s`)"),
        (image("    exposed_ports: [80/tcp, http]\n"), "f.yml:9:29: error: invalid facts file: images `app:1`: `http` is not `port/protocol` (`80/tcp`)"),
        (image("    init: {kind: systemd, path: /sbin/init}\n"), "f.yml:9:18: error: invalid facts file: images.app:1.init.kind: unknown variant `systemd`, expected one of `tini`, `dumb-init`, `catatonit`, `s6-overlay`, `supervisord`, `runit`"),
        (image("").replace("sha256:aaaa", "sha256:AAAA"), "f.yml:5:9: error: invalid facts file: images `app:1`: `sha256:AAAAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is not an image ID (`sha256:` and 64 hex digits)"),
        (image("").replace("linux/amd64", "linux"), "f.yml:6:15: error: invalid facts file: images `app:1`: `linux` is not a platform (`os/architecture[/variant]`)"),
        ("version: 1\nimages: {}\nbuilds:\n  api: {}\n".into(), "f.yml:4:8: error: invalid facts file: builds.api: missing field `id`"),
        ("version: 1\nservices:\n  web: {image: sha256:1, none: x}\n".into(), "f.yml:3:16: error: invalid facts file: services `web`: `sha256:1` is not an image ID (`sha256:` and 64 hex digits)"),
        (format!("version: 1\nservices:\n  web: {{image: 'sha256:{}'}}\n", "a".repeat(64)), "f.yml:3:8: error: invalid facts file: services `web`: neither a probe nor `none` (why there is none)"),
        (format!("version: 1\nservices:\n  web:\n    image: 'sha256:{}'\n    probe: {{test: [CMD, 'true'], interval: 10s, timeout: 3 s, start_period: 5s, retries: 3}}\n", "a".repeat(64)), "f.yml:5:58: error: invalid facts file: services `web`: `3 s` is not a duration (`30s`, `1m30s`)"),
        (format!("version: 1\nservices:\n  web:\n    image: 'sha256:{}'\n    none: x\n    probed: true\n", "a".repeat(64)), "f.yml:6:5: error: invalid facts file: services.web: unknown field `probed`, expected one of `image`, `decided_by`, `probe`, `none`, `evidence`"),
        (format!("version: 1\nimages:\n  \"app:1\": {{id: 'sha256:{}', platform: linux/amd64, path: [], bin_sh: false}}\n", "a".repeat(64)), "f.yml:2:1: error: invalid facts file: `images` without `inspected`: which tools were looked for is unknown"),
    ];
    let mut failures = Vec::new();
    for (text, want) in &cases {
        match facts::parse("f.yml", text) {
            Ok(_) => failures.push(format!("accepted:\n{text}")),
            Err(e) if e.to_string() != *want => failures.push(format!("{text}\n  want: {want}\n  got:  {e}")),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn facts_schema_is_current_and_the_sample_meets_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/facts.schema.json");
    let generated = facts::json_schema();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(committed, generated, "schemas/facts.schema.json is stale; run BLESS=1 cargo test --test facts");
    let schema: serde_json::Value = serde_json::from_str(&generated).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let sample: serde_json::Value = yaml_serde::from_str(SAMPLE).expect("yaml");
    let errors: Vec<String> = validator.iter_errors(&sample).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut bad = sample.clone();
    bad["images"]["compose-harden-test/busybox:1"]["tools"]["sh"] = "bin/sh".into();
    assert!(!validator.is_valid(&bad), "a tool's place must be absolute");
}

/// Found as the team profile is: beside the file or in a directory above it, never past the
/// repository root.
#[test]
fn the_facts_file_is_found_above_the_compose_file_up_to_the_repository_root() {
    let root = tempfile::tempdir().expect("tempdir");
    let sub = root.path().join("deploy");
    std::fs::create_dir_all(&sub).expect("dirs");
    std::fs::write(sub.join("compose.yml"), "services:\n  web:\n    image: nginx:1.27\n").expect("compose file");
    std::fs::write(root.path().join(facts::FILE_NAME), SAMPLE).expect("facts");
    let apply = |dir: &Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_compose-harden"))
            .args(["apply", "--diff", "compose.yml"])
            .current_dir(dir)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or_default().to_string()
    };
    std::fs::create_dir(root.path().join(".git")).expect(".git");
    assert_eq!(apply(&sub), "notice: compose.yml: image facts from ../compose-harden.images.yml (3 images)");
    std::fs::create_dir(sub.join(".git")).expect("a repository inside");
    assert!(!apply(&sub).contains("image facts"), "not found past the repository root");
}

#[test]
fn verify_takes_image_facts_only_with_harden() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_compose-harden"))
        .args(["verify", "--images", "f.yml", "compose.yml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --profile, --no-config, --sizing, --images, --inspect and --no-images choose how --harden hardens; add --harden\n"
    );
}

#[test]
fn a_kept_section_may_end_in_any_character() {
    let services =
        format!("services:\n  web:\n    image: sha256:{}\n    none: never ready in the copy, café\n", "a".repeat(64));
    let existing = format!("version: 1\n{services}inspected: {{engine: '1', tools: [sh]}}\nimages: {{}}\n");
    let written = facts::render("f.yml", Some(&existing), &sample(), Owner::Inspect).expect("written");
    assert_eq!(written, format!("{SAMPLE}{services}"));
}

#[test]
fn a_key_given_twice_is_refused_at_its_second_place() {
    let entry = |hex: char| {
        format!("{{id: 'sha256:{}', platform: linux/amd64, path: [], bin_sh: false}}", hex.to_string().repeat(64))
    };
    let text = format!(
        "version: 1\ninspected: {{engine: '1', tools: [sh]}}\nimages:\n  \"a:1\": {}\n  \"a:1\": {}\n",
        entry('a'),
        entry('b')
    );
    let err = facts::parse("f.yml", &text).expect_err("refused");
    assert_eq!(err.to_string(), "f.yml:5:3: error: invalid facts file: images: `a:1` is given twice");
    let text = "version: 1\nservices:\n  web: {a: 1}\n  web: {a: 2}\n";
    let err = facts::parse("f.yml", text).expect_err("refused");
    assert!(err.to_string().starts_with("f.yml:"), "{err}");
}
