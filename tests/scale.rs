//! A large file takes the paths built for scale (reading its services in runs, planning,
//! writing and verifying in two halves on two cores); it must come out exactly as its
//! services would one by one.

const SERVICE: &str = "  # service NAME\n  NAME:\n    image: example/app:1.0\n    ports:\n      - \"8080:80\"\n    environment:\n      LEVEL: info\n";

/// Comment lines before each service: 300 services make a file over 1 MiB, which is read
/// in runs of services.
fn padding() -> String {
    format!("  # {}\n", "padding ".repeat(12)).repeat(40)
}

fn file(names: &[String]) -> String {
    let mut text = String::from("services:\n");
    for name in names {
        text.push_str(&padding());
        text.push_str(&SERVICE.replace("NAME", name));
    }
    text.push_str("volumes:\n  data: {}\n");
    text
}

#[test]
fn a_large_file_hardens_exactly_as_its_services_do_one_by_one() {
    let profile = compose_harden::Profile::load("production").expect("profile");
    let names: Vec<String> = (0..300).map(|i| format!("svc{i}")).collect();
    let text = file(&names);
    let layout = compose_harden::document::layout::build(&text, "big.yml").expect("layout");
    let runs = compose_harden::document::slices::read(&text, 64 * 1024);
    assert!(text.len() > 1024 * 1024 && runs.is_some_and(|r| r.fits(&layout)), "the file is read in runs");
    let whole = compose_harden::harden("big.yml", text.as_bytes(), &profile).expect("hardens");
    assert!(whole.changes.len() >= 2048, "the plan is large enough to be split: {}", whole.changes.len());
    let mut expected = String::from("services:\n");
    for name in &names {
        let one =
            compose_harden::harden("one.yml", file(std::slice::from_ref(name)).as_bytes(), &profile).expect("hardens");
        let body = one.output.strip_prefix("services:\n").expect("starts with services");
        expected.push_str(body.strip_suffix("volumes:\n  data: {}\n").expect("ends with volumes"));
    }
    expected.push_str("volumes:\n  data: {}\n");
    assert_eq!(whole.output, expected);
    let again = compose_harden::harden("big.yml", whole.output.as_bytes(), &profile).expect("hardens again");
    assert!(!again.changed());
}
