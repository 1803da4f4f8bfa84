//! The modules' layering, checked on the sources: each top-level module of `src/` may name
//! (`crate::module`, in `use` lines or in paths) only the modules below it in [`ALLOWED`],
//! and that table has no circle. So no import circle can come back, and nothing below
//! `passes/` can reach up to it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// What each module may use, lowest layers first. `lib` is the crate root (`harden_with`,
/// `Outcome`); `main`, `cli` and `engine` are the binary's, which use the library as
/// `compose_harden::` freely.
const ALLOWED: &[(&str, &[&str])] = &[
    // What a rule is, how values are spelled, errors, suggestions: no dependencies.
    ("rule", &[]),
    ("error", &[]),
    ("units", &[]),
    ("suggest", &[]),
    ("quote", &[]),
    // What passes return.
    ("plan", &["rule"]),
    // The file as read.
    ("document", &["error", "units"]),
    ("sizing", &["error", "units"]),
    // What a profile says: the settings passes read.
    ("profile", &["document", "error", "sizing", "units"]),
    // What the engine said of the images (the facts file): data passes read, like sizes;
    // the tools it looks for include those the profile's probes call.
    ("facts", &["document", "error", "profile", "quote", "units"]),
    // The passes, and the registry of rules built from them.
    ("passes", &["document", "facts", "plan", "profile", "rule", "sizing", "units"]),
    // After planning: the gate, the edit, the checks. None of them consults the passes.
    ("gate", &["plan", "profile", "rule"]),
    ("edit", &["document", "plan", "quote"]),
    ("validate", &["document", "error", "plan", "rule", "suggest", "units"]),
    // Reading profile files: it checks the rule ids a profile names against the registry.
    ("profiles", &["document", "error", "passes", "profile", "rule", "suggest", "units"]),
    // The pipeline.
    ("lib", &["document", "edit", "error", "facts", "gate", "passes", "plan", "profile", "rule", "validate"]),
    // What users read, built from the outcome.
    ("report", &["edit", "lib", "passes", "plan", "rule"]),
    // The binary.
    ("engine", &[]),
    ("cli", &["engine"]),
    ("main", &["cli", "engine"]),
];

/// Items the crate root re-exports from a lower module: naming them is naming that module.
const REEXPORTS: &[(&str, &str)] = &[("Profile", "profile"), ("Error", "error")];

/// The module a file belongs to: `src/passes/init.rs` is `passes`, `src/lib.rs` is `lib`.
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned());
    first.unwrap_or_default().trim_end_matches(".rs").to_string()
}

/// The modules a file's code names as `crate::module` (comments left out). A name the root
/// re-exports counts as its module; any other item of the root as `lib`.
fn named(text: &str, own: &str) -> BTreeSet<String> {
    let modules: Vec<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let is_path =
                at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric() && rest.as_bytes()[at - 1] != b'_';
            rest = after;
            if !is_path {
                continue;
            }
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let module = match REEXPORTS.iter().find(|(item, _)| *item == name) {
                Some((_, module)) => module.to_string(),
                None if modules.contains(&name.as_str()) => name,
                None => "lib".to_string(),
            };
            if module != own {
                found.insert(module);
            }
        }
    }
    found
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn each_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = module_of(relative);
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!("src/{}: module `{module}` has no place in the layering", relative.display()));
            continue;
        };
        let text = fs::read_to_string(file).expect("a source file");
        for used in named(&text, &module) {
            if !may.contains(&used.as_str()) {
                wrong.push(format!("src/{}: `{module}` uses `{used}`", relative.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering:\n{}", wrong.join("\n"));
    assert!(files.len() > 80, "only {} source files found", files.len());
}

/// The table itself is a layering: each module uses only modules listed before it.
#[test]
fn the_layering_has_no_circle() {
    for (i, (module, uses)) in ALLOWED.iter().enumerate() {
        for used in *uses {
            let at = ALLOWED.iter().position(|(m, _)| m == used);
            assert!(at.is_some_and(|at| at < i), "`{module}` uses `{used}`, which is not below it");
        }
    }
}

#[test]
fn the_check_sees_grouped_paths_and_root_items() {
    let text = "use crate::passes::PASSES;\nlet x = crate::Profile::load(y); // crate::edit\nuse crate::Outcome;\n";
    let found: Vec<String> = named(text, "gate").into_iter().collect();
    assert_eq!(found, ["lib", "passes", "profile"]);
}
