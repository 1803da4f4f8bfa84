//! Which services Compose starts: those with no `profiles:`, and those with a profile that
//! is active (`COMPOSE_PROFILES`, from the shell or the project's `.env`; `*` turns every
//! one on). A service that is not active is hardened all the same (it runs once its
//! profile is turned on), and said so; an active service that waits for one that is not
//! makes Compose refuse `up`.

use super::env::Env;
use super::lookup;
use super::project::{Note, NoteKind};
use yaml_serde::{Mapping, Value};

/// The Compose profiles turned on, as Compose reads `COMPOSE_PROFILES`.
pub fn active(env: &Env) -> Vec<String> {
    let list = env.get("COMPOSE_PROFILES").unwrap_or_default();
    list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

fn profiles_of(service: &Mapping) -> Vec<&str> {
    match lookup::get(service, "profiles") {
        Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn runs(service: &Mapping, on: &[String]) -> bool {
    let profiles = profiles_of(service);
    profiles.is_empty() || on.iter().any(|p| p == "*" || profiles.contains(&p.as_str()))
}

/// Notes on the project's Compose profiles; `home` gives the file that defines a service.
pub fn notes(env: &Env, services: &Mapping, home: impl Fn(&str) -> usize) -> Vec<Note> {
    let on = active(env);
    let shown = match on.is_empty() {
        true => "none is active".to_string(),
        false => format!("active: {}", on.join(", ")),
    };
    let mut off = Vec::new();
    let mut notes = Vec::new();
    for (name, service) in services {
        let (Some(name), Value::Mapping(service)) = (name.as_str(), service) else { continue };
        if !runs(service, &on) {
            off.push(name);
            continue;
        }
        for dep in required_deps(service) {
            let Some(Value::Mapping(target)) = lookup::get(services, dep) else { continue };
            if runs(target, &on) {
                continue;
            }
            let wanted: Vec<String> = profiles_of(target).iter().map(|p| format!("`{p}`")).collect();
            notes.push(Note {
                kind: NoteKind::ProfileDependency,
                file: home(name),
                service: name.to_string(),
                path: vec!["services".to_string(), name.to_string(), "depends_on".to_string()],
                message: format!(
                    "depends on `{dep}`, which runs only under the Compose profile {} ({shown}): Compose refuses `up` \
                     unless one is turned on (`--profile`, or COMPOSE_PROFILES in the shell or `.env`)",
                    wanted.join(" or ")
                ),
            });
        }
    }
    if let Some(first) = off.first() {
        let names: Vec<String> = off.iter().map(|s| format!("`{s}`")).collect();
        let verb = if off.len() == 1 { "runs" } else { "run" };
        notes.push(Note {
            kind: NoteKind::Profiles,
            file: home(first),
            service: String::new(),
            path: vec!["services".to_string(), first.to_string(), "profiles".to_string()],
            message: format!(
                "{} {verb} only under a Compose profile that is not turned on ({shown}; COMPOSE_PROFILES or `--profile` \
                 turns one on): hardened all the same, ready for when it is",
                names.join(", ")
            ),
        });
    }
    notes
}

/// The services it waits for and cannot start without (`required: false` can).
fn required_deps(service: &Mapping) -> Vec<&str> {
    match lookup::get(service, "depends_on") {
        Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::Mapping(m)) => m
            .iter()
            .filter(|(_, how)| lookup::field(how, "required").and_then(Value::as_bool).unwrap_or(true))
            .filter_map(|(d, _)| d.as_str())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(text: &str) -> Mapping {
        yaml_serde::from_str(text).expect("yaml")
    }

    #[test]
    fn compose_profiles_turn_services_on() {
        let env = |v: &str| Env::given([("COMPOSE_PROFILES".to_string(), v.to_string())]);
        assert_eq!(active(&env(" data, tools ,")), ["data", "tools"]);
        let s = services("app: {image: a, depends_on: [db]}\ndb: {image: b, profiles: [data]}\n");
        let kinds = |env: &Env| notes(env, &s, |_| 0).iter().map(|n| n.kind).collect::<Vec<_>>();
        assert_eq!(kinds(&env("")), [NoteKind::ProfileDependency, NoteKind::Profiles]);
        assert!(kinds(&env("data")).is_empty());
        assert!(kinds(&env("*")).is_empty());
        let optional = services(
            "app: {image: a, depends_on: {db: {condition: service_started, required: false}}}\n\
                                 db: {image: b, profiles: [data]}\n",
        );
        assert_eq!(notes(&env(""), &optional, |_| 0).iter().map(|n| n.kind).collect::<Vec<_>>(), [NoteKind::Profiles]);
    }
}
