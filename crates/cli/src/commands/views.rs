//! Read-only commands: list, jlist, prettylist, describe, env, pid, id, ping.

use super::connection::{connect, expect};
use crate::client::Client;
use crate::{out, render};
use anyhow::{bail, Result};
use pm2_home::now_ms;
use pm2_home::Pm2Home;
use pm2_proto::{pm2json, ProcessInfo, Request, ResolveRequest, Response, Target};
use std::io::Write;

/// Connects without the `[PM2] Spawning...` lines, for machine-read output.
fn connect_quiet(home: &Pm2Home) -> Result<Client> {
    crate::client::connect(home, true)
}

/// Every instance, sorted by id.
pub(crate) fn fetch_list(client: &mut Client) -> Result<Vec<ProcessInfo>> {
    match expect(client, Request::List)? {
        Response::List { processes } => Ok(processes),
        other => bail!("unexpected reply to list: {other:?}"),
    }
}

/// Prints PM2's table after a command, asking the daemon for its columns only, with the
/// readings it has (only what the command started or restarted is read now).
pub(crate) fn print_table(client: &mut Client) -> Result<()> {
    table(client, true)
}

/// Prints PM2's table with every reading as of now (`list`, `report`).
pub(crate) fn print_table_now(client: &mut Client) -> Result<()> {
    table(client, false)
}

fn table(client: &mut Client, kept: bool) -> Result<()> {
    let rows = match expect(client, Request::Table { kept })? {
        Response::Table { rows } => rows,
        other => bail!("unexpected reply to table: {other:?}"),
    };
    let table = render::rows_table(&rows, now_ms(), out::color());
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(table.as_bytes())?;
    if !table.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}

fn resolve(client: &mut Client, target: Target) -> Result<Vec<u32>> {
    let targets = vec![target];
    match expect(client, Request::Resolve(ResolveRequest { targets }))? {
        Response::Ids { ids } => Ok(ids),
        other => bail!("unexpected reply to resolve: {other:?}"),
    }
}

/// The instances a target names, or an error naming the target.
pub(crate) fn select(client: &mut Client, target: Target) -> Result<Vec<ProcessInfo>> {
    let ids = resolve(client, target)?;
    Ok(fetch_list(client)?
        .into_iter()
        .filter(|p| ids.contains(&p.pm_id))
        .collect())
}

pub(crate) fn list(home: &Pm2Home) -> Result<i32> {
    print_table_now(&mut connect(home)?)?;
    Ok(0)
}

pub(crate) fn jlist(home: &Pm2Home) -> Result<i32> {
    let processes = fetch_list(&mut connect_quiet(home)?)?;
    // Written into one buffer from the instances (each shared environment encoded once)
    // and then at once: through `Display`, stdout's line buffer took every token.
    let mut bytes = Vec::with_capacity(64 * 1024);
    pm2json::write_jlist(&processes, &mut bytes);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&bytes)?;
    stdout.flush()?;
    Ok(0)
}

pub(crate) fn prettylist(home: &Pm2Home) -> Result<i32> {
    let processes = fetch_list(&mut connect_quiet(home)?)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{}",
        render::prettylist(&pm2json::jlist(&processes))
    )?;
    Ok(0)
}

pub(crate) fn describe(home: &Pm2Home, target: &str) -> Result<i32> {
    let mut client = connect(home)?;
    let mut stdout = std::io::stdout().lock();
    let target = super::words::targets(&[target.to_string()])?.remove(0);
    for p in select(&mut client, target)? {
        write!(stdout, "{}", render::describe(&p, now_ms(), out::color()))?;
    }
    Ok(0)
}

pub(crate) fn env(home: &Pm2Home, target: &str) -> Result<i32> {
    let mut client = connect(home)?;
    let mut stdout = std::io::stdout().lock();
    for p in select(&mut client, Target::parse(target))? {
        write!(stdout, "{}", render::env_listing(&p))?;
    }
    Ok(0)
}

pub(crate) fn pid(home: &Pm2Home, target: Option<&str>) -> Result<i32> {
    let mut client = connect_quiet(home)?;
    let processes = match target {
        Some(t) => select(&mut client, Target::parse(t))?,
        None => fetch_list(&mut client)?,
    };
    let mut stdout = std::io::stdout().lock();
    for p in processes {
        let pid = p.pid.filter(|_| p.status.is_running()).unwrap_or(0);
        writeln!(stdout, "{pid}")?;
    }
    Ok(0)
}

pub(crate) fn id(home: &Pm2Home, target: &str) -> Result<i32> {
    let mut client = connect_quiet(home)?;
    let ids: Vec<u32> = fetch_list(&mut client)?
        .into_iter()
        .filter(|p| p.spec.name == target)
        .map(|p| p.pm_id)
        .collect();
    let inner: Vec<String> = ids.iter().map(u32::to_string).collect();
    if inner.is_empty() {
        out::line("[]")?;
    } else {
        out::line(&format!("[ {} ]", inner.join(", ")))?;
    }
    Ok(0)
}

pub(crate) fn ping(home: &Pm2Home) -> Result<i32> {
    let mut client = connect(home)?;
    expect(&mut client, Request::Ping)?;
    out::line("{ msg: 'pong' }")?;
    Ok(0)
}
