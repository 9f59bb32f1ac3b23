"""Paths and the progress log shared by every module of the harness."""

import os
import sys

#: bench/ (holds crash.c, spew.c, analysis.md)
BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: the repository root, where BENCHMARKS.md is written
REPO = os.path.dirname(BENCH_DIR)
#: what `npm install` fetches as "real PM2"
PM2_SPEC = os.environ.get("PM2_NPM_SPEC", "pm2@7")


def log(*a):
    """Progress goes to stderr so stdout stays the table."""
    print(*a, file=sys.stderr, flush=True)
