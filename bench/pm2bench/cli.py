"""Side-by-side benchmarks of pm2-rs against real PM2 7 (Python 3 stdlib only).

Subcommands: list, start, coldstart, rss, crash, logs, cluster, idle, nodeapi, scaling,
reload, all, report. See bench/README.md.

Every benchmark gives each manager its own temporary PM2_HOME and always stops
that manager's daemon at the end (`pm2 kill`, then SIGKILL of the pid in
$PM2_HOME/pm2.pid if it is still alive, then SIGKILL of any leftover process
whose environment carries that unique temporary PM2_HOME). Nothing is ever
killed by name.
"""

import argparse
import json
import os
import shlex
import signal
import sys

from .benchmarks import BENCHES, PREFLIGHTS
from .common import BENCH_DIR, REPO, log
from .context import Ctx
from .machine import machine_info
from .procfs import loadavg
from .plot import write_scaling_png
from .report import write_markdown
from .scaling_view import scaling_table
from .table import render_table

#: options of a saved run that `report` does not take over (they concern this call)
NOT_RESTORED = ("bench", "from_json", "write", "notes_file", "json", "plot", "plot_venv",
                "no_plot")


def _int_list(s):
    return [int(x) for x in s.split(",")]


#: (flag, type, default) of the numeric knobs of the benchmarks
KNOBS = (
    ("--runs", int, 30), ("--warmup", int, 5), ("--list-apps", _int_list, [5, 100]),
    ("--start-apps", _int_list, [0, 100]),
    ("--cold-runs", int, 10), ("--rss-apps", int, 100), ("--settle", float, 5.0),
    ("--crash-starts", int, 200), ("--crash-timeout", float, 60.0),
    ("--log-lines", int, 1000000), ("--log-runs", int, 3), ("--log-timeout", float, 120.0),
    ("--cluster-runs", int, 3), ("--wrk-secs", int, 10), ("--reload-secs", int, 12),
    ("--reload-gap", float, 2.0), ("--idle-apps", int, 1000), ("--idle-secs", float, 30.0),
    ("--idle-settle", float, 10.0),
    ("--scale-apps", _int_list, [1, 10, 100, 1000]), ("--scale-runs", int, 15),
    ("--scale-slow-runs", int, 3), ("--scale-settle", float, 2.0),
    ("--fork-reload-runs", int, 3),
)


def parser():
    """The command line of bench/run.py."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench", choices=[*BENCHES, "all", "report"],
                    help="`report` re-renders BENCHMARKS.md from --from-json without running")
    ap.add_argument("--from-json", help="for `report`: a file written by --json")
    ap.add_argument("--pm2-rs", help="path to our pm2 binary (default: cargo build --release)")
    ap.add_argument("--src", default=REPO, help="pm2-rs checkout to build (and whose "
                    "commit is reported); default: this repository")
    ap.add_argument("--pm2-npm", help="folder holding (or to receive) `npm install pm2@7`; "
                    "default $PM2_NPM_DIR, else a fresh temp folder")
    ap.add_argument("--only", choices=["pm2", "pm2-rs"], help="run one manager only")
    for flag, typ, default in KNOBS:
        ap.add_argument(flag, type=typ, default=default)
    ap.add_argument("--idle-start-timeout", type=float, default=300.0,
                    help="give up waiting for all --idle-apps to be online after this long "
                    "and measure with those that are")
    ap.add_argument("--plot", default=os.path.join(REPO, "target", "bench", "scaling.png"),
                    help="the PNG `scaling` writes (default target/bench/scaling.png)")
    ap.add_argument("--plot-venv", help="the venv with matplotlib for the plot (default "
                    "target/py-bench, created with pip on first use)")
    ap.add_argument("--no-plot", action="store_true", help="`scaling` without its PNG")
    ap.add_argument("--write", action="store_true", help="write BENCHMARKS.md")
    ap.add_argument("--notes-file", default=os.path.join(BENCH_DIR, "analysis.md"),
                    help="markdown appended to BENCHMARKS.md (default bench/analysis.md, "
                    "if present)")
    ap.add_argument("--json", help="also dump raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the temp work folder")
    return ap


def restore_options(args, saved):
    """Take over the options of the run that wrote the dump `saved` (they shape the report)."""
    for k, v in saved.get("args", {}).items():
        if k not in NOT_RESTORED:
            setattr(args, k, v)


def report(args):
    """`report`: re-render from a --json dump, with the options of the run that made it."""
    with open(args.from_json) as f:
        saved = json.load(f)
    restore_options(args, saved)
    table = render_table(saved["results"], args, saved["machine"].get("pm2"))
    print(table)
    sc = saved["results"].get("scaling")
    if sc:  # the scaling tables, and its plot drawn again from the saved medians
        print(f"\n{scaling_table(sc)}\n\n{scaling_table(sc, cpu=True)}")
        if not args.no_plot:
            log(f"[scaling] wrote {write_scaling_png(sc, args.plot, args.plot_venv)}")
    if args.write:
        write_markdown(saved["results"], table, saved["machine"], saved["command"], args)


def measure(args):
    """Run the benchmark(s); returns (results, machine facts)."""
    ctx = Ctx(args)
    res = {}
    start = loadavg()
    names = list(BENCHES) if args.bench == "all" else [args.bench]
    try:
        ctx.setup()
        for name in names:  # what would stop a benchmark half way stops the run now
            if name in PREFLIGHTS:
                PREFLIGHTS[name](ctx)
        for name in names:
            BENCHES[name](ctx, res)
    finally:
        ctx.cleanup()
    info = machine_info(start if start is not None else "?", ctx.pm2_version, ctx.ours_rev)
    return res, info


def main(argv=None):
    """Entry point of bench/run.py."""
    args = parser().parse_args(argv)

    # turn SIGTERM/SIGHUP into exceptions so every `finally` (daemon kill) runs
    def _sig(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, _sig)
    signal.signal(signal.SIGHUP, _sig)

    if args.bench == "report":
        report(args)
        return
    res, info = measure(args)
    table = render_table(res, args, info["pm2"])
    command = "python3 bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print()
    print(table)
    print()
    for k, v in info.items():
        print(f"- {k}: {v}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": res, "machine": info, "command": command,
                       "args": vars(args)}, f, indent=1)
    if args.write:
        write_markdown(res, table, info, command, args)
