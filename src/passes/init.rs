//! PID 1: `init: true` runs tini, which forwards signals and reaps zombies.
//! Images that bring their own init (s6-overlay) break under tini, so they are left alone.

use super::{Out, Pass, Service};
use crate::profile::{InitSettings, Profile};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Init;

rules! {
    INIT_MISSING = "init/missing", Warning, Safe,
        "no init: the app is PID 1",
        "As PID 1 the app gets no default signal handlers (SIGTERM is ignored unless it installs one) and must \
         reap orphaned children. `init: true` runs Docker's tini as PID 1, which forwards signals and reaps \
         zombies. Skipped where the image runs an init of its own (s6-overlay, tini, dumb-init): a second \
         one under it breaks its supervision.";
    INIT_OWN_INIT = "init/own-init", Info, None,
        "the image runs its own init, so none is added",
        "Images built on s6-overlay, supervisord or their own tini must keep their init as PID 1; `init: true` \
         would put tini above it. The catalogue names such images, each with its source.";
    INIT_ENTRYPOINT_INIT = "init/entrypoint-init", Info, None,
        "the entrypoint starts an init already",
        "An entrypoint of tini, dumb-init or s6's /init is an init; none is added above it.";
}

impl Pass for Init {
    const NAME: &'static str = "init";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p InitSettings;

    fn settings(profile: &Profile) -> Option<&InitSettings> {
        profile.init.as_ref()
    }

    fn run(&self, settings: &InitSettings, service: &Service, out: &mut Out) {
        if service.is_set(&["init"]) {
            return;
        }
        if let (Some(image), Some(why)) = (service.image(), &service.facts.own_init) {
            out.report(
                &INIT_OWN_INIT,
                &["image"],
                format!("init not added: image `{image}` runs its own init ({})", why.trim_end_matches('.')),
            );
            return;
        }
        if let Some(program) = first_word(service.get(&["entrypoint"])) {
            let base = program.rsplit('/').next().unwrap_or(&program);
            if settings.own_init_entrypoints.iter().any(|p| p == &program || p == base) {
                out.report(
                    &INIT_ENTRYPOINT_INIT,
                    &["entrypoint"],
                    format!("init not added: the entrypoint starts `{program}`, an init already"),
                );
                return;
            }
        }
        out.add(&INIT_MISSING, &["init"], true);
    }
}

fn first_word(entrypoint: Option<&Value>) -> Option<String> {
    match entrypoint? {
        Value::String(s) => s.split_whitespace().next().map(str::to_string),
        Value::Sequence(items) => items.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    const SETTINGS: &str = "init:
  own_init:
    - {images: [linuxserver/*], why: built on s6-overlay.}
  own_init_images: [example/own-init]
  own_init_entrypoints: [tini, /init]
";

    #[test]
    fn init_is_added_where_the_service_has_none() {
        let compose = "services:
  app: {image: example/app:1}
  set: {image: example/app:1, init: false}
";
        check(plan(&Init, &profile(SETTINGS), compose), r#"
+ app: init = true  [init/missing]
"#);
    }

    #[test]
    fn an_image_or_entrypoint_with_its_own_init_gets_none() {
        let compose = "services:
  plex: {image: linuxserver/plex}
  listed: {image: example/own-init:2}
  tini: {image: example/app:1, entrypoint: [/sbin/tini, --, app]}
  s6: {image: example/app:1, entrypoint: /init}
";
        check(plan(&Init, &profile(SETTINGS), compose), r#"
info[init/own-init] plex at image: init not added: image `linuxserver/plex` runs its own init (built on s6-overlay)
info[init/own-init] listed at image: init not added: image `example/own-init:2` runs its own init (listed in the profile)
info[init/entrypoint-init] tini at entrypoint: init not added: the entrypoint starts `/sbin/tini`, an init already
info[init/entrypoint-init] s6 at entrypoint: init not added: the entrypoint starts `/init`, an init already
"#);
    }
}
