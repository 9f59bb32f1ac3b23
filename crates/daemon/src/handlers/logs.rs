//! `logs` streaming, `flush` and `reloadLogs`.

use crate::logs::daemon_log;
use crate::logs::hub::{Delivery, Filter, LogEvent, LogKind};
use crate::registry::UnknownTarget;
use crate::socket::framing::{send, send_half};
use crate::state::Daemon;
use pm2_proto::{
    FlushRequest, InstanceOutcome, LogChunk, LogChunkKind, LogsRequest, Response, Target,
};
use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;

fn chunk(e: &LogEvent) -> LogChunk {
    LogChunk {
        pm_id: e.pm_id,
        name: e.name.to_string(),
        kind: match e.kind {
            LogKind::Out => LogChunkKind::Out,
            LogKind::Err => LogChunkKind::Err,
            LogKind::Pm2 => LogChunkKind::Pm2,
            LogKind::Event => LogChunkKind::Event,
            LogKind::Message => LogChunkKind::Message,
        },
        at: e.at,
        data: String::from_utf8_lossy(&e.data).into_owned(),
        exit: e.exit.clone(),
    }
}

/// Validates the targets: a name must exist now, so typos are reported.
fn check_targets(daemon: &Daemon, targets: &[Target]) -> Result<(), UnknownTarget> {
    if targets.iter().all(|t| *t == Target::All) {
        return Ok(());
    }
    daemon.registry().resolve(targets).map(|_| ())
}

/// Streams matching chunks to `stream` until the client hangs up. Where a reader that fell
/// behind missed chunks, it is sent `LogsMissed` with their line count, in place.
pub(crate) async fn stream(
    daemon: &Daemon,
    req: LogsRequest,
    stream: &mut UnixStream,
) -> std::io::Result<()> {
    if let Err(unknown) = check_targets(daemon, &req.targets) {
        let message = unknown.to_string();
        return send(stream, daemon, Response::Error { message }).await;
    }
    let mut sub = daemon.hub.subscribe(Filter {
        targets: req.targets,
        daemon: req.daemon,
    });
    let (mut reader, mut writer) = stream.split();
    let mut probe = [0u8; 64];
    loop {
        tokio::select! {
            delivery = sub.recv() => {
                let response = match delivery {
                    None => return Ok(()),
                    Some(Delivery::Event(event)) => Response::Log(chunk(&event)),
                    Some(Delivery::Gap { lines }) => Response::LogsMissed { lines },
                };
                send_half(&mut writer, daemon, response).await?;
            }
            read = reader.read(&mut probe) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return Ok(());
                }
            }
        }
    }
}

/// Truncates the targets' files (and `pm2.log` when no target is given).
pub(crate) fn flush(daemon: &Daemon, req: FlushRequest) -> Response {
    let registry = daemon.registry();
    let ids = if req.targets.is_empty() {
        registry.snapshot().iter().map(|p| p.pm_id).collect()
    } else {
        match registry.resolve(&req.targets) {
            Ok(ids) => ids,
            Err(e) => {
                return Response::Error {
                    message: e.to_string(),
                }
            }
        }
    };
    let mut outcomes = Vec::new();
    for id in ids {
        let Some(handle) = registry.get(id) else {
            continue;
        };
        let errors: Vec<String> = handle
            .logs()
            .sinks()
            .iter()
            .filter_map(|s| s.truncate().err().map(|e| format!("{}: {e}", s.path())))
            .collect();
        outcomes.push(InstanceOutcome {
            pm_id: id,
            name: handle.info().spec.name,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        });
    }
    if req.targets.is_empty() {
        daemon_log::truncate(&daemon.settings.home.daemon_log());
    }
    Response::Outcomes { outcomes }
}

/// Reopens every log file (after an external rotation).
pub(crate) fn reload(daemon: &Daemon) -> Response {
    let registry = daemon.registry();
    let mut outcomes = Vec::new();
    for p in registry.snapshot() {
        let Some(handle) = registry.get(p.pm_id) else {
            continue;
        };
        let errors: Vec<String> = handle
            .logs()
            .sinks()
            .iter()
            .filter_map(|s| s.reopen().err().map(|e| format!("{}: {e}", s.path())))
            .collect();
        outcomes.push(InstanceOutcome {
            pm_id: p.pm_id,
            name: p.spec.name,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        });
    }
    daemon_log::reopen();
    tracing::info!("Reloading logs...");
    Response::Outcomes { outcomes }
}
