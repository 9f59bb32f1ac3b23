//! `trigger`: run an action an app registered, and collect the answers.

use crate::instance::{Control, InstanceHandle, Trigger, TriggerError};
use crate::state::Daemon;
use pm2_proto::{Response, TriggerReply, TriggerRequest};
use std::time::Duration;
use tokio::task::JoinSet;

/// How long an app gets to answer (`axm:reply`).
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends the action to every targeted instance at once and waits for each answer.
pub(crate) async fn trigger(daemon: &Daemon, req: TriggerRequest) -> Response {
    let handles = {
        let registry = daemon.registry();
        match registry.resolve(&req.targets) {
            Ok(ids) => ids
                .into_iter()
                .filter_map(|id| registry.get(id).map(|h| (id, h)))
                .collect::<Vec<_>>(),
            Err(e) => {
                return Response::Error {
                    message: e.to_string(),
                }
            }
        }
    };
    let mut set = JoinSet::new();
    for (pm_id, handle) in handles {
        let (action, param) = (req.action.clone(), req.param.clone());
        set.spawn(ask(pm_id, handle, action, param));
    }
    let mut replies = set.join_all().await;
    replies.sort_by_key(|r| r.pm_id);
    Response::TriggerReplies { replies }
}

/// Sends the action to one instance and waits for its answer, at most [`REPLY_TIMEOUT`].
async fn ask(
    pm_id: u32,
    handle: InstanceHandle,
    action: String,
    param: Option<String>,
) -> TriggerReply {
    let name = handle.peek(|p| p.spec.name.clone());
    let (reply, answer) = tokio::sync::oneshot::channel();
    let sent = handle
        .send(Control::Trigger(Trigger {
            action: action.clone(),
            param,
            reply,
        }))
        .await;
    let result = match sent {
        Err(_) => Err(TriggerError::Removed),
        Ok(()) => match tokio::time::timeout(REPLY_TIMEOUT, answer).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(TriggerError::Dropped),
            Err(_) => Err(TriggerError::NoReply {
                action,
                timeout: REPLY_TIMEOUT,
            }),
        },
    };
    let (value, error) = match result {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    };
    TriggerReply {
        pm_id,
        name,
        value,
        error,
    }
}
