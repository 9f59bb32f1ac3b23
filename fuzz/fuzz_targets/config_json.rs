//! An ecosystem file as JSON5 (also what the JavaScript evaluator prints).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_config::fuzzing::ecosystem_json(data));
