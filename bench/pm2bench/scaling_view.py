"""How the `scaling` results read: the small table of medians (printed by the benchmark and
kept in BENCHMARKS.md) and the series the plot draws, both from the saved results alone."""

#: the commands, in the order of the table and of the plot's panels
COMMANDS = ("start", "restart", "stop", "list")
#: the managers, in the order of the table's rows
LABELS = ("pm2", "pm2-rs")


def fmt(ms):
    """A median in ms with about three significant digits."""
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms"


def ns_of(sc):
    """The numbers of apps measured, ascending."""
    return sorted(int(n) for n in sc["by_n"])


def medians(sc, label, cmd, key="median"):
    """[(n, median ms)] of one manager and command (wall time, or with key="cpu_median"
    CPU time of CLI and daemon), for the N where it was measured."""
    out = []
    for n in ns_of(sc):
        r = sc["by_n"][str(n)].get(label)
        if r and cmd in r and key in r[cmd]:
            out.append((n, r[cmd][key]))
    return out


def floor_series(sc):
    """[(n, median ms of spawning /bin/true)]."""
    return [(n, sc["by_n"][str(n)]["floor"]["median"]) for n in ns_of(sc)
            if "floor" in sc["by_n"][str(n)]]


def growth(points):
    """Median at the largest N over the median at the smallest ("1.05x"), or ""."""
    if len(points) < 2 or points[0][1] <= 0:
        return ""
    return f"{points[-1][1] / points[0][1]:.2f}x"


def label_name(label, sc):
    """The manager as the table names it."""
    return f"PM2 {sc.get('pm2_version') or '7'}" if label == "pm2" else label


def cell(sc, n, label, cmd, cpu=False):
    """One median (wall, or CPU as "CLI + daemon"), with its number of runs when it is
    fewer than the others'."""
    r = sc["by_n"][str(n)].get(label)
    if not r or cmd not in r:
        return ""
    runs = r.get("runs", sc.get("runs"))
    extra = f" ({runs} runs)" if runs != sc.get("runs") else ""
    x = r[cmd]
    if not cpu:
        return fmt(x["median"]) + extra
    if "cpu_median" not in x:
        return ""
    return f"{fmt(x['cli_cpu_median'])} + {fmt(x['daemon_cpu_median'])}" + extra


def scaling_table(sc, cpu=False):
    """The markdown table: a row per command and manager, a column per N, then the floor;
    with `cpu`, the CPU time of each call as "CLI + daemon" (medians; no floor row), the
    growth column from the median of their sum."""
    ns = ns_of(sc)
    head = ["Command", "Manager", *[f"{n:,} app{'s' if n != 1 else ''}" for n in ns],
            f"{ns[-1]:,} vs {ns[0]:,}" if len(ns) > 1 else "growth"]
    rows = []
    for cmd in COMMANDS:
        for label in LABELS:
            pts = medians(sc, label, cmd, "cpu_median" if cpu else "median")
            if pts:
                rows.append([f"`{cmd}`", label_name(label, sc),
                             *[cell(sc, n, label, cmd, cpu) for n in ns], growth(pts)])
    if not cpu:
        fl = floor_series(sc)
        rows.append(["floor", "spawn `/bin/true`", *[fmt(ms) for _, ms in fl], growth(fl)])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def panels(sc, key, floor=True):
    """One panel per command: a line per manager of `key` medians, then the floor."""
    out = []
    for cmd in COMMANDS:
        lines = [{"name": label_name(label, sc), "points": medians(sc, label, cmd, key)}
                 for label in LABELS]
        lines = [ln for ln in lines if ln["points"]]
        if floor:
            lines.append({"name": "floor (spawn /bin/true)", "points": floor_series(sc)})
        out.append({"cmd": cmd, "lines": lines})
    return out


def plot_series(sc):
    """What the plot draws: {"title", "rows": [{ylabel, panels: [{cmd, lines: [{name,
    points}]}]}]}: wall time, then (when measured) CPU time of CLI + daemon; the floor is a
    line of every wall-time panel."""
    rows = [{"ylabel": "median wall time (ms)", "panels": panels(sc, "median")}]
    cpu = panels(sc, "cpu_median", floor=False)
    if any(p["lines"] for p in cpu):
        rows.append({"ylabel": "median CPU, CLI + daemon (ms)", "panels": cpu})
    title = (f"pm2 command cost vs apps running (medians; {sc.get('date', '')}, "
             f"{sc.get('nproc', '?')} cores, load {sc.get('loadavg_start', '?')})")
    return {"title": title, "rows": rows}
