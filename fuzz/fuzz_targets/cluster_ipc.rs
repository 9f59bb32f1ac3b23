//! A Node child's IPC stream on fd 3: line splitting, routing, `queryServer` endpoints.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_cluster::fuzzing::ipc_stream(data));
