//! The probe catalogue covers every image that appears at least twice in the corpus of
//! real files, so the most common services never fall through to a guess.

mod common;

use std::collections::BTreeMap;
use std::fs;

use compose_harden::profile::{glob_match, image_parts};

#[test]
fn every_image_seen_twice_in_the_corpus_has_a_catalogue_entry() {
    let Some(root) = common::corpus() else { return };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for sub in ["awesome-compose", "casaos-appstore"] {
        for entry in fs::read_dir(root.join(sub)).expect("corpus folder").flatten() {
            let Ok(text) = fs::read_to_string(entry.path()) else { continue };
            let Ok(value) = yaml_serde::from_str::<yaml_serde::Value>(&text) else { continue };
            let Some(services) = value.get("services").and_then(|s| s.as_mapping()) else { continue };
            for service in services.values() {
                if let Some(image) = service.get("image").and_then(|i| i.as_str()) {
                    *counts.entry(image_parts(image).0).or_default() += 1;
                }
            }
        }
    }
    let profile = compose_harden::Profile::load("production").expect("profile");
    let probes = profile.healthcheck.expect("healthcheck rule").probes;
    let common: Vec<&String> = counts.iter().filter(|(_, n)| **n >= 2).map(|(image, _)| image).collect();
    assert!(common.len() >= 20, "the corpus should have many repeated images, found {}", common.len());
    let missing: Vec<&&String> = common
        .iter()
        .filter(|image| !probes.iter().any(|p| p.images.iter().any(|pat| glob_match(pat, image))))
        .collect();
    assert!(missing.is_empty(), "images seen twice or more without a catalogue entry: {missing:?}");
    // Each such entry says where its image's HEALTHCHECK and init are known from
    // (`own_healthcheck` and `own_init` default to false, which the source must support).
    let unsourced: Vec<&&String> = common
        .iter()
        .filter(|image| {
            probes
                .iter()
                .find(|p| p.images.iter().any(|pat| glob_match(pat, image)))
                .is_some_and(|p| p.source.trim().len() < 20)
        })
        .collect();
    assert!(unsourced.is_empty(), "catalogue entries without a source for HEALTHCHECK and init: {unsourced:?}");
}
