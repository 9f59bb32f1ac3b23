//! [`SharedList`]: the instance list with every environment once. Instances started from
//! one shell share one environment in the daemon ([`crate::EnvPool`]); sending it once
//! per instance made the list four times as large and the CLI decode it a hundred times.

use crate::{ProcessInfo, SharedEnv};
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

/// `response` in the forms a client of protocol revision `protocol` reads.
pub fn for_protocol(response: crate::Response, protocol: u32) -> crate::Response {
    match response {
        crate::Response::List { processes } if protocol >= 2 => {
            crate::Response::SharedList(SharedList::new(processes))
        }
        other => other,
    }
}

/// A reply holding a [`SharedList`], read as a plain struct: through [`crate::Reply`], serde
/// first copies an internally tagged enum's whole content into a buffer of its own and
/// then decodes that (every string of the list copied twice).
#[derive(Deserialize)]
struct SharedListReply {
    daemon_version: String,
    response: TaggedSharedList,
}

#[derive(Deserialize)]
struct TaggedSharedList {
    #[serde(rename = "type")]
    kind: String,
    envs: Vec<SharedEnv>,
    env_of: Vec<u32>,
    processes: Vec<ProcessInfo>,
}

/// What starts the body of a reply holding a [`SharedList`], as the daemon writes it.
const SHARED_LIST_TAG: &[u8] = br#""response":{"type":"shared_list","#;

/// Decodes a reply frame's body; a [`SharedList`] without serde's buffering of tagged
/// enums when the bytes say that is what they hold.
pub fn decode_reply(body: &[u8]) -> Result<crate::Reply, serde_json::Error> {
    let head = &body[..body.len().min(256)];
    if head.windows(SHARED_LIST_TAG.len()).any(|w| w == SHARED_LIST_TAG) {
        if let Ok(fast) = serde_json::from_slice::<SharedListReply>(body) {
            if fast.response.kind == "shared_list" {
                let r = fast.response;
                let list = SharedList {
                    envs: r.envs,
                    env_of: r.env_of,
                    processes: r.processes,
                };
                return Ok(crate::Reply {
                    daemon_version: fast.daemon_version,
                    response: crate::Response::SharedList(list),
                });
            }
        }
    }
    serde_json::from_slice(body)
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
        assert!(list.into_processes().unwrap_err().contains("environment 99"));
        let mut list = SharedList::new(samples());
        list.env_of.pop();
        assert!(list.into_processes().is_err());
    }

    #[test]
    fn a_reply_decodes_the_same_by_either_path() {
        let reply = crate::Reply {
            daemon_version: "9.9.9".into(),
            response: crate::Response::SharedList(SharedList::new(samples())),
        };
        let body = serde_json::to_vec(&reply).unwrap();
        assert!(body.windows(SHARED_LIST_TAG.len()).any(|w| w == SHARED_LIST_TAG));
        let fast = decode_reply(&body).unwrap();
        let slow: crate::Reply = serde_json::from_slice(&body).unwrap();
        assert_eq!(fast.daemon_version, "9.9.9");
        let (crate::Response::SharedList(a), crate::Response::SharedList(b)) =
            (fast.response, slow.response)
        else {
            panic!("a shared list both ways");
        };
        assert_eq!(a.into_processes(), b.into_processes());
        let other = serde_json::to_vec(&crate::Reply {
            daemon_version: "1".into(),
            response: crate::Response::Ids { ids: vec![1] },
        })
        .unwrap();
        assert!(matches!(
            decode_reply(&other).unwrap().response,
            crate::Response::Ids { .. }
        ));
    }

    #[test]
    fn a_first_revision_client_gets_the_plain_list() {
        let plain = crate::Response::List {
            processes: samples(),
        };
        assert!(matches!(
            for_protocol(plain.clone(), 1),
            crate::Response::List { .. }
        ));
        assert!(matches!(
            for_protocol(plain, 2),
            crate::Response::SharedList(_)
        ));
    }
}
