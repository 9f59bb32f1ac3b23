#!/usr/bin/env python3
"""Production code stays readable: no file over 500 lines, no function over 60.

Counts lines of every `.rs` file under the crates' `src/` folders and `src/` (up to an
inline `#[cfg(test)] mod ... {`), skipping test files (`*tests*.rs`). A function is measured
from its `fn` line to the brace that closes it. Exits 1 and lists what is too long.
Usage: scripts/check-sizes.py [DIR ...]   (default: src and crates/*/src)
"""
import glob
import os
import re
import sys

MAX_FILE_LINES = 500
MAX_FN_LINES = 60
FN_START = re.compile(r"\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def production_lines(path):
    """The file's lines up to its inline test module."""
    lines = open(path, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines[:-1]):
        if line.startswith("#[cfg(test)]") and re.match(r"\s*mod \w+ \{", lines[i + 1]):
            return lines[:i]
    return lines


def function_end(lines, start):
    """Index of the line closing the function that starts at `start`, or None (no body)."""
    depth, opened = 0, False
    for j in range(start, len(lines)):
        for c in lines[j]:
            if c == "{":
                depth, opened = depth + 1, True
            elif c == "}":
                depth -= 1
        if opened and depth == 0:
            return j
        if not opened and lines[j].rstrip().endswith(";"):
            return None
    return None


def problems(path):
    lines = production_lines(path)
    if len(lines) > MAX_FILE_LINES:
        yield f"{path}: {len(lines)} lines (limit {MAX_FILE_LINES})"
    for i, line in enumerate(lines):
        m = FN_START.match(line)
        if not m:
            continue
        end = function_end(lines, i)
        if end is not None and end - i + 1 > MAX_FN_LINES:
            yield f"{path}:{i + 1}: fn {m.group(6)} is {end - i + 1} lines (limit {MAX_FN_LINES})"


def main():
    roots = sys.argv[1:] or ["src"] + sorted(glob.glob("crates/*/src"))
    found = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in sorted(names):
                if name.endswith(".rs") and "tests" not in name:
                    found.extend(problems(os.path.join(folder, name)))
    for line in found:
        print(line)
    if found:
        return 1
    print(f"sizes: every file of {', '.join(roots)} within {MAX_FILE_LINES} lines, "
          f"every function within {MAX_FN_LINES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
