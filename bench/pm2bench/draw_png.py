"""Draws the scaling plot: `python draw_png.py out.png < series.json` (run by the bench's
venv Python, see plot.py; the series come from scaling_view.plot_series).

One panel per command, log-log axes: a manager whose cost does not grow with the number
of apps is a horizontal line, parallel to the floor.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {"PM2": ("tab:red", "o"), "pm2-rs": ("tab:blue", "s"), "floor": ("0.5", "")}


def style(name):
    """Colour and marker of a line, by the start of its name."""
    for key, s in STYLE.items():
        if name.startswith(key):
            return s
    return ("black", "x")


def draw(series, out):
    """Write the PNG: a row of panels per measure (wall time, CPU time)."""
    rows = series["rows"]
    ncols = len(rows[0]["panels"])
    fig, axes = plt.subplots(len(rows), ncols, figsize=(4 * ncols, 3.6 * len(rows)),
                             sharey="row", squeeze=False)
    for row, ax_row in zip(rows, axes):
        draw_row(row, ax_row)
    axes[0][0].legend(fontsize="small")
    fig.suptitle(series["title"], fontsize="medium")
    fig.tight_layout()
    fig.savefig(out, dpi=72)


def draw_row(row, axes):
    """One measure: a panel per command."""
    for ax, panel in zip(axes, row["panels"]):
        for line in panel["lines"]:
            xs = [p[0] for p in line["points"]]
            ys = [p[1] for p in line["points"]]
            colour, marker = style(line["name"])
            dash = "--" if line["name"].startswith("floor") else "-"
            ax.plot(xs, ys, dash, color=colour, marker=marker, label=line["name"])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"pm2 {panel['cmd']}")
        ax.set_xlabel("apps running")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(row["ylabel"])


if __name__ == "__main__":
    draw(json.load(sys.stdin), sys.argv[1])
