//! The JVM heap a service's own environment or command names: what a memory limit must
//! leave room for. Not a pass: read once per service, `resources` sizes its limit from it
//! and `limits` checks a user's limit against it. Besides the JVM's options, the variables
//! images read their heap from (Atlassian's, Cassandra's, Neo4j's); the generic names
//! UniFi and itzg/minecraft use (`MEM_LIMIT`, `MEMORY`) only where the image is a JVM (a
//! `java` on its PATH, by the image facts) or is that image.

use crate::document::lookup;
use yaml_serde::{Mapping, Value};

/// Variables the JVM, its launchers and common images read options from.
pub const VARIABLES: [&str; 10] = [
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

/// Variables whose value is the heap itself, with the option each becomes.
pub const HEAP_VARIABLES: [&str; 4] = [
    // Atlassian's Jira, Confluence and Bitbucket images: -Xmx.
    "JVM_MAXIMUM_MEMORY",
    // Cassandra's cassandra-env.sh: -Xmx.
    "MAX_HEAP_SIZE",
    // Neo4j 5 and 4: server.memory.heap.max_size, dbms.memory.heap.max_size.
    "NEO4J_server_memory_heap_max__size",
    "NEO4J_dbms_memory_heap_max__size",
];

/// Generic names read only for a JVM image: UniFi's `MEM_LIMIT` (bare digits are MB) and
/// itzg/minecraft-server's `MAX_MEMORY`, else `MEMORY` (1G where unset).
pub const JVM_ONLY_VARIABLES: [&str; 3] = ["MEM_LIMIT", "MAX_MEMORY", "MEMORY"];

/// Whether `source` is a variable of the service's environment.
pub fn is_variable(source: &str) -> bool {
    VARIABLES.contains(&source) || HEAP_VARIABLES.contains(&source) || JVM_ONLY_VARIABLES.contains(&source)
}

/// `-XX:MaxRAMPercentage`'s default: the share of `-XX:MaxRAM` the heap takes.
const DEFAULT_RAM_PERCENT: f64 = 25.0;

/// What the service says of its heap.
#[derive(Debug, Clone, PartialEq)]
pub enum Heap {
    /// The largest heap named, in bytes, and where (`JAVA_OPTS` `-Xmx1g`).
    Known { bytes: f64, source: String, option: String },
    /// A heap option whose size is not known before interpolation (`-Xmx${HEAP}`).
    Unknown { source: String, option: String },
}

/// What a service's JVM options say: its heap, and any `-XX:MaxRAMPercentage` given in
/// a variable (the share of the memory limit the heap takes), with where each is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Jvm {
    pub heap: Option<Heap>,
    pub ram_percentages: Vec<(&'static str, String, f64)>,
}

/// Reads the heap the service names, if any. Several options: the largest, since the JVM
/// takes the last and `_JAVA_OPTIONS` overrides the command line, so any of them may win.
/// An unreadable one makes the whole answer unknown.
pub fn read(service: &Mapping, jvm_image: bool, repo: Option<&str>) -> Jvm {
    let mut found: Vec<(&'static str, String)> = Vec::new();
    let sized = |var: &'static str, value: String| (var, format!("-Xmx{}", value.trim()));
    for var in HEAP_VARIABLES {
        found.extend(super::env(service, var).map(|v| sized(var, v)));
    }
    let unifi = repo.is_some_and(|r| r.contains("unifi"));
    let minecraft = repo.is_some_and(|r| r.ends_with("itzg/minecraft-server"));
    if jvm_image || unifi {
        if let Some(limit) = super::env(service, "MEM_LIMIT").filter(|v| v != "default") {
            // Bare digits are megabytes, as both UniFi images read them.
            let limit = if limit.bytes().all(|b| b.is_ascii_digit()) { format!("{limit}m") } else { limit };
            found.push(sized("MEM_LIMIT", limit));
        }
    }
    if jvm_image || minecraft {
        match (super::env(service, "MAX_MEMORY"), super::env(service, "MEMORY")) {
            (Some(max), _) => found.push(sized("MAX_MEMORY", max)),
            (None, Some(memory)) => found.push(sized("MEMORY", memory)),
            (None, None) if minecraft => found.push(("itzg/minecraft-server's default MEMORY", "-Xmx1G".into())),
            (None, None) => {}
        }
    }
    let mut ram_percentages = Vec::new();
    for var in VARIABLES {
        if let Some(options) = super::env(service, var) {
            for option in options.split_whitespace() {
                if let Some(p) = option.strip_prefix("-XX:MaxRAMPercentage=").and_then(|p| p.parse::<f64>().ok()) {
                    ram_percentages.push((var, option.to_string(), p));
                }
                found.push((var, option.to_string()));
            }
        }
    }
    for key in ["entrypoint", "command"] {
        for word in words(lookup::get(service, key)) {
            // A shell script in one word (`sh -c "java -Xmx1g -jar app.jar"`).
            found.extend(word.split_whitespace().filter(|o| o.contains("-X")).map(|o| (key, o.to_string())));
        }
    }
    Jvm { heap: heap(&found), ram_percentages }
}

fn heap(found: &[(&'static str, String)]) -> Option<Heap> {
    let mut best: Option<Heap> = None;
    let mut ram_percent = None;
    let mut max_ram: Option<(String, String, Option<f64>)> = None;
    for (source, option) in found {
        let source = source.to_string();
        let option = option.trim_matches(|c| c == '"' || c == '\'');
        if let Some(p) = option.strip_prefix("-XX:MaxRAMPercentage=") {
            ram_percent = p.parse::<f64>().ok().or(ram_percent);
            continue;
        }
        let size = if let Some(s) = option.strip_prefix("-Xmx") {
            s
        } else if let Some(s) = option.strip_prefix("-XX:MaxHeapSize=") {
            s
        } else if let Some(s) = option.strip_prefix("-XX:MaxRAM=") {
            max_ram = Some((source.clone(), option.to_string(), jvm_size(s)));
            continue;
        } else {
            continue;
        };
        let heap = match jvm_size(size) {
            Some(bytes) => Heap::Known { bytes, source, option: option.to_string() },
            None => return Some(Heap::Unknown { source, option: option.to_string() }),
        };
        best = Some(larger(best, heap));
    }
    if let Some((source, option, size)) = max_ram {
        let Some(ram) = size else { return Some(Heap::Unknown { source, option }) };
        let percent = ram_percent.unwrap_or(DEFAULT_RAM_PERCENT);
        let option = match ram_percent {
            Some(p) => format!("{option} -XX:MaxRAMPercentage={p}"),
            None => option,
        };
        best = Some(larger(best, Heap::Known { bytes: ram * percent / 100.0, source, option }));
    }
    best
}

fn larger(a: Option<Heap>, b: Heap) -> Heap {
    match a {
        Some(a @ Heap::Known { bytes: x, .. }) if matches!(b, Heap::Known { bytes: y, .. } if y <= x) => a,
        _ => b,
    }
}

/// A JVM size: digits and an optional `k`, `m`, `g` or `t` (units of 1024); bare digits
/// are bytes. None for anything else (`${HEAP}`, `$HEAP`, `1.5g`).
pub fn jvm_size(text: &str) -> Option<f64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: f64 = number.parse().ok()?;
    let power = match unit.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        _ => return None,
    };
    Some(number * 1024f64.powi(power))
}

fn words(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}
