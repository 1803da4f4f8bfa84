//! Limits that agree with each other: no swap behind a memory limit where the profile
//! says so, reservations within limits, and a JVM heap that fits its container.

use super::resources::{bytes, cpus, text};
use super::{Out, Pass, Service};
use crate::plan::Severity;
use yaml_serde::Value;

pub struct Limits;

const LIMIT: [&str; 4] = ["deploy", "resources", "limits", "memory"];

impl Pass for Limits {
    fn name(&self) -> &'static str {
        "limits"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        let Some(rule) = &service.profile.limits else { return };
        let limit = service.get(&LIMIT).or_else(|| service.get(&["mem_limit"]));
        if rule.disable_swap && !service.is_set(&["memswap_limit"]) {
            // The lesson's `--memory-swap = --memory`: the same amount, so no swap.
            if let Some(limit) = limit.filter(|l| bytes(l).is_some()) {
                out.add(&["memswap_limit"], limit.clone());
            }
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
                out.replace(&reservation_path, r, l.clone(), message);
            } else {
                out.report(
                    Severity::Warning,
                    &reservation_path,
                    format!("reservation {key} `{}` is above the limit `{}`: Docker refuses to start the container (--enforce lowers it)", text(r), text(l)),
                );
            }
        }
        if let Some(limit) = limit.and_then(bytes) {
            jvm_heap(service, out, limit, rule.max_heap_percent);
        }
    }
}

/// A heap (`-Xmx`, `-XX:MaxRAMPercentage`) above the profile's share of the memory limit
/// leaves no room for the JVM's own memory: the kernel kills it instead of a clean OOM.
fn jvm_heap(service: &Service, out: &mut Out, limit: f64, max_percent: f64) {
    for var in ["JAVA_OPTS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS"] {
        let Some(options) = service.env(var) else { continue };
        for option in options.split_whitespace() {
            let percent = if let Some(size) = option.strip_prefix("-Xmx") {
                bytes(&Value::from(size)).map(|b| b / limit * 100.0)
            } else {
                option.strip_prefix("-XX:MaxRAMPercentage=").and_then(|p| p.parse::<f64>().ok())
            };
            if let Some(percent) = percent.filter(|p| *p > max_percent) {
                out.report(
                    Severity::Warning,
                    &["environment", var],
                    format!(
                        "{var} `{option}` gives the heap {percent:.0}% of the memory limit; above {max_percent:.0}% the JVM's \
                         own memory (threads, metaspace, buffers) pushes it into the OOM killer"
                    ),
                );
            }
        }
    }
}
