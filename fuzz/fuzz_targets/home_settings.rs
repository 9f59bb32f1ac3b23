//! `module_conf.json` as the log rotation reads it, and the logrotate settings' parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_home::fuzzing::settings(data));
