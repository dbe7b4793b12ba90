#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layering rule of doc/HACKING.md, checked on a source tree.

    layering.py [ROOT]

protocol/ includes only protocol/; keys/ only protocol/ and keys/; node/
(the engines, outside node/cli/) only protocol/, keys/ and node/, never
node/cli/.  No engine (protocol/, keys/, node/*.c) reads the environment
or the command line, asks a terminal, exits, or writes to stdout: those
belong to the program in node/cli/.  Prints one line per violation,
FILE:LINE: what, and exits 1 if there is any.
"""
import os
import re
import sys

ALLOWED = {
    "protocol": ("protocol/",),
    "keys": ("protocol/", "keys/"),
    "node": ("protocol/", "keys/", "node/"),
}
FORBIDDEN_CALLS = re.compile(
    r"\b(getenv|secure_getenv|getopt|getopt_long|isatty|exit|printf|vprintf|"
    r"puts|putchar|tcgetattr|tcsetattr)\s*\(|\bstdout\b|\bstdin\b")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def strip(text):
    """Comments and string literals out, line numbers kept."""
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
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * max(0, j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def layer(rel):
    parts = rel.split("/")
    if parts[0] == "node" and len(parts) > 2:
        return None  # node/cli/ and anything below: the program
    return parts[0] if parts[0] in ALLOWED else None


def check(root):
    bad = []
    for top in ALLOWED:
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(d, f)
                rel = os.path.relpath(path, root)
                lay = layer(rel)
                if lay is None:
                    continue
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for no, line in enumerate(text.split("\n"), 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    name = m.group(2)
                    if m.group(1) == "<":
                        if name == "getopt.h":
                            bad.append(f"{rel}:{no}: an engine includes <getopt.h>")
                        continue
                    if "/" not in name:  # beside the file: its own layer
                        name = os.path.dirname(rel) + "/" + name
                    if name.startswith("node/cli/") or not name.startswith(ALLOWED[lay]):
                        bad.append(f"{rel}:{no}: {lay}/ includes \"{name}\" (upward)")
                for no, line in enumerate(strip(text).split("\n"), 1):
                    if line.lstrip().startswith("#"):
                        continue
                    for m in FORBIDDEN_CALLS.finditer(line):
                        what = m.group(1) or m.group(0)
                        bad.append(f"{rel}:{no}: an engine uses {what}")
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = check(root)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
