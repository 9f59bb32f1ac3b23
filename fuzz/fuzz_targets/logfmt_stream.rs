//! A child's output: line prefixes, JSON log lines, `pm2 logs` views, the tail step.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_logfmt::fuzzing::log_stream(data));
