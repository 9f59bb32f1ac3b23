//! The listeners of the primary: `queryServer` (find or bind the socket, answer as Node's
//! primary does) and a worker leaving a listener (the last one out closes it).

use super::accept::spawn_accept;
use super::command::{PrimaryCmd, SchedPolicy};
use super::replies::QueryServerReply;
use super::state::{Listener, State};
use crate::ipc::HandleKind;
use crate::listener::{self, Endpoint, ListenerKey};
use serde_json::Value;
use std::collections::btree_map::Entry;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Node 20's key: `address:port:addressType:fd:index`, with JS's spelling of null/undefined.
pub(super) fn node_key(msg: &Value) -> String {
    let js = |k: &str| match msg.get(k) {
        None => "undefined".to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    format!(
        "{}:{}:{}:{}:{}",
        js("address"),
        js("port"),
        js("addressType"),
        js("fd"),
        js("index")
    )
}

impl State {
    /// `queryServer`: find or bind the socket, then answer as Node's primary does.
    pub(super) fn query_server(&mut self, worker: u32, msg: &Value) {
        let Some(w) = self.workers.get(&worker) else {
            return;
        };
        let node_key = node_key(msg);
        let key = node_key.clone();
        let policy = w.policy;
        let ack = msg.get("seq").unwrap_or(&Value::Null);
        let listener = match self.listener_for(&key, msg, policy) {
            Ok(l) => l,
            Err(errno) => {
                return self.send_to(worker, QueryServerReply::failed(errno.0, &node_key, ack));
            }
        };
        if !listener.workers.contains(&worker) {
            listener.workers.push(worker);
        }
        let data = listener.data.clone();
        let fd = Arc::clone(&listener.fd);
        let round_robin = listener.round_robin;
        let kind = if listener.endpoint.is_udp() {
            HandleKind::DgramNative
        } else {
            HandleKind::NetNative
        };
        if round_robin {
            let sockname = listener::sockname(&fd);
            let reply = QueryServerReply::round_robin(&node_key, ack, &data, sockname);
            self.send_to(worker, reply);
            self.dispatch(&key);
        } else if let Some(w) = self.workers.get_mut(&worker) {
            let _ = w.send_handle(QueryServerReply::shared(&node_key, ack, &data), kind, fd);
        }
    }

    /// The listener for `key`, bound now if it does not exist yet.
    fn listener_for(
        &mut self,
        key: &ListenerKey,
        msg: &Value,
        policy: SchedPolicy,
    ) -> Result<&mut Listener, listener::Errno> {
        match self.listeners.entry(key.clone()) {
            Entry::Occupied(known) => Ok(known.into_mut()),
            Entry::Vacant(new) => Ok(new.insert(bind(key, msg, policy, &self.tx)?)),
        }
    }

    /// Removes a worker from a listener; the last one out closes it (and unlinks a unix
    /// socket path, which only the binder may do).
    pub(super) fn leave(&mut self, worker: u32, key: &ListenerKey) {
        let Some(l) = self.listeners.get_mut(key) else {
            return;
        };
        l.workers.retain(|w| *w != worker);
        if !l.workers.is_empty() {
            return self.dispatch(key);
        }
        if let Some(l) = self.listeners.remove(key) {
            if let Some(task) = l.accept {
                task.abort();
            }
            if let Endpoint::Unix(path) = &l.endpoint {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Binds what `msg` asks for; a round-robin listener gets its accept task, which feeds `tx`.
fn bind(
    key: &ListenerKey,
    msg: &Value,
    policy: SchedPolicy,
    tx: &mpsc::Sender<PrimaryCmd>,
) -> Result<Listener, listener::Errno> {
    let endpoint = Endpoint::from_query(msg)?;
    let round_robin = policy == SchedPolicy::RoundRobin && !endpoint.is_udp();
    let backlog = msg.get("backlog").and_then(Value::as_i64).unwrap_or(0) as i32;
    let fd = Arc::new(listener::open(&endpoint, round_robin, backlog)?);
    let accept = round_robin.then(|| spawn_accept(Arc::clone(&fd), key.clone(), tx.clone()));
    Ok(Listener {
        fd,
        endpoint,
        workers: Vec::new(),
        data: msg.get("data").cloned().unwrap_or(Value::Null),
        round_robin,
        accept,
        pending: VecDeque::new(),
        cursor: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_key_spells_null_and_undefined_like_js() {
        let msg = json!({"act": "queryServer", "index": 0, "data": null, "address": null,
            "port": 3000, "addressType": 4, "backlog": 0, "seq": 1});
        assert_eq!(node_key(&msg), "null:3000:4:undefined:0");
    }
}
