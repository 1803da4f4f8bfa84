//! Log rotation: json-file without `max-size` keeps every line, and a service that names
//! no logging gets whatever the daemon's defaults say. Logs the file already bounds
//! (json-file with `max-size`, the local driver) are left as they are: a `max-file` added
//! beside a user's `max-size` would raise their cap. Other drivers ship logs elsewhere and
//! are kept as they are.

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
                Some(d) if rule.rotated_drivers.iter().any(|r| r == d) => {
                    if let Some(cap) = bounded(service, d) {
                        if let Some((path, message)) = cap {
                            out.report(&rules::LOGGING_BOUNDED, &path, message);
                        }
                        return;
                    }
                }
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

/// Where the file bounds a rotating driver's logs: Some, with the cap in words where a
/// default decides part of it (None where the user wrote every part). json-file keeps one
/// file of `max-size` unless `max-file` says more, and nothing bounds it without
/// `max-size`; the local driver keeps 5 files of 20 MB, compressed, by default.
fn bounded(service: &Service, driver: &str) -> Option<Option<(Vec<&'static str>, String)>> {
    // `options: ${LOG_OPTS}`: the user decided, as with any other value that is not a mapping.
    if service.get(&["logging", "options"]).is_some_and(|o| !o.is_mapping()) {
        return Some(None);
    }
    let option = |key: &str| service.get(&["logging", "options", key]).map(super::resources::text);
    let (size, files) = (option("max-size"), option("max-file"));
    let files_text = |n: &str| format!("{n} file{}", if n == "1" { "" } else { "s" });
    if driver == "local" {
        let defaults = match (&size, &files) {
            (Some(_), Some(_)) => return Some(None),
            (None, None) => "its defaults".to_string(),
            (None, Some(_)) => "`max-size` defaults to 20m".to_string(),
            (Some(_), None) => "`max-file` defaults to 5".to_string(),
        };
        let compressed = if option("compress").as_deref() == Some("false") { "" } else { ", compressed" };
        let path = match size {
            Some(_) => vec!["logging", "options", "max-size"],
            None => vec!["logging", "driver"],
        };
        let message = format!(
            "logs bounded: the local driver keeps at most {} of {}{compressed} ({defaults}); nothing added",
            files_text(files.as_deref().unwrap_or("5")),
            size.as_deref().unwrap_or("20m"),
        );
        return Some(Some((path, message)));
    }
    let size = size?;
    if files.is_some() {
        return Some(None);
    }
    let name = if driver == "json-file" { driver.to_string() } else { format!("`{driver}`") };
    let message =
        format!("logs bounded: {name} keeps at most 1 file of {size} (`max-file` defaults to 1); nothing added");
    Some(Some((vec!["logging", "options", "max-size"], message)))
}
