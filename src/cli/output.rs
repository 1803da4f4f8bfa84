//! Writing what a command produces without damaging what stands at the path: `-o` follows
//! symlinks, writes devices and FIFOs in place and refuses block devices; `--write` keeps a
//! file's owner, group, mode and extended attributes (ACLs are some), refuses what is not
//! a regular file, and rewrites in place, from a verified copy, a file that a rename would
//! break (hard links, a bind mount). Temporary files are removed on SIGINT and SIGTERM.

use compose_harden::error::io_reason;
use compose_harden::Error;
use std::ffi::CString;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How a write went, when users should know.
pub enum Written {
    Atomic,
    /// Rewritten in place, not atomically; the reason.
    InPlace(String),
    /// Replaced atomically, but the owner or group could not be kept; what changed.
    OwnerChanged(String),
}

/// Temporary files in flight: removed by the signal thread if the process is stopped.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes temporary files in flight on SIGINT or SIGTERM, then exits as the signal asks.
pub fn clean_up_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            if let Ok(files) = IN_FLIGHT.lock() {
                for f in files.iter() {
                    let _ = std::fs::remove_file(f);
                }
            }
            std::process::exit(128 + signal);
        }
    });
}

/// A temporary file beside the target, known to the signal thread while it exists.
struct Temp {
    file: Option<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl Temp {
    fn beside(target: &Path) -> std::io::Result<Temp> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let file = tempfile::Builder::new().prefix(".compose-harden-").suffix(".tmp").tempfile_in(dir)?;
        let path = file.path().to_path_buf();
        if let Ok(mut list) = IN_FLIGHT.lock() {
            list.push(path.clone());
        }
        Ok(Temp { file: Some(file), path })
    }

    fn get(&mut self) -> std::io::Result<&mut tempfile::NamedTempFile> {
        self.file.as_mut().ok_or_else(|| std::io::Error::other("the temporary file is gone"))
    }

    fn take(&mut self) -> std::io::Result<tempfile::NamedTempFile> {
        self.file.take().ok_or_else(|| std::io::Error::other("the temporary file is gone"))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Ok(mut list) = IN_FLIGHT.lock() {
            list.retain(|p| *p != self.path);
        }
    }
}

fn fail(name: &str, what: &str, e: &std::io::Error) -> Error {
    Error::new(name, format!("{what}: {}; nothing was changed", io_reason(e)))
}

/// Paths that name a stream or another process's file, not a file of the user's.
fn names_a_stream(path: &Path) -> bool {
    path.starts_with("/dev/fd")
        || path.starts_with("/dev/stdin")
        || path.starts_with("/dev/stdout")
        || path.starts_with("/proc")
        || path.starts_with("/dev/stderr")
}

/// Whether `--write` may replace `path`, checked before it is read (reading a FIFO would
/// wait for a writer).
pub fn check_rewritable(path: &Path, name: &str) -> Result<(), Error> {
    if names_a_stream(path) {
        return Err(Error::new(
            name,
            "is a stream or a process's file, not a regular file; --write refuses it (use a shell redirect)",
        ));
    }
    let target = std::fs::canonicalize(path).map_err(|e| fail(name, "cannot resolve the file", &e))?;
    if names_a_stream(&target) {
        return Err(Error::new(name, "is a stream or a process's file, not a regular file; --write refuses it"));
    }
    let meta = std::fs::metadata(&target).map_err(|e| fail(name, "cannot read the file's metadata", &e))?;
    if !meta.file_type().is_file() {
        let what = describe(&meta);
        return Err(Error::new(
            name,
            format!("is {what}, not a regular file; --write refuses it (use -o to write to it)"),
        ));
    }
    if meta.permissions().readonly() {
        return Err(Error::new(name, "the file is read-only; refusing to replace it (the file is unchanged)"));
    }
    Ok(())
}

/// `--write`: replaces a regular file with `text`.
pub fn rewrite(path: &Path, text: &str, name: &str) -> Result<Written, Error> {
    // Checked again: the file may have changed since it was read.
    check_rewritable(path, name)?;
    let target = std::fs::canonicalize(path).map_err(|e| fail(name, "cannot resolve the file", &e))?;
    let meta = std::fs::metadata(&target).map_err(|e| fail(name, "cannot read the file's metadata", &e))?;
    replace(&target, &meta, text, name)
}

/// `-o`: writes `text` to `path`, whatever stands there, without replacing what is not a
/// regular file.
pub fn output(path: &Path, text: &str, name: &str) -> Result<Written, Error> {
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(t) => t,
            // A dangling link: its target is created.
            Err(_) => std::fs::read_link(path)
                .map(|t| path.parent().unwrap_or(Path::new(".")).join(t))
                .unwrap_or(path.to_path_buf()),
        },
        _ => path.to_path_buf(),
    };
    let meta = match std::fs::metadata(&target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return create(&target, text, name),
        Err(e) => return Err(fail(name, "cannot read the output's metadata", &e)),
    };
    let kind = meta.file_type();
    if kind.is_file() {
        if meta.permissions().readonly() {
            return Err(Error::new(name, "the output file is read-only; refusing to replace it (nothing was changed)"));
        }
        return replace(&target, &meta, text, name);
    }
    if kind.is_char_device() {
        let mut f =
            OpenOptions::new().write(true).open(&target).map_err(|e| fail(name, "cannot open the device", &e))?;
        f.write_all(text.as_bytes()).map_err(|e| fail(name, "cannot write to the device", &e))?;
        return Ok(Written::Atomic);
    }
    if kind.is_fifo() {
        // Opened without blocking: with no reader the open fails at once (ENXIO).
        let f = OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&target).map_err(|e| {
            match e.raw_os_error() {
                Some(libc::ENXIO) => Error::new(name, "is a FIFO that nothing reads; nothing was written"),
                _ => fail(name, "cannot open the FIFO", &e),
            }
        })?;
        blocking(&f);
        let mut f = f;
        f.write_all(text.as_bytes()).map_err(|e| fail(name, "cannot write to the FIFO", &e))?;
        return Ok(Written::Atomic);
    }
    let what = describe(&meta);
    Err(Error::new(name, format!("is {what}; refusing to write to it")))
}

fn describe(meta: &Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn blocking(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor this function's caller owns; only O_NONBLOCK changes.
    unsafe {
        let flags = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(f.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

/// A new file, atomically, with the mode the umask gives (as `>` would).
fn create(target: &Path, text: &str, name: &str) -> Result<Written, Error> {
    let mut tmp =
        Temp::beside(target).map_err(|e| Error::new(name, format!("cannot write the output: {}", io_reason(&e))))?;
    let mode = 0o666 & !umask();
    let written = tmp.get().and_then(|f| {
        f.write_all(text.as_bytes())?;
        f.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.as_file().sync_all()
    });
    written.map_err(|e| fail(name, "cannot write the output", &e))?;
    let file = tmp.take().map_err(|e| fail(name, "cannot write the output", &e))?;
    file.persist_noclobber(target).map_err(|e| fail(name, "cannot create the output", &e.error))?;
    Ok(Written::Atomic)
}

/// The process's umask, read without changing it (Linux reports it in /proc).
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        .unwrap_or(0o022)
}

/// Replaces a regular file: a temporary copy with its mode, owner, group and extended
/// attributes, renamed over it; in place where a rename would break hard links or a mount.
fn replace(target: &Path, meta: &Metadata, text: &str, name: &str) -> Result<Written, Error> {
    let mut tmp = Temp::beside(target).map_err(|e| fail(name, "cannot create a temporary file beside it", &e))?;
    let file = tmp.get().map_err(|e| fail(name, "cannot write the temporary file", &e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().set_permissions(meta.permissions()))
        .map_err(|e| fail(name, "cannot write the temporary file", &e))?;
    let owner = keep_owner(file.as_file(), meta);
    copy_xattrs(target, file.path());
    file.as_file().sync_all().map_err(|e| fail(name, "cannot write the temporary file", &e))?;
    // Tests widen the window between write and rename to stop the process inside it.
    if let Some(ms) = std::env::var("COMPOSE_HARDEN_TEST_WRITE_DELAY_MS").ok().and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if meta.nlink() > 1 {
        let why =
            format!("the file has {} hard links, and a rename would leave the others with the old text", meta.nlink());
        return in_place(target, tmp, text, name, why);
    }
    let file = tmp.take().map_err(|e| fail(name, "cannot write the temporary file", &e))?;
    match file.persist(target) {
        Ok(_) => Ok(owner.map_or(Written::Atomic, Written::OwnerChanged)),
        // A file bind-mounted on its own cannot be renamed over.
        Err(e) if e.error.raw_os_error() == Some(libc::EBUSY) => {
            tmp.file = Some(e.file);
            in_place(target, tmp, text, name, "the file is a mount point (bind-mounted on its own)".into())
        }
        Err(e) => Err(fail(name, "cannot rename the temporary file over it", &e.error)),
    }
}

/// Rewrites the file in place from the temporary copy, once that copy reads back whole.
fn in_place(target: &Path, tmp: Temp, text: &str, name: &str, why: String) -> Result<Written, Error> {
    let mut back = String::new();
    File::open(&tmp.path)
        .and_then(|mut f| f.read_to_string(&mut back))
        .map_err(|e| fail(name, "cannot read the temporary copy back", &e))?;
    if back != text {
        return Err(Error::new(name, "the temporary copy did not read back as written; nothing was changed"));
    }
    let mut f = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(target)
        .map_err(|e| fail(name, "cannot open the file", &e))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| {
        Error::new(
            name,
            format!("writing in place failed: {}; the hardened text is kept in {}", io_reason(&e), tmp.path.display()),
        )
    })?;
    drop(tmp);
    Ok(Written::InPlace(format!("rewritten in place, not atomically: {why}")))
}

/// Gives the copy the file's owner and group; what could not be kept, if anything.
fn keep_owner(file: &File, meta: &Metadata) -> Option<String> {
    use std::os::fd::AsRawFd;
    let (uid, gid) = (meta.uid(), meta.gid());
    // SAFETY: fchown on the temporary file this function was given.
    let done = unsafe { libc::fchown(file.as_raw_fd(), uid, gid) } == 0;
    if done {
        return None;
    }
    let mine = file.metadata().ok()?;
    (mine.uid() != uid || mine.gid() != gid).then(|| {
        format!(
            "owner {uid}:{gid} could not be kept (only root may give a file away); the file is now {}:{}",
            mine.uid(),
            mine.gid()
        )
    })
}

/// Copies extended attributes (ACLs are `system.posix_acl_*`); where the file system has
/// none, there is nothing to copy.
fn copy_xattrs(from: &Path, to: &Path) {
    let (Ok(from), Ok(to)) = (CString::new(from.as_os_str().as_bytes()), CString::new(to.as_os_str().as_bytes()))
    else {
        return;
    };
    let mut names = vec![0u8; 4096];
    // SAFETY: buffers are sized and the lengths passed are theirs.
    let len = unsafe { libc::listxattr(from.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if len <= 0 {
        return;
    }
    for name in names[..len as usize].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Ok(key) = CString::new(name) else { continue };
        let mut value = vec![0u8; 65536];
        // SAFETY: as above.
        let n = unsafe { libc::getxattr(from.as_ptr(), key.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if n >= 0 {
            // SAFETY: as above.
            unsafe { libc::setxattr(to.as_ptr(), key.as_ptr(), value.as_ptr().cast(), n as usize, 0) };
        }
    }
}
