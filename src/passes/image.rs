//! Images on tags that move: `nginx` (no tag: `latest`), `:latest`, `:stable`, `:main`.
//! The same file then runs different code on each host and each pull, and a rollback
//! cannot name what ran. A service with `build:` is left alone: its `image:` names what
//! the build makes. Under `strict` (`digest: true`) an image not pinned by digest is info.

use super::{Out, Pass, Service};
use crate::profile::{ImageSettings, Profile};
use crate::rule::{rules, Rule};

pub struct Image;

rules! {
    IMAGE_NO_TAG = "image/no-tag", Warning, None,
        "the image names no tag: it runs whatever `latest` is at the pull",
        "An image without a tag is `:latest`: each host and each pull may run different code, and a rollback \
         cannot name what ran. Name a version (`postgres:16.4`), or a digest. Not reported for a service with \
         `build:` (its `image:` names the build's output).",
        refs "CIS Docker Benchmark v1.7.0 5.28; OWASP Docker Security Cheat Sheet, rule 13";
    IMAGE_LATEST = "image/latest", Warning, None,
        "the image's tag is `latest`",
        "`:latest` moves with every release: each host and each pull may run different code, and a rollback \
         cannot name what ran. Name a version, or a digest. Not reported for a service with `build:`.",
        refs "CIS Docker Benchmark v1.7.0 5.28; OWASP Docker Security Cheat Sheet, rule 13";
    IMAGE_MOVING_TAG = "image/moving-tag", Warning, None,
        "the image's tag moves (`stable`, `edge`, `dev`, `nightly`, `main`, `master`)",
        "A channel tag points at a new image with each release or each commit: the file does not say what \
         runs. Name a version, or a digest. Not reported for a service with `build:`.",
        refs "CIS Docker Benchmark v1.7.0 5.28; OWASP Docker Security Cheat Sheet, rule 13";
    IMAGE_NO_DIGEST = "image/no-digest", Info, None,
        "the image is not pinned by digest",
        "A tag can be pushed again; only a digest (`image: postgres:16.4@sha256:...`) names one image for \
         good. Reported under profiles that ask for it (`image: {digest: true}`, as `strict` does).",
        refs "CIS Docker Benchmark v1.7.0 5.28; OWASP Docker Security Cheat Sheet, rule 13";
}

/// Tags that name a channel, not a release.
const MOVING: &[&str] = &["stable", "edge", "dev", "nightly", "main", "master"];

impl Pass for Image {
    const NAME: &'static str = "image";
    const CONTAINER: bool = false;
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p ImageSettings;

    fn settings(profile: &Profile) -> Option<&ImageSettings> {
        profile.image.as_ref()
    }

    fn run(&self, settings: &ImageSettings, service: &Service, out: &mut Out) {
        let (Some(image), Some(reference)) = (service.image(), service.reference()) else { return };
        if service.is_set(&["build"]) || !reference.repo_known {
            return;
        }
        let pinned = image.contains("@sha256:");
        if !pinned && reference.tag_known {
            match reference.tag.as_deref() {
                None => out.report(
                    &IMAGE_NO_TAG,
                    &["image"],
                    format!("`{image}` names no tag: it runs whatever `latest` is at the pull; name a version"),
                ),
                Some("latest") => out.report(
                    &IMAGE_LATEST,
                    &["image"],
                    format!("`{image}` runs whatever `latest` is at the pull; name a version"),
                ),
                Some(tag) if MOVING.contains(&tag) => out.report(
                    &IMAGE_MOVING_TAG,
                    &["image"],
                    format!("`{image}`: the tag `{tag}` moves with each release; name a version"),
                ),
                Some(_) => {}
            }
        }
        if settings.digest && !pinned {
            out.report(&IMAGE_NO_DIGEST, &["image"], format!("`{image}` is not pinned by digest (`@sha256:...`)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    #[test]
    fn tags_that_move_are_reported_but_not_for_a_build() {
        let compose = "services:
  bare: {image: nginx}
  latest: {image: 'docker.io/library/redis:latest'}
  channel: {image: 'ghcr.io/example/app:nightly'}
  defaulted: {image: 'example/app:${TAG:-latest}'}
  unknown: {image: 'example/app:${TAG}'}
  pinned: {image: 'postgres:16.4'}
  digest: {image: 'nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}
  built: {image: example/app, build: .}
  registry-port: {image: 'localhost:5000/app'}
";
        check(plan(&Image, &profile("image: {digest: false}"), compose), r#"
warning[image/no-tag] bare at image: `nginx` names no tag: it runs whatever `latest` is at the pull; name a version
warning[image/latest] latest at image: `docker.io/library/redis:latest` runs whatever `latest` is at the pull; name a version
warning[image/moving-tag] channel at image: `ghcr.io/example/app:nightly`: the tag `nightly` moves with each release; name a version
warning[image/latest] defaulted at image: `example/app:${TAG:-latest}` runs whatever `latest` is at the pull; name a version
warning[image/no-tag] registry-port at image: `localhost:5000/app` names no tag: it runs whatever `latest` is at the pull; name a version
"#);
        let compose = "services:\n  pinned: {image: 'postgres:16.4'}\n  built: {image: x, build: .}\n";
        check(plan(&Image, &profile("image: {digest: true}"), compose), r#"
info[image/no-digest] pinned at image: `postgres:16.4` is not pinned by digest (`@sha256:...`)
"#);
    }
}
