//! A request (or reply) body: the serde `Envelope`/`Reply` and the CLI's target words.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_proto::fuzzing::request(data));
