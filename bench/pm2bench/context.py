"""The run's context: real PM2 from npm in a private folder, the pm2-rs binary, a temp workdir."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from .common import PM2_SPEC, log
from .machine import git_rev

#: the trivial long-running app of `list` and `rss` (same file for both managers)
APP_SH = "#!/bin/sh\nexec sleep 100000\n"


def install_pm2(npm_dir):
    """`npm install pm2@7` into `npm_dir` unless already there (never global).
    Returns (the `pm2` binary, PM2's version)."""
    pm2_js = os.path.join(npm_dir, "node_modules", "pm2", "package.json")
    if not os.path.exists(pm2_js):
        log(f"installing {PM2_SPEC} into {npm_dir} ...")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                        "--prefix", npm_dir, PM2_SPEC], check=True,
                       stdout=sys.stderr)
    with open(pm2_js) as f:
        version = json.load(f)["version"]
    return os.path.join(npm_dir, "node_modules", ".bin", "pm2"), version


def build_pm2_rs(src):
    """`cargo build --release --bin pm2` in `src`; returns the binary's path."""
    log("building pm2-rs with cargo build --release ...")
    subprocess.run(["cargo", "build", "--release", "--bin", "pm2"], cwd=src,
                   check=True, stdout=sys.stderr)
    tdir = os.environ.get("CARGO_TARGET_DIR", os.path.join(src, "target"))
    return os.path.join(tdir, "release", "pm2")


class Ctx:
    """What every benchmark gets: the parsed options, the two binaries, a temp workdir."""

    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="pm2-bench-")
        self.bins = {}
        self.labels = [args.only] if args.only else ["pm2", "pm2-rs"]
        self.pm2_version = None
        self.npm_dir = None
        self.npm_dir_is_temp = False
        self.ours_rev = "?"
        self.app = None

    def cleanup(self):
        """Delete the workdir (and a temporary npm folder) unless --keep."""
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
            if self.npm_dir_is_temp:
                shutil.rmtree(self.npm_dir, ignore_errors=True)

    def setup(self):
        """Install PM2, build (or take) pm2-rs, write app.sh."""
        d = self.args.pm2_npm or os.environ.get("PM2_NPM_DIR")
        if not d:
            d = tempfile.mkdtemp(prefix="pm2-npm-")
            self.npm_dir_is_temp = True
        self.npm_dir = os.path.abspath(d)
        self.bins["pm2"], self.pm2_version = install_pm2(self.npm_dir)

        if self.args.pm2_rs:
            ours = os.path.abspath(self.args.pm2_rs)
        else:
            ours = build_pm2_rs(self.args.src)
        if not os.access(ours, os.X_OK):
            raise SystemExit(f"pm2-rs binary not found: {ours}")
        self.bins["pm2-rs"] = ours
        self.ours_rev = git_rev(self.args.src)

        self.app = os.path.join(self.workdir, "app.sh")
        with open(self.app, "w") as f:
            f.write(APP_SH)
        os.chmod(self.app, 0o755)
