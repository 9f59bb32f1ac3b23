"""BENCHMARKS.md: the Results table, a note per benchmark on how it was measured, the
machine, the command, the raw results and bench/analysis.md, all from the saved data."""

import json
import os

from .common import REPO, log

#: the Machine section: (key in the "machine" dict, label), in this order
MACHINE_FIELDS = (
    ("nproc", "nproc"), ("cpu", "CPU"), ("memory", "Memory"), ("kernel", "Kernel"),
    ("node", "Node"), ("pm2", "PM2 version"), ("pm2_rs", "pm2-rs commit"), ("date", "Date"),
    ("loadavg_start", "Load average at start (1/5/15 min)"),
    ("loadavg_end", "Load average at end"),
)


def fixed_notes(res, opts):
    """The notes of list, coldstart, rss and crash (always shown)."""
    spawn = res.get("spawn_true_ms")
    return [
        f"- Latencies are wall time of one CLI invocation as seen by the harness "
        f"(Python `subprocess.run`, output to /dev/null), median and p90 over "
        f"{opts.runs} runs after {opts.warmup} warm-up runs"
        + (f"; spawning `/bin/true` the same way costs {spawn['median']:.2f} ms "
           f"(p90 {spawn['p90']:.2f}) at the start of the run" if spawn else "")
        + "; the raw results also give, per block, the /bin/true median measured right after "
        "it (`true_floor_median`). The harness floor is included in both managers' numbers, "
        "which understates ratios for pm2-rs.",
        "- Apps: `app.sh` (`exec sleep 100000`, run through bash by both managers). "
        "PM2 gets its apps from one ecosystem JSON, pm2-rs from repeated "
        "`pm2 start app.sh --name app-N` (setup only, not timed).",
        f"- Cold start: `pm2 ping` with no daemon running (the CLI spawns the daemon and "
        f"waits for it), median over {opts.cold_runs} runs, after a discarded first "
        f"run in the fresh PM2_HOME; `pm2 kill` between runs.",
        f"- RSS: VmRSS of the pid in `$PM2_HOME/pm2.pid`, {opts.settle:.0f} s after the "
        f"apps are online, largest of 5 samples 0.4 s apart. Only the daemon, not the apps.",
        f"- Crash→respawn: `bench/crash.c` appends CLOCK_REALTIME µs to a file and exits 1; "
        f"interval between consecutive starts, first 5 starts dropped, "
        f"{opts.crash_starts} intervals. Both managers: interpreter none, "
        f"max_restarts 10000000, min_uptime 1000 (PM2 via ecosystem JSON).",
    ]


def logs_note(lg):
    """How the log relay was measured."""
    runs = len(lg.get("pm2-rs", lg.get("pm2", {})).get("runs", []))
    return (
        f"- Log relay: `bench/spew.c` writes {lg.get('lines', 0):,} lines of exactly 100 bytes "
        f"(sequence number + filler) to stdout with write(2) in 64 KiB chunks, then idles "
        f"(started with autorestart off, interpreter none, default log settings, from the "
        f"same ecosystem JSON for both). Time runs from the app's own first instruction "
        f"(CLOCK_REALTIME it records) until `$PM2_HOME/logs/spew-out.log` reaches the exact "
        f"expected size (polled every 2 ms), so CLI and spawn overhead are excluded. Daemon "
        f"CPU is utime+stime of the pid in `pm2.pid` (whole thread group, children "
        f"excluded) from just before `pm2 start` to that moment; RSS growth is VmRSS at "
        f"that moment minus VmRSS before. Lines lost: sequence numbers missing from the "
        f"log. Baselines: the same binary with stdout redirected to a file (`spew > file`) "
        f"and through a pipe (`spew | cat > file`). Medians of {runs} "
        f"runs; each manager run uses a fresh daemon.")


CLUSTER_NOTE = (
    "- HTTP cluster: `http.createServer((q,s)=>s.end('ok')).listen(port,'127.0.0.1')` "
    "started with `pm2 start server.js --name web -i 2`. Load: `wrk -t2 -c64 -d10s` "
    "(keep-alive) and the same with `-H 'Connection: close'` (wrk reconnects for every "
    "request), after a 2 s warm-up. Reloads: wrk runs 12 s while `pm2 reload web` is "
    "called 3 times, ~2 s apart (each call waits for the previous to return); "
    "failed = wrk socket errors (connect+read+write+timeout) + non-2xx responses, shown "
    "as total of all requests (per run). Medians of the per-run throughputs; managers "
    "alternate run by run, each run with a fresh daemon. The machine has only 2 cores: "
    "wrk, the 2 Node workers and the daemon share them, so absolute req/s are "
    "load-generator bound; the load generator is identical for both managers.")


def idle_note(idle, info):
    """How the idle instances were measured; says so if they come from another run."""
    pa, pb = idle["pm2"], idle["pm2-rs"]
    separate = (f" Measured separately from the other rows: pm2-rs {idle.get('pm2_rs')}, "
                f"{idle.get('date')}, load average {idle.get('loadavg_start')} → "
                f"{idle.get('loadavg_end')}; the other rows are from the run described "
                f"under Machine, merged unchanged.")
    return (
        f"- Idle instances: {idle['apps']:,} apps `sleep 100000` run directly "
        f"(`interpreter none`), started from one ecosystem JSON (names app-0..app-"
        f"{idle['apps'] - 1}) by both managers; wait until `jlist` shows them online "
        f"(PM2: {pa['apps_online']} online after {pa['all_online_s']:.0f} s, pm2-rs: "
        f"{pb['apps_online']} after {pb['all_online_s']:.0f} s), settle "
        f"{idle['settle_s']:.0f} s, then the daemon's utime+stime (`/proc/<pm2.pid>/stat`, "
        f"whole thread group) before and after a {idle['window_s']:.0f} s window in which "
        f"nothing talks to the daemon; % of one core = CPU seconds / window. Cross-check "
        f"from `/proc/<pid>/task/*/schedstat` (ns): PM2 {pa['sched_cpu_s']:.3f} s, pm2-rs "
        f"{pb['sched_cpu_s']:.3f} s. VmRSS read at the end of the window. Both at their "
        f"default sampling: pm2-rs samples every instance once per second "
        f"(`PM2_WORKER_INTERVAL`=1000 ms), PM2's worker runs every 30 s, i.e. about once "
        f"per window. The harness sets its soft RLIMIT_NOFILE to the hard limit for the run "
        f"(inherited by CLI, daemon and apps): {idle['nofile']}, was "
        f"{idle['nofile_before']}; daemon fds at the end: PM2 {pa['daemon_fds']}, "
        f"pm2-rs {pb['daemon_fds']}, so the limit was not hit."
        + (separate if idle.get("pm2_rs") != info.get("pm2_rs") else ""))


START_NOTE = (
    "- `pm2 start` of one app: with N apps (`app.sh`, as for `list`) online, the wall time of "
    "`pm2 start app.sh --name x` (table printed, output to /dev/null), each timed start "
    "followed by an untimed `pm2 delete x`, so every run starts from the same N; median and "
    "p90 as for `list`.")


SCALING_NOTE = (
    "- Scaling: per N (`--scale-apps`) and manager a fresh daemon with N idle `sleep` apps "
    "(one ecosystem JSON, interpreter none); per repetition `start app.sh --name x`, "
    "`restart x`, `stop x`, `delete x` (not timed), `list`; medians of `--scale-runs` "
    "repetitions (PM2 at 1,000 apps: `--scale-slow-runs`), each call's CPU time (CLI via "
    "RUSAGE_CHILDREN, daemon via schedstat) in the raw results; the floor is `/bin/true` "
    "spawned once per timed call. The PNG is written by the run (`--plot`).")
FORK_RELOAD_NOTE = (
    "- Fork-mode reload: `tests/e2e/fixtures/listen_app.py` (Python `http.server`) reloaded "
    "3 times per run under a connection-per-request client loop (2 s timeout); PM2 7 and "
    "pm2-rs without `listen`: the app binds its own port; pm2-rs with `listen`: the daemon "
    "binds it and passes fd 3. \"No answer for\": the summed time from a first failed "
    "request to the next answered one.")


def notes(res, opts, info):
    """All the "Notes:" bullets, those of benchmarks without results left out."""
    out = fixed_notes(res, opts)
    if any(k.startswith("start_") for k in res):
        out.append(START_NOTE)
    if res.get("logs"):
        out.append(logs_note(res["logs"]))
    cl = res.get("cluster")
    if cl and "skipped" not in cl:
        out.append(CLUSTER_NOTE)
    idle = res.get("idle")
    if idle and "pm2" in idle and "pm2-rs" in idle:
        out.append(idle_note(idle, info))
    if res.get("scaling"):
        out.append(SCALING_NOTE)
    if res.get("fork_reload"):
        out.append(FORK_RELOAD_NOTE)
    return out


def render_markdown(res, table, info, command, opts, appendix=None):
    """The whole of BENCHMARKS.md; `appendix` (bench/analysis.md's text) goes at the end."""
    lines = [
        "# Benchmarks: pm2-rs vs PM2 7",
        "",
        "Generated by `bench/run.py` (see `bench/README.md`). Lower is better everywhere "
        "except requests per second.",
        "",
        "## Results",
        "",
        table,
        "",
        "Notes:",
        *notes(res, opts, info),
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {label}: {info.get(k, '?')}" for k, label in MACHINE_FIELDS]
    lines += ["", "## Command", "", "```", command, "```", "",
              "## Raw results", "", "```json", json.dumps(res, indent=1), "```", ""]
    if appendix is not None:
        lines += [appendix.rstrip(), ""]
    return "\n".join(lines)


def read_appendix(path):
    """The notes file's text, or None if there is none."""
    if path and os.path.exists(path):
        with open(path) as f:
            return f.read()
    return None


def write_markdown(res, table, info, command, opts):
    """Write REPO/BENCHMARKS.md (with --notes-file appended)."""
    path = os.path.join(REPO, "BENCHMARKS.md")
    text = render_markdown(res, table, info, command, opts, read_appendix(opts.notes_file))
    with open(path, "w") as f:
        f.write(text)
    log(f"wrote {path}")
