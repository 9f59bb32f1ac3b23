//! The commands that reach a Node app through its inspector: `inspect`, `profile:cpu`,
//! `profile:mem`. Declared apart from [`super::Command`] (which flattens them in) so the
//! family stays in one place.

use clap::{Args, Subcommand};

/// A Node app's inspector (flattened into `pm2 <command>`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum InspectorCommand {
    /// Open a running Node app's inspector (SIGUSR1: no restart, no code run in the app)
    /// and print its websocket and DevTools URLs, one per instance.
    Inspect(InspectArgs),
    /// Record a CPU profile of a Node app over its inspector, written as
    /// `<name>-<id>-<day>-<HH:mm:ss>.cpuprofile` in the current folder.
    #[command(name = "profile:cpu")]
    ProfileCpu(ProfileArgs),
    /// Record a sampling heap profile of a Node app over its inspector, written as
    /// `<name>-<id>-<day>-<HH:mm:ss>.heapprofile` in the current folder.
    #[command(name = "profile:mem")]
    ProfileMem(ProfileArgs),
}

#[doc = concat!("`inspect <app|id>`.")]
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// id, name, namespace or script of the app (every instance of a cluster app).
    #[arg(value_name = "APP|ID")]
    pub target: String,
}

#[doc = concat!("`profile:cpu|profile:mem <app|id> [time]`.")]
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// id, name, namespace or script of the app (PM2 7 profiled its own daemon, which in
    /// pm2-rs is not Node: an app is required).
    #[arg(value_name = "APP|ID")]
    pub target: Option<String>,
    /// How long to profile, in milliseconds (default 10000, as PM2).
    #[arg(value_name = "TIME")]
    pub time: Option<String>,
}
