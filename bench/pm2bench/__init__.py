"""The pm2-rs vs PM2 7 benchmark harness (Python 3 stdlib only); `bench/run.py` is its entry.

Layout: `cli` parses the subcommand and runs it; `context` installs PM2 and builds pm2-rs;
`managers` drives one manager in its own temporary PM2_HOME; `benchmarks/` holds one module
per benchmark; `targets` is the goal of every row; `table` and `report` turn results into
BENCHMARKS.md; `machine`, `procfs`, `stats`, `cprog` and `common` are the small helpers.
"""
