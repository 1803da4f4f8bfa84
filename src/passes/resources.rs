//! Resource limits and reservations under `deploy.resources`, leaf by leaf.
//! The legacy keys (`mem_limit`, `cpus`, ...) already decide a limit: Compose refuses a
//! file where both spellings disagree. Docker refuses a limit below a reservation, so an
//! added value never crosses one the user set.

use super::heap::Heap;
use super::room::{mib, Held};
use super::{Out, Pass, Service};
use crate::profile::{Profile, ResourceClass, ResourcesSettings};
use crate::rule::{rules, Rule};
use crate::units::{self, bytes, cpus, size_text};
use yaml_serde::Value;

pub struct Resources;

rules! {
    RESOURCES_NO_LIMIT = "resources/no-limit", Warning, Safe,
        "a memory or CPU limit is missing: one service can starve the host",
        "A limit bounds what a leak or a spike can take. The fix writes the limit the service lacks, memory or \
         CPU or both (`deploy.resources.limits`), from the profile's class values, sized above a JVM heap where \
         the service names one; a limit the service sets is kept. Skipped for classes whose size depends on \
         the workload (measure it).";
    RESOURCES_NO_RESERVATION = "resources/no-reservation", Info, Safe,
        "a memory or CPU reservation is missing",
        "A reservation tells the scheduler (and the kernel under memory pressure) what the service needs at \
         least. The fix writes the reservation the service lacks, memory or CPU or both, from the class's \
         values, never above its limit.";
    RESOURCES_SIZE_IT_YOURSELF = "resources/size-it-yourself", Warning, None,
        "no blanket limit is safe for this service",
        "LLM servers, GitLab, media servers and the like need what their workload needs: measure the peak and \
         set the limit 20-50% above it. A service that reserves GPUs (`gpus`, \
         `deploy.resources.reservations.devices`) is one of them whatever its image: it gets no CPU or memory \
         limit or reservation until it is measured (`apply --sizing`).";
    RESOURCES_ROOM = "resources/room", Info, Safe,
        "the memory limit leaves room beyond /dev/shm and tmpfs",
        "`shm_size` and sized tmpfs mounts hold their pages in memory, counted against the memory limit: a \
         limit equal to `shm_size` is killed once /dev/shm fills. A memory limit is written only where it leaves \
         the service at least its memory reservation beyond them, and the finding says how much it leaves; a \
         measured limit that would not is raised to them plus the measured median.";
    RESOURCES_NO_ROOM = "resources/no-room", Warning, None,
        "the profile's memory limit would leave no room beyond /dev/shm and tmpfs",
        "Where `shm_size` and sized tmpfs mounts take so much of the profile's memory limit that less than the \
         service's reservation is left for the service itself, no memory limit is written: size one to them \
         plus the service's own peak.";
    RESOURCES_HEAP_UNKNOWN = "resources/heap-unknown", Warning, None,
        "the JVM heap is known only after interpolation",
        "A limit below the heap gets the service OOM-killed; none is written.";
    RESOURCES_HEAP_SIZED = "resources/heap-sized", Info, Safe,
        "the memory limit is sized above the JVM heap",
        "The heap, plus the JVM's own memory, must fit under the limit.";
    RESOURCES_LEGACY_CONFLICT = "resources/legacy-conflict", Info, None,
        "a deploy.resources value is left out beside a legacy key",
        "As it loads a file for `up`, Compose refuses a `deploy.resources.limits` block beside a non-zero `cpus`, \
         `mem_limit` or `pids_limit` that it does not repeat, even one that leaves that leaf out, and a \
         `reservations` block beside `mem_reservation` likewise. No such block is written; the finding names \
         the legacy key.";
    RESOURCES_UNINTERPOLATED = "resources/uninterpolated", Warning, None,
        "a value cannot be compared before interpolation",
        "With `${VAR}` the limit and the reservation cannot be compared, so nothing is written.";
    RESOURCES_CPU_RESERVATION_ABOVE = "resources/cpu-reservation-above", Warning, None,
        "a CPU reservation above the profile's limit",
        "A CPU limit above the host's CPU count keeps the container from starting; none is written.";
    RESOURCES_RAISED_TO_RESERVATION = "resources/raised-to-reservation", Warning, Safe,
        "the limit is raised to the reservation",
        "Docker refuses a memory limit below the memory reservation.";
    RESOURCES_NOT_MAPPING = "resources/not-mapping", Info, None,
        "a resources key is not a mapping",
        "Nothing is added under a value that is not a mapping.";
}

const LIMITS: [&str; 3] = ["deploy", "resources", "limits"];
const RESERVATIONS: [&str; 3] = ["deploy", "resources", "reservations"];

/// One resource: where it lives, the legacy keys that already decide it, those of them
/// in the same unit (`cpu_shares` is a weight, `memswap_limit` counts swap too), and how
/// to compare amounts.
struct Leaf {
    key: &'static str,
    limit_legacy: &'static [&'static str],
    limit_same_unit: &'static [&'static str],
    reservation_legacy: &'static [&'static str],
    reservation_same_unit: &'static [&'static str],
    amount: fn(&Value) -> Option<f64>,
}

const LEAVES: [Leaf; 2] = [
    Leaf {
        key: "cpus",
        // cpu_quota and cpu_period already decide it: the engine refuses NanoCPUs beside
        // them ("Conflicting options: Nano CPUs and CPU Period cannot both be set").
        limit_legacy: &["cpus", "cpu_quota", "cpu_period"],
        limit_same_unit: &["cpus"],
        reservation_legacy: &["cpu_shares"],
        reservation_same_unit: &[],
        amount: cpus,
    },
    Leaf {
        key: "memory",
        limit_legacy: &["mem_limit", "memswap_limit"],
        limit_same_unit: &["mem_limit"],
        reservation_legacy: &["mem_reservation"],
        reservation_same_unit: &["mem_reservation"],
        amount: bytes,
    },
];

impl Pass for Resources {
    const NAME: &'static str = "resources";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p ResourcesSettings;

    fn settings(profile: &Profile) -> Option<&ResourcesSettings> {
        profile.resources.as_ref()
    }

    fn run(&self, settings: &ResourcesSettings, service: &Service, out: &mut Out) {
        for prefix in [&["deploy"][..], &["deploy", "resources"]] {
            if service.get(prefix).is_some_and(|v| !v.is_mapping()) {
                out.report(
                    &RESOURCES_NOT_MAPPING,
                    prefix,
                    format!("resources not added: `{}` is set to a value that is not a mapping", prefix.join(".")),
                );
                return;
            }
        }
        let class = service.class();
        let (limits, reservations) = match class {
            Some(c) => (&c.limits, &c.reservations),
            None => (&settings.limits, &settings.reservations),
        };
        let memory_decided = decided(service, &LIMITS, &LEAVES[1]);
        let measured = service.profile.measured.get(service.name).and_then(|m| m.limit.as_deref());
        if let Some((path, what)) = reserved_devices(service).filter(|_| measured.is_none()) {
            if !memory_decided {
                out.report(
                    &RESOURCES_SIZE_IT_YOURSELF,
                    &path,
                    format!(
                        "no memory or CPU limit added: no blanket value is safe for a service that reserves {what}: \
                         what it uses depends on its models and its load, not on its image; measure the service's \
                         peak use under load (`compose-harden measure`, then `apply --sizing`) and set the limit \
                         20-50% above it"
                    ),
                );
            }
            return;
        }
        if let Some(c) = class.filter(|c| c.measure) {
            if !memory_decided {
                out.report(
                    &RESOURCES_SIZE_IT_YOURSELF,
                    &[],
                    format!(
                        "no memory or CPU limit added: no blanket value is safe for {}: {}; measure the service's peak \
                         use under load and set the limit 20-50% above it",
                        c.name,
                        c.why.trim_end_matches('.'),
                    ),
                );
            }
        }
        let memory = match memory_decided {
            true => None,
            false => sized_memory(service, out, settings, class, limits.memory.as_deref()),
        };
        let need = reservations.memory.as_deref();
        let memory = memory.and_then(|m| with_room(service, out, m, need, measured));
        for leaf in &LEAVES {
            let wanted = |r: &crate::profile::Resources| match leaf.key {
                "cpus" => r.cpus.clone(),
                _ => r.memory.clone(),
            };
            // Limits first, so a reservation added next can look at the final limit.
            let limit = if leaf.key == "memory" { memory.clone() } else { wanted(limits) };
            if let Some(value) = limit {
                fill(
                    service,
                    out,
                    leaf,
                    &LIMITS,
                    leaf.limit_legacy,
                    &value,
                    Bound::AtLeast(user(service, &RESERVATIONS, leaf.key, leaf.reservation_same_unit)),
                );
            }
            if let Some(value) = wanted(reservations) {
                let limit = user(service, &LIMITS, leaf.key, leaf.limit_same_unit);
                fill(service, out, leaf, &RESERVATIONS, leaf.reservation_legacy, &value, Bound::AtMost(limit));
            }
        }
    }
}

/// Whether the user decided a leaf: it, or a legacy key for it, is set.
fn decided(service: &Service, base: &[&str], leaf: &Leaf) -> bool {
    let path: Vec<&str> = base.iter().copied().chain([leaf.key]).collect();
    let legacy = if base == LIMITS { leaf.limit_legacy } else { leaf.reservation_legacy };
    service.is_set(&path) || legacy.iter().any(|l| service.is_set(&[l]))
}

/// The memory limit to write: the class's (or the default), raised to what the JVM heap
/// the service names needs; none where the heap cannot be read, or the class asks for a
/// measured limit.
fn sized_memory(
    service: &Service,
    out: &mut Out,
    settings: &ResourcesSettings,
    class: Option<&ResourceClass>,
    base: Option<&str>,
) -> Option<String> {
    if class.is_some_and(|c| c.measure) {
        return None;
    }
    let path = ["deploy", "resources", "limits", "memory"];
    let percent = max_heap_percent(service);
    match &service.signs.jvm.heap {
        None => base.map(str::to_string),
        Some(Heap::Unknown { source, option }) => {
            out.report(
                &RESOURCES_HEAP_UNKNOWN,
                &path,
                format!(
                    "deploy.resources.limits.memory not added: the JVM heap `{option}` ({source}) is not known before \
                     interpolation, and a limit the heap does not fit in gets the JVM OOM-killed; set a limit of at least \
                     the heap / {percent:.0}%"
                ),
            );
            None
        }
        Some(Heap::Known { bytes: heap, source, option }) => {
            let unit = bytes(&Value::from(settings.unit.as_str()))
                .filter(|u| *u >= 1.0)
                .unwrap_or_else(units::memory_unit_bytes);
            let need = (*heap / (percent / 100.0) / unit).ceil() * unit;
            let base_bytes = base.and_then(|b| bytes(&Value::from(b)));
            if base_bytes.is_some_and(|b| b >= need) {
                return base.map(str::to_string);
            }
            let sized = size_text(need);
            let instead = base.map_or(String::new(), |b| format!(" instead of `{b}`"));
            out.report(
                &RESOURCES_HEAP_SIZED,
                &path,
                format!(
                    "deploy.resources.limits.memory set to `{sized}`{instead}: the JVM heap `{option}` ({source}) may take \
                     at most {percent:.0}% of the limit, leaving room for the JVM's own memory"
                ),
            );
            Some(sized)
        }
    }
}

/// What a service reserves that makes its needs its own, whatever its image: GPUs
/// (`gpus`) or devices (`deploy.resources.reservations.devices`), with where and how it
/// reads in a message.
fn reserved_devices<'a>(service: &Service) -> Option<(Vec<&'a str>, String)> {
    match service.get(&["gpus"]) {
        Some(Value::String(s)) => return Some((vec!["gpus"], format!("GPUs (`gpus: {s}`)"))),
        Some(Value::Sequence(_)) => return Some((vec!["gpus"], "GPUs (`gpus`)".to_string())),
        _ => {}
    }
    let path = ["deploy", "resources", "reservations", "devices"];
    let devices = service.get(&path).and_then(Value::as_sequence).filter(|d| !d.is_empty())?;
    let gpu = devices.iter().any(|d| {
        let capabilities = d.get("capabilities").and_then(Value::as_sequence).into_iter().flatten();
        capabilities.filter_map(Value::as_str).any(|c| c == "gpu")
            || d.get("driver").and_then(Value::as_str) == Some("nvidia")
    });
    let what = if gpu { "GPUs" } else { "devices" };
    Some((path.to_vec(), format!("{what} (`deploy.resources.reservations.devices`)")))
}

/// The memory limit to write beside `/dev/shm` and sized tmpfs mounts, which count against
/// it: `limit` where it leaves the service at least `need` (its memory reservation; the
/// engine's 6 MiB minimum without one) beyond them; a measured limit that does not is
/// raised to them plus the need (the measured median); a profile's is not written.
fn with_room(
    service: &Service,
    out: &mut Out,
    limit: String,
    need: Option<&str>,
    measured: Option<&str>,
) -> Option<String> {
    let held = Held::of(service);
    if held.is_empty() {
        return Some(limit);
    }
    let what = "deploy.resources.limits.memory";
    let at = held.path();
    if let Some((_, size)) = &held.unknown {
        out.report(
            &RESOURCES_UNINTERPOLATED,
            &at,
            format!(
                "{what} not added: {size} is known only once interpolated, and it counts against the memory limit; \
                 set the limit yourself"
            ),
        );
        return None;
    }
    let (Some(bytes_limit), held_bytes) = (bytes(&Value::from(limit.as_str())), held.bytes()) else {
        return Some(limit);
    };
    let need_bytes = need.and_then(|n| bytes(&Value::from(n))).unwrap_or(6.0 * units::MIB);
    let room = bytes_limit - held_bytes;
    let (listed, verb) = (held.listed(), held.verb());
    if room >= need_bytes {
        out.report(
            &RESOURCES_ROOM,
            &at,
            format!(
                "{what} `{limit}` leaves {} for the service itself beyond {listed}, which {verb} against the limit",
                mib(room)
            ),
        );
        return Some(limit);
    }
    let need_text = need.map_or("the engine's minimum of 6 MiB".to_string(), |n| format!("its `{n}` reservation"));
    if measured.is_some() {
        let raised = format!("{}M", ((held_bytes + need_bytes) / units::MIB).ceil());
        out.report(
            &RESOURCES_ROOM,
            &at,
            format!(
                "{what} set to `{raised}` instead of the measured `{limit}`: {listed} {verb} against the limit, and \
                 `{raised}` leaves the service its measured median (`{}`) beyond that",
                need.unwrap_or("6M")
            ),
        );
        return Some(raised);
    }
    let left = if room <= 0.0 { "no room".to_string() } else { format!("only {}", mib(room)) };
    out.report(
        &RESOURCES_NO_ROOM,
        &at,
        format!(
            "{what} not added: {listed} {verb} against the memory limit, and the profile's `{limit}` would leave {left} \
             for the service itself (it needs at least {need_text}); set a limit of at least {} yourself, sized to \
             that plus the service's own peak",
            mib(held_bytes + need_bytes)
        ),
    );
    None
}

/// The share of the memory limit a JVM heap may take: the class's, else the profile's.
pub fn max_heap_percent(service: &Service) -> f64 {
    service
        .class()
        .and_then(|c| c.max_heap_percent)
        .or(service.profile.limits.as_ref().map(|l| l.max_heap_percent))
        .filter(|p| *p > 0.0 && *p <= 100.0)
        .unwrap_or(75.0)
}

/// A value the user set that an added one must not cross: the path written and its value.
type UserValue<'a> = Option<(String, &'a Value)>;

enum Bound<'a> {
    AtLeast(UserValue<'a>),
    AtMost(UserValue<'a>),
}

fn user<'a>(service: &'a Service, base: &[&str], key: &str, legacy: &[&'static str]) -> UserValue<'a> {
    let path: Vec<&str> = base.iter().copied().chain([key]).collect();
    if let Some(v) = service.get(&path) {
        return Some((path.join("."), v));
    }
    legacy.iter().find_map(|l| service.get(&[l]).map(|v| (l.to_string(), v)))
}

fn fill(service: &Service, out: &mut Out, leaf: &Leaf, base: &[&str], legacy: &[&str], value: &str, bound: Bound) {
    let path: Vec<&str> = base.iter().copied().chain([leaf.key]).collect();
    if service.is_set(&path) || legacy.iter().any(|l| service.is_set(&[l])) {
        return;
    }
    // Compose compares a whole `limits` (or `reservations`) block with the legacy keys:
    // a new block that does not repeat a non-zero `mem_limit` or `pids_limit` is
    // "distinct" from it, and refused.
    if service.get(base).is_none() {
        let beside = units::LEGACY.iter().filter(|l| base.last() == Some(&l.block));
        if let Some(l) = beside.into_iter().find(|l| service.get(&[l.key]).is_some_and(|v| l.counts(v))) {
            let key = l.key;
            let remedy = match l.key {
                // No other legacy key repeats a pids limit: the block has to hold it.
                "pids_limit" => " (it compares them as it loads the file for `up`); write it as \
                                  `deploy.resources.limits.pids` to get this one"
                    .to_string(),
                _ => format!("; set this one beside `{key}` if you want it"),
            };
            out.report(
                &RESOURCES_LEGACY_CONFLICT,
                &[key],
                format!(
                    "{} not added: the service sets `{key}`, and Compose refuses a `{}` block that does not repeat \
                     it{remedy}",
                    path.join("."),
                    base.join(".")
                ),
            );
            return;
        }
    }
    let what = path.join(".");
    let (other, at_least) = match bound {
        Bound::AtLeast(o) => (o, true),
        Bound::AtMost(o) => (o, false),
    };
    let mut chosen = Value::from(value);
    if let Some((other_path, other_value)) = other {
        let (Some(mine), Some(theirs)) = ((leaf.amount)(&chosen), (leaf.amount)(other_value)) else {
            out.report(
                &RESOURCES_UNINTERPOLATED,
                &path,
                format!(
                    "{what} not added: `{other_path}` is `{}`, which cannot be compared before interpolation",
                    text(other_value)
                ),
            );
            return;
        };
        let crosses = if at_least { mine < theirs } else { mine > theirs };
        if crosses && at_least && leaf.key == "cpus" {
            // A cpus limit above the host's CPU count keeps the container from starting
            // ("Range of CPUs is from 0.01 to N"), and the host is not known here.
            out.report(
                &RESOURCES_CPU_RESERVATION_ABOVE,
                &path,
                format!(
                    "{what} not added: `{other_path}` is `{}`, above the profile's `{value}`, and a CPU limit above the \
                     host's CPU count keeps the container from starting; set the limit yourself",
                    text(other_value)
                ),
            );
            return;
        }
        if crosses {
            out.report(
                &RESOURCES_RAISED_TO_RESERVATION,
                &path,
                format!(
                    "{what} set to `{}` instead of the profile's `{value}`: `{other_path}` is `{}` and Docker refuses a limit below a reservation",
                    text(other_value),
                    text(other_value)
                ),
            );
            chosen = match other_value {
                Value::Number(n) => Value::from(n.to_string()),
                v => v.clone(),
            };
        }
    }
    let reservation = path.iter().any(|k| *k == "reservations" || *k == "mem_reservation");
    let id = if reservation { &RESOURCES_NO_RESERVATION } else { &RESOURCES_NO_LIMIT };
    out.add(id, &path, chosen);
}

pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile, with_facts};

    const SETTINGS: &str = "resources:
  limits: {cpus: '0.5', memory: 512M}
  reservations: {cpus: '0.1', memory: 128M}
  classes:
    - {name: databases, images: [postgres], limits: {cpus: '1', memory: 1G}, reservations: {memory: 256M}, why: buffers.}
    - {name: LLM servers, images: [ollama/ollama], measure: true, why: the model decides.}
";

    #[test]
    fn limits_and_reservations_by_class_leaf_by_leaf() {
        let compose = "services:
  app: {image: example/app:1}
  db: {image: postgres:16, deploy: {resources: {limits: {memory: 2G}}}}
  llm: {image: ollama/ollama}
";
        check(plan(&Resources, &profile(SETTINGS), compose), r#"
+ app: deploy.resources.limits.cpus = "0.5"  [resources/no-limit]
+ app: deploy.resources.reservations.cpus = "0.1"  [resources/no-reservation]
+ app: deploy.resources.limits.memory = "512M"  [resources/no-limit]
+ app: deploy.resources.reservations.memory = "128M"  [resources/no-reservation]
+ db: deploy.resources.limits.cpus = "1"  [resources/no-limit]
+ db: deploy.resources.reservations.memory = "256M"  [resources/no-reservation]
warning[resources/size-it-yourself] llm: no memory or CPU limit added: no blanket value is safe for LLM servers: the model decides; measure the service's peak use under load and set the limit 20-50% above it
"#);
    }

    #[test]
    fn a_value_set_beside_is_never_crossed() {
        let compose = "services:
  legacy: {image: example/app:1, mem_limit: 1g}
  reserved: {image: example/app:1, deploy: {resources: {reservations: {memory: 1G, cpus: '2'}}}}
  dynamic: {image: example/app:1, deploy: {resources: {reservations: {memory: '${MEM}'}}}}
  reset: {image: example/app:1, deploy: !reset null}
";
        check(plan(&Resources, &profile(SETTINGS), compose), r#"
+ legacy: deploy.resources.reservations.cpus = "0.1"  [resources/no-reservation]
+ legacy: deploy.resources.reservations.memory = "128M"  [resources/no-reservation]
+ reserved: deploy.resources.limits.memory = "1G"  [resources/no-limit]
+ dynamic: deploy.resources.limits.cpus = "0.5"  [resources/no-limit]
+ dynamic: deploy.resources.reservations.cpus = "0.1"  [resources/no-reservation]
info[resources/legacy-conflict] legacy at mem_limit: deploy.resources.limits.cpus not added: the service sets `mem_limit`, and Compose refuses a `deploy.resources.limits` block that does not repeat it; set this one beside `mem_limit` if you want it
warning[resources/cpu-reservation-above] reserved at deploy.resources.limits.cpus: deploy.resources.limits.cpus not added: `deploy.resources.reservations.cpus` is `2`, above the profile's `0.5`, and a CPU limit above the host's CPU count keeps the container from starting; set the limit yourself
warning[resources/raised-to-reservation] reserved at deploy.resources.limits.memory: deploy.resources.limits.memory set to `1G` instead of the profile's `512M`: `deploy.resources.reservations.memory` is `1G` and Docker refuses a limit below a reservation
warning[resources/uninterpolated] dynamic at deploy.resources.limits.memory: deploy.resources.limits.memory not added: `deploy.resources.reservations.memory` is `${MEM}`, which cannot be compared before interpolation
info[load/merge-tag] reset at deploy: `deploy` is `!reset`: Compose drops it and uses its default, as the user chose; nothing is added under it
info[resources/not-mapping] reset at deploy: resources not added: `deploy` is set to a value that is not a mapping
"#);
    }

    #[test]
    fn a_jvm_heap_raises_the_limit_to_fit_it() {
        let compose = "services:
  jvm: {image: example/app:1, environment: {JAVA_OPTS: -Xmx1g}}
  unknown: {image: example/app:1, environment: ['JAVA_OPTS=-Xmx${HEAP}']}
";
        check(plan(&Resources, &profile(SETTINGS), compose), r#"
+ jvm: deploy.resources.limits.cpus = "0.5"  [resources/no-limit]
+ jvm: deploy.resources.reservations.cpus = "0.1"  [resources/no-reservation]
+ jvm: deploy.resources.limits.memory = "1408M"  [resources/no-limit]
+ jvm: deploy.resources.reservations.memory = "128M"  [resources/no-reservation]
+ unknown: deploy.resources.limits.cpus = "0.5"  [resources/no-limit]
+ unknown: deploy.resources.reservations.cpus = "0.1"  [resources/no-reservation]
+ unknown: deploy.resources.reservations.memory = "128M"  [resources/no-reservation]
info[resources/heap-sized] jvm at deploy.resources.limits.memory: deploy.resources.limits.memory set to `1408M` instead of `512M`: the JVM heap `-Xmx1g` (JAVA_OPTS) may take at most 75% of the limit, leaving room for the JVM's own memory
warning[resources/heap-unknown] unknown at deploy.resources.limits.memory: deploy.resources.limits.memory not added: the JVM heap `-Xmx${HEAP}` (JAVA_OPTS) is not known before interpolation, and a limit the heap does not fit in gets the JVM OOM-killed; set a limit of at least the heap / 75%
"#);
    }

    /// The heap images read from variables of their own, each with its source; the generic
    /// names (`MEMORY`, `MEM_LIMIT`) only where the facts show a `java`, or the image is the
    /// one that reads them.
    #[test]
    fn a_heap_from_an_images_own_variables_sizes_the_limit() {
        let facts = r#"version: 1
inspected: {engine: "20.10", tools: [java, sh]}
images:
  "example/jvm:1":
    id: sha256:7777777777777777777777777777777777777777777777777777777777777777
    platform: linux/amd64
    path: [/usr/bin]
    bin_sh: true
    tools: {java: /usr/bin/java}
  "example/native:1":
    id: sha256:8888888888888888888888888888888888888888888888888888888888888888
    platform: linux/amd64
    path: [/usr/bin]
    bin_sh: true
"#;
        let compose = "services:
  jira: {image: atlassian/jira-software:9, environment: {JVM_MAXIMUM_MEMORY: 2048m}}
  cassandra: {image: cassandra:4, environment: {MAX_HEAP_SIZE: 1G}}
  neo4j: {image: neo4j:5, environment: {NEO4J_server_memory_heap_max__size: 1G}}
  unifi: {image: jacobalberty/unifi:v8, environment: {MEM_LIMIT: '1024'}}
  minecraft: {image: itzg/minecraft-server}
  jvm: {image: example/jvm:1, environment: {MEMORY: 1G}}
  native: {image: example/native:1, environment: {MEMORY: 4G}}
";
        let planned = with_facts(&Resources, &profile(SETTINGS), facts, compose);
        let sized: Vec<&str> = planned.lines().filter(|l| l.contains("heap-sized") || l.contains("limits.memory")).collect();
        check(sized.join("\n"), r#"
+ jira: deploy.resources.limits.memory = "2816M"  [resources/no-limit]
+ cassandra: deploy.resources.limits.memory = "1408M"  [resources/no-limit]
+ neo4j: deploy.resources.limits.memory = "1408M"  [resources/no-limit]
+ unifi: deploy.resources.limits.memory = "1408M"  [resources/no-limit]
+ minecraft: deploy.resources.limits.memory = "1408M"  [resources/no-limit]
+ jvm: deploy.resources.limits.memory = "1408M"  [resources/no-limit]
+ native: deploy.resources.limits.memory = "512M"  [resources/no-limit]
info[resources/heap-sized] jira at deploy.resources.limits.memory: deploy.resources.limits.memory set to `2816M` instead of `512M`: the JVM heap `-Xmx2048m` (JVM_MAXIMUM_MEMORY) may take at most 75% of the limit, leaving room for the JVM's own memory
info[resources/heap-sized] cassandra at deploy.resources.limits.memory: deploy.resources.limits.memory set to `1408M` instead of `512M`: the JVM heap `-Xmx1G` (MAX_HEAP_SIZE) may take at most 75% of the limit, leaving room for the JVM's own memory
info[resources/heap-sized] neo4j at deploy.resources.limits.memory: deploy.resources.limits.memory set to `1408M` instead of `512M`: the JVM heap `-Xmx1G` (NEO4J_server_memory_heap_max__size) may take at most 75% of the limit, leaving room for the JVM's own memory
info[resources/heap-sized] unifi at deploy.resources.limits.memory: deploy.resources.limits.memory set to `1408M` instead of `512M`: the JVM heap `-Xmx1024m` (MEM_LIMIT) may take at most 75% of the limit, leaving room for the JVM's own memory
info[resources/heap-sized] minecraft at deploy.resources.limits.memory: deploy.resources.limits.memory set to `1408M` instead of `512M`: the JVM heap `-Xmx1G` (itzg/minecraft-server's default MEMORY) may take at most 75% of the limit, leaving room for the JVM's own memory
info[resources/heap-sized] jvm at deploy.resources.limits.memory: deploy.resources.limits.memory set to `1408M` instead of `512M`: the JVM heap `-Xmx1G` (MEMORY) may take at most 75% of the limit, leaving room for the JVM's own memory
"#);
    }
}
