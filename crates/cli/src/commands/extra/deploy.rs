//! `pm2 deploy`: the words split, the ecosystem file read as `pm2 start` reads it, and
//! the run handed to `pm2-deploy`. The local daemon is never contacted (PM2 starts one
//! and never uses it).

use crate::args::extra::DeployArgs;
use crate::commands::caller;
use anyhow::Result;
use pm2_config::{is_ecosystem_file, load_ecosystem_value};
use pm2_deploy::{help::HELP, Verb, Words};

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
    Ok(pm2_deploy::run(&pm2_deploy::Request {
        config: &config,
        file: &file,
        env: &env,
        verb,
        force: args.force,
        parallel: args.parallel.unwrap_or(0),
        cwd: ctx.cwd,
    }))
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
