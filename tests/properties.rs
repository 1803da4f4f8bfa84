//! Property test over generated compose files in many styles: indentation widths, CRLF,
//! block and flow services, comments, block scalars, anchors and merges. For each:
//! hardening succeeds, the output keeps every input byte (insertions only), re-parses,
//! and a second apply changes nothing.

mod common;

use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Style {
    step: usize,
    crlf: bool,
    final_newline: bool,
    defaults: bool,
}

#[derive(Debug, Clone)]
struct Svc {
    image: &'static str,
    flow: u8,
    keys: Vec<u8>,
    merge: bool,
    comment: bool,
}

fn service() -> impl Strategy<Value = Svc> {
    (
        prop::sample::select(vec![
            "postgres:16",
            "redis",
            "example/app:1",
            "mariadb:10.6",
            "lscr.io/linuxserver/plex",
            "nginx",
        ]),
        0u8..5,
        prop::collection::vec(0u8..11, 0..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(image, flow, keys, merge, comment)| Svc { image, flow, keys, merge, comment })
}

fn style() -> impl Strategy<Value = Style> {
    (1usize..5, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(step, crlf, final_newline, defaults)| Style {
        step,
        crlf,
        final_newline,
        defaults,
    })
}

/// Block entries a service may carry (key, lines below it relative to the key).
fn block_entry(k: u8) -> (&'static str, Vec<&'static str>) {
    match k {
        0 => ("ports:", vec!["- \"8080:8080\""]),
        1 => ("restart: always", vec![]),
        2 => ("init: false", vec![]),
        3 => ("logging:", vec!["driver: syslog"]),
        4 => ("deploy:", vec!["resources:", "  limits:", "    memory: 1g"]),
        5 => ("environment:", vec!["A: \"1\"", "B: ${B:-x}"]),
        6 => ("command: |+", vec!["  run", ""]),
        7 => ("labels: {a: b}", vec![]),
        8 => ("expose: [\"9000\"]", vec![]),
        9 => ("# a comment between keys", vec![]),
        _ => ("healthcheck: {test: [\"NONE\"]}", vec![]),
    }
}

fn flow_entry(k: u8) -> &'static str {
    match k {
        0 => "ports: [\"8080:8080\"]",
        1 => "restart: always",
        2 => "init: false",
        3 => "logging: {driver: syslog}",
        4 => "deploy: {resources: {limits: {memory: 1g}}}",
        5 => "environment: {A: \"1\"}",
        6 => "command: [\"run\"]",
        7 => "labels: {a: b}",
        8 => "expose: [\"9000\"]",
        9 => "stop_signal: SIGTERM",
        _ => "healthcheck: {test: [\"NONE\"]}",
    }
}

fn render(style: &Style, services: &[Svc]) -> String {
    let ind = |n: usize| " ".repeat(n * style.step);
    let mut lines: Vec<String> = Vec::new();
    if style.defaults {
        lines.push("x-defaults: &defaults".into());
        lines.push(format!("{}restart: on-failure", ind(1)));
        lines.push(format!("{}deploy: &dep", ind(1)));
        lines.push(format!("{}resources:", ind(2)));
        lines.push(format!("{}reservations:", ind(3)));
        lines.push(format!("{}memory: 64M", ind(4)));
    }
    lines.push("services:".into());
    for (i, s) in services.iter().enumerate() {
        if i > 0 && s.merge {
            lines.push(String::new());
        }
        let mut keys = s.keys.clone();
        keys.sort_unstable();
        keys.dedup();
        if s.comment {
            lines.push(format!("{}# service {i}", ind(1)));
        }
        match s.flow {
            0 | 1 => {
                lines.push(format!("{}s{i}:{}", ind(1), if s.comment { "  # note" } else { "" }));
                if s.merge && style.defaults {
                    lines.push(format!("{}<<: *defaults", ind(2)));
                }
                lines.push(format!("{}image: \"{}\"", ind(2), s.image));
                for k in keys {
                    let (key, below) = block_entry(k);
                    if k == 4 && style.defaults && s.comment {
                        lines.push(format!("{}deploy: *dep", ind(2)));
                        continue;
                    }
                    lines.push(format!("{}{key}", ind(2)));
                    for b in below {
                        lines.push(if b.is_empty() { String::new() } else { format!("{}{b}", ind(3)) });
                    }
                }
            }
            4 if style.defaults => {
                lines.push(format!("{}s{i}: *defaults", ind(1)));
            }
            2 | 4 => {
                let mut entries = vec![format!("image: \"{}\"", s.image)];
                entries.extend(keys.iter().map(|k| flow_entry(*k).to_string()));
                lines.push(format!("{}s{i}: {{{}}}", ind(1), entries.join(", ")));
            }
            _ => {
                lines.push(format!("{}s{i}: {{", ind(1)));
                let mut entries = vec![format!("image: \"{}\"", s.image)];
                entries.extend(keys.iter().map(|k| flow_entry(*k).to_string()));
                lines.push(format!("{}{}", ind(2), entries.join(&format!(",\n{}", ind(2)))));
                lines.push(format!("{}}}", ind(1)));
            }
        }
    }
    let eol = if style.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join("\n").replace('\n', eol);
    if style.final_newline {
        text.push_str(eol);
    }
    text
}

proptest! {
    // 400 cases by default; PROPTEST_CASES=20000 for a longer search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(400),
        ..ProptestConfig::default()
    })]

    #[test]
    fn hardening_inserts_only_and_is_idempotent(style in style(), services in prop::collection::vec(service(), 1..5)) {
        let input = render(&style, &services);
        let profile = compose_harden::Profile::load("production").expect("profile");
        let outcome = compose_harden::harden("gen.yml", input.as_bytes(), &profile)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{input}")))?;
        if let Err(e) = common::keeps_every_line(&input, &outcome.output) {
            return Err(TestCaseError::fail(format!("{e}\n--- input\n{input}\n--- output\n{}", outcome.output)));
        }
        prop_assert_eq!(outcome.output.contains("\r\n"), style.crlf);
        prop_assert_eq!(outcome.output.ends_with('\n'), input.ends_with('\n'));
        let again = compose_harden::harden("gen.yml", outcome.output.as_bytes(), &profile)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", outcome.output)))?;
        prop_assert!(!again.changed(), "second apply changed:\n{}", again.output);
    }

    #[test]
    fn the_fast_verifier_never_accepts_what_the_whole_reading_refuses(
        style in style(),
        services in prop::collection::vec(service(), 1..5),
        at in any::<prop::sample::Index>(),
        damage in prop::sample::select(vec!["", " ", "\n", "#", "\"", "x", "  x: 1\n", "    init: false\n", "-"]),
    ) {
        let input = render(&style, &services);
        let profile = compose_harden::Profile::load("production").expect("profile");
        let outcome = compose_harden::harden("gen.yml", input.as_bytes(), &profile)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{input}")))?;
        let doc = compose_harden::document::load("gen.yml", input.as_bytes()).expect("loads");
        let mut output = outcome.output.clone();
        let at = (0..=at.index(output.len())).rev().find(|i| output.is_char_boundary(*i)).unwrap_or(0);
        match damage {
            "" if at < output.len() => { output.remove(at); }
            text => output.insert_str(at, text),
        }
        if let Err(e) = compose_harden::validate::readings_agree(&doc, &output, &outcome.changes) {
            return Err(TestCaseError::fail(format!("{e}\n--- input\n{input}\n--- output\n{output}")));
        }
    }
}

#[test]
fn generator_covers_the_hard_styles() {
    let style = Style { step: 3, crlf: false, final_newline: true, defaults: true };
    let services = vec![
        Svc { image: "redis", flow: 0, keys: vec![4, 6, 9], merge: true, comment: true },
        Svc { image: "nginx", flow: 3, keys: vec![0, 10], merge: false, comment: false },
        Svc { image: "nginx", flow: 4, keys: vec![], merge: true, comment: false },
    ];
    let text = render(&style, &services);
    for needle in ["deploy: *dep", "s2: *defaults", "|+", "s1: {", "<<: *defaults", "# a comment"] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}
