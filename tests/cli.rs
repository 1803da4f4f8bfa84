//! The command line as users meet it: writing files, several inputs, exit codes.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const PLAIN: &str = "services:\n  web:\n    image: nginx:1.27\n";
const BROKEN: &str = "services:\n  web:\n    image: nginx\n    image: caddy\n";

fn expected_hardened() -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check-changes/input.yml");
    assert_eq!(fs::read_to_string(fixture).expect("fixture"), PLAIN);
    common::hardened(PLAIN)
}

#[test]
fn write_replaces_in_place_keeping_mode() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("compose.yml");
    fs::write(&file, PLAIN).expect("write");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = common::run(tmp.path(), &["apply", "--write", "compose.yml"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "hardened compose.yml (16 changes)\n");
    assert!(out.stdout.is_empty(), "--write prints nothing on stdout");
    assert_eq!(fs::read_to_string(&file).expect("read"), expected_hardened());
    assert_eq!(fs::metadata(&file).expect("meta").permissions().mode() & 0o777, 0o640);
    assert!(common::leftovers(tmp.path()).is_empty());
    // A second run has nothing to do and leaves the file alone.
    let again = common::run(tmp.path(), &["apply", "--write", "compose.yml"], b"");
    assert_eq!((again.status.code(), again.stderr.len()), (Some(0), 0));
}

#[test]
fn write_goes_through_a_symlink_to_its_target() {
    let tmp = tempfile::tempdir().expect("tmp");
    let real = tmp.path().join("real.yml");
    fs::write(&real, PLAIN).expect("write");
    std::os::unix::fs::symlink("real.yml", tmp.path().join("link.yml")).expect("symlink");
    let out = common::run(tmp.path(), &["apply", "--write", "link.yml"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(fs::symlink_metadata(tmp.path().join("link.yml")).expect("meta").file_type().is_symlink());
    assert_eq!(fs::read_to_string(&real).expect("read"), expected_hardened());
}

#[test]
fn write_refuses_a_read_only_file_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("compose.yml");
    fs::write(&file, PLAIN).expect("write");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = common::run(tmp.path(), &["apply", "--write", "compose.yml"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "compose.yml: error: the file is read-only; refusing to replace it (the file is unchanged)\n"
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), PLAIN);
    assert!(common::leftovers(tmp.path()).is_empty());
}

#[test]
fn several_files_each_on_their_own_worst_exit_wins() {
    let tmp = tempfile::tempdir().expect("tmp");
    fs::write(tmp.path().join("a.yml"), PLAIN).expect("write");
    fs::write(tmp.path().join("b.yml"), BROKEN).expect("write");
    fs::write(tmp.path().join("c.yml"), expected_hardened()).expect("write");
    let check = common::run(tmp.path(), &["apply", "--check", "a.yml", "c.yml"], b"");
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&check.stderr), "would harden a.yml (16 changes)\n");
    let clean = common::run(tmp.path(), &["apply", "--check", "c.yml"], b"");
    assert_eq!(clean.status.code(), Some(0));
    let write = common::run(tmp.path(), &["apply", "--write", "a.yml", "b.yml", "c.yml"], b"");
    assert_eq!(write.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&write.stderr),
        "hardened a.yml (16 changes)\n\
         b.yml:4:5: error: duplicate key `image` (first set on line 3): YAML forbids it and Compose refuses the file; keep one\n"
    );
    assert_eq!(fs::read_to_string(tmp.path().join("a.yml")).expect("read"), expected_hardened());
    assert_eq!(fs::read_to_string(tmp.path().join("b.yml")).expect("read"), BROKEN);
}

#[test]
fn output_file_gets_the_yaml_and_stdout_stays_empty() {
    let tmp = tempfile::tempdir().expect("tmp");
    fs::write(tmp.path().join("in.yml"), PLAIN).expect("write");
    let out = common::run(tmp.path(), &["apply", "in.yml", "-o", "prod.yml"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read_to_string(tmp.path().join("prod.yml")).expect("read"), expected_hardened());
    assert_eq!(fs::read_to_string(tmp.path().join("in.yml")).expect("read"), PLAIN);
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let stdin_write = common::run(tmp.path(), &["apply", "--write", "-"], PLAIN.as_bytes());
    assert_eq!(stdin_write.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&stdin_write.stderr),
        "error: --write cannot rewrite standard input; use --output or a shell redirect\n"
    );
    let conflicting = common::run(tmp.path(), &["apply", "--write", "--diff", "x.yml"], b"");
    assert_eq!(conflicting.status.code(), Some(2));
    let nothing = common::run(tmp.path(), &["apply"], b"");
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn diff_applies_with_git_apply() {
    let tmp = tempfile::tempdir().expect("tmp");
    fs::write(tmp.path().join("compose.yml"), PLAIN).expect("write");
    let out = common::run(tmp.path(), &["apply", "--diff", "compose.yml"], b"");
    assert_eq!(out.status.code(), Some(0));
    fs::write(tmp.path().join("patch.diff"), &out.stdout).expect("write patch");
    let git = std::process::Command::new("git").args(["apply", "patch.diff"]).current_dir(tmp.path()).output();
    let Ok(git) = git else {
        common::missing("git");
        return;
    };
    assert!(git.status.success(), "git apply: {}", String::from_utf8_lossy(&git.stderr));
    assert_eq!(fs::read_to_string(tmp.path().join("compose.yml")).expect("read"), expected_hardened());
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_reading() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = fs::File::create(tmp.path().join("huge.yml")).expect("create");
    file.set_len(64 * 1024 * 1024 + 1).expect("sparse file");
    let out = common::run(tmp.path(), &["apply", "huge.yml"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "huge.yml: error: the file is 67108865 bytes, over the limit of 67108864 bytes (64 MiB); no compose file is that large\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn many_files_are_reported_in_the_order_given() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut args = vec!["apply".to_string(), "--check".to_string()];
    let mut expected = String::new();
    for i in 0..24 {
        let name = format!("f{i:02}.yml");
        // Every third file is already hardened, every fifth is broken.
        let text = match i {
            i if i % 5 == 0 => BROKEN.to_string(),
            i if i % 3 == 0 => expected_hardened(),
            _ => PLAIN.to_string(),
        };
        fs::write(tmp.path().join(&name), text).expect("write");
        expected.push_str(&match i {
            i if i % 5 == 0 => format!(
                "{name}:4:5: error: duplicate key `image` (first set on line 3): YAML forbids it and Compose refuses the file; keep one\n"
            ),
            i if i % 3 == 0 => String::new(),
            _ => format!("would harden {name} (16 changes)\n"),
        });
        args.push(name);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::run(tmp.path(), &args, b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
}

#[test]
fn secrets_from_the_environment_or_dotenv_never_reach_any_output() {
    let tmp = tempfile::tempdir().expect("tmp");
    let compose = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${DB_SECRET}\n      TOKEN: $API_SECRET\n";
    fs::write(tmp.path().join("compose.yml"), compose).expect("write");
    fs::write(tmp.path().join(".env"), "DB_SECRET=dotenv-s3cr3t\nAPI_SECRET=dotenv-t0ken\n").expect("write");
    for args in [
        &["apply", "compose.yml"][..],
        &["apply", "--diff", "compose.yml"],
        &["apply", "--check", "compose.yml"],
        &["apply", "--enforce", "compose.yml"],
    ] {
        let out = common::bin()
            .args(args)
            .current_dir(tmp.path())
            .env("DB_SECRET", "env-s3cr3t")
            .env("API_SECRET", "env-t0ken")
            .output()
            .expect("runs");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        for secret in ["env-s3cr3t", "env-t0ken", "dotenv-s3cr3t", "dotenv-t0ken"] {
            assert!(!all.contains(secret), "{args:?} printed {secret}:\n{all}");
        }
        if args.len() == 2 && args[1] == "compose.yml" {
            assert!(all.contains("POSTGRES_PASSWORD: ${DB_SECRET}") && all.contains("TOKEN: $API_SECRET"), "{all}");
        }
    }
}

#[test]
fn absurd_lines_and_alias_counts_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let long = format!("services:\n  web:\n    image: nginx\n    labels: {{a: \"{}\"}}\n", "x".repeat(1024 * 1024));
    fs::write(tmp.path().join("long.yml"), long).expect("write");
    let out = common::run(tmp.path(), &["apply", "long.yml"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "long.yml:4:1: error: line 4 is 1048595 bytes long, over the limit of 1048576 bytes (1 MiB)\n"
    );
    let mut many = String::from("x-a: &a 1\nservices:\n  web:\n    image: nginx\n    x-many:\n");
    for _ in 0..250_001 {
        many.push_str("      - *a\n");
    }
    fs::write(tmp.path().join("many.yml"), many).expect("write");
    let out = common::run(tmp.path(), &["apply", "many.yml"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "many.yml:250006:9: error: more than 250000 aliases: refusing to read further (an alias bomb?)\n"
    );
}

#[test]
fn reading_and_writing_failures_are_named_with_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    fs::write(tmp.path().join("c.yml"), PLAIN).expect("write");
    fs::create_dir(tmp.path().join("prof")).expect("dir");
    let expect = |out: std::process::Output, stderr: &str| {
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), stderr);
        assert!(out.stdout.is_empty());
    };
    expect(
        common::run(tmp.path(), &["apply", "-p", "prof", "c.yml"], b""),
        "prof: error: cannot read the profile: it is a directory\n",
    );
    expect(
        common::run(tmp.path(), &["apply", "-o", "nodir/out.yml", "c.yml"], b""),
        "nodir/out.yml: error: cannot write the output: no such file\n",
    );
    let big = vec![b'a'; 64 * 1024 * 1024 + 1];
    expect(
        common::run(tmp.path(), &["apply", "-"], &big),
        "<stdin>: error: standard input is over the limit of 67108864 bytes (64 MiB)\n",
    );
    // Standard input that cannot be read at all (here a directory).
    let dir = fs::File::open(tmp.path()).expect("open the directory");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_compose-harden"))
        .args(["apply", "-"])
        .stdin(dir)
        .output()
        .expect("runs");
    expect(out, "<stdin>: error: cannot read standard input: it is a directory\n");
    assert_eq!(fs::read_dir(tmp.path()).expect("dir").count(), 2, "nothing was written");
}
