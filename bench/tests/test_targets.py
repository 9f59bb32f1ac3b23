"""The goals: every comparison at, below and above its limit."""

import unittest

from pm2bench.targets import TARGETS, Target, verdict


class TargetTest(unittest.TestCase):
    def test_each_operator_at_and_around_its_limit(self):
        # (op, value below the limit, at it, above it) -> expected met
        table = {
            "<": (True, False, False),
            "<=": (True, True, False),
            "==": (False, True, False),
            ">=": (False, True, True),
        }
        for op, expected in table.items():
            t = Target("x", op, 10)
            got = (t.met(9), t.met(10), t.met(11))
            self.assertEqual(got, expected, op)

    def test_every_value_must_meet_the_goal(self):
        t = TARGETS["logs_lost"]
        self.assertTrue(t.met(0, 0))
        self.assertFalse(t.met(0, 2))

    def test_the_goals_of_the_report(self):
        # (target, value that meets it, value that does not)
        cases = [
            ("list", 20.0, 19.9),
            ("start", 3.0, 3.01),
            ("start_flat", 1.2, 1.21),
            ("rss", 0.1, 0.147),
            ("crash", 5.0, 5.01),
            ("logs_time", 1.1, 1.11),
            ("logs_cpu", 0.095, 0.34),
            ("logs_rss", 4_999_999, 5_000_000),
            ("http_keepalive", 1.0, 0.99),
            ("http_close", 1.3, 1.29),
            ("reload_close", 0, 1),
            ("reload_keepalive", -1, 0),
            ("idle_cpu", 0.97, 1.0),
            ("scaling_flat", 1.2, 1.21),
            ("fork_reload_listen", 0, 1),
        ]
        self.assertEqual({c[0] for c in cases} | {"logs_lost"}, set(TARGETS))
        for key, ok, not_ok in cases:
            self.assertTrue(TARGETS[key].met(ok), key)
            self.assertFalse(TARGETS[key].met(not_ok), key)

    def test_verdict_marks_a_miss_in_bold(self):
        self.assertEqual(verdict(True), "yes")
        self.assertEqual(verdict(False), "**no**")


if __name__ == "__main__":
    unittest.main()
