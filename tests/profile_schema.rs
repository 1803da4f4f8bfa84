//! schemas/profile.schema.json is generated from the profile types; it must not go stale.
//! `BLESS=1 cargo test --test profile_schema` regenerates it.

use std::path::Path;

#[test]
fn profile_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/profile.schema.json");
    let generated = compose_harden::profiles::json_schema();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed, generated,
        "schemas/profile.schema.json is stale; run BLESS=1 cargo test --test profile_schema"
    );
    assert!(generated.contains("\"own_init_images\""));
}

/// Each built-in profile is read from a JSON twin of its YAML file; the twin must say the
/// same. `BLESS=1 cargo test --test profile_schema` regenerates it.
#[test]
fn built_in_profiles_json_twins_are_current() {
    for (name, yaml, json) in compose_harden::profiles::BUILTIN {
        // Written from the YAML value, so that the JSON keeps its key order.
        let from_yaml: yaml_serde::Value = yaml_serde::from_str(yaml).expect("the profile is YAML");
        let expected = serde_json::to_string(&from_yaml).expect("json") + "\n";
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("profiles/{name}.json"));
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&path, &expected).expect("write twin");
            continue;
        }
        assert_eq!(*json, expected, "profiles/{name}.json is stale; run BLESS=1 cargo test --test profile_schema");
        // Both read as the same profile, in the same order.
        let yaml_profile = compose_harden::Profile::parse(name, yaml).expect("the YAML parses");
        let json_profile = compose_harden::Profile::load(name).expect("the twin parses");
        assert_eq!(format!("{yaml_profile:?}"), format!("{json_profile:?}"));
    }
}

#[test]
fn a_profile_with_an_unknown_key_is_refused_with_its_position() {
    let err =
        compose_harden::Profile::parse("team.yml", "restart:\n  policy: always\nrestrat: {}\n").expect_err("refused");
    assert_eq!(err.to_string().lines().next().unwrap_or(""), err.to_string());
    assert_eq!(err.to_string(), "team.yml:3:1: error: invalid profile: unknown key `restrat`: did you mean `restart`?");
}
