//! The Engine API over the local socket: plain HTTP/1.1 requests on a connection kept open
//! between them (each costs the engine a few milliseconds; a new connection adds to that).

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Longer than any answer takes; a stuck engine ends the command instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(120);

/// A connection to the engine.
pub struct Connection {
    reader: BufReader<UnixStream>,
}

/// What the engine answered.
pub struct Answer {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value, by its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("the engine answered what is not JSON: {e}"))
    }

    /// The engine's own words for a refusal (`{"message": ...}`), else the status.
    pub fn message(&self) -> String {
        self.json()
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

impl Connection {
    pub fn open(socket: &Path) -> Result<Connection, String> {
        let stream =
            UnixStream::connect(socket).map_err(|e| format!("cannot reach the engine at {}: {e}", socket.display()))?;
        // Setting a timeout fails only for a zero duration.
        let _ = stream.set_read_timeout(Some(PATIENCE));
        let _ = stream.set_write_timeout(Some(PATIENCE));
        Ok(Connection { reader: BufReader::new(stream) })
    }

    /// Gives up on an answer after `within` (a command run in a container that hangs).
    pub fn set_timeout(&mut self, within: Duration) {
        let _ = self.reader.get_ref().set_read_timeout(Some(within.max(Duration::from_millis(1))));
    }

    /// One request; `target` is the path and query, already encoded ([`encode`]).
    pub fn call(&mut self, method: &str, target: &str, body: Option<&Value>) -> Result<Answer, String> {
        let failed = |e: std::io::Error| format!("the engine stopped answering ({method} {target}): {e}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut request = format!("{method} {target} HTTP/1.1\r\nHost: docker\r\n");
        if !body.is_empty() || method == "POST" {
            request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        self.reader.get_mut().write_all(request.as_bytes()).map_err(failed)?;
        let mut status_line = String::new();
        if self.reader.read_line(&mut status_line).map_err(failed)? == 0 {
            return Err(format!("the engine closed the connection ({method} {target})"));
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("the engine answered what is not HTTP: {}", status_line.trim()))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).map_err(failed)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        let mut answer = Answer { status, headers, body: Vec::new() };
        if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
            return Ok(answer);
        }
        if answer.header("Transfer-Encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
            answer.body = self.chunked().map_err(failed)?;
        } else if let Some(length) = answer.header("Content-Length").and_then(|l| l.parse::<usize>().ok()) {
            let mut body = vec![0u8; length];
            self.reader.read_exact(&mut body).map_err(failed)?;
            answer.body = body;
        } else {
            self.reader.read_to_end(&mut answer.body).map_err(failed)?;
        }
        Ok(answer)
    }

    fn chunked(&mut self) -> std::io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            self.reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "a bad chunk size"))?;
            if n == 0 {
                // The trailer ends with an empty line.
                let mut line = String::new();
                while self.reader.read_line(&mut line)? > 0 && !line.trim().is_empty() {
                    line.clear();
                }
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + n, 0);
            self.reader.read_exact(&mut body[start..])?;
            let mut end = [0u8; 2];
            self.reader.read_exact(&mut end)?;
        }
    }
}

/// Percent-encodes a path segment or query value: everything but unreserved characters and
/// those of `keep` (`/:@` in an image name, `/` in a file path).
pub fn encode(text: &str, keep: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ if keep.as_bytes().contains(&b) => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Standard base64 (the engine's encoding of a path's stat header) to bytes.
pub fn base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let v: Vec<u8> = chunk.iter().map(|c| value(*c)).collect::<Option<_>>()?;
        let n = v.iter().enumerate().fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..v.len().saturating_sub(1)]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_header_decodes() {
        let header = "eyJuYW1lIjoid2dldCIsInNpemUiOjEyLCJtb2RlIjoxMzQyMTgyMzksIm10aW1lIjoiMjAyNi0xMi0wNFQxNToyODowMloiLCJsaW5rVGFyZ2V0IjoiL2Jpbi9idXN5Ym94In0=";
        let text = String::from_utf8(base64(header).expect("base64")).expect("utf-8");
        assert_eq!(
            text,
            r#"{"name":"wget","size":12,"mode":134218239,"mtime":"2026-12-04T15:28:02Z","linkTarget":"/bin/busybox"}"#
        );
        assert_eq!(base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64("YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64("!!"), None);
    }

    #[test]
    fn names_and_paths_are_encoded() {
        assert_eq!(encode("registry:5000/app:1", "/:@"), "registry:5000/app:1");
        assert_eq!(encode("/usr/bin/a b&c", "/"), "/usr/bin/a%20b%26c");
        assert_eq!(encode("a/b:c", ""), "a%2Fb%3Ac");
    }
}
