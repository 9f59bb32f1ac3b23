//! `pm2 send <pm_id> <line>` and `pm2 attach <pm_id> [separator]`: an app's stdin.

use super::super::connection::{connect, expect};
use super::super::views::print_table;
use crate::client::Client;
use crate::out;
use anyhow::{bail, Result};
use pm2_home::Pm2Home;
use pm2_proto::{LogChunkKind, LogsRequest, Request, Response, SendLineRequest, Target};
use std::io::{BufRead, Write};

/// `pm2 send`: writes `line` and a newline to the app's stdin, then prints the table (as
/// PM2 does). An unknown id, a stopped app or a full pipe: PM2's error line, exit 1.
pub(super) fn send(home: &Pm2Home, pm_id: &str, line: &str) -> Result<i32> {
    let mut client = connect(home)?;
    match send_line(&mut client, pm_id, format!("{line}\n"))? {
        Ok(()) => {
            print_table(&mut client)?;
            Ok(0)
        }
        Err(message) => {
            out::error(&format!("Error: {message}"));
            Ok(1)
        }
    }
}

/// Sends one line; the inner error is the daemon's refusal, worded for the user.
fn send_line(
    client: &mut Client,
    pm_id: &str,
    line: String,
) -> Result<std::result::Result<(), String>> {
    let Ok(pm_id) = pm_id.parse::<u32>() else {
        return Ok(Err(format!("Process with ID <{pm_id}> unknown.")));
    };
    match client.request(Request::SendLine(SendLineRequest { pm_id, line }))? {
        Response::Error { message } => Ok(Err(message)),
        _ => Ok(Ok(())),
    }
}

/// `pm2 attach`: prints the app's stdout and stderr as they come (raw, as PM2 does) and
/// sends each line read from stdin, ended by `separator` (default `\n`). Ends with 0 when
/// stdin ends. A name instead of an id, or an id that matches no app, exits 1 at once.
pub(super) fn attach(home: &Pm2Home, pm_id: &str, separator: Option<&str>) -> Result<i32> {
    let Ok(id) = pm_id.parse::<u32>() else {
        eprintln!("pm_id must be a process number (not a process name)");
        return Ok(1);
    };
    let mut client = connect(home)?;
    let targets = vec![Target::Id(id)];
    let request = Request::Resolve(pm2_proto::ResolveRequest {
        targets: targets.clone(),
    });
    if expect(&mut client, request).is_err() {
        out::error(&format!("Error: Process with ID <{id}> unknown."));
        return Ok(1);
    }
    let mut stream = connect(home)?;
    stream.send(Request::Logs(LogsRequest {
        targets,
        daemon: false,
    }))?;
    std::thread::spawn(move || forward_output(stream, id));
    let separator = separator.unwrap_or("\n");
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if let Err(message) = send_line(&mut client, pm_id, format!("{line}{separator}"))? {
            out::error(&format!("Error: {message}"));
        }
    }
    Ok(0)
}

/// Copies the app's output chunks to stdout until the daemon hangs up.
fn forward_output(mut stream: Client, pm_id: u32) -> Result<()> {
    loop {
        let Some(response) = stream.next_frame()? else {
            return Ok(());
        };
        match response {
            Response::Log(chunk)
                if chunk.pm_id == Some(pm_id)
                    && matches!(chunk.kind, LogChunkKind::Out | LogChunkKind::Err) =>
            {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(chunk.data.as_bytes())?;
                stdout.flush()?;
            }
            Response::Error { message } => bail!("{message}"),
            _ => {}
        }
    }
}
