//! The dashboard's history charts in headless Chromium (pm2-rs beyond PM2 7, whose charts
//! live in the hosted PM2 Plus service, so no reference twin). They are drawn by the
//! vendored uPlot: one `.uplot` canvas per metric (cpu, memory, restarts and the app's
//! custom metric, titled with its unit), a legend with the series' names, live growth at
//! 1 s through `&after=` fetches, the 7-day range read from the minute tier and back, a
//! width that follows the charts' box, under the dashboard's strict CSP (no violation
//! reported), with uPlot's files served as immutable and revalidated by ETag.

use crate::harness::http::request;
use crate::harness::*;
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// What the page holds for the chart of `metric` (`null` while there is none): its
/// points (from the uPlot instance), its canvas' size, legend labels and title, whether
/// every point is on a minute (the minute tier), and its width against its box's.
fn chart(browser: &mut browser::Browser, metric: &str) -> Value {
    let js = format!(
        "(() => {{ const c = state.charts[{metric:?}]; if (!c) return null; \
         const root = c.figure.querySelector('.uplot'); \
         const canvas = root ? root.querySelector('canvas') : null; \
         const xs = c.plot.data[0]; \
         return {{ points: xs.length, minutes: xs.every(t => t % 60 === 0), \
           canvas: canvas ? [canvas.width, canvas.height] : [0, 0], \
           labels: root ? [...root.querySelectorAll('.u-legend .u-label')].map(e => e.textContent) : [], \
           title: root && root.querySelector('.u-title') ? root.querySelector('.u-title').textContent : '', \
           width: root ? Math.round(root.getBoundingClientRect().width) : 0, \
           box: c.figure.clientWidth }}; }})()"
    );
    browser.eval(&js).unwrap_or(Value::Null)
}

fn points(browser: &mut browser::Browser, metric: &str) -> i64 {
    chart(browser, metric)["points"].as_i64().unwrap_or(-1)
}

/// A drawn chart: points, a canvas of non-zero size, the time and metric labels.
fn drawn(c: &Value, metric: &str, at_least: i64) -> bool {
    let canvas = |i: usize| c["canvas"][i].as_u64().unwrap_or(0) > 0;
    let labels: Vec<&str> = c["labels"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    c["points"].as_i64().unwrap_or(-1) >= at_least
        && canvas(0)
        && canvas(1)
        && labels == ["time", metric]
}

/// Clicks a range button and waits for it to be marked.
fn range(p: &Pm2, browser: &mut browser::Browser, range: &str) {
    let click = format!(
        "(() => {{ const b = document.querySelector('#history button[data-range=\"{range}\"]'); \
         if (b) b.click(); return !!b; }})()"
    );
    assert_eq!(browser.eval(&click).ok(), Some(Value::Bool(true)));
    p.wait_until(T, &format!("the {range} button marked"), || {
        browser
            .eval("document.querySelector('#history button.on').dataset.range")
            .ok()
            == Some(Value::String(range.into()))
    });
}

/// uPlot's files: immutable, with an ETag a browser's revalidation gets a 304 for; the
/// page's CSP unchanged (no `unsafe-inline` for uPlot's canvas and CSSOM styles).
fn served_as_immutable(p: &Pm2, port: u16) {
    let path = "/assets/vendor/uplot-1.6.32/uPlot.iife.min.js";
    let r = request(port, "GET", path, &[]).unwrap_or_else(|e| p.fail(&e, None));
    assert_eq!(r.status, 200);
    assert!(r
        .text()
        .starts_with("/*! https://github.com/leeoniya/uPlot (v1.6.32) */"));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let tag = r.header("etag").expect("an ETag").to_string();
    let again = request(port, "GET", path, &[("If-None-Match", tag.as_str())])
        .unwrap_or_else(|e| p.fail(&e, None));
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let csp = r.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("script-src 'self';") && csp.contains("style-src 'self';"));
    assert!(!csp.contains("unsafe"), "{csp}");
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
#[cfg_attr(no_chromium, ignore = "chromium not on PATH (scripts/install-deps.sh)")]
fn plus_charts_in_chromium_are_uplot_canvases_that_grow_live_and_switch_range() {
    require(
        have("chromium"),
        "chromium not on PATH (scripts/install-deps.sh)",
    );
    let p = Pm2::new("plus_chart_browser");
    let port = crate::plus::world(&p);
    let token = crate::plus::plus(&p, port);
    served_as_immutable(&p, port);
    let mut browser = browser::Browser::launch(&p.dir).unwrap_or_else(|e| p.fail(&e, None));
    browser
        .navigate(&format!("http://127.0.0.1:{port}/login?token={token}"))
        .unwrap_or_else(|e| p.fail(&e, None));
    // Every CSP violation from here on is kept (the charts are drawn after the click).
    let open = "(() => { const b = document.querySelector('#processes tr[data-name=\"axm\"] button[data-chart]'); \
                if (!b || typeof uPlot !== 'function') return false; \
                if (!window.cspSeen) { window.cspSeen = []; document.addEventListener('securitypolicyviolation', \
                  e => window.cspSeen.push(e.violatedDirective + ' ' + e.blockedURI)); } \
                b.click(); return true; })()";
    p.wait_until(T, "uPlot loaded and axm's chart button clicked", || {
        browser.eval(open).ok() == Some(Value::Bool(true))
    });
    p.wait_until(
        T,
        "uPlot charts of cpu, memory, restarts and Req/min",
        || {
            drawn(&chart(&mut browser, "cpu"), "cpu", 3)
                && drawn(&chart(&mut browser, "memory"), "memory", 3)
                && drawn(&chart(&mut browser, "restarts"), "restarts", 3)
                && drawn(&chart(&mut browser, "Req/min"), "Req/min", 1)
        },
    );
    assert_eq!(chart(&mut browser, "Req/min")["title"], "Req/min (req)");
    assert_eq!(chart(&mut browser, "memory")["title"], "memory (bytes)");
    let before = points(&mut browser, "memory");
    p.wait_until(T, "the memory chart growing live", || {
        points(&mut browser, "memory") > before
    });
    // It grows by asking for the points after the last one it holds.
    let incremental = "performance.getEntriesByType('resource')\
        .some(e => e.name.includes('/api/history?') && e.name.includes('metric=memory') \
        && e.name.includes('&after='))";
    assert_eq!(browser.eval(incremental).ok(), Some(Value::Bool(true)));
    // The width follows the charts' box, also when the box narrows.
    let fits = |c: &Value| {
        let (w, b) = (
            c["width"].as_i64().unwrap_or(0),
            c["box"].as_i64().unwrap_or(-9),
        );
        w > 0 && (w - b).abs() <= 2
    };
    let first = chart(&mut browser, "cpu");
    assert!(fits(&first), "{first}");
    let wide = first["width"].as_i64().unwrap_or(0);
    // One column of 400 px (the grid's columns are at least 380 px wide).
    browser
        .eval("document.getElementById('charts').style.width = '400px'; true")
        .unwrap_or_else(|e| p.fail(&e, None));
    p.wait_until(T, "the cpu chart narrowed with its box", || {
        let c = chart(&mut browser, "cpu");
        fits(&c) && c["width"].as_i64().unwrap_or(999) <= 400
    });
    browser
        .eval("document.getElementById('charts').style.width = ''; document.getElementById('history').scrollIntoView(); true")
        .unwrap_or_else(|e| p.fail(&e, None));
    p.wait_until(T, "the cpu chart as wide as before", || {
        let c = chart(&mut browser, "cpu");
        fits(&c) && (c["width"].as_i64().unwrap_or(0) - wide).abs() <= 2
    });
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plus-chart.png");
    browser
        .screenshot(&shot)
        .unwrap_or_else(|e| p.fail(&e, None));
    // 7 days: the same charts now hold the minute tier's points (each on a minute).
    let held = points(&mut browser, "cpu");
    range(&p, &mut browser, "7d");
    p.wait_until(T, "the cpu chart holding the 7d answer", || {
        let c = chart(&mut browser, "cpu");
        c["minutes"] == Value::Bool(true) && c["points"].as_i64().unwrap_or(held) < held
    });
    assert!(drawn(&chart(&mut browser, "cpu"), "cpu", 0));
    // And back to the last hour, live again.
    range(&p, &mut browser, "1h");
    p.wait_until(T, "the cpu chart back on the 1 s points", || {
        let c = chart(&mut browser, "cpu");
        c["minutes"] == Value::Bool(false) && c["points"].as_i64().unwrap_or(0) >= 3
    });
    let seen = browser
        .eval("window.cspSeen")
        .unwrap_or_else(|e| p.fail(&e, None));
    assert_eq!(seen, Value::Array(vec![]), "CSP violations while charting");
}
