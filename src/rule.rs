//! Rules: every finding and every change names one. Each is declared once, by [`rules!`]
//! in the file of the pass that emits it, with its summary, its explanation (why, what the
//! fix writes, when it is skipped) and what fix it offers; `passes::all_rules` lists them
//! all. A finding cannot be built without its rule; formats read rules, never passes.

/// How much a finding matters: the rule's, or lower where the rule says a case is milder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a rule's fix is, for the report layer to turn into hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// Nothing is written: the user decides.
    None,
    /// A key the service lacks is added.
    Safe,
    /// A value that cannot work as written is rewritten (curl without -f).
    Repair,
    /// A change that alters what the service may do; written only when asked for.
    Unsafe,
    /// A value the user set is replaced, only under `--enforce`.
    Replace,
}

impl Fix {
    pub fn label(self) -> &'static str {
        match self {
            Fix::None => "none",
            Fix::Safe => "safe",
            Fix::Repair => "repair",
            Fix::Unsafe => "unsafe",
            Fix::Replace => "enforce",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// `pass/kind`: stable; users suppress and look rules up by it.
    pub id: &'static str,
    pub severity: Severity,
    pub fix: Fix,
    pub summary: &'static str,
    pub explanation: &'static str,
    /// Where the practice is documented (CIS Docker Benchmark v1.7.0 sections, the OWASP
    /// Docker Security Cheat Sheet's rules); empty where no such reference exists.
    pub references: &'static str,
}

impl Rule {
    /// The pass (or `load`) the rule belongs to: what `x-compose-harden: {skip: [...]}` names.
    pub fn pass(&self) -> &'static str {
        self.id.split('/').next().unwrap_or(self.id)
    }
}

/// Declares a file's rules: each a `static` named as its id is spelled (`init/own-init` is
/// `INIT_OWN_INIT`, checked as the crate compiles), and `RULES`, all of them in order.
///
/// ```ignore
/// rules! {
///     INIT_MISSING = "init/missing", Warning, Safe,
///         "no init: the app is PID 1",
///         "As PID 1 the app gets no default signal handlers ...";
///     MOUNTS_HOST_PATH = "mounts/host-path", Error, None,
///         "a host path that holds the host is mounted",
///         "A bind of the host's root ...",
///         refs "CIS Docker Benchmark v1.7.0 5.6";
/// }
/// ```
macro_rules! rules {
    ($($name:ident = $id:literal, $severity:ident, $fix:ident, $summary:literal, $explanation:literal
        $(, refs $references:literal)?;)*) => {
        $(
            pub static $name: $crate::rule::Rule = $crate::rule::Rule {
                id: $id,
                severity: $crate::rule::Severity::$severity,
                fix: $crate::rule::Fix::$fix,
                summary: $summary,
                explanation: $explanation,
                references: concat!("" $(, $references)?),
            };
            const _: () = assert!(
                $crate::rule::named_as(stringify!($name), $id),
                concat!("`", stringify!($name), "` is not named as its id `", $id, "` is spelled")
            );
        )*
        /// This file's rules, in the order `compose-harden rules` lists them.
        pub static RULES: &[&$crate::rule::Rule] = &[$(&$name),*];
    };
}
pub(crate) use rules;

/// Whether `name` is `id` in capitals, with `_` for `/` and `-`.
pub const fn named_as(name: &str, id: &str) -> bool {
    let (name, id) = (name.as_bytes(), id.as_bytes());
    if name.len() != id.len() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        let want = match id[i] {
            b'/' | b'-' => b'_',
            c => c.to_ascii_uppercase(),
        };
        if name[i] != want {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_named_as_its_id_is_spelled() {
        assert!(named_as("INIT_OWN_INIT", "init/own-init"));
        assert!(!named_as("INIT_OWN", "init/own-init"));
        assert!(!named_as("HEALTHCHECK_JOB", "healthcheck/one-shot"));
    }
}
