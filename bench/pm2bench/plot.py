"""The scaling plot's Python: matplotlib (from PyPI) in a venv of the bench's own, so the
harness itself stays stdlib only and nothing is installed system-wide.

`ensure_plot_python` creates the venv on first use (`python3 -m venv target/py-bench`, then
`pip install` of MATPLOTLIB) and stops the run with the commands to type if it cannot;
`write_scaling_png` hands the series (scaling_view.plot_series) to draw_png.py, run by that
venv's Python.
"""

import json
import os
import subprocess
import sys

from .common import BENCH_DIR, REPO, log
from .scaling_view import plot_series

#: where the venv goes by default (under target/, which git ignores)
DEFAULT_VENV = os.path.join(REPO, "target", "py-bench")
#: what pip installs into it
MATPLOTLIB = "matplotlib>=3.5,<4"
#: the drawing script, run by the venv's Python
DRAW = os.path.join(BENCH_DIR, "pm2bench", "draw_png.py")


def venv_python(venv):
    """The venv's interpreter."""
    return os.path.join(venv, "bin", "python")


def how_to(venv):
    """The commands that make the plot's Python by hand."""
    return (f"python3 -m venv {venv} && {venv_python(venv)} -m pip install '{MATPLOTLIB}' "
            f"(needs python3-venv and access to PyPI), or pass --no-plot")


def has_matplotlib(python):
    """Does `python` import matplotlib?"""
    if not os.access(python, os.X_OK):
        return False
    r = subprocess.run([python, "-c", "import matplotlib"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


def create_venv(venv):
    """`python3 -m venv` and `pip install` matplotlib; True if it worked."""
    log(f"[plot] creating {venv} with {MATPLOTLIB} from PyPI ...")
    steps = ([sys.executable, "-m", "venv", venv],
             [venv_python(venv), "-m", "pip", "install", "-q", MATPLOTLIB])
    for argv in steps:
        try:
            r = subprocess.run(argv, stdout=sys.stderr, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            log(f"[plot] {' '.join(argv)}: {e}")
            return False
        if r.returncode != 0:
            log(f"[plot] {' '.join(argv)} exited {r.returncode}")
            return False
    return True


def ensure_plot_python(venv=None):
    """The venv's Python, made if missing; SystemExit saying how to get it if that fails."""
    venv = os.path.abspath(venv or DEFAULT_VENV)
    python = venv_python(venv)
    if has_matplotlib(python) or (create_venv(venv) and has_matplotlib(python)):
        return python
    raise SystemExit(f"the scaling plot needs matplotlib in {venv}, which could not be "
                     f"made: {how_to(venv)}")


def write_scaling_png(sc, path, venv=None):
    """Draw the scaling results into the PNG `path`; returns its absolute path."""
    python = ensure_plot_python(venv)
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run([python, DRAW, path], input=json.dumps(plot_series(sc)).encode(),
                   check=True)
    return path
