//! The rules users look up are the rules the code emits: every finding and change names a
//! rule the registry declares, and every declared rule is emitted somewhere in the tests:
//! by a fixture (run here in-process, as its `args` say), by a pass's own cases (their
//! expected text, which those tests hold to what the pass plans), or it is on the short
//! list of rules neither can reach.

use compose_harden::document::spec::Spec;
use compose_harden::passes::{all_rules, find_rule};
use compose_harden::rule::Rule;
use compose_harden::{harden_project, layer_outcomes, Options, Profile, Project};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Rules that neither a fixture nor a pass case can show (those only an engine or a failure
/// of I/O gives, or the report layer alone), each with how it is emitted and where it is
/// tested. `load/include`, which the command never emits (it reads includes as the
/// project), is not among them: the file pass's case shows it, where a file is planned alone.
const UNREACHABLE: &[(&str, &str)] = &[(
    "load/failed",
    "the report layer's entry for a file the pipeline refused (no outcome holds it): every `check` format \
     writes it; fixtures check-failed-* and tests/sarif.rs (a_broken_file_is_a_failed_invocation_and_an_error_result)",
)];

/// A fixture as `apply` or `check` would run it: its profile, options and project (the file
/// named, or the `-f` files).
struct Run {
    name: String,
    input: PathBuf,
    layers: Vec<String>,
    profile: Profile,
    options: Options<'static>,
}

/// The fixtures whose `args` run `apply` or `check` on one file or one `-f` project with
/// options this test understands; the others (usage errors, directories, stdin) are left
/// out.
fn runs() -> Vec<Run> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root).expect("fixtures folder").flatten().map(|e| e.path()).collect();
    dirs.sort();
    dirs.iter().filter_map(|dir| run(dir)).collect()
}

fn run(dir: &Path) -> Option<Run> {
    let args = fs::read_to_string(dir.join("args")).unwrap_or_else(|_| "apply input.yml".into());
    // `--flag=value` reads as `--flag value`.
    let words: Vec<&str> = args.split_whitespace().flat_map(|w| w.splitn(2, '=')).collect();
    let (command, rest) = words.split_first()?;
    if !matches!(*command, "apply" | "check") {
        return None;
    }
    let mut options = Options { locate_changes: true, ..Options::default() };
    let (mut layers, mut no_config, mut sizing, mut allow_lower, mut input) = (Vec::new(), false, None, false, None);
    let mut files = Vec::new();
    let mut words = rest.iter();
    while let Some(word) = words.next() {
        match *word {
            "--enforce" => options.enforce = true,
            "--unsafe-fixes" => options.unsafe_fixes = true,
            "--no-config" => no_config = true,
            "--allow-lower" => allow_lower = true,
            "--profile" => {
                let named = *words.next()?;
                let builtin = compose_harden::profiles::BUILTIN.iter().any(|(n, ..)| *n == named);
                layers.push(if builtin { named.to_string() } else { dir.join(named).display().to_string() });
            }
            "--sizing" => sizing = Some(dir.join(words.next()?)),
            "--format" | "--fail-on" | "--color" => {
                words.next()?;
            }
            "--diff" | "--check" | "--quiet" | "--exit-zero" => {}
            "-f" | "--file" => files.push(dir.join(words.next()?).display().to_string()),
            file if !file.starts_with('-') && input.is_none() => input = Some(dir.join(file)),
            _ => return None,
        }
    }
    let input = input.or_else(|| files.first().map(PathBuf::from)).filter(|i| i.is_file())?;
    if layers.is_empty() {
        let team = dir.join("compose-harden.yml");
        layers.push(if team.exists() && !no_config { team.display().to_string() } else { "production".to_string() });
    }
    let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
    let mut profile = Profile::layered(&layers).ok()?;
    // As the command does: `--sizing`, else the sizing file the profile names.
    let named = profile.sizing.clone();
    let sized = match (sizing, &named) {
        (Some(file), _) => Some((file, 1.3, allow_lower)),
        (None, Some(s)) => Some((PathBuf::from(&s.file), s.headroom, s.allow_lower || allow_lower)),
        (None, None) => None,
    };
    if let Some((file, headroom, allow_lower)) = sized {
        let text = fs::read_to_string(&file).ok()?;
        let parsed = compose_harden::sizing::parse("sizing.yml", &text).ok()?;
        profile = profile.with_sizing(&parsed, headroom, allow_lower);
    }
    let name = dir.file_name()?.to_string_lossy().into_owned();
    Some(Run { name, input, layers: files, profile, options })
}

/// The rules each fixture's run emits: its findings, its changes and the fixes held back.
fn emitted() -> Vec<(String, Vec<&'static Rule>)> {
    let mut out = Vec::new();
    for run in runs() {
        // The project as the command loads it.
        let spec = match run.layers.is_empty() {
            true => Spec::named(&run.input.display().to_string(), &[]),
            false => Spec::layers(&run.layers, &[]),
        };
        let read = |file: &str| fs::read(file).map_err(|e| compose_harden::Error::new(file, e.to_string()));
        let Ok(project) = spec.and_then(|spec| Project::load(&spec, &read)) else { continue };
        let outcomes = match project.incomplete.is_some() {
            true => layer_outcomes(project),
            false => match harden_project(project, &run.profile, run.options) {
                Ok(outcomes) => outcomes,
                Err(_) => continue,
            },
        };
        let mut rules = Vec::new();
        for outcome in &outcomes {
            rules.extend(outcome.findings.iter().map(|(f, _)| f.rule));
            rules.extend(outcome.changes.iter().chain(&outcome.held).map(|c| c.rule));
        }
        out.push((run.name, rules));
    }
    out
}

/// The rules the passes' own cases show: lines of their expected text (`passes::testing`)
/// that are a change (`+ app: init = true  [init/missing]`) or a finding
/// (`info[init/own-init] app at image: ...`).
fn shown_by_pass_cases() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/passes");
    let mut shown = BTreeSet::new();
    for entry in fs::read_dir(&dir).expect("src/passes").flatten() {
        let text = fs::read_to_string(entry.path()).expect("a source file");
        let Some((_, cases)) = text.split_once("use crate::passes::testing::") else { continue };
        for line in cases.lines() {
            // A case's text may start on the line of its opening quote.
            let line = line.trim_start().trim_start_matches("r#\"").trim_start_matches('"');
            let id = if line.starts_with("+ ") || line.starts_with("~ ") {
                line.split("  [").nth(1).and_then(|rest| rest.split(']').next())
            } else {
                ["error[", "warning[", "info["]
                    .iter()
                    .find_map(|s| line.strip_prefix(s))
                    .and_then(|rest| rest.split(']').next())
            };
            shown.extend(id.filter(|id| id.contains('/')).map(str::to_string));
        }
    }
    shown
}

#[test]
fn every_emitted_rule_is_declared_and_every_declared_rule_is_emitted() {
    let runs = emitted();
    assert!(runs.len() >= 100, "only {} fixtures ran in-process", runs.len());
    let mut seen = BTreeSet::new();
    for (fixture, rules) in &runs {
        for rule in rules {
            // The very rule the registry holds, not another with its id.
            let declared = find_rule(rule.id).is_some_and(|r| std::ptr::eq(r, *rule));
            assert!(declared, "{fixture}: `{}` is emitted but not declared by any pass", rule.id);
            seen.insert(rule.id);
        }
    }
    let cases = shown_by_pass_cases();
    for (id, _) in UNREACHABLE {
        assert!(find_rule(id).is_some(), "`{id}` on the unreachable list is not declared");
        let reached = seen.contains(id) || cases.contains(*id);
        assert!(!reached, "`{id}` is emitted by a fixture or a pass case: take it off the unreachable list");
    }
    for id in &cases {
        assert!(find_rule(id).is_some(), "a pass case shows `{id}`, which no pass declares");
    }
    let never: Vec<&str> = all_rules()
        .iter()
        .map(|r| r.id)
        .filter(|id| !seen.contains(id) && !cases.contains(*id))
        .filter(|id| !UNREACHABLE.iter().any(|(u, _)| u == id))
        .collect();
    assert!(never.is_empty(), "declared, but neither a fixture nor a pass case emits them: {never:?}");
}
