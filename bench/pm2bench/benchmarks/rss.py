"""`rss`: VmRSS of the daemon with 0 and `--rss-apps` apps after `--settle` seconds."""

import time

from ..common import log
from ..managers import Session, start_apps
from ..procfs import rss_kib


def run(ctx, res):
    """Fills res["rss_0"] and res["rss_<n>"] per manager (largest of 5 samples)."""
    settle = ctx.args.settle
    for n in (0, ctx.args.rss_apps):
        for label in ctx.labels:
            with Session(ctx, label) as m:
                m.run("ping")
                start_apps(m, ctx.app, n)
                time.sleep(settle)
                pid = m.daemon_pid()
                samples = []
                for _ in range(5):
                    samples.append(rss_kib(pid))
                    time.sleep(0.4)
                # largest of the samples (GC timing makes Node's RSS wobble)
                kib = max(samples)
                res.setdefault(f"rss_{n}", {})[label] = {"kib": kib, "samples": samples}
                log(f"[rss] {label} {n} apps: daemon {pid} VmRSS {kib} KiB {samples}")
