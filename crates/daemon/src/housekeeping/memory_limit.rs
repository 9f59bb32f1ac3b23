//! `max_memory_restart`: an instance over its limit is reloaded (restarted in fork mode),
//! one reload at a time per instance however many ticks see it over.

use crate::instance::{Control, InstanceHandle, Update};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The instances being restarted for their memory, so a slow restart is not asked twice.
#[derive(Clone, Default)]
pub(crate) struct MemoryLimit {
    restarting: Arc<Mutex<HashSet<u32>>>,
}

impl MemoryLimit {
    /// Restarts instance `id` (its `memory` is over `limit`) unless it is already being
    /// restarted for it, saying why in pm2.log.
    pub fn enforce(&self, handle: InstanceHandle, id: u32, memory: u64, limit: u64) {
        if !self.lock().insert(id) {
            return;
        }
        let name = handle.peek(|p| p.spec.name.clone());
        tracing::info!(
            "[PM2][WORKER] Process {id} ({name}) restarted because it exceeds --max-memory-restart value (current_memory={memory} max_memory_limit={limit} [octets])"
        );
        let this = self.clone();
        tokio::spawn(async move {
            let update = Update::default();
            let _ = handle.call(|r| Control::Reload(update, r)).await;
            this.lock().remove(&id);
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        self.restarting.lock().unwrap_or_else(|p| p.into_inner())
    }
}
