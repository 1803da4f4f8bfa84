//! Ulimits such as `nofile`: the default 1024 open files is too few for a busy server;
//! some images need more (Elasticsearch locks its heap in memory: `memlock` unlimited).

use super::{Out, Pass, Service};
use crate::profile::{glob_match, ImageUlimits, Profile, Ulimit};
use crate::rule::{rules, Rule};
use indexmap::IndexMap;

pub struct Ulimits;

rules! {
    ULIMITS_MISSING = "ulimits/missing", Warning, Safe,
        "the default open-file limit is low for a server",
        "The default soft nofile of 1024 is too few for a busy server. The fix writes the profile's ulimits. An \
         engine that cannot grant them (rootless and nested engines) refuses to start the container: \
         `verify` names it.";
    ULIMITS_IMAGE = "ulimits/image", Info, Safe,
        "the image needs a ulimit of its own",
        "Some images need more (Elasticsearch locks its heap: memlock unlimited).";
}

impl Pass for Ulimits {
    const NAME: &'static str = "ulimits";
    const RULES: &'static [&'static Rule] = RULES;
    /// The general ulimits, and those some images need beyond them.
    type Settings<'p> = (Option<&'p IndexMap<String, Ulimit>>, &'p [ImageUlimits]);

    fn settings(profile: &Profile) -> Option<Self::Settings<'_>> {
        let (general, images) = (profile.ulimits.as_ref(), &profile.image_ulimits[..]);
        (general.is_some() || !images.is_empty()).then_some((general, images))
    }

    fn run(&self, (general, images): Self::Settings<'_>, service: &Service, out: &mut Out) {
        for (name, limit) in general.into_iter().flatten() {
            fill(service, out, &ULIMITS_MISSING, name, limit);
        }
        let Some(repo) = service.repo() else { return };
        for entry in images {
            if !entry.images.iter().any(|p| glob_match(p, repo)) {
                continue;
            }
            for (name, limit) in &entry.ulimits {
                if fill(service, out, &ULIMITS_IMAGE, name, limit) {
                    out.report(&ULIMITS_IMAGE, &["ulimits", name], entry.why.clone());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    const SETTINGS: &str = "ulimits: {nofile: {soft: 65536, hard: 65536}}
image_ulimits:
  - {images: [elasticsearch], ulimits: {memlock: {soft: -1, hard: -1}}, why: it locks its heap.}
";

    #[test]
    fn the_general_and_the_image_ulimits_are_added_unless_set() {
        let compose = "services:
  app: {image: example/app:1}
  search: {image: elasticsearch:8.15.0}
  set: {image: elasticsearch:8.15.0, ulimits: {nofile: 1024, memlock: {soft: 0, hard: 0}}}
";
        check(plan(&Ulimits, &profile(SETTINGS), compose), r#"
+ app: ulimits.nofile.soft = 65536  [ulimits/missing]
+ app: ulimits.nofile.hard = 65536  [ulimits/missing]
+ search: ulimits.nofile.soft = 65536  [ulimits/missing]
+ search: ulimits.nofile.hard = 65536  [ulimits/missing]
+ search: ulimits.memlock.soft = -1  [ulimits/image]
+ search: ulimits.memlock.hard = -1  [ulimits/image]
info[ulimits/image] search at ulimits.memlock: it locks its heap.
"#);
    }
}
