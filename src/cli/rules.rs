//! `rules`: every rule id with its summary, or one rule's whole explanation.

use clap::Args;
use compose_harden::passes::{all_rules, find_rule};
use compose_harden::rule::{self, Fix};

#[derive(Args)]
pub struct Rules {
    /// A rule id (`healthcheck/missing`) to explain, or a pass name to list its rules.
    #[arg(value_name = "ID")]
    id: Option<String>,
}

pub fn run(args: &Rules) -> u8 {
    let text = match args.id.as_deref() {
        None => list(all_rules().iter().copied()),
        Some(id) => match find_rule(id) {
            Some(r) => explain(r),
            None => {
                let of_pass: Vec<_> = all_rules().iter().copied().filter(|r| r.pass() == id).collect();
                if of_pass.is_empty() {
                    super::say(&format!("error: no rule or pass `{id}`; `compose-harden rules` lists them"));
                    return 2;
                }
                list(of_pass.into_iter())
            }
        },
    };
    super::print(&text)
}

fn list<'a>(rules: impl Iterator<Item = &'a rule::Rule>) -> String {
    let rules: Vec<&rule::Rule> = rules.collect();
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    rules.iter().map(|r| format!("{:<width$}  {:<7}  {}\n", r.id, r.severity.label(), r.summary)).collect()
}

fn explain(r: &rule::Rule) -> String {
    let fix = match r.fix {
        Fix::None => "none: the finding reports; the user decides",
        Fix::Safe => "a safe addition: `apply` adds the key",
        Fix::Repair => "a repair: `apply` rewrites a value that cannot work as written",
        Fix::Unsafe => "unsafe: written only when the profile allows unsafe fixes",
        Fix::Replace => "a replacement of the user's value: only under `--enforce`",
    };
    let mut text =
        format!("{}  ({})\n{}\n\n{}\n\nfix: {fix}\n", r.id, r.severity.label(), r.summary, wrap(r.explanation, 88));
    if !r.references.is_empty() {
        text.push_str(&format!("references: {}\n", r.references));
    }
    text
}

/// Greedy wrapping at `width` columns, for a terminal.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.chars().count() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.chars().count();
    }
    out
}
