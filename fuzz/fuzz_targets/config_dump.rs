//! `dump.pm2` (and the daemon's state file, same format).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_config::fuzzing::dump(data));
