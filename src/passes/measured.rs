//! What `apply --sizing` measured for a service, reported before the resources pass
//! writes the limits: the evidence, why a service is not sized, a changed image, and a
//! user's memory limit below the measured peak (raised to the measured limit under
//! `--enforce`; lowered only with `--allow-lower` too).

use super::{Out, Pass, Service};
use crate::profile::{self, Profile};
use crate::rule::{rules, Rule};
use crate::units::bytes;
use std::collections::HashMap;
use yaml_serde::Value;

pub struct Measured;

rules! {
    MEASURED_SIZED = "measured/sized", Info, None,
        "limits sized from what the service used",
        "With `apply --sizing`, the memory limit is the measured peak with headroom (1.3 by default), inside \
         the lesson's band of 1.2 to 1.5 times the peak: rounded up to the profile's unit, or a half of it down \
         to 1 MiB, whichever keeps it at most 1.5 times the peak. Floors may lift it above the band, each \
         reported where it decides: the engine's minimum (6 MiB), the heap rule, then room for the service beyond \
         `shm_size` and sized tmpfs mounts (`resources/room`). The reservation is the \
         median; cpus the 95th percentile with headroom (0.1 to the host's CPUs); the pids limit the peak with \
         headroom, at least 256. The finding gives the evidence.";
    MEASURED_NOT_SIZED = "measured/not-sized", Warning, None,
        "the measurement cannot size this service",
        "A service is not sized from fewer than 30 samples, from a window under 60 s, or when it was OOM-killed \
         in the window (its peak is then only a floor).";
    MEASURED_BELOW_PEAK = "measured/below-peak", Warning, None,
        "the service's own memory limit is below its measured peak",
        "The user's limit is kept; a limit below what the service used under load risks OOM kills.";
    MEASURED_RESIZE = "measured/resize", Warning, Replace,
        "the user's memory limit differs from the measured one",
        "Under `--enforce` with `--sizing`, a user's memory limit below the measured limit is raised to it. \
         Lowering one also needs `--allow-lower`, since one window rarely shows a service's worst day.";
    MEASURED_STALE = "measured/stale", Warning, None,
        "the service's image is not the one it was measured with",
        "Sizes measured with another image may not hold for this one: measure again.";
}

impl Pass for Measured {
    const NAME: &'static str = "measured";
    /// It reads what `apply --sizing` (or the profile's `sizing:`) measured, not a section
    /// of its own.
    const SECTION: Option<&'static str> = None;
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p HashMap<String, profile::Measured>;

    fn settings(profile: &Profile) -> Option<Self::Settings<'_>> {
        (!profile.measured.is_empty()).then_some(&profile.measured)
    }

    fn run(&self, measured: Self::Settings<'_>, service: &Service, out: &mut Out) {
        if let Some(m) = measured.get(service.name) {
            run(m, service, out);
        }
    }
}

/// What a sizing file says of the service: the evidence of its limits, why it is not
/// sized, a limit of the user's below the measured peak, an image measured that it no
/// longer runs.
fn run(m: &profile::Measured, service: &Service, out: &mut Out) {
    if service.image().is_some_and(|i| i != m.image) {
        out.report(
            &MEASURED_STALE,
            &["image"],
            format!("measured with image `{}`, which the service no longer runs: measure it again", m.image),
        );
    }
    let path: &[&str] = match service.is_set(&["mem_limit"]) {
        true => &["mem_limit"],
        false => &["deploy", "resources", "limits", "memory"],
    };
    let own = service.get(path);
    if let (Some(old), Some(limit)) = (own, own.and_then(bytes)) {
        let measured = m.limit.as_deref().and_then(|l| bytes(&Value::from(l)).map(|b| (l, b)));
        if let Some((text, wanted)) = measured.filter(|_| service.enforce) {
            let raise = limit < wanted;
            if raise || (limit > wanted && m.allow_lower) {
                let how = if raise { "raised" } else { "lowered" };
                let message = format!(
                    "memory limit {how} to the measured `{text}` (peak {} MiB with headroom); it was `{}`",
                    (m.peak_bytes / 1048576.0).round(),
                    old.as_str().map_or_else(|| format!("{old:?}"), str::to_string)
                );
                out.replace(&MEASURED_RESIZE, path, old, Value::from(text), message);
                return;
            }
        }
        if limit < m.peak_bytes {
            // Enforcing raises a limit below the measured one (and so below the peak).
            let raised = measured.is_some_and(|(_, wanted)| limit < wanted) && !service.enforce;
            let report = if raised { Out::report_enforceable } else { Out::report };
            report(
                out,
                &MEASURED_BELOW_PEAK,
                path,
                format!(
                    "its memory limit ({} MiB) is below the {} MiB it used at peak under measurement; kept, as the user's",
                    (limit / 1048576.0).round(),
                    (m.peak_bytes / 1048576.0).round()
                ),
            );
        }
        return;
    }
    match &m.sized {
        Ok(evidence) => out.report(&MEASURED_SIZED, &[], format!("sized from measurement: {evidence}")),
        Err(why) => out.report(&MEASURED_NOT_SIZED, &[], format!("not sized from the measurement: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, enforced, plan, profile};

    /// A measurement of one service, `app`: peak and median memory in MiB, samples.
    fn measured(peak: u64, median: u64, samples: u32, image: &str) -> Profile {
        let service = |name: &str| {
            format!(
                "  {name}:
    image: {image}
    digest: sha256:1111
    containers: [x-{name}-1]
    samples: {samples}
    seconds: 600.0
    memory_bytes: {{peak: {}, p95: {}, p50: {}, mean: {}}}
    cpu: {{peak: 1.0, p95: 0.5, p50: 0.25, mean: 0.25}}
    pids: {{peak: 30.0, p95: 30.0, p50: 30.0, mean: 30.0}}
    max_usage_bytes: null
    cpu_throttled: false
    oom_killed: false
    restarts: 0
    events: []
",
                peak << 20,
                peak << 20,
                median << 20,
                median << 20
            )
        };
        let text = format!(
            "version: 1
project: p
window: {{start: '2026-12-01T14:00:00Z', seconds: 600.0, interval_seconds: 1.0}}
host: {{cpus: 2, memory_bytes: 8589934592, cgroup_version: '2', engine: '20.10'}}
services:
{}",
            service("app")
        );
        let sizing = crate::sizing::parse("sizing.yml", &text).expect("a sizing file");
        profile("resources: {limits: {}, reservations: {}}").with_sizing(&sizing, 1.3, false)
    }

    #[test]
    fn the_evidence_of_a_sized_service_is_reported() {
        let compose = "services:\n  app: {image: example/app:1}\n  other: {image: example/app:1}\n";
        check(plan(&Measured, &measured(400, 300, 600, "example/app:1"), compose), r#"
info[measured/sized] app: sized from measurement: peak 400 MiB over 10 min, 600 samples -> 576M; p50 300 MiB -> reservation 300M; cpu p95 0.50 -> 0.65
"#);
    }

    #[test]
    fn a_short_measurement_or_another_image_is_reported() {
        let compose = "services:\n  app: {image: example/app:2}\n";
        check(plan(&Measured, &measured(400, 300, 10, "example/app:1"), compose), r#"
warning[measured/stale] app at image: measured with image `example/app:1`, which the service no longer runs: measure it again
warning[measured/not-sized] app: not sized from the measurement: 10 samples, fewer than 30
"#);
    }

    #[test]
    fn a_limit_below_the_peak_is_kept_and_raised_under_enforce() {
        let compose = "services:\n  app: {image: example/app:1, mem_limit: 256m}\n";
        let sized = measured(400, 300, 600, "example/app:1");
        check(plan(&Measured, &sized, compose), r#"
warning[measured/below-peak] app at mem_limit: its memory limit (256 MiB) is below the 400 MiB it used at peak under measurement; kept, as the user's (enforceable)
"#);
        check(enforced(&Measured, &sized, compose), r#"
~ app: mem_limit = "576M" (was "256m")  [measured/resize]: memory limit raised to the measured `576M` (peak 400 MiB with headroom); it was `256m`
"#);
    }
}
