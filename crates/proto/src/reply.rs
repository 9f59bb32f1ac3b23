//! Replies in the forms a client's protocol revision reads ([`for_protocol`], the
//! daemon's side) and their decoding ([`decode_reply`], the CLI's side).

use crate::model::ProcessInfo;
use crate::request::{Reply, Response};
use crate::shared_env::SharedEnv;
use crate::shared_list::SharedList;
use serde::Deserialize;

/// `response` in the forms a client of protocol revision `protocol` reads.
pub fn for_protocol(response: Response, protocol: u32) -> Response {
    match response {
        Response::List { processes } if protocol >= 2 => {
            Response::SharedList(SharedList::new(processes))
        }
        other => other,
    }
}

/// A reply holding a [`SharedList`], read as a plain struct: through [`Reply`], serde
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
pub fn decode_reply(body: &[u8]) -> Result<Reply, serde_json::Error> {
    let head = &body[..body.len().min(256)];
    if head
        .windows(SHARED_LIST_TAG.len())
        .any(|w| w == SHARED_LIST_TAG)
    {
        if let Ok(fast) = serde_json::from_slice::<SharedListReply>(body) {
            if fast.response.kind == "shared_list" {
                let r = fast.response;
                let list = SharedList {
                    envs: r.envs,
                    env_of: r.env_of,
                    processes: r.processes,
                };
                return Ok(Reply {
                    daemon_version: fast.daemon_version,
                    response: Response::SharedList(list),
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
    fn a_reply_decodes_the_same_by_either_path() {
        let reply = Reply {
            daemon_version: "9.9.9".into(),
            response: Response::SharedList(SharedList::new(samples())),
        };
        let body = serde_json::to_vec(&reply).unwrap();
        assert!(body
            .windows(SHARED_LIST_TAG.len())
            .any(|w| w == SHARED_LIST_TAG));
        let fast = decode_reply(&body).unwrap();
        let slow: Reply = serde_json::from_slice(&body).unwrap();
        assert_eq!(fast.daemon_version, "9.9.9");
        let (Response::SharedList(a), Response::SharedList(b)) = (fast.response, slow.response)
        else {
            panic!("a shared list both ways");
        };
        assert_eq!(a.into_processes(), b.into_processes());
        let other = serde_json::to_vec(&Reply {
            daemon_version: "1".into(),
            response: Response::Ids { ids: vec![1] },
        })
        .unwrap();
        assert!(matches!(
            decode_reply(&other).unwrap().response,
            Response::Ids { .. }
        ));
    }

    #[test]
    fn a_first_revision_client_gets_the_plain_list() {
        let plain = Response::List {
            processes: samples(),
        };
        assert!(matches!(
            for_protocol(plain.clone(), 1),
            Response::List { .. }
        ));
        assert!(matches!(for_protocol(plain, 2), Response::SharedList(_)));
    }
}
