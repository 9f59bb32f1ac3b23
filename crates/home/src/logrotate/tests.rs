//! The settings parser as PM2 users type values, and the date and cron grammars.

use super::*;
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;
use std::time::Duration;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
}

#[test]
fn defaults_are_pm2_logrotate_defaults() {
    let cfg = RotateConfig::default();
    assert_eq!(cfg.max_size, 10 * 1024 * 1024);
    assert_eq!(cfg.retain, 30);
    assert!(!cfg.compress);
    assert_eq!(cfg.date_format, "YYYY-MM-DD_HH-mm-ss");
    assert_eq!(cfg.worker_interval, Duration::from_secs(30));
    assert_eq!(cfg.rotate_interval, "0 0 * * *");
    assert!(cfg.rotate_module);
    assert_eq!(cfg.tz, None);
}

#[test]
fn parse_size_units() {
    assert_eq!(parse_size("10M"), Ok(10 << 20));
    assert_eq!(parse_size("1G"), Ok(1 << 30));
    assert_eq!(parse_size("500K"), Ok(500 << 10));
    assert_eq!(parse_size("4096"), Ok(4096));
    assert_eq!(parse_size(" 10m "), Ok(10 << 20));
    assert_eq!(parse_size("10MB"), Ok(10 << 20));
    assert_eq!(parse_size("0"), Ok(0));
    for bad in [
        "10X",
        "",
        "M",
        "1.5G",
        "-1",
        "10 M",
        "1MBB",
        "B",
        "99999999999999G",
    ] {
        assert!(parse_size(bad).is_err(), "{bad:?} should be rejected");
    }
    assert_eq!(
        parse_size("10X").map_err(|e| e.to_string()),
        Err("\"10X\" is not a size".to_string())
    );
}

#[test]
fn module_conf_as_pm2_set_stores_it() {
    let conf = json!({"pm2-logrotate": {
        "max_size": "1G", "retain": "7", "compress": "true", "dateFormat": "YYYY-MM-DD",
        "workerInterval": "5", "rotateInterval": "*/5 * * * *", "rotateModule": "false",
        "TZ": "Etc/GMT+1", "white_list": ["ignored"]
    }});
    let cfg = RotateConfig::from_module_conf(&conf).expect("valid conf");
    assert_eq!(cfg.max_size, 1 << 30);
    assert_eq!(cfg.retain, 7);
    assert!(cfg.compress);
    assert_eq!(cfg.date_format, "YYYY-MM-DD");
    assert_eq!(cfg.worker_interval, Duration::from_secs(5));
    assert_eq!(cfg.rotate_interval, "*/5 * * * *");
    assert!(!cfg.rotate_module);
    assert_eq!(cfg.tz.as_deref(), Some("Etc/GMT+1"));
}

#[test]
fn module_conf_typed_values_blanks_and_absence() {
    let conf = json!({"pm2-logrotate": {
        "max_size": 2048, "retain": 3, "compress": true, "workerInterval": 60,
        "dateFormat": "", "TZ": null, "rotateInterval": ""
    }});
    let cfg = RotateConfig::from_module_conf(&conf).expect("valid conf");
    assert_eq!((cfg.max_size, cfg.retain, cfg.compress), (2048, 3, true));
    assert_eq!(cfg.worker_interval, Duration::from_secs(60));
    assert_eq!(cfg.date_format, "YYYY-MM-DD_HH-mm-ss");
    assert_eq!(cfg.rotate_interval, "0 0 * * *");
    let all = json!({"pm2-logrotate": {"retain": "all"}});
    assert_eq!(
        RotateConfig::from_module_conf(&all).map(|c| c.retain),
        Ok(RETAIN_ALL)
    );
    let other = json!({"pm2-server-monit": {"drive": true}});
    assert_eq!(
        RotateConfig::from_module_conf(&other),
        Ok(RotateConfig::default())
    );
    assert_eq!(
        RotateConfig::from_module_conf(&json!({})),
        Ok(RotateConfig::default())
    );
}

#[test]
fn module_conf_collects_every_error() {
    let conf = json!({"pm2-logrotate": {
        "max_size": "10X", "retain": "many", "compress": "yes", "workerInterval": "0",
        "rotateInterval": "0 0 * *", "rotateModule": 1, "dateFormat": "YYYY/MM",
        "TZ": "Europe/Paris"
    }});
    let errors = RotateConfig::from_module_conf(&conf)
        .expect_err("all invalid")
        .problems;
    assert_eq!(errors.len(), 8, "{errors:#?}");
    assert!(errors.contains(&"pm2-logrotate:max_size: \"10X\" is not a size".to_string()));
    let keys = [
        "max_size",
        "retain",
        "compress",
        "workerInterval",
        "rotateInterval",
        "rotateModule",
        "dateFormat",
        "TZ",
    ];
    for key in keys {
        let prefix = format!("pm2-logrotate:{key}: ");
        assert!(
            errors.iter().any(|e| e.starts_with(&prefix)),
            "{key}: {errors:#?}"
        );
    }
    let unsupported = json!({"pm2-logrotate": {"dateFormat": "YYYY-MM-DD hh:mm A"}});
    let errors = RotateConfig::from_module_conf(&unsupported)
        .expect_err("hh and A")
        .problems;
    assert!(errors[0].contains("'h'"), "{errors:?}");
    let not_object = json!({"pm2-logrotate": "on"});
    assert!(RotateConfig::from_module_conf(&not_object).is_err());
}

#[test]
fn format_date_tokens_and_literals() {
    let date = NaiveDate::from_ymd_opt(987, 1, 2)
        .and_then(|d| d.and_hms_opt(3, 4, 5))
        .expect("valid date");
    assert_eq!(
        format_date("YYYY-MM-DD_HH-mm-ss", &date),
        "0987-01-02_03-04-05"
    );
    assert_eq!(
        format_date("DD.MM.YYYY [YYYY] x", &date),
        "02.01.0987 YYYY x"
    );
    // Found by fuzzing: a format starting with a multi-byte character panicked.
    assert_eq!(format_date("é_YYYY", &date), "é_0987");
    assert_eq!(format_date("[unclosed", &date), "[unclosed");
}

#[test]
fn cron_parses_node_schedule_syntax() {
    for good in [
        "0 0 * * *",
        "*/5 * * * *",
        "30 */2 * * * *",
        "0 9-17/2 * jan-mar mon,FRI",
        "0 0 1,15 * 7",
        "0 0 ? * ?",
        "0 0 L * *",
        "0 0 * * 5L",
        "0 0 15W * *",
        "0 0 * * 1#2",
        "0 0 * JUL *",
    ] {
        assert!(CronSchedule::parse(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "0 0 * *",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "*/0 * * * *",
        "5-1 * * * *",
        "0 0 * * * * *",
        "a b c d e",
        // Found by fuzzing: an empty list item matched nothing and took seconds to search.
        "*/5 , * *  * *",
        "1,,2 * * * *",
        "0, 0 * * *",
        // Found by fuzzing: croner takes `L` anywhere, and a minute or hour of "last"
        // never matches: seconds (32 s for `l * * * *`) searching for it.
        "l * * * *",
        "*/5 l * * * 1",
        "* L * * *",
        "* * * L *",
        "* * * * L",
    ] {
        assert!(CronSchedule::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn cron_next_after() {
    let next = |expr: &str, after| CronSchedule::parse(expr).expect(expr).next_after(&after);
    let t = utc(2024, 2, 28, 23, 59, 59);
    assert_eq!(next("0 0 * * *", t), Some(utc(2024, 2, 29, 0, 0, 0)));
    assert_eq!(
        next("0 0 * * *", utc(2024, 2, 29, 0, 0, 0)),
        Some(utc(2024, 3, 1, 0, 0, 0))
    );
    assert_eq!(
        next("*/5 * * * *", utc(2024, 1, 1, 10, 7, 30)),
        Some(utc(2024, 1, 1, 10, 10, 0))
    );
    assert_eq!(
        next("*/10 * * * * *", utc(2024, 1, 1, 10, 7, 30)),
        Some(utc(2024, 1, 1, 10, 7, 40))
    );
    // 2024-03-04 is a Monday; with both day fields restricted either one fires.
    assert_eq!(next("0 0 * * mon", t), Some(utc(2024, 3, 4, 0, 0, 0)));
    assert_eq!(next("0 0 2 * mon", t), Some(utc(2024, 3, 2, 0, 0, 0)));
    assert_eq!(
        next("0 12 29 2 *", utc(2024, 3, 1, 0, 0, 0)),
        Some(utc(2028, 2, 29, 12, 0, 0))
    );
    assert_eq!(next("0 0 30 2 *", t), None);
}

#[test]
fn install_defaults_read_as_the_typed_defaults() {
    let mut conf = json!({});
    crate::module_conf::install(&mut conf, LOGROTATE, LOGROTATE_DEFAULTS);
    assert_eq!(
        RotateConfig::from_module_conf(&conf),
        Ok(RotateConfig::default())
    );
}
