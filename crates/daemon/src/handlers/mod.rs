//! Request handlers, one file per request family.

mod action;
mod apply;
mod emit;
mod interact;
mod list;
mod logs;
mod order;
mod recover;
mod scale;
mod start;
mod start_limits;
mod trigger;

use crate::persist::{dump, state_file};
use crate::state::Daemon;
use pm2_proto::{Request, Response};

pub(crate) use action::stop_everything;
pub(crate) use logs::stream as stream_logs;
pub(crate) use recover::start_in_layers as start_apps_in_order;
pub(crate) use start::start as start_apps;

/// Reopens every log file (SIGUSR2).
pub(crate) fn reload_logs(daemon: &Daemon) {
    logs::reload(daemon);
}

/// Routes a request; the flag asks the connection to shut the daemon down after replying.
pub(crate) async fn dispatch(daemon: &Daemon, request: Request) -> (Response, bool) {
    let mutates = matches!(
        request,
        Request::Start(_) | Request::Action(_) | Request::Apply(_) | Request::Scale(_)
    );
    let response = match request {
        Request::Ping => Response::Pong {
            version: daemon.settings.version.clone(),
            pid: std::process::id(),
        },
        Request::List => list::list(daemon, true),
        Request::Summary => list::list(daemon, false),
        Request::Table { kept } => list::table(daemon, kept),
        Request::Readings(req) => list::readings(daemon, &req),
        Request::Resolve(req) => list::resolve(daemon, &req.targets),
        Request::Start(req) => start::start(daemon, req).await,
        Request::Action(req) => action::apply(daemon, req).await,
        Request::Signal(req) => action::signal(daemon, req).await,
        Request::Flush(req) => logs::flush(daemon, req),
        Request::Scale(req) => scale::scale(daemon, req).await,
        Request::Apply(req) => apply::apply(daemon, req).await,
        Request::Trigger(req) => trigger::trigger(daemon, req).await,
        Request::Save { force, to } => dump::save(daemon, force, to),
        Request::SendLine(req) => interact::send_line(daemon, req).await,
        Request::Monitor(req) => interact::monitor(daemon, req).await,
        Request::Emit(req) => emit::emit(daemon, req),
        Request::ReloadLogs => logs::reload(daemon),
        Request::ReloadModuleConf => {
            daemon.config_changed.notify_one();
            Response::Outcomes { outcomes: vec![] }
        }
        Request::Logs(_) => Response::Error {
            message: "logs is a streaming request".into(),
        },
        Request::Kill => {
            let outcomes = action::delete_all(daemon).await;
            tracing::info!("[PM2] Exited peacefully");
            return (Response::Outcomes { outcomes }, true);
        }
    };
    if mutates {
        state_file::record_changes(daemon);
    }
    daemon
        .trim_due
        .store(true, std::sync::atomic::Ordering::Relaxed);
    (response, false)
}
