//! The passes, in the order they run. Each reads one service (as Compose would see it,
//! plus what earlier passes planned) and its settings; each returns changes and
//! findings and never touches text. A new pass is one file and one line in [`passes!`].

mod evidence;
mod file;
mod fit;
mod heap;
mod kind;
mod room;
#[cfg(test)]
mod testing;
mod versions;

use crate::document::extends::Inheritance;
use crate::document::lookup::{self, remove_path, set_path};
use crate::document::project::Note;
use crate::document::{Document, Model};
use crate::facts::{Facts as ImageFacts, Image, ProvenProbe};
use crate::plan::{Change, Finding, Plan};
use crate::profile::{Globs, Profile, Reference, ResourceClass};
use crate::rule::{Rule, Severity};
use file::{check_skips, report_includes, report_tags, skip_list};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use yaml_serde::{Mapping, Value};

/// A pass: what users call it, its rules, the settings it reads from the profile, and what
/// it plans for one service. A new pass is its file and one line in [`passes!`].
pub trait Pass: Sync {
    /// The name users write in `x-compose-harden: {skip: [...]}`.
    const NAME: &'static str;
    /// The profile section that holds its settings, where `false` turns it off; None for a
    /// pass that reads something else.
    const SECTION: Option<&'static str> = Some(Self::NAME);
    /// Every rule it reports or fixes, declared in its file with [`crate::rule::rules!`].
    const RULES: &'static [&'static Rule];
    /// What it reads from the profile.
    type Settings<'p>;
    /// Whether it hardens a long-running container: such a pass is not run for a service
    /// that is not one (see [`kind::Kind`]); one that only reports runs for every service.
    const CONTAINER: bool = true;
    /// Its settings in `profile`; None turns it off (it is then not run: it costs nothing).
    fn settings(profile: &Profile) -> Option<Self::Settings<'_>>;
    /// Plans one service: changes and findings into `out`, never text.
    fn run(&self, settings: Self::Settings<'_>, service: &Service, out: &mut Out);
}

/// A pass as [`PASSES`] holds it, whatever its settings.
pub trait AnyPass: Sync {
    fn name(&self) -> &'static str;
    fn section(&self) -> Option<&'static str>;
    fn rules(&self) -> &'static [&'static Rule];
    fn container(&self) -> bool;
    /// Whether `profile` gives it settings.
    fn on(&self, profile: &Profile) -> bool;
    /// Runs it with its settings from the service's profile (nothing where it is off).
    fn plan(&self, service: &Service, out: &mut Out);
}

impl<P: Pass> AnyPass for P {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn section(&self) -> Option<&'static str> {
        P::SECTION
    }

    fn rules(&self) -> &'static [&'static Rule] {
        P::RULES
    }

    fn container(&self) -> bool {
        P::CONTAINER
    }

    fn on(&self, profile: &Profile) -> bool {
        P::settings(profile).is_some()
    }

    fn plan(&self, service: &Service, out: &mut Out) {
        if let Some(settings) = P::settings(service.profile) {
            self.run(settings, service, out);
        }
    }
}

/// Every rule, in the order the passes run (the load rules first): the registry users look
/// rules up in (`compose-harden rules`, skip lists, a profile's `ignore`), built from the
/// passes' own declarations.
pub fn all_rules() -> &'static [&'static Rule] {
    static ALL: std::sync::OnceLock<Vec<&'static Rule>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let load = file::RULES.iter().chain(kind::RULES);
        load.chain(PASSES.iter().flat_map(|p| p.rules())).copied().collect()
    })
}

/// A rule by id.
pub fn find_rule(id: &str) -> Option<&'static Rule> {
    all_rules().iter().copied().find(|r| r.id == id)
}

/// What every format reports of a file that could not be read or parsed.
pub use file::LOAD_FAILED;
/// What `load` reports of a change the edit could not write (see `harden_with`).
pub use file::LOAD_NOT_WRITTEN;

/// What the project's loader found, as a finding.
pub fn note(note: &Note) -> Finding {
    file::note(note)
}

/// The position of a pass in [`PASSES`] (findings are reported in this order).
pub fn order(pass: &str) -> usize {
    PASSES.iter().position(|p| p.name() == pass).map_or(0, |i| i + 1)
}

/// Declares each pass's module and lists them in [`PASSES`], in the order they run.
macro_rules! passes {
    ($($module:ident::$pass:ident,)*) => {
        $(mod $module;)*
        /// Every pass, in the order they run (findings are reported in this order too).
        pub const PASSES: &[&dyn AnyPass] = &[$(&$module::$pass),*];
    };
}

passes! {
    // Init first: the shell repair is written only where init is in effect.
    init::Init,
    shell::Shell,
    healthcheck::Healthcheck,
    probe::Probe,
    restart::Restart,
    stop::Stop,
    logging::Logging,
    measured::Measured,
    resources::Resources,
    limits::Limits,
    ulimits::Ulimits,
    security::Security,
    dangerous::Dangerous,
    mounts::Mounts,
    image::Image,
    credentials::Credentials,
    swarm::Swarm,
}

/// What a pass sees of one service.
pub struct Service<'a> {
    pub name: &'a str,
    /// The service as Compose reads it (merges applied), plus changes planned so far.
    pub value: &'a Mapping,
    pub relations: &'a Relations,
    pub profile: &'a Profile,
    /// `--enforce`: passes may replace values the user set (each reported).
    pub enforce: bool,
    /// What its image name and command say, worked out once (every pass asks).
    pub signs: &'a Signs,
    /// What its image is, read from the image itself (`compose-harden inspect`), where the
    /// run has facts of it.
    pub facts: Option<&'a Image>,
    /// Whether the run has image facts at all (a facts file or `--inspect`): then an
    /// image the facts do not cover is one nobody looked at.
    pub facts_at_hand: bool,
    /// A probe `compose-harden probes` proved on the engine for this service, its image
    /// and what it runs (the facts file's per-service section).
    pub proven: Option<&'a ProvenProbe>,
    /// The file's top-level `version`, where it has one: `docker stack deploy` reads the
    /// schema it names, which refuses keys newer than it.
    pub version: Option<&'a Value>,
}

/// What a run gives the passes besides the compose file and the profile.
#[derive(Clone, Copy, Default)]
pub struct Inputs<'a> {
    /// `--enforce`: passes may replace values the user set (each reported).
    pub enforce: bool,
    /// The image facts (`compose-harden.images.yml`, or the engine's with `--inspect`).
    pub facts: Option<&'a ImageFacts>,
}

/// What a service's image name and command say, worked out once per service.
pub struct Signs {
    /// The image reference as far as the file says (None: the service has no image).
    pub reference: Option<Reference>,
    /// Why the service looks like a job that runs once, if it does.
    pub one_shot: Option<String>,
    /// The index of its image's resource class in the profile.
    class: Option<usize>,
    /// The index of its image's entry in the probe catalogue.
    pub probe: Option<usize>,
    /// Why its image runs an init of its own, if it does.
    pub own_init: Option<String>,
    /// The JVM options its environment and command name.
    pub jvm: heap::Jvm,
    /// Whether it is a long-running container, and if not, what it is.
    pub kind: kind::Kind,
}

impl Signs {
    fn of(
        name: &str,
        service: &Mapping,
        relations: &Relations,
        profile: &Profile,
        globs: &Matchers,
        facts: Option<&Image>,
    ) -> Signs {
        let reference = lookup::get(service, "image").and_then(Value::as_str).map(crate::profile::reference);
        let repo = reference.as_ref().map(|r| r.repo.as_str());
        let probes = profile.healthcheck.as_ref().map(|h| &h.probes[..]).unwrap_or_default();
        let own_init = repo.and_then(|repo| {
            let init = profile.init.as_ref()?;
            if let Some(i) = globs.own_init.first(repo) {
                return Some(init.own_init[i].why.clone());
            }
            if let Some(i) = globs.own_init_probes.first(repo) {
                return Some(probes[i].source.clone());
            }
            init.own_init_images
                .iter()
                .any(|p| crate::profile::glob_match(p, repo))
                .then(|| "listed in the profile".to_string())
        });
        let jvm = heap::read(service, facts.is_some_and(Image::has_java), repo);
        Signs {
            one_shot: one_shot(name, service, relations, profile),
            class: repo.and_then(|r| globs.classes.first(r)),
            probe: repo.and_then(|r| globs.probes.first(r)),
            own_init,
            reference,
            jvm,
            kind: kind::Kind::of(name, service, relations),
        }
    }
}

/// The profile's image and name patterns, compiled once per file.
struct Matchers {
    classes: Globs,
    probes: Globs,
    own_init: Globs,
    /// Catalogue entries that say their image starts its own init.
    own_init_probes: Globs,
}

impl Matchers {
    fn of(profile: &Profile) -> Matchers {
        let probes = profile.healthcheck.as_ref().map(|h| &h.probes[..]).unwrap_or_default();
        Matchers {
            classes: Globs::new(
                profile.resources.iter().flat_map(|r| r.classes.iter().enumerate().map(|(i, c)| (i, &c.images[..]))),
            ),
            probes: Globs::new(probes.iter().enumerate().map(|(i, p)| (i, &p.images[..]))),
            own_init: Globs::new(
                profile.init.iter().flat_map(|r| r.own_init.iter().enumerate().map(|(i, o)| (i, &o.images[..]))),
            ),
            own_init_probes: Globs::new(
                probes.iter().enumerate().filter(|(_, p)| p.own_init).map(|(i, p)| (i, &p.images[..])),
            ),
        }
    }
}

/// Why a service is a job that runs once and exits, on evidence: another service waits for
/// it to complete, or the last step of its command is a one-shot step the profile names
/// (`migrate`, `mc mb`) with nothing started after it. A name proves nothing: `*-seed` may
/// be a server, and `sh -c "db seed && npm start"` is one.
fn one_shot(name: &str, service: &Mapping, relations: &Relations, profile: &Profile) -> Option<String> {
    if let Some(waiter) = relations.completion_waiter.get(name) {
        return Some(format!("service `{waiter}` waits for it to complete"));
    }
    let signs = profile.restart.as_ref()?.one_shot.as_ref()?;
    let step = shell::last_step(service)?.words;
    // A sign of several words (`mc mb`) matches those words in a row.
    let found = signs.commands.iter().find(|sign| {
        let sign: Vec<&str> = sign.split_whitespace().collect();
        !sign.is_empty() && step.windows(sign.len()).any(|w| w.iter().zip(&sign).all(|(a, b)| a == b))
    })?;
    Some(format!("the last step of its command runs `{found}`, and nothing is started after it"))
}

/// What services say about each other, gathered once per file.
#[derive(Default)]
pub struct Relations {
    /// Service -> the first service whose `depends_on` waits for it to exit successfully.
    pub completion_waiter: HashMap<String, String>,
    /// Service -> the first service whose `depends_on` waits for it to be healthy.
    pub health_waiter: HashMap<String, String>,
    /// Service -> the first service that builds on it (`build.additional_contexts`).
    pub built_on: HashMap<String, String>,
}

impl Relations {
    fn of(services: &Mapping) -> Relations {
        let mut completion_waiter = HashMap::new();
        let mut health_waiter = HashMap::new();
        for (name, service) in services {
            let (Some(name), Some(deps)) =
                (name.as_str(), lookup::field(service, "depends_on").and_then(Value::as_mapping))
            else {
                continue;
            };
            for (dep, how) in deps {
                let waiters = match lookup::field(how, "condition").and_then(Value::as_str) {
                    Some("service_completed_successfully") => &mut completion_waiter,
                    Some("service_healthy") => &mut health_waiter,
                    _ => continue,
                };
                if let Some(dep) = dep.as_str() {
                    waiters.entry(dep.to_string()).or_insert_with(|| name.to_string());
                }
            }
        }
        Relations { completion_waiter, health_waiter, built_on: kind::build_bases(services) }
    }
}

impl Service<'_> {
    /// Whether the user decided `path`: the key exists, or a key above it holds something
    /// other than a mapping (null, `!reset`, `${VAR}`), which counts as set too.
    pub fn is_set(&self, path: &[&str]) -> bool {
        let mut here = self.value;
        for (i, key) in path.iter().enumerate() {
            match lookup::get(here, key) {
                None => return false,
                Some(Value::Mapping(m)) if i + 1 < path.len() => here = m,
                Some(_) => return true,
            }
        }
        true
    }

    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        let mut here = lookup::get(self.value, first)?;
        for key in rest {
            here = lookup::get(here.as_mapping()?, key)?;
        }
        Some(here)
    }

    pub fn str(&self, path: &[&str]) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    pub fn image(&self) -> Option<&str> {
        self.str(&["image"])
    }

    /// Why the service looks like a job that runs once and exits, if it does.
    pub fn one_shot(&self) -> Option<&str> {
        self.signs.one_shot.as_deref()
    }

    /// The image's repository (no registry `docker.io`, no `library/`), as far as known.
    pub fn repo(&self) -> Option<&str> {
        self.signs.reference.as_ref().map(|r| r.repo.as_str())
    }

    pub fn reference(&self) -> Option<&Reference> {
        self.signs.reference.as_ref()
    }

    /// The image's resource class in the profile.
    pub fn class(&self) -> Option<&ResourceClass> {
        self.profile.resources.as_ref()?.classes.get(self.signs.class?)
    }

    /// A variable from `environment`, in map or list (`NAME=value`) form.
    pub fn env(&self, name: &str) -> Option<String> {
        env(self.value, name)
    }
}

/// A variable from a service's `environment`, in map or list (`NAME=value`) form.
pub(crate) fn env(service: &Mapping, name: &str) -> Option<String> {
    match lookup::get(service, "environment")? {
        Value::Mapping(m) => lookup::get(m, name).map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }),
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .find_map(|i| i.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')).map(str::to_string)),
        _ => None,
    }
}

/// A pass's output for one service.
pub struct Out<'a> {
    pass: &'static str,
    service: &'a str,
    /// The service's name and the paths, shared by every change that names them (a file
    /// of thousands of services plans hundreds of thousands of changes).
    shared: &'a mut Shared,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
}

/// Strings many changes share, allocated once.
#[derive(Default)]
struct Shared {
    service: Option<Arc<str>>,
    /// By a hash of the path's keys (no string is built to look one up).
    paths: foldhash::HashMap<u64, Vec<Arc<[String]>>>,
    values: foldhash::HashSet<Arc<Value>>,
}

impl Shared {
    fn service(&mut self, name: &str) -> Arc<str> {
        match &self.service {
            Some(s) if **s == *name => s.clone(),
            _ => self.service.insert(Arc::from(name)).clone(),
        }
    }

    fn path(&mut self, path: &[&str]) -> Arc<[String]> {
        let mut hasher = foldhash::fast::FixedState::default().build_hasher();
        for key in path {
            hasher.write(key.as_bytes());
            hasher.write_u8(0xff); // No UTF-8 text holds this byte: keys cannot run together.
        }
        let same = self.paths.entry(hasher.finish()).or_default();
        if let Some(shared) = same.iter().find(|p| p.len() == path.len() && p.iter().zip(path).all(|(a, b)| a == b)) {
            return shared.clone();
        }
        let shared: Arc<[String]> = path.iter().map(|s| s.to_string()).collect();
        same.push(shared.clone());
        shared
    }

    fn value(&mut self, value: Value) -> Arc<Value> {
        if let Some(shared) = self.values.get(&value) {
            return shared.clone();
        }
        let shared = Arc::new(value);
        self.values.insert(shared.clone());
        shared
    }
}

impl Out<'_> {
    pub fn add(&mut self, rule: &'static Rule, path: &[&str], value: impl Into<Value>) {
        self.add_noted(rule, path, value.into(), None);
    }

    pub fn add_noted(&mut self, rule: &'static Rule, path: &[&str], value: Value, note: Option<String>) {
        debug_assert_eq!(rule.pass(), self.pass, "{} planned by {}", rule.id, self.pass);
        self.changes.push(Change {
            service: self.shared.service(self.service),
            path: self.shared.path(path),
            value: self.shared.value(value),
            rule,
            note: note.map(String::into_boxed_str),
            replaces: None,
            removes: false,
            message: None,
        });
    }

    /// Replaces a value the user set; `message` (why, with the old and new value) is
    /// reported if the change is written.
    pub fn replace(&mut self, rule: &'static Rule, path: &[&str], old: &Value, new: Value, message: impl Into<String>) {
        self.changes.push(Change {
            service: self.shared.service(self.service),
            path: self.shared.path(path),
            value: self.shared.value(new),
            rule,
            note: None,
            replaces: Some(Box::new(old.clone())),
            removes: false,
            message: Some(message.into().into_boxed_str()),
        });
    }

    /// Deletes a key the user set (`--enforce`, where what it says is written where it is
    /// read); `message` (why, with the old value and where it went) is reported if it is.
    pub fn remove(&mut self, rule: &'static Rule, path: &[&str], old: &Value, message: impl Into<String>) {
        self.changes.push(Change {
            service: self.shared.service(self.service),
            path: self.shared.path(path),
            value: self.shared.value(Value::Null),
            rule,
            note: None,
            replaces: Some(Box::new(old.clone())),
            removes: true,
            message: Some(message.into().into_boxed_str()),
        });
    }

    pub fn report(&mut self, rule: &'static Rule, path: &[&str], message: impl Into<String>) {
        self.finding(rule, path, message.into(), false);
    }

    /// A finding milder than its rule's severity, where the rule's explanation says when.
    pub fn report_as(&mut self, rule: &'static Rule, severity: Severity, path: &[&str], message: impl Into<String>) {
        self.finding(rule, path, message.into(), false);
        if let Some(last) = self.findings.last_mut() {
            last.severity = severity.min(rule.severity);
        }
    }

    /// A finding the pass would have made a change of under `--enforce`.
    pub fn report_enforceable(&mut self, rule: &'static Rule, path: &[&str], message: impl Into<String>) {
        self.finding(rule, path, message.into(), true);
    }

    /// A finding about a credential written into the file: `secret` is masked wherever the
    /// report shows the file's text (the message must not hold it).
    pub fn report_secret(&mut self, rule: &'static Rule, path: &[&str], message: impl Into<String>, secret: &str) {
        // Messages give the variable's name and the value's length, never the value (a value
        // that is also a word, `secret`, may still appear in the text by chance).
        self.finding(rule, path, message.into(), false);
        if let Some(f) = self.findings.last_mut() {
            f.secret = Some(secret.into());
        }
    }

    fn finding(&mut self, rule: &'static Rule, path: &[&str], message: String, enforceable: bool) {
        debug_assert_eq!(rule.pass(), self.pass, "{} reported by {}", rule.id, self.pass);
        let path = path.iter().map(|s| s.to_string()).collect();
        self.findings.push(Finding { enforceable, ..Finding::new(rule, self.service, path, message) });
    }
}

/// Plans one file alone (its includes are reported, not read): [`plan_model`] of it.
pub fn plan(doc: &Document, profile: &Profile, inputs: Inputs, inherited: &Inheritance) -> Plan {
    plan_with(PASSES, &Model::of(doc, inherited), profile, inputs)
}

/// Runs every pass over every service of the model (a project's services as Compose merges
/// them), in order. Services are planned independently (what they say about each other is
/// gathered first), so a large file is planned in two halves on two cores.
pub fn plan_model(model: &Model, profile: &Profile, inputs: Inputs) -> Plan {
    plan_with(PASSES, model, profile, inputs)
}

/// [`plan_model`] with the passes given (a test runs one alone).
fn plan_with(passes: &[&dyn AnyPass], model: &Model, profile: &Profile, inputs: Inputs) -> Plan {
    let mut plan = Plan::default();
    if let Some(includes) = model.unread_includes {
        report_includes(includes, &mut plan);
    }
    let Some(services) = model.services else {
        return plan;
    };
    let inherited = model.inherited;
    let file_skips = skip_list(model.settings);
    let relations = Relations::of(services);
    check_skips(&file_skips, "", &mut plan);
    if passes.iter().any(|p| p.name() == "swarm") {
        swarm::top_level(model.top, profile, &file_skips, &mut plan);
    }
    let all: Vec<(&Value, &Value)> = services.iter().collect();
    let globs = Matchers::of(profile);
    let version = model.top.and_then(|t| lookup::field(t, "version"));
    let context = Context {
        passes,
        file_skips: &file_skips,
        relations: &relations,
        profile,
        inputs,
        inherited,
        globs: &globs,
        version,
    };
    if all.len() < 64 {
        context.plan(&all, all.len(), &mut plan);
        return plan;
    }
    let (first, second) = all.split_at(all.len() / 2);
    let rest = std::thread::scope(|scope| {
        let rest = scope.spawn(|| {
            let mut rest = Plan::default();
            context.plan(second, second.len(), &mut rest);
            rest
        });
        // The first half's list is sized for both, so the second is appended in place.
        context.plan(first, all.len(), &mut plan);
        rest.join()
    });
    match rest {
        Ok(rest) => {
            plan.changes.extend(rest.changes);
            plan.findings.extend(rest.findings);
        }
        // A pass panicked in the other half: the panic surfaces here, as in one thread.
        Err(panic) => std::panic::resume_unwind(panic),
    }
    plan
}

/// Services planned before the list of changes is sized for the rest.
const SAMPLE: usize = 32;

/// What every service's planning shares.
struct Context<'a> {
    /// The passes to run, in order: [`PASSES`] (a test runs one alone).
    passes: &'a [&'a dyn AnyPass],
    file_skips: &'a [String],
    relations: &'a Relations,
    profile: &'a Profile,
    inputs: Inputs<'a>,
    inherited: &'a Inheritance,
    globs: &'a Matchers,
    version: Option<&'a Value>,
}

/// Profiles tailored by per-service overrides, by the overrides that made them.
type Tailored = HashMap<Vec<usize>, Arc<(Profile, Matchers)>>;

impl Context<'_> {
    /// Plans `services` into `plan`, whose list of changes will hold those of `expected`
    /// services in all.
    fn plan(&self, services: &[(&Value, &Value)], expected: usize, plan: &mut Plan) {
        let mut shared = Shared::default();
        let mut tailored = Tailored::new();
        for (i, (name, value)) in services.iter().enumerate() {
            if i == SAMPLE && expected > 2 * SAMPLE {
                reserve(plan, expected);
            }
            let Some(name) = name.as_str() else { continue };
            let Some(mut view) = self.view(name, value, plan) else { continue };
            report_tags(&mut view, name, &mut Vec::new(), plan);
            let mut skips = skip_list(lookup::get(&view, "x-compose-harden"));
            let (overrides, override_skips) = self.overrides(name, &view, &mut tailored);
            let (profile, globs) = match &overrides {
                Some(t) => (&t.0, &t.1),
                None => (self.profile, self.globs),
            };
            check_skips(&override_skips, name, plan);
            skips.extend(override_skips);
            let facts = self.inputs.facts.and_then(|f| {
                let image = lookup::get(&view, "image").and_then(Value::as_str);
                f.for_service(name, image, lookup::get(&view, "build").is_some())
            });
            // A probe `compose-harden probes` proved for this service, its image and what it runs.
            let proven = match (self.inputs.facts, facts) {
                (Some(all), Some(image)) if all.services.contains_key(name) => {
                    all.proven(name, &image.id, &crate::facts::DecidedBy::of(&view))
                }
                _ => None,
            };
            let signs = Signs::of(name, &view, self.relations, profile, globs, facts);
            kind::report(name, &view, &signs.kind, plan);
            check_skips(&skips, name, plan);
            let service = Planned { name, profile, signs: &signs, facts, proven, skips: &skips };
            self.run_passes(&service, &mut view, &mut shared, plan);
        }
    }

    /// The service as the passes see it, with what it inherits through `extends` (which
    /// counts as set); None where it is left alone, which is reported: a `!reset` service,
    /// one that is not a mapping, or one whose `extends` cannot be read (any key added could
    /// contradict what it inherits).
    fn view(&self, name: &str, value: &Value, plan: &mut Plan) -> Option<Mapping> {
        if let Value::Tagged(tagged) = value {
            if tagged.tag == "reset" {
                plan.findings.push(Finding::new(
                    &file::LOAD_RESET_SERVICE,
                    name,
                    Vec::new(),
                    "the service is `!reset`: Compose drops it; left alone".to_string(),
                ));
                return None;
            }
        }
        let Some(service) = value.as_mapping() else {
            plan.findings.push(Finding::new(
                &file::LOAD_NOT_MAPPING,
                name,
                Vec::new(),
                "the service is not a mapping; left alone".to_string(),
            ));
            return None;
        };
        match self.inherited.get(name) {
            None => Some(service.clone()),
            Some(Ok((resolved, chain))) => {
                plan.findings.push(Finding::new(
                    &file::LOAD_EXTENDS,
                    name,
                    vec!["extends".to_string()],
                    format!("extends {chain}: what it inherits counts as set"),
                ));
                // The key itself stays in the view: `docker stack deploy` refuses it.
                let mut resolved = resolved.clone();
                if let Some((key, value)) = service.iter().find(|(k, _)| k.as_str() == Some("extends")) {
                    resolved.insert(key.clone(), value.clone());
                }
                Some(resolved)
            }
            Some(Err(why)) => {
                let message = format!(
                    "nothing added: {why}, so what the service inherits is not known and any key added here could \
                     contradict it"
                );
                let path = vec!["extends".to_string()];
                plan.findings.push(Finding::new(&file::LOAD_EXTENDS_UNREADABLE, name, path, message));
                None
            }
        }
    }

    /// The profile's per-service overrides that match the service: the profile they make
    /// (built once per set of overrides; None where none match), and what they skip.
    fn overrides(
        &self,
        name: &str,
        view: &Mapping,
        tailored: &mut Tailored,
    ) -> (Option<Arc<(Profile, Matchers)>>, Vec<String>) {
        let overrides = self.profile.matching(name, view);
        let made = (!overrides.is_empty()).then(|| {
            tailored
                .entry(overrides.clone())
                .or_insert_with(|| {
                    let profile = self.profile.with_overrides(&overrides).unwrap_or_else(|_| self.profile.clone());
                    let globs = Matchers::of(&profile);
                    Arc::new((profile, globs))
                })
                .clone()
        });
        (made, self.profile.override_skips(&overrides))
    }

    /// Runs each pass the profile turns on and no skip list names, in order: each sees the
    /// service with what the passes before it planned. A rule id in a skip list (or the
    /// profile's `ignore`) drops that rule's changes and findings alone.
    fn run_passes(&self, service: &Planned, view: &mut Mapping, shared: &mut Shared, plan: &mut Plan) {
        let skipped = |id: &str| self.file_skips.iter().chain(service.skips).any(|s| s == id);
        for pass in self.passes {
            if !pass.on(service.profile) || skipped(pass.name()) {
                continue;
            }
            if pass.container() && !service.signs.kind.is_container() {
                continue;
            }
            let mut out =
                Out { pass: pass.name(), service: service.name, shared, changes: Vec::new(), findings: Vec::new() };
            let current = Service {
                name: service.name,
                value: view,
                relations: self.relations,
                profile: service.profile,
                enforce: self.inputs.enforce,
                signs: service.signs,
                facts: service.facts,
                facts_at_hand: self.inputs.facts.is_some(),
                proven: service.proven,
                version: self.version,
            };
            pass.plan(&current, &mut out);
            let dropped = |id: &str| skipped(id) || self.profile.ignore.iter().any(|s| s == id);
            out.changes.retain(|c| !dropped(c.rule.id));
            // `docker stack deploy` refuses a key the file's `version` lacks: none is added.
            if service.profile.swarm.is_some() {
                versions::gate(self.version, &mut out);
            }
            out.findings.retain(|f| !dropped(f.rule.id));
            for change in &out.changes {
                match change.removes {
                    true => remove_path(view, &change.path),
                    false => set_path(view, &change.path, (*change.value).clone()),
                }
            }
            plan.changes.extend(out.changes);
            plan.findings.extend(out.findings);
        }
    }
}

/// One service as it is planned: its name, the profile it is planned with, what its image
/// name and command say, the facts of its image, and the skip lists that name it.
struct Planned<'a> {
    name: &'a str,
    profile: &'a Profile,
    signs: &'a Signs,
    facts: Option<&'a Image>,
    proven: Option<&'a ProvenProbe>,
    skips: &'a [String],
}

/// At thousands of services the changes are the largest value: room for all of them (by
/// the first [`SAMPLE`] services' average, plus an eighth) at once, instead of doubling and
/// copying, which at the end holds twice the list.
fn reserve(plan: &mut Plan, expected: usize) {
    let per_service = plan.changes.len().div_ceil(SAMPLE);
    plan.changes.reserve_exact((per_service * (expected - SAMPLE)) * 9 / 8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented_and_named_by_its_pass() {
        let passes: Vec<&str> = PASSES.iter().map(|p| p.name()).chain(["load"]).collect();
        let all = all_rules();
        for (i, rule) in all.iter().enumerate() {
            assert!(passes.contains(&rule.pass()), "{}: no such pass", rule.id);
            assert!(rule.id.split_once('/').is_some_and(|(_, k)| !k.is_empty()), "{}", rule.id);
            assert!(rule.summary.len() > 10 && rule.explanation.len() > 30, "{} is not documented", rule.id);
            assert!(all[..i].iter().all(|r| r.id != rule.id), "{} declared twice", rule.id);
        }
        // Each pass declares its own rules, and only those.
        for pass in PASSES {
            assert!(pass.rules().iter().all(|r| r.pass() == pass.name()), "{} declares another's rule", pass.name());
        }
        assert!(file::RULES.iter().chain(kind::RULES).all(|r| r.pass() == "load"));
    }

    /// A file planned alone (the library's single-file call) does not read what it
    /// includes, and says so for each file.
    #[test]
    fn a_file_planned_alone_reports_each_include() {
        let text = "include:\n  - db.yml\n  - path: [a.yml, b.yml]\nservices:\n  app:\n    image: x\n";
        let doc = crate::document::load("f.yml", text.as_bytes()).expect("reads");
        let profile: Profile = yaml_serde::from_str("{}").expect("an empty profile");
        let plan = plan(&doc, &profile, Inputs::default(), &Inheritance::default());
        let found: Vec<_> = plan.findings.iter().map(|f| (f.rule.id, f.path.join("."))).collect();
        assert_eq!(
            found,
            [
                ("load/include", "include.0".to_string()),
                ("load/include", "include.1.path.0".to_string()),
                ("load/include", "include.1.path.1".to_string())
            ]
        );
    }

    /// Every pass has cases of its own, run alone with the settings they need.
    #[test]
    fn every_pass_is_tested_alone() {
        for pass in PASSES {
            let file = format!("{}/src/passes/{}.rs", env!("CARGO_MANIFEST_DIR"), pass.name());
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(text.contains("use crate::passes::testing::"), "{file} has no cases run with passes::testing");
        }
    }
}
