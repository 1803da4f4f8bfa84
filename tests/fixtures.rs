//! Fixture tests: each folder under tests/fixtures holds `input.yml` (fed to standard input
//! too; a project whose files must have Compose's names may do without it), optional
//! `args` (default `apply input.yml`), and the exact `stdout`, `stderr` and exit `code`
//! expected. `BLESS=1 cargo test --test fixtures` rewrites the expectations.

mod common;

use std::fs;
use std::path::Path;

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let bless = std::env::var_os("BLESS").is_some();
    let mut dirs: Vec<_> = fs::read_dir(&root).expect("fixtures folder").flatten().map(|e| e.path()).collect();
    dirs.sort();
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let args = fs::read_to_string(dir.join("args")).unwrap_or_else(|_| "apply input.yml".into());
        let args: Vec<&str> = args.split_whitespace().collect();
        let input = fs::read(dir.join("input.yml")).unwrap_or_default();
        let out = common::run(dir, &args, &input);
        // SARIF names the repository's root (this checkout) by its absolute path.
        let here = format!("file://{}/", env!("CARGO_MANIFEST_DIR"));
        let stdout = match std::str::from_utf8(&out.stdout) {
            Ok(text) if text.contains(&here) => text.replace(&here, "file:///REPOSITORY/").into_bytes(),
            _ => out.stdout.clone(),
        };
        let actual = [
            ("stdout", stdout),
            ("stderr", out.stderr.clone()),
            ("code", format!("{}\n", out.status.code().unwrap_or(-1)).into_bytes()),
        ];
        for (file, got) in actual {
            let path = dir.join(file);
            if bless {
                if got.is_empty() && file != "code" {
                    let _ = fs::remove_file(&path);
                } else {
                    fs::write(&path, &got).expect("write expectation");
                }
                continue;
            }
            let want = fs::read(&path).unwrap_or_default();
            if want != got {
                failures.push(format!(
                    "{name}/{file}:\n--- expected\n{}\n--- actual\n{}",
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} fixture outputs differ:\n{}", failures.len(), failures.join("\n"));
    assert!(dirs.len() >= 30, "the fixtures folder lost cases");
}

/// A fixture whose stdout is hardened YAML: it succeeds and its `args` are at most
/// `apply [--enforce] [--profile FILE] input.yml`.
struct YamlFixture {
    dir: std::path::PathBuf,
    enforce: bool,
    unsafe_fixes: bool,
    profile: compose_harden::Profile,
    /// The image facts beside the input, as the command finds them.
    facts: Option<compose_harden::facts::Facts>,
}

fn yaml_fixtures() -> Vec<YamlFixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<_> = fs::read_dir(&root).expect("fixtures folder").flatten().map(|e| e.path()).collect();
    dirs.sort();
    dirs.into_iter()
        .filter(|d| fs::read_to_string(d.join("code")).unwrap_or_default().trim() == "0")
        .filter_map(|dir| {
            let args = fs::read_to_string(dir.join("args")).unwrap_or_else(|_| "apply input.yml".into());
            let words: Vec<&str> = args.split_whitespace().collect();
            let (mut enforce, mut layers, mut no_config, mut unsafe_fixes) = (false, Vec::new(), false, false);
            let mut sizing = None;
            let mut i = 1;
            while i < words.len() {
                match words[i] {
                    "--enforce" => enforce = true,
                    "--no-config" => no_config = true,
                    "--unsafe-fixes" => unsafe_fixes = true,
                    "--sizing" => {
                        i += 1;
                        let text = fs::read_to_string(dir.join(words.get(i)?)).expect("sizing file");
                        sizing = Some(compose_harden::sizing::parse("sizing.yml", &text).expect("a sizing file"));
                    }
                    "--profile" => {
                        i += 1;
                        let named = *words.get(i)?;
                        let builtin = compose_harden::profiles::BUILTIN.iter().any(|(n, ..)| *n == named);
                        layers.push(if builtin { named.to_string() } else { dir.join(named).display().to_string() });
                    }
                    "input.yml" => {}
                    _ => return None,
                }
                i += 1;
            }
            // As the command finds it: the team profile beside the file, else production.
            if layers.is_empty() {
                let team = dir.join("compose-harden.yml");
                let found = team.exists() && !no_config;
                layers.push(if found { team.display().to_string() } else { "production".to_string() });
            }
            let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
            let profile = compose_harden::Profile::layered(&layers).expect("fixture profile");
            let profile = match &sizing {
                Some(sizing) => profile.with_sizing(sizing, 1.3, false),
                None => profile,
            };
            let facts = fs::read_to_string(dir.join(compose_harden::facts::FILE_NAME))
                .ok()
                .map(|text| compose_harden::facts::parse("facts", &text).expect("the fixture's image facts"));
            Some(YamlFixture { dir, enforce, unsafe_fixes, profile, facts })
        })
        .collect()
}

/// Every hardened fixture output is a fixed point under the same options, and (without
/// --enforce, which may rewrite a value) keeps all of its input.
#[test]
fn fixture_outputs_are_idempotent() {
    for fixture in yaml_fixtures() {
        let dir = &fixture.dir;
        let options = compose_harden::Options {
            enforce: fixture.enforce,
            unsafe_fixes: fixture.unsafe_fixes,
            facts: fixture.facts.as_ref(),
            ..Default::default()
        };
        let stdout = fs::read(dir.join("stdout")).expect("stdout of a successful fixture");
        let again = compose_harden::harden_with("again.yml", &stdout, &fixture.profile, options)
            .expect("the output hardens again");
        assert!(!again.changed(), "{}: a second apply changed:\n{}", dir.display(), again.output);
        // Additions keep every input byte; a replacement (a repair, or --enforce) may
        // rewrite the value it replaces.
        let input = fs::read(dir.join("input.yml")).expect("input");
        let once = compose_harden::harden_with("input.yml", &input, &fixture.profile, options).expect("hardens");
        if !once.changes.iter().any(|c| c.replaces.is_some()) {
            common::keeps_every_line(&once.input, &again.output).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
    }
}

/// The oracle itself: it must reject what Compose rejects, or every check below is empty.
#[test]
fn oracle_rejects_an_invalid_file() {
    let Some(oracle) = common::oracle() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let bad = tmp.path().join("bad.yml");
    fs::write(&bad, "services:\n  a:\n    image: x\n    restrat: always\n").expect("write");
    assert!(common::oracle_accepts(&oracle, &bad).is_err(), "the oracle accepted an unknown key");
    let good = tmp.path().join("good.yml");
    fs::write(&good, "services:\n  a:\n    image: x\n").expect("write");
    assert_eq!(common::oracle_accepts(&oracle, &good), Ok(()));
}

/// The real Docker Compose accepts every hardened fixture output.
#[test]
fn fixture_outputs_pass_docker_compose() {
    let Some(oracle) = common::oracle() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for YamlFixture { dir, .. } in yaml_fixtures() {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        // `oracle.skip` says why Compose cannot run this one: its input names a file that
        // is missing on purpose, or keys newer than the oracle (those outputs are held to
        // the embedded, newer schema instead).
        if dir.join("oracle.skip").exists() {
            let output = fs::read(dir.join("stdout")).expect("stdout of a successful fixture");
            let doc = compose_harden::document::load("stdout", output).expect("the output loads");
            if let Err(e) = compose_harden::validate::check(&doc) {
                failures.push(format!("{name}: the embedded schema refuses the output: {e}"));
            }
            continue;
        }
        // Each output beside the fixture's other files (bases of `extends`, includes).
        let here = tmp.path().join(&name);
        common::copy_dir(&dir, &here);
        let file = here.join("input.yml");
        fs::copy(dir.join("stdout"), &file).expect("copy output");
        // `oracle.env` (KEY=VALUE lines): what the interpolated run needs, where a raw
        // `${VAR}` cannot meet a pattern before interpolation.
        let env: Vec<(String, String)> = fs::read_to_string(dir.join("oracle.env"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .collect();
        if let Err(e) = common::oracle_accepts_with(&oracle, &file, &env) {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        // As `up` loads it (interpolated, normalised, Compose's consistency checks), the
        // output loads wherever the input does.
        if let Err(e) = common::oracle_loads_as_up(&oracle, &file, &env) {
            let input = here.join("input.original.yml");
            fs::copy(dir.join("input.yml"), &input).expect("copy the input");
            if common::oracle_loads_as_up(&oracle, &input, &env).is_ok() {
                failures.push(format!("{name}, loaded as `up` loads it (the input loads): {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "docker-compose rejects:\n{}", failures.join("\n"));
}

/// A fixture's `compose-config.txt` is Compose's own `config` of its input (project name:
/// the fixture's), so that what its findings say Compose does is held against Compose.
#[test]
fn fixture_compose_configs_are_what_compose_says() {
    let Some(oracle) = common::oracle() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut checked = 0;
    for dir in fs::read_dir(&root).expect("fixtures folder").flatten().map(|e| e.path()) {
        let Ok(want) = fs::read_to_string(dir.join("compose-config.txt")) else { continue };
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let out = std::process::Command::new(&oracle)
            .args(["-f", "input.yml", "-p", &name, "config"])
            .current_dir(&dir)
            .output()
            .expect("the oracle runs");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{name}: Compose's config differs");
        checked += 1;
    }
    assert!(checked >= 1, "no fixture holds Compose's config");
}
