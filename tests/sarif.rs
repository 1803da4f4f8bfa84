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
