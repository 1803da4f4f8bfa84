//! Resource limits a service can live with: no memory limit the tool writes is below
//! heap / max_heap_percent of the JVM heap the service's own environment or command names
//! (read here independently of the tool), over the fixtures, the examples and the corpus;
//! and the profile's classes each say why, and never ask for more than one CPU.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use yaml_serde::Value;

const HEAP_VARIABLES: [&str; 10] = [
    "JAVA_OPTS",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "JAVA_OPTS_APPEND",
    "CATALINA_OPTS",
    "ES_JAVA_OPTS",
    "OPENSEARCH_JAVA_OPTS",
    "KAFKA_HEAP_OPTS",
    "INSTALL4J_ADD_VM_PARAMS",
];

/// `1g`, `768m`, `2048k`, bytes; None for anything else.
fn size(text: &str) -> Option<f64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let n: f64 = text[..digits].parse().ok()?;
    let power = match text[digits..].to_ascii_lowercase().as_str() {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        _ => return None,
    };
    Some(n * 1024f64.powi(power))
}

/// Compose sizes (`512M`, `1408M`, `2G`, `1.5g`).
fn compose_size(value: &Value) -> Option<f64> {
    let text = match value {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        Value::Number(n) => return n.as_f64(),
        _ => return None,
    };
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let n: f64 = text[..split].parse().ok()?;
    let unit = text[split..].trim_end_matches('b');
    let power = ["", "k", "m", "g", "t"].iter().position(|u| *u == unit)?;
    Some(n * 1024f64.powi(power as i32))
}

/// The largest readable heap among the words of a service's heap variables and command.
fn heap(service: &Value) -> Option<f64> {
    let mut words: Vec<String> = Vec::new();
    match service.get("environment") {
        Some(Value::Mapping(m)) => {
            for var in HEAP_VARIABLES {
                if let Some(v) = m.get(var).and_then(Value::as_str) {
                    words.extend(v.split_whitespace().map(str::to_string));
                }
            }
        }
        Some(Value::Sequence(items)) => {
            for item in items.iter().filter_map(Value::as_str) {
                if let Some((k, v)) = item.split_once('=') {
                    if HEAP_VARIABLES.contains(&k) {
                        words.extend(v.split_whitespace().map(str::to_string));
                    }
                }
            }
        }
        _ => {}
    }
    for key in ["command", "entrypoint"] {
        match service.get(key) {
            Some(Value::String(s)) => words.extend(s.split_whitespace().map(str::to_string)),
            Some(Value::Sequence(items)) => {
                for item in items.iter().filter_map(Value::as_str) {
                    words.extend(item.split_whitespace().map(str::to_string));
                }
            }
            _ => {}
        }
    }
    words
        .iter()
        .filter_map(|w| w.strip_prefix("-Xmx").or_else(|| w.strip_prefix("-XX:MaxHeapSize=")).and_then(size))
        .reduce(f64::max)
}

fn percent(profile: &compose_harden::Profile, service: &Value) -> f64 {
    let rule = profile.resources.as_ref().expect("resources rule");
    let repo = service.get("image").and_then(Value::as_str).map(|i| compose_harden::profile::image_parts(i).0);
    // The first class whose pattern matches, read here by a plain scan.
    let class = repo.and_then(|r| {
        rule.classes.iter().find(|c| c.images.iter().any(|p| compose_harden::profile::glob_match(p, &r)))
    });
    class.and_then(|c| c.max_heap_percent).or(profile.limits.as_ref().map(|l| l.max_heap_percent)).unwrap_or(75.0)
}

/// Checks one file: every written memory limit fits the heap. Returns how many services
/// name a readable heap.
fn check(name: &str, input: &[u8], profile: &compose_harden::Profile, failures: &mut Vec<String>) -> usize {
    let Ok(outcome) = compose_harden::harden(name, input, profile) else { return 0 };
    let (Ok(before), Ok(after)) = (
        compose_harden::document::load(name, outcome.input.as_bytes()),
        compose_harden::document::load(name, outcome.output.as_bytes()),
    ) else {
        return 0;
    };
    let (Some(before), Some(after)) = (before.services().cloned(), after.services().cloned()) else { return 0 };
    let mut heaps = 0;
    for (key, service) in &after {
        let Some(heap) = heap(service) else { continue };
        heaps += 1;
        let path =
            |s: &Value| -> Option<Value> { s.get("deploy")?.get("resources")?.get("limits")?.get("memory").cloned() };
        let written = path(service).filter(|_| before.get(key).and_then(path).is_none());
        let Some(limit) = written.as_ref().and_then(compose_size) else { continue };
        let need = heap / (percent(profile, service) / 100.0);
        if limit < need {
            failures.push(format!(
                "{name}: service {key:?} got a memory limit of {} bytes for a heap of {heap} bytes (needs {need})",
                limit
            ));
        }
    }
    heaps
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| {
            d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml")).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn no_written_memory_limit_is_below_the_services_own_heap() {
    let profile = compose_harden::Profile::load("production").expect("profile");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let mut fixture_heaps = 0;
    for dir in fs::read_dir(root.join("tests/fixtures")).expect("fixtures").flatten() {
        let input = dir.path().join("input.yml");
        if let Ok(bytes) = fs::read(&input) {
            fixture_heaps += check(&input.display().to_string(), &bytes, &profile, &mut failures);
        }
    }
    for file in yaml_files(&root.join("examples")) {
        let bytes = fs::read(&file).expect("example");
        check(&file.display().to_string(), &bytes, &profile, &mut failures);
    }
    if let Some(corpus) = common::corpus() {
        for sub in ["awesome-compose", "casaos-appstore", "compose-go-testdata"] {
            for file in yaml_files(&corpus.join(sub)) {
                let bytes = fs::read(&file).expect("corpus file");
                check(&file.display().to_string(), &bytes, &profile, &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "memory limits below the heap:\n{}", failures.join("\n"));
    assert!(fixture_heaps >= 10, "only {fixture_heaps} heap-bearing services in the fixtures");
}

#[test]
fn every_resource_class_says_why_and_asks_for_at_most_one_cpu() {
    let profile = compose_harden::Profile::load("production").expect("profile");
    let rule = profile.resources.expect("resources rule");
    assert!(rule.classes.len() >= 10, "the production profile lost its classes");
    for class in &rule.classes {
        assert!(class.why.trim().len() >= 20, "class {} has no reason", class.name);
        assert!(!class.images.is_empty(), "class {} matches no image", class.name);
        for cpus in [&class.limits.cpus, &class.reservations.cpus].into_iter().flatten() {
            let n: f64 = cpus.parse().expect("a number of CPUs");
            assert!(n <= 1.0, "class {} asks for {cpus} CPUs", class.name);
        }
        let limit = class.limits.memory.as_deref().and_then(|m| compose_size(&Value::from(m)));
        let reservation = class.reservations.memory.as_deref().and_then(|m| compose_size(&Value::from(m)));
        if let (Some(l), Some(r)) = (limit, reservation) {
            assert!(r <= l, "class {} reserves more memory than its limit", class.name);
        }
        assert!(!class.measure || (class.limits.cpus.is_none() && class.limits.memory.is_none()), "{}", class.name);
    }
    for name in ["databases", "search engines", "brokers", "JVM platforms", "LLM and ML inference", "media servers"] {
        assert!(rule.classes.iter().any(|c| c.name == name), "no class {name}");
    }
}
