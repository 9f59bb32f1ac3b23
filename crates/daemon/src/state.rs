//! The daemon's shared state: what every request handler and background task holds.

use crate::housekeeping::sampler::Sampler;
use crate::logs::hub::LogHub;
use crate::registry::Registry;
use crate::settings::DaemonSettings;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Shared daemon state handed to every request handler.
pub(crate) struct Daemon {
    pub settings: Arc<DaemonSettings>,
    pub registry: Mutex<Registry>,
    pub sampler: Sampler,
    /// The apps' `listen` sockets, bound once per app and shared by its instances.
    pub listen: crate::listen::ListenSets,
    /// The `NOTIFY_SOCKET` of apps with `notify` or `listen` (`None`: it could not be bound,
    /// said in pm2.log; those apps then go online at `listen_timeout`).
    pub notify: Option<Arc<crate::notify::NotifyHub>>,
    pub shutdown: Notify,
    pub hub: LogHub,
    /// Signalled when `module_conf.json` changed (`pm2 set`, `pm2 install`).
    pub config_changed: Notify,
    /// The Node cluster primary shared by every cluster-mode app.
    pub primary: pm2_cluster::primary::Primary,
    /// The environments apps run with, so equal ones are stored once.
    pub env_pool: Mutex<pm2_proto::EnvPool>,
    /// The crash-recovery state files' writer (snapshot and journal).
    pub state_store: Mutex<crate::persist::store::StateStore>,
    /// A request was answered since memory was last handed back to the OS (its buffers,
    /// which grow with the number of apps, are free now): trim on the next housekeeping tick.
    pub trim_due: AtomicBool,
    /// The publisher of PM2's event bus (`pub.sock`), for `require('pm2')` clients.
    pub node_bus: crate::nodeapi::publisher::Bus,
    /// When the daemon started, ms since the epoch (`getReport`'s `started_at`).
    pub started_at: u64,
}

/// Binds the daemon's notify socket, `notify.sock` in the home.
fn bind_notify(home: &pm2_home::Pm2Home) -> Option<Arc<crate::notify::NotifyHub>> {
    let path = notify_socket(home);
    crate::notify::NotifyHub::bind(path.clone())
        .map_err(|e| {
            tracing::warn!(
                "cannot bind {}: {e}; NOTIFY_SOCKET is not given to apps",
                path.display()
            )
        })
        .ok()
}

/// Where the daemon's notify socket lives.
pub(crate) fn notify_socket(home: &pm2_home::Pm2Home) -> std::path::PathBuf {
    home.root().join("notify.sock")
}

impl Daemon {
    /// Fresh state for a daemon starting with an empty table.
    pub fn new(settings: DaemonSettings, hub: LogHub) -> Daemon {
        let notify = bind_notify(&settings.home);
        let passed = Arc::clone(&settings.passed_sockets);
        Daemon {
            notify,
            settings: Arc::new(settings),
            registry: Mutex::new(Registry::default()),
            sampler: Sampler::default(),
            listen: crate::listen::ListenSets::new(passed),
            shutdown: Notify::new(),
            hub,
            config_changed: Notify::new(),
            primary: pm2_cluster::primary::Primary::start(),
            env_pool: Mutex::default(),
            state_store: Mutex::default(),
            trim_due: AtomicBool::new(false),
            node_bus: Default::default(),
            started_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        }
    }

    /// Locks the registry; a poisoned lock (a panicked handler) is still usable because
    /// every registry operation leaves it consistent.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}
