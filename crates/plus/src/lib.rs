//! The self-hosted PM2 Plus dashboard. The pm2 binary runs it as an ordinary app
//! (`pm2 __plus`, started by `pm2 plus` under the name `pm2-plus`), so the daemon
//! supervises it like any other process: it shows in `pm2 list`, a crash restarts it, and
//! a fault in it never reaches the daemon or the apps. It talks to the daemon over
//! `daemon.sock` as the CLI does; neither the CLI nor the daemon links its code into their
//! paths: only `src/main.rs` calls [`main`].
//!
//! One job per file: `settings` (where to listen, refused when unsafe), `secrets` (the
//! files `pm2 plus` writes), `auth` (sessions, the API token, CSRF), `daemon` (the client
//! of `daemon.sock`), `server` (listener and connections), `routes` (URL → handler),
//! `api` (the JSON endpoints), `table` (the process rows), `overview` (the host),
//! `events` (SSE: the table every second, an app's logs), `metrics` (Prometheus),
//! `actions` (start/stop/... with the `audit` log), `assets` (the embedded page and
//! OpenAPI file), `body` and `reply` (HTTP plumbing), `log` (the app's own lines),
//! `issues` (the inbox of crashes and reported exceptions, and its collector),
//! `issues_api` (its endpoints and the alerts'), `alerts` (webhooks: rules, engine,
//! delivery, the HTTP client), `history` (the charts' data: recorded every second into
//! SQLite, rolled up into three tiers, served by `GET /api/history`).

mod actions;
mod alerts;
mod api;
mod assets;
mod audit;
mod auth;
mod body;
mod daemon;
mod events;
mod fleet;
mod history;
mod issues;
mod issues_api;
pub mod link;
mod log;
mod login;
mod metrics;
mod overview;
mod reply;
mod routes;
mod server;
mod settings;
mod state;
mod table;

use std::ffi::OsString;

/// Whether `argv` is `pm2 __plus`, the app `pm2 plus` starts.
pub fn wants(argv: &[OsString]) -> bool {
    argv.get(1).is_some_and(|a| a == pm2_home::plus::MODE_ARG)
}

/// Runs the dashboard until it is stopped; returns the exit code (1 when the settings are
/// invalid or unsafe, or the address cannot be bound).
pub fn main() -> i32 {
    match settings::Settings::load(pm2_home::Pm2Home::from_env()) {
        Ok(settings) => server::run(settings),
        Err(e) => log::fatal(&e),
    }
}
