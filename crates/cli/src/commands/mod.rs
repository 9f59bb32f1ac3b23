//! One module per command family; [`run`] dispatches.

mod actions;
mod caller;
mod connection;
mod depends;
mod dump;
mod ecosystem;
mod export;
mod extra;
mod inspector;
mod leftovers;
mod limit_warnings;
mod logs;
mod module_sample;
mod module_store;
mod modules;
mod npm;
mod npm_module;
mod placement;
mod serve;
mod start;
pub(crate) mod usage;
mod versioning;
mod views;
mod words;

use crate::args::Command;
use anyhow::{bail, Result};
use pm2_home::Pm2Home;
use pm2_proto::{Action, ApplyMode};

/// PM2's CLI creates its home and an empty module_conf.json on every call; tools that read
/// the file (and `pm2 set` run by hand later) expect it. Best effort: a command that needs
/// the home reports its own error.
fn prepare_home(home: &Pm2Home) {
    if home.ensure().is_ok() {
        let _ = pm2_home::module_conf::ensure_exists(home);
    }
}

/// Runs one parsed command; returns the exit code.
pub fn run(command: Command) -> Result<i32> {
    let home = Pm2Home::from_env();
    prepare_home(&home);
    match command {
        Command::Daemon => bail!("__daemon is run by the pm2 binary, not by the CLI library"),
        Command::Start(args) => start::start(&home, *args),
        Command::Serve(args) => serve::serve(&home, args),
        Command::Stop(t) => on_targets(&home, Action::Stop, &t.targets, Scope::of(&t)),
        Command::Restart(r) => restart(&home, Action::Restart, &r),
        Command::StartOrRestart(f) => {
            let opts = ecosystem::options(f.env_name.as_deref(), f.only.as_deref());
            ecosystem::apply(&home, &f.file, &opts, ApplyMode::Restart)
        }
        Command::StartOrReload(f) => {
            let opts = ecosystem::options(f.env_name.as_deref(), f.only.as_deref());
            ecosystem::apply(&home, &f.file, &opts, ApplyMode::Reload)
        }
        Command::Init(i) => ecosystem::init(i.kind.as_deref()),
        Command::Reload(r) => restart(&home, Action::Reload, &r),
        Command::Scale(a) => actions::scale(&home, &a.name, &a.count),
        Command::Delete(t) => on_targets(&home, Action::Delete, &t.targets, Scope::of(&t)),
        Command::Reset(t) => on_targets(&home, Action::Reset, &t.targets, Scope::of(&t)),
        Command::SendSignal(s) => actions::send_signal(&home, &s.signal, &s.targets),
        Command::Kill => actions::kill(&home),
        Command::Startup(a) => crate::startup::startup(&home, &a),
        Command::Unstartup(a) => crate::startup::unstartup(&home, &a),
        Command::Ping => views::ping(&home),
        Command::Save(a) => dump::save(&home, a.force),
        Command::Resurrect => dump::resurrect(&home),
        Command::Update => dump::update(&home),
        Command::Cleardump => dump::cleardump(&home),
        Command::Trigger(t) => actions::trigger(&home, &t.target, &t.action, t.param.as_deref()),
        Command::Monit => crate::monit::run(&home),
        Command::Flush(t) => logs::flush(&home, &t.targets),
        Command::ReloadLogs => logs::reload(&home),
        Command::Install(m) => modules::install(&home, &m.module),
        Command::Uninstall(m) => modules::uninstall(&home, &m.module),
        Command::ModuleGenerate(g) => module_sample::generate(g.name.as_deref()),
        Command::Export(a) => export::export(&home, &a),
        Command::Set(a) => modules::set(&home, a.key.as_deref(), a.value.as_deref()),
        Command::Conf(a) => modules::set(&home, a.key.as_deref(), a.value.as_deref()),
        Command::Multiset(m) => modules::multiset(&home, &m.serial),
        Command::Unset(k) => modules::unset(&home, &k.key),
        Command::Get(k) => modules::get(&home, k.key.as_deref()),
        Command::Logs(args) => logs::logs(&home, args),
        Command::List => views::list(&home),
        Command::Jlist => views::jlist(&home),
        Command::Prettylist => views::prettylist(&home),
        Command::Describe(t) => views::describe(&home, &t.target),
        Command::Env(t) => views::env(&home, &t.target),
        Command::Pid(t) => views::pid(&home, t.target.as_deref()),
        Command::Id(t) => views::id(&home, &t.target),
        Command::Extra(c) => extra::run(&home, c),
        Command::Inspector(c) => inspector::run(&home, c),
        Command::Pull(a) => versioning::pull(&home, &a.name, a.commit_id),
        Command::Forward(t) => versioning::step(&home, &t.target, true),
        Command::Backward(t) => versioning::step(&home, &t.target, false),
    }
}

/// The options that shape an action on targets or on an ecosystem file.
#[derive(Default)]
struct Scope<'a> {
    env_name: Option<&'a str>,
    only: Option<&'a str>,
    flags: actions::ActionFlags,
}

impl<'a> Scope<'a> {
    fn of(t: &'a crate::args::TargetArgs) -> Scope<'a> {
        Scope {
            only: t.only.as_deref(),
            ..Scope::default()
        }
    }

    /// A restart's scope; the start flags it was given must all be valid.
    fn of_restart(r: &'a crate::args::RestartArgs) -> Result<Scope<'a>, i32> {
        let ctx = caller::context().map_err(|e| {
            crate::out::error(&format!("{e:#}"));
            1
        })?;
        let mut patch = pm2_config::resolve_patch(&r.options, &ctx).map_err(|errors| {
            for e in &errors {
                crate::out::error(&e.to_string());
            }
            1
        })?;
        // Restart's `--watch` toggles watching rather than turning it on.
        patch.watch = None;
        patch.watch_paths = None;
        Ok(Scope {
            env_name: r.env_name.as_deref(),
            only: r.only.as_deref(),
            flags: actions::ActionFlags {
                update_env: r.options.update_env,
                toggle_watch: r.options.watch.is_some(),
                patch,
            },
        })
    }
}

/// `pm2 restart|reload <targets> [start flags]`.
fn restart(home: &Pm2Home, action: Action, r: &crate::args::RestartArgs) -> Result<i32> {
    match Scope::of_restart(r) {
        Ok(scope) => on_targets(home, action, &r.targets, scope),
        Err(code) => Ok(code),
    }
}

/// An action on targets, or on the apps of an ecosystem file when that is the one target.
fn on_targets(home: &Pm2Home, action: Action, targets: &[String], scope: Scope) -> Result<i32> {
    let Scope {
        env_name,
        only,
        flags,
    } = scope;
    if let [file] = targets {
        if pm2_config::is_ecosystem_file(file) {
            let opts = ecosystem::options(env_name, only);
            return match action {
                Action::Restart => ecosystem::apply(home, file, &opts, ApplyMode::Restart),
                Action::Reload => ecosystem::apply(home, file, &opts, ApplyMode::Reload),
                _ => ecosystem::act_on_apps(home, file, &opts, action),
            };
        }
    }
    if env_name.is_some() {
        bail!("--env needs an ecosystem file (PM2 semantics): use --update-env to take the current environment");
    }
    if only.is_some() {
        return Err(usage::UsageError("--only needs an ecosystem file".into()).into());
    }
    actions::action(home, action, targets, flags)
}

/// `pm2 start` for `pm2-runtime` (the daemon already runs in-process).
pub(crate) fn start_for_runtime(home: &Pm2Home, args: crate::args::StartArgs) -> Result<i32> {
    start::start(home, args)
}
