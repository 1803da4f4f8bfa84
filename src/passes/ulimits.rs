//! Ulimits such as `nofile`: the default 1024 open files is too few for a busy server.

use super::{Out, Pass, Service};

pub struct Ulimits;

impl Pass for Ulimits {
    fn name(&self) -> &'static str {
        "ulimits"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        let Some(rule) = &service.profile.ulimits else {
            return;
        };
        for (name, limit) in rule {
            if service.is_set(&["ulimits", name]) {
                continue;
            }
            out.add(&["ulimits", name, "soft"], limit.soft);
            out.add(&["ulimits", name, "hard"], limit.hard);
        }
    }
}
