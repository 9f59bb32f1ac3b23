//! `start`: register apps and launch their instances.

use super::start_limits as limits;
use crate::instance::credentials;
use crate::instance::{spawn_instance, status_before_start, ControlError, Outcome};
use crate::listen::ListenSet;
use crate::logs::sinks::LogFiles;
use crate::registry::Registry;
use crate::state::Daemon;
use pm2_config::safe_file_name;
use pm2_home::Pm2Home;
use pm2_proto::{
    AppSpec, CombinedLog, InstanceOutcome, InstancePaths, Monit, ProcessInfo, Response,
    StartRequest,
};
use std::path::Path;
use std::sync::Arc;

/// PM2's per-id rewrite: `x.log` → `x-<id>.log` (also replacing an existing `-N` suffix).
fn with_id_suffix(path: &str, id: u32, ext: &str) -> String {
    let Some(stem) = path.strip_suffix(ext) else {
        return path.to_string();
    };
    let trimmed = match stem.rfind('-') {
        Some(i) if i + 1 < stem.len() && stem[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &stem[..i]
        }
        _ => stem,
    };
    format!("{trimmed}-{id}{ext}")
}

/// Log and pid paths for a new instance, following PM2's naming rules.
pub(crate) fn instance_paths(spec: &AppSpec, id: u32, home: &Pm2Home) -> InstancePaths {
    let fname = safe_file_name(&spec.name);
    let in_logs = |suffix: &str| {
        home.logs()
            .join(format!("{fname}{suffix}"))
            .to_string_lossy()
            .into_owned()
    };
    let per_id = |p: String| {
        if spec.merge_logs {
            p
        } else {
            with_id_suffix(&p, id, ".log")
        }
    };
    if spec.disable_logs {
        let null = "/dev/null".to_string();
        return InstancePaths {
            out: null.clone(),
            err: null,
            combined: None,
            pid: pid_path(spec, id, home),
        };
    }
    let out = per_id(spec.out_file.clone().unwrap_or_else(|| in_logs("-out.log")));
    let err = per_id(
        spec.error_file
            .clone()
            .unwrap_or_else(|| in_logs("-error.log")),
    );
    let combined = match &spec.log_file {
        CombinedLog::None => None,
        CombinedLog::Default => Some(per_id(in_logs(".log"))),
        CombinedLog::Path(p) => Some(per_id(p.clone())),
    };
    InstancePaths {
        out,
        err,
        combined,
        pid: pid_path(spec, id, home),
    }
}

/// `pids/<name>-<id>.pid`, or `-p` with the id suffix.
fn pid_path(spec: &AppSpec, id: u32, home: &Pm2Home) -> String {
    let pid_default = home
        .pids()
        .join(format!("{}.pid", safe_file_name(&spec.name)))
        .to_string_lossy()
        .into_owned();
    with_id_suffix(spec.pid_file.as_deref().unwrap_or(&pid_default), id, ".pid")
}

/// Where a new instance sits among its app's instances: its `instance_var` index and its
/// `increment_var` value.
struct Slot {
    index: u32,
    increment: Option<i64>,
}

fn new_instance(daemon: &Daemon, spec: &AppSpec, id: u32, slot: Slot) -> ProcessInfo {
    let settings = &daemon.settings;
    ProcessInfo {
        pm_id: id,
        paths: instance_paths(spec, id, &settings.home),
        kill_timeout: spec
            .kill_timeout
            .unwrap_or(settings.kill_timeout.as_millis() as u64),
        spec: spec.clone(),
        status: status_before_start(),
        pid: None,
        pm_uptime: 0,
        created_at: None,
        restart_time: 0,
        unstable_restarts: 0,
        exit_code: None,
        prev_restart_delay: None,
        instance_index: slot.index,
        increment_value: slot.increment,
        unique_id: uuid::Uuid::new_v4().to_string(),
        monit: Monit::default(),
        pm2_home: settings.home.root().to_string_lossy().into_owned(),
        axm_monitor: Default::default(),
        axm_actions: Vec::new(),
        axm_options: Default::default(),
        km_monitored: None,
        versioning: None,
        vizion_running: false,
        health: None,
        notify_status: None,
        containment: None,
    }
}

fn refuse(message: impl Into<String>) -> Response {
    Response::Error {
        message: message.into(),
    }
}

/// Checks a spec the daemon is about to trust (the CLI resolved it, but any client may send
/// one): absolute paths, an existing working directory, a sane instance count. The error
/// says which of them is wrong.
fn validate(spec: &AppSpec) -> Result<(), String> {
    if spec.name.is_empty() {
        return Err("an app needs a name".into());
    }
    if !Path::new(&spec.script).is_absolute() {
        return Err(format!(
            "app {}: script and cwd must be absolute and exist (script {} is not absolute)",
            spec.name, spec.script
        ));
    }
    if !Path::new(&spec.cwd).is_dir() {
        return Err(format!(
            "app {}: script and cwd must be absolute and exist (cwd {} is not a folder)",
            spec.name, spec.cwd
        ));
    }
    if spec.instances == 0 {
        return Err(format!("app {}: 0 instances asked for", spec.name));
    }
    if spec.instances as usize > limits::MAX_INSTANCES {
        return Err(format!(
            "app {}: {} instances asked for: the daemon runs at most {}",
            spec.name,
            spec.instances,
            limits::MAX_INSTANCES
        ));
    }
    limits::check(spec)?;
    credentials::run_as(spec).map_err(|e| format!("{e} (app {})", spec.name))?;
    Ok(())
}

/// An instance registered and launching: its first launch reports on `first`.
struct Launch {
    pm_id: u32,
    name: String,
    first: FirstLaunch,
}

/// What `spawn_instance` answers once the first launch succeeded or failed.
type FirstLaunch = tokio::sync::oneshot::Receiver<Outcome>;

/// Registers every instance of every app, then waits for each first launch.
pub(crate) async fn start(daemon: &Daemon, req: StartRequest) -> Response {
    start_holding(daemon, req, &[]).await
}

/// [`start`], the apps named in `held` registered but not launched (the crash recovery
/// starts them afterwards, in `depends_on` order).
pub(crate) async fn start_holding(
    daemon: &Daemon,
    mut req: StartRequest,
    held: &[String],
) -> Response {
    if let Some(err) = req.apps.iter().find_map(|s| validate(s).err()) {
        return refuse(err);
    }
    {
        // Apps started from one shell share one copy of its environment.
        let mut pool = daemon.env_pool.lock().unwrap_or_else(|p| p.into_inner());
        for spec in &mut req.apps {
            pool.share(&mut spec.env);
        }
    }
    let adding = req.apps.iter().map(|a| a.instances as usize).sum();
    if let Err(err) = limits::check_count(daemon.registry().len(), adding) {
        return refuse(err);
    }
    let launches = match register(daemon, &req, held) {
        Ok(launches) => launches,
        Err(refusal) => return refusal,
    };
    let mut outcomes = Vec::new();
    for Launch { pm_id, name, first } in launches {
        let error = first
            .await
            .unwrap_or(Err(ControlError::TaskEnded))
            .err()
            .map(|e| e.to_string());
        outcomes.push(InstanceOutcome { pm_id, name, error });
    }
    daemon.listen.report_unused_passed();
    Response::Outcomes { outcomes }
}

/// Under one registry lock: refuses a duplicate name unless forced, opens every instance's
/// files (giving the ids back if one cannot be opened), then spawns and registers them.
fn register(daemon: &Daemon, req: &StartRequest, held: &[String]) -> Result<Vec<Launch>, Response> {
    let mut registry = daemon.registry();
    if !req.force {
        if let Some(dup) = req.apps.iter().find(|a| registry.has_name(&a.name)) {
            return Err(refuse(format!(
                "Script already launched, add -f option to force re-execution ({})",
                dup.name
            )));
        }
    }
    let mut prepared = Vec::new();
    for spec in &req.apps {
        let from = prepared.len();
        prepare_app(daemon, &mut registry, spec, &mut prepared)?;
        if held.contains(&spec.name) {
            prepared[from..].iter_mut().for_each(|p| p.launch = false);
        }
    }
    let mut launches = Vec::new();
    for Prepared {
        info,
        files,
        launch,
        listen,
    } in prepared
    {
        let (pm_id, name) = (info.pm_id, info.spec.name.clone());
        let settings = daemon.settings.clone();
        let shared = (daemon.hub.clone(), daemon.primary.clone());
        let notify = daemon.notify.as_ref().map(|hub| hub.link());
        let (handle, first) =
            spawn_instance(info, (files, listen, notify), settings, shared, launch);
        registry.insert(pm_id, handle);
        launches.push(Launch { pm_id, name, first });
    }
    Ok(launches)
}

/// Opens an instance's log files, owned by the user it runs as.
fn open_logs(info: &ProcessInfo) -> std::io::Result<LogFiles> {
    let files = LogFiles::open(&info.paths)?;
    if let Ok(Some(run_as)) = credentials::run_as(&info.spec) {
        files.give_to(run_as.credentials.uid, run_as.credentials.gid)?;
    }
    Ok(files)
}

/// One instance ready to be spawned.
struct Prepared {
    info: ProcessInfo,
    files: LogFiles,
    /// Whether it starts now (`autostart`).
    launch: bool,
    /// The app's `listen` sockets, shared by its instances.
    listen: Option<Arc<ListenSet>>,
}

/// Binds the app's `listen` sockets (or finds those its instances hold), allocates the ids
/// and slots of every instance of `spec` and opens their log files.
fn prepare_app(
    daemon: &Daemon,
    registry: &mut Registry,
    spec: &AppSpec,
    prepared: &mut Vec<Prepared>,
) -> Result<(), Response> {
    let listen = daemon
        .listen
        .for_app(&spec.name, &spec.listen)
        .map_err(|e| refuse(format!("app {}: cannot bind {e}", spec.name)))?;
    let mut taken = Vec::new();
    let mut last_increment = None;
    for _ in 0..spec.instances {
        let id = registry.allocate_id();
        let index = registry.free_instance_index(&spec.name, &taken);
        taken.push(index);
        let increment = spec.increment_var.as_ref().map(|var| {
            let next = registry.next_increment(spec, var, last_increment);
            last_increment = Some(next);
            next
        });
        let info = new_instance(daemon, spec, id, Slot { index, increment });
        match open_logs(&info) {
            Ok(files) => prepared.push(Prepared {
                info,
                files,
                launch: spec.autostart,
                listen: listen.clone(),
            }),
            Err(e) => {
                registry.release_ids(prepared.len() as u32 + 1);
                return Err(refuse(format!(
                    "app {}: cannot open log file {e}",
                    spec.name
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_id_suffix_follows_pm2() {
        assert_eq!(with_id_suffix("/l/a-out.log", 3, ".log"), "/l/a-out-3.log");
        assert_eq!(
            with_id_suffix("/l/a-out-1.log", 3, ".log"),
            "/l/a-out-3.log"
        );
        assert_eq!(with_id_suffix("/l/custom.txt", 3, ".log"), "/l/custom.txt");
        assert_eq!(with_id_suffix("/p/a.pid", 0, ".pid"), "/p/a-0.pid");
    }
}
