"""The `start` benchmark: its timing loop puts the table back after every start, and its
rows (one per N, then how flat pm2-rs is in N) appear only with both managers' data."""

import unittest

from pm2bench.benchmarks.start import time_starts
from pm2bench.cli import parser
from pm2bench.table import start_rows


class FakeManager:
    """Records the CLI calls; every timed call takes 2 ms."""

    def __init__(self):
        self.calls = []

    def time_cmd(self, *args):
        self.calls.append(("timed", *args))
        return 2.0

    def run(self, *args):
        self.calls.append(("run", *args))


def result(pm2_ms, ours_ms):
    return {"pm2": {"median": pm2_ms, "p90": pm2_ms},
            "pm2-rs": {"median": ours_ms, "p90": ours_ms}}


class StartBenchTest(unittest.TestCase):
    def setUp(self):
        self.opts = parser().parse_args(["start"])

    def test_each_start_is_undone_before_the_next(self):
        m = FakeManager()
        s = time_starts(m, "/w/app.sh", runs=3, warm=1)
        start = ("timed", "start", "/w/app.sh", "--name", "x")
        self.assertEqual(m.calls, [start, ("run", "delete", "x")] * 4)
        self.assertEqual((s["n"], s["median"]), (3, 2.0))

    def test_rows_per_n_then_flatness(self):
        res = {"start_0": result(300.0, 2.5), "start_100": result(340.0, 2.75)}
        rows = start_rows(res, self.opts)
        self.assertEqual([r[0] for r in rows], [
            "`pm2 start` of one app, 0 apps running",
            "`pm2 start` of one app, 100 apps running",
            "`pm2 start`: 100 apps running against 0"])
        self.assertEqual(rows[0][3:6], ("120.0x faster", "≤3 ms", "yes"))
        self.assertEqual(rows[2][3:6], ("pm2-rs 1.10x", "≤1.2x", "yes"))

    def test_growth_with_n_is_a_miss(self):
        res = {"start_0": result(300.0, 5.1), "start_100": result(340.0, 11.8)}
        rows = start_rows(res, self.opts)
        self.assertEqual(rows[1][5], "**no**")
        self.assertEqual(rows[2][3:6], ("pm2-rs 2.31x", "≤1.2x", "**no**"))

    def test_no_rows_without_both_managers(self):
        res = {"start_0": {"pm2-rs": {"median": 2.0, "p90": 2.0}}}
        self.assertEqual(start_rows(res, self.opts), [])


if __name__ == "__main__":
    unittest.main()
