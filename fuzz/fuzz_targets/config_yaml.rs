//! An ecosystem file as YAML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_config::fuzzing::ecosystem_yaml(data));
