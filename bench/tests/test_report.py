"""The report rendered from a saved dump: byte for byte what the former single-file
bench/run.py rendered from the same dump (tests/data/BENCHMARKS.golden.md), and rows
appearing, disappearing and failing with the data."""

import copy
import json
import os
import unittest

from pm2bench.cli import parser, restore_options
from pm2bench.report import render_markdown
from pm2bench.table import render_table

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.saved = json.loads(load("run.json"))
        self.opts = parser().parse_args(["report"])
        restore_options(self.opts, self.saved)

    def table(self, results):
        return render_table(results, self.opts, self.saved["machine"]["pm2"])

    def rows(self, results):
        """{metric: (pm2, pm2-rs, ratio, target, met)} of the rendered table (the floor,
        the 4th column, is in floors())."""
        lines = self.table(results).splitlines()[2:]
        cells = [line[2:-2].split(" | ") for line in lines]  # "| " + " | ".join(row) + " |"
        return {c[0]: (*c[1:3], *c[4:]) for c in cells}

    def floors(self, results):
        """{metric: floor cell} of the rendered table."""
        lines = self.table(results).splitlines()[2:]
        return {c[0]: c[3] for c in (line[2:-2].split(" | ") for line in lines)}

    def test_document_matches_the_golden_file(self):
        res = self.saved["results"]
        doc = render_markdown(res, self.table(res), self.saved["machine"],
                              self.saved["command"], self.opts)
        self.assertEqual(doc, load("BENCHMARKS.golden.md"))

    def test_met_column_follows_the_targets(self):
        rows = self.rows(self.saved["results"])
        self.assertEqual(rows["`pm2 list`, 5 apps"][3:], ("≥20x", "yes"))
        self.assertEqual(rows["Daemon VmRSS, 100 apps"][3:], ("≤0.1", "**no**"))
        self.assertEqual(rows["`pm2 jlist`, 5 apps"][3:], ("", ""))

    def test_the_floor_column_of_cli_and_log_rows(self):
        floors = self.floors(self.saved["results"])
        self.assertTrue(floors["`pm2 list`, 5 apps"].startswith("`/bin/true` "))
        self.assertTrue(floors["Daemon cold start (`pm2 ping`, no daemon)"]
                        .startswith("`/bin/true` "))
        log_row = "Log relay: app start → last line on disk in the out log"
        self.assertTrue(floors[log_row].startswith("`> file` "), floors[log_row])
        self.assertEqual(floors["Daemon VmRSS, 100 apps"], "")

    def test_a_worse_result_turns_the_row_to_no(self):
        res = copy.deepcopy(self.saved["results"])
        res["list_5"]["pm2-rs"]["median"] = res["list_5"]["pm2"]["median"] / 19
        res["cluster"]["pm2-rs"]["reload_keepalive_failed"] = \
            res["cluster"]["pm2"]["reload_keepalive_failed"]
        rows = self.rows(res)
        self.assertEqual(rows["`pm2 list`, 5 apps"][4], "**no**")
        self.assertEqual(rows["Failed requests during 3 × `pm2 reload`, keep-alive"][4],
                         "**no**")

    def test_one_manager_only_gives_no_rows(self):
        res = copy.deepcopy(self.saved["results"])
        for r in res.values():
            if isinstance(r, dict):
                r.pop("pm2", None)
        self.assertEqual(self.rows(res), {})

    def test_skipped_cluster_says_why(self):
        res = copy.deepcopy(self.saved["results"])
        res["cluster"] = {"skipped": "wrk not installed"}
        rows = self.rows(res)
        self.assertEqual(rows["HTTP cluster `-i 2`"][2], "skipped: wrk not installed")
        self.assertNotIn("HTTP `-i 2`, keep-alive (wrk -t2 -c64 -d10s)", rows)


if __name__ == "__main__":
    unittest.main()
