//! Property test over files whose services share text: a defaults block outside
//! `services` that some merge (`<<: *defaults`, where a change every one of them gets is
//! written once), anchored services merged by
//! others (`<<: *s0`, lists of merges), anchored blocks aliased by other services
//! (`logging: *log0`, `reservations: *lim0`), per-service skips, one-shot jobs that others
//! wait for, and probes that need a repair. Compose accepts every such file; hardening
//! must succeed (never an internal error), keep every input line where it only inserts,
//! and change nothing the second time.

mod common;

use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Svc {
    image: &'static str,
    anchored: bool,
    /// Earlier services to merge (`<<: *sN`, or a list of them).
    merges: Vec<prop::sample::Index>,
    /// 0: none, 1: own anchored logging, 2: an alias of an earlier one.
    logging: u8,
    /// 0: none, 1: own anchored limits, 2: reservations aliasing an earlier limits.
    resources: u8,
    limits_memory: bool,
    skips: Vec<u8>,
    waits_for: Option<prop::sample::Index>,
    curl_probe: bool,
    cpu_shares: bool,
    migrate: bool,
    port: bool,
    /// 0: no defaults, 1: `<<: *defaults` before its other merges, 2: after them.
    defaults: u8,
}

/// `x-defaults: &defaults`, with some of the keys the passes write.
#[derive(Debug, Clone)]
struct Defaults {
    restart: bool,
    logging: bool,
    limits: bool,
    curl_probe: bool,
    image: bool,
}

fn defaults() -> impl Strategy<Value = Option<Defaults>> {
    prop::option::of((any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(restart, logging, limits, curl_probe, image)| Defaults { restart, logging, limits, curl_probe, image },
    ))
}

fn service() -> impl Strategy<Value = Svc> {
    (
        prop::sample::select(vec!["mysql:8", "postgres:16", "example/api:1", "example/dbtool:1", "redis", "nginx"]),
        any::<bool>(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        0u8..3,
        0u8..3,
        any::<bool>(),
        prop::collection::vec(0u8..5, 0..3),
        prop::option::of(any::<prop::sample::Index>()),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        0u8..3,
    )
        .prop_map(
            |(
                image,
                anchored,
                merges,
                logging,
                resources,
                limits_memory,
                skips,
                waits_for,
                (curl, shares, migrate, port),
                defaults,
            )| {
                Svc {
                    image,
                    anchored,
                    merges,
                    logging,
                    resources,
                    limits_memory,
                    skips,
                    waits_for,
                    curl_probe: curl,
                    cpu_shares: shares,
                    migrate,
                    port,
                    defaults,
                }
            },
        )
}

const SKIPS: [&str; 5] = ["resources", "logging", "restart", "healthcheck", "limits"];

fn render(defaults: Option<&Defaults>, services: &[Svc]) -> String {
    let mut lines = Vec::new();
    if let Some(d) = defaults {
        lines.push("x-defaults: &defaults".to_string());
        lines.push("  x-note: shared".to_string());
        for (on, line) in [
            (d.image, "  image: example/api:1"),
            (d.restart, "  restart: always"),
            (d.logging, "  logging:\n    driver: json-file"),
            (d.limits, "  deploy:\n    resources:\n      limits:\n        memory: 1G"),
            (d.curl_probe, "  healthcheck:\n    test: [\"CMD\", \"curl\", \"http://localhost:8080/health\"]"),
        ] {
            if on {
                lines.push(line.to_string());
            }
        }
    }
    lines.push("services:".to_string());
    let anchored: Vec<usize> = services.iter().enumerate().filter(|(_, s)| s.anchored).map(|(i, _)| i).collect();
    let mut logs: Vec<usize> = Vec::new();
    let mut limits: Vec<usize> = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let earlier: Vec<usize> = anchored.iter().copied().filter(|a| *a < i).collect();
        lines.push(format!("  s{i}:{}", if s.anchored { format!(" &s{i}") } else { String::new() }));
        let mut merges: Vec<String> = s
            .merges
            .iter()
            .filter(|_| !earlier.is_empty())
            .map(|m| format!("*s{}", earlier[m.index(earlier.len())]))
            .collect();
        merges.dedup();
        match (defaults.is_some(), s.defaults) {
            (true, 1) => merges.insert(0, "*defaults".to_string()),
            (true, 2) => merges.push("*defaults".to_string()),
            _ => {}
        }
        match merges.as_slice() {
            [] => {}
            [one] => lines.push(format!("    <<: {one}")),
            many => lines.push(format!("    <<: [{}]", many.join(", "))),
        }
        lines.push(format!("    image: {}", s.image));
        if s.port {
            lines.push("    expose: [\"8080\"]".into());
        }
        if s.migrate {
            lines.push("    command: [migrate]".into());
        }
        if s.curl_probe {
            lines.push("    healthcheck:".into());
            lines.push("      test: [\"CMD\", \"curl\", \"http://localhost:8080/health\"]".into());
        }
        match (s.logging, logs.last()) {
            (1, _) => {
                lines.push(format!("    logging: &log{i}"));
                lines.push("      driver: json-file".into());
                logs.push(i);
            }
            (2, Some(l)) => lines.push(format!("    logging: *log{l}")),
            _ => {}
        }
        if s.cpu_shares {
            lines.push("    cpu_shares: 512".into());
        }
        match (s.resources, limits.last()) {
            (1, _) => {
                lines.push("    deploy:".into());
                lines.push("      resources:".into());
                lines.push(format!("        limits: &lim{i}"));
                lines.push(if s.limits_memory { "          memory: 1G" } else { "          cpus: \"1\"" }.into());
                limits.push(i);
            }
            (2, Some(l)) => {
                lines.push("    deploy:".into());
                lines.push("      resources:".into());
                lines.push(format!("        reservations: *lim{l}"));
            }
            _ => {}
        }
        if !s.skips.is_empty() {
            let mut skips: Vec<&str> = s.skips.iter().map(|k| SKIPS[*k as usize]).collect();
            skips.dedup();
            lines.push(format!("    x-compose-harden: {{skip: [{}]}}", skips.join(", ")));
        }
        if let Some(w) = s.waits_for.filter(|_| i > 0) {
            lines.push("    depends_on:".into());
            lines.push(format!("      s{}:", w.index(i)));
            lines.push("        condition: service_completed_successfully".into());
        }
    }
    lines.join("\n") + "\n"
}

proptest! {
    // 400 cases by default; PROPTEST_CASES=100000 for the long search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(400),
        ..ProptestConfig::default()
    })]

    #[test]
    fn services_that_share_text_harden_without_an_internal_error(
        defaults in defaults(),
        services in prop::collection::vec(service(), 1..6),
    ) {
        let input = render(defaults.as_ref(), &services);
        let profile = compose_harden::Profile::load("production").expect("profile");
        let outcome = compose_harden::harden("gen.yml", input.as_bytes(), &profile)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{input}")))?;
        if !outcome.changes.iter().any(|c| c.replaces.is_some()) {
            if let Err(e) = common::keeps_every_line(&input, &outcome.output) {
                return Err(TestCaseError::fail(format!("{e}\n--- input\n{input}\n--- output\n{}", outcome.output)));
            }
        }
        let again = compose_harden::harden("gen.yml", outcome.output.as_bytes(), &profile)
            .map_err(|e| TestCaseError::fail(format!("{e}\n--- input\n{input}\n--- output\n{}", outcome.output)))?;
        prop_assert!(!again.changed(), "second apply changed:\n--- input\n{}\n--- output\n{}", input, again.output);
    }
}

#[test]
fn generator_covers_the_shared_forms() {
    // An index that picks `want` out of `n` choices.
    let idx = |n: usize, want: usize| {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        loop {
            let i = any::<prop::sample::Index>().new_tree(&mut runner).expect("index").current();
            if i.index(n) == want {
                return i;
            }
        }
    };
    let base = Svc {
        image: "mysql:8",
        anchored: true,
        merges: vec![],
        logging: 1,
        resources: 1,
        limits_memory: false,
        skips: vec![],
        waits_for: None,
        curl_probe: true,
        cpu_shares: false,
        migrate: false,
        port: false,
        defaults: 1,
    };
    let user = Svc {
        merges: vec![idx(1, 0)],
        logging: 2,
        resources: 2,
        skips: vec![0, 1],
        waits_for: Some(idx(1, 0)),
        migrate: true,
        anchored: true,
        ..base.clone()
    };
    let all = Defaults { restart: true, logging: true, limits: true, curl_probe: true, image: true };
    let user = Svc { defaults: 0, ..user };
    let last = Svc { merges: vec![idx(2, 0), idx(2, 1)], defaults: 2, ..user.clone() };
    let first = Svc { merges: vec![idx(3, 0)], defaults: 1, ..user.clone() };
    let text = render(Some(&all), &[base, user, last, first]);
    for needle in [
        "s0: &s0",
        "<<: *s0",
        "logging: *log0",
        "reservations: *lim0",
        "<<: [*s0, *s1, *defaults]",
        "<<: [*defaults, *s0]",
        "x-defaults: &defaults",
        "skip: [resources, logging]",
        "condition: service_completed_successfully",
        "curl",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}
