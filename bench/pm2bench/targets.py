"""The goal of every row of BENCHMARKS.md that has one, written once.

The report shows `text` in the Target column and `met(...)` in the Met column; the comment
beside each entry says which measured value (or values: all must meet it) is compared.
"""

import operator
from dataclasses import dataclass

_OPS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    """A goal: the measured value `op` `limit` (e.g. ratio >= 20)."""

    text: str
    op: str
    limit: float

    def met(self, *values):
        """True if every value meets the goal."""
        cmp = _OPS[self.op]
        return all(cmp(v, self.limit) for v in values)


TARGETS = {
    # PM2 median / pm2-rs median of `pm2 list` (5 and 100 apps)
    "list": Target("≥20x", ">=", 20),
    # pm2-rs median of `pm2 start` of one more app (each of --start-apps), ms (issue 19)
    "start": Target("≤3 ms", "<=", 3.0),
    # pm2-rs median of `pm2 start` with the most apps / with the fewest: flat in N
    "start_flat": Target("≤1.2x", "<=", 1.2),
    # pm2-rs median of each `scaling` command at the most apps / at the fewest: flat in N
    "scaling_flat": Target("≤1.2x (flat in N)", "<=", 1.2),
    # pm2-rs daemon VmRSS / PM2 daemon VmRSS (0 and --rss-apps apps)
    "rss": Target("≤0.1", "<=", 0.1),
    # pm2-rs median crash→respawn interval minus the bare `sh` loop's, ms
    "crash": Target("ours ≤ bare+5 ms", "<=", 5.0),
    # pm2-rs relay time / `spew > file`: ratio of medians and ratio of minima
    "logs_time": Target("≤1.1x plain file (both)", "<=", 1.1),
    # pm2-rs daemon CPU / PM2 daemon CPU during the relay
    "logs_cpu": Target("≤1/3 of PM2", "<=", 1 / 3),
    # pm2-rs daemon VmRSS growth during the relay, bytes
    "logs_rss": Target("<5 MB", "<", 5e6),
    # pm2-rs lines lost and lines malformed, all runs
    "logs_lost": Target("0", "==", 0),
    # pm2-rs req/s / PM2 req/s, keep-alive
    "http_keepalive": Target("≥1x PM2", ">=", 1.0),
    # pm2-rs req/s / PM2 req/s, a new connection per request
    "http_close": Target("≥1.3x PM2", ">=", 1.3),
    # pm2-rs failed requests during the reloads, connection per request, all runs
    "reload_close": Target("0", "==", 0),
    # pm2-rs failed requests minus PM2's during the reloads, keep-alive, all runs
    "reload_keepalive": Target("< PM2", "<", 0),
    # pm2-rs with `listen`: failed requests during 3 fork-mode reloads, all runs
    "fork_reload_listen": Target("0 (with `listen`)", "==", 0),
    # pm2-rs daemon CPU in the idle window, % of one core
    "idle_cpu": Target("<1 % of a core", "<", 1.0),
}


def verdict(ok):
    """The Met column: "yes", or a bold "no" that stands out in the table."""
    return "yes" if ok else "**no**"
