//! `inspect` on a real engine, with images built here (tests/engine/facts/images.sh, no
//! registry): each image's facts checked exactly, staleness, and nothing left behind.
//! Skipped with a notice where no engine answers; required under CI.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

const NS: &str = "compose-harden-test";

fn docker(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// One test at a time: each checks that its runs left no container behind.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether the engine answers and the images are built (once per run).
fn ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    let ready = *READY.get_or_init(|| {
        if docker(&["version", "--format", "{{.Server.Version}}"]).is_none() {
            common::missing("a Docker engine that answers");
            return false;
        }
        let built = Command::new("bash").args(["tests/engine/images.sh", "facts"]).status().is_ok_and(|s| s.success());
        if !built {
            common::missing("the inspect test images (tests/engine/images.sh facts failed)");
        }
        built
    });
    if !ready {
        use std::io::Write;
        let _ =
            writeln!(std::io::stderr(), "SKIPPED: no engine or no test images; this engine test checks nothing here");
    }
    ready
}

fn id(image: &str) -> String {
    docker(&["image", "inspect", "--format", "{{.Id}}", image]).expect("the image exists")
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = common::bin();
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn left_behind() -> String {
    docker(&["ps", "-a", "-q", "--filter", "label=io.compose-harden.inspect"]).unwrap_or_default()
}

/// The section of one image in a facts file: from its key to the next image's.
fn section<'a>(text: &'a str, key: &str) -> &'a str {
    let start = text.find(&format!("  \"{key}\":\n")).unwrap_or_else(|| panic!("no section for {key} in:\n{text}"));
    let rest = &text[start..];
    let end = rest[1..].find("\n  \"").map_or(rest.len(), |i| i + 2);
    let end = rest.find("\nbuilds:").map_or(end, |b| end.min(b + 1));
    &rest[..end]
}

const BUSYBOX_TOOLS: &str =
    "    tools:\n      busybox: /bin/busybox\n      nc: /bin/nc -> /bin/busybox\n      sh: /bin/sh -> /bin/busybox\n      wget: /bin/wget -> /bin/busybox\n";
const PATH: &str = "    path: [/usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin]\n";

#[test]
fn inspect_reads_each_image_exactly() {
    let _alone = alone();
    if !ready() {
        return;
    }
    let names = [
        "facts-healthcheck",
        "facts-s6",
        "facts-tini",
        "facts-scratch",
        "busybox",
        "facts-curl",
        "facts-nc",
        "facts-java",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut compose = String::from("services:\n");
    for name in names {
        compose.push_str(&format!("  {name}:\n    image: {NS}/{name}:1\n"));
    }
    std::fs::write(dir.path().join("compose.yml"), &compose).expect("compose file");
    // minimal has no probe catalogue: the tools looked for are the usual ones alone.
    let out = run(dir.path(), &["inspect", "--profile", "minimal"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(left_behind(), "", "every container inspect created is removed");
    let text = std::fs::read_to_string(dir.path().join("compose-harden.images.yml")).expect("written");
    let engine = docker(&["version", "--format", "{{.Server.Version}}"]).unwrap_or_default();
    assert!(
        text.contains(&format!(
            "inspected:\n  engine: {engine}\n  tools: [bash, busybox, curl, java, nc, node, python3, sh, wget]\n"
        )),
        "{text}"
    );
    let head = |name: &str| {
        format!("  \"{NS}/{name}:1\":\n    id: {}\n    platform: linux/amd64\n", id(&format!("{NS}/{name}:1")))
    };
    let expected = [
        ("busybox", format!("{}    cmd: [sh]\n    env: [PATH]\n{PATH}    bin_sh: true\n{BUSYBOX_TOOLS}", head("busybox"))),
        (
            "facts-healthcheck",
            format!(
                "{}    cmd: [httpd, \"-f\", \"-p\", \"8080\"]\n    user: \"1000:1000\"\n    working_dir: /srv\n    stop_signal: SIGQUIT\n    healthcheck:\n      test: [CMD-SHELL, wget -qO- http://127.0.0.1:8080/ || exit 1]\n      interval: 5s\n      timeout: 2s\n      start_period: 1m30s\n      retries: 2\n    exposed_ports: [53/tcp, 8080/tcp, 9090/udp]\n    volumes: [/data]\n    env: [APP_MODE, APP_TOKEN, PATH]\n    labels:\n      org.opencontainers.image.title: facts test\n      org.opencontainers.image.version: \"1.2.3\"\n{PATH}    bin_sh: true\n{BUSYBOX_TOOLS}",
                head("facts-healthcheck")
            ),
        ),
        (
            "facts-s6",
            format!(
                "{}    entrypoint: [/init]\n    env: [PATH]\n{PATH}    bin_sh: true\n{BUSYBOX_TOOLS}    init: {{kind: s6-overlay, path: /init, marker: /package/admin/s6-overlay}}\n",
                head("facts-s6")
            ),
        ),
        (
            "facts-tini",
            format!(
                "{}    entrypoint: [tini, \"--\"]\n    cmd: [sleep, \"3600\"]\n    env: [PATH]\n{PATH}    bin_sh: true\n{BUSYBOX_TOOLS}    init: {{kind: tini, path: /sbin/tini}}\n",
                head("facts-tini")
            ),
        ),
        (
            "facts-scratch",
            format!("{}    entrypoint: [/server]\n    env: [PATH]\n{PATH}    bin_sh: false\n    tools: {{}}\n", head("facts-scratch")),
        ),
        (
            "facts-curl",
            format!(
                "{}    env: [PATH]\n{PATH}    bin_sh: true\n    tools:\n      bash: /usr/bin/bash\n      curl: /usr/bin/curl\n      sh: /usr/bin/sh -> /usr/bin/dash\n",
                head("facts-curl")
            ),
        ),
        (
            "facts-nc",
            format!(
                "{}    env: [PATH]\n{PATH}    bin_sh: true\n    tools:\n      bash: /usr/bin/bash\n      nc: /usr/bin/nc -> /usr/bin/nc.openbsd\n      sh: /usr/bin/sh -> /usr/bin/dash\n",
                head("facts-nc")
            ),
        ),
        (
            "facts-java",
            format!(
                "{}    cmd: [java, \"-version\"]\n    env: [JAVA_HOME, PATH]\n    path: [/opt/java/openjdk/bin, /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin]\n    bin_sh: true\n    tools:\n      busybox: /bin/busybox\n      java: /opt/java/openjdk/bin/java\n      nc: /bin/nc -> /bin/busybox\n      sh: /bin/sh -> /bin/busybox\n      wget: /bin/wget -> /bin/busybox\n",
                head("facts-java")
            ),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, want) in &expected {
        let got = section(&text, &format!("{NS}/{name}:1"));
        if got != want {
            wrong.push(format!("{name}:\n--- expected\n{want}--- got\n{got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(!text.contains("never-written-to-the-facts"), "no variable's value is written");
    // What passes will ask, answered from the file alone.
    let facts = compose_harden::facts::parse("f", &text).expect("reads");
    let image = |name: &str| facts.for_service(name, Some(&format!("{NS}/{name}:1")), false).expect("facts");
    use compose_harden::facts::Presence;
    assert!(image("facts-java").has_java() && !image("busybox").has_java());
    assert_eq!(image("busybox").tool("curl"), Presence::Absent);
    assert_eq!(image("facts-curl").tool("wget"), Presence::Absent);
    assert!(!image("facts-scratch").bin_sh);
    // Each image's line on stderr names it, what it has, and what it cost.
    assert_eq!(stderr.lines().filter(|l| l.starts_with("inspected ")).count(), names.len(), "{stderr}");
    assert!(stderr.contains("wrote compose-harden.images.yml (8 images, "), "{stderr}");
    // The facts file is current, and apply finds it beside the file.
    let checked = run(dir.path(), &["inspect", "--check"], &[]);
    assert_eq!(String::from_utf8_lossy(&checked.stdout), "compose-harden.images.yml: 0 warnings\n");
    assert_eq!(checked.status.code(), Some(0));
    let applied = run(dir.path(), &["apply", "--diff", "compose.yml"], &[]);
    assert!(String::from_utf8_lossy(&applied.stderr)
        .starts_with("notice: compose.yml: image facts from compose-harden.images.yml (8 images)\n"));
    // With the production profile, the catalogue's tools are looked for too.
    let out = run(dir.path(), &["inspect", "-o", "-"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pg_isready") && text.contains("      grep: /usr/bin/grep\n"), "{text}");
    // And `apply --inspect` reads the same from the engine, with no file.
    let live = run(dir.path(), &["apply", "--inspect", "--no-images", "--quiet", "compose.yml"], &[]);
    assert_eq!(live.status.code(), Some(2), "--inspect and --no-images exclude each other");
    let live = run(dir.path(), &["apply", "--inspect", "--quiet", "compose.yml"], &[]);
    assert_eq!(live.status.code(), Some(0), "{}", String::from_utf8_lossy(&live.stderr));
    assert_eq!(left_behind(), "");
}

#[test]
fn stale_facts_are_warnings_and_a_rebuilt_image_an_info() {
    let _alone = alone();
    if !ready() {
        return;
    }
    let Some(compose) = common::oracle() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let stale = format!("{NS}/facts-stale:1");
    docker(&["tag", &format!("{NS}/busybox:1"), &stale]).expect("tagged");
    std::fs::create_dir(dir.path().join("api")).expect("api dir");
    let dockerfile = |label: &str| format!("FROM {NS}/busybox:1\nLABEL org.opencontainers.image.revision={label}\n");
    std::fs::write(dir.path().join("api/Dockerfile"), dockerfile("a")).expect("Dockerfile");
    let api_dir = dir.path().join("api");
    let build = || docker(&["build", "-q", "-t", "facts-stale-test-api", api_dir.to_str().unwrap_or_default()]);
    build().expect("built");
    std::fs::write(
        dir.path().join("compose.yml"),
        format!(
            "name: facts-stale-test\nservices:\n  web:\n    image: {stale}\n  api:\n    build: ./api\n  db:\n    image: {NS}/facts-curl:${{CURL_TAG:-1}}\n"
        ),
    )
    .expect("compose file");
    let env = [("COMPOSE_HARDEN_COMPOSE", compose.as_path())];
    let out = run(dir.path(), &["inspect", "--profile", "minimal"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.path().join("compose-harden.images.yml")).expect("written");
    let facts = compose_harden::facts::parse("f", &text).expect("reads");
    let api = facts.for_service("api", None, true).expect("the build, by service");
    assert_eq!(api.reference.as_deref(), Some("facts-stale-test-api"));
    assert_eq!(api.labels.get("org.opencontainers.image.revision").map(String::as_str), Some("a"));
    let db = facts.for_service("db", Some(&format!("{NS}/facts-curl:${{CURL_TAG:-1}}")), false).expect("as written");
    assert_eq!(db.reference.as_deref(), Some(format!("{NS}/facts-curl:1").as_str()), "as Compose interpolates it");
    // The tag moves to another image; the service's image is rebuilt.
    docker(&["tag", &format!("{NS}/facts-tini:1"), &stale]).expect("retagged");
    std::fs::write(dir.path().join("api/Dockerfile"), dockerfile("b")).expect("Dockerfile");
    build().expect("rebuilt");
    let checked = run(dir.path(), &["inspect", "--check"], &env);
    let short = |image: &str| id(image).trim_start_matches("sha256:")[..12].to_string();
    let report = String::from_utf8_lossy(&checked.stdout).to_string();
    let old_web = &facts.images[&stale].id.trim_start_matches("sha256:")[..12];
    let old_api = &api.id.trim_start_matches("sha256:")[..12];
    assert_eq!(
        report,
        format!(
            "compose-harden.images.yml:20:3: warning: image `{stale}`: stale: the engine now resolves {stale} to {} (the facts are of {old_web}); run `compose-harden inspect`\n\
             compose-harden.images.yml:33:3: info: the image service `api` builds: rebuilt since it was inspected ({old_api} -> {}); a build's ID changes with every build\n\
             compose-harden.images.yml: 1 warning\n",
            short(&stale),
            short("facts-stale-test-api"),
        )
    );
    assert_eq!(checked.status.code(), Some(1));
    // An image the engine no longer has, and one it never had.
    docker(&["rmi", &stale]).expect("untagged");
    let checked = run(dir.path(), &["inspect", "--check"], &env);
    assert!(String::from_utf8_lossy(&checked.stdout)
        .contains(&format!("warning: image `{stale}`: the engine no longer has {stale}\n")));
    let out = run(dir.path(), &["inspect"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("error: the engine has no image {stale}: pull it (docker compose pull), or pass --pull\n")
    );
    assert_eq!(
        text,
        std::fs::read_to_string(dir.path().join("compose-harden.images.yml")).expect("kept"),
        "nothing written"
    );
    // The first build is untagged by the second: both go.
    let _ = docker(&["rmi", "facts-stale-test-api", &api.id]);
    assert_eq!(left_behind(), "");
}

#[test]
fn an_interrupted_inspect_removes_its_containers_and_writes_nothing() {
    let _alone = alone();
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let images = ["busybox", "facts-curl", "facts-nc", "facts-tini", "facts-java", "facts-apt", "facts-s6"];
    let mut compose = String::from("services:\n");
    for (i, name) in images.iter().enumerate() {
        compose.push_str(&format!("  s{i}:\n    image: {NS}/{name}:1\n"));
    }
    std::fs::write(dir.path().join("compose.yml"), compose).expect("compose file");
    let child = common::bin()
        .arg("inspect")
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: signals a child this test started and has not yet waited for.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.ends_with("interrupted: every container inspect created was removed\n"), "{stderr}");
    assert_eq!(left_behind(), "");
    assert!(!dir.path().join("compose-harden.images.yml").exists(), "nothing written");
}
