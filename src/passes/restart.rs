//! `restart: unless-stopped` brings a crashed service back. A one-shot job (one that
//! another service waits to complete) would loop under it, so it gets none.

use super::{Out, Pass, Service};
use crate::plan::Severity;
use yaml_serde::Value;

pub struct Restart;

impl Pass for Restart {
    fn name(&self) -> &'static str {
        "restart"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        let Some(rule) = &service.profile.restart else {
            return;
        };
        if service.is_set(&["restart"]) || service.is_set(&["deploy", "restart_policy"]) {
            return;
        }
        if let Some(waiter) = waits_for_completion(service) {
            out.report(
                Severity::Info,
                &[],
                format!(
                    "restart not added: service `{waiter}` waits for this one to complete \
                     (service_completed_successfully), so a restart policy would run it in a loop"
                ),
            );
            return;
        }
        out.add(&["restart"], rule.policy.as_str());
    }
}

/// The first service whose `depends_on` waits for `service` to exit successfully.
fn waits_for_completion(service: &Service) -> Option<String> {
    service.all.iter().find_map(|(name, other)| {
        let condition = other
            .get("depends_on")?
            .as_mapping()?
            .get(service.name)?
            .get("condition")?;
        (condition.as_str() == Some("service_completed_successfully")).then(|| match name {
            Value::String(s) => s.clone(),
            _ => String::new(),
        })
    })
}
