#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The node home in one place (spec/home.md), checked on a source tree.

    homepaths.py [ROOT]

1. The table of node/home.c (hlx_home_path's entries) and the table of
   spec/home.md list the same paths with the same modes.
2. No file of node/ or node/cli/ but node/home.c and node/home.h spells a
   home path: a string literal that builds a path (it holds '%' or '/')
   and no blank with a part naming an entry of the home ("%s/peers/%s",
   "keys/box.key", "%s.rebase"), or a literal that is a name only a home
   has ("audit.log").  "lists" and "trust.json" are also names of the
   published feed's layout (spec/sync.md), which is not the home's: they
   count only on a line that names the home.

Prints one line per violation, FILE:LINE: what, and exits 1 if any.
"""
import os
import re
import sys

# parts of a path that only a home has
HOME_PARTS = {
    "peers", "views", "staging", "state", "keys", "match", "urls",
    "policies", "config.json", "peers.json", "hlx.conf", "hold-tags",
    "audit.log", "remove.intent", "run.pid", "feed.secret", "root.key",
    "signing.key", "box.key", "root.key.new", "signing.key.new", "members",
    "pdq.base", "pdq.delta", "pdq.tables", "seed.pack", "plain.pack", "lock",
}
# NAME.suffix parts of a home ("%s.git", "%.*s.rules")
HOME_SUFFIX = re.compile(
    r"^%[-.*0-9]*s\.(git|rebase|sync|rules|src|head|checkpoint|json)$")
# literals that are by themselves a name only a home has
HOME_NAMES = {
    "audit.log", "hlx.conf", "run.pid", "remove.intent", "peers.json",
    "hold-tags", "feed.secret", "pdq.base", "pdq.delta", "pdq.tables", "root.key",
    "signing.key", "box.key",
}
# names the feed's layout shares: a home path only beside the home
SHARED_PARTS = {"lists", "trust.json", "publish", "open"}
HOME_HINT = re.compile(r"\bhome\w*\b|hlx_home_dir|hlx_node_home")
EXEMPT = {"node/home.c", "node/home.h"}
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def strip_comments(text):
    """Comments out (string literals kept), line numbers kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def literal_bad(lit, line):
    if lit in HOME_NAMES:
        return True
    if ("%" not in lit and "/" not in lit) or re.search(r"\s", lit):
        return False  # not a path (a message or a key names files freely)
    for part in lit.split("/"):
        if part in HOME_PARTS or HOME_SUFFIX.match(part):
            return True
        if part in SHARED_PARTS and HOME_HINT.search(line):
            return True
    return False


def literals(root):
    bad = []
    for top in ("node",):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(d, f)
                rel = os.path.relpath(path, root)
                if rel in EXEMPT:
                    continue
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = strip_comments(fh.read())
                for no, line in enumerate(text.split("\n"), 1):
                    if line.lstrip().startswith("#include"):
                        continue
                    for m in LITERAL.finditer(line):
                        if literal_bad(m.group(1), line):
                            bad.append(f'{rel}:{no}: a home path spelled out: '
                                       f'"{m.group(1)}" (use hlx_home_path)')
    return bad


def code_table(root):
    """{place: mode} from node/home.c's entries[]."""
    with open(os.path.join(root, "node/home.h"), encoding="utf-8") as fh:
        defs = dict(re.findall(r'#define\s+(\w+)\s+"([^"]*)"', fh.read()))
    with open(os.path.join(root, "node/home.c"), encoding="utf-8") as fh:
        text = fh.read()
    rows = {}
    for m in re.finditer(r'\[(HLX_HOME_\w+)\]\s*=\s*\{(.*?)\}', text):
        parts = [p.strip() for p in m.group(2).rsplit(",", 1)]
        mode = parts[1]
        fields = re.findall(r'"([^"]*)"|\b([A-Z_]+)\b|(,)', parts[0])
        vals, cur = [], ""
        for s, ident, comma in fields:
            if comma:
                vals.append(cur)
                cur = ""
            else:
                cur += s if not ident else defs.get(ident, "?" + ident)
        vals.append(cur)
        rows[vals[1]] = int(mode, 8)
    return rows


def spec_table(root):
    """{place: mode} from spec/home.md's table."""
    rows = {}
    with open(os.path.join(root, "spec/home.md"), encoding="utf-8") as fh:
        for line in fh:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("| `") or len(cells) < 3:
                continue
            prefix = ""
            for place in re.findall(r"`([^`]*)`", cells[0]):
                if "/" in place.rstrip("/"):
                    prefix = place[:place.rstrip("/").rfind("/") + 1]
                elif prefix:
                    place = prefix + place
                rows[place] = int(cells[2], 8)
    return rows


def tables(root):
    code, spec = code_table(root), spec_table(root)
    bad = []
    for p in sorted(set(code) | set(spec)):
        if p not in spec:
            bad.append(f"spec/home.md: no row for {p} (node/home.c has it)")
        elif p not in code:
            bad.append(f"node/home.c: no entry for {p} (spec/home.md has it)")
        elif code[p] != spec[p]:
            bad.append(f"node/home.c: {p} is {code[p]:04o}, "
                       f"spec/home.md says {spec[p]:04o}")
    if len(code) < 10:
        bad.append("node/home.c: the table of entries was not found")
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = tables(root) + literals(root)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
