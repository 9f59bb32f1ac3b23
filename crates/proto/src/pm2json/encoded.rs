//! [`EncodedEnv`]: an environment's values encoded as JSON strings once, for every
//! instance that shares it.

use super::object::write_str;
use crate::shared_env::SharedEnv;
use std::ops::Range;

/// An environment with every value encoded as a JSON string, once.
pub(crate) struct EncodedEnv<'a> {
    keys: Vec<(&'a str, Range<usize>)>,
    bytes: Vec<u8>,
}

impl<'a> EncodedEnv<'a> {
    pub(super) fn new(env: &'a SharedEnv) -> Self {
        let mut keys = Vec::with_capacity(env.len());
        let mut bytes = Vec::new();
        for (k, v) in env {
            let start = bytes.len();
            write_str(&mut bytes, v);
            keys.push((k.as_str(), start..bytes.len()));
        }
        EncodedEnv { keys, bytes }
    }

    /// Calls `f` with each variable's name and encoded value, in the environment's order.
    pub(crate) fn each<'s>(&'s self, mut f: impl FnMut(&'a str, &'s [u8])) {
        for (k, range) in &self.keys {
            f(k, &self.bytes[range.clone()]);
        }
    }
}
