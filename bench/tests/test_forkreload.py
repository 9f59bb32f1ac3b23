"""The `reload` benchmark's pure parts: how a request's outcome is classified and counted,
the ecosystem of each setup, the totals over runs, and its Results row."""

import http.client
import json
import os
import socket
import tempfile
import unittest

from pm2bench.benchmarks.forkreload import aggregate, ecosystem
from pm2bench.cli import parser
from pm2bench.httpclient import classify, outcome_summary, served_pid
from pm2bench.table import fork_reload_rows


class Home:
    def __init__(self, d):
        self.home = d


def totals(failed, sent):
    return {"failed": failed, "sent": sent, "failed_per_run": [failed], "p50_ms": 1.0,
            "p99_ms": 9.0, "outage_ms": 3.0 * failed}


class ForkReloadTest(unittest.TestCase):
    def test_failure_kinds(self):
        self.assertEqual(classify(ConnectionRefusedError()), "refused")
        self.assertEqual(classify(ConnectionResetError()), "reset")
        self.assertEqual(classify(socket.timeout()), "timeout")
        self.assertEqual(classify(http.client.RemoteDisconnected()), "closed")
        self.assertEqual(classify(BrokenPipeError()), "BrokenPipeError")

    def test_only_a_200_with_a_pid_is_an_answer(self):
        self.assertEqual(served_pid(200, b"pid=42"), 42)
        self.assertIsNone(served_pid(502, b"pid=42"))
        self.assertIsNone(served_pid(200, b"hello"))

    def test_summary_counts_failures_and_takes_latency_of_answers_only(self):
        out = [(0.0, 1.0, None, 10), (0.001, 3.0, None, 11), (0.004, 2000.0, "timeout", None),
               (2.004, 0.5, "refused", None), (2.005, 0.6, "refused", None),
               (2.006, 1.0, None, 11), (2.007, 1.0, "refused", None)]
        s = outcome_summary(out)
        self.assertEqual((s["sent"], s["failed"], s["pids"]), (7, 4, 2))
        self.assertEqual(s["by_kind"], {"timeout": 1, "refused": 3})
        self.assertEqual((s["p50_ms"], s["max_ms"]), (1.0, 3.0))
        # 4 ms → 2006 ms without an answer, then the last request's own 1 ms
        self.assertAlmostEqual(s["outage_ms"], 2003.0)
        self.assertAlmostEqual(s["longest_outage_ms"], 2002.0)

    def test_each_setup_gets_listen_or_its_own_port(self):
        with tempfile.TemporaryDirectory() as d:
            with open(ecosystem(Home(d), 4000, True)) as f:
                app = json.load(f)["apps"][0]
            self.assertEqual(app["listen"], ["127.0.0.1:4000"])
            self.assertNotIn("env", app)
            with open(ecosystem(Home(d), 4000, False)) as f:
                app = json.load(f)["apps"][0]
            self.assertEqual(app["env"], {"SELF_BIND_PORT": "4000"})
            self.assertNotIn("listen", app)
            self.assertTrue(os.path.exists(app["script"]), app["script"])

    def test_totals_pool_every_runs_answers(self):
        runs = [{"failed": 0, "sent": 2, "reloads": [{"cli_ms": 5.0}], "outage_ms": 0.0,
                 "longest_outage_ms": 0.0,
                 "_outcomes": [(0.0, 1.0, None, 1), (0.1, 2.0, None, 2)]},
                {"failed": 1, "sent": 2, "reloads": [{"cli_ms": 7.0}], "outage_ms": 1.0,
                 "longest_outage_ms": 1.0,
                 "_outcomes": [(0.0, 3.0, None, 3), (0.1, 1.0, "refused", None)]}]
        t = aggregate(runs)
        self.assertEqual((t["sent"], t["failed"], t["failed_per_run"]), (4, 1, [0, 1]))
        self.assertEqual((t["outage_ms"], t["longest_outage_ms"]), (1.0, 1.0))
        self.assertEqual((t["p50_ms"], t["reload_cli_ms_median"]), (2.0, 6.0))
        self.assertNotIn("_outcomes", t["runs"][0])

    def test_the_row_compares_pm2_with_both_pm2_rs_setups(self):
        opts = parser().parse_args(["reload"])
        res = {"fork_reload": {"pm2": totals(40, 900), "pm2-rs listen": totals(0, 1000),
                               "pm2-rs": totals(12, 950)}}
        (row,) = fork_reload_rows(res, opts)
        self.assertEqual(row[1], "40 of 900 failed (40), no answer for 120 ms; "
                                 "p50 1.00 ms, p99 9.00 ms")
        self.assertTrue(row[2].startswith("with `listen`: 0 of 1000 failed"), row[2])
        self.assertIn("; without: 12 of 950 failed", row[2])
        self.assertEqual(row[4:], ("0 (with `listen`)", "yes"))
        res["fork_reload"]["pm2-rs listen"] = totals(1, 1000)
        self.assertEqual(fork_reload_rows(res, opts)[0][5], "**no**")
        self.assertEqual(fork_reload_rows({}, opts), [])


if __name__ == "__main__":
    unittest.main()
