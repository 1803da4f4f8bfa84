//! Limits that agree with each other: no swap behind a memory limit where the profile
//! says so, reservations within limits, and a JVM heap that fits its container.

use super::heap::{self, Heap};
use super::resources::{max_heap_percent, text};
use super::room::Held;
use super::{Out, Pass, Service};
use crate::profile::{LimitsSettings, Profile};
use crate::rule::{rules, Rule};
use crate::units::{bytes, cpus};

pub struct Limits;

rules! {
    LIMITS_MEMSWAP = "limits/memswap", Warning, Safe,
        "swap is not bounded",
        "Without `memswap_limit`, a container may use as much swap as memory; setting it equal to the limit \
         keeps a leak from swapping the host.";
    LIMITS_MEMSWAP_WITHOUT_LIMIT = "limits/memswap-without-limit", Warning, None,
        "memswap_limit without a memory limit",
        "The engine refuses to create the container. Set mem_limit to at most it.";
    LIMITS_RESERVATION_ABOVE_LIMIT = "limits/reservation-above-limit", Warning, Replace,
        "a reservation above its limit",
        "Docker refuses to start the container. `--enforce` lowers the reservation to the limit.";
    LIMITS_NO_ROOM = "limits/no-room", Warning, None,
        "the memory limit leaves no room beyond /dev/shm and tmpfs",
        "`shm_size` and sized tmpfs mounts hold their pages in memory, counted against the memory limit: a limit \
         no larger than them is killed once they fill (measured: writing 1 GiB to a 1 GiB /dev/shm under a 512M \
         limit is killed at about 509 MiB). The user's limit is kept and reported.";
    LIMITS_HEAP_SHARE = "limits/heap-share", Warning, None,
        "the JVM heap takes too much of the memory limit",
        "Above the class's share the JVM's own memory (metaspace, threads, buffers) does not fit and the kernel \
         OOM-kills it.";
}

const LIMIT: [&str; 4] = ["deploy", "resources", "limits", "memory"];

impl Pass for Limits {
    const NAME: &'static str = "limits";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p LimitsSettings;

    fn settings(profile: &Profile) -> Option<&LimitsSettings> {
        profile.limits.as_ref()
    }

    fn run(&self, settings: &LimitsSettings, service: &Service, out: &mut Out) {
        let limit = service.get(&LIMIT).or_else(|| service.get(&["mem_limit"]));
        if settings.disable_swap && !service.is_set(&["memswap_limit"]) {
            // The lesson's `--memory-swap = --memory`: the same amount, so no swap.
            if let Some(limit) = limit.filter(|l| bytes(l).is_some()) {
                out.add(&LIMITS_MEMSWAP, &["memswap_limit"], limit.clone());
            }
        }
        if limit.is_none() && service.get(&["memswap_limit"]).is_some_and(|m| bytes(m).is_some_and(|b| b > 0.0)) {
            out.report(
                &LIMITS_MEMSWAP_WITHOUT_LIMIT,
                &["memswap_limit"],
                "memswap_limit without a memory limit: the engine refuses to create the container (\"You should always \
                 set the Memory limit when using Memoryswap limit\"); set mem_limit to at most it",
            );
        }
        for key in ["cpus", "memory"] {
            let limit_path = ["deploy", "resources", "limits", key];
            let reservation_path = ["deploy", "resources", "reservations", key];
            let (Some(l), Some(r)) = (service.get(&limit_path), service.get(&reservation_path)) else { continue };
            let amount = if key == "cpus" { cpus } else { bytes };
            let (Some(lv), Some(rv)) = (amount(l), amount(r)) else { continue };
            if rv <= lv {
                continue;
            }
            if service.enforce {
                let message = format!(
                    "reservation {key} `{}` lowered to the limit `{}`: Docker refuses a reservation above its limit",
                    text(r),
                    text(l)
                );
                out.replace(&LIMITS_RESERVATION_ABOVE_LIMIT, &reservation_path, r, l.clone(), message);
            } else {
                out.report_enforceable(
                    &LIMITS_RESERVATION_ABOVE_LIMIT,
                    &reservation_path,
                    format!(
                        "reservation {key} `{}` is above the limit `{}`: Docker refuses to start the container",
                        text(r),
                        text(l)
                    ),
                );
            }
        }
        if let Some(limit) = limit.and_then(bytes) {
            no_room(service, out, limit);
            jvm_heap(service, out, limit, max_heap_percent(service));
        }
    }
}

/// A memory limit no larger than what `/dev/shm` and sized tmpfs mounts may hold: the
/// service is killed once they fill.
fn no_room(service: &Service, out: &mut Out, limit: f64) {
    let held = Held::of(service);
    if held.parts.is_empty() || limit > held.bytes() {
        return;
    }
    let key = if service.get(&LIMIT).is_some() { &LIMIT[..] } else { &["mem_limit"][..] };
    let shown = service.get(key).map(text).unwrap_or_default();
    out.report(
        &LIMITS_NO_ROOM,
        key,
        format!(
            "{} `{shown}` leaves no room for the service itself beyond {}, which {} against it: the service is killed \
             once that fills; raise the limit by what the service itself uses",
            key.join("."),
            held.listed(),
            held.verb()
        ),
    );
}

/// A heap (`-Xmx`, `-XX:MaxRAMPercentage`) above the profile's share of the memory limit
/// leaves no room for the JVM's own memory: the kernel kills it instead of a clean OOM.
fn jvm_heap(service: &Service, out: &mut Out, limit: f64, max_percent: f64) {
    let jvm = &service.signs.jvm;
    let mut over = Vec::new();
    if let Some(Heap::Known { bytes, source, option }) = &jvm.heap {
        over.push((source.as_str(), option.as_str(), bytes / limit * 100.0));
    }
    over.extend(jvm.ram_percentages.iter().map(|(var, option, p)| (*var, option.as_str(), *p)));
    for (source, option, percent) in over.into_iter().filter(|(_, _, p)| *p > max_percent) {
        let path = if heap::is_variable(source) { vec!["environment", source] } else { vec![source] };
        out.report(
            &LIMITS_HEAP_SHARE,
            &path,
            format!(
                "{source} `{option}` gives the heap {percent:.0}% of the memory limit; above {max_percent:.0}% the JVM's \
                 own memory (threads, metaspace, buffers) pushes it into the OOM killer"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, enforced, plan, profile};

    const SETTINGS: &str = "limits: {disable_swap: true, max_heap_percent: 75}";

    #[test]
    fn swap_is_bounded_and_swap_without_a_limit_reported() {
        let compose = "services:
  limited: {image: example/app:1, deploy: {resources: {limits: {memory: 512M}}}}
  legacy: {image: example/app:1, mem_limit: 1g}
  alone: {image: example/app:1, memswap_limit: 1g}
";
        check(plan(&Limits, &profile(SETTINGS), compose), r#"
+ limited: memswap_limit = "512M"  [limits/memswap]
+ legacy: memswap_limit = "1g"  [limits/memswap]
warning[limits/memswap-without-limit] alone at memswap_limit: memswap_limit without a memory limit: the engine refuses to create the container ("You should always set the Memory limit when using Memoryswap limit"); set mem_limit to at most it
"#);
    }

    #[test]
    fn a_reservation_above_its_limit_is_reported_and_lowered_under_enforce() {
        let compose = "services:
  inverted: {image: example/app:1, deploy: {resources: {limits: {cpus: '0.5'}, reservations: {cpus: '1'}}}}
";
        let settings = profile("limits: {disable_swap: false, max_heap_percent: 75}");
        check(plan(&Limits, &settings, compose), r#"
warning[limits/reservation-above-limit] inverted at deploy.resources.reservations.cpus: reservation cpus `1` is above the limit `0.5`: Docker refuses to start the container (enforceable)
"#);
        check(enforced(&Limits, &settings, compose), r#"
~ inverted: deploy.resources.reservations.cpus = "0.5" (was "1")  [limits/reservation-above-limit]: reservation cpus `1` lowered to the limit `0.5`: Docker refuses a reservation above its limit
"#);
    }

    #[test]
    fn a_heap_that_leaves_the_jvm_no_room_is_reported() {
        let compose = "services:
  jvm: {image: example/app:1, mem_limit: 1g, environment: {JAVA_OPTS: -Xmx900m}}
  share: {image: example/app:1, mem_limit: 1g, environment: {JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=90}}
";
        check(plan(&Limits, &profile("limits: {disable_swap: false, max_heap_percent: 75}"), compose), r#"
warning[limits/heap-share] jvm at environment.JAVA_OPTS: JAVA_OPTS `-Xmx900m` gives the heap 88% of the memory limit; above 75% the JVM's own memory (threads, metaspace, buffers) pushes it into the OOM killer
warning[limits/heap-share] share at environment.JAVA_TOOL_OPTIONS: JAVA_TOOL_OPTIONS `-XX:MaxRAMPercentage=90` gives the heap 90% of the memory limit; above 75% the JVM's own memory (threads, metaspace, buffers) pushes it into the OOM killer
"#);
    }
}
