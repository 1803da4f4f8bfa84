//! The examples in examples/ stay true: each `X.hardened.yml` is what `apply X.yml` prints,
//! with the team profile `X-profile.yml` where one stands beside it (`team-profile.yml` is
//! a profile: tests/profiles.rs reads it).

use std::fs;
use std::path::Path;

#[test]
fn examples_match_their_hardened_versions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).expect("examples folder").flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        // `*-profile.yml` are profiles, not compose files.
        let Some(stem) = name.strip_suffix(".yml").filter(|s| !s.ends_with(".hardened") && !s.ends_with("-profile"))
        else {
            continue;
        };
        let hardened = dir.join(format!("{stem}.hardened.yml"));
        let want = fs::read_to_string(&hardened).unwrap_or_else(|e| panic!("{}: {e}", hardened.display()));
        let input = fs::read(&path).expect("example");
        let team = dir.join(format!("{stem}-profile.yml"));
        let (profile, flag) = match team.exists() {
            true => (
                compose_harden::Profile::load(&team.display().to_string()).expect("the example's team profile"),
                format!("--profile examples/{stem}-profile.yml "),
            ),
            false => (profile.clone(), String::new()),
        };
        let got = compose_harden::harden(&name, &input, &profile).expect("example hardens").output;
        assert_eq!(
            got,
            want,
            "{} is stale: regenerate it with `compose-harden apply {flag}examples/{name}`",
            hardened.display()
        );
        checked += 1;
    }
    assert!(checked >= 2, "examples/ lost its examples");
}

/// The seed's Exercise 2 answer, key for key: what the production profile, with the team's
/// word that its services answer GET /health (`exercise2-profile.yml`), must produce.
#[test]
fn exercise2_has_the_lessons_keys_and_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let got: yaml_serde::Value =
        yaml_serde::from_str(&fs::read_to_string(dir.join("exercise2.hardened.yml")).expect("read")).expect("yaml");
    let answer = r#"
services:
  api:
    image: myapi:latest
    init: true
    ports:
      - "3000:3000"
    environment:
      DATABASE_URL: postgres://postgres:secret@db/mydb
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:3000/health"]
      interval: 30s
      timeout: 10s
      retries: 3
      start_period: 15s
    restart: unless-stopped
    logging:
      driver: json-file
      options:
        max-size: "10m"
        max-file: "5"
    deploy:
      resources:
        limits:
          cpus: "0.5"
          memory: 512M
        reservations:
          cpus: "0.1"
          memory: 128M
    ulimits:
      nofile:
        soft: 65536
        hard: 65536
"#;
    let want: yaml_serde::Value = yaml_serde::from_str(answer).expect("answer");
    assert_eq!(got, want);
}
