//! A dayjs `log_date_format` string and an instant.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pm2_logfmt::fuzzing::date_format(data));
