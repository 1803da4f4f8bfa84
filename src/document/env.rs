//! Variables as Compose takes them: the shell's over the project's `.env` (or the files
//! `--env-file` names), and `${VAR}` interpolation. Used only to read the project (which
//! files, includes and `extends` name; `COMPOSE_FILE`, `COMPOSE_PROFILES`): an output keeps
//! `${VAR}` as it was written, and no value is ever printed.

use std::collections::HashMap;
use std::path::Path;

/// The variables a project is read with.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// The variables a `.env` file may not change (the shell's; an include's parent's).
    fixed: std::collections::HashSet<String>,
}

impl Env {
    /// The shell's variables over those of `files` (later files over earlier ones), as
    /// Compose reads them. A file that cannot be read is an error (Compose refuses it).
    pub fn load(files: &[&Path], shell: impl IntoIterator<Item = (String, String)>) -> Result<Env, String> {
        let vars: HashMap<String, String> = shell.into_iter().collect();
        let mut env = Env { fixed: vars.keys().cloned().collect(), vars };
        for file in files {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("{}: cannot read: {}", file.display(), crate::error::io_reason(&e)))?;
            env.read_dotenv(&text);
        }
        Ok(env)
    }

    /// Only the shell's variables.
    pub fn shell() -> Env {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Env { fixed: vars.keys().cloned().collect(), vars }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// This environment, with the variables of a `.env`-style text under it (an include's
    /// `env_file`): what is set already wins.
    pub fn under(&self, text: &str) -> Env {
        let mut env = self.clone();
        env.fixed = env.vars.keys().cloned().collect();
        env.read_dotenv(text);
        env
    }

    /// `KEY=value` lines (`export ` allowed, `#` comments, single quotes literal, double
    /// quotes with escapes; unquoted and double-quoted values are interpolated with what
    /// is known so far). A later file's value wins over an earlier one's; the shell's wins
    /// over both.
    fn read_dotenv(&mut self, text: &str) {
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
            let value = if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.rfind('\'').map(|end| &r[..end])) {
                inner.to_string()
            } else if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.rfind('"').map(|end| &r[..end])) {
                let unescaped = inner.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
                self.interpolate(&unescaped).text
            } else {
                // An unquoted value ends at ` #`.
                let value = raw.find(" #").map_or(raw, |at| &raw[..at]).trim_end();
                self.interpolate(value).text
            };
            if !self.fixed.contains(key) {
                self.vars.insert(key.to_string(), value);
            }
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
            Some(v) => v.to_string(),
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
        let empty = value.is_none_or(str::is_empty);
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
            _ => value.unwrap_or_default().to_string(),
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
        let vars: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Env { fixed: vars.keys().cloned().collect(), vars }
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
        );
        assert_eq!(e.get("A"), Some("1"));
        assert_eq!(e.get("B"), Some("two # not a comment"));
        assert_eq!(e.get("C"), Some("line\n1"));
        assert_eq!(e.get("D"), Some("plain"));
        assert_eq!(e.get("E"), Some("1x"));
        assert_eq!(e.get("SHELL_SET"), Some("shell"));
        let loaded = Env::load(&[], [("X".to_string(), "y".to_string())]).expect("no files");
        assert_eq!(loaded.get("X"), Some("y"));
        let shell_wins = e.under("SHELL_SET=file\nNEW=n\n");
        assert_eq!((shell_wins.get("SHELL_SET"), shell_wins.get("NEW")), (Some("shell"), Some("n")));
    }
}
