//! The methods that send a message to apps over their IPC channel: `sendDataToProcessId`
//! (a packet, as is, to one process; the app's answer comes back on the bus) and
//! `msgProcess` (an action an app registered, as `pm2 trigger` runs it; its `axm:reply`
//! comes back on the bus), with PM2's checks and words.

use crate::instance::Control;
use crate::state::Daemon;
use pm2_proto::ProcessInfo;
use serde_json::{json, Value};
use std::path::Path;

/// Sends `message` to instance `id`; the error is PM2's sentence for why not.
async fn send(daemon: &Daemon, id: u32, message: Value) -> Result<(), String> {
    let Some(handle) = daemon.registry().get(id) else {
        return Err(format!("Process with ID {id} unknown."));
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    handle
        .send(Control::Message(message, reply))
        .await
        .map_err(|_| format!("Process with ID {id} unknown."))?;
    match answer.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) if why == "offline" => Err(format!("Process with ID {id} offline.")),
        Ok(Err(why)) => Err(format!("Process with ID {id}: {why}")),
        Err(_) => Err(format!("Process with ID {id} unknown.")),
    }
}

/// `sendDataToProcessId {id, topic, data, …}` → `{success: true, data: <packet>}`.
pub(crate) async fn send_data(daemon: &Daemon, packet: &Value) -> Result<Value, String> {
    let id = packet.get("id").and_then(super::shapes::id_of);
    let (Some(id), Some(_), Some(_)) = (id, packet.get("data"), packet.get("topic")) else {
        return Err("ID, DATA or TOPIC field is missing".into());
    };
    send(daemon, id, packet.clone()).await?;
    Ok(json!({"success": true, "data": packet}))
}

/// `msgProcess {id | name, msg, opts?, uuid?}` → `{process_count, success: true}`: the
/// action goes to every selected process that registered it.
pub(crate) async fn msg_process(daemon: &Daemon, arg: &Value) -> Result<Value, String> {
    let action = arg
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let selected = selected(daemon, arg);
    let with_action: Vec<&ProcessInfo> = selected
        .iter()
        .filter(|p| {
            p.axm_actions
                .iter()
                .any(|a| a.get("action_name").and_then(Value::as_str) == Some(&action))
        })
        .collect();
    if with_action.is_empty() {
        let who = arg
            .get("name")
            .or(arg.get("id"))
            .map_or("undefined".into(), show);
        return Err(format!("Action doesn't exist {action} for {who}"));
    }
    // With options or a uuid the app gets the whole request (PM2's scoped actions).
    let message = if arg.get("opts").is_some() || arg.get("uuid").is_some() {
        arg.clone()
    } else {
        json!(action)
    };
    let mut count = 0;
    for p in with_action {
        if !p.status.is_running() {
            return Err(format!("{} : id offline", p.pm_id));
        }
        send(daemon, p.pm_id, message.clone()).await?;
        count += 1;
    }
    Ok(json!({"process_count": count, "success": true}))
}

/// The processes an `{id}` or `{name}` selects: a name matches the app's name, namespace or
/// script file name, and `all` every process.
fn selected(daemon: &Daemon, arg: &Value) -> Vec<ProcessInfo> {
    let all = daemon.registry().snapshot();
    if let Some(id) = arg.get("id").and_then(super::shapes::id_of) {
        return all.into_iter().filter(|p| p.pm_id == id).collect();
    }
    let Some(name) = arg.get("name").and_then(Value::as_str) else {
        return vec![];
    };
    all.into_iter()
        .filter(|p| {
            let file = Path::new(&p.spec.script)
                .file_name()
                .and_then(|f| f.to_str());
            name == "all" || p.spec.name == name || p.spec.namespace == name || file == Some(name)
        })
        .collect()
}

fn show(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}
