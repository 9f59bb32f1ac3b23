//! Length-prefixed frames from the daemon socket, as the CLI and the daemon read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_proto::fuzzing::frames(data));
