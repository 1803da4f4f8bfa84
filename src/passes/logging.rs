//! Log rotation: the json-file driver keeps every line forever unless told otherwise,
//! until the disk is full. Other drivers ship logs elsewhere and are kept as they are.

use super::{Out, Pass, Service};
use crate::rule as rules;
use yaml_serde::Value;

pub struct Logging;

impl Pass for Logging {
    fn name(&self) -> &'static str {
        "logging"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        let Some(rule) = &service.profile.logging else {
            return;
        };
        match service.get(&["logging"]) {
            None => out.add(&rules::LOGGING_MISSING, &["logging", "driver"], rule.driver.as_str()),
            Some(Value::Mapping(_)) => match service.str(&["logging", "driver"]) {
                Some(d) if rule.rotated_drivers.iter().any(|r| r == d) => {}
                Some("none") => {
                    out.report(
                        &rules::LOGGING_NONE,
                        &["logging", "driver"],
                        "logging driver `none` keeps no logs at all: `docker logs` shows nothing when the service fails",
                    );
                    return;
                }
                Some(d) if rule.remote_drivers.iter().any(|r| r == d) => {
                    out.report(
                        &rules::LOGGING_REMOTE,
                        &["logging", "driver"],
                        format!(
                            "logging driver `{d}` kept: logs leave the host, and since Engine 20.10 `docker logs` still reads \
                             them from dual logging's local cache, which rotates by its own defaults"
                        ),
                    );
                    return;
                }
                Some(_) => return,
                None if service.get(&["logging", "driver"]).is_some() => return,
                None => {
                    out.report(
                        &rules::LOGGING_DEFAULT,
                        &["logging"],
                        "rotation not added: logging names no driver, so the daemon's default applies and its options are unknown",
                    );
                    return;
                }
            },
            // null, `!reset` or `${VAR}`: the user decided.
            Some(_) => return,
        }
        for (key, value) in &rule.options {
            if !service.is_set(&["logging", "options", key]) {
                out.add(&rules::LOGGING_MISSING, &["logging", "options", key], value.as_str());
            }
        }
    }
}
