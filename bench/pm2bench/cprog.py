"""Compiling the C probes (crash.c, spew.c) the crash and logs benchmarks run."""

import shutil
import subprocess


def compile_c(src, out, *flags, purpose):
    """`cc -O2 -o out src flags...`; exits with a message naming `purpose` without a compiler."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise SystemExit(f"need a C compiler (cc) for the {purpose} benchmark")
    subprocess.run([cc, "-O2", "-o", out, src, *flags], check=True)
