//! `pm2 startup [platform]` and `pm2 unstartup [platform]`: the init script that runs
//! `pm2 resurrect` at boot, written and enabled (or disabled and removed) as PM2 does.
//!
//! Without root rights, both only print the `sudo` command to run and exit 1, as PM2 does
//! (its callback gets "You have to run this with elevated rights"). `unstartup` with no
//! script in place says so and exits 0, like PM2, whose failing `rm` is reported but does
//! not fail the command.
//!
//! For packaging and tests, `--root <dir>` (hidden) or `PM2_STARTUP_ROOT` writes under
//! another folder instead of `/`; then no root rights are needed and the enable/disable
//! commands (`systemctl enable`, `update-rc.d`...) are printed instead of run.

mod hint;
mod platform;
mod templates;
#[cfg(test)]
mod tests;

pub use platform::Platform;

use crate::args::StartupArgs;
use crate::out;
use anyhow::{anyhow, bail, Context, Result};
use hint::NotRoot;
use pm2_home::Pm2Home;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable that moves the target root (packaging and tests).
pub const ROOT_ENV: &str = "PM2_STARTUP_ROOT";

/// `pm2 startup`: writes the init script for the platform and enables it.
pub fn startup(home: &Pm2Home, args: &StartupArgs) -> Result<i32> {
    let Some(env) = Env::resolve(args, "startup")? else {
        return Ok(1);
    };
    let plan = platform::plan(env.platform, &env.target(args));
    let values = templates::Values {
        pm2_path: pm2_path()?.display().to_string(),
        node_path: node_path(
            std::env::var("PATH").unwrap_or_default(),
            node_dir().as_deref(),
        ),
        user: env.user.clone(),
        home_path: home_path(args.hp.as_deref(), home)?.display().to_string(),
        service_name: plan.service_name.clone(),
    };
    let script = templates::fill(plan.template, &values);
    let path = env.on_disk(&plan.destination);
    let _ = out::line(&format!("{} {}", bold("Platform"), env.platform.name()));
    let _ = out::line(&bold("Template"));
    let _ = out::line(&script);
    let _ = out::line(&bold("Target path"));
    let _ = out::line(&path.display().to_string());
    let _ = out::line(&bold("Command list"));
    let _ = out::line(&command_list(&plan.enable));
    out::info(&format!("Writing init configuration in {}", path.display()));
    write_init_script(&path, script.as_bytes(), plan.mode).with_context(|| {
        format!(
            "Failure when trying to write startup script {}",
            path.display()
        )
    })?;
    out::info("Making script booting at startup...");
    for command in &plan.enable {
        if !env.run(command)? {
            bail!("{command} failed, see error above.");
        }
    }
    let _ = out::line("+---------------------------------------+");
    out::info("Freeze a process list on reboot via:");
    let _ = out::line(&bold("$ pm2 save"));
    let _ = out::line("");
    out::info("Remove init script via:");
    let _ = out::line(&bold(&format!("$ pm2 unstartup {}", env.platform.name())));
    Ok(0)
}

/// `pm2 unstartup`: stops and disables the service, then removes its script.
pub fn unstartup(_home: &Pm2Home, args: &StartupArgs) -> Result<i32> {
    let Some(env) = Env::resolve(args, "unstartup")? else {
        return Ok(1);
    };
    let old = platform::old_system();
    let plan = if env.on_disk(&old.destination).exists() {
        out::info("Disabling and deleting old startup system");
        old
    } else {
        platform::plan(env.platform, &env.target(args))
    };
    let path = env.on_disk(&plan.destination);
    // An SMF manifest is only the import source: the service may outlive it.
    let file_is_state = plan.platform != Some(Platform::Smf);
    if file_is_state && path.symlink_metadata().is_err() {
        out::info(&format!(
            "No init script at {}: nothing to disable (startup writes it there for \
             platform {} and service {})",
            path.display(),
            env.platform.name(),
            plan.service_name
        ));
        return Ok(0);
    }
    let mut failed = false;
    for command in &plan.disable {
        failed |= !env.run(command)?;
    }
    match std::fs::remove_file(&path) {
        Ok(()) => out::info(&format!("Removed {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    if failed {
        out::warn("a disable command failed (see above); the init script was removed anyway");
    }
    out::info(&bold("Init file disabled."));
    Ok(0)
}

/// Everything both commands decide before acting.
struct Env {
    /// Where `/` of the target system is.
    root: PathBuf,
    /// The root is the real `/`: commands run and root rights are required.
    live: bool,
    platform: Platform,
    user: String,
    /// $HOME, for launchd agents.
    home_dir: PathBuf,
    tmp_dir: PathBuf,
}

impl Env {
    /// Resolves root, platform and user; prints PM2's sudo hint and returns `None` when
    /// root rights are missing.
    fn resolve(args: &StartupArgs, verb: &str) -> Result<Option<Env>> {
        let root = target_root(args.root.as_deref())?;
        let live = root == Path::new("/");
        let platform = choose_platform(args.platform.as_deref(), verb)?;
        if live && !nix::unistd::geteuid().is_root() {
            let user = args.user.clone().or_else(whoami).unwrap_or_default();
            let home = args
                .hp
                .clone()
                .or_else(|| std::env::var("HOME").ok())
                .unwrap_or_default();
            let hint = NotRoot {
                verb,
                platform: platform.name(),
                user: &user,
                home: &home,
                node_dir: &node_dir().or_else(|| pm2_dir().ok()).unwrap_or_default(),
                pm2: &pm2_path()?,
                service_name: args.service_name.as_deref(),
                wait_ip: args.wait_ip,
            };
            out::info(&hint.heading());
            let _ = out::line(&hint.command());
            return Ok(None);
        }
        let user = args
            .user
            .clone()
            .or_else(|| env_nonempty("USER"))
            .or_else(|| env_nonempty("LOGNAME"))
            .or_else(whoami)
            .ok_or_else(|| anyhow!("cannot tell the user: pass -u <user>"))?;
        let home_dir = env_nonempty("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from);
        Ok(Some(Env {
            root,
            live,
            platform,
            user,
            home_dir,
            tmp_dir: std::env::temp_dir(),
        }))
    }

    fn target<'a>(&'a self, args: &'a StartupArgs) -> platform::Target<'a> {
        platform::Target {
            user: &self.user,
            service_name: args.service_name.as_deref(),
            wait_ip: args.wait_ip,
            home_dir: &self.home_dir,
            tmp_dir: &self.tmp_dir,
        }
    }

    /// Where an absolute path of the target system is on this machine.
    fn on_disk(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// Runs a shell command (as PM2 does) when live, else prints it; `false` on failure.
    fn run(&self, command: &str) -> Result<bool> {
        if !self.live {
            out::info(&format!(
                "[-] Not executing (root is {}): {}",
                self.root.display(),
                bold(command)
            ));
            return Ok(true);
        }
        out::info(&format!("[-] Executing: {}...", bold(command)));
        let status = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .status()
            .with_context(|| format!("cannot run {command}"))?;
        if status.success() {
            out::info(&bold("[v] Command successfully executed."));
            return Ok(true);
        }
        let code = status
            .code()
            .map_or("signal".to_string(), |c| c.to_string());
        let _ = out::line(&out::paint(&format!("[ERROR] Exit code : {code}"), "31"));
        Ok(false)
    }
}

/// The platform named on the command line (aliases accepted), else the detected one;
/// warns as PM2 does when they differ.
fn choose_platform(named: Option<&str>, verb: &str) -> Result<Platform> {
    let detected = platform::detect();
    match detected {
        Some(p) => out::info(&format!("Init System found: {}", bold(p.name()))),
        None => out::error("Init system not found"),
    }
    let Some(name) = named else {
        return detected.ok_or_else(|| {
            anyhow!(
                "Init system not found: none of {} is on PATH. Name it: pm2 {verb} <platform> \
                 with platform one of {}",
                platform::probes(),
                Platform::names()
            )
        });
    };
    let chosen = Platform::parse(name).ok_or_else(|| {
        anyhow!(
            "Unknown platform / init system name: {name} (one of {})",
            Platform::names()
        )
    })?;
    if let Some(found) = detected.filter(|d| *d != chosen) {
        let rule = "-----------------------------------------------------------";
        let _ = out::line(rule);
        let _ = out::line(&format!(
            " PM2 detected {} but you precised {}",
            found.name(),
            chosen.name()
        ));
        let _ = out::line(" Please verify that your choice is indeed your init system");
        let _ = out::line(" If you arent sure, just run : pm2 startup");
        let _ = out::line(rule);
    }
    Ok(chosen)
}

/// `--root`, else `PM2_STARTUP_ROOT`, else `/`; made absolute.
fn target_root(flag: Option<&str>) -> Result<PathBuf> {
    let root = flag
        .map(str::to_string)
        .or_else(|| env_nonempty(ROOT_ENV))
        .unwrap_or_else(|| "/".into());
    let root = PathBuf::from(root);
    if root.is_absolute() {
        return Ok(root);
    }
    Ok(std::env::current_dir()
        .context("cannot read the current folder")?
        .join(root))
}

/// `%HOME_PATH%`: `<--hp>/.pm2` (made absolute, like `path.resolve`), else PM2_HOME.
fn home_path(hp: Option<&str>, home: &Pm2Home) -> Result<PathBuf> {
    let Some(hp) = hp else {
        return Ok(home.root().to_path_buf());
    };
    let hp = Path::new(hp);
    let base = if hp.is_absolute() {
        hp.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current folder")?
            .join(hp)
    };
    Ok(base.join(".pm2"))
}

/// `%NODE_PATH%`: PATH, with node's folder appended when PATH lacks it.
fn node_path(path: String, node_dir: Option<&Path>) -> String {
    match node_dir {
        Some(dir) if !std::env::split_paths(&path).any(|p| p == dir) => {
            format!("{path}:{}", dir.display())
        }
        _ => path,
    }
}

/// The folder of the `node` found on PATH.
fn node_dir() -> Option<PathBuf> {
    pm2_config::which("node").and_then(|n| n.parent().map(Path::to_path_buf))
}

/// This binary (`%PM2_PATH%`).
fn pm2_path() -> Result<PathBuf> {
    std::env::current_exe().context("cannot locate the pm2 binary")
}

fn pm2_dir() -> Result<PathBuf> {
    Ok(pm2_path()?.parent().unwrap_or(Path::new("/")).to_path_buf())
}

/// The name of the effective user.
fn whoami() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Node's inspect of a string array, as PM2 prints its command list.
fn command_list(commands: &[String]) -> String {
    if commands.is_empty() {
        return "[]".into();
    }
    let items: Vec<String> = commands.iter().map(|c| format!("'{c}'")).collect();
    format!("[ {} ]", items.join(", "))
}

fn bold(text: &str) -> String {
    out::paint(text, "1")
}

/// Writes the init script atomically with exactly `mode`, creating its folder (under a
/// `--root` it may not exist yet).
fn write_init_script(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("/")))?;
    pm2_home::write_atomic_mode(path, bytes, mode)
}
