//! Instances whose `jlist` bytes are pinned in `jlist_golden.json` (written by the Value
//! implementation of `pm2_env` before the direct writer existed): the ordinary case and
//! every way an environment's names can collide with PM2's own keys.

use crate::model::*;
use crate::SharedEnv;

fn env(pairs: &[(&str, &str)]) -> SharedEnv {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn base(pm_id: u32, name: &str, env: SharedEnv) -> ProcessInfo {
    ProcessInfo {
        pm_id,
        spec: AppSpec {
            name: name.into(),
            script: "/srv/app/echo.js".into(),
            interpreter: "node".into(),
            interpreter_path: Some("/usr/bin/node".into()),
            cwd: "/srv/app".into(),
            env,
            username: "deploy".into(),
            ..AppSpec::default()
        },
        status: Status::Online,
        pid: Some(42 + pm_id),
        pm_uptime: 1_700_000_000_000,
        created_at: Some(1_700_000_000_000),
        restart_time: 2,
        unstable_restarts: 0,
        exit_code: None,
        prev_restart_delay: None,
        instance_index: pm_id,
        increment_value: None,
        unique_id: format!("uid-{pm_id}"),
        paths: InstancePaths {
            out: format!("/h/logs/{name}-out.log"),
            err: format!("/h/logs/{name}-error.log"),
            combined: None,
            pid: format!("/h/pids/{name}-{pm_id}.pid"),
        },
        kill_timeout: 1600,
        monit: Monit {
            memory: 10_485_760,
            cpu: 1.5,
        },
        pm2_home: "/h".into(),
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

/// The instances of the golden file, in order.
pub(crate) fn samples() -> Vec<ProcessInfo> {
    let shell = env(&[
        ("HOME", "/home/deploy"),
        ("LANG", "C.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("PM2_HOME", "/h"),
        ("QUOTED", "say \"hi\"\\ \u{1}\t\n é ✓"),
        ("SHELL", "/bin/bash"),
    ]);
    let mut out = vec![base(0, "api", shell.clone()), base(1, "api", shell.clone())];
    let mut stopped = base(2, "worker", shell.clone());
    stopped.status = Status::Stopped;
    stopped.exit_code = Some(1);
    stopped.prev_restart_delay = Some(100);
    out.push(stopped);
    // Names that PM2's own keys also use: the env object keeps the variable's value, the
    // top level shows PM2's.
    let clash = env(&[
        ("NODE_APP_INSTANCE", "7"),
        ("PM2_HOME", "/elsewhere"),
        ("clash", "the app's own name"),
        ("env", "x"),
        ("name", "n"),
        ("pm_id", "99"),
        ("status", "s"),
        ("unique_id", "u"),
        ("version", "v"),
        ("zzz", "last"),
    ]);
    let mut c = base(3, "clash", clash);
    c.spec.increment_var = Some("PORT".into());
    c.increment_value = Some(3003);
    c.spec.watch = true;
    c.spec.watch_paths = vec!["src".into()];
    c.spec.uid = Some("1000".into());
    c.spec.gid = Some("staff".into());
    c.spec.args = vec!["--port".into(), "3000".into()];
    c.spec.log_file = CombinedLog::Default;
    c.paths.combined = Some("/h/logs/clash.log".into());
    c.spec.max_memory_restart = Some(1 << 20);
    c.spec.kill_timeout = Some(3000);
    c.spec.version = Some("1.2.3".into());
    c.km_monitored = Some(true);
    c.axm_monitor
        .insert("req/s".into(), serde_json::json!({"value": 3}));
    c.notify_status = Some("ready".into());
    out.push(c);
    let mut odd = base(4, "status", env(&[("PORT", "1"), ("status", "x")]));
    odd.spec.instance_var = "status".into();
    odd.spec.increment_var = Some("PORT".into());
    odd.increment_value = Some(-1);
    odd.spec.exec_mode = ExecMode::Cluster;
    odd.spec.instances = 2;
    out.push(odd);
    out.push(base(5, "bare", SharedEnv::default()));
    out
}
