//! What a peer sends `pm2 serve`: URL path, `Authorization`, `Range`, `If-Modified-Since`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_serve::fuzzing::request(data));
