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


def medians(sc, label, cmd):
    """[(n, median ms)] of one manager and command, for the N where it was measured."""
    out = []
    for n in ns_of(sc):
        r = sc["by_n"][str(n)].get(label)
        if r and cmd in r:
            out.append((n, r[cmd]["median"]))
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


def cell(sc, n, label, cmd):
    """One median, with its number of runs when it is fewer than the others'."""
    r = sc["by_n"][str(n)].get(label)
    if not r or cmd not in r:
        return ""
    runs = r.get("runs", sc.get("runs"))
    extra = f" ({runs} runs)" if runs != sc.get("runs") else ""
    return fmt(r[cmd]["median"]) + extra


def scaling_table(sc):
    """The markdown table: a row per command and manager, a column per N, then the floor."""
    ns = ns_of(sc)
    head = ["Command", "Manager", *[f"{n:,} app{'s' if n != 1 else ''}" for n in ns],
            f"{ns[-1]:,} vs {ns[0]:,}" if len(ns) > 1 else "growth"]
    rows = []
    for cmd in COMMANDS:
        for label in LABELS:
            pts = medians(sc, label, cmd)
            if pts:
                rows.append([f"`{cmd}`", label_name(label, sc),
                             *[cell(sc, n, label, cmd) for n in ns], growth(pts)])
    fl = floor_series(sc)
    rows.append(["floor", "spawn `/bin/true`", *[fmt(ms) for _, ms in fl], growth(fl)])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plot_series(sc):
    """What the plot draws: {"title", "panels": [{cmd, lines: [{name, points}]}]}; the floor
    is a line of every panel."""
    panels = []
    for cmd in COMMANDS:
        lines = [{"name": label_name(label, sc), "points": medians(sc, label, cmd)}
                 for label in LABELS]
        lines = [ln for ln in lines if ln["points"]]
        lines.append({"name": "floor (spawn /bin/true)", "points": floor_series(sc)})
        panels.append({"cmd": cmd, "lines": lines})
    title = (f"pm2 command latency vs apps running (medians; {sc.get('date', '')}, "
             f"{sc.get('nproc', '?')} cores, load {sc.get('loadavg_start', '?')})")
    return {"title": title, "panels": panels}
