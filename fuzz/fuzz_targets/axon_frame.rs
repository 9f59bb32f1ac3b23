//! What a peer writes to `rpc.sock` / `pub.sock`: amp frames and axon-rpc requests.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_axon::fuzzing::stream(data));
