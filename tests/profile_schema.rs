//! schemas/profile.schema.json is generated from the profile types; it must not go stale.
//! `BLESS=1 cargo test --test profile_schema` regenerates it.

use std::path::Path;

#[test]
fn profile_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/profile.schema.json");
    let generated = compose_harden::profile::json_schema();
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

#[test]
fn a_profile_with_an_unknown_key_is_refused_with_its_position() {
    let err =
        compose_harden::Profile::parse("team.yml", "restart:\n  policy: always\nrestrat: {}\n").expect_err("refused");
    assert_eq!(err.to_string().lines().next().unwrap_or(""), err.to_string());
    assert!(err.to_string().starts_with("team.yml:3:1: error: invalid profile: unknown field `restrat`"), "{err}");
}
