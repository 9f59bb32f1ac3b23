//! The bridge to `@pm2/io` inside the app: custom metrics, actions it registers, what it
//! says of itself (`axm_options`), and the replies to `pm2 trigger` (PM2's `axm:*`
//! messages over the IPC channel).

use super::control::Trigger;
use super::failure::TriggerError;
use crate::worker_channel::{WorkerEvent, WorkerLink};
use pm2_proto::ProcessInfo;
use serde_json::Value;
use tokio::sync::oneshot;

/// Triggers sent to the app and waiting for its `axm:reply`, by action name.
#[derive(Default)]
pub(super) struct AxmBridge {
    pending: Vec<(String, oneshot::Sender<Result<Value, TriggerError>>)>,
}

impl AxmBridge {
    /// PM2 clears an app's actions and metrics when its process exits; pending triggers
    /// will get no reply.
    pub(super) fn forget(&mut self, info: &mut ProcessInfo) {
        info.axm_actions.clear();
        info.axm_monitor.clear();
        for (action, reply) in self.pending.drain(..) {
            let _ = reply.send(Err(TriggerError::ExitedBeforeAnswer { action }));
        }
    }

    /// Sends an action to the app (PM2's `msgProcess`): the bare name, or `{msg, opts}`
    /// with a parameter. The reply arrives later as `axm:reply`.
    pub(super) fn ask(
        &mut self,
        info: &ProcessInfo,
        link: Option<&WorkerLink>,
        t: Trigger,
        label: &str,
    ) {
        let known = info
            .axm_actions
            .iter()
            .any(|a| a.get("action_name").and_then(|n| n.as_str()) == Some(t.action.as_str()));
        let (true, Some(link)) = (known, link) else {
            let _ = t.reply.send(Err(TriggerError::NotFound {
                action: t.action,
                label: label.to_string(),
            }));
            return;
        };
        let msg = match &t.param {
            Some(p) => serde_json::json!({"msg": t.action, "opts": p}),
            None => serde_json::json!(t.action),
        };
        if let Err(e) = link.sender.send(msg) {
            let _ = t.reply.send(Err(TriggerError::Unreachable {
                label: label.to_string(),
                detail: format!("{e:?}"),
            }));
            return;
        }
        self.pending.push((t.action, t.reply));
    }

    /// Takes in a metric, an action or a reply the app reported; true when `info` changed
    /// (and so must be published).
    pub(super) fn on_message(&mut self, info: &mut ProcessInfo, ev: WorkerEvent) -> bool {
        match ev {
            WorkerEvent::Metrics(Value::Object(m)) => {
                info.axm_monitor.extend(m);
                true
            }
            WorkerEvent::Action(a) => {
                let name = a.get("action_name").cloned();
                let known = info
                    .axm_actions
                    .iter()
                    .any(|x| x.get("action_name") == name.as_ref());
                let new = name.is_some() && !known;
                if new {
                    info.axm_actions.push(a);
                }
                new
            }
            WorkerEvent::Reply(r) => {
                self.answer(r);
                false
            }
            WorkerEvent::Options(Value::Object(o)) => {
                take_options(info, o);
                true
            }
            _ => false,
        }
    }

    /// Hands an `axm:reply` to the trigger waiting for it.
    fn answer(&mut self, r: Value) {
        let name = r
            .get("action_name")
            .and_then(|n| n.as_str())
            .map(String::from);
        if let Some(i) = self
            .pending
            .iter()
            .position(|(a, _)| Some(a) == name.as_ref())
        {
            let (_, reply) = self.pending.swap_remove(i);
            let _ = reply.send(Ok(r.get("return").cloned().unwrap_or(r)));
        }
    }
}

/// PM2's `axm:option:configuration`: each key replaces the one the app sent before, and a
/// `name` renames the app (PM2's "application name override").
fn take_options(info: &mut ProcessInfo, options: serde_json::Map<String, Value>) {
    if let Some(name) = options.get("name").and_then(Value::as_str) {
        if !name.is_empty() {
            info.spec.name = name.to_string();
        }
    }
    info.axm_options.extend(options);
}

/// Whether a worker event belongs to the axm bridge (and not to the lifecycle).
pub(super) fn is_axm(ev: &WorkerEvent) -> bool {
    matches!(
        ev,
        WorkerEvent::Metrics(_)
            | WorkerEvent::Action(_)
            | WorkerEvent::Reply(_)
            | WorkerEvent::Options(_)
    )
}
