//! Nothing at the output path is damaged: devices, FIFOs, symlinks, modes, owners,
//! extended attributes, hard links, streams and interrupted writes. Tests that need root
//! (devices, owners, a full disk) run under CI, which runs as root.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const FILE: &str = "services:\n  api:\n    image: example/api:1\n";

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let is_root = unsafe { libc::geteuid() } == 0;
    if !is_root {
        common::missing("root (for devices, owners and mounts)");
    }
    is_root
}

fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    fs::write(tmp.path().join("f.yml"), FILE).expect("write");
    tmp
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = common::run(dir, args, b"");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn hardened() -> String {
    common::hardened(FILE)
}

/// Runs `script` in `dir` under sh, `BIN` standing for the binary (for redirects and umask).
fn sh(dir: &Path, script: &str) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_compose-harden");
    Command::new("sh").args(["-c", &script.replace("BIN", &format!("'{bin}'"))]).current_dir(dir).output().expect("sh")
}

#[test]
fn output_to_a_character_device_writes_to_it() {
    if !root() {
        return;
    }
    let tmp = setup();
    let null = tmp.path().join("null");
    assert!(Command::new("mknod").arg(&null).args(["c", "1", "3"]).status().expect("mknod").success());
    assert_eq!(run(tmp.path(), &["apply", "-q", "f.yml", "-o", "null"]).0, 0);
    assert!(fs::metadata(&null).expect("meta").file_type().is_char_device(), "still a device");
}

#[test]
fn output_to_a_block_device_is_refused() {
    if !root() {
        return;
    }
    let tmp = setup();
    assert!(Command::new("mknod")
        .arg(tmp.path().join("blk"))
        .args(["b", "7", "250"])
        .status()
        .expect("mknod")
        .success());
    assert_eq!(
        run(tmp.path(), &["apply", "-q", "f.yml", "-o", "blk"]),
        (2, "blk: error: is a block device; refusing to write to it\n".into())
    );
}

#[test]
fn output_to_a_fifo_writes_to_its_reader_and_fails_without_one() {
    let tmp = setup();
    let fifo = tmp.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    assert_eq!(
        run(tmp.path(), &["apply", "-q", "f.yml", "-o", "fifo"]),
        (2, "fifo: error: is a FIFO that nothing reads; nothing was written\n".into())
    );
    let reader = Command::new("cat").arg(&fifo).stdout(Stdio::piped()).spawn().expect("cat");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(run(tmp.path(), &["apply", "-q", "f.yml", "-o", "fifo"]).0, 0);
    let read = reader.wait_with_output().expect("cat ends");
    assert_eq!(String::from_utf8_lossy(&read.stdout), hardened());
    assert!(fs::metadata(&fifo).expect("meta").file_type().is_fifo());
}

#[test]
fn output_through_a_symlink_writes_its_target() {
    let tmp = setup();
    fs::write(tmp.path().join("target.yml"), "old\n").expect("write");
    std::os::unix::fs::symlink("target.yml", tmp.path().join("link.yml")).expect("link");
    assert_eq!(run(tmp.path(), &["apply", "-q", "f.yml", "-o", "link.yml"]).0, 0);
    assert!(fs::symlink_metadata(tmp.path().join("link.yml")).expect("meta").file_type().is_symlink());
    assert_eq!(fs::read_to_string(tmp.path().join("target.yml")).expect("read"), hardened());
}

#[test]
fn output_keeps_a_mode_and_a_new_file_gets_the_umask() {
    let tmp = setup();
    let existing = tmp.path().join("e.yml");
    fs::write(&existing, "old\n").expect("write");
    fs::set_permissions(&existing, fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_eq!(run(tmp.path(), &["apply", "-q", "f.yml", "-o", "e.yml"]).0, 0);
    assert_eq!(fs::metadata(&existing).expect("meta").mode() & 0o777, 0o644);
    assert!(sh(tmp.path(), "umask 027; exec BIN apply -q f.yml -o new.yml").status.success());
    assert_eq!(fs::metadata(tmp.path().join("new.yml")).expect("meta").mode() & 0o777, 0o640);
}

#[test]
fn write_refuses_what_is_not_a_regular_file() {
    let tmp = setup();
    assert!(Command::new("mkfifo").arg(tmp.path().join("fifo")).status().expect("mkfifo").success());
    assert_eq!(
        run(tmp.path(), &["apply", "--write", "fifo"]),
        (2, "fifo: error: is a FIFO, not a regular file; --write refuses it (use -o to write to it)\n".into())
    );
    // `--write /dev/stdin < f.yml` would otherwise resolve to f.yml and rewrite it.
    let out = sh(tmp.path(), "exec BIN apply --write /dev/stdin < f.yml");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "/dev/stdin: error: is a stream or a process's file, not a regular file; --write refuses it (use a shell redirect)\n"
    );
    assert_eq!(fs::read_to_string(tmp.path().join("f.yml")).expect("read"), FILE);
}

#[test]
fn write_keeps_the_owner_as_root() {
    if !root() {
        return;
    }
    let tmp = setup();
    let file = tmp.path().join("f.yml");
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).expect("chown");
    assert_eq!(run(tmp.path(), &["apply", "-q", "--write", "f.yml"]).0, 0);
    let meta = fs::metadata(&file).expect("meta");
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    assert_eq!(fs::read_to_string(&file).expect("read"), hardened());
}

#[test]
fn write_keeps_extended_attributes() {
    let tmp = setup();
    let file = tmp.path().join("f.yml");
    let c = |p: &Path| std::ffi::CString::new(p.to_string_lossy().as_bytes()).expect("path");
    let (path, key) = (c(&file), std::ffi::CString::new("user.reviewed").expect("key"));
    // SAFETY: valid C strings and a buffer of the length given.
    let set = unsafe { libc::setxattr(path.as_ptr(), key.as_ptr(), b"yes".as_ptr().cast(), 3, 0) };
    if set != 0 {
        common::missing("user extended attributes on the temporary directory's file system");
        return;
    }
    assert_eq!(run(tmp.path(), &["apply", "-q", "--write", "f.yml"]).0, 0);
    let mut value = [0u8; 16];
    // SAFETY: as above.
    let n = unsafe { libc::getxattr(path.as_ptr(), key.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
    assert_eq!(&value[..n.max(0) as usize], b"yes");
}

#[test]
fn write_to_a_hard_linked_file_rewrites_it_in_place() {
    let tmp = setup();
    fs::hard_link(tmp.path().join("f.yml"), tmp.path().join("other.yml")).expect("link");
    let (code, err) = run(tmp.path(), &["apply", "--write", "f.yml"]);
    assert_eq!(code, 0);
    assert!(err.ends_with("notice: f.yml: rewritten in place, not atomically: the file has 2 hard links, and a rename would leave the others with the old text\n"), "{err}");
    assert_eq!(fs::read_to_string(tmp.path().join("other.yml")).expect("read"), hardened());
    assert_eq!(common::leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
fn stdin_named_twice_is_refused() {
    let tmp = setup();
    assert_eq!(
        run(tmp.path(), &["apply", "-", "-"]),
        (2, "error: standard input is named more than once; it can be read only once\n".into())
    );
}

#[test]
fn a_closed_stdout_ends_quietly_and_a_failing_stream_is_exit_2() {
    let tmp = setup();
    // Large enough that the pipe fills before the output ends.
    let big: String = (0..3000).map(|i| format!("  s{i}:\n    image: example/app:1\n")).collect();
    fs::write(tmp.path().join("big.yml"), format!("services:\n{big}")).expect("write");
    let out = sh(tmp.path(), "BIN apply -q big.yml | head -c 10 >/dev/null");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no Broken pipe message");
    let mut child = common::bin()
        .args(["apply", "-q", "big.yml"])
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let status = child.wait().expect("ends");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}");
    // A full stderr (findings cannot be shown) and a full stdout are failures, not panics.
    let full = |redirect: &str| sh(tmp.path(), &format!("exec BIN apply f.yml {redirect}")).status.code();
    assert_eq!(full("2>/dev/full >/dev/null"), Some(2));
    assert_eq!(full(">/dev/full 2>/dev/null"), Some(2));
}

#[test]
fn sigterm_during_a_write_removes_the_temporary_file() {
    for signal in ["-TERM", "-INT"] {
        let tmp = setup();
        let mut child = common::bin()
            .args(["apply", "-q", "--write", "f.yml"])
            .current_dir(tmp.path())
            .env("COMPOSE_HARDEN_TEST_WRITE_DELAY_MS", "3000")
            .spawn()
            .expect("spawn");
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while common::leftovers(tmp.path()).is_empty() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!common::leftovers(tmp.path()).is_empty(), "the write started");
        Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill");
        let status = child.wait().expect("ends");
        assert!(!status.success());
        assert_eq!(common::leftovers(tmp.path()), Vec::<String>::new(), "{signal}");
        assert_eq!(fs::read_to_string(tmp.path().join("f.yml")).expect("read"), FILE, "{signal}");
    }
}

#[test]
fn a_full_disk_leaves_the_file_and_no_temporary_file() {
    if !root() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let mount = tmp.path().join("small");
    fs::create_dir(&mount).expect("dir");
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"]).arg(&mount).status();
    if !mounted.is_ok_and(|s| s.success()) {
        common::missing("a tmpfs mount (mount -t tmpfs)");
        return;
    }
    // An input that fills most of the disk: its hardened copy cannot fit beside it.
    let big: String = (0..900).map(|i| format!("  s{i}:\n    image: example/app:1\n")).collect();
    let text = format!("services:\n{big}");
    fs::write(mount.join("f.yml"), &text).expect("write");
    let (code, err) = run(&mount, &["apply", "-q", "--write", "f.yml"]);
    let left = common::leftovers(&mount);
    let kept = fs::read_to_string(mount.join("f.yml")).expect("read");
    let _ = Command::new("umount").arg(&mount).status();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("No space left on device") || err.contains("no space"), "{err}");
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(kept, text);
}

#[test]
fn write_to_a_bind_mounted_file_rewrites_it_in_place() {
    if !root() {
        return;
    }
    let tmp = setup();
    let file = tmp.path().join("f.yml");
    let source = tmp.path().join("source.yml");
    fs::write(&source, FILE).expect("write");
    if !Command::new("mount").arg("--bind").arg(&source).arg(&file).status().is_ok_and(|s| s.success()) {
        common::missing("a bind mount (mount --bind)");
        return;
    }
    let (code, err) = run(tmp.path(), &["apply", "--write", "f.yml"]);
    let through_mount = fs::read_to_string(&source).expect("read");
    let _ = Command::new("umount").arg(&file).status();
    assert_eq!(code, 0, "{err}");
    assert!(
        err.ends_with(
            "notice: f.yml: rewritten in place, not atomically: the file is a mount point (bind-mounted on its own)\n"
        ),
        "{err}"
    );
    assert_eq!(through_mount, hardened());
    assert_eq!(common::leftovers(tmp.path()), Vec::<String>::new());
}
