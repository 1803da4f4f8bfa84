//! PID 1: `init: true` runs tini, which forwards signals and reaps zombies.
//! Images that bring their own init (s6-overlay) break under tini, so they are left alone.
//! Whether an image does is read from the image itself where facts are at hand; the
//! profile's name lists decide only without them.

use super::{evidence, Out, Pass, Service};
use crate::facts::InitKind;
use crate::profile::{InitSettings, Profile};
use crate::rule::{rules, Rule, Severity};
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
         would put tini above it. The image facts show the init an image's entrypoint starts; without facts, the \
         catalogue names such images, each with its source.";
    INIT_ENTRYPOINT_INIT = "init/entrypoint-init", Info, None,
        "the entrypoint starts an init already",
        "An entrypoint of tini, dumb-init or s6's /init is an init; none is added above it.";
    INIT_UNDER_OWN_INIT = "init/under-own-init", Error, None,
        "`init: true` puts docker-init above the image's own init",
        "The image facts show that the image's entrypoint is an init. s6-overlay's `/init` refuses to run unless \
         it is PID 1 (\"can only run as pid 1\"), so under `init: true` the container exits at once: an error. \
         tini, dumb-init, catatonit, supervisord and runit run under docker-init (it forwards signals to them and \
         they reap as subreapers), so there it is an info: one init is enough. The user's `init` is kept; remove \
         it yourself.";
}

impl Pass for Init {
    const NAME: &'static str = "init";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p InitSettings;

    fn settings(profile: &Profile) -> Option<&InitSettings> {
        profile.init.as_ref()
    }

    fn run(&self, settings: &InitSettings, service: &Service, out: &mut Out) {
        let own = service.facts.and_then(|image| Some((image, evidence::init(service, image)?)));
        if service.is_set(&["init"]) {
            if let Some((image, init)) = own.filter(|_| service.get(&["init"]).and_then(|v| v.as_bool()) == Some(true)) {
                let (severity, why) = match init.kind {
                    InitKind::S6Overlay => {
                        (Severity::Error, "which refuses to run unless it is PID 1: the container exits at once")
                    }
                    _ => (Severity::Info, "which runs under docker-init, so one of the two is enough"),
                };
                out.report_as(
                    &INIT_UNDER_OWN_INIT,
                    severity,
                    &["init"],
                    format!(
                        "`init: true` runs docker-init above the own init of {}: {}, {why}; remove `init: true`",
                        evidence::image(service, image),
                        evidence::init_text(init)
                    ),
                );
            }
            return;
        }
        if let Some((image, init)) = own {
            out.report(
                &INIT_OWN_INIT,
                &["image"],
                format!(
                    "init not added: {} starts its own init, {}",
                    evidence::image(service, image),
                    evidence::init_text(init)
                ),
            );
            return;
        }
        // The facts show no init: the name lists, a guess from the image's name, give way.
        let own_init = service.signs.own_init.as_ref().filter(|_| service.facts.is_none());
        if let (Some(image), Some(why)) = (service.image(), own_init) {
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
    use crate::passes::testing::{check, plan, profile, with_facts};

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

    /// Facts: three images, one with s6-overlay's `/init`, one with tini, one with none.
    const FACTS: &str = r#"version: 1
inspected: {engine: "20.10", tools: [sh, tini, wget]}
images:
  "example/s6:1":
    id: sha256:f7bc2d7e37e2569c53c36a435feee47d855be06817cd291b8e64bbd09752588e
    platform: linux/amd64
    entrypoint: [/init]
    path: [/bin]
    bin_sh: true
    init: {kind: s6-overlay, path: /init, marker: /package/admin/s6-overlay}
  "example/tini:1":
    id: sha256:c910536e56239aa4fc1b859451dece8110db988143f1bb0d73eda5daae0b0c77
    platform: linux/amd64
    entrypoint: [tini, "--"]
    path: [/bin]
    bin_sh: true
    init: {kind: tini, path: /sbin/tini}
  "linuxserver/plain:1":
    id: sha256:8fcd95fc1b3b578f1d676442ce91c87d2acb75a4f2b5cabf635757bb70d029f0
    platform: linux/amd64
    path: [/bin]
    bin_sh: true
"#;

    #[test]
    fn the_image_facts_decide_whether_it_runs_its_own_init() {
        let compose = "services:
  s6: {image: example/s6:1}
  s6-init: {image: example/s6:1, init: true}
  tini-init: {image: example/tini:1, init: true}
  replaced: {image: example/s6:1, entrypoint: [/app]}
  plain: {image: linuxserver/plain:1}
  unknown: {image: example/unknown:1}
";
        check(with_facts(&Init, &profile(SETTINGS), FACTS, compose), r#"
+ replaced: init = true  [init/missing]
+ plain: init = true  [init/missing]
+ unknown: init = true  [init/missing]
info[init/own-init] s6 at image: init not added: `example/s6:1` (image ID f7bc2d7e37e2) starts its own init, s6-overlay's `/init` (seen: `/package/admin/s6-overlay`)
error[init/under-own-init] s6-init at init: `init: true` runs docker-init above the own init of `example/s6:1` (image ID f7bc2d7e37e2): s6-overlay's `/init` (seen: `/package/admin/s6-overlay`), which refuses to run unless it is PID 1: the container exits at once; remove `init: true`
info[init/under-own-init] tini-init at init: `init: true` runs docker-init above the own init of `example/tini:1` (image ID c910536e5623): tini (`/sbin/tini`), which runs under docker-init, so one of the two is enough; remove `init: true`
"#);
    }
}
