"""The `scaling` benchmark's pure parts: one repetition's calls, PM2's fewer runs at 1,000
apps, the table and the plot's series from saved results, its Results rows, and the limit
check that stops a run before 1,000 apps would hit RLIMIT_NOFILE or RLIMIT_NPROC."""

import contextlib
import io
import json
import tempfile
import unittest

from pm2bench.benchmarks.scaling import floor_of, one_repetition, repetitions, time_commands
from pm2bench.cli import main, parser
from pm2bench.limits import limit_problem
from pm2bench.plot import ensure_plot_python
from pm2bench.scaling_view import plot_series, scaling_table
from pm2bench.table import scaling_rows


class FakeManager:
    """Records the CLI calls."""

    def __init__(self):
        self.calls = []

    def run(self, *args, timeout=None):
        self.calls.append(("run", *args))


def fake_cost(m, *args, timeout=None):
    """A timed call: 2 ms wall (`list` 1 ms), 0.5 ms of CLI CPU, 0.25 ms of the daemon's."""
    m.calls.append(("timed", *args))
    return {"wall": 1.0 if args[0] == "list" else 2.0, "cli_cpu": 0.5, "daemon_cpu": 0.25}


def block(ms, runs=15):
    """One manager's results at one N, every command taking `ms`."""
    r = {c: {"median": ms, "p90": ms, "cli_cpu_median": ms / 2, "daemon_cpu_median": ms / 4,
             "cpu_median": ms * 0.75} for c in ("start", "restart", "stop", "list")}
    r["floor"] = {"median": 1.0, "p90": 1.2}
    r["runs"] = runs
    return r


def saved(pm2, ours, ns=(1, 10, 100, 1000)):
    """A res["scaling"] with per-N medians from the lists `pm2` and `ours`."""
    by_n = {}
    for n, a, b in zip(ns, pm2, ours):
        by_n[str(n)] = {"pm2": block(a, 3 if n >= 1000 else 15), "pm2-rs": block(b),
                        "floor": {"median": 1.0, "p90": 1.2}}
    return {"apps": list(ns), "runs": 15, "pm2_version": "7.0.4", "by_n": by_n,
            "date": "2026-12-03 13:00 UTC", "nproc": 2, "loadavg_start": "1.0 1.0 1.0"}


class ScalingBenchTest(unittest.TestCase):
    def setUp(self):
        self.opts = parser().parse_args(["scaling"])

    def test_the_defaults_are_the_issues_n(self):
        self.assertEqual(self.opts.scale_apps, [1, 10, 100, 1000])

    def test_a_repetition_times_four_commands_and_undoes_its_app(self):
        m = FakeManager()
        r = one_repetition(m, "/w/app.sh", 60, fake_cost)
        self.assertEqual(m.calls, [("timed", "start", "/w/app.sh", "--name", "x"),
                                   ("timed", "restart", "x"), ("timed", "stop", "x"),
                                   ("run", "delete", "x"), ("timed", "list")])
        self.assertEqual({c: x["wall"] for c, x in r.items()},
                         {"start": 2.0, "restart": 2.0, "stop": 2.0, "list": 1.0})

    def test_time_commands_summarises_each_command_and_the_floor(self):
        m = FakeManager()
        s = time_commands(m, "/w/app.sh", runs=3, warm=1, timeout=60, cost=fake_cost)
        self.assertEqual(len(m.calls), 5 * 4)
        self.assertEqual((s["start"]["n"], s["list"]["median"], s["runs"]), (3, 1.0, 3))
        self.assertEqual((s["stop"]["cli_cpu_median"], s["stop"]["daemon_cpu_median"],
                          s["stop"]["cpu_median"]), (0.5, 0.25, 0.75))
        self.assertEqual(s["floor"]["n"], 3 * 4)

    def test_pm2_gets_fewer_runs_at_1000_apps_only(self):
        a = self.opts
        self.assertEqual(repetitions("pm2", 100, a), a.scale_runs)
        self.assertEqual(repetitions("pm2", 1000, a), a.scale_slow_runs)
        self.assertEqual(repetitions("pm2-rs", 1000, a), a.scale_runs)

    def test_the_floor_of_an_n_is_the_median_of_the_blocks(self):
        per = {"pm2": {"floor": {"median": 1.0, "p90": 2.0}},
               "pm2-rs": {"floor": {"median": 3.0, "p90": 4.0}}}
        self.assertEqual(floor_of(per), {"median": 2.0, "p90": 4.0})

    def test_table_has_a_row_per_command_and_manager_then_the_floor(self):
        t = scaling_table(saved([300, 310, 400, 900], [3.0, 3.1, 3.2, 3.3])).splitlines()
        self.assertEqual(t[0], "| Command | Manager | 1 app | 10 apps | 100 apps | "
                               "1,000 apps | 1,000 vs 1 |")
        self.assertEqual(t[2], "| `start` | PM2 7.0.4 | 300 ms | 310 ms | 400 ms | "
                               "900 ms (3 runs) | 3.00x |")
        self.assertEqual(t[3], "| `start` | pm2-rs | 3.00 ms | 3.10 ms | 3.20 ms | "
                               "3.30 ms | 1.10x |")
        self.assertEqual(t[-1], "| floor | spawn `/bin/true` | 1.00 ms | 1.00 ms | "
                                "1.00 ms | 1.00 ms | 1.00x |")
        self.assertEqual(len(t), 2 + 4 * 2 + 1)

    def test_plot_series_has_a_panel_per_command_with_the_floor(self):
        s = plot_series(saved([300, 310, 400, 900], [3.0, 3.1, 3.2, 3.3]))
        wall, cpu = s["rows"]
        self.assertEqual([p["cmd"] for p in wall["panels"]],
                         ["start", "restart", "stop", "list"])
        lines = wall["panels"][0]["lines"]
        self.assertEqual([ln["name"] for ln in lines],
                         ["PM2 7.0.4", "pm2-rs", "floor (spawn /bin/true)"])
        self.assertEqual(lines[1]["points"], [(1, 3.0), (10, 3.1), (100, 3.2), (1000, 3.3)])
        cpu_lines = cpu["panels"][0]["lines"]
        self.assertEqual([ln["name"] for ln in cpu_lines], ["PM2 7.0.4", "pm2-rs"])
        self.assertEqual(cpu_lines[1]["points"][0], (1, 2.25))

    def test_the_cpu_table_shows_cli_plus_daemon(self):
        t = scaling_table(saved([300, 310, 400, 900], [4.0, 4.0, 4.0, 8.0]), cpu=True)
        lines = t.splitlines()
        self.assertEqual(lines[3], "| `start` | pm2-rs | 2.00 ms + 1.00 ms | 2.00 ms + 1.00 ms"
                                   " | 2.00 ms + 1.00 ms | 4.00 ms + 2.00 ms | 2.00x |")
        self.assertNotIn("floor", t)

    def test_results_rows_say_how_much_pm2_rs_grows(self):
        rows = scaling_rows({"scaling": saved([300, 310, 400, 900], [3.0, 3.1, 3.2, 3.3])},
                            self.opts)
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows[0][:3], ("`pm2 start`, 1 → 1,000 apps running (scaling)",
                                       "300 ms → 900 ms", "3.00 ms → 3.30 ms"))
        self.assertEqual(rows[0][3:6], ("pm2-rs grows 1.10x, PM2 3.00x; 273x faster at 1,000",
                                       "≤1.2x (flat in N)", "yes"))
        grown = scaling_rows({"scaling": saved([300, 900], [3.0, 6.0], ns=(1, 1000))},
                             self.opts)
        self.assertEqual(grown[0][5], "**no**")

    def test_no_rows_without_scaling_results(self):
        self.assertEqual(scaling_rows({}, self.opts), [])


class PlotPythonTest(unittest.TestCase):
    def test_a_venv_that_cannot_be_made_stops_the_run_saying_how(self):
        with self.assertRaises(SystemExit) as e:
            ensure_plot_python("/proc/no-such-venv")
        msg = str(e.exception)
        self.assertIn("python3 -m venv /proc/no-such-venv", msg)
        self.assertIn("pip install 'matplotlib", msg)
        self.assertIn("--no-plot", msg)


class ReportTest(unittest.TestCase):
    def test_report_prints_the_scaling_tables_from_a_dump(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"results": {"scaling": saved([300, 900], [3.0, 6.0], ns=(1, 1000))},
                       "machine": {"pm2": "7.0.4"}, "command": "x", "args": {}}, f)
            f.flush()
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main(["report", "--from-json", f.name, "--no-plot"])
        text = out.getvalue()
        self.assertIn("| `start` | pm2-rs | 3.00 ms | 6.00 ms | 2.00x |", text)
        self.assertIn("| `start` | pm2-rs | 1.50 ms + 0.75 ms | 3.00 ms + 1.50 ms | 2.00x |", text)
        self.assertIn("`pm2 start`, 1 → 1,000 apps running (scaling)", text)


class LimitTest(unittest.TestCase):
    def test_enough_for_1000_apps(self):
        self.assertIsNone(limit_problem(1000, 20000, 96362, 300, 4194304))

    def test_too_few_open_files_names_the_limit_and_the_need(self):
        p = limit_problem(1000, 1024, 96362, 300, 4194304)
        self.assertIn("RLIMIT_NOFILE is 1024", p)
        self.assertIn("11024", p)

    def test_too_few_processes(self):
        p = limit_problem(1000, 20000, 1200, 300, 4194304)
        self.assertIn("RLIMIT_NPROC is 1200", p)

    def test_unlimited_is_fine(self):
        import resource
        inf = resource.RLIM_INFINITY
        self.assertIsNone(limit_problem(1000, inf, inf, 300, None))


if __name__ == "__main__":
    unittest.main()
