//! PM2's Node API wire format, as `require('pm2')`, PM2 modules and dashboards speak it on
//! `rpc.sock` and `pub.sock` (see `pm2-node-api.md` in the shared studies):
//!
//! - [`frame`]: amp frames (a version/argc byte, then each argument with its big-endian
//!   length), read incrementally from a byte stream with bounds on what a peer may make
//!   the reader hold;
//! - [`arg`]: an argument's type from its prefix (`j:` JSON, `s:` string, else a blob);
//! - [`rpc`]: axon-rpc calls (`{"type":"call","method","args"}` plus the request id) and
//!   their replies, with PM2's error words;
//! - [`bus`]: the events published on `pub.sock` (`[s:name, j:payload]`).
//!
//! Only the wire: the daemon maps calls to its own requests.

pub mod arg;
pub mod bus;
pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod rpc;

pub use arg::Arg;
pub use frame::{encode, Decoder, FrameError, Limits};
