//! Reading a compose file (or standard input) within the size limit, and replacing a file
//! atomically.

use compose_harden::document::MAX_BYTES;
use compose_harden::error::io_reason;
use compose_harden::{Error, Outcome};
use std::io::{Read, Write};
use std::path::Path;

pub fn read(file: &str, name: &str) -> Result<Vec<u8>, Error> {
    let too_big = |len: u64| {
        Error::new(
            name,
            format!(
                "the file is {len} bytes, over the limit of {MAX_BYTES} bytes (64 MiB); no compose file is that large"
            ),
        )
    };
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin()
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::new(name, format!("cannot read standard input: {}", io_reason(&e))))?;
        if bytes.len() > MAX_BYTES {
            return Err(Error::new(name, format!("standard input is over the limit of {MAX_BYTES} bytes (64 MiB)")));
        }
        return Ok(bytes);
    }
    let meta =
        std::fs::metadata(file).map_err(|e| Error::new(name, format!("cannot read the file: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(Error::new(name, "is a directory, not a compose file"));
    }
    if meta.len() > MAX_BYTES as u64 {
        return Err(too_big(meta.len()));
    }
    // Room for the whole file at once (plus the byte that shows EOF): no doubling copies.
    bytes.reserve_exact(meta.len() as usize + 1);
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::new(name, format!("cannot read the file: {}", io_reason(&e))))?;
    Ok(bytes)
}

/// Replaces `path` (through a symlink, its target) with the hardened text: a temporary
/// file beside it, synced, then renamed over it, keeping the file's mode.
pub fn write_atomic(path: &Path, outcome: &Outcome) -> Result<(), Error> {
    let name = &outcome.file;
    let fail =
        |what: &str, e: std::io::Error| Error::new(name, format!("{what}: {}; the file is unchanged", io_reason(&e)));
    let target = std::fs::canonicalize(path).map_err(|e| fail("cannot resolve the file", e))?;
    let meta = std::fs::metadata(&target).map_err(|e| fail("cannot read the file's metadata", e))?;
    if meta.permissions().readonly() {
        return Err(Error::new(name, "the file is read-only; refusing to replace it (the file is unchanged)"));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".compose-harden-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail("cannot create a temporary file beside it", e))?;
    tmp.write_all(outcome.output.as_bytes())
        .and_then(|()| tmp.as_file().set_permissions(meta.permissions()))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| fail("cannot write the temporary file", e))?;
    // Tests widen the window between write and rename to kill the process inside it.
    if let Some(ms) = std::env::var("COMPOSE_HARDEN_TEST_WRITE_DELAY_MS").ok().and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    // A dropped temporary file is removed, so every error above leaves nothing behind.
    tmp.persist(&target).map_err(|e| fail("cannot rename the temporary file over it", e.error))?;
    Ok(())
}

/// `--output`: the same atomic replacement, for a file that may not exist yet.
pub fn write_new(path: &Path, outcome: &Outcome) -> Result<(), Error> {
    let shown = path.display().to_string();
    let fail = |e: std::io::Error| Error::new(&shown, format!("cannot write the output: {}", io_reason(&e)));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".compose-harden-").suffix(".tmp").tempfile_in(dir).map_err(fail)?;
    tmp.write_all(outcome.output.as_bytes()).and_then(|()| tmp.as_file().sync_all()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
