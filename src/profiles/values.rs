//! The values a profile sets, checked as Compose and the engine would read them: a value
//! that would make the output invalid, or mean nothing, is an error at its place in the
//! profile, before any file is hardened. The types are checked by the schema first.

use crate::suggest::edit_distance;
use crate::units;
use yaml_serde::Value;

/// A complaint: the keys to the value (list items by index) and the message.
pub(super) type Complaint = (Vec<String>, String);

/// Checks every value the profile sets (a layer may set only some).
pub(super) fn check(profile: &Value) -> Result<(), Complaint> {
    let mut c = Checker { errors: None };
    c.walk(profile, &mut Vec::new());
    c.errors.map_or(Ok(()), Err)
}

/// The restart conditions Swarm reads (`deploy.restart_policy.condition`).
const SWARM_CONDITIONS: &[&str] = &["any", "on-failure", "none"];

/// Checks that need a whole profile: reservations within limits, restart policies of the
/// form their target reads.
pub(super) fn check_merged(profile: &Value) -> Result<(), Complaint> {
    if let Some(restart) = profile.get("restart").filter(|r| r.is_mapping()) {
        let swarm = restart.get("swarm").and_then(Value::as_bool) == Some(true);
        let policies = [
            (vec!["restart", "policy"], restart.get("policy")),
            (vec!["restart", "one_shot", "policy"], restart.get("one_shot").and_then(|o| o.get("policy"))),
        ];
        for (path, policy) in policies {
            let Some(p) = policy.and_then(Value::as_str) else { continue };
            let fits =
                if swarm { SWARM_CONDITIONS.contains(&p) } else { !SWARM_CONDITIONS.contains(&p) || p == "on-failure" };
            if !fits {
                let message = match swarm {
                    true => format!("`policy: {p}` is not a Swarm restart condition (any, on-failure, none), and `swarm: true` writes one"),
                    false => format!("`policy: {p}` is a Swarm restart condition; `restart` takes no, always, on-failure[:N] or unless-stopped (or set `swarm: true`)"),
                };
                return Err((path.iter().map(|s| s.to_string()).collect(), message));
            }
        }
    }
    let Some(resources) = profile.get("resources") else { return Ok(()) };
    within(resources, &["resources".to_string()])?;
    for (i, class) in resources.get("classes").and_then(Value::as_sequence).into_iter().flatten().enumerate() {
        within(class, &["resources".to_string(), "classes".to_string(), i.to_string()])?;
    }
    Ok(())
}

struct Checker {
    errors: Option<Complaint>,
}

impl Checker {
    fn fail(&mut self, path: &[String], message: String) {
        self.errors.get_or_insert((path.to_vec(), message));
    }

    fn walk(&mut self, value: &Value, path: &mut Vec<String>) {
        if self.errors.is_some() {
            return;
        }
        match value {
            Value::Mapping(map) => {
                for (k, v) in map {
                    path.push(k.as_str().unwrap_or_default().to_string());
                    self.leaf(v, path);
                    self.walk(v, path);
                    path.pop();
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    self.leaf(item, path);
                    self.walk(item, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// One value, by what its key means (wherever it sits: a class's limits read as the
    /// section's do).
    fn leaf(&mut self, value: &Value, path: &[String]) {
        let key = path.last().map(String::as_str).unwrap_or_default();
        let parent = path.len().checked_sub(2).map(|i| path[i].as_str()).unwrap_or_default();
        let text = value.as_str();
        let shown = || text.map_or_else(|| format!("{value:?}"), str::to_string);
        let duration = ["interval", "timeout", "start_period", "stop_grace_period", "monitor", "delay"];
        if duration.contains(&key) && text.is_some_and(|t| units::seconds(t).is_none()) {
            let message = format!("`{key}: {}` is not a duration (`30s`, `1m30s`, `500ms`)", shown());
            return self.fail(path, message);
        }
        let is_size = key == "memory" || key == "unit" || (key == "max-size" && parent == "options");
        if is_size && text.is_some_and(|t| size(t).filter(|b| *b > 0.0).is_none()) {
            let message = format!("`{key}: {}` is not a size (`512M`, `1G`, `10m`)", shown());
            return self.fail(path, message);
        }
        if key == "max-file" && parent == "options" && text.is_some_and(|t| t.parse::<u32>().map_or(true, |n| n == 0)) {
            return self.fail(path, format!("`max-file: {}` is not a count of files (\"5\")", shown()));
        }
        if key == "cpus" && text.is_some_and(|t| cpus(t).is_none()) {
            return self.fail(path, format!("`cpus: {}` is not a number of CPUs (\"0.5\", \"2\")", shown()));
        }
        if key == "stop_signal" && text.is_some_and(|t| !units::signal(t)) {
            let message =
                format!("`stop_signal: {}` is not a signal the engine knows (SIGTERM, SIGQUIT, SIGINT, ...)", shown());
            return self.fail(path, message);
        }
        let swarm_condition = |t: &str| SWARM_CONDITIONS.contains(&t);
        let restart = |t: &str| units::valid_restart(t) && !t.contains('$');
        if key == "policy" && text.is_some_and(|t| !restart(t) && !swarm_condition(t)) {
            let message = format!(
                "`policy: {}` is not a restart policy the engine runs (no, always, on-failure[:N], unless-stopped; \
                 with `swarm: true`, any, on-failure or none)",
                shown()
            );
            return self.fail(path, message);
        }
        if (key == "ulimits" || path == ["ulimits"]) && value.is_mapping() {
            return self.ulimits(value, path);
        }
        let patterns = ["images", "names", "own_init_images", "alpine_images", "alpine_with_curl", "without_curl"];
        if patterns.contains(&key) {
            for (i, p) in value.as_sequence().into_iter().flatten().enumerate() {
                if let Some(message) = p.as_str().and_then(pattern) {
                    let at: Vec<String> = path.iter().cloned().chain([i.to_string()]).collect();
                    return self.fail(&at, message);
                }
            }
        }
        if key == "tag_matches" || (parent == "match" && (key == "image" || key == "name")) {
            if let Some(message) = text.and_then(pattern) {
                return self.fail(path, message);
            }
        }
        if key == "headroom" && value.as_f64().is_some_and(|h| !(1.2..=1.5).contains(&h)) {
            return self.fail(path, "`headroom`: the lesson puts limits 20-50% above the peak; give 1.2 to 1.5".into());
        }
        if key == "max_heap_percent" && value.as_f64().is_some_and(|p| !(p > 0.0 && p <= 100.0)) {
            self.fail(path, "`max_heap_percent` is a share of the memory limit: above 0, at most 100".into());
        }
    }

    fn ulimits(&mut self, value: &Value, path: &[String]) {
        for (name, limit) in value.as_mapping().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            let at: Vec<String> = path.iter().cloned().chain([name.to_string()]).collect();
            if !units::ULIMITS.contains(&name) {
                let near = units::ULIMITS.iter().min_by_key(|u| edit_distance(name, u));
                let hint = near
                    .filter(|u| edit_distance(name, u) <= 2)
                    .map_or(String::new(), |u| format!("; did you mean `{u}`?"));
                return self.fail(&at, format!("`{name}` is not a ulimit the engine knows{hint}"));
            }
            let get = |k: &str| limit.get(k).and_then(Value::as_i64);
            if let (Some(soft), Some(hard)) = (get("soft"), get("hard")) {
                let over = |v: i64| if v < 0 { i64::MAX } else { v };
                if over(soft) > over(hard) {
                    return self.fail(&at, format!("`{name}`: the soft limit {soft} is above the hard limit {hard}"));
                }
            }
        }
    }
}

/// A size as a profile writes it (`512M`).
fn size(text: &str) -> Option<f64> {
    units::bytes(&Value::from(text))
}

/// A CPU count as `cpus` takes it (`0.5`, `2`): a positive number.
fn cpus(text: &str) -> Option<f64> {
    units::cpus(&Value::from(text)).filter(|c| c.is_finite() && *c > 0.0)
}

/// Why a pattern means nothing, if it does: patterns match `*` and nothing else.
fn pattern(p: &str) -> Option<String> {
    let bad = p.chars().find(|c| !(c.is_ascii_alphanumeric() || "._-/:@*".contains(*c)))?;
    Some(format!(
        "the pattern `{p}` holds `{bad}`, which no image reference does: patterns match `*` (any run of characters) and nothing else"
    ))
}

/// Reservations at or below limits, in the settings or a class.
fn within(settings: &Value, path: &[String]) -> Result<(), Complaint> {
    let (Some(limits), Some(reservations)) = (settings.get("limits"), settings.get("reservations")) else {
        return Ok(());
    };
    for (key, read) in [("memory", size as fn(&str) -> Option<f64>), ("cpus", cpus)] {
        let get = |m: &Value| m.get(key).and_then(Value::as_str).and_then(read);
        if let (Some(limit), Some(reserved)) = (get(limits), get(reservations)) {
            if reserved > limit {
                let at: Vec<String> =
                    path.iter().cloned().chain(["reservations".to_string(), key.to_string()]).collect();
                let show = |m: &Value| m.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
                return Err((
                    at,
                    format!(
                        "the {key} reservation {} is above the limit {}: the engine refuses to create such a container",
                        show(reservations),
                        show(limits)
                    ),
                ));
            }
        }
    }
    Ok(())
}
