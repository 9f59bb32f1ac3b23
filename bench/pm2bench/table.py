"""The Results table of BENCHMARKS.md: one row builder per benchmark, goals from `targets`.

Every builder takes the results dict (as saved in the JSON dump) and returns its rows, each
(metric, PM2, pm2-rs, ratio, target, met) and, where the harness measured one, a 7th cell:
the floor (what the same work costs without a manager: spawning `/bin/true` for a CLI
call, a plain `> file` for the log relay), shown after pm2-rs. A benchmark without both
managers' results adds no row.
"""

from .scaling_view import COMMANDS as SCALING_COMMANDS
from .scaling_view import floor_series, fmt, medians
from .targets import TARGETS, verdict


def fmt_ms(s):
    """A latency summary as "median ms (p90 x)"."""
    return f"{s['median']:.2f} ms (p90 {s['p90']:.2f})"


def true_floor(s):
    """The `/bin/true` floor measured right after a block of CLI calls, or ""."""
    f = s.get("true_floor_median")
    return f"`/bin/true` {f:.2f} ms" if f is not None else ""


def both(r):
    """Both managers measured?"""
    return bool(r) and "pm2" in r and "pm2-rs" in r


def list_rows(res, opts):
    """`pm2 list` / `pm2 jlist` latency rows; only `list` has a goal."""
    rows = []
    for n in opts.list_apps:
        for cmd in ("list", "jlist"):
            r = res.get(f"{cmd}_{n}")
            if not both(r):
                continue
            ratio = r["pm2"]["median"] / r["pm2-rs"]["median"]
            t = TARGETS["list"]
            tgt, ok = (t.text, verdict(t.met(ratio))) if cmd == "list" else ("", "")
            rows.append((f"`pm2 {cmd}`, {n} apps", fmt_ms(r["pm2"]), fmt_ms(r["pm2-rs"]),
                         f"{ratio:.1f}x faster", tgt, ok, true_floor(r["pm2-rs"])))
    return rows


def start_rows(res, opts):
    """`pm2 start` of one more app with each --start-apps running, then how flat it is."""
    rows, ours = [], []
    t = TARGETS["start"]
    for n in opts.start_apps:
        r = res.get(f"start_{n}")
        if not both(r):
            continue
        b = r["pm2-rs"]["median"]
        ours.append((n, b))
        rows.append((f"`pm2 start` of one app, {n} apps running", fmt_ms(r["pm2"]),
                     fmt_ms(r["pm2-rs"]), f"{r['pm2']['median'] / b:.1f}x faster", t.text,
                     verdict(t.met(b)), true_floor(r["pm2-rs"])))
    if len(ours) >= 2:
        (n0, b0), (n1, b1) = min(ours), max(ours)
        f = TARGETS["start_flat"]
        rows.append((f"`pm2 start`: {n1} apps running against {n0}", "", "",
                     f"pm2-rs {b1 / b0:.2f}x", f.text, verdict(f.met(b1 / b0))))
    return rows


def coldstart_rows(res, opts):
    """The cold start row (no goal)."""
    r = res.get("coldstart")
    if not both(r):
        return []
    ratio = r["pm2"]["median"] / r["pm2-rs"]["median"]
    spawn = res.get("spawn_true_ms")
    floor = f"`/bin/true` {spawn['median']:.2f} ms" if spawn else ""
    return [("Daemon cold start (`pm2 ping`, no daemon)", fmt_ms(r["pm2"]),
             fmt_ms(r["pm2-rs"]), f"{ratio:.1f}x faster", "", "", floor)]


def rss_rows(res, opts):
    """Daemon VmRSS with 0 and --rss-apps apps."""
    rows = []
    t = TARGETS["rss"]
    for key, n in (("rss_0", 0), (f"rss_{opts.rss_apps}", opts.rss_apps)):
        r = res.get(key)
        if both(r):
            a, b = r["pm2"]["kib"], r["pm2-rs"]["kib"]
            rows.append((f"Daemon VmRSS, {n} apps", f"{a / 1024:.1f} MiB", f"{b / 1024:.1f} MiB",
                         f"{b / a:.3f} of PM2 ({a / b:.1f}x less)", t.text,
                         verdict(t.met(b / a))))
    return rows


def crash_rows(res, opts):
    """The bare-loop baselines, then the respawn interval against the `sh` loop."""
    r = res.get("crash")
    if not both(r):
        return []
    bare = r["bare_sh"]["median"]
    ours, theirs = r["pm2-rs"]["median"] - bare, r["pm2"]["median"] - bare
    t = TARGETS["crash"]
    return [("Crash→respawn interval (bare `sh` loop baseline)",
             "", "", f"{fmt_ms(r['bare_sh'])}; Python posix_spawn loop "
             f"{fmt_ms(r['bare_py'])}", "", ""),
            ("Crash→respawn interval", fmt_ms(r["pm2"]), fmt_ms(r["pm2-rs"]),
             f"ours − bare = {ours:+.2f} ms; PM2 − bare = {theirs:+.2f} ms",
             t.text, verdict(t.met(ours)), f"bare `sh` loop {bare:.2f} ms")]


def _best(x):
    return min(q["ms"] for q in x["runs"])


def logs_time_row(r):
    """App start → last line on disk, against the plain file (medians and minima)."""
    a, b = r["pm2"], r["pm2-rs"]
    base, pipe = r["bare_file"]["ms"], r["bare_pipe"]["ms"]
    best_file, best_pipe = _best(r["bare_file"]), _best(r["bare_pipe"])
    t = TARGETS["logs_time"]
    ok = t.met(b["ms"] / base, _best(b) / best_file) and b.get("incomplete_runs", 0) == 0
    return ("Log relay: app start → last line on disk in the out log",
            f"{a['ms']:.1f} ms (min {_best(a):.1f})", f"{b['ms']:.1f} ms (min {_best(b):.1f})",
            f"ours {b['ms'] / base:.2f}x plain file by medians, {_best(b) / best_file:.2f}x "
            f"by minima ({b['ms'] / pipe:.2f}x / {_best(b) / best_pipe:.2f}x "
            f"`\\| cat`); PM2 {a['ms'] / base:.2f}x / {_best(a) / best_file:.2f}x",
            t.text, verdict(ok), f"`> file` {base:.1f} ms (min {best_file:.1f})")


def logs_rows(res, opts):
    """Log relay: baselines, time, daemon CPU, memory growth, lines lost."""
    r = res.get("logs")
    if not both(r):
        return []
    a, b = r["pm2"], r["pm2-rs"]
    n = r.get("lines", 1000000)
    cpu_ratio = b["cpu_s"] / a["cpu_s"] if a["cpu_s"] else (0.0 if not b["cpu_s"] else
                                                            float("inf"))
    cpu, grow, lost = TARGETS["logs_cpu"], TARGETS["logs_rss"], TARGETS["logs_lost"]
    return [
        (f"Log relay, {n:,} × 100 B lines: baselines without a manager", "", "",
         f"`spew > file` {r['bare_file']['ms']:.1f} ms; "
         f"`spew \\| cat > file` {r['bare_pipe']['ms']:.1f} ms", "", ""),
        logs_time_row(r),
        ("Log relay: daemon CPU (utime+stime)", f"{a['cpu_s']:.2f} s",
         f"{b['cpu_s']:.2f} s", f"{b['cpu_s'] / a['cpu_s']:.3f} of PM2" if a["cpu_s"] else "",
         cpu.text, verdict(cpu.met(cpu_ratio))),
        ("Log relay: daemon VmRSS growth", f"{a['rss_growth_kib'] / 1024:.1f} MiB",
         f"{b['rss_growth_kib'] / 1024:.1f} MiB", "", grow.text,
         verdict(grow.met(b["rss_growth_kib"] * 1024))),
        ("Log relay: lines lost (all runs)", f"{a['lost_total']}",
         f"{b['lost_total']}", f"malformed lines: PM2 {a['malformed_total']}, "
         f"ours {b['malformed_total']}", lost.text,
         verdict(lost.met(b["lost_total"], b["malformed_total"]))),
    ]


def _fails(x, key):
    return (f"{sum(x[key + '_failed'])} of {sum(x[key + '_requests'])} "
            f"({'/'.join(str(v) for v in x[key + '_failed'])})")


def cluster_rows(res, opts):
    """HTTP throughput (keep-alive, connection per request) and failures during reloads."""
    r = res.get("cluster")
    if r and "skipped" in r:
        return [("HTTP cluster `-i 2`", "", "", f"skipped: {r['skipped']}", "", "")]
    if not both(r):
        return []
    a, b = r["pm2"], r["pm2-rs"]
    ka = b["keepalive_rps"] / a["keepalive_rps"] if a["keepalive_rps"] else float("inf")
    cl = b["close_rps"] / a["close_rps"] if a["close_rps"] else float("inf")
    tk, tc = TARGETS["http_keepalive"], TARGETS["http_close"]
    rc, rk = TARGETS["reload_close"], TARGETS["reload_keepalive"]
    keepalive_diff = sum(b["reload_keepalive_failed"]) - sum(a["reload_keepalive_failed"])
    return [
        ("HTTP `-i 2`, keep-alive (wrk -t2 -c64 -d10s)",
         f"{a['keepalive_rps']:.0f} req/s", f"{b['keepalive_rps']:.0f} req/s",
         f"{ka:.2f}x PM2", tk.text, verdict(tk.met(ka))),
        ("HTTP `-i 2`, new connection per request (`Connection: close`)",
         f"{a['close_rps']:.0f} req/s", f"{b['close_rps']:.0f} req/s",
         f"{cl:.2f}x PM2", tc.text, verdict(tc.met(cl))),
        ("Failed requests during 3 × `pm2 reload`, connection per request",
         _fails(a, "reload_close"), _fails(b, "reload_close"), "", rc.text,
         verdict(rc.met(sum(b["reload_close_failed"])))),
        ("Failed requests during 3 × `pm2 reload`, keep-alive",
         _fails(a, "reload_keepalive"), _fails(b, "reload_keepalive"), "", rk.text,
         verdict(rk.met(keepalive_diff))),
    ]


def _idle_cpu(x):
    return (f"{x['cpu_s']:.2f} s = {x['cpu_pct']:.2f} % of a core "
            f"({x['apps_online']} apps)")


def idle_rows(res, opts):
    """Idle instances: daemon CPU (all must be online to count as met), VmRSS, start time."""
    r = res.get("idle")
    if not both(r):
        return []
    a, b = r["pm2"], r["pm2-rs"]
    t = TARGETS["idle_cpu"]
    return [
        (f"Daemon CPU, {r['apps']:,} idle instances, {r['window_s']:.0f} s window",
         _idle_cpu(a), _idle_cpu(b),
         f"{b['cpu_s'] / a['cpu_s']:.2f}x PM2" if a["cpu_s"] else "",
         t.text, verdict(t.met(b["cpu_pct"]) and b["apps_online"] >= r["apps"])),
        (f"Daemon VmRSS, {r['apps']:,} idle instances",
         f"{a['rss_kib'] / 1024:.1f} MiB ({a['apps_online']} apps)",
         f"{b['rss_kib'] / 1024:.1f} MiB ({b['apps_online']} apps)",
         f"{b['rss_kib'] / a['rss_kib']:.3f} of PM2", "", ""),
        (f"Time until {r['apps']:,} instances are online (one ecosystem JSON)",
         f"{a['all_online_s']:.1f} s", f"{b['all_online_s']:.1f} s",
         f"{a['all_online_s'] / b['all_online_s']:.1f}x faster"
         if b["all_online_s"] else "", "", ""),
    ]


def nodeapi_rows(res, opts):
    """`pm2.list()` from Node (PM2 7's npm client) and bus throughput rows (no goal)."""
    rows = []
    for n in opts.list_apps:
        r = res.get(f"api_list_{n}")
        if both(r):
            ratio = r["pm2"]["median"] / r["pm2-rs"]["median"]
            rows.append((f"`pm2.list()` from Node, {n} apps", fmt_ms(r["pm2"]),
                         fmt_ms(r["pm2-rs"]), f"{ratio:.1f}x faster", "", ""))
    r = res.get("api_bus")
    if both(r):
        a, b = r["pm2"]["lines_per_s"], r["pm2-rs"]["lines_per_s"]
        rows.append(("bus: `log:out` lines/s to a `launchBus()` subscriber",
                     f"{a:,.0f}", f"{b:,.0f}", f"{b / a:.1f}x more" if a else "", "", ""))
    return rows


def _span(points):
    return f"{fmt(points[0][1])} → {fmt(points[-1][1])}"


def scaling_rows(res, opts):
    """One row per `scaling` command: median at the fewest → the most apps, and how much
    pm2-rs grows over that span (the goal: flat)."""
    sc = res.get("scaling")
    if not sc or not sc.get("by_n"):
        return []
    t, rows = TARGETS["scaling_flat"], []
    for cmd in SCALING_COMMANDS:
        a, b = medians(sc, "pm2", cmd), medians(sc, "pm2-rs", cmd)
        if len(a) < 2 or len(b) < 2 or a[-1][0] != b[-1][0]:
            continue
        grow, grow_pm2 = b[-1][1] / b[0][1], a[-1][1] / a[0][1]
        rows.append((f"`pm2 {cmd}`, {b[0][0]:,} → {b[-1][0]:,} apps running (scaling)",
                     _span(a), _span(b), f"pm2-rs grows {grow:.2f}x, PM2 {grow_pm2:.2f}x; "
                     f"{a[-1][1] / b[-1][1]:.0f}x faster at {b[-1][0]:,}", t.text,
                     verdict(t.met(grow)), "`/bin/true` " + _span(floor_series(sc))))
    return rows


def _reload_cell(x):
    return (f"{x['failed']} of {x['sent']} failed "
            f"({'/'.join(str(v) for v in x['failed_per_run'])}), "
            f"no answer for {x['outage_ms']:.0f} ms; "
            f"p50 {x['p50_ms']:.2f} ms, p99 {x['p99_ms']:.2f} ms")


def fork_reload_rows(res, opts):
    """Failed requests and latency during 3 reloads of a fork-mode Python app: PM2, and
    pm2-rs with and without `listen`."""
    r = res.get("fork_reload")
    if not r or "pm2" not in r or "pm2-rs listen" not in r:
        return []
    t = TARGETS["fork_reload_listen"]
    ours = "with `listen`: " + _reload_cell(r["pm2-rs listen"])
    if "pm2-rs" in r:
        ours += "; without: " + _reload_cell(r["pm2-rs"])
    return [("Fork-mode Python HTTP app, 3 × `pm2 reload`, connection per request",
             _reload_cell(r["pm2"]), ours, "", t.text,
             verdict(t.met(r["pm2-rs listen"]["failed"])))]


#: the table's sections, in the order of `all`
ROW_BUILDERS = (list_rows, start_rows, coldstart_rows, rss_rows, crash_rows, logs_rows, cluster_rows,
                idle_rows, nodeapi_rows, scaling_rows, fork_reload_rows)


def render_table(res, opts, pm2_version):
    """The markdown Results table. `opts` carries list_apps and rss_apps (the run's options)."""
    rows = [row for build in ROW_BUILDERS for row in build(res, opts)]
    out = ["| Metric | PM2 " + str(pm2_version) + " | pm2-rs | Floor | Ratio | Target | Met |",
           "|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(with_floor(row)) + " |" for row in rows]
    return "\n".join(out)


def with_floor(row):
    """A builder's row in the table's column order: the floor (7th cell, or "") third."""
    return (*row[:3], row[6] if len(row) > 6 else "", *row[3:6])
