//! What `apply --sizing` measured for a service, reported before the resources pass
//! writes the limits: the evidence, why a service is not sized, a changed image, and a
//! user's memory limit below the measured peak (raised to the measured limit under
//! `--enforce`; lowered only with `--allow-lower` too).

use super::{Out, Pass, Service};
use crate::rule as rules;
use crate::units::bytes;
use yaml_serde::Value;

pub struct Measured;

impl Pass for Measured {
    fn name(&self) -> &'static str {
        "measured"
    }

    fn wanted(&self, profile: &crate::Profile) -> bool {
        !profile.measured.is_empty()
    }

    fn run(&self, service: &Service, out: &mut Out) {
        run(service, out);
    }
}

/// What a sizing file says of the service: the evidence of its limits, why it is not
/// sized, a limit of the user's below the measured peak, an image measured that it no
/// longer runs.
fn run(service: &Service, out: &mut Out) {
    let Some(m) = service.profile.measured.get(service.name) else { return };
    if service.image().is_some_and(|i| i != m.image) {
        out.report(
            &rules::MEASURED_STALE,
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
                out.replace(&rules::MEASURED_RESIZE, path, old, Value::from(text), message);
                return;
            }
        }
        if limit < m.peak_bytes {
            // Enforcing raises a limit below the measured one (and so below the peak).
            let raised = measured.is_some_and(|(_, wanted)| limit < wanted) && !service.enforce;
            let report = if raised { Out::report_enforceable } else { Out::report };
            report(
                out,
                &rules::MEASURED_BELOW_PEAK,
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
        Ok(evidence) => out.report(&rules::MEASURED_SIZED, &[], format!("sized from measurement: {evidence}")),
        Err(why) => out.report(&rules::MEASURED_NOT_SIZED, &[], format!("not sized from the measurement: {why}")),
    }
}
