#!/usr/bin/env python3
"""Import cycles between the files of each crate of the workspace.

A file depends on another when it names one of that file's items: a `use` of a
`crate::`, `self::` or `super::` path (or of a child module), or such a path written
inline in code (`crate::hub::now_ms()`). A parent declaring its children (`mod x;`)
is not a dependency; a parent that *uses* a child's item (`pub use child::Item`) is,
and so is a child naming an item of its parent (`super::Item`). Paths are resolved to
the deepest module they name, so `crate::a::b::Item` is a dependency on `a/b.rs`.

Usage: scripts/check-import-cycles.py [--graph] [CRATE_DIR...]
With no CRATE_DIR, every crate of the workspace (the root package and crates/*).
`--graph` prints every dependency between files. Exits 1 when a crate has a cycle.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def strip_code(text):
    """Comments, strings and char literals blanked out (same length, same lines)."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))
    pattern = re.compile(
        r'//[^\n]*|/\*[\s\S]*?\*/|r(#*)"[\s\S]*?"\1|"(?:\\[\s\S]|[^"\\])*"'
        r"|'(?:\\.|[^'\\\n])'"
    )
    return pattern.sub(blank, text)


def module_of(src, path):
    """Module path of a file from its place under src/ (lib.rs and main.rs: the root)."""
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def crate_files(src):
    """Files of the crate rooted at src/, by module path, honouring `#[path]`."""
    files = {}
    for path in sorted(src.rglob("*.rs")):
        if "bin" in path.relative_to(src).parts[:1]:
            continue
        files[module_of(src, path)] = path
    for path in list(files.values()):
        raw = path.read_text()
        for m in re.finditer(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', raw):
            target = (path.parent / m.group(1)).resolve()
            declaring = next(k for k, v in files.items() if v == path)
            for k, v in list(files.items()):
                if v.resolve() == target:
                    del files[k]
            files[declaring + (m.group(2),)] = target
    return files


def inline_modules(code):
    """(start, end, name) of every inline `mod name { ... }` block."""
    blocks = []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{", code):
        depth, i = 0, m.end() - 1
        while i < len(code):
            if code[i] == "{":
                depth += 1
            elif code[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        blocks.append((m.start(), i, m.group(1)))
    return blocks


def expand_use_tree(tree):
    """`a::{b, c::{d, self}}` → ['a::b', 'a::c::d', 'a::c'] (renames dropped)."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    if "{" not in tree:
        return [tree]
    open_at = tree.index("{")
    prefix = tree[:open_at].rstrip(":")
    inner = tree[open_at + 1 : tree.rindex("}")]
    parts, depth, cur = [], 0, ""
    for c in inner:
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += c == "{"
        depth -= c == "}"
        cur += c
    parts.append(cur)
    out = []
    for part in filter(None, parts):
        for sub in expand_use_tree(part):
            if sub == "self":
                out.append(prefix)
            else:
                out.append(f"{prefix}::{sub}" if prefix else sub)
    return out


def absolute(segments, here, children):
    """A path as module-path segments from the crate root; None outside the crate."""
    segs = list(segments)
    if segs[0] == "crate":
        return tuple(segs[1:])
    if segs[0] in ("self", "super"):
        base = here
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
        return base + tuple(segs)
    if segs[0] in children.get(here, ()):
        return here + tuple(segs)
    return None


def resolve(path, files, reexports, depth=0):
    """The module a path names: the deepest known module along it, following
    re-exports (`pub use x::Item` is not where `Item` lives)."""
    mod = ()
    for i, s in enumerate(path):
        if mod + (s,) in files:
            mod = mod + (s,)
            continue
        target = reexports.get(mod, {}).get(s)
        if target is not None and depth < 16:
            return resolve(target + tuple(path[i + 1 :]), files, reexports, depth + 1)
        break
    return mod


def use_paths(code, mod, blocks):
    """(segments, module it is written in, whether it is a re-export) of every `use`."""
    for m in re.finditer(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", code):
        here = module_at(mod, blocks, m.start())
        for p in expand_use_tree(m.group(2)):
            yield tuple(s for s in p.split("::") if s), here, m.group(1) is not None


def module_at(mod, blocks, pos):
    """The module a position of a file is in (inline `mod x { }` blocks included)."""
    inner = [b for b in blocks if b[0] <= pos <= b[1]]
    return mod + tuple(b[2] for b in sorted(inner))


def dependencies(src):
    """{file: {file it depends on}} for the crate rooted at src/."""
    files = crate_files(src)
    children = {}
    for mod in files:
        if mod:
            children.setdefault(mod[:-1], set()).add(mod[-1])
    codes = {mod: strip_code(path.read_text()) for mod, path in files.items()}
    blocks = {mod: inline_modules(code) for mod, code in codes.items()}
    reexports = {}
    for mod, code in codes.items():
        for segs, here, reexport in use_paths(code, mod, blocks[mod]):
            target = absolute(segs, here, children) if segs else None
            if reexport and target and segs[-1] not in ("self", "*"):
                reexports.setdefault(here, {})[segs[-1]] = target
    deps = {}
    for mod, path in files.items():
        found = {(segs, here) for segs, here, _ in use_paths(codes[mod], mod, blocks[mod])}
        uses = [m.span() for m in re.finditer(r"\buse\s+[^;]+;", codes[mod])]
        inline = r"\b(?:crate|super|self)(?:::\w+)+|\b\w+(?:::\w+)+"
        for m in re.finditer(inline, codes[mod]):
            if any(a <= m.start() < b for a, b in uses):
                continue
            found.add((tuple(m.group(0).split("::")), module_at(mod, blocks[mod], m.start())))
        targets = set()
        for segs, here in found:
            target = absolute(segs, here, children) if segs else None
            if target is None:
                continue
            target = resolve(target, files, reexports)
            if target in files and files[target] != path:
                targets.add(files[target])
        deps[path] = targets
    return deps


def cycles(deps):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in deps.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in deps:
        if v not in index:
            visit(v)
    return out


def main(argv):
    show = "--graph" in argv
    dirs = [Path(a) for a in argv if a != "--graph"]
    if not dirs:
        dirs = [ROOT] + sorted(p for p in (ROOT / "crates").iterdir() if (p / "src").is_dir())
    failed = False
    for crate in dirs:
        src = (crate / "src").resolve()
        if not src.is_dir():
            continue
        deps = dependencies(src)
        name = crate.resolve().relative_to(ROOT) if crate.resolve() != ROOT else Path(".")
        rel = lambda p: str(p.relative_to(src))
        if show:
            print(f"== {name}")
            for f in sorted(deps):
                if deps[f]:
                    print(f"  {rel(f)} -> {', '.join(sorted(rel(t) for t in deps[f]))}")
        found = cycles(deps)
        for comp in found:
            failed = True
            print(f"cycle in {name}: {' <-> '.join(rel(f) for f in comp)}")
        if not found:
            print(f"{name}: no import cycle between its {len(deps)} files")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
