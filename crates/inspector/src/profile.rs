//! Recording a profile over a [`Session`]: a CPU profile (`Profiler.*`, Chrome's
//! `.cpuprofile`) or a sampling heap profile (`HeapProfiler.*Sampling`, Chrome's
//! `.heapprofile`, what PM2's `profile:mem` writes). The profile is checked to have the
//! shape Chrome DevTools loads before it is handed back.

use crate::{Error, Session};
use serde_json::{json, Value};
use std::time::Duration;

/// How long a protocol call other than the final stop may take.
const CALL: Duration = Duration::from_secs(10);

/// How long Node may take to stop and serialise a profile.
const STOP: Duration = Duration::from_secs(60);

/// Which profiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// V8's sampling CPU profiler.
    Cpu,
    /// V8's sampling heap profiler (allocations by call stack).
    Heap,
}

impl Kind {
    /// The file extension Chrome DevTools opens it by.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Cpu => "cpuprofile",
            Kind::Heap => "heapprofile",
        }
    }

    /// PM2's name for the action (`Starting profileCPU profiling for ...`).
    pub fn action(self) -> &'static str {
        match self {
            Kind::Cpu => "profileCPU",
            Kind::Heap => "profileMEM",
        }
    }

    /// The DevTools domain and its start and stop methods.
    fn methods(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Cpu => ("Profiler", "start", "stop"),
            Kind::Heap => ("HeapProfiler", "startSampling", "stopSampling"),
        }
    }

    /// The keys a profile of this kind must have for DevTools to load it.
    fn required_keys(self) -> &'static [&'static str] {
        match self {
            Kind::Cpu => &["nodes", "startTime", "endTime", "samples"],
            Kind::Heap => &["head", "samples"],
        }
    }
}

/// Profiles for `span` and returns the profile (the `profile` of the stop call's result).
/// The profiler is disabled again afterwards, as PM2 does.
pub fn record(session: &mut Session, kind: Kind, span: Duration) -> Result<Value, Error> {
    let (domain, start, stop) = kind.methods();
    session.call(&format!("{domain}.enable"), json!({}), CALL)?;
    session.call(&format!("{domain}.{start}"), json!({}), CALL)?;
    session.idle(span)?;
    let stop_method = format!("{domain}.{stop}");
    let mut result = session.call(&stop_method, json!({}), STOP)?;
    let _ = session.call(&format!("{domain}.disable"), json!({}), CALL);
    let profile = result
        .get_mut("profile")
        .map(Value::take)
        .unwrap_or(Value::Null);
    check_shape(kind, &profile).map_err(|message| Error::Protocol {
        method: stop_method,
        message,
    })?;
    Ok(profile)
}

/// Whether `profile` has the keys DevTools needs; the missing one otherwise.
fn check_shape(kind: Kind, profile: &Value) -> Result<(), String> {
    match kind
        .required_keys()
        .iter()
        .find(|k| profile.get(**k).is_none())
    {
        Some(key) => Err(format!("its profile has no \"{key}\"")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_without_what_devtools_needs_is_refused() {
        let cpu = json!({"nodes": [], "startTime": 1, "endTime": 2, "samples": []});
        assert!(check_shape(Kind::Cpu, &cpu).is_ok());
        let e = check_shape(Kind::Cpu, &json!({"nodes": []})).unwrap_err();
        assert!(e.contains("startTime"), "{e}");
        assert!(check_shape(Kind::Heap, &json!({"head": {}, "samples": []})).is_ok());
        assert!(check_shape(Kind::Heap, &Value::Null).is_err());
    }
}
