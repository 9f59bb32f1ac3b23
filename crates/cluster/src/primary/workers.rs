//! A worker's life as the primary sees it: attached, drained (optionally told to
//! disconnect), its connections held for hand-back while it retires, and detached.

use super::command::SchedPolicy;
use super::replies::Disconnect;
use super::state::{State, Worker};
use crate::handback::{self, Handback};
use crate::ipc::IpcSender;
use crate::listener::{self, ListenerKey};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use tokio::sync::oneshot;

impl State {
    /// A worker's channel is up.
    pub(super) fn attach(
        &mut self,
        worker: u32,
        app: String,
        sender: IpcSender,
        (policy, held): (SchedPolicy, bool),
    ) {
        tracing::debug!("cluster: worker {worker} of app {app} attached");
        self.workers
            .insert(worker, Worker::new(sender, policy, held));
    }

    /// A held worker is ready: it takes its share, starting with what is parked.
    pub(super) fn admit(&mut self, worker: u32) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        w.held = false;
        for key in &self.listener_keys_of(worker) {
            self.dispatch(key);
        }
    }

    /// See [`super::command::PrimaryCmd::Probe`].
    pub(super) fn probe(
        &mut self,
        worker: u32,
        port: u16,
        conn: std::os::fd::OwnedFd,
        reply: oneshot::Sender<bool>,
    ) {
        let key = self
            .tcp_ports_of(worker)
            .into_iter()
            .find(|(key, addr)| {
                addr.port() == port && self.listeners.get(key).is_some_and(|l| l.round_robin)
            })
            .map(|(key, _)| key);
        let Some(key) = key else {
            let _ = reply.send(false);
            return;
        };
        self.hand_over(worker, super::state::Conn::new(key, conn));
        let _ = reply.send(true);
    }

    /// No new connections for this worker; optionally tell it to close its servers.
    pub(super) fn drain(&mut self, worker: u32, disconnect: bool) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        w.draining = true;
        if disconnect {
            let _ = w.send(Disconnect::new());
        }
    }

    /// Answers `reply` once nothing handed to the worker awaits its verdict.
    pub(super) fn when_settled(&mut self, worker: u32, reply: oneshot::Sender<()>) {
        self.settled_waiters.entry(worker).or_default().push(reply);
        self.notify_settled(worker);
    }

    /// See [`super::command::PrimaryCmd::Hold`].
    pub(super) fn hold(&self, worker: u32, pid: i32, reply: oneshot::Sender<Option<Handback>>) {
        let ports = self.tcp_ports_of(worker);
        if ports.is_empty() {
            let _ = reply.send(None);
            return;
        }
        // Off this task: holding costs a few syscalls per socket of the worker.
        let back = self.handed_back.clone();
        tokio::task::spawn_blocking(move || {
            let held = handback::hold(pid, &ports, back)
                .inspect_err(|e| {
                    tracing::debug!("cluster: cannot hold the connections of worker pid {pid}: {e}")
                })
                .ok();
            let _ = reply.send(held);
        });
    }

    /// The listeners the worker takes part in.
    fn listener_keys_of(&self, worker: u32) -> Vec<ListenerKey> {
        self.listeners
            .iter()
            .filter(|(_, l)| l.workers.contains(&worker))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The TCP listeners the worker takes part in, with their addresses (empty for an
    /// unknown worker).
    fn tcp_ports_of(&self, worker: u32) -> Vec<(ListenerKey, SocketAddr)> {
        self.listeners
            .iter()
            .filter(|(_, l)| !l.endpoint.is_udp() && l.workers.contains(&worker))
            .filter_map(|(key, l)| Some((key.clone(), listener::ip_addr(l.fd.as_fd())?)))
            .collect()
    }

    /// The worker is gone: give its undelivered connections to others, leave its listeners.
    pub(super) fn detach(&mut self, worker: u32) {
        let Some(w) = self.workers.remove(&worker) else {
            return;
        };
        for key in &self.listener_keys_of(worker) {
            self.leave(worker, key);
        }
        for (_, conn) in w.in_flight {
            self.enqueue(conn, true);
        }
        self.notify_settled(worker);
    }
}
