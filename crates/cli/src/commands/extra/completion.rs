//! `pm2 completion`: shell completion generated from the clap definitions (so it knows every
//! command and flag the CLI has), plus app names from the running daemon for the commands
//! that take an app, and PM2's `completion install` into the shell's rc file.

use crate::client;
use anyhow::{bail, Context, Result};
use clap_complete::Shell;
use pm2_home::Pm2Home;
use pm2_proto::{Request, Response};
use std::io::Write;
use std::path::PathBuf;

/// PM2's markers around the block `completion install` adds to an rc file.
const BEGIN: &str = "###-begin-pm2-completion-###";
const END: &str = "###-end-pm2-completion-###";

/// The commands whose arguments are apps: their words complete to the running apps' names.
const TAKES_APPS: &str = "stop|restart|reload|delete|del|describe|desc|show|info|logs|env|\
reset|scale|pid|id|flush|monitor|unmonitor|inspect|pull|forward|backward|trigger|sendSignal";

/// `pm2 completion [shell|install|uninstall]`.
pub(super) fn run(what: Option<&str>) -> Result<i32> {
    let text = match what.unwrap_or("bash") {
        "install" => return install(),
        "uninstall" => return uninstall(),
        "zsh" => script(Shell::Zsh),
        "fish" => script(Shell::Fish),
        _ => bash_script(),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(0)
}

/// `pm2 __names`: the running apps' names, one per line; nothing without a daemon.
pub(super) fn names(home: &Pm2Home) -> Result<i32> {
    let Some(mut client) = client::connect_existing(home) else {
        return Ok(0);
    };
    if let Ok(Response::List { processes }) = client.request(Request::Summary) {
        let mut names: Vec<String> = processes.into_iter().map(|p| p.spec.name).collect();
        names.dedup();
        let mut out = std::io::stdout().lock();
        for name in names {
            writeln!(out, "{name}")?;
        }
    }
    Ok(0)
}

fn script(shell: Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut crate::args::command(), "pm2", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// clap's bash completion, with app names for the commands that take apps, between PM2's
/// markers.
fn bash_script() -> String {
    format!(
        "{BEGIN}\n{}\n\
_pm2_with_apps() {{\n\
    local cur=\"${{COMP_WORDS[COMP_CWORD]}}\"\n\
    if [ \"$COMP_CWORD\" -ge 2 ] && [[ \"$cur\" != -* ]]; then\n\
        case \"${{COMP_WORDS[1]}}\" in\n\
            {TAKES_APPS})\n\
                COMPREPLY=($(compgen -W \"all $(\"${{COMP_WORDS[0]}}\" __names 2>/dev/null)\" -- \"$cur\"))\n\
                return 0 ;;\n\
        esac\n\
    fi\n\
    _pm2 \"$@\"\n\
}}\n\
complete -F _pm2_with_apps -o bashdefault -o default pm2\n\
{END}\n",
        script(Shell::Bash).trim_end()
    )
}

/// The rc file of the user's shell: `~/.zshrc` for zsh, else `~/.bashrc`.
fn rc_file() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let zsh = std::env::var("SHELL").is_ok_and(|s| s.ends_with("zsh"));
    Ok(PathBuf::from(home).join(if zsh { ".zshrc" } else { ".bashrc" }))
}

/// `completion install`: appends the script to the rc file once, as PM2 does.
fn install() -> Result<i32> {
    let rc = rc_file()?;
    let current = read_rc(&rc)?;
    if current.contains(BEGIN) {
        println!(" ✗ pm2 tab-completion has been already installed. Do nothing.");
        return Ok(0);
    }
    let zsh = rc.ends_with(".zshrc");
    let block = if zsh {
        format!("{BEGIN}\n{}\n{END}\n", script(Shell::Zsh).trim_end())
    } else {
        bash_script()
    };
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&block);
    pm2_home::write_atomic(&rc, text.as_bytes())
        .with_context(|| format!("cannot write {}", rc.display()))?;
    println!(" ✓ pm2 tab-completion installed.");
    Ok(0)
}

/// `completion uninstall`: removes the block `install` added.
fn uninstall() -> Result<i32> {
    let rc = rc_file()?;
    let current = read_rc(&rc)?;
    let (Some(start), Some(end)) = (current.find(BEGIN), current.find(END)) else {
        println!(" ✗ pm2 tab-completion is not installed. Do nothing.");
        return Ok(0);
    };
    if end < start {
        bail!(
            "{}: the pm2 completion markers are out of order; edit it by hand",
            rc.display()
        );
    }
    let after =
        (end + END.len()..current.len()).find(|i| current.as_bytes().get(*i) != Some(&b'\n'));
    let text = format!(
        "{}{}",
        &current[..start],
        &current[after.unwrap_or(current.len())..]
    );
    pm2_home::write_atomic(&rc, text.as_bytes())
        .with_context(|| format!("cannot write {}", rc.display()))?;
    println!(" ✓ pm2 tab-completion uninstalled.");
    Ok(0)
}

fn read_rc(rc: &std::path::Path) -> Result<String> {
    match std::fs::read_to_string(rc) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", rc.display())),
    }
}
