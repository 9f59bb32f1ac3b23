//! `jlist` written straight into a buffer: each environment that several instances share is
//! encoded once, and every instance's `pm2_env` copies those bytes instead of cloning,
//! re-encoding and re-escaping the same variables (twice per instance: its `env` object and
//! the top level). The bytes are those `serde_json` writes for [`super::jlist`].

use super::object::write_json;
use crate::model::ProcessInfo;
use crate::SharedEnv;
use serde_json::json;
use std::collections::HashMap;
use std::ops::Range;

/// An environment with every value encoded as a JSON string, once.
pub(crate) struct EncodedEnv<'a> {
    keys: Vec<(&'a str, Range<usize>)>,
    bytes: Vec<u8>,
}

impl<'a> EncodedEnv<'a> {
    fn new(env: &'a SharedEnv) -> Self {
        let mut keys = Vec::with_capacity(env.len());
        let mut bytes = Vec::new();
        for (k, v) in env {
            let start = bytes.len();
            super::object::write_str(&mut bytes, v);
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

/// Appends the `jlist` array of `processes`: the bytes of `serde_json::to_vec(&jlist(..))`.
pub fn write_jlist(processes: &[ProcessInfo], out: &mut Vec<u8>) {
    let mut encoded: HashMap<usize, EncodedEnv<'_>> = HashMap::new();
    for p in processes {
        encoded
            .entry(p.spec.env.addr())
            .or_insert_with(|| EncodedEnv::new(&p.spec.env));
    }
    out.push(b'[');
    for (i, p) in processes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_entry(out, p, encoded.get(&p.spec.env.addr()));
    }
    out.push(b']');
}

/// One element: `{pid, name, pm2_env, pm_id, monit}`, as [`super::jlist_entry`].
fn write_entry(out: &mut Vec<u8>, p: &ProcessInfo, encoded: Option<&EncodedEnv<'_>>) {
    let running = p.status.is_running();
    let monit = if running { p.monit } else { Default::default() };
    out.extend_from_slice(b"{\"pid\":");
    write_json(out, &json!(p.pid.filter(|_| running).unwrap_or(0)));
    out.extend_from_slice(b",\"name\":");
    super::object::write_str(out, &p.spec.name);
    out.extend_from_slice(b",\"pm2_env\":");
    super::build(p, encoded).write(out);
    out.extend_from_slice(b",\"pm_id\":");
    write_json(out, &json!(p.pm_id));
    out.extend_from_slice(b",\"monit\":");
    write_json(out, &json!({"memory": monit.memory, "cpu": monit.cpu}));
    out.push(b'}');
}
