//! The rules: every finding and every change names one. Each is declared once, here, with
//! its summary, its explanation (why, what the fix writes, when it is skipped) and what fix
//! it offers. A finding cannot be built without its rule; formats read rules, never passes.

use crate::plan::Severity;

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
}

impl Rule {
    /// The pass (or `load`) the rule belongs to: what `x-compose-harden: {skip: [...]}` names.
    pub fn pass(&self) -> &'static str {
        self.id.split('/').next().unwrap_or(self.id)
    }
}

/// Every rule, by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

macro_rules! rules {
    ($($name:ident = $id:literal, $severity:ident, $fix:ident, $summary:literal, $explanation:literal;)*) => {
        $(
            pub static $name: Rule = Rule {
                id: $id,
                severity: Severity::$severity,
                fix: Fix::$fix,
                summary: $summary,
                explanation: $explanation,
            };
        )*
        /// In the order the passes run.
        pub static ALL: &[&Rule] = &[$(&$name),*];
    };
}

rules! {
    LOAD_INCLUDE = "load/include", Warning, None,
        "an included file's services are not hardened here",
        "Compose reads `include:` files as part of the project, but their services live in those files, and a \
         change to them belongs there. Run compose-harden on each included file.";
    LOAD_UNKNOWN_SKIP = "load/unknown-skip", Warning, None,
        "x-compose-harden.skip names no pass or rule",
        "`x-compose-harden: {skip: [...]}` takes pass names (init, healthcheck, ...) and rule ids \
         (healthcheck/missing). An entry that names neither skips nothing, which is almost always a typo.";
    LOAD_TAG = "load/merge-tag", Info, None,
        "a value is `!override` or `!reset`",
        "`!reset` drops a key and makes Compose use its default: the user chose that, so nothing is added under \
         it. Beside a `<<` that merges the same key in, Compose drops only the value written in the mapping and \
         keeps the merged one; nothing is added there either. `!override` makes Compose take the value as a \
         whole instead of merging it with another layer's (extends, override files; beside `<<` a key written \
         in the mapping replaces the merged one anyway); the value is hardened as written.";
    LOAD_RESET_SERVICE = "load/reset-service", Info, None,
        "the service is `!reset`",
        "Compose drops a service tagged `!reset`; it is left alone.";
    LOAD_NOT_MAPPING = "load/not-mapping", Warning, None,
        "the service is not a mapping",
        "A service that is not a mapping cannot be read; it is left alone.";
    LOAD_EXTENDS = "load/extends", Info, None,
        "what a service inherits through `extends` counts as set",
        "Compose merges an `extends` base into the service. What the base sets is the user's explicit choice and \
         is never overridden by the profile; only what neither sets is added.";
    LOAD_EXTENDS_UNREADABLE = "load/extends-unreadable", Warning, None,
        "an `extends` base cannot be read, so nothing is added",
        "When the file or service an `extends` names cannot be read, what the service inherits is unknown, and \
         any key added could contradict it. Nothing is added to that service.";
    EDIT_NOT_WRITTEN = "load/not-written", Warning, None,
        "a change could not be written into text other services share",
        "Where a change for one service would land in an anchor or a merged mapping that other services also \
         use, and they would not all get the same change, it is not written; the finding names the keys.";
    INIT_MISSING = "init/missing", Warning, Safe,
        "no init: the app is PID 1",
        "As PID 1 the app gets no default signal handlers (SIGTERM is ignored unless it installs one) and must \
         reap orphaned children. `init: true` runs Docker's tini as PID 1, which forwards signals and reaps \
         zombies. Skipped where the image runs an init of its own (s6-overlay, tini, dumb-init): a second \
         one under it breaks its supervision.";
    INIT_OWN = "init/own-init", Info, None,
        "the image runs its own init, so none is added",
        "Images built on s6-overlay, supervisord or their own tini must keep their init as PID 1; `init: true` \
         would put tini above it. The catalogue names such images, each with its source.";
    INIT_ENTRYPOINT = "init/entrypoint-init", Info, None,
        "the entrypoint starts an init already",
        "An entrypoint of tini, dumb-init or s6's /init is an init; none is added above it.";
    SHELL_SIGTERM = "shell/sigterm-swallowed", Warning, Repair,
        "`sh -c` stands between the signal and the app",
        "A shell that runs the app as its child, instead of replacing itself with it, takes SIGTERM: as PID 1 it \
         ignores it (the stop waits out the grace period and ends in SIGKILL), and under tini it dies and the \
         app is killed without running its handler. Writing `exec` before a simple command makes the app the \
         process that gets the signal. Written only where init is in effect, since without one the app as PID \
         1 would stop reaping orphans.";
    SHELL_COMPOUND = "shell/compound-script", Warning, None,
        "`sh -c` with a compound script: the shell gets SIGTERM",
        "A script with `&&`, `;`, pipes or loops cannot simply be exec'd. Put `exec` before its last command, \
         or trap SIGTERM in the script. A script whose last command is exec'd already is not reported, unless \
         that command ends a pipeline or follows something put in the background.";
    SHELL_PREFIX = "shell/exec-impossible", Warning, None,
        "`sh -c` starts with a word `exec` cannot precede",
        "`!` and `time` cannot follow `exec` (nor can builtins that have no binary, such as `cd`, `ulimit` or \
         `times`, which get no `exec` at all). Rewrite the script so that the app is its last command, after \
         `exec`.";
    HEALTHCHECK_MISSING = "healthcheck/missing", Warning, Safe,
        "no healthcheck: Docker cannot tell whether the service works",
        "Without a healthcheck a running container counts as working, and `depends_on: service_healthy` cannot \
         be used. The fix writes the probe catalogue's check for the image (each proven on the real software), \
         with the profile's interval, timeout, retries and start period. Skipped for one-shot jobs, images \
         with their own HEALTHCHECK, and services another waits for with service_healthy where no probe is \
         known (a guessed probe there would block the waiter).";
    HEALTHCHECK_ASSUMED = "healthcheck/assumed", Warning, Safe,
        "an assumed HTTP probe was written",
        "For an image not in the catalogue that publishes a TCP port, the profile's HTTP probe is written with a \
         comment saying it is assumed. Replace it with the service's real check.";
    HEALTHCHECK_CATALOGUE = "healthcheck/catalogue", Info, None,
        "what the probe catalogue says of this image",
        "A note from the catalogue entry the probe was taken from (what it needs, what to change), or how the \
         probe follows the service's command: the port the command gives the server, or the container's \
         variable that holds the password the server is started with.";
    HEALTHCHECK_NONE_KNOWN = "healthcheck/no-probe", Warning, None,
        "no healthcheck added: no probe is known for the image",
        "The image is not in the catalogue, or the catalogue records that it ships no tool a probe could use, \
         and it publishes no port an assumed probe could try. Write a probe that works inside the image.";
    HEALTHCHECK_OTHER_COMMAND = "healthcheck/other-command", Warning, None,
        "the service runs something other than the image's server",
        "A catalogue probe checks the image's own server (redis-server, postgres, apache2-foreground). A service \
         whose entrypoint or command runs something else (Nextcloud's `/cron.sh`, a queue worker on a web \
         image) listens on nothing the probe knows, so the probe would keep it unhealthy for ever: none is \
         written. Options for the server itself (`postgres -c ...`, a command of flags only) keep the probe. \
         Write a probe for what the service runs, if it serves anything.";
    HEALTHCHECK_PASSWORD = "healthcheck/password", Warning, None,
        "the server needs a password the probe cannot read from the container",
        "A redis started with `--requirepass` answers NOAUTH to a probe without the password, and stays \
         unhealthy. The probe passes it from the container's own variable at run time (`REDISCLI_AUTH`, \
         redis-cli 5.0.3 and later), never written into the file, where it would also show in `docker \
         inspect`. Where the password is a literal in the command, or interpolated by Compose from a variable \
         the container does not have, no probe is written: give the container the variable.";
    HEALTHCHECK_OWN = "healthcheck/image-own", Info, None,
        "the image defines its own HEALTHCHECK",
        "A healthcheck in the file would replace the image's own, which knows the software better.";
    HEALTHCHECK_JOB = "healthcheck/one-shot", Info, None,
        "a one-shot job gets no healthcheck",
        "A job that runs once and exits is not watched by a probe.";
    HEALTHCHECK_UNKNOWN_IMAGE = "healthcheck/image-unknown", Warning, None,
        "the image is known only after interpolation",
        "With `image: ${VAR}` no catalogue entry can be chosen, so no probe is written.";
    HEALTHCHECK_WAITER = "healthcheck/health-waiter", Warning, None,
        "another service waits for this one to be healthy, and no probe is known",
        "`depends_on: condition: service_healthy` needs a probe that passes; a guessed one that fails would keep \
         the waiter from ever starting. Write the service's real check.";
    PROBE_DISABLED = "probe/disabled", Info, None,
        "the healthcheck is disabled",
        "`disable: true` or `test: [NONE]`: Docker and `service_healthy` waiters cannot tell whether the service \
         works. The user's choice is kept.";
    PROBE_CURL_FAIL = "probe/curl-without-fail", Warning, Repair,
        "curl without -f exits 0 on an HTTP error",
        "`curl URL` succeeds on a 500 or a 404, so the probe can never fail. The repair adds `-f`. Not repaired \
         where the request sends credentials or the endpoint answers errors by design, or where a \
         service_healthy waiter could be blocked by a probe that starts failing (`--enforce` repairs there).";
    PROBE_CURL_KEPT = "probe/curl-judged", Info, None,
        "curl without -f is kept: the probe judges the answer itself",
        "A probe that reads the status code or the body itself, or an endpoint that answers an error by \
         design (a 401 without credentials), would fail with -f; it is left as it is.";
    PROBE_NO_CURL = "probe/curl-missing", Warning, Replace,
        "the probe calls curl, which the image does not ship",
        "The probe always fails. `--enforce` switches a simple curl call to busybox `wget -qO-`.";
    PROBE_MAYBE_NO_CURL = "probe/curl-maybe-missing", Warning, None,
        "the probe calls curl on an image that usually has none",
        "Alpine-based images usually ship busybox wget but not curl; the probe fails if curl is absent.";
    PROBE_START_PERIOD = "probe/start-period", Info, Safe,
        "a slow-starting image gets a longer start period",
        "During the start period failed probes do not count, so a slow first start is not marked unhealthy.";
    RESTART_MISSING = "restart/missing", Warning, Safe,
        "no restart policy: a crashed service stays down",
        "`restart: unless-stopped` brings a crashed service back (Docker never restarts an unhealthy one). \
         One-shot jobs get `on-failure` or none, since `unless-stopped` would rerun them. The profile \
         `orchestrated` leaves restarts to the orchestrator.";
    RESTART_JOB = "restart/one-shot", Info, None,
        "a one-shot job gets no restart policy that reruns it",
        "A service another waits to complete (service_completed_successfully), or one whose command's last \
         step is a known one-shot step (`migrate`, `mc mb`) with nothing started after it, would loop under \
         `unless-stopped`. A name alone never makes a service a job.";
    STOP_GRACE = "stop/grace-period", Warning, Safe,
        "a database gets a longer stop grace period",
        "Databases finish a checkpoint and flush on SIGTERM; killed at the 10 s default they start with crash \
         recovery.";
    STOP_SIGNAL = "stop/signal", Warning, Safe,
        "the image stops gracefully only on another signal",
        "Some images shut down cleanly on a signal other than SIGTERM (nginx: SIGQUIT) and do not set it \
         themselves.";
    STOP_SIGKILL = "stop/sigkill", Warning, None,
        "stop_signal SIGKILL cannot be caught",
        "The service never shuts down gracefully.";
    LOGGING_MISSING = "logging/no-rotation", Warning, Safe,
        "no log rotation in the file: whether the logs are bounded depends on the daemon's defaults",
        "Without `logging`, or with json-file and no `max-size`, a container's logs are bounded only if the \
         daemon's default driver and its options (`log-driver`, `log-opts` in daemon.json) bound them; Docker's \
         own default, json-file without `max-size`, keeps every line. The fix writes json-file with max-size \
         and max-file, which bound each container's logs whatever the daemon says. Logs the file already \
         bounds are left alone (json-file with `max-size` keeps one file unless `max-file` says more; the \
         local driver keeps 5 compressed files of 20 MB by default), a cap the user set is never raised, and \
         drivers that ship logs are kept.";
    LOGGING_BOUNDED = "logging/bounded", Info, None,
        "the logs are bounded already: nothing is added",
        "json-file with `max-size` keeps at most `max-file` files of that size, and `max-file` defaults to 1; \
         the local driver rotates by default (5 files of 20 MB, compressed). Nothing is added where the file \
         bounds the logs, since a `max-file` added beside a user's `max-size` would raise their cap; the \
         finding names the cap and the defaults it relies on.";
    LOGGING_NONE = "logging/none-driver", Warning, None,
        "logging driver `none` keeps no logs",
        "`docker logs` shows nothing when the service fails.";
    LOGGING_REMOTE = "logging/remote-driver", Info, None,
        "a remote logging driver is kept",
        "Logs leave the host; since Engine 20.10 `docker logs` still reads a local cache.";
    LOGGING_DEFAULT = "logging/default-driver", Info, None,
        "logging names no driver, so the daemon's default applies",
        "The daemon's default driver and its options are unknown here; no rotation is added.";
    MEASURED_SIZED = "measured/sized", Info, None,
        "limits sized from what the service used",
        "With `apply --sizing`, the memory limit is the measured peak with headroom (1.3 by default), inside \
         the lesson's band of 1.2 to 1.5 times the peak: rounded up to the profile's unit, or a half of it down \
         to 1 MiB, whichever keeps it at most 1.5 times the peak. Floors may lift it above the band, each \
         reported where it decides: the engine's minimum (6 MiB), then the heap rule. The reservation is the \
         median; cpus the 95th percentile with headroom (0.1 to the host's CPUs); the pids limit the peak with \
         headroom, at least 256. The finding gives the evidence.";
    MEASURED_NOT_SIZED = "measured/not-sized", Warning, None,
        "the measurement cannot size this service",
        "A service is not sized from fewer than 30 samples, from a window under 60 s, or when it was OOM-killed \
         in the window (its peak is then only a floor).";
    MEASURED_BELOW_PEAK = "measured/below-peak", Warning, None,
        "the service's own memory limit is below its measured peak",
        "The user's limit is kept; a limit below what the service used under load risks OOM kills.";
    MEASURED_RESIZE = "measured/resize", Warning, Replace,
        "the user's memory limit differs from the measured one",
        "Under `--enforce` with `--sizing`, a user's memory limit below the measured limit is raised to it. \
         Lowering one also needs `--allow-lower`, since one window rarely shows a service's worst day.";
    MEASURED_STALE = "measured/stale", Warning, None,
        "the service's image is not the one it was measured with",
        "Sizes measured with another image may not hold for this one: measure again.";
    RESOURCES_NO_LIMIT = "resources/no-limit", Warning, Safe,
        "a memory or CPU limit is missing: one service can starve the host",
        "A limit bounds what a leak or a spike can take. The fix writes the limit the service lacks, memory or \
         CPU or both (`deploy.resources.limits`), from the profile's class values, sized above a JVM heap where \
         the service names one; a limit the service sets is kept. Skipped for classes whose size depends on \
         the workload (measure it).";
    RESOURCES_NO_RESERVATION = "resources/no-reservation", Info, Safe,
        "a memory or CPU reservation is missing",
        "A reservation tells the scheduler (and the kernel under memory pressure) what the service needs at \
         least. The fix writes the reservation the service lacks, memory or CPU or both, from the class's \
         values, never above its limit.";
    RESOURCES_SIZE_YOURSELF = "resources/size-it-yourself", Warning, None,
        "no blanket limit is safe for this service",
        "LLM servers, GitLab, media servers and the like need what their workload needs: measure the peak and \
         set the limit 20-50% above it.";
    RESOURCES_HEAP_UNKNOWN = "resources/heap-unknown", Warning, None,
        "the JVM heap is known only after interpolation",
        "A limit below the heap gets the service OOM-killed; none is written.";
    RESOURCES_HEAP_SIZED = "resources/heap-sized", Info, Safe,
        "the memory limit is sized above the JVM heap",
        "The heap, plus the JVM's own memory, must fit under the limit.";
    RESOURCES_LEGACY = "resources/legacy-conflict", Info, None,
        "a deploy.resources value is left out beside a legacy key",
        "Compose refuses `deploy.resources` blocks that do not repeat `mem_limit`, `cpus` and the like.";
    RESOURCES_UNINTERPOLATED = "resources/uninterpolated", Warning, None,
        "a value cannot be compared before interpolation",
        "With `${VAR}` the limit and the reservation cannot be compared, so nothing is written.";
    RESOURCES_CPU_ABOVE = "resources/cpu-reservation-above", Warning, None,
        "a CPU reservation above the profile's limit",
        "A CPU limit above the host's CPU count keeps the container from starting; none is written.";
    RESOURCES_RAISED = "resources/raised-to-reservation", Warning, Safe,
        "the limit is raised to the reservation",
        "Docker refuses a memory limit below the memory reservation.";
    RESOURCES_NOT_MAPPING = "resources/not-mapping", Info, None,
        "a resources key is not a mapping",
        "Nothing is added under a value that is not a mapping.";
    LIMITS_MEMSWAP = "limits/memswap", Warning, Safe,
        "swap is not bounded",
        "Without `memswap_limit`, a container may use as much swap as memory; setting it equal to the limit \
         keeps a leak from swapping the host.";
    LIMITS_MEMSWAP_ALONE = "limits/memswap-without-limit", Warning, None,
        "memswap_limit without a memory limit",
        "The engine refuses to create the container. Set mem_limit to at most it.";
    LIMITS_INVERTED = "limits/reservation-above-limit", Warning, Replace,
        "a reservation above its limit",
        "Docker refuses to start the container. `--enforce` lowers the reservation to the limit.";
    LIMITS_HEAP_SHARE = "limits/heap-share", Warning, None,
        "the JVM heap takes too much of the memory limit",
        "Above the class's share the JVM's own memory (metaspace, threads, buffers) does not fit and the kernel \
         OOM-kills it.";
    ULIMITS_MISSING = "ulimits/missing", Warning, Safe,
        "the default open-file limit is low for a server",
        "The default soft nofile of 1024 is too few for a busy server. The fix writes the profile's ulimits. An \
         engine that cannot grant them (rootless and nested engines) refuses to start the container: \
         `verify` names it.";
    ULIMITS_IMAGE = "ulimits/image", Info, Safe,
        "the image needs a ulimit of its own",
        "Some images need more (Elasticsearch locks its heap: memlock unlimited).";
    SECURITY_PIDS = "security/no-pids-limit", Warning, Safe,
        "no pids limit: a fork loop can exhaust the host's process table",
        "A pids limit caps the tasks (processes and threads) of the container. The `strict` profile writes a \
         generous one, raised for thread-heavy images (Elasticsearch, Jenkins, GitLab), as \
         `deploy.resources.limits.pids` where the service has `deploy.resources.limits` (Compose refuses \
         `pids_limit` beside it) and as `pids_limit` beside legacy `mem_limit`/`cpus`. It is preferred to the \
         nproc ulimit, which counts every thread of the UID on the host.";
    SECURITY_NNP = "security/no-new-privileges", Warning, Safe,
        "a process can gain privileges through setuid binaries",
        "`security_opt: [\"no-new-privileges:true\"]` blocks privilege gain through setuid, setgid and file \
         capabilities on exec. It is a safe addition where the catalogue records that the image needs none \
         of that (no `su`, `sudo`, `gosu` or setuid helper after the first exec).";
    SECURITY_NNP_UNVERIFIED = "security/no-new-privileges-unverified", Warning, Unsafe,
        "no-new-privileges on an image not known to work with it",
        "As `security/no-new-privileges`, for an image the catalogue does not record: entrypoints that use \
         `su` or `sudo`, and setuid helpers such as postfix's `postdrop`, break under it. Unsafe: written \
         only with `--unsafe-fixes`.";
    SECURITY_CAPS = "security/capabilities", Warning, Unsafe,
        "the container keeps Docker's default capabilities",
        "`cap_drop: [ALL]` with `cap_add` for what the image needs (an entrypoint that chowns and drops to a \
         user needs CHOWN, SETUID, SETGID, FOWNER and DAC_OVERRIDE; a master that signals workers of another \
         user needs KILL). Written only where the catalogue records the list, with its proof; elsewhere \
         nothing is written. Unsafe: it changes what the service may do.";
    SECURITY_READ_ONLY = "security/read-only", Warning, Unsafe,
        "the container's file system is writable",
        "`read_only: true` with a `tmpfs` for each path the image writes, as the catalogue records them. \
         Docker mounts tmpfs `noexec`, which breaks libraries that unpack native code into /tmp (JNA, netty), \
         and tmpfs pages count against the memory limit. A tmpfs never covers a path the image declares as a \
         VOLUME (its data would be lost on every restart). Unsafe: written only with `--unsafe-fixes`.";
    SECURITY_UNKNOWN = "security/not-catalogued", Info, None,
        "capabilities and writable paths are not known for this image",
        "The catalogue records what an image needs only where tests or the image's documentation prove it; \
         for other images `cap_drop` and `read_only` are not written.";
    DANGEROUS_PRIVILEGED = "dangerous/privileged", Error, None,
        "privileged: the container holds the host",
        "`privileged: true` gives every capability and the host's devices. Only the user knows whether the \
         service needs it; it is reported, never changed.";
    DANGEROUS_HOST = "dangerous/host-namespace", Error, None,
        "the container shares a host namespace",
        "`network_mode: host`, `pid: host` and `ipc: host` share the host's network, processes or IPC.";
    DANGEROUS_SOCKET = "dangerous/docker-socket", Error, None,
        "the Docker socket is mounted",
        "Whoever controls the container controls the Docker daemon, and so the host.";
    DANGEROUS_CAP_ALL = "dangerous/cap-add-all", Warning, None,
        "cap_add: ALL",
        "The container gets every capability.";
    DANGEROUS_UNCONFINED = "dangerous/unconfined", Warning, None,
        "a security option turns a kernel protection off",
        "`seccomp:unconfined` or `apparmor:unconfined` removes a protection the engine applies by default.";
    DANGEROUS_PORT = "dangerous/port-all-interfaces", Info, None,
        "a port is published on all interfaces",
        "Bind it to 127.0.0.1 if only this host needs it.";
    SWARM_IGNORED = "swarm/ignored-key", Info, None,
        "Swarm ignores this key",
        "`docker stack deploy` drops keys Swarm does not read (`restart`, `mem_limit`, `cpus`, \
         `security_opt`, `container_name`, ...): it reads `deploy.restart_policy` and `deploy.resources` \
         instead. The `swarm` profile reports each such key a service sets and writes the Swarm form where it \
         writes anything.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented_and_named_by_its_pass() {
        let passes: Vec<&str> = crate::passes::PASSES.iter().map(|p| p.name()).chain(["load"]).collect();
        for (i, rule) in ALL.iter().enumerate() {
            assert!(passes.contains(&rule.pass()), "{}: no such pass", rule.id);
            assert!(rule.id.split_once('/').is_some_and(|(_, k)| !k.is_empty()), "{}", rule.id);
            assert!(rule.summary.len() > 10 && rule.explanation.len() > 30, "{} is not documented", rule.id);
            assert!(ALL[..i].iter().all(|r| r.id != rule.id), "{} declared twice", rule.id);
        }
    }
}
