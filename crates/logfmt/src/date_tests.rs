use super::*;
use chrono::{FixedOffset, Utc};

/// 2026-11-21 03:59:06.042 at +05:30 (a Saturday).
fn early_india() -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("valid offset");
    tz.with_ymd_and_hms(2026, 11, 21, 3, 59, 6)
        .single()
        .expect("unambiguous")
        + chrono::Duration::milliseconds(42)
}

/// 2005-02-06 15:04:05.7 at -08:00 (a Sunday).
fn pm_west() -> DateTime<FixedOffset> {
    let tz = FixedOffset::west_opt(8 * 3600).expect("valid offset");
    tz.with_ymd_and_hms(2005, 2, 6, 15, 4, 5)
        .single()
        .expect("unambiguous")
        + chrono::Duration::milliseconds(700)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("unambiguous")
}

#[test]
fn pm2_time_format_matches_observed_sample() {
    let t = early_india();
    assert_eq!(format_date(PM2_TIME_FORMAT, &t), "2026-11-21T03:59:06");
}

#[test]
fn logs_defaults() {
    let t = early_india();
    assert_eq!(
        format_date(LOGS_TIMESTAMP_FORMAT, &t),
        "2026-11-21-03:59:06"
    );
    assert_eq!(
        format_date(LOGS_FORMAT_TIMESTAMP, &t),
        "2026-11-21-03:59:06+0530"
    );
}

#[test]
fn year_month_day_tokens() {
    let t = early_india();
    let f = |s| format_date(s, &t);
    assert_eq!(f("YYYY YY"), "2026 26");
    assert_eq!(f("M MM MMM MMMM"), "11 11 Nov November");
    assert_eq!(f("D DD"), "21 21");
    let t = pm_west();
    let f = |s| format_date(s, &t);
    assert_eq!(f("M MM MMM MMMM"), "2 02 Feb February");
    assert_eq!(f("D DD"), "6 06");
    assert_eq!(f("YY"), "05");
}

#[test]
fn weekday_tokens() {
    assert_eq!(
        format_date("d dd ddd dddd", &early_india()),
        "6 Sa Sat Saturday"
    );
    assert_eq!(format_date("d dd ddd dddd", &pm_west()), "0 Su Sun Sunday");
}

#[test]
fn hour_tokens() {
    let f = |s| format_date(s, &pm_west());
    assert_eq!(f("H HH h hh a A"), "15 15 3 03 pm PM");
    let f = |s| format_date(s, &early_india());
    assert_eq!(f("H HH h hh a A"), "3 03 3 03 am AM");
    let midnight = utc(2026, 1, 1, 0, 5, 9);
    assert_eq!(format_date("h hh H HH A", &midnight), "12 12 0 00 AM");
    let noon = utc(2026, 1, 1, 12, 0, 0);
    assert_eq!(format_date("h hh A a", &noon), "12 12 PM pm");
}

#[test]
fn minute_second_millis_tokens() {
    let f = |s| format_date(s, &pm_west());
    assert_eq!(f("m mm s ss SSS"), "4 04 5 05 700");
    let f = |s| format_date(s, &early_india());
    assert_eq!(f("m mm s ss SSS"), "59 59 6 06 042");
}

#[test]
fn zone_tokens() {
    assert_eq!(format_date("Z ZZ", &early_india()), "+05:30 +0530");
    assert_eq!(format_date("Z ZZ", &pm_west()), "-08:00 -0800");
    assert_eq!(
        format_date("Z ZZ", &utc(2026, 1, 1, 0, 0, 0)),
        "+00:00 +0000"
    );
}

#[test]
fn unix_tokens() {
    let t = pm_west();
    let ms = t.timestamp_millis();
    assert_eq!(format_date("X", &t), (ms / 1000).to_string());
    assert_eq!(format_date("x", &t), ms.to_string());
    let before_epoch = utc(1969, 12, 31, 23, 59, 59) + chrono::Duration::milliseconds(500);
    assert_eq!(format_date("X x", &before_epoch), "-1 -500");
}

#[test]
fn bracket_escapes() {
    let t = early_india();
    assert_eq!(format_date("[YYYY] YYYY", &t), "YYYY 2026");
    assert_eq!(format_date("YYYY-MM-DD[T]HH", &t), "2026-11-21T03");
    assert_eq!(format_date("[at] h[h]", &t), "at 3h");
    // Empty brackets and an unclosed bracket are plain text, as in dayjs.
    assert_eq!(format_date("[]", &t), "[]");
    assert_eq!(format_date("[YYYY", &t), "[2026");
    // `[a[b]` is one escape whose content is `a[b`.
    assert_eq!(format_date("[a[b]", &t), "a[b");
}

#[test]
fn unknown_text_passes_through() {
    let t = early_india();
    assert_eq!(format_date("Q W w k é / _", &t), "Q W w k é / _");
    assert_eq!(format_date("S SS", &t), "S SS");
}

#[test]
fn long_runs_split_like_dayjs_regex() {
    let t = early_india();
    // SSSS = SSS + S; MMMMM = MMMM + M; DDD = DD + D.
    assert_eq!(format_date("SSSS", &t), "042S");
    assert_eq!(format_date("MMMMM", &t), "November11");
    assert_eq!(format_date("DDD", &t), "2121");
}

#[test]
fn dayjs_fallthrough_tokens_print_compact_zone() {
    // dayjs' replacer has no case for Y or YYY and falls back to the ZZ string.
    let t = early_india();
    assert_eq!(format_date("Y", &t), "+0530");
    assert_eq!(format_date("YYY", &t), "+0530");
    assert_eq!(format_date("YYYYY", &t), "2026+0530");
}

#[test]
fn empty_format_is_dayjs_default() {
    assert_eq!(format_date("", &early_india()), "2026-11-21T03:59:06+05:30");
}

#[test]
fn small_years_are_padded() {
    let t = utc(7, 3, 4, 5, 6, 7);
    assert_eq!(format_date("YYYY YY", &t), "0007 7");
}

#[test]
fn write_to_and_line_prefix_match_format() {
    let fmt = DateFormat::parse(PM2_TIME_FORMAT);
    let t = early_india();
    let mut buf = b"x".to_vec();
    fmt.write_to(&t, &mut buf);
    assert_eq!(buf, b"x2026-11-21T03:59:06");
    assert_eq!(fmt.line_prefix(&t), b"2026-11-21T03:59:06: ");
}

#[test]
fn works_with_local_time() {
    let now = chrono::Local::now();
    let s = format_date("YYYY", &now);
    assert_eq!(s, format!("{:04}", now.year()));
}
