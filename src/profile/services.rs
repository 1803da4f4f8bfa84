//! A profile's per-service overrides: each matches services by name, image or label and
//! merges its keys over the profile for them, in file order (a later override wins). A value
//! an override names for `resources` comes before the image's class, as the order of
//! precedence says.

use super::merge::{finish, merge};
use super::{glob_match, reference, Profile};
use crate::units;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;
use yaml_serde::{Mapping, Value};

/// Which services an override is for: every key given must match.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// A service name pattern (`*-batch`).
    pub name: Option<String>,
    /// An image pattern: matched against `repo:tag` (`postgres:*`; no tag reads as
    /// `latest`) and against the repository alone (`postgres`), without `docker.io/library/`.
    pub image: Option<String>,
    /// `key=value`, or `key` for any value, among the service's labels.
    pub label: Option<String>,
}

/// A per-service override as its file writes it (for the schema; the loader reads the keys).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceOverride {
    #[serde(rename = "match")]
    pub matches: Match,
    /// Passes or rule ids skipped for the matching services.
    #[serde(default)]
    pub skip: Vec<String>,
    pub init: Option<super::InitSettings>,
    pub shell: Option<super::ShellSettings>,
    pub healthcheck: Option<super::HealthcheckSettings>,
    pub probe: Option<super::ProbeSettings>,
    pub restart: Option<super::RestartSettings>,
    pub stop: Option<super::StopSettings>,
    pub logging: Option<super::LoggingSettings>,
    pub resources: Option<super::ResourcesSettings>,
    pub limits: Option<super::LimitsSettings>,
    pub ulimits: Option<indexmap::IndexMap<String, super::Ulimit>>,
    pub dangerous: Option<super::DangerousSettings>,
    pub security: Option<super::SecuritySettings>,
}

/// The merged profile value a profile was built from; for a built-in read straight from
/// its JSON twin, that text (read only if per-service overrides are added).
#[derive(Clone, Default)]
pub struct Source(pub(crate) Option<Arc<Value>>, pub(crate) Option<&'static str>);

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Source")
    }
}

impl Profile {
    /// The overrides (by index) that match a service, in file order.
    pub fn matching(&self, name: &str, service: &Mapping) -> Vec<usize> {
        let mut found = Vec::new();
        for (i, over) in self.services.iter().enumerate() {
            let Ok(m) = yaml_serde::from_value::<Match>(over.get("match").cloned().unwrap_or_default()) else {
                continue;
            };
            if m.name.as_deref().is_some_and(|p| !glob_match(p, name)) {
                continue;
            }
            if let Some(p) = &m.image {
                let Some(image) = crate::document::lookup::get(service, "image").and_then(Value::as_str) else {
                    continue;
                };
                let r = reference(image);
                let full = format!("{}:{}", r.repo, r.tag.as_deref().unwrap_or("latest"));
                if !glob_match(p, &full) && !glob_match(p, &r.repo) {
                    continue;
                }
            }
            if m.label.as_deref().is_some_and(|l| !has_label(service, l)) {
                continue;
            }
            found.push(i);
        }
        found
    }

    /// What the matching overrides skip.
    pub fn override_skips(&self, overrides: &[usize]) -> Vec<String> {
        overrides
            .iter()
            .filter_map(|i| self.services.get(*i)?.get("skip")?.as_sequence())
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    }

    /// The profile with `overrides` merged over it, in order.
    pub fn with_overrides(&self, overrides: &[usize]) -> Result<Profile, String> {
        let builtin = || serde_json::from_str::<Value>(self.source.1?).ok();
        let Some(mut value) = self.source.0.as_deref().cloned().or_else(builtin) else { return Ok(self.clone()) };
        for i in overrides {
            let Some(Value::Mapping(over)) = self.services.get(*i) else { continue };
            let mut own = over.clone();
            own.remove("match");
            own.remove("skip");
            let resources = own.get("resources").cloned();
            value = merge(value, Value::Mapping(own), "");
            if let Some(resources) = resources {
                over_classes(&mut value, &resources);
            }
        }
        let mut value = finish(value);
        if let Some(map) = value.as_mapping_mut() {
            map.remove("services");
        }
        let mut profile: Profile = yaml_serde::from_value(value).map_err(|e| e.to_string())?;
        profile.services.clear();
        profile.measured = self.measured.clone();
        Ok(profile)
    }

    /// The profile with a sizing file's limits as the last per-service overrides (so they
    /// come before the profile's overrides and classes), and what each service's sizing says.
    pub fn with_sizing(&self, sizing: &crate::sizing::Sizing, headroom: f64, allow_lower: bool) -> Profile {
        let mut out = self.clone();
        let unit = self.resources.as_ref().and_then(|r| units::bytes(&Value::from(r.unit.as_str())));
        let unit = unit.unwrap_or_else(units::memory_unit_bytes);
        for (name, s) in &sizing.services {
            let sized = crate::sizing::size(s, &sizing.host, headroom, unit);
            if let Ok(sized) = &sized {
                let mut over = Mapping::new();
                let mut matches = Mapping::new();
                matches.insert("name".into(), name.as_str().into());
                over.insert("match".into(), Value::Mapping(matches));
                let pair = |k: &str, v: &str| {
                    let mut m = Mapping::new();
                    m.insert(k.into(), v.into());
                    m
                };
                let mut limits = pair("memory", &sized.memory_limit);
                limits.insert("cpus".into(), sized.cpus.as_str().into());
                let mut resources = Mapping::new();
                resources.insert("limits".into(), Value::Mapping(limits));
                resources.insert("reservations".into(), Value::Mapping(pair("memory", &sized.memory_reservation)));
                over.insert("resources".into(), Value::Mapping(resources));
                if self.security.is_some() {
                    // Consulted before the profile's own entries: the measured service's image first.
                    let mut entry = pair("why", "measured by compose-harden measure");
                    entry.insert("images".into(), Value::Sequence(vec![reference(&s.image).repo.into()]));
                    entry.insert("pids".into(), sized.pids.into());
                    let mut security = Mapping::new();
                    security.insert("pids_images".into(), Value::Sequence(vec![Value::Mapping(entry)]));
                    over.insert("security".into(), Value::Mapping(security));
                }
                out.services.push(Value::Mapping(over));
            }
            let pids = self.security.is_some();
            let limit = sized.as_ref().ok().map(|s| s.memory_limit.clone());
            let measured = super::Measured {
                sized: sized.map(|s| if pids { format!("{}; {}", s.evidence, s.pids_evidence) } else { s.evidence }),
                peak_bytes: s.memory_bytes.peak,
                image: s.image.clone(),
                limit,
                allow_lower,
            };
            out.measured.insert(name.clone(), measured);
        }
        out
    }
}

/// An override's limits and reservations also hold for a service an image class matches:
/// the override is about that service, the class about images in general.
fn over_classes(profile: &mut Value, resources: &Value) {
    let Some(classes) =
        profile.get_mut("resources").and_then(|r| r.get_mut("classes")).and_then(Value::as_sequence_mut)
    else {
        return;
    };
    for class in classes.iter_mut().filter_map(Value::as_mapping_mut) {
        for key in ["limits", "reservations"] {
            if let Some(given) = resources.get(key) {
                let old = class.remove(key).unwrap_or(Value::Mapping(Mapping::new()));
                class.insert(Value::from(key), merge(old, given.clone(), key));
            }
        }
        if resources.get("limits").and_then(|l| l.get("memory")).is_some() {
            // A memory limit named for the service: no longer left to a measurement.
            class.insert(Value::from("measure"), Value::Bool(false));
        }
    }
}

fn has_label(service: &Mapping, wanted: &str) -> bool {
    let (key, value) = match wanted.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (wanted, None),
    };
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match crate::document::lookup::get(service, "labels") {
        Some(Value::Mapping(labels)) => labels
            .iter()
            .any(|(k, v)| k.as_str() == Some(key) && value.is_none_or(|want| text(v).as_deref() == Some(want))),
        Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).any(|item| match item.split_once('=') {
            Some((k, v)) => k == key && value.is_none_or(|want| want == v),
            None => item == key && value.is_none(),
        }),
        _ => false,
    }
}
