//! Ulimits such as `nofile`: the default 1024 open files is too few for a busy server;
//! some images need more (Elasticsearch locks its heap in memory: `memlock` unlimited).

use super::{Out, Pass, Service};
use crate::profile::{glob_match, Ulimit};
use crate::rule::{self as rules, Rule};

pub struct Ulimits;

impl Pass for Ulimits {
    fn name(&self) -> &'static str {
        "ulimits"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        if let Some(rule) = &service.profile.ulimits {
            for (name, limit) in rule {
                fill(service, out, &rules::ULIMITS_MISSING, name, limit);
            }
        }
        let Some(repo) = service.repo() else { return };
        for entry in &service.profile.image_ulimits {
            if !entry.images.iter().any(|p| glob_match(p, repo)) {
                continue;
            }
            for (name, limit) in &entry.ulimits {
                if fill(service, out, &rules::ULIMITS_IMAGE, name, limit) {
                    out.report(&rules::ULIMITS_IMAGE, &["ulimits", name], entry.why.clone());
                }
            }
        }
    }
}

/// Adds one ulimit unless the service has it; whether it was added.
fn fill(service: &Service, out: &mut Out, id: &'static Rule, name: &str, limit: &Ulimit) -> bool {
    if service.is_set(&["ulimits", name]) {
        return false;
    }
    out.add(id, &["ulimits", name, "soft"], limit.soft);
    out.add(id, &["ulimits", name, "hard"], limit.hard);
    true
}
