//! `jlist` written straight into a buffer: each environment that several instances share is
//! encoded once, and every instance's `pm2_env` copies those bytes instead of cloning,
//! re-encoding and re-escaping the same variables (twice per instance: its `env` object and
//! the top level). The bytes are those `serde_json` writes for [`super::jlist`].

use super::build::build;
use super::encoded::EncodedEnv;
use super::object::{write_json, write_str};
use crate::model::ProcessInfo;
use serde_json::json;
use std::collections::HashMap;

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
    write_str(out, &p.spec.name);
    out.extend_from_slice(b",\"pm2_env\":");
    build(p, encoded).write(out);
    out.extend_from_slice(b",\"pm_id\":");
    write_json(out, &json!(p.pm_id));
    out.extend_from_slice(b",\"monit\":");
    write_json(out, &json!({"memory": monit.memory, "cpu": monit.cpu}));
    out.push(b'}');
}
