//! `restart: unless-stopped` brings a crashed service back. A one-shot job (one that
//! another service waits to complete) would loop under it, so it gets none.

use super::{Out, Pass, Service};
use crate::plan::Severity;

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
        if let Some(waiter) = service.relations.completion_waiter.get(service.name) {
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
