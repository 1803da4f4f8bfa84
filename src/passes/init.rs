//! PID 1: `init: true` runs tini, which forwards signals and reaps zombies.
//! Images that bring their own init (s6-overlay) break under tini, so they are left alone.

use super::{Out, Pass, Service};
use crate::rule as rules;
use yaml_serde::Value;

pub struct Init;

impl Pass for Init {
    fn name(&self) -> &'static str {
        "init"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        let Some(rule) = &service.profile.init else {
            return;
        };
        if service.is_set(&["init"]) {
            return;
        }
        if let (Some(image), Some(why)) = (service.image(), &service.facts.own_init) {
            out.report(
                &rules::INIT_OWN,
                &["image"],
                format!("init not added: image `{image}` runs its own init ({})", why.trim_end_matches('.')),
            );
            return;
        }
        if let Some(program) = first_word(service.get(&["entrypoint"])) {
            let base = program.rsplit('/').next().unwrap_or(&program);
            if rule.own_init_entrypoints.iter().any(|p| p == &program || p == base) {
                out.report(
                    &rules::INIT_ENTRYPOINT,
                    &["entrypoint"],
                    format!("init not added: the entrypoint starts `{program}`, an init already"),
                );
                return;
            }
        }
        out.add(&rules::INIT_MISSING, &["init"], true);
    }
}

fn first_word(entrypoint: Option<&Value>) -> Option<String> {
    match entrypoint? {
        Value::String(s) => s.split_whitespace().next().map(str::to_string),
        Value::Sequence(items) => items.first()?.as_str().map(str::to_string),
        _ => None,
    }
}
