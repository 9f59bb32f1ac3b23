//! Round-robin dispatch: parking accepted connections, handing each to the least busy live
//! worker, and the worker's `accepted` verdict (a refused connection goes to the front, P8).

use super::replies::NewConn;
use super::state::{Conn, State, MAX_PENDING, MAX_REFUSALS, WINDOW};
use crate::ipc::HandleKind;
use crate::listener::ListenerKey;
use std::sync::Arc;

impl State {
    /// Parks or hands over a connection (front of the queue for a refused one, P8).
    pub(super) fn enqueue(&mut self, conn: Conn, front: bool) {
        let key = conn.key.clone();
        let Some(l) = self.listeners.get_mut(&key) else {
            return;
        };
        if l.pending.len() >= MAX_PENDING {
            tracing::warn!("cluster: too many pending connections on {key}, closing one");
            return;
        }
        if front {
            l.pending.push_front(conn);
        } else {
            l.pending.push_back(conn);
        }
        self.dispatch(&key);
    }

    /// Hands parked connections to the least busy live worker, round-robin among equals.
    pub(super) fn dispatch(&mut self, key: &ListenerKey) {
        loop {
            let Some(l) = self.listeners.get_mut(key) else {
                return;
            };
            if l.pending.is_empty() {
                return;
            }
            let n = l.workers.len();
            let workers = &self.workers;
            let candidate = (0..n)
                .map(|i| l.workers[(l.cursor + i) % n])
                .filter_map(|id| workers.get(&id).map(|w| (id, w)))
                .filter(|(_, w)| {
                    !w.draining && !w.held && w.sender.is_open() && w.in_flight.len() < WINDOW
                })
                .min_by_key(|(_, w)| w.in_flight.len())
                .map(|(id, _)| id);
            let Some(worker) = candidate else {
                return;
            };
            l.cursor = (l.workers.iter().position(|w| *w == worker).unwrap_or(0) + 1) % n.max(1);
            let Some(conn) = l.pending.pop_front() else {
                return;
            };
            self.hand_over(worker, conn);
        }
    }

    /// Sends `newconn` with the connection; a worker whose channel refuses it is drained and
    /// the connection goes back to the front of the queue.
    pub(super) fn hand_over(&mut self, worker: u32, conn: Conn) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        let sent = w.send_handle(
            NewConn::new(&conn.key),
            HandleKind::NetNative,
            Arc::clone(&conn.fd),
        );
        match sent {
            Ok(seq) => {
                w.in_flight.insert(seq, conn);
            }
            Err(_) => {
                w.draining = true;
                self.enqueue(conn, true);
            }
        }
    }

    /// Fires the settled waiters of a worker that has nothing in flight (or is gone).
    pub(super) fn notify_settled(&mut self, worker: u32) {
        let busy = self
            .workers
            .get(&worker)
            .is_some_and(|w| !w.in_flight.is_empty());
        if !busy {
            for reply in self.settled_waiters.remove(&worker).unwrap_or_default() {
                let _ = reply.send(());
            }
        }
    }

    /// A worker's `accepted` reply to `newconn`.
    pub(super) fn verdict(&mut self, worker: u32, ack: u64, accepted: bool) {
        let Some(conn) = self
            .workers
            .get_mut(&worker)
            .and_then(|w| w.in_flight.remove(&ack))
        else {
            return;
        };
        let key = conn.key.clone();
        if !accepted {
            let mut conn = conn;
            conn.refusals += 1;
            if conn.refusals < MAX_REFUSALS {
                self.enqueue(conn, true);
            }
        }
        self.notify_settled(worker);
        self.dispatch(&key);
    }
}
