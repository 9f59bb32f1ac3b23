//! PM2's Node API: the two unix sockets that `require('pm2')`, PM2's npm modules and
//! dashboards talk to (`rpc.sock`: axon-rpc requests; `pub.sock`: the event bus), so they
//! find this daemon instead of spawning PM2's own Node daemon beside it. The wire format is
//! `pm2-axon`'s; the study of what PM2 7 does is `../shared/docs/pm2-node-api.md`.
//!
//! - [`bind`]: both sockets, bound before the daemon answers anything; [`accept`]: the
//!   accept loop they share;
//! - [`rpc`]: the accept loop and each connection (requests served concurrently, replies in
//!   completion order, bounded in flight);
//! - [`calls`]: each method, mapped onto the daemon's own requests;
//! - [`shapes`]: PM2's reply objects;
//! - [`publisher`]: the bus every event is published on; [`bus`]: `pub.sock`'s
//!   subscribers and the relay from the log hub.
//! - [`controls`]: signals, reset, monitor, stdin, duplicate, logs, report;
//! - [`messages`]: the methods that message apps over IPC; [`prepare`]: starting an app
//!   from the conf the npm client resolved.

mod accept;
mod bind;
mod bus;
mod calls;
mod controls;
mod messages;
mod prepare;
pub(crate) mod publisher;
mod rpc;
mod shapes;

pub(crate) use bind::{bind, socket_mode, NodeApiSockets};

use crate::state::Daemon;
use std::sync::Arc;

/// Serves both sockets until the daemon exits.
pub(crate) async fn serve(sockets: NodeApiSockets, daemon: Arc<Daemon>) {
    let relay = bus::relay_from_hub(Arc::clone(&daemon));
    let rpc = rpc::accept_loop(sockets.rpc, Arc::clone(&daemon));
    let subscribers = bus::accept_loop(sockets.bus, Arc::clone(&daemon));
    tokio::join!(relay, rpc, subscribers);
}
