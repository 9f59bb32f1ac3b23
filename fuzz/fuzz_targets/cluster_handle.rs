//! The `NODE_HANDLE` envelope around any message the reader decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_cluster::fuzzing::handle_envelope(data));
