//! [`SharedList`]: the instance list with every environment once. Instances started from
//! one shell share one environment in the daemon ([`crate::EnvPool`]); sending it once
//! per instance made the list four times as large and the CLI decode it a hundred times.

use crate::model::ProcessInfo;
use crate::shared_env::SharedEnv;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Every instance, sorted by id, each with the index of its environment in `envs` (and
/// its own `env` empty on the wire).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SharedList {
    /// The distinct environments.
    pub envs: Vec<SharedEnv>,
    /// For each instance, the index of its environment in `envs`.
    pub env_of: Vec<u32>,
    /// The instances, without their environments.
    pub processes: Vec<ProcessInfo>,
}

impl SharedList {
    /// The list of `processes`, each copy of an environment taken once (empty ones are
    /// all one).
    pub fn new(mut processes: Vec<ProcessInfo>) -> SharedList {
        let mut envs = Vec::new();
        let mut index: HashMap<usize, u32> = HashMap::new();
        let mut env_of = Vec::with_capacity(processes.len());
        for p in &mut processes {
            let env = std::mem::take(&mut p.spec.env);
            let key = if env.is_empty() { 0 } else { env.addr() };
            let i = *index.entry(key).or_insert_with(|| {
                envs.push(env);
                (envs.len() - 1) as u32
            });
            env_of.push(i);
        }
        SharedList {
            envs,
            env_of,
            processes,
        }
    }

    /// The instances with their environments back (shared between the instances that
    /// share one), or why the list does not hold together.
    pub fn into_processes(self) -> Result<Vec<ProcessInfo>, String> {
        let SharedList {
            envs,
            env_of,
            mut processes,
        } = self;
        if env_of.len() != processes.len() {
            return Err(format!(
                "malformed list: {} environment indexes for {} instances",
                env_of.len(),
                processes.len()
            ));
        }
        for (p, &i) in processes.iter_mut().zip(&env_of) {
            match envs.get(i as usize) {
                Some(env) => p.spec.env = env.clone(),
                None => {
                    return Err(format!(
                        "malformed list: instance {} names environment {i} of {}",
                        p.pm_id,
                        envs.len()
                    ))
                }
            }
        }
        Ok(processes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm2json::samples_tests::samples;

    #[test]
    fn each_environment_travels_once_and_comes_back_shared() {
        let mut all = samples();
        all[4].spec.env = all[3].spec.env.clone();
        let before = all.clone();
        let list = SharedList::new(all);
        // The samples: three instances of one shell, two of another environment, one empty.
        assert_eq!(list.envs.len(), 3);
        let text = serde_json::to_string(&list).unwrap();
        let back: SharedList = serde_json::from_str(&text).unwrap();
        let back = back.into_processes().unwrap();
        assert_eq!(back, before);
        assert!(back[0].spec.env.shares_with(&back[1].spec.env));
    }

    #[test]
    fn a_bad_index_is_an_error_not_a_panic() {
        let mut list = SharedList::new(samples());
        list.env_of[0] = 99;
        assert!(list
            .into_processes()
            .unwrap_err()
            .contains("environment 99"));
        let mut list = SharedList::new(samples());
        list.env_of.pop();
        assert!(list.into_processes().is_err());
    }
}
