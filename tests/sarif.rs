//! `check --format sarif` validates against the SARIF 2.1.0 schema (vendored with its
//! license under schemas/), and its fixes rebuild what `apply` writes.

mod common;

use std::path::Path;

fn sarif_of(dir: &Path, file: &str) -> serde_json::Value {
    let out = common::run(dir, &["check", "--format", "sarif", "--exit-zero", file], b"");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("schemas/sarif-2.1.0.json")).expect("schema"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let mut checked = 0;
    for case in ["check-sarif", "positions", "dangerous", "exercise2", "probe-repairs"] {
        let dir = root.join("tests/fixtures").join(case);
        let sarif = sarif_of(&dir, "input.yml");
        let errors: Vec<String> =
            validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{case}: {}", errors.join("\n"));
        // GitHub code scanning requires both texts on every rule.
        for rule in sarif["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules") {
            assert!(rule["fullDescription"]["text"].as_str().is_some_and(|t| !t.is_empty()));
            assert!(rule["help"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        }
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// Applying every result's fix, as a code-scanning client would, gives `apply`'s output.
#[test]
fn sarif_fixes_rebuild_the_hardened_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for case in
        ["check-sarif", "exercise2", "probe-repairs", "anchors", "shared-block-written-once", "shared-block-differs"]
    {
        let dir = root.join("tests/fixtures").join(case);
        let input = std::fs::read_to_string(dir.join("input.yml")).expect("input");
        let sarif = sarif_of(&dir, "input.yml");
        let mut replacements: Vec<(usize, usize, String)> = Vec::new();
        for result in sarif["runs"][0]["results"].as_array().expect("results") {
            for fix in result["fixes"].as_array().into_iter().flatten() {
                for change in fix["artifactChanges"].as_array().expect("changes") {
                    for r in change["replacements"].as_array().expect("replacements") {
                        let at = r["deletedRegion"]["charOffset"].as_u64().expect("offset") as usize;
                        let len = r["deletedRegion"]["charLength"].as_u64().expect("length") as usize;
                        replacements.push((at, len, r["insertedContent"]["text"].as_str().unwrap_or("").to_string()));
                    }
                }
            }
        }
        replacements.sort();
        let chars: Vec<char> = input.chars().collect();
        let (mut out, mut at) = (String::new(), 0);
        for (start, len, text) in replacements {
            out.extend(&chars[at..start]);
            out.push_str(&text);
            at = start + len;
        }
        out.extend(&chars[at..]);
        let applied = common::run(&dir, &["apply", "input.yml"], b"");
        assert_eq!(out, String::from_utf8_lossy(&applied.stdout), "{case}");
    }
}

fn run_sarif(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["check", "--format", "sarif", "--exit-zero"];
    all.extend(args);
    let out = common::run(dir, &all, b"");
    let sarif = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), sarif)
}

fn validate(sarif: &serde_json::Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("schemas/sarif-2.1.0.json")).expect("schema"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator.iter_errors(sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// What GitHub code scanning reads: each rule's name, an absolute help link to its README
/// section, markdown help, tags and (security rules) a security severity in its bands;
/// each result's path relative to %SRCROOT% (declared in originalUriBaseIds) and its own
/// line-independent fingerprint.
#[test]
fn sarif_follows_github_code_scanning_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let dir = root.join("tests/fixtures/security-rules");
    let (_, sarif) = run_sarif(&dir, &["input.yml"]);
    validate(&sarif);
    let run = &sarif["runs"][0];
    for rule in run["tool"]["driver"]["rules"].as_array().expect("rules") {
        let id = rule["id"].as_str().expect("id");
        assert!(rule["name"].as_str().is_some_and(|n| n.chars().all(char::is_alphanumeric)), "{id}");
        let help = rule["helpUri"].as_str().expect("helpUri");
        let anchor = help.split_once('#').expect("an anchor").1;
        assert!(help.starts_with("https://"), "{id}: {help}");
        assert!(readme.contains(&format!("<a id=\"{anchor}\"></a>")), "{id}: the README has no section #{anchor}");
        assert!(rule["help"]["markdown"].as_str().is_some_and(|m| m.contains(id)), "{id}");
        let tags: Vec<&str> =
            rule["properties"]["tags"].as_array().expect("tags").iter().filter_map(|t| t.as_str()).collect();
        let security =
            ["dangerous/", "mounts/", "image/", "credentials/", "security/"].iter().any(|p| id.starts_with(p));
        assert_eq!(tags.contains(&"security"), security, "{id}: {tags:?}");
        match rule["properties"]["security-severity"].as_str() {
            Some(s) => {
                let score: f64 = s.parse().expect("a number as a string");
                assert!(security && (0.0..=10.0).contains(&score), "{id}: {s}");
                let band = match rule["defaultConfiguration"]["level"].as_str() {
                    Some("error") => 7.0..9.0,
                    Some("warning") => 4.0..7.0,
                    _ => 0.1..4.0,
                };
                assert!(band.contains(&score), "{id}: {s} is outside its level's band");
            }
            None => assert!(!security, "{id} has no security-severity"),
        }
    }
    let base = &run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    assert!(base.as_str().is_some_and(|u| u.starts_with("file:///") && u.ends_with('/')), "{base}");
    let results = run["results"].as_array().expect("results");
    assert!(results.len() > 20);
    let mut hashes = std::collections::HashSet::new();
    for r in results {
        let location = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uriBaseId"], "%SRCROOT%");
        assert_eq!(location["uri"], "tests/fixtures/security-rules/input.yml");
        let hash = r["partialFingerprints"]["primaryLocationLineHash"].as_str().expect("a line hash");
        assert!(hashes.insert(hash.to_string()), "two results share {hash}");
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

/// The same file named absolutely, through `..`, or from another folder gives the same
/// URIs and fingerprints; a line added above moves no fingerprint.
#[test]
fn sarif_paths_and_fingerprints_do_not_depend_on_how_the_file_was_named() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/fixtures/security-rules");
    let prints = |sarif: &serde_json::Value| -> Vec<(String, String)> {
        sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or("");
                (
                    uri.to_string(),
                    r["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let plain = prints(&run_sarif(&dir, &["input.yml"]).1);
    let absolute = dir.join("input.yml").display().to_string();
    assert_eq!(prints(&run_sarif(&dir, &[&absolute]).1), plain);
    assert_eq!(prints(&run_sarif(&dir, &["../security-rules/./input.yml"]).1), plain);
    assert_eq!(prints(&run_sarif(root, &["tests/fixtures/security-rules/input.yml"]).1), plain);
    assert!(plain.iter().all(|(uri, _)| !uri.contains("..") && !uri.starts_with('/')));
    // Lines moved: a comment above every service.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(tmp.path().join(".git")).expect(".git");
    let text = std::fs::read_to_string(dir.join("input.yml")).expect("input");
    std::fs::write(tmp.path().join("input.yml"), &text).expect("write");
    let before = prints(&run_sarif(tmp.path(), &["input.yml"]).1);
    std::fs::write(tmp.path().join("input.yml"), format!("# moved\n\n{text}")).expect("write");
    assert_eq!(prints(&run_sarif(tmp.path(), &["input.yml"]).1), before);
}

/// A file that cannot be parsed is a failed invocation with a notification at its place
/// and an error result, so that code scanning never shows it clean.
#[test]
fn a_broken_file_is_a_failed_invocation_and_an_error_result() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("compose.yml"), "services:\n  web:\n    image: [\n").expect("write");
    std::fs::write(tmp.path().join("docker-compose.prod.yml"), "services:\n  ok:\n    image: nginx:1.27\n")
        .expect("write");
    let (code, sarif) = run_sarif(tmp.path(), &["."]);
    assert_eq!(code, 2);
    validate(&sarif);
    let run = &sarif["runs"][0];
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert_eq!(note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "compose.yml");
    assert!(note["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().is_some());
    let failed: Vec<_> =
        run["results"].as_array().expect("results").iter().filter(|r| r["ruleId"] == "load/failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["level"], "error");
    // The readable file is still reported.
    assert!(run["results"].as_array().expect("results").iter().any(|r| r["ruleId"] == "init/missing"));
}

/// Baselined findings are left out of SARIF (code scanning reads no baseline), unless asked.
#[test]
fn baselined_findings_are_left_out_unless_asked_for() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("compose.yml"), "services:\n  web:\n    image: nginx:1.27\n").expect("write");
    let out = common::run(tmp.path(), &["check", "--write-baseline", "base.json"], b"");
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(tmp.path().join("compose.yml"), "services:\n  web:\n    image: nginx:1.27\n    privileged: true\n")
        .expect("write");
    let (_, sarif) = run_sarif(tmp.path(), &["--baseline", "base.json"]);
    let ids: Vec<&str> =
        sarif["runs"][0]["results"].as_array().expect("results").iter().filter_map(|r| r["ruleId"].as_str()).collect();
    assert_eq!(ids, ["dangerous/privileged"]);
    let (_, sarif) = run_sarif(tmp.path(), &["--baseline", "base.json", "--include-baselined"]);
    validate(&sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() > 3);
    for r in results {
        let known = r["ruleId"] != "dangerous/privileged";
        assert_eq!(r.get("baselineState").is_some(), known, "{r}");
    }
}
