//! Least privilege, as far as the image is known: a pids limit for every service;
//! no-new-privileges (safe where the catalogue says the image gains no privilege after
//! its first exec, unsafe elsewhere); and, as unsafe fixes, `cap_drop: [ALL]` with the
//! capabilities and `read_only: true` with the writable paths the catalogue records.
//! Where nothing is recorded, nothing is dropped, and a finding says so.

use super::{Out, Pass, Service};
use crate::profile::{glob_match, reference, Profile, SecurityImage, SecuritySettings};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Security;

rules! {
    SECURITY_NO_PIDS_LIMIT = "security/no-pids-limit", Warning, Safe,
        "no pids limit: a fork loop can exhaust the host's process table",
        "A pids limit caps the tasks (processes and threads) of the container. The `strict` profile writes a \
         generous one, raised for thread-heavy images (Elasticsearch, Jenkins, GitLab), as \
         `deploy.resources.limits.pids` where the service has `deploy.resources.limits` (Compose refuses \
         `pids_limit` beside it) and as `pids_limit` beside legacy `mem_limit`/`cpus`. It is preferred to the \
         nproc ulimit, which counts every thread of the UID on the host.",
        refs "CIS Docker Benchmark v1.7.0 5.29; OWASP Docker Security Cheat Sheet, rule 7";
    SECURITY_NO_NEW_PRIVILEGES = "security/no-new-privileges", Warning, Safe,
        "a process can gain privileges through setuid binaries",
        "`security_opt: [\"no-new-privileges:true\"]` blocks privilege gain through setuid, setgid and file \
         capabilities on exec. It is a safe addition where the catalogue records that the image needs none \
         of that (no `su`, `sudo`, `gosu` or setuid helper after the first exec).",
        refs "CIS Docker Benchmark v1.7.0 5.26; OWASP Docker Security Cheat Sheet, rule 4";
    SECURITY_NO_NEW_PRIVILEGES_UNVERIFIED = "security/no-new-privileges-unverified", Warning, Unsafe,
        "no-new-privileges on an image not known to work with it",
        "As `security/no-new-privileges`, for an image the catalogue does not record: entrypoints that use \
         `su` or `sudo`, and setuid helpers such as postfix's `postdrop`, break under it. Unsafe: written \
         only with `--unsafe-fixes`.",
        refs "CIS Docker Benchmark v1.7.0 5.26; OWASP Docker Security Cheat Sheet, rule 4";
    SECURITY_CAPABILITIES = "security/capabilities", Warning, Unsafe,
        "the container keeps Docker's default capabilities",
        "`cap_drop: [ALL]` with `cap_add` for what the image needs (an entrypoint that chowns and drops to a \
         user needs CHOWN, SETUID, SETGID, FOWNER and DAC_OVERRIDE; a master that signals workers of another \
         user needs KILL). Written only where the catalogue records the list, with its proof; elsewhere \
         nothing is written. Unsafe: it changes what the service may do.",
        refs "CIS Docker Benchmark v1.7.0 5.4; OWASP Docker Security Cheat Sheet, rule 3";
    SECURITY_READ_ONLY = "security/read-only", Warning, Unsafe,
        "the container's file system is writable",
        "`read_only: true` with a `tmpfs` for each path the image writes, as the catalogue records them. \
         Docker mounts tmpfs `noexec`, which breaks libraries that unpack native code into /tmp (JNA, netty), \
         and tmpfs pages count against the memory limit. A tmpfs never covers a path the image declares as a \
         VOLUME (its data would be lost on every restart). Unsafe: written only with `--unsafe-fixes`.",
        refs "CIS Docker Benchmark v1.7.0 5.13; OWASP Docker Security Cheat Sheet, rule 8";
    SECURITY_NOT_CATALOGUED = "security/not-catalogued", Info, None,
        "capabilities and writable paths are not known for this image",
        "The catalogue records what an image needs only where tests or the image's documentation prove it; \
         for other images `cap_drop` and `read_only` are not written.";
}

impl Pass for Security {
    const NAME: &'static str = "security";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p SecuritySettings;

    fn settings(profile: &Profile) -> Option<&SecuritySettings> {
        profile.security.as_ref()
    }

    fn run(&self, settings: &SecuritySettings, service: &Service, out: &mut Out) {
        let repo = service.image().map(|i| reference(i).repo);
        let entry =
            repo.as_deref().and_then(|r| settings.images.iter().find(|e| e.images.iter().any(|p| glob_match(p, r))));
        pids(service, settings, repo.as_deref(), out);
        // `privileged: false` (or `"false"`) is no privilege: only a true one is skipped.
        let privileged = service.get(&["privileged"]).is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
        if privileged {
            return; // Reported by `dangerous`; dropping anything under it means nothing.
        }
        if settings.no_new_privileges {
            no_new_privileges(service, entry.is_some_and(|e| e.no_new_privileges), out);
        }
        let known = |e: &&SecurityImage| e.cap_add.is_some() || e.tmpfs.is_some();
        if (settings.cap_drop || settings.read_only) && entry.filter(known).is_none() {
            let what = repo.as_deref().map_or("the service has no image".to_string(), |r| format!("image `{r}`"));
            out.report(
                &SECURITY_NOT_CATALOGUED,
                &["image"],
                format!(
                    "capabilities and the root file system left as they are: the catalogue records what {what} needs \
                     nowhere; add an entry under `security.images` once a test proves it"
                ),
            );
            return;
        }
        let Some(entry) = entry else { return };
        if settings.cap_drop && !service.is_set(&["cap_drop"]) && !service.is_set(&["cap_add"]) {
            if let Some(add) = &entry.cap_add {
                out.add(&SECURITY_CAPABILITIES, &["cap_drop"], Value::Sequence(vec![Value::from("ALL")]));
                if !add.is_empty() {
                    let caps = add.iter().map(|c| Value::from(c.as_str())).collect();
                    out.add(&SECURITY_CAPABILITIES, &["cap_add"], Value::Sequence(caps));
                }
            }
        }
        if settings.read_only && !service.is_set(&["read_only"]) && !service.is_set(&["tmpfs"]) {
            if let Some(paths) = &entry.tmpfs {
                // A tmpfs where the service mounts a volume would hide it.
                let mounted = mount_targets(service.get(&["volumes"]));
                // The image's VOLUMEs: read from the image where facts are at hand.
                let volumes = service.facts.map_or(&entry.volumes, |i| &i.volumes);
                let paths: Vec<Value> = paths
                    .iter()
                    .filter(|p| !mounted.contains(p) && !volumes.contains(p))
                    .map(|p| Value::from(p.as_str()))
                    .collect();
                out.add(&SECURITY_READ_ONLY, &["read_only"], true);
                if !paths.is_empty() {
                    out.add(&SECURITY_READ_ONLY, &["tmpfs"], Value::Sequence(paths));
                }
            }
        }
    }
}

/// no-new-privileges where the service has no `security_opt`, or an empty one (nothing the
/// user chose is replaced); a list of other options without it is reported, and changed
/// under `--enforce` (the list with it appended).
fn no_new_privileges(service: &Service, verified: bool, out: &mut Out) {
    let rule = if verified { &SECURITY_NO_NEW_PRIVILEGES } else { &SECURITY_NO_NEW_PRIVILEGES_UNVERIFIED };
    let wanted = Value::from("no-new-privileges:true");
    match service.get(&["security_opt"]) {
        None => out.add(rule, &["security_opt"], Value::Sequence(vec![wanted])),
        Some(Value::Sequence(items)) => {
            let has = items.iter().filter_map(Value::as_str).any(|o| {
                let o = o.replace('=', ":");
                o == "no-new-privileges" || o == "no-new-privileges:true"
            });
            if has {
                return;
            }
            let old = Value::Sequence(items.clone());
            if items.is_empty() {
                // Reported, not written: the edit cannot yet replace an empty flow list.
                out.report(
                    rule,
                    &["security_opt"],
                    "security_opt is empty, so no-new-privileges is not set: write [\"no-new-privileges:true\"]",
                );
            } else if service.enforce {
                let mut new = items.clone();
                new.push(wanted);
                out.replace(rule, &["security_opt"], &old, Value::Sequence(new), "security_opt lacked no-new-privileges: added to the list");
            } else {
                out.report_enforceable(rule, &["security_opt"], "security_opt does not hold `no-new-privileges:true`: add it to the list");
            }
        }
        Some(_) => {} // A variable or `!reset`: the user decided.
    }
}

/// `deploy.resources.limits.pids` beside the limits the service has (or is given), or
/// `pids_limit` beside legacy `mem_limit`/`cpus`, where Compose refuses the block.
fn pids(service: &Service, settings: &SecuritySettings, repo: Option<&str>, out: &mut Out) {
    let Some(default) = settings.pids else { return };
    if service.is_set(&["pids_limit"]) || service.is_set(&["deploy", "resources", "limits", "pids"]) {
        return;
    }
    let raised = repo.and_then(|r| settings.pids_images.iter().find(|e| e.images.iter().any(|p| glob_match(p, r))));
    let value = raised.map_or(default, |e| e.pids);
    let legacy = ["mem_limit", "cpus", "mem_reservation", "memswap_limit"].iter().any(|k| service.is_set(&[k]));
    if legacy && !service.is_set(&["deploy", "resources", "limits"]) {
        out.add(&SECURITY_NO_PIDS_LIMIT, &["pids_limit"], value);
    } else {
        out.add(&SECURITY_NO_PIDS_LIMIT, &["deploy", "resources", "limits", "pids"], value);
    }
}

/// The container paths a service's `volumes` mount (short and long syntax).
fn mount_targets(volumes: Option<&Value>) -> Vec<String> {
    let items = volumes.and_then(Value::as_sequence).into_iter().flatten();
    items
        .filter_map(|v| match v {
            Value::String(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                Some(if parts.len() >= 2 { parts[1] } else { parts[0] }.to_string())
            }
            Value::Mapping(m) => m.get("target").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile, with_facts};

    const SETTINGS: &str = "security:
  pids: 4096
  pids_images: [{images: [jenkins/jenkins], pids: 16384, why: a thread per executor.}]
  no_new_privileges: true
  cap_drop: true
  read_only: true
  images:
    - images: [postgres]
      cap_add: [CHOWN, SETUID, SETGID]
      tmpfs: [/var/run/postgresql, /tmp]
      volumes: [/var/lib/postgresql/data]
      no_new_privileges: true
      why: the entrypoint drops to postgres with gosu.
      source: tests/engine.rs
";

    #[test]
    fn a_catalogued_image_gets_its_capabilities_and_writable_paths() {
        let compose = "services:
  db: {image: postgres:16, volumes: ['data:/tmp']}
  legacy: {image: postgres:16, mem_limit: 1g}
";
        check(plan(&Security, &profile(SETTINGS), compose), r#"
+ db: deploy.resources.limits.pids = 4096  [security/no-pids-limit]
+ db: security_opt = ["no-new-privileges:true"]  [security/no-new-privileges]
+ db: cap_drop = ["ALL"]  [security/capabilities]
+ db: cap_add = ["CHOWN","SETUID","SETGID"]  [security/capabilities]
+ db: read_only = true  [security/read-only]
+ db: tmpfs = ["/var/run/postgresql"]  [security/read-only]
+ legacy: pids_limit = 4096  [security/no-pids-limit]
+ legacy: security_opt = ["no-new-privileges:true"]  [security/no-new-privileges]
+ legacy: cap_drop = ["ALL"]  [security/capabilities]
+ legacy: cap_add = ["CHOWN","SETUID","SETGID"]  [security/capabilities]
+ legacy: read_only = true  [security/read-only]
+ legacy: tmpfs = ["/var/run/postgresql","/tmp"]  [security/read-only]
"#);
    }

    #[test]
    fn elsewhere_only_the_pids_limit_and_an_unverified_no_new_privileges() {
        let compose = "services:
  ci: {image: jenkins/jenkins:lts}
  root: {image: example/app:1, privileged: true}
  set: {image: example/app:1, security_opt: [label:disable], pids_limit: 100}
  unprivileged: {image: example/app:1, privileged: false, pids_limit: 100}
  empty: {image: example/app:1, security_opt: [], pids_limit: 100}
  has: {image: example/app:1, security_opt: ['no-new-privileges=true'], pids_limit: 100}
";
        check(plan(&Security, &profile(SETTINGS), compose), r#"
+ ci: deploy.resources.limits.pids = 16384  [security/no-pids-limit]
+ ci: security_opt = ["no-new-privileges:true"]  [security/no-new-privileges-unverified]
+ root: deploy.resources.limits.pids = 4096  [security/no-pids-limit]
+ unprivileged: security_opt = ["no-new-privileges:true"]  [security/no-new-privileges-unverified]
info[security/not-catalogued] ci at image: capabilities and the root file system left as they are: the catalogue records what image `jenkins/jenkins` needs nowhere; add an entry under `security.images` once a test proves it
warning[security/no-new-privileges-unverified] set at security_opt: security_opt does not hold `no-new-privileges:true`: add it to the list (enforceable)
info[security/not-catalogued] set at image: capabilities and the root file system left as they are: the catalogue records what image `example/app` needs nowhere; add an entry under `security.images` once a test proves it
info[security/not-catalogued] unprivileged at image: capabilities and the root file system left as they are: the catalogue records what image `example/app` needs nowhere; add an entry under `security.images` once a test proves it
warning[security/no-new-privileges-unverified] empty at security_opt: security_opt is empty, so no-new-privileges is not set: write ["no-new-privileges:true"]
info[security/not-catalogued] empty at image: capabilities and the root file system left as they are: the catalogue records what image `example/app` needs nowhere; add an entry under `security.images` once a test proves it
info[security/not-catalogued] has at image: capabilities and the root file system left as they are: the catalogue records what image `example/app` needs nowhere; add an entry under `security.images` once a test proves it
"#);
    }

    /// The image's VOLUMEs come from the image facts where they are at hand: a tmpfs never
    /// hides one.
    #[test]
    fn no_tmpfs_hides_a_volume_the_image_facts_show() {
        let facts = r#"version: 1
inspected: {engine: "20.10", tools: [sh]}
images:
  "postgres:16":
    id: sha256:9999999999999999999999999999999999999999999999999999999999999999
    platform: linux/amd64
    volumes: [/tmp, /var/lib/postgresql/data]
    path: [/bin]
    bin_sh: true
"#;
        let compose = "services:\n  db: {image: postgres:16}\n";
        let planned = with_facts(&Security, &profile(SETTINGS), facts, compose);
        let tmpfs: Vec<&str> = planned.lines().filter(|l| l.contains("tmpfs")).collect();
        check(tmpfs.join("\n"), r#"+ db: tmpfs = ["/var/run/postgresql"]  [security/read-only]"#);
    }
}
