//! Profiles as teams write them: where the team's profile is found, and each merge rule
//! of `extends` and repeated `--profile`.

mod common;

use compose_harden::Profile;
use std::fs;
use std::path::Path;

const COMPOSE: &str = "services:\n  web:\n    image: nginx:1.27\n";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("folder");
    fs::write(path, text).expect("write");
}

fn stderr(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = common::run(dir, args, b"");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (text(&out.stdout), text(&out.stderr), out.status.code().unwrap_or(-1))
}

#[test]
fn the_team_profile_is_found_above_the_file_up_to_the_repository_root() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let repo = tmp.path().join("repo");
    fs::create_dir_all(repo.join(".git")).expect(".git");
    write(&repo.join(".compose-harden.yml"), "extends: production\nrestart: {policy: always}\n");
    write(&repo.join("deploy/web/compose.yml"), COMPOSE);
    // Above the repository root: never read.
    write(&tmp.path().join("compose-harden.yml"), "extends: production\nrestart: {policy: \"no\"}\n");
    let (out, err, code) = stderr(&repo.join("deploy/web"), &["apply", "compose.yml"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.starts_with("notice: compose.yml: hardened with the team profile ../../.compose-harden.yml\n"),
        "{err}"
    );
    assert!(out.contains("restart: always"), "{out}");
    // `--profile` replaces it; `--no-config` ignores it.
    let (out, err, _) = stderr(&repo.join("deploy/web"), &["apply", "--profile", "orchestrated", "compose.yml"]);
    assert!(!out.contains("restart:") && !err.contains("team profile"), "{err}\n{out}");
    let (out, err, _) = stderr(&repo.join("deploy/web"), &["apply", "--no-config", "compose.yml"]);
    assert!(out.contains("restart: unless-stopped") && !err.contains("team profile"), "{err}\n{out}");
    // `compose-harden.yml` beside the file comes before one above it.
    write(&repo.join("deploy/web/compose-harden.yml"), "extends: minimal\n");
    let (_, err, _) = stderr(&repo.join("deploy/web"), &["apply", "compose.yml"]);
    assert!(err.starts_with("notice: compose.yml: hardened with the team profile compose-harden.yml\n"), "{err}");
    // A bad team profile fails the file, with the profile's own place.
    write(&repo.join("deploy/web/compose-harden.yml"), "extends: minimal\nrestart: {policy: sometimes}\n");
    let (_, err, code) = stderr(&repo.join("deploy/web"), &["apply", "compose.yml"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("compose-harden.yml:2:19: error: invalid profile: `policy: sometimes`"), "{err}");
}

#[test]
fn check_names_the_profile_of_each_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(tmp.path().join(".git")).expect(".git");
    write(&tmp.path().join("a/compose.yml"), COMPOSE);
    write(&tmp.path().join("a/compose-harden.yml"), "extends: orchestrated\n");
    write(&tmp.path().join("b/compose.yml"), COMPOSE);
    let out = common::run(tmp.path(), &["check", "--format", "json", "."], b"");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let profiles: Vec<(&str, &str)> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| (f["file"].as_str().unwrap_or(""), f["profile"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(profiles, [("a/compose.yml", "a/compose-harden.yml"), ("b/compose.yml", "production")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, "notice: hardened with the team profile a/compose-harden.yml\n");
}

/// Mappings merge key by key; lists of entries are consulted child-first; a list of plain
/// values is replaced; `false` turns a pass off; without `extends`, a rule left out is off.
#[test]
fn merge_rules() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = tmp.path().join("base.yml");
    write(
        &base,
        "extends: production\nlogging:\n  options: {max-size: 20m}\n  rotated_drivers: [json-file]\n\
         healthcheck:\n  probes:\n    - {images: [example/app], test: [CMD, app-check], why: base}\n",
    );
    let team = tmp.path().join("team/payments.yml");
    write(
        &team,
        "extends: ../base.yml\nulimits: false\nlogging:\n  options: {max-file: \"9\"}\n\
         healthcheck:\n  probes:\n    - {images: [example/app], test: [CMD, team-check], why: team}\n",
    );
    let p = Profile::load(&team.display().to_string()).expect("team profile");
    let logging = p.logging.expect("logging inherited");
    assert_eq!(logging.driver, "json-file", "from production");
    let options: Vec<(&str, &str)> = logging.options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(options, [("max-size", "20m"), ("max-file", "9")], "key by key, over two parents");
    assert_eq!(logging.rotated_drivers, ["json-file"], "a plain list is replaced");
    assert!(p.ulimits.is_none(), "false turns the pass off");
    let probes = p.healthcheck.expect("healthcheck").probes;
    let whys: Vec<&str> = probes.iter().take(2).map(|e| e.why.as_str()).collect();
    assert_eq!(whys, ["team", "base"], "the child's entries first");
    assert!(probes.len() > 20, "the built-in catalogue follows");
    // Without `extends`, a profile stands alone.
    let alone = tmp.path().join("alone.yml");
    write(&alone, "restart: {policy: always}\n");
    let p = Profile::load(&alone.display().to_string()).expect("standalone");
    assert!(p.init.is_none() && p.healthcheck.is_none() && p.restart.is_some());
    // Layers: a later one is merged over the earlier ones.
    let p = Profile::layered(&["production", &alone.display().to_string()]).expect("layers");
    assert_eq!(p.restart.map(|r| r.policy).as_deref(), Some("always"));
    assert!(p.init.is_some());
}

#[test]
fn built_in_profiles_differ_as_documented() {
    let minimal = Profile::load("minimal").expect("minimal");
    assert!(minimal.init.is_some() && minimal.restart.is_some() && minimal.logging.is_some());
    assert!(minimal.healthcheck.is_none() && minimal.resources.is_none() && minimal.ulimits.is_none());
    let orchestrated = Profile::load("orchestrated").expect("orchestrated");
    assert!(orchestrated.restart.is_none() && orchestrated.healthcheck.is_some());
}

#[test]
fn profiles_show_gives_the_resolved_profile_with_each_values_origin() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile-extends");
    let (out, err, code) = stderr(&dir, &["profiles", "show", "team.yml", "--origins"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("description: \"Payments services\"  # team.yml:4\n"), "{out}");
    assert!(out.contains("      images: [\"registry.example.com/payments/*\"]  # team.yml:10\n"), "{out}");
    assert!(out.contains("  interval: \"30s\"  # profiles/production.yml:30\n"), "{out}");
    assert!(!out.contains("\nulimits:"), "turned off");
    // What it shows is the profile itself, as a file of its own.
    let tmp = tempfile::tempdir().expect("temp dir");
    let shown = tmp.path().join("shown.yml");
    fs::write(&shown, &out).expect("write");
    let again = Profile::load(&shown.display().to_string()).expect("the shown profile reads back");
    let team = Profile::load(&dir.join("team.yml").display().to_string()).expect("team");
    assert_eq!(format!("{again:?}"), format!("{team:?}"));
    let (list, _, _) = stderr(&dir, &["profiles", "list"]);
    let names: Vec<&str> = list.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(names, ["production", "minimal", "orchestrated", "swarm", "strict"]);
}

#[test]
fn schema_profile_prints_the_checked_in_schema_and_the_example_follows_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (out, _, code) = stderr(root, &["schema", "profile"]);
    assert_eq!(code, 0);
    assert_eq!(out, fs::read_to_string(root.join("schemas/profile.schema.json")).expect("schema"));
    let schema: serde_json::Value = serde_json::from_str(&out).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let mut files: Vec<_> =
        compose_harden::profiles::BUILTIN.iter().map(|(n, y, _)| (n.to_string(), y.to_string())).collect();
    files.push((
        "examples/team-profile.yml".into(),
        fs::read_to_string(root.join("examples/team-profile.yml")).expect("example"),
    ));
    for (name, text) in files {
        let value: serde_json::Value = yaml_serde::from_str(&text).expect("yaml");
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    Profile::load(&root.join("examples/team-profile.yml").display().to_string()).expect("the example loads");
}
