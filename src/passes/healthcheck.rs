//! HEALTHCHECK: tells Docker and `depends_on` whether a service works, not just runs.
//! A probe must work inside the image, so it comes from the profile's catalogue; the one
//! guess allowed is the profile's HTTP probe for a service with exactly one port, marked
//! as an assumption in the file and the report.

use super::{Out, Pass, Service};
use crate::document::lookup;
use crate::profile::{glob_match, major_version, HealthcheckSettings, ProbeEntry, Profile, Reference};
use crate::rule::{rules, Rule};
use std::collections::BTreeSet;
use yaml_serde::Value;

pub struct Healthcheck;

rules! {
    HEALTHCHECK_MISSING = "healthcheck/missing", Warning, Safe,
        "no healthcheck: Docker cannot tell whether the service works",
        "Without a healthcheck a running container counts as working, and `depends_on: service_healthy` cannot \
         be used. The fix writes the probe catalogue's check for the image (each proven on the real software), \
         with the profile's interval, timeout, retries and start period. Skipped for one-shot jobs, images \
         with their own HEALTHCHECK, and services another waits for with service_healthy where no probe is \
         known (a guessed probe there would block the waiter).";
    HEALTHCHECK_ASSUMED = "healthcheck/assumed", Warning, Safe,
        "an assumed HTTP probe was written",
        "For an image not in the catalogue that publishes a TCP port, the profile's HTTP probe is written with a \
         comment saying it is assumed. Replace it with the service's real check.";
    HEALTHCHECK_CATALOGUE = "healthcheck/catalogue", Info, None,
        "what the probe catalogue says of this image",
        "A note from the catalogue entry the probe was taken from (what it needs, what to change).";
    HEALTHCHECK_NO_PROBE = "healthcheck/no-probe", Warning, None,
        "no healthcheck added: no probe is known for the image",
        "The image is not in the catalogue, or the catalogue records that it ships no tool a probe could use, \
         and it publishes no port an assumed probe could try. Write a probe that works inside the image.";
    HEALTHCHECK_IMAGE_OWN = "healthcheck/image-own", Info, None,
        "the image defines its own HEALTHCHECK",
        "A healthcheck in the file would replace the image's own, which knows the software better.";
    HEALTHCHECK_ONE_SHOT = "healthcheck/one-shot", Info, None,
        "a one-shot job gets no healthcheck",
        "A job that runs once and exits is not watched by a probe.";
    HEALTHCHECK_IMAGE_UNKNOWN = "healthcheck/image-unknown", Warning, None,
        "the image is known only after interpolation",
        "With `image: ${VAR}` no catalogue entry can be chosen, so no probe is written.";
    HEALTHCHECK_HEALTH_WAITER = "healthcheck/health-waiter", Warning, None,
        "another service waits for this one to be healthy, and no probe is known",
        "`depends_on: condition: service_healthy` needs a probe that passes; a guessed one that fails would keep \
         the waiter from ever starting. Write the service's real check.";
}

impl Pass for Healthcheck {
    const NAME: &'static str = "healthcheck";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p HealthcheckSettings;

    fn settings(profile: &Profile) -> Option<&HealthcheckSettings> {
        profile.healthcheck.as_ref()
    }

    fn run(&self, settings: &HealthcheckSettings, service: &Service, out: &mut Out) {
        // A healthcheck the user wrote is theirs as a whole.
        if service.is_set(&["healthcheck"]) {
            return;
        }
        if let Some(why) = service.one_shot() {
            out.report(
                &HEALTHCHECK_ONE_SHOT,
                &[],
                format!("no healthcheck added: the service looks like a job that runs once ({why}), which a probe does not watch"),
            );
            return;
        }
        let image = service.image();
        if let Some(i) = image.filter(|_| service.reference().is_some_and(|r| !r.repo_known)) {
            out.report(
                &HEALTHCHECK_IMAGE_UNKNOWN,
                &["image"],
                format!(
                    "no healthcheck added: the image `{i}` is known only once the file is interpolated, so no probe \
                     can be chosen for it; write one that works inside the image"
                ),
            );
            return;
        }
        let entry = service.facts.probe.and_then(|i| settings.probes.get(i));
        let choice = image.zip(service.reference()).zip(entry).map(|((i, r), p)| catalogue_probe(p, i, r));
        if let Some(Choice { test, why, own, any_tag }) = choice {
            match (test, own) {
                (Some(test), _) => {
                    if any_tag {
                        out.report(&HEALTHCHECK_CATALOGUE, &["image"], why.clone());
                    }
                    add(service, out, settings, &HEALTHCHECK_MISSING, strings(test), None)
                }
                (None, true) => out.report(
                    &HEALTHCHECK_IMAGE_OWN,
                    &["image"],
                    format!("no healthcheck added: the image defines its own HEALTHCHECK, which one here would replace ({why})"),
                ),
                (None, false) => out.report(&HEALTHCHECK_NO_PROBE, &["image"], format!("no healthcheck added: {why}")),
            }
            return;
        }
        let ports = container_ports(service);
        let waiter = service.relations.health_waiter.get(service.name);
        match (&settings.http_fallback, ports.as_deref().unwrap_or_default()) {
            (Some(_), [_]) if waiter.is_some() => {
                let waiter = waiter.map_or("", String::as_str);
                out.report(
                    &HEALTHCHECK_HEALTH_WAITER,
                    &[],
                    format!(
                        "no healthcheck added: `{waiter}` waits for this service to be healthy (service_healthy), which works only \
                         if the image has a HEALTHCHECK of its own, and a compose one would replace it; and a guessed probe that \
                         fails would keep `{waiter}` from starting"
                    ),
                );
            }
            (Some(fallback), [port]) => {
                let test: Vec<String> = fallback.test.iter().map(|t| t.replace("{port}", port)).collect();
                let note = fallback.note.replace("{port}", port);
                let what = match image {
                    Some(i) => format!("`{i}` is not in the probe catalogue"),
                    None => "the service builds its own image".to_string(),
                };
                out.report(
                    &HEALTHCHECK_ASSUMED,
                    &["healthcheck", "test"],
                    format!(
                        "assumed healthcheck: {what}, so it got the profile's HTTP probe on port {port}; \
                         check that it answers GET /health or write a real probe"
                    ),
                );
                add(service, out, settings, &HEALTHCHECK_ASSUMED, strings(&test), Some(note));
            }
            _ => {
                let what = match image {
                    Some(i) => format!("image `{i}` is not in the probe catalogue"),
                    None => "the service has no image to look up in the probe catalogue".to_string(),
                };
                let why = match (ports.map(|p| p.len()), &settings.http_fallback) {
                    (None, _) => "a container port of it is not a fixed number".to_string(),
                    (Some(0), _) => "it publishes no TCP container port".to_string(),
                    (Some(1), None) => "the profile assumes no HTTP probe".to_string(),
                    (Some(n), _) => format!("it has {n} container ports"),
                };
                out.report(
                    &HEALTHCHECK_NO_PROBE,
                    &[],
                    format!("no healthcheck added: {what} and {why}; write a probe that works inside the image"),
                );
            }
        }
    }
}

/// The probe with the profile's timings; a slow starter (the `probe` settings' list:
/// databases, JVMs) gets that list's longer `start_period`.
fn add(
    service: &Service,
    out: &mut Out,
    settings: &HealthcheckSettings,
    id: &'static Rule,
    test: Value,
    note: Option<String>,
) {
    let start_period = service
        .profile
        .probe
        .as_ref()
        .and_then(|p| p.slow_start.iter().find(|s| super::probe::is_slow(service, s)))
        .map_or(settings.start_period.as_str(), |s| s.start_period.as_str());
    out.add_noted(id, &["healthcheck", "test"], test, note);
    out.add(id, &["healthcheck", "interval"], settings.interval.as_str());
    out.add(id, &["healthcheck", "timeout"], settings.timeout.as_str());
    out.add(id, &["healthcheck", "retries"], settings.retries);
    out.add(id, &["healthcheck", "start_period"], start_period);
}

fn strings(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|s| Value::from(s.as_str())).collect())
}

/// The catalogue's answer for an image.
struct Choice<'r> {
    /// None: no probe to write.
    test: Option<&'r Vec<String>>,
    why: String,
    /// The image defines its own HEALTHCHECK.
    own: bool,
    /// Chosen to work with every tag, since the tag is not known.
    any_tag: bool,
}

fn catalogue_probe<'r>(probe: &'r ProbeEntry, image: &str, reference: &Reference) -> Choice<'r> {
    let Reference { tag, tag_known, .. } = reference;
    if !*tag_known && !probe.variants.is_empty() {
        // The probe differs by tag, and the tag is not known: the one for every tag.
        let why = |tail: &str| format!("the tag of `{image}` is known only once interpolated, and {tail}");
        return match &probe.any_tag {
            Some(any) if any.test.is_some() => Choice {
                test: any.test.as_ref(),
                why: format!(
                    "the tag of `{image}` is known only once interpolated, so the probe works with every tag: {}",
                    any.why
                ),
                own: false,
                any_tag: true,
            },
            Some(any) => Choice { test: None, why: why(&any.why), own: false, any_tag: false },
            None => Choice { test: None, why: why("the probe depends on it"), own: false, any_tag: false },
        };
    }
    let tag = tag.as_deref().unwrap_or_default();
    let major = major_version(tag);
    // The first variant whose every condition holds wins.
    let variant = probe.variants.iter().find(|v| {
        v.below_major.is_none_or(|b| major.is_some_and(|m| m < b))
            && v.tag_contains.as_deref().is_none_or(|t| tag.contains(t))
            && v.tag_matches.as_deref().is_none_or(|p| glob_match(p, tag))
            && (v.below_major.is_some() || v.tag_contains.is_some() || v.tag_matches.is_some())
    });
    let (test, why, own) = match variant {
        Some(v) => (v.test.as_ref(), v.why.as_str(), false),
        None => (probe.test.as_ref(), probe.why.as_str(), probe.own_healthcheck),
    };
    Choice { test, why: why.trim_end_matches('.').to_string(), own, any_tag: false }
}

/// The distinct TCP container ports a service publishes or exposes; None if one is not a
/// fixed number (`${PORT}`, a range), which makes "exactly one" unknowable.
fn container_ports(service: &Service) -> Option<Vec<String>> {
    let mut ports = BTreeSet::new();
    let mut unknown = false;
    let lists = [service.get(&["ports"]), service.get(&["expose"])];
    for item in lists.into_iter().flatten().filter_map(Value::as_sequence).flatten() {
        let spec = match item {
            Value::Mapping(m) => {
                if lookup::get(m, "protocol").and_then(Value::as_str).is_some_and(|p| p != "tcp") {
                    continue;
                }
                lookup::get(m, "target").map(scalar_text)
            }
            other => Some(scalar_text(other)),
        };
        let Some(spec) = spec else { continue };
        let (spec, protocol) = spec.split_once('/').unwrap_or((&spec, "tcp"));
        if protocol != "tcp" {
            continue;
        }
        let container = spec.rsplit(':').next().unwrap_or(spec);
        if container.contains('$') || container.contains('-') || container.parse::<u16>().is_err() {
            unknown = true;
            continue;
        }
        ports.insert(container.to_string());
    }
    (!unknown).then(|| ports.into_iter().collect())
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    /// Two catalogue entries (one with a variant by tag, one for an image with its own
    /// HEALTHCHECK), the HTTP probe assumed for one port, and the one-shot signs the
    /// `restart` settings give.
    const SETTINGS: &str = r#"
healthcheck:
  interval: 30s
  timeout: 10s
  retries: 3
  start_period: 15s
  http_fallback:
    test: [CMD, wget, -qO-, "http://localhost:{port}/health"]
    note: "assumed probe on port {port}"
  probes:
    - images: [redis]
      test: [CMD-SHELL, redis-cli ping | grep -q PONG]
      why: redis-cli ships in every tag.
      variants:
        - {below_major: 5, test: [CMD, redis-cli, ping], why: old tags.}
      any_tag: {test: [CMD, redis-cli, ping], why: it works in every tag.}
    - images: [example/own]
      test: null
      own_healthcheck: true
      why: the image has a HEALTHCHECK.
    - images: [example/bare]
      test: null
      why: the image ships no tool a probe could use.
restart:
  policy: unless-stopped
  one_shot: {policy: on-failure, names: ["*-migrate"], commands: []}
"#;

    #[test]
    fn the_catalogue_probe_is_written_with_the_profile_timings() {
        let compose = "services:
  cache: {image: redis:7}
  old: {image: redis:4}
  any: {image: 'redis:${TAG}'}
  set: {image: redis:7, healthcheck: {test: [CMD, true]}}
";
        check(plan(&Healthcheck, &profile(SETTINGS), compose), r#"
+ cache: healthcheck.test = ["CMD-SHELL","redis-cli ping | grep -q PONG"]  [healthcheck/missing]
+ cache: healthcheck.interval = "30s"  [healthcheck/missing]
+ cache: healthcheck.timeout = "10s"  [healthcheck/missing]
+ cache: healthcheck.retries = 3  [healthcheck/missing]
+ cache: healthcheck.start_period = "15s"  [healthcheck/missing]
+ old: healthcheck.test = ["CMD","redis-cli","ping"]  [healthcheck/missing]
+ old: healthcheck.interval = "30s"  [healthcheck/missing]
+ old: healthcheck.timeout = "10s"  [healthcheck/missing]
+ old: healthcheck.retries = 3  [healthcheck/missing]
+ old: healthcheck.start_period = "15s"  [healthcheck/missing]
+ any: healthcheck.test = ["CMD","redis-cli","ping"]  [healthcheck/missing]
+ any: healthcheck.interval = "30s"  [healthcheck/missing]
+ any: healthcheck.timeout = "10s"  [healthcheck/missing]
+ any: healthcheck.retries = 3  [healthcheck/missing]
+ any: healthcheck.start_period = "15s"  [healthcheck/missing]
info[healthcheck/catalogue] any at image: the tag of `redis:${TAG}` is known only once interpolated, so the probe works with every tag: it works in every tag.
"#);
    }

    #[test]
    fn an_unknown_image_with_one_port_gets_the_assumed_probe_unless_a_waiter_needs_it() {
        let compose = "services:
  api: {image: example/api:1, ports: ['8080:80']}
  web: {image: example/web:1, expose: ['3000']}
  client: {image: example/client:1, depends_on: {web: {condition: service_healthy}}}
";
        check(plan(&Healthcheck, &profile(SETTINGS), compose), r#"
+ api: healthcheck.test = ["CMD","wget","-qO-","http://localhost:80/health"]  # assumed probe on port 80  [healthcheck/assumed]
+ api: healthcheck.interval = "30s"  [healthcheck/assumed]
+ api: healthcheck.timeout = "10s"  [healthcheck/assumed]
+ api: healthcheck.retries = 3  [healthcheck/assumed]
+ api: healthcheck.start_period = "15s"  [healthcheck/assumed]
warning[healthcheck/assumed] api at healthcheck.test: assumed healthcheck: `example/api:1` is not in the probe catalogue, so it got the profile's HTTP probe on port 80; check that it answers GET /health or write a real probe
warning[healthcheck/health-waiter] web: no healthcheck added: `client` waits for this service to be healthy (service_healthy), which works only if the image has a HEALTHCHECK of its own, and a compose one would replace it; and a guessed probe that fails would keep `client` from starting
warning[healthcheck/no-probe] client: no healthcheck added: image `example/client:1` is not in the probe catalogue and it publishes no TCP container port; write a probe that works inside the image
"#);
    }

    #[test]
    fn no_probe_is_written_where_none_is_known() {
        let compose = "services:
  own: {image: example/own:1}
  bare: {image: example/bare:1}
  ports: {image: example/app:1, ports: ['80', '443']}
  none: {image: example/app:1}
  dynamic: {image: '${IMAGE}'}
  db-migrate: {image: example/app:1}
";
        check(plan(&Healthcheck, &profile(SETTINGS), compose), r#"
info[healthcheck/image-own] own at image: no healthcheck added: the image defines its own HEALTHCHECK, which one here would replace (the image has a HEALTHCHECK)
warning[healthcheck/no-probe] bare at image: no healthcheck added: the image ships no tool a probe could use
warning[healthcheck/no-probe] ports: no healthcheck added: image `example/app:1` is not in the probe catalogue and it has 2 container ports; write a probe that works inside the image
warning[healthcheck/no-probe] none: no healthcheck added: image `example/app:1` is not in the probe catalogue and it publishes no TCP container port; write a probe that works inside the image
warning[healthcheck/image-unknown] dynamic at image: no healthcheck added: the image `${IMAGE}` is known only once the file is interpolated, so no probe can be chosen for it; write one that works inside the image
info[healthcheck/one-shot] db-migrate: no healthcheck added: the service looks like a job that runs once (its name matches `*-migrate`), which a probe does not watch
"#);
    }
}
