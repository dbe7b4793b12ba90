#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Report the source files and the functions that grew too long.

    tests/tools/long-functions.py [--file-lines N] [--function-lines N] [ROOT]

Lists every .c and .h file under ROOT/protocol, ROOT/keys and ROOT/node
(node/cli/ included) longer than --file-lines lines (default 1200), then
every function longer than --function-lines lines (default 150), counted
from the line that names it to its closing brace, longest first:

    files over 1200 lines
      2073  node/match.c
    functions over 150 lines
       270  node/sync.c:812  do_pull

A report for whoever plans the next split (issue 11: "no source file over
about 1,200 lines, no function over about 150, or the note says why one
must be"), not a test: it always exits 0 unless it cannot read the tree
(2).  A function is a brace block at file level whose head, since the
previous declaration, ends in a parameter list; comments, literals and
preprocessor lines are skipped.  Initialisers, structs and enums are not
functions.
"""
import argparse
import os
import re
import sys

AREAS = ("protocol", "keys", "node")
HEAD = re.compile(r"([A-Za-z_]\w*)\s*\((?:[^()]|\([^()]*\))*\)\s*$", re.S)


def strip(text):
    """text with comments, string and character literals blanked; the
    newlines are kept, so line numbers do not move."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_preprocessor(text):
    """Blank preprocessor lines (and their continuations)."""
    lines = text.split("\n")
    cont = False
    for k, line in enumerate(lines):
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            lines[k] = ""
    return "\n".join(lines)


def functions(text):
    """(name, first line, last line) of each function defined in text."""
    code = drop_preprocessor(strip(text))
    found = []
    depth, head_start, line = 0, 0, 1
    open_at = None
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == "{":
            if depth == 0:
                open_at = (i, line)
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                depth = 0
            if depth == 0 and open_at:
                head = code[head_start:open_at[0]]
                m = HEAD.search(head)
                if m and "=" not in head:
                    first = line - code[head_start + m.start(1):i].count("\n")
                    found.append((m.group(1), first, line))
                open_at = None
                head_start = i + 1
        elif c == ";" and depth == 0:
            head_start = i + 1
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file-lines", type=int, default=1200)
    ap.add_argument("--function-lines", type=int, default=150)
    ap.add_argument("root", nargs="?", default=".")
    a = ap.parse_args()
    paths = []
    for area in AREAS:
        top = os.path.join(a.root, area)
        for d, _, names in os.walk(top):
            paths += [os.path.join(d, f) for f in names if f.endswith((".c", ".h"))]
    if not paths:
        print("long-functions.py: no sources under %s" % a.root, file=sys.stderr)
        return 2
    long_files, long_fns = [], []
    for p in sorted(paths):
        rel = os.path.relpath(p, a.root)
        with open(p, encoding="utf-8", errors="replace") as f:
            text = f.read()
        n = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if n > a.file_lines:
            long_files.append((n, rel))
        for name, first, last in functions(text):
            if last - first + 1 > a.function_lines:
                long_fns.append((last - first + 1, rel, first, name))
    long_files.sort(key=lambda x: (-x[0], x[1]))
    long_fns.sort(key=lambda x: (-x[0], x[1], x[2]))
    print("files over %d lines" % a.file_lines)
    for n, rel in long_files:
        print("  %5d  %s" % (n, rel))
    print("functions over %d lines" % a.function_lines)
    for n, rel, first, name in long_fns:
        print("  %5d  %s:%d  %s" % (n, rel, first, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
