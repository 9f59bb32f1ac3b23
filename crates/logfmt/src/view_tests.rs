use super::*;
use chrono::FixedOffset;

fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .expect("valid offset")
        .with_ymd_and_hms(2026, 11, 21, 5, 27, 0)
        .single()
        .expect("unambiguous")
}

fn ev<'a>(pm_id: u32, name: &'a str, kind: LineKind, data: &'a str) -> LogEvent<'a> {
    LogEvent {
        pm_id,
        name,
        kind,
        data,
        // 2026-11-21T04:27:00.123Z
        at_ms: now().timestamp_millis() + 123,
    }
}

fn view(flags: LogFlags<'_>) -> LogView {
    LogView::from_flags(&flags)
}

#[test]
fn pad_pads_and_cuts_like_pm2() {
    assert_eq!(pad("0|api", 10), "0|api     ");
    assert_eq!(pad("12|verylongname", 10), "12|verylon");
    assert_eq!(pad("PM2", 10), "PM2       ");
    assert_eq!(pad("", 3), "   ");
    // UTF-16 counting; an astral char (2 units) is not split.
    assert_eq!(pad("1|é", 4), "1|é ");
    // A char that does not fit is replaced by a space, keeping the width.
    assert_eq!(pad("1|😀x", 3), "1| ");
    assert_eq!(pad("1|😀x", 4), "1|😀");
}

#[test]
fn prefix_matches_sample() {
    assert_eq!(prefix(0, "api", TAIL_WIDTH), "0|api      | ");
    assert_eq!(prefix(2, "worker", 9), "2|worker  | ");
}

#[test]
fn prefix_width_grows_like_min_padding() {
    let mut w = PrefixWidth::default();
    assert_eq!(w.get(), 3);
    assert_eq!(w.observe("0|a"), 3); // not longer: stays 3
    assert_eq!(w.observe("2|worker"), 9);
    assert_eq!(w.observe("0|api"), 9);
    assert_eq!(w.observe("10|worker"), 9); // equal length does not widen
    assert_eq!(w.observe("10|workers"), 11);
}

#[test]
fn tail_lines_match_the_observed_sample() {
    let v = view(LogFlags::default());
    let r = v.render_tail_line(2, "worker", LineKind::Out, b"tick");
    assert_eq!(r.stdout, "2|worker   | tick\n");
    assert!(r.stderr.is_empty());
    let r = v.render_tail_line(0, "", LineKind::Pm2, b"2026-11-21T05:27:00: PM2 log: x");
    assert_eq!(r.stdout, "PM2        | 2026-11-21T05:27:00: PM2 log: x\n");
    let r = v.render_tail_line(1, "api", LineKind::Err, b"");
    assert_eq!(r.stdout, "1|api      | \n");
}

#[test]
fn tail_line_colours() {
    let v = view(LogFlags {
        color: true,
        ..Default::default()
    });
    let r = v.render_tail_line(0, "api", LineKind::Out, b"x");
    assert_eq!(r.stdout, "\x1b[32m0|api      | \x1b[39mx\n");
    let r = v.render_tail_line(0, "api", LineKind::Err, b"x");
    assert_eq!(r.stdout, "\x1b[31m0|api      | \x1b[39mx\n");
    let r = v.render_tail_line(0, "api", LineKind::Pm2, b"x");
    assert_eq!(r.stdout, "\x1b[34mPM2        | \x1b[39mx\n");
}

#[test]
fn tail_line_raw_splits_streams_and_decodes_lossily() {
    let v = view(LogFlags {
        raw: true,
        color: true,
        ..Default::default()
    });
    let r = v.render_tail_line(0, "api", LineKind::Err, b"bad \xff");
    assert_eq!(r.stderr, "bad \u{fffd}\n");
    assert!(r.stdout.is_empty());
    let r = v.render_tail_line(0, "api", LineKind::Out, b"ok");
    assert_eq!(r.stdout, "ok\n");
}

#[test]
fn stream_uses_growing_width_and_drops_empty_lines() {
    let mut v = view(LogFlags::default());
    let r = v.render(&ev(2, "worker", LineKind::Out, "tick\n\ntock\n"), &now());
    assert_eq!(r.stdout, "2|worker  | tick\n2|worker  | tock\n");
    let r = v.render(&ev(0, "api", LineKind::Err, "oops"), &now());
    assert_eq!(r.stdout, "0|api     | oops\n");
    assert!(r.stderr.is_empty());
}

#[test]
fn stream_pm2_lines_use_pm2_label_and_widen_column() {
    let mut v = view(LogFlags::default());
    let r = v.render(
        &ev(9, "ignored", LineKind::Pm2, "App [a:0] online\n"),
        &now(),
    );
    // "PM2|PM2" (7) widens the column to 8.
    assert_eq!(r.stdout, "PM2      | App [a:0] online\n");
    let r = v.render(&ev(0, "a", LineKind::Out, "x"), &now());
    assert_eq!(r.stdout, "0|a      | x\n");
}

#[test]
fn stream_colours() {
    let mut v = view(LogFlags {
        color: true,
        ..Default::default()
    });
    let r = v.render(&ev(0, "api", LineKind::Out, "x"), &now());
    assert_eq!(r.stdout, "\x1b[32m0|api  | \x1b[39mx\n");
}

#[test]
fn stream_raw() {
    let mut v = view(LogFlags {
        raw: true,
        timestamp: Some(""),
        highlight: Some("x"),
        color: true,
        ..Default::default()
    });
    let r = v.render(&ev(0, "api", LineKind::Err, "e1\r\ne2\n"), &now());
    assert_eq!(r.stderr, "e1\r\ne2\n");
    assert!(r.stdout.is_empty());
    let r = v.render(&ev(0, "api", LineKind::Out, "x\n"), &now());
    assert_eq!(r.stdout, "x\n");
    let r = v.render(&ev(0, "", LineKind::Pm2, "daemon\n"), &now());
    assert_eq!(r.stdout, "daemon\n");
}

#[test]
fn stream_timestamp_default_and_custom() {
    let mut v = view(LogFlags {
        timestamp: Some(""),
        ..Default::default()
    });
    let r = v.render(&ev(0, "api", LineKind::Out, "hi\n"), &now());
    assert_eq!(r.stdout, "2026-11-21-05:27:00 0|api  | hi\n");
    let mut v = view(LogFlags {
        timestamp: Some("HH:mm"),
        color: true,
        ..Default::default()
    });
    let r = v.render(&ev(0, "api", LineKind::Out, "hi"), &now());
    assert_eq!(
        r.stdout,
        "\x1b[2m\x1b[90m05:27 \x1b[39m\x1b[22m\x1b[32m0|api  | \x1b[39mhi\n"
    );
}

#[test]
fn highlight_first_match_only_and_only_with_colour() {
    let flags = LogFlags {
        highlight: Some("err"),
        color: true,
        ..Default::default()
    };
    let mut v = view(flags);
    let r = v.render(&ev(0, "a", LineKind::Out, "an err and err"), &now());
    assert_eq!(
        r.stdout,
        "\x1b[32m0|a | \x1b[39man \x1b[100merr\x1b[49m and err\n"
    );
    let mut v = view(LogFlags {
        color: false,
        ..flags
    });
    let r = v.render(&ev(0, "a", LineKind::Out, "an err"), &now());
    assert_eq!(r.stdout, "0|a | an err\n");
    // A bare --highlight does nothing.
    let mut v = view(LogFlags {
        highlight: Some(""),
        ..flags
    });
    let r = v.render(&ev(0, "a", LineKind::Out, "an err"), &now());
    assert_eq!(r.stdout, "\x1b[32m0|a | \x1b[39man err\n");
}

#[test]
fn json_mode_one_object_per_packet() {
    let mut v = view(LogFlags {
        json: true,
        raw: true,
        format: true,
        timestamp: Some("YYYY"),
        color: true,
        ..Default::default()
    });
    assert_eq!(v.mode(), Mode::Json);
    let r = v.render(&ev(3, "api", LineKind::Err, "a\r\nb\nc\r"), &now());
    assert_eq!(
        r.stdout,
        "{\"message\":\"abc\",\"timestamp\":\"2026-11-21T04:27:00.123Z\",\"type\":\"err\",\"process_id\":3,\"app_name\":\"api\"}\n"
    );
    let r = v.render(&ev(0, "", LineKind::Pm2, "daemon\n"), &now());
    assert_eq!(r, Rendered::default());
}

#[test]
fn json_mode_falls_back_to_now_for_invalid_time() {
    let mut v = view(LogFlags {
        json: true,
        ..Default::default()
    });
    let mut e = ev(0, "a", LineKind::Out, "\n");
    e.at_ms = i64::MAX;
    let r = v.render(&e, &now());
    assert!(r.stdout.contains("\"message\":\"\""));
    assert!(r
        .stdout
        .contains("\"timestamp\":\"2026-11-21T04:27:00.000Z\""));
}

#[test]
fn format_mode() {
    let mut v = view(LogFlags {
        format: true,
        raw: true,
        timestamp: Some("HH"),
        ..Default::default()
    });
    assert_eq!(v.mode(), Mode::Format);
    let r = v.render(&ev(1, "api", LineKind::Out, "hello\n\nworld"), &now());
    assert_eq!(
        r.stdout,
        "timestamp=2026-11-21-05:27:00+0100 app=api id=1 type=out message=hello\n\
         timestamp=2026-11-21-05:27:00+0100 app=api id=1 type=out message=world\n"
    );
    let r = v.render(&ev(1, "api", LineKind::Err, "bad"), &now());
    assert!(r.stdout.ends_with("app=api id=1 type=error message=bad\n"));
    let r = v.render(&ev(0, "", LineKind::Pm2, "d"), &now());
    assert_eq!(
        r.stdout,
        "timestamp=2026-11-21-05:27:00+0100 app=pm2 message=d\n"
    );
}

#[test]
fn format_mode_highlight() {
    let mut v = view(LogFlags {
        format: true,
        highlight: Some("o"),
        color: true,
        ..Default::default()
    });
    let r = v.render(&ev(1, "a", LineKind::Out, "foo"), &now());
    assert!(r.stdout.ends_with("message=f\x1b[100mo\x1b[49mo\n"));
}

#[test]
fn new_without_timestamp_in_format_mode() {
    let mut v = LogView::new(Mode::Format, None, None, false);
    let r = v.render(&ev(1, "a", LineKind::Out, "x"), &now());
    assert_eq!(r.stdout, "app=a id=1 type=out message=x\n");
}

#[test]
fn banner_and_header() {
    assert_eq!(
        tailing_banner(3, "all", false),
        "[TAILING] Tailing last 3 lines for [all] processes (change the value with --lines option)\n"
    );
    assert_eq!(
        tailing_banner(15, "api", true),
        "\x1b[1m\x1b[90m[TAILING] Tailing last 15 lines for [api] process (change the value with --lines option)\x1b[39m\x1b[22m\n"
    );
    let p = Path::new("/home/deploy/.pm2/pm2.log");
    assert_eq!(
        tail_header(p, 3, false),
        "/home/deploy/.pm2/pm2.log last 3 lines:\n"
    );
    assert_eq!(
        tail_header(p, 3, true),
        "\x1b[90m/home/deploy/.pm2/pm2.log last 3 lines:\x1b[39m\n"
    );
}

#[test]
fn format_line_plain_is_the_tail_shape() {
    assert_eq!(
        format_line_plain("0|api", TAIL_WIDTH, LineKind::Out, "x", false),
        "0|api      | x\n"
    );
}
