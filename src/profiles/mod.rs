//! Reading profile files: the built-in profiles, `extends` chains and `--profile` layers
//! merged, each file checked against the schema, its values and the rule ids it names;
//! and what `profiles show` and `schema profile` print.

mod layers;
mod schema;
mod show;
mod values;

use crate::error::Error;
use crate::profile::{Profile, Source};

pub use layers::sections;
pub use schema::json_schema;
pub use show::show;

/// The built-in profiles: each is written in `profiles/NAME.yml`, and read from its JSON
/// twin `profiles/NAME.json` (the same data, read several times faster than YAML, which
/// matters for small files; `tests/profile_schema.rs` holds the twin current).
pub const BUILTIN: &[(&str, &str, &str)] = &[
    ("production", include_str!("../../profiles/production.yml"), include_str!("../../profiles/production.json")),
    ("minimal", include_str!("../../profiles/minimal.yml"), include_str!("../../profiles/minimal.json")),
    ("orchestrated", include_str!("../../profiles/orchestrated.yml"), include_str!("../../profiles/orchestrated.json")),
    ("swarm", include_str!("../../profiles/swarm.yml"), include_str!("../../profiles/swarm.json")),
    ("strict", include_str!("../../profiles/strict.yml"), include_str!("../../profiles/strict.json")),
];

impl Profile {
    /// A built-in profile by name, or a profile file by path (with its `extends` chain).
    pub fn load(name_or_path: &str) -> Result<Profile, Error> {
        // The default: the built-in's JSON twin, read straight into the types (no layers).
        if let Some((name, _, json)) = BUILTIN.iter().find(|(n, ..)| *n == name_or_path) {
            if !json.contains("\"extends\"") {
                let mut profile: Profile = serde_json::from_str(json)
                    .map_err(|e| Error::new(&format!("<built-in profile {name}>"), format!("invalid profile: {e}")))?;
                profile.source = Source(None, Some(json));
                return Ok(profile);
            }
        }
        Self::layered(&[name_or_path])
    }

    /// A profile from its text, as a file of that name in the current directory.
    pub fn parse(file: &str, text: &str) -> Result<Profile, Error> {
        layers::parsed(file, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::PASSES;
    use yaml_serde::Value;

    #[test]
    fn builtin_profile_parses() {
        let p = Profile::load("production").expect("built-in profile");
        assert_eq!(p.restart.map(|r| r.policy).as_deref(), Some("unless-stopped"));
    }

    /// A pass's section is where its settings are read from: with the section the pass runs,
    /// without it (and without anything else it reads) it does not.
    #[test]
    fn each_pass_reads_its_own_section() {
        let merged = |name: &str| layers::resolve(&[name]).expect("a built-in profile").0;
        let mut all = merged("production");
        for (name, section) in [("strict", "security"), ("swarm", "swarm")] {
            all[section] = merged(name)[section].clone();
        }
        let profile = |value: &Value| yaml_serde::from_value::<Profile>(value.clone()).expect("a profile");
        let mut without_sections = Vec::new();
        for pass in PASSES {
            let Some(section) = pass.section() else {
                without_sections.push(pass.name());
                continue;
            };
            assert!(pass.on(&profile(&all)), "{} is off with `{section}` given", pass.name());
            let mut without = all.clone();
            let map = without.as_mapping_mut().expect("a mapping");
            map.remove(section);
            map.remove("image_ulimits"); // What `ulimits` reads besides its section.
            assert!(!pass.on(&profile(&without)), "{} runs without `{section}`", pass.name());
        }
        // `measured` reads what `sizing:` or `--sizing` measured, not settings of its own.
        assert_eq!(without_sections, ["measured"]);
    }
}
