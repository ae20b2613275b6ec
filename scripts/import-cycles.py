#!/usr/bin/env python3
"""Finds file-level import cycles inside each crate of the workspace.

A file depends on another when it names an item of the other's module:
`use crate::a::b`, `crate::a::f()`, `use super::x`, `self::child::y` or a
bare `child::y` after `mod child;`. `mod child;` itself is structure, not a
dependency. Test modules (`#[cfg(test)]` onwards) are skipped. Exits 1 and
prints each cycle when there is one, so `make test-host` keeps them out.

Usage: scripts/import-cycles.py [crate-src-dir ...]
"""
import os
import re
import sys

DEFAULT_ROOTS = ["hotplug/src", "arch/src", "kernel/src", "kernel/shell/src", "boot/src"]


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def files_of(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        # Binaries under src/bin are crates of their own.
        dirnames[:] = [d for d in dirnames if not (dirpath == root and d == "bin")]
        for name in filenames:
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                out[module_of(root, path)] = path
    return out


def strip(source):
    cut = source.find("#[cfg(test)]")
    if cut >= 0:
        source = source[:cut]
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"//[^\n]*", "", source)
    source = re.sub(r'"(?:\\.|[^"\\])*"', '""', source)
    return source


def expand_uses(source):
    """Yields every path of every `use` item, with `{...}` groups expanded."""
    for m in re.finditer(r"\buse\s+([^;]+);", source):
        yield from expand(m.group(1).replace("\n", " ").replace(" ", ""))


def expand(tree):
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix = tree[:start]
                for part in split_top(tree[start + 1 : i]):
                    yield from expand(prefix + part)
                return
    yield tree


def split_top(group):
    depth, cur = 0, ""
    for ch in group:
        if ch == "," and depth == 0:
            yield cur
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    if cur:
        yield cur


def resolve(module, segments, modules, reexports=None, depth=0):
    """The module that defines what the path names, or None: the longest
    known module prefix, followed through `pub use` re-exports."""
    best, n_best = None, 0
    for n in range(len(segments) + 1):
        if tuple(segments[:n]) in modules:
            best, n_best = tuple(segments[:n]), n
    if best is not None and reexports and depth < 8 and n_best < len(segments):
        origin = reexports.get(best, {}).get(segments[n_best])
        if origin is not None:
            return resolve(module, list(origin) + segments[n_best + 1 :], modules, reexports, depth + 1)
    return best


def reexports_of(module, source, modules):
    """Names `module` re-exports with `pub use`, mapped to the path they name."""
    out = {}
    text = strip(source)
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
        for path in expand(m.group(1).replace("\n", " ").replace(" ", "")):
            target = absolute(module, path, text)
            if target:
                name = path.split("::")[-1]
                name = name.split("as")[-1] if "as" in name and name not in target else name
                out[name] = target
    return out


def absolute(module, path, text):
    children = set(re.findall(r"\bmod\s+([a-z_0-9]+)\s*;", text))
    segs = [s for s in path.split("::") if s and s != "*"]
    if not segs:
        return None
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("super", "self"):
        base = list(module)
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
        return base + segs
    if segs[0] in children:
        return list(module) + segs
    return None


def deps(module, source, modules, reexports):
    text = strip(source)
    children = set(re.findall(r"\bmod\s+([a-z_0-9]+)\s*;", text))
    paths = list(expand_uses(text))
    paths += re.findall(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", text)
    paths += [p for p in re.findall(r"(?<![\w:])(\w+(?:::\w+)+)", text) if p.split("::")[0] in children]
    out = set()
    for path in paths:
        segs = [s for s in path.split("::") if s and s != "*"]
        if not segs:
            continue
        if segs[0] == "crate":
            base, rest = (), segs[1:]
        elif segs[0] in ("super", "self"):
            base = module
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
            rest = segs
        elif segs[0] in children:
            base, rest = module, segs
        else:
            continue
        target = resolve(module, list(base) + rest, modules, reexports)
        if target is not None and target != module:
            out.add(target)
    return out


def cycles(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main(roots):
    found = False
    for root in roots:
        files = files_of(root)
        sources = {m: open(p).read() for m, p in files.items()}
        reexports = {m: reexports_of(m, s, files) for m, s in sources.items()}
        graph = {m: deps(m, s, files, reexports) for m, s in sources.items()}
        for comp in cycles(graph):
            found = True
            names = ", ".join(os.path.relpath(files[m]) for m in comp)
            print(f"import cycle in {root}: {names}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or DEFAULT_ROOTS))
