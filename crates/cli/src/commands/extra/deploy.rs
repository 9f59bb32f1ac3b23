//! `pm2 deploy`: the words split, the ecosystem file read as `pm2 start` reads it, and
//! the run handed to `pm2-deploy`. The local daemon is neither needed nor started (PM2
//! starts one and never uses it); when one runs, a deploy that finished is announced to
//! it as the event `pm2:deploy` (`Request::Emit`), which the dashboard's alerts send on.

use crate::args::extra::DeployArgs;
use crate::client;
use crate::commands::caller;
use anyhow::Result;
use pm2_config::{is_ecosystem_file, load_ecosystem_value};
use pm2_deploy::{help::HELP, Finished, Verb, Words};
use pm2_home::Pm2Home;
use pm2_proto::{EmitRequest, Request};
use serde_json::json;
use std::time::Instant;

/// Runs `pm2 deploy …`; returns the exit code.
pub(crate) fn deploy(args: &DeployArgs) -> Result<i32> {
    let ctx = caller::context()?;
    let (file, env, rest) = match pm2_deploy::split(&args.words, &ctx.cwd, is_ecosystem_file) {
        Words::Help if args.words.is_empty() => {
            eprintln!("error: missing required argument 'file|environment' (see pm2 deploy help)");
            return Ok(1);
        }
        Words::Help => {
            print!("{HELP}");
            return Ok(0);
        }
        Words::Run {
            file: None, env, ..
        } => {
            eprintln!(
                "no ecosystem file in {} to deploy {} from (looked for {}); name the file: \
                 pm2 deploy <file> <env>",
                ctx.cwd.display(),
                env.unwrap_or_default(),
                pm2_deploy::words::DEFAULT_FILES.join(", ")
            );
            return Ok(1);
        }
        Words::Run {
            file: Some(file),
            env,
            rest,
        } => (file, env, rest),
    };
    let config = match load_ecosystem_value(&file, &ctx) {
        Ok((_, config)) => config,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return Ok(1);
        }
    };
    let Some(env) = env else {
        return Ok(list_environments(&file, &config));
    };
    let verb = match Verb::parse(&rest) {
        Ok(verb) => verb,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    Ok(run_and_announce(pm2_deploy::Request {
        config: &config,
        file: &file,
        env: &env,
        verb,
        force: args.force,
        parallel: args.parallel.unwrap_or(0),
        cwd: ctx.cwd,
    }))
}

/// Runs the deploy; one that deploys (not `list`, `exec`...) is announced when done.
fn run_and_announce(req: pm2_deploy::Request) -> i32 {
    let started = Instant::now();
    let finished = pm2_deploy::run(&req);
    if req.verb.deploys() {
        announce(req.env, &req.verb, &finished, started);
    }
    finished.code
}

/// Tells a running daemon that a deploy finished (`pm2:deploy`); a best effort: no
/// daemon, or one too old to know the request, is no error and prints nothing.
fn announce(env: &str, verb: &Verb, finished: &Finished, started: Instant) {
    let Some(mut c) = client::connect_existing(&Pm2Home::from_env()) else {
        return;
    };
    let failed: Vec<_> = finished
        .failed
        .iter()
        .map(|(host, why)| json!({"host": host, "error": why}))
        .collect();
    let data = json!({
        "environment": env,
        "action": action(verb),
        "hosts": finished.hosts,
        "ok": finished.code == 0,
        "failed": failed,
        "error": finished.error,
        "duration_ms": started.elapsed().as_millis() as u64,
    });
    let event = "pm2:deploy".to_string();
    let _ = c.request(Request::Emit(EmitRequest { event, data }));
}

/// `pm2 deploy <file>`: PM2 prints the help; this also names the environments.
fn list_environments(file: &str, config: &serde_json::Value) -> i32 {
    print!("{HELP}");
    let envs = pm2_deploy::environments(config);
    if envs.is_empty() {
        println!("\n{file} has no deploy environments (add a `deploy` section).");
    } else {
        println!("\nEnvironments in {file}:");
        for env in envs {
            println!("  {env}");
        }
    }
    0
}

/// The verb as the user typed it.
fn action(verb: &Verb) -> String {
    match verb {
        Verb::Ref(r) => format!("ref {r}"),
        Verb::Revert(n) => format!("revert {n}"),
        _ => "update".to_string(),
    }
}
