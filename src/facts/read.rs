//! Reading a facts file: every error at its file:line:col (exit 2), nothing guessed.

use super::{Facts, Image};
use crate::document::layout::{self, Layout};
use crate::Error;

/// Reads and checks a facts file. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Facts, Error> {
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(Error::new(file, "empty facts file: write one with `compose-harden inspect`"));
    }
    // The layout costs as much as the reading itself: built only to say where a value the
    // reader accepted is wrong. (Duplicate keys are refused by the reader: [`super::unique`].)
    let mut facts: Facts = match yaml_serde::from_str(text) {
        Ok(facts) => facts,
        Err(e) => {
            let message = format!("invalid facts file: {}", serde_message(&e.to_string()));
            // The layout says where a key is given twice (the reader, only in which mapping),
            // and words a YAML error as the compose file's are worded.
            return Err(match layout::build(text, file) {
                Err(yaml) if yaml.message.starts_with("duplicate key") => match yaml.position {
                    Some((line, col)) => Error::at(file, line, col, message),
                    None => Error::new(file, message),
                },
                Err(yaml) => yaml,
                Ok(_) => match e.location() {
                    Some(l) => Error::at(file, l.line(), l.column(), message),
                    None => Error::new(file, message),
                },
            });
        }
    };
    let at = |path: &[&str], message: String| {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        let place = layout::build(text, file).ok().and_then(|layout| layout_node(&layout, &path));
        match place {
            Some((line, col)) => Error::at(file, line, col, format!("invalid facts file: {message}")),
            None => Error::new(file, format!("invalid facts file: {message}")),
        }
    };
    if facts.version != super::VERSION {
        return Err(at(
            &["version"],
            format!(
                "version {} is not {}, the one this compose-harden reads; write the file again with `compose-harden inspect`",
                facts.version,
                super::VERSION
            ),
        ));
    }
    let searched = facts.inspected.as_ref().map(|i| i.tools.clone());
    if searched.is_none() && (!facts.images.is_empty() || !facts.builds.is_empty()) {
        let first = if facts.images.is_empty() { "builds" } else { "images" };
        return Err(at(&[first], format!("`{first}` without `inspected`: which tools were looked for is unknown")));
    }
    let searched = searched.unwrap_or_default();
    for (section, images) in [("images", &facts.images), ("builds", &facts.builds)] {
        for (key, image) in images {
            check_image(image, &searched).map_err(|(field, message)| {
                let mut path = vec![section, key.as_str()];
                path.extend(field.iter().map(String::as_str));
                at(&path, format!("{section} `{key}`: {message}"))
            })?;
        }
    }
    for (name, proven) in &facts.services {
        super::proven::check(proven).map_err(|(field, message)| {
            let mut path = vec!["services", name.as_str()];
            path.extend(field.iter().map(String::as_str));
            at(&path, format!("services `{name}`: {message}"))
        })?;
    }
    facts.share_searched();
    Ok(facts)
}

/// Where the node at `path` starts; the nearest enclosing node where it is not there.
fn layout_node(layout: &Layout, path: &[String]) -> Option<(usize, usize)> {
    layout.locate(path).map(|n| (n.line, n.col))
}

/// serde's words, shorter: the type names it prints are the crate's own.
fn serde_message(text: &str) -> String {
    // yaml_serde appends " at line L column C": the position is given apart.
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text,
    };
    text.to_string()
}

/// A check of one image; on failure, the field (a path below the image) and why.
fn check_image(image: &Image, searched: &[String]) -> Result<(), (Vec<String>, String)> {
    let field = |f: &[&str], message: String| Err((f.iter().map(|s| s.to_string()).collect(), message));
    let hex = image.id.strip_prefix("sha256:").unwrap_or("");
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return field(&["id"], format!("`{}` is not an image ID (`sha256:` and 64 hex digits)", image.id));
    }
    let parts: Vec<&str> = image.platform.split('/').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
        return field(&["platform"], format!("`{}` is not a platform (`os/architecture[/variant]`)", image.platform));
    }
    for (i, port) in image.exposed_ports.iter().enumerate() {
        let (number, protocol) = port.split_once('/').unwrap_or((port, ""));
        let number_ok = number.parse::<u16>().is_ok_and(|n| n > 0);
        if !number_ok || !matches!(protocol, "tcp" | "udp" | "sctp") {
            return field(&["exposed_ports", &i.to_string()], format!("`{port}` is not `port/protocol` (`80/tcp`)"));
        }
    }
    if let Some(check) = &image.healthcheck {
        let durations = [
            ("interval", &check.interval),
            ("timeout", &check.timeout),
            ("start_period", &check.start_period),
            ("start_interval", &check.start_interval),
        ];
        for (key, value) in durations {
            if let Some(v) = value.as_deref().filter(|v| crate::units::seconds(v).is_none()) {
                return field(&["healthcheck", key], format!("`{v}` is not a duration (`30s`, `1m30s`)"));
            }
        }
        if !matches!(check.test.first().map(String::as_str), Some("CMD" | "CMD-SHELL" | "NONE")) {
            return field(&["healthcheck", "test"], "a test starts with CMD, CMD-SHELL or NONE".to_string());
        }
    }
    for (i, dir) in image.path.iter().enumerate() {
        if !dir.starts_with('/') {
            return field(&["path", &i.to_string()], format!("`{dir}` is not an absolute directory"));
        }
    }
    for (name, tool) in &image.tools {
        if !tool.is_written_well() {
            return field(
                &["tools", name],
                format!("tool `{name}`: `{tool}` is not a place: write `/usr/bin/curl` or `/bin/wget -> /bin/busybox`"),
            );
        }
        if !searched.iter().any(|s| s == name) {
            return field(
                &["tools", name],
                format!("tool `{name}` is not among `inspected.tools`, so its absence elsewhere would mean nothing"),
            );
        }
    }
    if let Some(init) = &image.init {
        if !init.path.starts_with('/') {
            return field(&["init", "path"], format!("`{}` is not an absolute path", init.path));
        }
    }
    Ok(())
}
