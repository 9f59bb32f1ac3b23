#!/usr/bin/env python3
"""Side-by-side benchmarks of pm2-rs against real PM2 7 (Python 3 stdlib only).

Subcommands: list, start, coldstart, rss, crash, logs, cluster, idle, nodeapi, all, report. See bench/README.md;
the code is the `pm2bench` package next to this file.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pm2bench.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
