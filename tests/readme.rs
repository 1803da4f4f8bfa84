//! The README shows what the tool does: each `check` format's output in the CI section is
//! the real output on `examples/check/compose.yml`, and the rules table lists every rule
//! with its anchor (SARIF's `helpUri` links to it), severity and summary.

mod common;

use compose_harden::passes::all_rules;
use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README")
}

/// A value below `path` (`runs.0.results.1`), pretty-printed as the command prints JSON.
fn select(value: &serde_json::Value, path: &str) -> String {
    let mut here = value;
    for key in path.split('.') {
        here = match key.parse::<usize>() {
            Ok(i) => &here[i],
            Err(_) => &here[key],
        };
    }
    serde_json::to_string_pretty(here).expect("JSON") + "\n"
}

/// Each `<!-- check-output: ARGS [| PATH] -->` in the README is followed by a fenced block
/// that holds what `compose-harden check ARGS` prints in examples/check (the value at PATH
/// of its JSON, where given).
#[test]
fn the_readme_shows_each_formats_real_output() {
    let text = readme();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/check");
    let mut formats = Vec::new();
    let mut failures = Vec::new();
    for (i, _) in text.match_indices("<!-- check-output: ") {
        let rest = &text[i + "<!-- check-output: ".len()..];
        let (spec, after) = rest.split_once(" -->").expect("a closed marker");
        let (args, path) = match spec.split_once(" | ") {
            Some((args, path)) => (args, Some(path)),
            None => (spec, None),
        };
        let block = after.split_once("```").and_then(|(_, b)| b.split_once('\n')).map(|(_, b)| b).expect("a block");
        let shown = &block[..block.find("```").expect("a closed block")];
        let mut all = vec!["check", "--color", "never"];
        all.extend(args.split_whitespace());
        let out = common::run(&dir, &all, b"");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let real = match path {
            Some(path) => select(&serde_json::from_str(&stdout).expect("JSON output"), path),
            None => stdout,
        };
        if real != shown {
            failures.push(format!("`check {args}`:\n--- README\n{shown}--- real\n{real}"));
        }
        let format = args.split_once("--format ").map_or("text", |(_, f)| f.split_whitespace().next().unwrap_or(""));
        formats.push(format.to_string());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for format in ["text", "concise", "json", "sarif", "github", "gitlab"] {
        assert!(formats.iter().any(|f| f == format), "the README shows no `--format {format}` output");
    }
}

/// The rules table: a row per rule, in the registry's order, each with its anchor, severity
/// and summary; the compose-lint and CIS columns filled where a counterpart exists.
#[test]
fn the_readme_lists_every_rule() {
    let text = readme();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| <a id=\"rule-")).collect();
    let ids: Vec<&str> = all_rules().iter().map(|r| r.id).collect();
    let listed: Vec<&str> = rows.iter().filter_map(|r| r.split('`').nth(1)).collect();
    assert_eq!(listed, ids, "the README's rules table is not the registry's list");
    for (row, rule) in rows.iter().zip(all_rules()) {
        let anchor = format!("<a id=\"rule-{}\"></a>", rule.id.replace('/', "-"));
        assert!(row.contains(&anchor), "{}: no anchor {anchor}", rule.id);
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells.get(1).copied(), Some(rule.severity.label()), "{}", rule.id);
        assert_eq!(cells.get(3).copied(), Some(rule.summary.replace('|', "\\|").as_str()), "{}", rule.id);
        let cis = rule.references.split(';').find_map(|r| r.trim().strip_prefix("CIS Docker Benchmark v1.7.0 "));
        if let Some(cis) = cis {
            assert!(cells.get(5).is_some_and(|c| c.contains(cis)), "{}: the CIS column lacks {cis}", rule.id);
        }
    }
    let mapped = rows.iter().filter(|r| r.contains("CL-00")).count();
    assert!(mapped >= 20, "only {mapped} rules name a compose-lint counterpart");
}
