//! For files deployed with `docker stack deploy`: Swarm drops some service keys without a
//! word (`restart`, `mem_limit`, `security_opt`, ...). Each one a service sets is reported,
//! so that nobody counts on a setting Swarm never applies.

use super::{Out, Pass, Service};
use crate::profile::{Profile, SwarmSettings};
use crate::rule::{rules, Rule};

pub struct Swarm;

rules! {
    SWARM_IGNORED_KEY = "swarm/ignored-key", Info, None,
        "Swarm ignores this key",
        "`docker stack deploy` drops keys Swarm does not read (`restart`, `mem_limit`, `cpus`, \
         `security_opt`, `container_name`, ...): it reads `deploy.restart_policy` and `deploy.resources` \
         instead. The `swarm` profile reports each such key a service sets and writes the Swarm form where it \
         writes anything.";
}

impl Pass for Swarm {
    const NAME: &'static str = "swarm";
    /// It reports settings, and runs for every service, container or not.
    const CONTAINER: bool = false;
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p SwarmSettings;

    fn settings(profile: &Profile) -> Option<&SwarmSettings> {
        profile.swarm.as_ref()
    }

    fn run(&self, settings: &SwarmSettings, service: &Service, out: &mut Out) {
        for key in &settings.ignored {
            if service.is_set(&[key.as_str()]) {
                let instead = match key.as_str() {
                    "restart" => "; it reads `deploy.restart_policy`",
                    "mem_limit" | "memswap_limit" | "mem_reservation" | "cpus" | "cpu_shares" | "cpu_quota"
                    | "cpuset" | "pids_limit" => "; it reads `deploy.resources`",
                    _ => "",
                };
                out.report(&SWARM_IGNORED_KEY, &[key.as_str()], format!("Swarm ignores `{key}`{instead}"));
            }
        }
    }
}
