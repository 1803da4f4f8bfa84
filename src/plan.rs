//! What passes return: changes to make and findings to report. Passes never touch text.

use crate::rule::{Rule, Severity};
use std::sync::Arc;
use yaml_serde::Value;

/// One value to write under a service: `path` is the keys below the service mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub service: Arc<str>,
    pub path: Arc<[String]>,
    /// Shared by the changes that write the same value (most services get the same).
    pub value: Arc<Value>,
    /// The rule the change fixes (its pass is the one that planned it).
    pub rule: &'static Rule,
    /// A trailing comment for the new line: set when the value is an assumption.
    pub note: Option<Box<str>>,
    /// The user's value this change replaces (a repair, or `--enforce`); None adds a key.
    pub replaces: Option<Box<Value>>,
    /// The change deletes the user's key at `path` (`replaces` holds its value, `value` is
    /// null): under `--enforce`, a key whose setting is written where it is read instead.
    pub removes: bool,
    /// Reported (as a warning) once the change is written: why, with the old and new value.
    pub message: Option<Box<str>>,
}

impl Change {
    pub fn pass(&self) -> &'static str {
        self.rule.pass()
    }

    /// What the change leaves at its path: its value, or nothing where it deletes the key.
    pub fn new_value(&self) -> Option<&Value> {
        (!self.removes).then_some(&*self.value)
    }
}

/// Something a user should know: a skip, an assumption, a value adjusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What the finding is about.
    pub rule: &'static Rule,
    /// The rule's severity, or a lower one where the rule says this case is milder (an init
    /// that runs under docker-init is an info; s6-overlay's, which refuses to, an error).
    pub severity: Severity,
    pub service: String,
    /// Keys below the service that the finding is about (to point at a line).
    pub path: Vec<String>,
    pub message: String,
    /// The pass would have changed this under `--enforce` (so only a run without it has
    /// the finding); the report layer says so.
    pub enforceable: bool,
    /// The written change this finding reports (a repair, a replaced value), by its index
    /// in the outcome's changes: the report shows its fix.
    pub change: Option<usize>,
    /// A credential the finding is about, which no output may show (the report layer masks
    /// it wherever the file's text is shown); never in `message`.
    pub secret: Option<Box<str>>,
}

impl Finding {
    /// A finding about `service` (empty for the file) at `path` below it.
    pub fn new(
        rule: &'static Rule,
        service: impl Into<String>,
        path: Vec<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            severity: rule.severity,
            service: service.into(),
            path,
            message: message.into(),
            enforceable: false,
            change: None,
            secret: None,
        }
    }

    pub fn severity(&self) -> Severity {
        self.severity
    }

    pub fn pass(&self) -> &'static str {
        self.rule.pass()
    }
}

/// Where in the file a finding or change is: the exact node, its start and end, as byte
/// offsets and as 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
}
