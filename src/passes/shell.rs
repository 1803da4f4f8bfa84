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
         or trap SIGTERM in the script. A script whose last command is exec'd already is not reported, unless \
         that command ends a pipeline or follows something put in the background.";
    SHELL_EXEC_IMPOSSIBLE = "shell/exec-impossible", Warning, None,
        "`sh -c` starts with a word `exec` cannot precede",
        "`!` and `time` cannot follow `exec` (nor can builtins that have no binary, such as `cd`, `ulimit` or \
         `times`, which get no `exec` at all). Rewrite the script so that the app is its last command, after \
         `exec`.";
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
                // The script's last command replaces the shell already.
                Err(Kind::Compound) if ends_in_exec(script) => {}
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

/// The last command a service runs, as the file says it.
pub(super) struct Step {
    pub words: Vec<String>,
    /// Inside `sh -c`, where a shell expands `$VAR` at run time.
    pub shell: bool,
    /// Where it is written: `command` where the service sets one, else `entrypoint`.
    pub key: &'static str,
}

/// The last step a service's command runs: the whole command (`entrypoint` then
/// `command`), or for `sh -c SCRIPT` the script's last command, past an `exit`, `true`,
/// `:` or message that only ends it. None where nothing is run, or the last step is a loop
/// or a condition (it cannot be read as one command).
pub(super) fn last_step(service: &yaml_serde::Mapping) -> Option<Step> {
    let key = match crate::document::lookup::get(service, "command") {
        Some(_) => "command",
        None => "entrypoint",
    };
    let words = |key| match crate::document::lookup::get(service, key) {
        Some(Value::String(s)) => split_words(s).map(|w| w.into_iter().map(|(w, ..)| w).collect()),
        Some(Value::Sequence(items)) => items.iter().map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Some(Vec::new()),
    };
    // A service's own entrypoint drops the image's CMD: `command` is its arguments.
    let argv: Vec<String> = words("entrypoint")?.into_iter().chain(words("command")?).collect();
    let script = argv.first().filter(|w| is_shell(w)).and_then(|_| {
        let c = argv.iter().position(|w| is_dash_c(w))?;
        argv.get(c + 1)
    });
    let Some(script) = script else {
        return (!argv.is_empty()).then_some(Step { words: argv, shell: false, key });
    };
    let mut steps: Vec<Vec<String>> = steps(script)
        .iter()
        .filter_map(|(_, s)| split_words(s))
        .map(|w| w.into_iter().map(|(w, ..)| w).collect())
        .collect();
    steps.retain(|s| !s.is_empty());
    // Steps that only end the script start nothing.
    let ends = |s: &Vec<String>| matches!(s[0].as_str(), "exit" | "true" | ":" | "echo" | "printf");
    while steps.len() > 1 && steps.last().is_some_and(ends) {
        steps.pop();
    }
    let last = steps.pop()?;
    let first = last.first()?;
    let compound = KEYWORDS.contains(&first.as_str()) || matches!(first.as_str(), "}" | "{" | "!");
    (!compound).then_some(Step { words: last, shell: true, key })
}

/// A script's commands, each with the separator before it (`;`, `&`, `|`, `&&`, `||`, a
/// parenthesis or a line break; empty for the first), split where an unquoted one ends a
/// command (comments dropped); redirections (`2>&1`, `&>`) stay in theirs.
fn steps(script: &str) -> Vec<(String, String)> {
    let mut steps = vec![(String::new(), String::new())];
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        let here = &mut steps.last_mut().expect("one step at least").1;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                here.push(c);
                if let Some(next) = chars.next() {
                    here.push(next);
                }
                previous = 'x';
                continue;
            }
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if previous.is_whitespace() || ";&|()".contains(previous) => {
                while chars.peek().is_some_and(|c| *c != '\n') {
                    chars.next();
                }
                continue;
            }
            (None, '&') if matches!(previous, '>' | '<') || chars.peek() == Some(&'>') => {}
            (None, ';' | '&' | '|' | '(' | ')' | '\n' | '\r') => {
                let mut separator = c.to_string();
                if matches!(c, '&' | '|') && chars.peek() == Some(&c) {
                    chars.next();
                    separator.push(c);
                }
                steps.push((separator, String::new()));
                previous = c;
                continue;
            }
            (None, _) => {}
        }
        here.push(c);
        previous = c;
    }
    steps
}

/// Whether a compound script's last command is exec'd already (`cd /app && exec node
/// server.js`), so the app replaces the shell: not where it ends a pipeline (it runs in a
/// subshell) or where something was put in the background before it (that one never gets
/// the signal).
fn ends_in_exec(script: &str) -> bool {
    let steps: Vec<(String, Vec<String>)> = steps(script)
        .into_iter()
        .filter_map(|(separator, text)| Some((separator, split_words(&text)?.into_iter().map(|(w, ..)| w).collect())))
        .collect();
    let Some(last) = steps.iter().rposition(|(_, words)| !words.is_empty()) else { return false };
    let (separator, words) = &steps[last];
    let backgrounded = steps[..=last].iter().any(|(s, _)| s == "&");
    let first = words.iter().find(|w| !is_assignment(w));
    first.is_some_and(|w| w == "exec") && separator != "|" && !backgrounded
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
/// Builtins that have no binary to exec (`exec times` exits 127): POSIX's special and
/// regular builtins that act on the shell itself, and bash's and ash's own. `echo`,
/// `printf`, `test`, `[`, `true`, `false`, `kill` and `pwd` are binaries too, and `exec`
/// works on them.
const BUILTINS: [&str; 52] = [
    // POSIX special builtins (`exec` itself is handled before).
    ":",
    ".",
    "break",
    "continue",
    "eval",
    "exit",
    "export",
    "readonly",
    "return",
    "set",
    "shift",
    "times",
    "trap",
    "unset", // POSIX regular builtins that act on the shell.
    "alias",
    "bg",
    "cd",
    "command",
    "fc",
    "fg",
    "getopts",
    "hash",
    "jobs",
    "read",
    "type",
    "ulimit",
    "umask",
    "unalias",
    "wait", // bash's and ash's own.
    "source",
    "local",
    "declare",
    "typeset",
    "let",
    "builtin",
    "enable",
    "help",
    "history",
    "logout",
    "mapfile",
    "readarray",
    "pushd",
    "popd",
    "dirs",
    "disown",
    "shopt",
    "suspend",
    "caller",
    "compgen",
    "complete",
    "compopt",
    "bind",
];

/// `NAME=value`, as a shell reads a leading assignment.
fn is_assignment(word: &str) -> bool {
    let name = word.split('=').next().unwrap_or("");
    word.contains('=')
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Where `exec ` goes in a script that is one simple command (after its leading
/// assignments); why not otherwise. Redirections after the command are fine: `exec`
/// applies them to the command. `$$` is Compose's escape for `$`.
fn exec_point(script: &str) -> Result<usize, Kind> {
    let words = simple_words(script).ok_or(Kind::Compound)?;
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

    fn last(service: &str) -> Option<String> {
        let service: yaml_serde::Mapping = yaml_serde::from_str(service).expect("a mapping");
        last_step(&service).map(|s| s.words.join(" "))
    }

    #[test]
    fn a_script_that_ends_in_exec_needs_nothing() {
        assert!(ends_in_exec("cd /app && exec node server.js"));
        assert!(ends_in_exec("set -e; A=1 exec node server.js # the app"));
        assert!(ends_in_exec("migrate\nexec node server.js\n"));
        assert!(!ends_in_exec("cd /app && node server.js"));
        assert!(!ends_in_exec("node server.js | exec tee log"));
        assert!(!ends_in_exec("worker & exec node server.js"));
        assert!(!ends_in_exec("exec node a.js; node b.js"));
    }

    #[test]
    fn the_last_step_is_what_a_command_runs_last() {
        assert_eq!(last("command: [npm, run, migrate]").as_deref(), Some("npm run migrate"));
        assert_eq!(last("command: bundle exec rails db:seed").as_deref(), Some("bundle exec rails db:seed"));
        assert_eq!(last("image: x"), None);
        // A script's last command; one that starts a server is what counts.
        assert_eq!(last(r#"command: sh -c "npx prisma db seed && npm start""#).as_deref(), Some("npm start"));
        assert_eq!(
            last(r#"command: ["sh", "-c", "migrate && exec php artisan serve"]"#).as_deref(),
            Some("exec php artisan serve")
        );
        assert_eq!(
            last("entrypoint: [/bin/sh, -c]\ncommand: [\"./wait-for db:5432 && alembic upgrade head\"]").as_deref(),
            Some("alembic upgrade head")
        );
        // Steps that only end the script are passed over.
        assert_eq!(
            last(r#"entrypoint: /bin/sh -c "mc alias set l http://m:9000 a b; mc mb l/up; echo done; exit 0""#)
                .as_deref(),
            Some("mc mb l/up")
        );
        assert_eq!(last("command: [sh, -c, \"migrate 2>&1 | tee log\"]").as_deref(), Some("tee log"));
        assert_eq!(last("command: [sh, -c, \"migrate 2>&1 &> log\"]").as_deref(), Some("migrate 2>&1 &> log"));
        assert_eq!(last("command: [sh, -c, \"migrate 'a;b' # then: serve\\n\"]").as_deref(), Some("migrate a;b"));
        assert_eq!(last("command: [sh, -c, \"migrate; sleep infinity\"]").as_deref(), Some("sleep infinity"));
        // A loop or a condition is not one command.
        assert_eq!(last("command: [sh, -c, \"while true; do migrate; done\"]"), None);
        assert_eq!(last("command: [sh, -c, \"if x; then migrate; fi\"]"), None);
    }

    #[test]
    fn exec_goes_after_leading_assignments_and_never_before_builtins_or_lists() {
        assert_eq!(exec_point("node app.js"), Ok(0));
        assert_eq!(exec_point("FOO=1 node app.js"), Ok(6));
        assert_eq!(exec_point("TZ=UTC A='x y' sleep 30"), Ok(15));
        assert_eq!(exec_point("  node app.js > /tmp/log 2>&1"), Ok(2));
        assert_eq!(exec_point("node app.js >&2"), Ok(0));
        // Binaries as well as builtins: `exec` works on them.
        assert_eq!(exec_point("echo $$HOME"), Ok(0));
        for binary in ["printf ok", "test -f x", "true", "false", "kill 1", "pwd", "[ -f x ]"] {
            assert_eq!(exec_point(binary), Ok(0), "{binary}");
        }
        // Builtins with no binary: `exec times` exits 127.
        for builtin in ["times", "trap '' TERM", "wait", "umask 022", "getopts ab x", "read x", "shift", "unset A"] {
            assert_eq!(exec_point(builtin), Err(Kind::Nothing), "{builtin}");
        }
        for builtin in ["set -e", "export A=1", "alias a=b", "readonly A", "local a", "return", "eval x", "hash -r"] {
            assert_eq!(exec_point(builtin), Err(Kind::Nothing), "{builtin}");
        }
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
