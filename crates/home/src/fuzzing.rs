//! The decoders of the files in `PM2_HOME` that a user (or anyone who can write there)
//! controls: `module_conf.json` as the daemon's log rotation reads it, and the logrotate
//! settings' own parsers (sizes, cron expressions, time zones, date formats). The fuzz
//! target `home_settings` in `fuzz/` and the property tests below call the same function.
//!
//! Compiled for tests and with the `fuzzing` feature only.

use crate::logrotate::{format_date, parse_size, resolve_tz, CronSchedule, RotateConfig};
use chrono::TimeZone;

/// One input through every settings decoder: no panic, no hang, and what is accepted is
/// usable (a valid schedule yields a next time or none, a date format renders).
pub fn settings(data: &[u8]) {
    if let Ok(conf) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(cfg) = RotateConfig::from_module_conf(&conf) {
            let schedule = cfg
                .rotate_schedule()
                .expect("validated by from_module_conf");
            let _ = schedule.next_after(&chrono::Utc::now());
            let _ = cfg.tz.as_deref().map(resolve_tz);
            let _ = format_date(&cfg.date_format, &chrono::Utc::now());
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_size(text);
    let _ = resolve_tz(text);
    if let Ok(schedule) = CronSchedule::parse(text) {
        let far = chrono::Utc.with_ymd_and_hms(2099, 12, 31, 23, 59, 59);
        if let Some(at) = far.single() {
            let _ = schedule.next_after(&at);
        }
    }
    let rendered = format_date(text, &chrono::Utc::now());
    assert!(
        rendered.len() <= text.len() * 8 + 64,
        "a date format grew without bound"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn logrotate_conf() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("max_size"),
            Just("retain"),
            Just("compress"),
            Just("dateFormat"),
            Just("workerInterval"),
            Just("rotateInterval"),
            Just("TZ"),
        ];
        let value = prop_oneof![
            Just("\"10M\"".to_string()),
            Just("\"0 0 * * *\"".to_string()),
            Just("\"*/5 * * * * *\"".to_string()),
            Just("\"Europe/Paris\"".to_string()),
            Just("\"+05:30\"".to_string()),
            Just("\"YYYY-MM-DD_HH-mm-ss\"".to_string()),
            Just("true".to_string()),
            Just("-1".to_string()),
            Just("1e308".to_string()),
            Just("null".to_string()),
            "\"[ -~]{0,12}\"".prop_map(|s| s.replace('\\', "")),
        ];
        proptest::collection::vec((key, value), 0..6).prop_map(|pairs| {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            format!("{{\"pm2-logrotate\": {{{}}}}}", body.join(", "))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_as_settings(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            settings(&data);
        }

        #[test]
        fn any_text_as_settings(text in "[ -~]{0,64}") {
            settings(text.as_bytes());
        }

        #[test]
        fn module_conf_shaped_input(conf in logrotate_conf()) {
            settings(conf.as_bytes());
        }
    }

    /// Every input a fuzz target of this crate ever failed on stays fixed.
    #[test]
    fn fuzz_regressions() {
        pm2_fuzz_regressions::replay(&[("home_settings", settings as fn(&[u8]))]);
    }
}
