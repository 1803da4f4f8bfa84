//! Shell form that swallows SIGTERM: with `sh -c "script"` the shell is PID 1 (or tini's
//! only child) and does not pass the signal on, so the app is killed after the grace
//! period. `exec` makes the app replace the shell. `init: true` alone does not help:
//! tini signals its direct child, the shell.

use super::{Out, Pass, Service};
use crate::plan::Severity;
use yaml_serde::Value;

pub struct Shell;

impl Pass for Shell {
    fn name(&self) -> &'static str {
        "shell"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        if service.profile.shell.is_none() {
            return;
        }
        for key in ["entrypoint", "command"] {
            let Some(value) = service.get(&[key]) else { continue };
            let Some(found) = shell_script(value) else { continue };
            let script = found.script.trim_start();
            if script.starts_with("exec ") {
                continue;
            }
            if !is_simple(script) {
                out.report(
                    Severity::Warning,
                    &[key],
                    format!(
                        "{key} runs `{} -c` with a compound script, so the shell, not the app, gets SIGTERM: put `exec` \
                         before the last, long-running command, or `trap` TERM and pass it on",
                        found.shell
                    ),
                );
                continue;
            }
            let Some(fixed) = found.with_exec() else { continue };
            if service.enforce {
                let message = format!(
                    "{key}: script `{script}` -> `exec {script}`, so the app replaces the shell and receives SIGTERM"
                );
                out.replace(&[key], value, fixed, message);
            } else {
                out.report(
                    Severity::Warning,
                    &[key],
                    format!(
                        "{key} runs `{} -c`, so the shell, not the app, gets SIGTERM: write `exec {script}` (--enforce does)",
                        found.shell
                    ),
                );
            }
        }
    }
}

struct Found<'a> {
    value: &'a Value,
    shell: String,
    script: &'a str,
    /// The list index of the script, for the list form.
    index: Option<usize>,
}

impl Found<'_> {
    /// The same value with `exec ` in front of the script, inside its own quoting.
    fn with_exec(&self) -> Option<Value> {
        let lead = self.script.len() - self.script.trim_start().len();
        let patched = format!("{}exec {}", &self.script[..lead], &self.script[lead..]);
        match (self.value, self.index) {
            (Value::Sequence(items), Some(i)) => {
                let mut items = items.clone();
                items[i] = Value::from(patched);
                Some(Value::Sequence(items))
            }
            (Value::String(s), None) => {
                let at = s.find(self.script)?;
                Some(Value::from(format!("{}{patched}{}", &s[..at], &s[at + self.script.len()..])))
            }
            _ => None,
        }
    }
}

fn is_shell(word: &str) -> bool {
    matches!(word.rsplit('/').next(), Some("sh" | "bash" | "ash" | "dash" | "zsh"))
}

/// `-c`, or a cluster of short flags with `c` in it (`-ec`).
fn is_dash_c(word: &str) -> bool {
    word.starts_with('-') && !word.starts_with("--") && word.contains('c')
}

/// The script of `sh -c SCRIPT`, in list form or in a string (which Compose splits into
/// words like a shell does, without running one).
fn shell_script(value: &Value) -> Option<Found<'_>> {
    match value {
        Value::Sequence(items) => {
            let words: Vec<&str> = items.iter().map(|i| i.as_str()).collect::<Option<_>>()?;
            let shell = words.first().filter(|w| is_shell(w))?;
            let c = words.iter().position(|w| is_dash_c(w))?;
            let script = words.get(c + 1)?;
            Some(Found { value, shell: shell.to_string(), script, index: Some(c + 1) })
        }
        Value::String(s) => {
            let words = split_words(s)?;
            let shell = words.first().filter(|w| is_shell(w))?.clone();
            let c = words.iter().position(|w| is_dash_c(w))?;
            let script = words.get(c + 1)?;
            // Point into the original string so that the fix keeps its quoting.
            let at = s.find(script.as_str())?;
            Some(Found { value, shell, script: &s[at..at + script.len()], index: None })
        }
        _ => None,
    }
}

/// Shell-like word splitting with single and double quotes (no expansion).
fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => word.push(chars.next()?),
                        c => word.push(c),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// One plain command: no lists, pipes, redirections, substitutions or keywords.
fn is_simple(script: &str) -> bool {
    let keywords = ["if", "for", "while", "until", "case", "{", "(", "trap"];
    let first = script.split_whitespace().next().unwrap_or("");
    !script.is_empty()
        && !keywords.contains(&first)
        && !script.contains(['&', '|', ';', '\n', '`', '>', '<', '('])
        && !script.contains("$(")
}
