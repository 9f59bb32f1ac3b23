//! `pm2 pull <app> [commit]`, `pm2 forward <app>`, `pm2 backward <app>`: move the app's git
//! work tree (PM2's vizion, through `pm2_home::git`: git as a subprocess with deadlines),
//! then reload the app. The folder is the `repo_path` the daemon recorded in
//! `pm2_env.versioning` (`PM2_ENABLE_GIT_PARSING=true`).

use super::actions::report;
use super::connection::{connect, expect};
use crate::client::Client;
use crate::out;
use anyhow::{bail, Result};
use pm2_home::git::{self, Moved, Step};
use pm2_home::Pm2Home;
use pm2_proto::{Action, ActionRequest, ProcessInfo, Request, Response, Target};
use std::path::PathBuf;

/// Which move.
#[derive(Debug, Clone)]
pub(crate) enum Move {
    /// `pull <app>`: fetch, then the branch's head.
    Pull,
    /// `pull <app> <commit>`.
    PullCommit(String),
    /// `forward` / `backward`.
    Step(Step),
}

fn opening(m: &Move, name: &str) -> String {
    match m {
        Move::Pull | Move::PullCommit(_) => format!("Updating repository for process name {name}"),
        Move::Step(Step::Forward) => {
            format!("Updating to next commit repository for process name {name}")
        }
        Move::Step(Step::Backward) => {
            format!("Downgrading to previous commit repository for process name {name}")
        }
    }
}

/// The first instance named `word` (by name, else by id), as PM2's getProcessByNameOrId.
fn find(client: &mut Client, word: &str) -> Result<Option<ProcessInfo>> {
    let Response::List { processes } = expect(client, Request::List)? else {
        bail!("unexpected reply to list");
    };
    let by_id = word.parse::<u32>().ok();
    Ok(processes
        .into_iter()
        .find(|p| p.spec.name == word || Some(p.pm_id) == by_id))
}

fn repo_path(p: &ProcessInfo) -> Option<PathBuf> {
    let v = p.versioning.as_ref()?;
    v.get("repo_path")?.as_str().map(PathBuf::from)
}

/// `pm2 pull <app> [commit]`.
pub(crate) fn pull(home: &Pm2Home, word: &str, commit: Option<String>) -> Result<i32> {
    run(home, word, commit.map_or(Move::Pull, Move::PullCommit))
}

/// `pm2 forward <app>` (`forward` true) or `pm2 backward <app>`.
pub(crate) fn step(home: &Pm2Home, word: &str, forward: bool) -> Result<i32> {
    let way = if forward {
        Step::Forward
    } else {
        Step::Backward
    };
    run(home, word, Move::Step(way))
}

/// Runs one move on app `word`; returns the exit code.
pub(crate) fn run(home: &Pm2Home, word: &str, m: Move) -> Result<i32> {
    let mut client = connect(home)?;
    out::info(&opening(&m, word));
    let Some(p) = find(&mut client, word)? else {
        let sep = if matches!(m, Move::Step(Step::Forward)) {
            ""
        } else {
            " "
        };
        out::error(&format!("No processes with this name or id{sep}: {word}"));
        return Ok(1);
    };
    let name = p.spec.name.clone();
    let Some(folder) = repo_path(&p) else {
        out::info(&format!("No versioning system found for process {name}"));
        return Ok(i32::from(matches!(m, Move::Step(Step::Backward))));
    };
    let moved = match &m {
        Move::Pull => git::update(&folder),
        Move::PullCommit(rev) => {
            git::fetch_head(&folder).and_then(|_| git::revert_to(&folder, rev))
        }
        Move::Step(way) => git::step(&folder, *way),
    };
    match moved {
        Ok(Moved::To(rev)) => {
            out::info(&format!("Process successfully updated {name}"));
            out::info(&format!("Current commit {rev}"));
            let target = match m {
                Move::Pull | Move::PullCommit(_) => Target::parse(word),
                Move::Step(_) => Target::Name(name),
            };
            reload(&mut client, target)
        }
        Ok(Moved::Stayed) => match m {
            Move::Pull => {
                out::info(&format!(
                    "Already up-to-date or an error occured for app: {name}"
                ));
                Ok(0)
            }
            Move::Step(Step::Backward) => {
                out::info(&format!("No versioning system found for process {name}"));
                Ok(1)
            }
            _ => {
                out::info(&format!("Already up-to-date or an error occured: {name}"));
                Ok(0)
            }
        },
        Err(e) => {
            out::info(&format!("Already up-to-date or an error occured: {name}"));
            out::error(&format!("app {name}: {e}"));
            Ok(1)
        }
    }
}

/// Reloads the moved app, printing PM2's lines (no table, as PM2's pull).
fn reload(client: &mut Client, target: Target) -> Result<i32> {
    let label = target.display();
    let request = Request::Action(ActionRequest {
        action: Action::Reload,
        targets: vec![target],
        update_env: None,
        toggle_watch: false,
        patch: Box::default(),
    });
    let Response::Outcomes { outcomes } = expect(client, request)? else {
        bail!("unexpected reply to reload");
    };
    let ids: Vec<String> = outcomes.iter().map(|o| o.pm_id.to_string()).collect();
    out::info(&format!(
        "Applying action reloadProcessId on app [{label}](ids: [ {} ])",
        ids.join(", ")
    ));
    Ok(report(&outcomes))
}
