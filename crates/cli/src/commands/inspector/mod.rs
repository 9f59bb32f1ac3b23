//! `pm2 inspect`, `profile:cpu`, `profile:mem`: a running Node app's own inspector, opened
//! with SIGUSR1 through the daemon's `sendSignal` path (no restart, no code run in the
//! app), found in the app's sockets and spoken to by `pm2-inspector`. PM2 7's `inspect`
//! does nothing useful and its `profile:*` profile its own Node daemon; pm2-rs's daemon
//! is not Node, so these profile the app (docs/MIGRATION.md).

mod failure;
mod open;
mod profile;
mod select;

use crate::args::inspector::InspectorCommand;
use anyhow::Result;
use pm2_home::Pm2Home;
use pm2_inspector::Kind;

/// Runs one of them; returns the exit code.
pub(crate) fn run(home: &Pm2Home, command: InspectorCommand) -> Result<i32> {
    match command {
        InspectorCommand::Inspect(a) => open::inspect(home, &a.target),
        InspectorCommand::ProfileCpu(a) => {
            profile::profile(home, Kind::Cpu, a.target.as_deref(), a.time.as_deref())
        }
        InspectorCommand::ProfileMem(a) => {
            profile::profile(home, Kind::Heap, a.target.as_deref(), a.time.as_deref())
        }
    }
}
