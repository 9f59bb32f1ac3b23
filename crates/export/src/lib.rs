//! `pm2 export <systemd|k8s|compose>`: the apps of an ecosystem file (or the running ones)
//! written for the engine a user moves to when one machine's process manager is no longer
//! enough. Each target is a pure function from [`AppSpec`]s to files: no I/O here, so the
//! CLI decides where the files go and the tests read them directly. What a target cannot
//! express (PM2's watch, cron restarts, cluster port sharing, ...) is said in a comment at
//! the top of the file it concerns, never dropped silently.

mod command;
mod compose;
mod file;
mod kubernetes;
mod limits;
mod notes;
mod systemd;
mod yaml;

pub use file::ExportedFile;
use pm2_proto::AppSpec;

/// The engines `pm2 export` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One systemd service unit per app (a template unit when it runs several instances).
    Systemd,
    /// A Deployment per app, and a Service when its port is known.
    Kubernetes,
    /// One Compose file with a service per app.
    Compose,
}

impl Target {
    /// The target named on the command line (`systemd`, `k8s` or `kubernetes`, `compose`).
    pub fn parse(name: &str) -> Option<Target> {
        match name {
            "systemd" => Some(Target::Systemd),
            "k8s" | "kubernetes" => Some(Target::Kubernetes),
            "compose" | "docker-compose" => Some(Target::Compose),
            _ => None,
        }
    }
}

/// The files for `apps` on `target`; `source` says where the apps came from (a file's path
/// or "the running apps"), for the header comment.
pub fn export(target: Target, apps: &[AppSpec], source: &str) -> Vec<ExportedFile> {
    match target {
        Target::Systemd => apps.iter().map(|a| systemd::unit(a, source)).collect(),
        Target::Kubernetes => vec![kubernetes::manifests(apps, source)],
        Target::Compose => vec![compose::file(apps, source)],
    }
}
