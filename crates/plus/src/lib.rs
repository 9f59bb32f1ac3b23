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
//! `events` (SSE: the table every second, an app's logs), `readings` (the per-second
//! table read: kept readings unless a live chart or an alert needs fresh ones),
//! `live_charts` (the apps whose live chart a browser polls), `metrics` (Prometheus),
//! `actions` (start/stop/... with the `audit` log), `assets` (the embedded page, the
//! vendored uPlot that draws its charts, and the OpenAPI file, with their cache headers),
//! `hash` (FNV-1a for stable ids and ETags), `body` and `reply` (HTTP plumbing), `log` (the app's own lines),
//! `issues` (the inbox of crashes and reported exceptions, and its collector),
//! `issues_api` (its endpoints and the alerts'), `alerts` (webhooks: rules, engine,
//! delivery, the HTTP client), `history` (the charts' data: recorded every second into
//! SQLite, rolled up into three tiers, served by `GET /api/history`), `tls` (HTTPS with
//! `pm2-plus:tls_cert|tls_key`, and the client connector of `https://` webhooks).

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
mod hash;
mod history;
mod issues;
mod issues_api;
pub mod link;
mod live_charts;
mod log;
mod login;
mod metrics;
mod overview;
mod readings;
mod reply;
mod routes;
mod server;
mod settings;
mod state;
mod table;
pub mod tls;

use std::ffi::OsString;

/// Whether `argv` is `pm2 __plus`, the app `pm2 plus` starts.
pub fn wants(argv: &[OsString]) -> bool {
    argv.get(1).is_some_and(|a| a == pm2_home::plus::MODE_ARG)
}

/// The argument after [`pm2_home::plus::MODE_ARG`] that only checks the settings.
pub const CHECK_ARG: &str = "--check";

/// Runs the dashboard until it is stopped; returns the exit code (1 when the settings are
/// invalid or unsafe, or the address cannot be bound). `pm2 __plus --check` only loads
/// the settings, certificate and key and webhook CA included, and exits 0 or 1 with the
/// error: how `pm2 plus` refuses bad TLS files before it starts anything, without the CLI
/// linking a TLS library.
pub fn main() -> i32 {
    let check = std::env::args_os().nth(2).is_some_and(|a| a == CHECK_ARG);
    match settings::Settings::load(pm2_home::Pm2Home::from_env()) {
        Ok(settings) if check => match settings.tls.webhook_ca.as_ref() {
            Some(ca) => match tls::client::connector(Some(ca)) {
                Ok(_) => 0,
                Err(e) => log::fatal(&e),
            },
            None => 0,
        },
        Ok(settings) => server::run(settings),
        Err(e) => log::fatal(&e),
    }
}
