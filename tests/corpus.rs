//! Real compose files from public projects (../shared/corpus or $COMPOSE_HARDEN_CORPUS):
//! every one hardens, stays accepted by the real Docker Compose, loses nothing and is a
//! fixed point. Skips with a notice where the corpus or the oracle is absent; CI requires both.

mod common;

use std::fs;
use std::path::PathBuf;

fn corpus_files() -> Option<Vec<PathBuf>> {
    let root = common::corpus()?;
    let mut files = Vec::new();
    for sub in ["awesome-compose", "casaos-appstore"] {
        let dir = root.join(sub);
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        files.extend(
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml")),
        );
    }
    files.sort();
    assert!(files.len() >= 200, "the corpus has {} files; expected the full set", files.len());
    Some(files)
}

#[test]
fn corpus_hardens_idempotently_and_loses_nothing() {
    let Some(files) = corpus_files() else { return };
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let mut failures = Vec::new();
    let mut changed = 0;
    for file in &files {
        let bytes = fs::read(file).expect("corpus file");
        let name = file.display().to_string();
        let outcome = match compose_harden::harden(&name, &bytes, &profile) {
            Ok(o) => o,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        changed += usize::from(outcome.changed());
        if let Err(e) = common::keeps_every_line(&outcome.input, &outcome.output) {
            failures.push(format!("{name}: {e}"));
        }
        match compose_harden::harden(&name, outcome.output.as_bytes(), &profile) {
            Ok(again) if again.changed() => failures.push(format!("{name}: a second apply changed it")),
            Ok(_) => {}
            Err(e) => failures.push(format!("{name}: the output does not harden again: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} corpus failures:\n{}", failures.len(), failures.join("\n"));
    assert!(changed * 10 >= files.len() * 9, "only {changed} of {} corpus files changed", files.len());
}

/// `--diff` on real files applies with `git apply` and yields exactly the hardened file.
#[test]
fn corpus_diffs_apply_with_git() {
    let Some(files) = corpus_files() else { return };
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for file in &files {
        let bytes = fs::read(file).expect("corpus file");
        let outcome = compose_harden::harden("compose.yml", &bytes, &profile).expect("hardens");
        fs::write(tmp.path().join("compose.yml"), &outcome.input).expect("write input");
        fs::write(tmp.path().join("patch.diff"), outcome.diff()).expect("write patch");
        let git = std::process::Command::new("git").args(["apply", "patch.diff"]).current_dir(tmp.path()).output();
        let Ok(git) = git else {
            common::missing("git");
            return;
        };
        let applied = fs::read_to_string(tmp.path().join("compose.yml")).expect("read");
        if !git.status.success() || applied != outcome.output {
            failures.push(format!("{}: {}", file.display(), String::from_utf8_lossy(&git.stderr)));
        }
    }
    assert!(failures.is_empty(), "diffs that do not apply:\n{}", failures.join("\n"));
}

/// `--enforce` too: every file hardens, and the result is a fixed point under --enforce.
#[test]
fn corpus_hardens_under_enforce_idempotently() {
    let Some(files) = corpus_files() else { return };
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let enforce = compose_harden::Options { enforce: true, ..Default::default() };
    let mut failures = Vec::new();
    for file in &files {
        let bytes = fs::read(file).expect("corpus file");
        let name = file.display().to_string();
        match compose_harden::harden_with(&name, &bytes, &profile, enforce) {
            Ok(once) => match compose_harden::harden_with(&name, once.output.as_bytes(), &profile, enforce) {
                Ok(twice) if twice.changed() => failures.push(format!("{name}: a second --enforce changed it")),
                Ok(_) => {}
                Err(e) => failures.push(format!("{name}: the output does not harden again: {e}")),
            },
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert!(failures.is_empty(), "{} corpus failures under --enforce:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn corpus_outputs_pass_docker_compose() {
    let Some(files) = corpus_files() else { return };
    let Some(oracle) = common::oracle() else { return };
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let tmp = tempfile::tempdir().expect("temp dir");
    // Half the files hardened plainly, half under --enforce: both must stay valid.
    let outputs: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let bytes = fs::read(file).expect("corpus file");
            let options = compose_harden::Options { enforce: i % 2 == 1, ..Default::default() };
            let outcome =
                compose_harden::harden_with(&file.display().to_string(), &bytes, &profile, options).expect("hardens");
            let out = tmp.path().join(file.file_name().expect("file name"));
            fs::write(&out, outcome.output).expect("write output");
            out
        })
        .collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let halves: Vec<_> = outputs
            .chunks(outputs.len().div_ceil(2))
            .map(|chunk| {
                s.spawn(|| {
                    chunk
                        .iter()
                        .filter_map(|f| {
                            common::oracle_accepts(&oracle, f).err().map(|e| format!("{}: {e}", f.display()))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().expect("oracle thread")).collect()
    });
    assert!(
        failures.is_empty(),
        "docker-compose rejects {} hardened corpus files:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Loaded as `up` loads them (interpolated, normalised, with Compose's consistency checks),
/// the hardened corpus files load wherever their inputs do (each beside its input, so that
/// relative paths resolve alike).
#[test]
fn corpus_outputs_load_as_up_loads_them() {
    let Some(files) = corpus_files() else { return };
    let Some(oracle) = common::oracle() else { return };
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let tmp = tempfile::tempdir().expect("temp dir");
    let pairs: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let bytes = fs::read(file).expect("corpus file");
            let options = compose_harden::Options { enforce: i % 2 == 1, ..Default::default() };
            let outcome =
                compose_harden::harden_with(&file.display().to_string(), &bytes, &profile, options).expect("hardens");
            let here = tmp.path().join(i.to_string());
            fs::create_dir_all(&here).expect("a folder per file");
            let (input, output) = (here.join("input.yml"), here.join("output.yml"));
            fs::write(&input, &bytes).expect("write input");
            fs::write(&output, outcome.output).expect("write output");
            (input, output)
        })
        .collect();
    let loaded = std::sync::atomic::AtomicUsize::new(0);
    let failures: Vec<String> = std::thread::scope(|s| {
        let halves: Vec<_> = pairs
            .chunks(pairs.len().div_ceil(2))
            .map(|chunk| {
                let (oracle, loaded) = (&oracle, &loaded);
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for (input, output) in chunk {
                        if common::oracle_loads_as_up(oracle, input, &[]).is_err() {
                            continue;
                        }
                        loaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if let Err(e) = common::oracle_loads_as_up(oracle, output, &[]) {
                            failures.push(format!("{}: {e}", output.display()));
                        }
                    }
                    failures
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().expect("oracle thread")).collect()
    });
    assert!(failures.is_empty(), "{} hardened corpus files no longer load:\n{}", failures.len(), failures.join("\n"));
    let loaded = loaded.into_inner();
    assert!(loaded * 2 >= files.len(), "only {loaded} of {} corpus inputs load as `up` loads them", files.len());
}

/// No probe without evidence: under `production` every healthcheck written comes from the
/// probe catalogue (`healthcheck/missing`); none is assumed (before, 139 services of these
/// 206 files got an assumed `GET /health`, 59 a catalogue probe). The counts are printed, and a
/// corpus that got no catalogue probe at all fails, so "no probe anywhere" cannot pass.
#[test]
fn no_corpus_file_gets_a_probe_without_evidence() {
    let Some(files) = corpus_files() else { return };
    let profile = compose_harden::Profile::load("production").expect("built-in profile");
    let (mut catalogue, mut without) = (0, Vec::new());
    for file in &files {
        let bytes = fs::read(file).expect("corpus file");
        let name = file.display().to_string();
        let Ok(outcome) = compose_harden::harden(&name, &bytes, &profile) else { continue };
        // Probes added; a repair of the user's own (`probe/curl-without-fail`) replaces one.
        let added = outcome.changes.iter().filter(|c| c.replaces.is_none() && c.path.join(".") == "healthcheck.test");
        for change in added {
            match change.rule.id {
                "healthcheck/missing" => catalogue += 1,
                other => without.push(format!("{name}: service `{}` ({other})", change.service)),
            }
        }
    }
    println!(
        "corpus: {} files, {catalogue} catalogue probes written, {} probes without evidence",
        files.len(),
        without.len()
    );
    assert!(without.is_empty(), "probes written without evidence:\n{}", without.join("\n"));
    assert!(catalogue > 0, "no catalogue probe was written anywhere in the corpus");
}

/// How often the security rules fire on real files, per rule: findings and the services
/// they are in (printed; run with `--nocapture` to read them in full). The counts are
/// what the README's rules section reports; each rule family must fire somewhere.
#[test]
fn corpus_security_rule_counts() {
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::Write;
    let Some(files) = corpus_files() else { return };
    let profile = compose_harden::Profile::load("strict").expect("built-in profile");
    let families = ["dangerous/", "mounts/", "image/", "credentials/", "security/no-new-privileges"];
    // Per rule: its findings, and the (file, service) pairs they are in.
    type Counts = BTreeMap<&'static str, (usize, BTreeSet<(String, String)>)>;
    let mut counts = Counts::new();
    let mut services = 0;
    for file in &files {
        let bytes = fs::read(file).expect("corpus file");
        let name = file.display().to_string();
        let Ok(outcome) = compose_harden::harden(&name, &bytes, &profile) else { continue };
        let doc = compose_harden::document::load(&name, &bytes).expect("it loaded once");
        services += doc.value.get("services").and_then(|s| s.as_mapping()).map_or(0, |m| m.len());
        for (finding, _) in &outcome.findings {
            if families.iter().any(|f| finding.rule.id.starts_with(f)) {
                let entry = counts.entry(finding.rule.id).or_default();
                entry.0 += 1;
                entry.1.insert((name.clone(), finding.service.clone()));
            }
        }
    }
    let mut text = format!("security rules on {} corpus files ({services} services), strict profile:\n", files.len());
    for (id, (findings, in_services)) in &counts {
        text.push_str(&format!("  {id:<40} {findings:>5} findings in {:>4} services\n", in_services.len()));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
    for family in &families[..4] {
        assert!(counts.keys().any(|id| id.starts_with(family)), "no `{family}` finding on the corpus:\n{text}");
    }
}
