//! `Request::Emit`: an event a client asks the daemon to publish on its bus.

use serde::{Deserialize, Serialize};

/// `Request::Emit`: readers of the log stream that take daemon lines (`LogsRequest::daemon`)
/// get it as a [`LogChunkKind::Message`](crate::request::LogChunkKind::Message) chunk without `pm_id`, named `PM2`, whose data is
/// `{"type": <event>, "data": <data>}`; the Node API's `pub.sock` publishes it as event
/// `<event>`. Answered with empty `Outcomes`; an older daemon refuses the unknown
/// request, which the sender treats as "nobody listens".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmitRequest {
    /// The event's name, namespaced (`pm2:deploy`): 1 to [`EmitRequest::MAX_NAME`]
    /// printable ASCII characters with a colon.
    pub event: String,
    /// Its payload.
    pub data: serde_json::Value,
}

impl EmitRequest {
    /// The longest event name.
    pub const MAX_NAME: usize = 64;

    /// Why the event's name is refused, if it is.
    pub fn refusal(&self) -> Option<String> {
        let ok = (1..=Self::MAX_NAME).contains(&self.event.len())
            && self.event.contains(':')
            && self.event.bytes().all(|b| b.is_ascii_graphic());
        (!ok).then(|| {
            format!(
                "event name {:?}: expected 1 to {} printable characters with a namespace, \
                 e.g. `pm2:deploy`",
                self.event,
                Self::MAX_NAME
            )
        })
    }
}
