//! The one error type: what went wrong and where. Every error exits with code 2.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub file: String,
    /// 1-based line and column (in characters), where the input has a place to point at.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl Error {
    pub fn new(file: &str, message: impl Into<String>) -> Self {
        Error { file: file.to_string(), position: None, message: message.into() }
    }

    pub fn at(file: &str, line: usize, col: usize, message: impl Into<String>) -> Self {
        Error { file: file.to_string(), position: Some((line, col)), message: message.into() }
    }

    /// The same error, its message after `prefix`.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}{}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: error: {}", self.file, self.message),
            None => write!(f, "{}: error: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for Error {}

/// An I/O failure in words (without the OS error number).
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => e.to_string(),
    }
}
