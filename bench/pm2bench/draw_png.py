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
    """Write the PNG."""
    panels = series["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), sharey=True)
    for ax, panel in zip(axes, panels):
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
    axes[0].set_ylabel("median wall time (ms)")
    axes[0].legend(fontsize="small")
    fig.suptitle(series["title"], fontsize="medium")
    fig.tight_layout()
    fig.savefig(out, dpi=80)


if __name__ == "__main__":
    draw(json.load(sys.stdin), sys.argv[1])
