//! Variables as Compose takes them: the shell's over the project's `.env` (or the files
//! `--env-file` names), and `${VAR}` interpolation. Used only to read the project (which
//! files, includes and `extends` name; `COMPOSE_FILE`, `COMPOSE_PROFILES`): an output keeps
//! `${VAR}` as it was written, and no value is ever printed.

use std::collections::HashMap;
use std::path::Path;

/// The variables a project is read with. The shell's are looked up by name when asked for
/// (most runs ask for none), over those of `.env` files.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Variables given over everything instead of the process's own (tests); None: the
    /// process's environment.
    given: Option<HashMap<String, String>>,
    /// Variables from files, the first map winning (a project's `.env`, then an include's
    /// `env_file`, which does not change what is set already).
    files: Vec<HashMap<String, String>>,
}

impl Env {
    /// The shell's variables over those of `files` (a later file's over an earlier one's),
    /// as Compose reads them. A file that cannot be read is an error (Compose refuses it).
    pub fn load(files: &[&Path]) -> Result<Env, String> {
        let mut env = Env::shell();
        for file in files {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("{}: cannot read: {}", file.display(), crate::error::io_reason(&e)))?;
            env.read_dotenv(&text, true);
        }
        Ok(env)
    }

    /// Only the shell's variables.
    pub fn shell() -> Env {
        Env { given: None, files: Vec::new() }
    }

    /// Only `vars` (no shell), for tests and for reading a `.env` on its own.
    pub fn given(vars: impl IntoIterator<Item = (String, String)>) -> Env {
        Env { given: Some(vars.into_iter().collect()), files: Vec::new() }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        let shell = match &self.given {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        shell.or_else(|| self.files.iter().find_map(|f| f.get(name).cloned()))
    }

    /// This environment, with the variables of a `.env`-style text under it (an include's
    /// `env_file`): what is set already wins.
    pub fn under(&self, text: &str) -> Env {
        let mut env = self.clone();
        env.read_dotenv(text, false);
        env
    }

    /// `KEY=value` lines (`export ` allowed, `#` comments, single quotes literal, double
    /// quotes with escapes; unquoted and double-quoted values are interpolated with what
    /// is known so far). With `over`, the file's values win over earlier files' (but not
    /// the shell's); else they only fill what is not set.
    fn read_dotenv(&mut self, text: &str, over: bool) {
        let mut read: HashMap<String, String> = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, raw)) = line.split_once('=') else { continue };
            let key = key.trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') {
                continue;
            }
            let raw = raw.trim();
            // What the file set so far counts, under what is set already.
            let known = Env {
                given: self.given.clone(),
                files: [read.clone()].into_iter().chain(self.files.clone()).collect(),
            };
            let value = if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.rfind('\'').map(|end| &r[..end])) {
                inner.to_string()
            } else if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.rfind('"').map(|end| &r[..end])) {
                let unescaped = inner.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
                known.interpolate(&unescaped).text
            } else {
                // An unquoted value ends at ` #`.
                let value = raw.find(" #").map_or(raw, |at| &raw[..at]).trim_end();
                known.interpolate(value).text
            };
            read.insert(key.to_string(), value);
        }
        match over {
            true => self.files.insert(0, read),
            false => self.files.push(read),
        }
    }

    /// `text` with its variables replaced as Compose replaces them: `$$` is `$`, `$VAR`
    /// and `${VAR}`, `${VAR:-default}` and `${VAR-default}`, `${VAR:+other}` and
    /// `${VAR+other}`, `${VAR:?message}` and `${VAR?message}`.
    pub fn interpolate(&self, text: &str) -> Interpolated {
        let mut out = Interpolated::default();
        out.text = self.expand(text, &mut out.unset, &mut out.required);
        out
    }

    fn expand(&self, text: &str, unset: &mut Vec<String>, required: &mut Option<String>) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(more) = after.strip_prefix('$') {
                out.push('$');
                rest = more;
            } else if let Some(braced) = after.strip_prefix('{') {
                let Some(end) = closing(braced) else {
                    out.push_str(&rest[at..]);
                    return out;
                };
                out.push_str(&self.braced(&braced[..end], unset, required));
                rest = &braced[end + 1..];
            } else {
                let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                if len == 0 {
                    out.push('$');
                } else {
                    out.push_str(&self.value(&after[..len], unset));
                }
                rest = &after[len..];
            }
        }
        out.push_str(rest);
        out
    }

    fn value(&self, name: &str, unset: &mut Vec<String>) -> String {
        match self.get(name) {
            Some(v) => v,
            None => {
                if !unset.iter().any(|u| u == name) {
                    unset.push(name.to_string());
                }
                String::new()
            }
        }
    }

    fn braced(&self, inner: &str, unset: &mut Vec<String>, required: &mut Option<String>) -> String {
        let len = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
        let (name, op) = inner.split_at(len);
        let value = self.get(name);
        let empty = value.as_deref().is_none_or(str::is_empty);
        let (op, word) = match op.find(|c: char| !matches!(c, ':' | '-' | '+' | '?')) {
            Some(at) => op.split_at(at),
            None => (op, ""),
        };
        match op {
            "" => self.value(name, unset),
            ":-" if empty => self.expand(word, unset, required),
            "-" if value.is_none() => self.expand(word, unset, required),
            ":+" if !empty => self.expand(word, unset, required),
            "+" if value.is_some() => self.expand(word, unset, required),
            ":+" | "+" => String::new(),
            ":?" | "?" if (op == ":?" && empty) || value.is_none() => {
                if required.is_none() {
                    let message = self.expand(word, unset, &mut None);
                    *required = Some(match message.is_empty() {
                        true => format!("`{name}` must be set"),
                        false => format!("`{name}` must be set: {message}"),
                    });
                }
                String::new()
            }
            _ => value.unwrap_or_default(),
        }
    }
}

/// Where the `}` that closes a `${` is, counting nested ones.
fn closing(text: &str) -> Option<usize> {
    let mut depth = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// A text with its variables replaced, and what could not be known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interpolated {
    pub text: String,
    /// Variables that are not set and have no default (replaced by nothing, as Compose does).
    pub unset: Vec<String>,
    /// The message of a `${VAR:?message}` whose variable is not set: Compose refuses the
    /// file; the tool decides with what it knows and says so.
    pub required: Option<String>,
}

impl Interpolated {
    /// Whether every variable was known.
    pub fn known(&self) -> bool {
        self.unset.is_empty() && self.required.is_none()
    }

    /// Why the text is not known, in words.
    pub fn why(&self) -> String {
        match &self.required {
            Some(r) => r.clone(),
            None => format!("`{}` is not set", self.unset.join("`, `")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::given(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn interpolates_as_compose_does() {
        let e = env(&[("A", "a"), ("EMPTY", "")]);
        let cases = [
            ("x $A ${A} $$A", "x a a $A"),
            ("${B:-d}/${EMPTY:-e}/${EMPTY-f}", "d/e/"),
            ("${A:+yes}${B:+no}${EMPTY+set}", "yesset"),
            ("${B:-${A}-x}", "a-x"),
            ("cost: 5$", "cost: 5$"),
        ];
        for (text, want) in cases {
            let got = e.interpolate(text);
            assert_eq!(got.text, want, "{text}");
            assert!(got.known(), "{text}");
        }
        let unset = e.interpolate("$B and ${C}");
        assert_eq!((unset.text.as_str(), unset.unset.clone()), (" and ", vec!["B".to_string(), "C".to_string()]));
        let required = e.interpolate("${B:?give B} ${EMPTY:?}");
        assert_eq!(required.required.as_deref(), Some("`B` must be set: give B"));
        assert!(!required.known());
    }

    #[test]
    fn reads_dotenv_files_under_the_shell() {
        let mut e = env(&[("SHELL_SET", "shell")]);
        e.read_dotenv(
            "# a comment\nexport A=1\nB = 'two # not a comment'\nC=\"line\\n$A\"\nD=plain # comment\nSHELL_SET=file\nE=${A}x\n",
            true,
        );
        let get = |e: &Env, k: &str| e.get(k);
        assert_eq!(get(&e, "A").as_deref(), Some("1"));
        assert_eq!(get(&e, "B").as_deref(), Some("two # not a comment"));
        assert_eq!(get(&e, "C").as_deref(), Some("line\n1"));
        assert_eq!(get(&e, "D").as_deref(), Some("plain"));
        assert_eq!(get(&e, "E").as_deref(), Some("1x"));
        assert_eq!(get(&e, "SHELL_SET").as_deref(), Some("shell"));
        // A later file wins over an earlier one; an include's env_file only fills gaps.
        e.read_dotenv("A=2\n", true);
        assert_eq!(get(&e, "A").as_deref(), Some("2"));
        let include = e.under("A=3\nNEW=n\n");
        assert_eq!((get(&include, "A").as_deref(), get(&include, "NEW").as_deref()), (Some("2"), Some("n")));
    }
}
