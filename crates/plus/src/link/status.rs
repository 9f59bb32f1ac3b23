//! The agent's state in `plus/link-status.json` (`{"pid", "state", "since", "error",
//! "url", "host"}`, state `connecting`, `connected`, `refused` or `unreachable`), written
//! at each change, so `pm2 link` can say whether the dashboard took the link.

use pm2_home::plus::PlusFiles;
use pm2_home::plus_link::{status_file, Link};
use pm2_home::Pm2Home;
use serde_json::json;

/// Where the agent reports.
pub struct Status {
    home: Pm2Home,
    url: String,
    host: String,
}

impl Status {
    /// The status file of `home`'s agent for `link`.
    pub fn new(home: &Pm2Home, link: &Link) -> Status {
        Status {
            home: home.clone(),
            url: link.url.clone(),
            host: link.host.clone(),
        }
    }

    /// Writes `state` (and why, for a failure); a write error is logged, never fatal.
    pub fn set(&self, state: &str, error: Option<&str>) {
        let body = json!({
            "pid": std::process::id(),
            "state": state,
            "since": pm2_home::now_ms(),
            "error": error,
            "url": self.url,
            "host": self.host,
        });
        let path = status_file(&self.home);
        let written = PlusFiles::of(&self.home)
            .ensure()
            .and_then(|()| pm2_home::write_atomic(&path, body.to_string().as_bytes()));
        if let Err(e) = written {
            crate::log::error(&format!("cannot write {}: {e}", path.display()));
        }
    }
}
