//! Value forms: instances, durations, memory sizes, cron patterns, file names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_config::fuzzing::values(data));
