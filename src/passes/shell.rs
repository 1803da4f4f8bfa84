//! Shell form that swallows SIGTERM. With `sh -c "script"` under `init: true`, tini
//! signals its child, the shell; a shell that does not exec its command (dash, Debian's
//! `/bin/sh`, keeps itself as the parent) dies, and the app is killed when the namespace
//! is torn down, without its own shutdown. `exec` before a single simple command makes
//! the app replace the shell under every shell. It also removes the shell as the reaper
//! of orphans, so it is written only where init is in effect; it is a repair, like `-f`
//! on a probe, and a profile may turn it off. Compound scripts are only reported.

use super::{Out, Pass, Service};
use crate::profile::{Profile, ShellSettings};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Shell;

rules! {
    SHELL_SIGTERM_SWALLOWED = "shell/sigterm-swallowed", Warning, Repair,
        "`sh -c` stands between the signal and the app",
        "A shell that runs the app as its child, instead of replacing itself with it, takes SIGTERM: as PID 1 it \
         ignores it (the stop waits out the grace period and ends in SIGKILL), and under tini it dies and the \
         app is killed without running its handler. Writing `exec` before a simple command makes the app the \
         process that gets the signal. Written only where init is in effect, since without one the app as PID \
         1 would stop reaping orphans.";
    SHELL_COMPOUND_SCRIPT = "shell/compound-script", Warning, None,
        "`sh -c` with a compound script: the shell gets SIGTERM",
        "A script with `&&`, `;`, pipes or loops cannot simply be exec'd. Put `exec` before its last command, \
         or trap SIGTERM in the script.";
    SHELL_EXEC_IMPOSSIBLE = "shell/exec-impossible", Warning, None,
        "`sh -c` starts with a word `exec` cannot precede",
        "Builtins (`cd`, `echo`, `ulimit`), `!` and `time` cannot follow `exec`. Rewrite the script so that the \
         app is its last command, after `exec`.";
}

impl Pass for Shell {
    const NAME: &'static str = "shell";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p ShellSettings;

    fn settings(profile: &Profile) -> Option<&ShellSettings> {
        profile.shell.as_ref()
    }

    fn run(&self, settings: &ShellSettings, service: &Service, out: &mut Out) {
        let init = match service.get(&["init"]) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
        for found in scripts(service) {
            let key = found.key;
            let script = found.script.trim_end();
            let may = if found.shell.rsplit('/').next() == Some("dash") { "does" } else { "may" };
            match exec_point(script) {
                Err(Kind::Compound) => out.report(
                    &SHELL_COMPOUND_SCRIPT,
                    &[key],
                    format!(
                        "{key} runs `{} -c` with a compound script, so the shell, not the app, gets SIGTERM: put `exec` \
                         before the last, long-running command, or `trap` TERM and pass it on",
                        found.shell
                    ),
                ),
                Err(Kind::Prefix(word)) => out.report(
                    &SHELL_EXEC_IMPOSSIBLE,
                    &[key],
                    format!(
                        "{key} runs `{} -c` with a script that starts with `{word}`, which `exec` cannot precede, so the \
                         shell, not the app, {may} get SIGTERM: drop `{word}` and write `exec` before the command",
                        found.shell
                    ),
                ),
                Err(Kind::Nothing) => {}
                Ok(at) => {
                    let Some(fixed) = found.with_exec(at) else { continue };
                    // Shown on one line: a finding is one line.
                    let one_line = |s: &str| s.replace('\r', "\\r").replace('\n', "\\n");
                    let new = one_line(&format!("{}exec {}", &script[..at], &script[at..]));
                    let script = one_line(script);
                    if init && settings.repair {
                        let message = format!(
                            "{key}: `{script}` -> `{new}`: with init, tini signals the shell, which {may} not pass SIGTERM \
                             on (dash keeps itself as the parent); with exec the app replaces the shell and gets it"
                        );
                        out.replace(&SHELL_SIGTERM_SWALLOWED, &[key], found.value, fixed, message);
                    } else {
                        let why = match init {
                            true => "the profile turns this repair off",
                            false => "not written without init: the shell would stop reaping orphans, and the app as PID 1 \
                                      ignores SIGTERM unless it handles it; set `init: true` too",
                        };
                        out.report(
                            &SHELL_SIGTERM_SWALLOWED,
                            &[key],
                            format!(
                                "{key} runs `{} -c`, so the shell, not the app, {may} get SIGTERM: write `{new}` ({why})",
                                found.shell
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// A shell script a key of the service runs.
struct Found<'a> {
    key: &'static str,
    /// The value that holds the script (the key's).
    value: &'a Value,
    shell: String,
    /// The script, as a part of the value's text.
    script: &'a str,
    /// The list index of the script, for the list form.
    index: Option<usize>,
}

impl Found<'_> {
    /// The same value with `exec ` at byte `at` of the script, inside its own quoting.
    fn with_exec(&self, at: usize) -> Option<Value> {
        let patched = format!("{}exec {}", &self.script[..at], &self.script[at..]);
        match (self.value, self.index) {
            (Value::Sequence(items), Some(i)) => {
                let mut items = items.clone();
                items[i] = Value::from(patched);
                Some(Value::Sequence(items))
            }
            (Value::String(s), None) => {
                let start = self.script.as_ptr() as usize - s.as_ptr() as usize;
                let end = start + self.script.len();
                Some(Value::from(format!("{}{patched}{}", &s[..start], &s[end..])))
            }
            _ => None,
        }
    }
}

/// The `sh -c SCRIPT` of `entrypoint` and `command`, and the script in `command` of an
/// `entrypoint: ["/bin/sh", "-c"]` that has none of its own.
fn scripts<'a>(service: &'a Service) -> Vec<Found<'a>> {
    let mut found = Vec::new();
    let entrypoint = service.get(&["entrypoint"]);
    for key in ["entrypoint", "command"] {
        let Some(value) = service.get(&[key]) else { continue };
        if let Some(f) = shell_script(key, value) {
            found.push(f);
        }
    }
    // `entrypoint: [sh, -c]` with the script as the first item of `command`.
    let shell_without_script = entrypoint.and_then(Value::as_sequence).and_then(|items| {
        let words: Vec<&str> = items.iter().map(Value::as_str).collect::<Option<_>>()?;
        let shell = words.first().filter(|w| is_shell(w))?;
        (words.len() >= 2 && is_dash_c(words[words.len() - 1])).then(|| shell.to_string())
    });
    if let (Some(shell), Some(Value::Sequence(items))) = (shell_without_script, service.get(&["command"])) {
        if let (Some(script), Some(value)) = (items.first().and_then(Value::as_str), service.get(&["command"])) {
            found.push(Found { key: "command", value, shell, script, index: Some(0) });
        }
    }
    found
}

fn is_shell(word: &str) -> bool {
    matches!(word.rsplit('/').next(), Some("sh" | "bash" | "ash" | "dash" | "zsh"))
}

/// `-c`, or a cluster of short flags with `c` in it (`-ec`, `-lc`).
fn is_dash_c(word: &str) -> bool {
    word.starts_with('-') && !word.starts_with("--") && word.contains('c')
}

/// The script of `sh -c SCRIPT`, in list form or in a string (which Compose splits into
/// words like a shell does, without running one).
fn shell_script<'a>(key: &'static str, value: &'a Value) -> Option<Found<'a>> {
    match value {
        Value::Sequence(items) => {
            let words: Vec<&str> = items.iter().map(|i| i.as_str()).collect::<Option<_>>()?;
            let shell = words.first().filter(|w| is_shell(w))?;
            let c = words.iter().position(|w| is_dash_c(w))?;
            let script = words.get(c + 1)?;
            Some(Found { key, value, shell: shell.to_string(), script, index: Some(c + 1) })
        }
        Value::String(s) => {
            let words = split_words(s)?;
            let shell = words.first().filter(|w| is_shell(&w.0))?.0.clone();
            let c = words.iter().position(|w| is_dash_c(&w.0))?;
            let (script, start, end) = words.get(c + 1)?;
            // Point into the original string, inside the word's quotes, so that the fix
            // keeps its quoting; a word that is not spelled out as it reads is left alone.
            let raw = &s[*start..*end];
            let inner = match raw.as_bytes().first() {
                Some(b'\'' | b'"') if raw.len() >= 2 => (start + 1, end - 1),
                _ => (*start, *end),
            };
            if s[inner.0..inner.1] != **script {
                return None;
            }
            Some(Found { key, value, shell, script: &s[inner.0..inner.1], index: None })
        }
        _ => None,
    }
}

/// Shell-like word splitting with single and double quotes (no expansion): each word,
/// and where its text starts and ends in `s`.
fn split_words(s: &str) -> Option<Vec<(String, usize, usize)>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(from) = start.take() {
                    words.push((std::mem::take(&mut word), from, i));
                }
                continue;
            }
            '\'' => loop {
                match chars.next()?.1 {
                    '\'' => break,
                    c => word.push(c),
                }
            },
            '"' => loop {
                match chars.next()?.1 {
                    '"' => break,
                    '\\' => word.push(chars.next()?.1),
                    c => word.push(c),
                }
            },
            c => word.push(c),
        }
        start.get_or_insert(i);
    }
    if let Some(from) = start {
        words.push((word, from, s.len()));
    }
    Some(words)
}

/// Why `exec` is not written before a script.
#[derive(Debug, PartialEq)]
enum Kind {
    /// Lists, pipes, substitutions, keywords, several lines.
    Compound,
    /// `!` or `time`, which `exec` cannot follow.
    Prefix(String),
    /// Nothing long-running to exec: `exec` already, a builtin, assignments alone.
    Nothing,
}

const KEYWORDS: [&str; 14] =
    ["if", "then", "else", "fi", "for", "while", "until", "do", "done", "case", "esac", "select", "function", "[["];
const BUILTINS: [&str; 34] = [
    "cd", "echo", "ulimit", "source", ".", "set", "export", "unset", "trap", "wait", "eval", "read", "true", "false",
    ":", "test", "[", "printf", "kill", "shift", "umask", "alias", "return", "exit", "command", "builtin", "local",
    "readonly", "type", "hash", "getopts", "jobs", "fg", "bg",
];

/// Where `exec ` goes in a script that is one simple command (after its leading
/// assignments); why not otherwise. Redirections after the command are fine: `exec`
/// applies them to the command. `$$` is Compose's escape for `$`.
fn exec_point(script: &str) -> Result<usize, Kind> {
    let words = simple_words(script).ok_or(Kind::Compound)?;
    let is_assignment = |w: &str| {
        let name = w.split('=').next().unwrap_or("");
        w.contains('=')
            && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit()
    };
    let Some((at, word)) = words.iter().find(|(_, w)| !is_assignment(w)) else { return Err(Kind::Nothing) };
    let word = word.as_str();
    let redirection = word.trim_start_matches(|c: char| c.is_ascii_digit());
    if redirection.starts_with(['<', '>']) || redirection.starts_with("&>") {
        return Err(Kind::Compound);
    }
    match word {
        "exec" => Err(Kind::Nothing),
        w if w.starts_with('-') => Err(Kind::Nothing),
        "!" | "time" => Err(Kind::Prefix(word.to_string())),
        w if KEYWORDS.contains(&w) || w.starts_with('{') || w.starts_with('(') => Err(Kind::Compound),
        w if BUILTINS.contains(&w) => Err(Kind::Nothing),
        _ => Ok(*at),
    }
}

/// The words of a one-line script and where each starts (in bytes), or None if it is not
/// one simple command (an unquoted `;`, `&`, `|`, `(`, `)`, `` ` ``, `$(`, heredoc or line
/// break). `$$` is Compose's `$`, so `$$(` is a substitution too.
fn simple_words(script: &str) -> Option<Vec<(usize, String)>> {
    let chars: Vec<(usize, char)> = script.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|(_, c)| *c);
    let mut words: Vec<(usize, String)> = Vec::new();
    let mut word: Option<(usize, String)> = None;
    let mut quote: Option<char> = None;
    let mut k = 0;
    while k < chars.len() {
        let (pos, c) = chars[k];
        let mut taken = 1;
        match (quote, c) {
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => {}
            (_, '$') => {
                let dollars = if at(k + 1) == Some('$') { 2 } else { 1 };
                if at(k + dollars) == Some('(') {
                    return None;
                }
                taken = dollars;
            }
            (Some(_), '"') => quote = None,
            (Some(_), '`') => return None,
            (_, '\\') => taken = 2,
            (Some(_), _) => {}
            (None, ' ' | '\t') => {
                words.extend(word.take());
                k += 1;
                continue;
            }
            (None, '\n' | '\r' | ';' | '|' | '(' | ')' | '`') => return None,
            (None, '#') if word.is_none() => break,
            (None, '&') => {
                // `>&2`, `2>&1` and `&>` redirect; any other `&` makes a list.
                let before = k.checked_sub(1).and_then(at);
                if !matches!(before, Some('>' | '<')) && at(k + 1) != Some('>') {
                    return None;
                }
            }
            (None, '<') if at(k + 1) == Some('<') => return None,
            (None, '\'' | '"') => quote = Some(c),
            (None, _) => {}
        }
        let end = chars.get(k + taken).map_or(script.len(), |(p, _)| *p);
        word.get_or_insert_with(|| (pos, String::new())).1.push_str(&script[pos..end]);
        k += taken;
    }
    if quote.is_some() {
        return None;
    }
    words.extend(word);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, enforced, plan, profile};

    const SETTINGS: &str = "shell: {}";

    #[test]
    fn exec_is_written_before_a_lone_command_under_init() {
        let compose = "services:
  list: {image: example/app:1, init: true, command: [sh, -c, node app.js]}
  string: {image: example/app:1, init: true, command: sh -c 'node app.js'}
  split: {image: example/app:1, init: true, entrypoint: [/bin/sh, -c], command: [node server.js]}
";
        check(plan(&Shell, &profile(SETTINGS), compose), r#"
~ list: command = ["sh","-c","exec node app.js"] (was ["sh","-c","node app.js"])  [shell/sigterm-swallowed]: command: `node app.js` -> `exec node app.js`: with init, tini signals the shell, which may not pass SIGTERM on (dash keeps itself as the parent); with exec the app replaces the shell and gets it
~ string: command = "sh -c 'exec node app.js'" (was "sh -c 'node app.js'")  [shell/sigterm-swallowed]: command: `node app.js` -> `exec node app.js`: with init, tini signals the shell, which may not pass SIGTERM on (dash keeps itself as the parent); with exec the app replaces the shell and gets it
~ split: command = ["exec node server.js"] (was ["node server.js"])  [shell/sigterm-swallowed]: command: `node server.js` -> `exec node server.js`: with init, tini signals the shell, which may not pass SIGTERM on (dash keeps itself as the parent); with exec the app replaces the shell and gets it
"#);
    }

    #[test]
    fn without_init_or_with_the_repair_off_it_is_reported_and_dash_is_named() {
        let compose = "services:
  no-init: {image: example/app:1, command: [sh, -c, node app.js]}
  dash: {image: example/app:1, init: true, command: [dash, -c, node app.js]}
";
        check(plan(&Shell, &profile(SETTINGS), compose), r#"
~ dash: command = ["dash","-c","exec node app.js"] (was ["dash","-c","node app.js"])  [shell/sigterm-swallowed]: command: `node app.js` -> `exec node app.js`: with init, tini signals the shell, which does not pass SIGTERM on (dash keeps itself as the parent); with exec the app replaces the shell and gets it
warning[shell/sigterm-swallowed] no-init at command: command runs `sh -c`, so the shell, not the app, may get SIGTERM: write `exec node app.js` (not written without init: the shell would stop reaping orphans, and the app as PID 1 ignores SIGTERM unless it handles it; set `init: true` too)
"#);
        check(plan(&Shell, &profile("shell: {repair: false}"), "services:\n  a: {image: x, init: true, command: [sh, -c, node app.js]}\n"), r#"
warning[shell/sigterm-swallowed] a at command: command runs `sh -c`, so the shell, not the app, may get SIGTERM: write `exec node app.js` (the profile turns this repair off)
"#);
    }

    #[test]
    fn compound_scripts_and_prefixes_are_reported() {
        let compose = "services:
  compound: {image: example/app:1, init: true, command: [sh, -c, migrate && node app.js]}
  negated: {image: example/app:1, init: true, command: [sh, -c, '! node app.js']}
  builtin: {image: example/app:1, init: true, command: [sh, -c, cd /app]}
";
        check(enforced(&Shell, &profile(SETTINGS), compose), r#"
warning[shell/compound-script] compound at command: command runs `sh -c` with a compound script, so the shell, not the app, gets SIGTERM: put `exec` before the last, long-running command, or `trap` TERM and pass it on
warning[shell/exec-impossible] negated at command: command runs `sh -c` with a script that starts with `!`, which `exec` cannot precede, so the shell, not the app, may get SIGTERM: drop `!` and write `exec` before the command
"#);
    }

    #[test]
    fn exec_goes_after_leading_assignments_and_never_before_builtins_or_lists() {
        assert_eq!(exec_point("node app.js"), Ok(0));
        assert_eq!(exec_point("FOO=1 node app.js"), Ok(6));
        assert_eq!(exec_point("TZ=UTC A='x y' sleep 30"), Ok(15));
        assert_eq!(exec_point("  node app.js > /tmp/log 2>&1"), Ok(2));
        assert_eq!(exec_point("node app.js >&2"), Ok(0));
        assert_eq!(exec_point("echo $$HOME"), Err(Kind::Nothing));
        assert_eq!(exec_point("node --title=$$HOSTNAME app.js"), Ok(0));
        assert_eq!(exec_point("exec node app.js"), Err(Kind::Nothing));
        assert_eq!(exec_point("cd /app"), Err(Kind::Nothing));
        assert_eq!(exec_point(". ./env"), Err(Kind::Nothing));
        assert_eq!(exec_point("FOO=1"), Err(Kind::Nothing));
        assert_eq!(exec_point("! node app.js"), Err(Kind::Prefix("!".into())));
        assert_eq!(exec_point("time node app.js"), Err(Kind::Prefix("time".into())));
        for compound in [
            "a && b",
            "a; b",
            "a | b",
            "a &",
            "echo $(date)",
            "echo $$(date)",
            "echo `date`",
            "if true; then a; fi",
            "a\nb",
            "cat <<EOF",
            "> log node",
            "(node)",
            "node \"$(x)\"",
        ] {
            assert_eq!(exec_point(compound), Err(Kind::Compound), "{compound}");
        }
        assert_eq!(exec_point("node 'a;b' \"c|d\""), Ok(0));
        assert_eq!(exec_point("échoué=1 nœud"), Ok(0));
        assert_eq!(exec_point("A=é nœud --x"), Ok(5));
    }
}
