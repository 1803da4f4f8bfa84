//! Reading a compose file (or standard input) within the size limit.

use compose_harden::document::MAX_BYTES;
use compose_harden::error::io_reason;
use compose_harden::Error;
use std::io::Read;

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
