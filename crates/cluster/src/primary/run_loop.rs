//! The primary task's loop: one command (or one handed-back connection) at a time, and the
//! routing of a worker's `NODE_CLUSTER` messages by their `act`.

use super::command::PrimaryCmd;
use super::replies::Ack;
use super::state::{Conn, State};
use crate::handback::HandedBack;
use serde_json::Value;
use tokio::sync::mpsc;

impl State {
    /// Runs until every command sender is gone.
    pub(super) async fn run(
        mut self,
        mut commands: mpsc::Receiver<PrimaryCmd>,
        mut handed_back: mpsc::Receiver<HandedBack>,
    ) {
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => return,
                },
                Some(back) = handed_back.recv() => {
                    self.enqueue(Conn::new(back.key, back.conn), false);
                }
            }
        }
    }

    fn on_command(&mut self, cmd: PrimaryCmd) {
        match cmd {
            PrimaryCmd::Attach {
                worker,
                app,
                sender,
                policy,
                held,
            } => self.attach(worker, app, sender, (policy, held)),
            PrimaryCmd::Admit { worker } => self.admit(worker),
            PrimaryCmd::Probe {
                worker,
                port,
                conn,
                reply,
            } => self.probe(worker, port, conn, reply),
            PrimaryCmd::Message { worker, msg } => self.on_message(worker, msg),
            PrimaryCmd::Drain { worker, disconnect } => self.drain(worker, disconnect),
            PrimaryCmd::WhenSettled { worker, reply } => self.when_settled(worker, reply),
            PrimaryCmd::Hold { worker, pid, reply } => self.hold(worker, pid, reply),
            PrimaryCmd::Detach { worker } => self.detach(worker),
            PrimaryCmd::NewConn { key, conn } => self.enqueue(Conn::new(key, conn), false),
        }
    }

    fn on_message(&mut self, worker: u32, msg: Value) {
        match msg.get("act").and_then(Value::as_str) {
            Some("queryServer") => self.query_server(worker, &msg),
            Some("close") => {
                if let Some(key) = msg.get("key").and_then(Value::as_str) {
                    self.leave(worker, &key.to_string());
                }
            }
            Some("exitedAfterDisconnect") => {
                let ack = msg.get("seq").unwrap_or(&Value::Null);
                self.send_to(worker, Ack::new(ack));
            }
            Some(_) => {}
            None => {
                if let Some(ack) = msg.get("ack").and_then(Value::as_u64) {
                    let accepted = msg
                        .get("accepted")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    self.verdict(worker, ack, accepted);
                }
            }
        }
    }
}
