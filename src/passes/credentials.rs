//! Credentials written into the file: a password, token or key as the literal value of an
//! environment variable named for one, as the default of `${VAR:-default}`, as the value
//! of a command-line flag named for one, or in a URL (`postgres://user:pass@db`). The file
//! is committed and shared; the credential then is too. `*_FILE` pointing at a secret and
//! `${VAR}` without a default are the ways out, and no finding.
//!
//! The credential itself never reaches an output: messages give the variable's name and
//! the value's length, and `report_secret` has the report layer mask it wherever the
//! file's text is shown.

use super::{Out, Pass, Service};
use crate::profile::{CredentialsSettings, Profile};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Credentials;

rules! {
    CREDENTIALS_LITERAL = "credentials/literal", Warning, None,
        "a credential is written into the file",
        "An environment variable named for a credential (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, \
         `*ACCESS_KEY*`, `*PRIVATE_KEY*`) has its value in the file, which is committed and shared. Pass it \
         from the environment (`${DB_PASSWORD}`, with no default), or as a Compose secret read from \
         `/run/secrets` (`POSTGRES_PASSWORD_FILE: /run/secrets/db_password`); neither is a finding. The value \
         is masked in every output.",
        refs "CIS Docker Benchmark v1.7.0 4.10 (secrets, for images); OWASP Docker Security Cheat Sheet, rule 12";
    CREDENTIALS_DEFAULT = "credentials/default", Warning, None,
        "a credential is written into the file as a variable's default",
        "`${DB_PASSWORD:-secret}` runs with the credential in the file wherever the variable is unset, which \
         is everywhere nobody set it. Leave the default out (`${DB_PASSWORD:?set DB_PASSWORD}` fails loudly \
         instead). The value is masked in every output.",
        refs "OWASP Docker Security Cheat Sheet, rule 12";
    CREDENTIALS_COMMAND = "credentials/command", Warning, None,
        "a credential is written into the command",
        "A flag named for a credential (`--requirepass`, `--password=`, `--token`) with its value in `command` \
         or `entrypoint`: the value is in the file, and in the process list of the host. Read it from a file \
         or the environment. The value is masked in every output.",
        refs "OWASP Docker Security Cheat Sheet, rule 12";
    CREDENTIALS_URL = "credentials/url", Warning, None,
        "a URL in the file holds a password",
        "`scheme://user:password@host` in an environment variable or the command puts the password in the \
         file. Build the URL from a variable, or give the password apart (most clients read it from a file \
         or a variable of its own). The password is masked in every output.",
        refs "OWASP Docker Security Cheat Sheet, rule 12";
}

impl Pass for Credentials {
    const NAME: &'static str = "credentials";
    const CONTAINER: bool = false;
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p CredentialsSettings;

    fn settings(profile: &Profile) -> Option<&CredentialsSettings> {
        profile.credentials.as_ref()
    }

    fn run(&self, _: &CredentialsSettings, service: &Service, out: &mut Out) {
        match service.get(&["environment"]) {
            Some(Value::Mapping(m)) => {
                for (key, value) in m {
                    let (Some(key), Some(value)) = (key.as_str(), scalar(value)) else { continue };
                    variable(key, &value, &["environment", key], out);
                }
            }
            Some(Value::Sequence(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let Some((key, value)) = item.as_str().and_then(|s| s.split_once('=')) else { continue };
                    variable(key, value, &["environment", &i.to_string()], out);
                }
            }
            _ => {}
        }
        for key in ["command", "entrypoint"] {
            match service.get(&[key]) {
                Some(Value::String(s)) => command(s, &[key], out),
                Some(Value::Sequence(items)) => {
                    // A word's flag value may be the next item (`["--token", "x"]`): the
                    // items are read as one command line, each finding at its own item.
                    let words: Vec<(&str, usize)> = items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, v)| v.as_str().map(|s| (s, i)))
                        .flat_map(|(s, i)| s.split_whitespace().map(move |w| (w, i)))
                        .collect();
                    command_words(&words, key, out);
                }
                _ => {}
            }
        }
    }
}

/// A value as text: strings and numbers (a numeric PIN is a credential too).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One environment variable.
fn variable(key: &str, value: &str, at: &[&str], out: &mut Out) {
    if let Some(password) = url_password(value) {
        out.report_secret(
            &CREDENTIALS_URL,
            at,
            format!("the URL in `{key}` holds a password ({} characters): build it from a variable", password.chars().count()),
            password,
        );
        return;
    }
    if !secret_name(key) {
        return;
    }
    match default_of(value) {
        Some(default) => out.report_secret(
            &CREDENTIALS_DEFAULT,
            at,
            format!(
                "`{key}` defaults to a value written here ({} characters): leave the default out, so that an unset \
                 variable fails instead",
                default.chars().count()
            ),
            default,
        ),
        None if literal(value) => out.report_secret(
            &CREDENTIALS_LITERAL,
            at,
            format!(
                "`{key}` is written into the file ({} characters): pass it as `${{{key}}}` or as a secret \
                 (`{key}_FILE: /run/secrets/...`)",
                value.chars().count()
            ),
            value,
        ),
        None => {}
    }
}

/// A value that is a credential as written: not empty, not a variable, not a switch, not a
/// path to a secret.
fn literal(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty()
        && !value.contains('$')
        && !["true", "false", "yes", "no", "on", "off", "none", "null"].contains(&value.to_ascii_lowercase().as_str())
        && !value.starts_with("/run/secrets/")
}

/// The default of the first `${VAR:-default}` or `${VAR-default}` in `value` that is a
/// credential as written (another variable as the default is not).
fn default_of(value: &str) -> Option<&str> {
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        let inner = &rest[at + 2..];
        let end = inner.find('}')?;
        let body = &inner[..end];
        let name = body.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        let op = &body[name..];
        if let Some(default) = op.strip_prefix(":-").or_else(|| op.strip_prefix('-')) {
            if literal(default) {
                return Some(default);
            }
        }
        rest = &inner[end + 1..];
    }
    None
}

/// Whether a variable or flag name names a credential (`MYSQL_ROOT_PASSWORD`, `API_KEY`,
/// `requirepass`), and not something about one (`*_FILE`, `*_LENGTH`, `*_URL`).
fn secret_name(name: &str) -> bool {
    // Every name below holds one of these stems: most names hold none, and cost no allocation.
    const STEMS: &[&str] = &["pass", "pwd", "secret", "token", "key", "credential", "masterauth"];
    let bytes = name.as_bytes();
    let stem_at = |i: usize| {
        let first = bytes[i].to_ascii_lowercase();
        STEMS.iter().any(|stem| {
            stem.as_bytes()[0] == first
                && bytes.get(i..i + stem.len()).is_some_and(|w| w.eq_ignore_ascii_case(stem.as_bytes()))
        })
    };
    if !(0..bytes.len()).any(stem_at) {
        return false;
    }
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-', '.']).filter(|w| !w.is_empty()).collect();
    let Some(last) = words.last() else { return false };
    const ABOUT: &[&str] = &[
        "FILE", "PATH", "DIR", "LENGTH", "LEN", "EXPIRY", "EXPIRES", "EXPIRE", "EXPIRATION", "TTL", "ENABLED", "ENABLE",
        "TYPE", "NAME", "URL", "URI", "ENDPOINT", "HOST", "PORT", "USER", "USERNAME", "ID", "HEADER", "LIMIT",
        "TIMEOUT", "INTERVAL", "METHOD", "POLICY", "ALGORITHM", "ALG", "AUDIENCE", "ISSUER", "REQUIRED", "MIN", "MAX",
        "LIFETIME", "HASH", "SALT", "ROUNDS", "MODE", "PROVIDER", "STORE", "KEYRING", "USERS",
    ];
    if ABOUT.contains(last) || upper == "PWD" || upper == "OLDPWD" {
        return false;
    }
    let whole = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "REQUIREPASS", "MASTERAUTH", "PASSPHRASE"];
    if whole.iter().any(|w| upper.contains(w)) {
        return true;
    }
    if words.iter().any(|w| ["PASS", "PWD", "CREDENTIALS"].contains(w)) {
        return true;
    }
    let keyed = ["API", "ACCESS", "PRIVATE", "AUTH", "ENCRYPTION", "SIGNING", "MASTER", "LICENSE"];
    words.windows(2).any(|w| w[1] == "KEY" && keyed.contains(&w[0]))
}

/// The password of the first URL in `text` with one (`scheme://user:password@host`),
/// where it is written out (not a variable).
fn url_password(text: &str) -> Option<&str> {
    if !text.contains('@') {
        return None; // No URL with a user: most values.
    }
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let after = &rest[at + 3..];
        let authority = &after[..after.find(['/', '?', '#', ' ', '"', '\'']).unwrap_or(after.len())];
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some((_, password)) = userinfo.split_once(':') {
                if literal(password) {
                    return Some(password);
                }
            }
        }
        rest = after;
    }
    None
}

/// Flags named for a credential, with their value (`--requirepass x`, `--password=x`), and
/// URLs with a password, in a command written as one string.
fn command(text: &str, at: &[&str], out: &mut Out) {
    // Most commands hold neither a flag named for a credential nor a URL with a user.
    if !text.contains('@') && !text.contains('-') {
        return;
    }
    let words: Vec<(&str, usize)> = text.split_whitespace().map(|w| (w, 0)).collect();
    command_words_at(&words, |_| at.to_vec(), at[0], out);
}

fn command_words(words: &[(&str, usize)], key: &str, out: &mut Out) {
    command_words_at(words, |i| vec![key.to_string(), i.to_string()], key, out);
}

/// The findings among a command's words, each at the path `at` gives its item.
fn command_words_at<P: AsRef<str>>(
    words: &[(&str, usize)],
    at: impl Fn(usize) -> Vec<P>,
    key: &str,
    out: &mut Out,
) {
    for (i, &(word, item)) in words.iter().enumerate() {
        if let Some(password) = url_password(word) {
            let path = at(item);
            let path: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
            out.report_secret(
                &CREDENTIALS_URL,
                &path,
                format!("a URL in `{key}` holds a password ({} characters): build it from a variable", password.chars().count()),
                password,
            );
            continue;
        }
        let Some(flag) = word.strip_prefix('-') else { continue };
        let flag = flag.trim_start_matches('-');
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (flag, words.get(i + 1).map(|(w, _)| *w)),
        };
        if !secret_name(name) {
            continue;
        }
        let value = value.map(|v| v.trim_matches(['"', '\'']));
        if let Some(value) = value.filter(|v| literal(v) && !v.starts_with('-')) {
            let path = at(item);
            let path: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
            out.report_secret(
                &CREDENTIALS_COMMAND,
                &path,
                format!(
                    "`{key}` gives `--{name}` a value written here ({} characters): read it from a file or the environment",
                    value.chars().count()
                ),
                value,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    #[test]
    fn credentials_in_the_file_are_reported_and_never_shown() {
        let compose = "services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: hunter2
      POSTGRES_PASSWORD_FILE: /run/secrets/db
      API_KEY: ${API_KEY}
      GITHUB_TOKEN: ${GITHUB_TOKEN:-ghp_example}
      PASSWORD_MIN_LENGTH: 12
      DATABASE_URL: postgres://app:s3cret@db:5432/app
      SAFE_URL: postgres://app:${DB_PASSWORD}@db/app
      PWD: /srv
      PIN_PASS: 1234
      EMPTY_SECRET: ''
  list:
    image: example/app:1
    environment: [AWS_SECRET_ACCESS_KEY=abc123, SECRET_KEY_BASE=, 'REDIS_PASSWORD=$${REDIS}']
    command: redis-server --requirepass sup3r --port 6379 --masterauth=${AUTH}
  url: {image: example/app:1, command: ['app', '--db=mysql://root:toor@db/x', '--token', 'tk9']}
";
        let planned = plan(&Credentials, &profile("credentials: {}"), compose);
        for secret in ["hunter2", "ghp_example", "s3cret", "abc123", "sup3r", "toor", "1234", "tk9"] {
            assert!(!planned.contains(secret), "{secret} shown in:\n{planned}");
        }
        check(planned, r#"
warning[credentials/literal] db at environment.POSTGRES_PASSWORD: `POSTGRES_PASSWORD` is written into the file (7 characters): pass it as `${POSTGRES_PASSWORD}` or as a secret (`POSTGRES_PASSWORD_FILE: /run/secrets/...`)
warning[credentials/default] db at environment.GITHUB_TOKEN: `GITHUB_TOKEN` defaults to a value written here (11 characters): leave the default out, so that an unset variable fails instead
warning[credentials/url] db at environment.DATABASE_URL: the URL in `DATABASE_URL` holds a password (6 characters): build it from a variable
warning[credentials/literal] db at environment.PIN_PASS: `PIN_PASS` is written into the file (4 characters): pass it as `${PIN_PASS}` or as a secret (`PIN_PASS_FILE: /run/secrets/...`)
warning[credentials/literal] list at environment.0: `AWS_SECRET_ACCESS_KEY` is written into the file (6 characters): pass it as `${AWS_SECRET_ACCESS_KEY}` or as a secret (`AWS_SECRET_ACCESS_KEY_FILE: /run/secrets/...`)
warning[credentials/command] list at command: `command` gives `--requirepass` a value written here (5 characters): read it from a file or the environment
warning[credentials/url] url at command.1: a URL in `command` holds a password (4 characters): build it from a variable
warning[credentials/command] url at command.2: `command` gives `--token` a value written here (3 characters): read it from a file or the environment
"#);
    }
}
