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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    #[test]
    fn each_key_swarm_ignores_is_reported() {
        let settings = "swarm: {ignored: [restart, mem_limit, container_name], source: Docker's reference}";
        let compose = "services:
  app: {image: example/app:1, restart: always, mem_limit: 1g, container_name: app}
  plain: {image: example/app:1}
";
        check(plan(&Swarm, &profile(settings), compose), r#"
info[swarm/ignored-key] app at restart: Swarm ignores `restart`; it reads `deploy.restart_policy`
info[swarm/ignored-key] app at mem_limit: Swarm ignores `mem_limit`; it reads `deploy.resources`
info[swarm/ignored-key] app at container_name: Swarm ignores `container_name`
"#);
    }
}
