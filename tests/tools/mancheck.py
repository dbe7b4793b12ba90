#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The command table and the man page, held to each other.

    mancheck.py MANPAGE OPTIONS [SHORTS]

OPTIONS is the output of 'hlx help --options': one line per row of the
command table, "CMD[ SUB]<TAB>--help --opt ...".  SHORTS (optional) has
one line per short option, "CMD[ SUB]<TAB>-n --namespace", taken from
'hlx CMD [SUB] --help'.

In the COMMANDS section of MANPAGE (roff, man macros), every item (.TP)
has a tag line naming one or more commands ("peer ls, peer rm NAME") with
their synopsis; a tag nested inside the item (.RS .TP ... .RE) documents
more options of it.  An option is documented for a command when it is in
the synopsis or in such a nested tag; options mentioned in the prose are
not (they are often another command's: "see 'hlx key show --box'").

Every row of the table must have an item, every option of a row must be
documented for it (a short one too, beside its long one), and every option
documented for a command must be one of its row's (or a global option).  Prints one line per disagreement and
exits 1 if there is any.
"""
import re
import sys

GLOBAL = {"--home", "--passphrase-file", "--help", "-h", "--version"}
FONTS = {"B": "B", "I": "I", "R": "R"}
OPTION = re.compile(r"^--?[A-Za-z][A-Za-z0-9-]*")


def read_table(path):
    rows = {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        name, _, opts = line.partition("\t")
        rows[name] = set(opts.split()) - {"--help"}
    return rows


def read_shorts(path):
    shorts = {}
    if path:
        for line in open(path, encoding="utf-8"):
            name, _, pair = line.rstrip("\n").partition("\t")
            short, long_ = pair.split()
            shorts.setdefault(name, {})[short] = long_
    return shorts


def macro_args(s):
    """The arguments of a macro line: blanks separate, "..." quotes, ""
    inside quotes is a quote."""
    args, cur, quoted, i, any_ = [], "", False, 0, False
    while i < len(s):
        c = s[i]
        if quoted:
            if c == '"' and s[i + 1:i + 2] == '"':
                cur += '"'
                i += 1
            elif c == '"':
                quoted = False
            else:
                cur += c
        elif c == '"':
            quoted, any_ = True, True
        elif c in " \t":
            if cur or any_:
                args.append(cur)
            cur, any_ = "", False
        else:
            cur += c
        i += 1
    if cur or any_:
        args.append(cur)
    return args


def segments(line):
    """A text line or a font macro line as [(font, text)], inline font
    escapes applied, roff escapes turned into the characters they print."""
    if line.startswith("."):
        name, _, rest = line[1:].partition(" ")
        if name in ("B", "I"):
            parts = [(name, rest.strip())]
        elif len(name) == 2 and all(c in FONTS for c in name):
            parts = [(name[k % 2], a) for k, a in enumerate(macro_args(rest))]
        else:
            return []
    else:
        parts = [("R", line)]
    out = []
    for font, text in parts:
        prev, cur = "R", font
        i = 0
        buf = ""
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                n = text[i + 1]
                if n == "f" and i + 2 < len(text):
                    f = text[i + 2]
                    out.append((cur, buf))
                    buf = ""
                    if f == "P":
                        prev, cur = cur, prev
                    else:
                        prev, cur = cur, FONTS.get(f, "R")
                    i += 3
                    continue
                if n == "(" and i + 3 < len(text):
                    buf += {"em": "--", "en": "-", "aq": "'"}.get(
                        text[i + 2:i + 4], "?")
                    i += 4
                    continue
                buf += {"-": "-", "e": "\\", " ": " ", "&": "", "|": "",
                        "~": " "}.get(n, n)
                i += 2
                continue
            buf += c
            i += 1
        out.append((cur, buf))
    return [(f, t) for f, t in out if t]


def tokens(segs):
    """Words with their font: separators [ ] | ( ) , are tokens too (a
    comma ends a clause: 'peer ls, peer rm NAME')."""
    toks = []
    for font, text in segs:
        for w in re.findall(r"[\[\]|(),]|[^\s\[\]|(),]+", text):
            toks.append((font, w))
    return toks


def clauses(toks):
    out, cur = [], []
    for t in toks:
        if t[1] == ",":
            out.append(cur)
            cur = []
        else:
            cur.append(t)
    out.append(cur)
    return [c for c in out if c]


def only_subs(name, rows):
    """'peer' alone: a command that is only its subcommands (its line in
    'hlx help --options' has --help alone)."""
    return not rows.get(name) and any(r.startswith(name + " ") for r in rows)


def parse_man(path, rows):
    """{row name: set of options documented} and problems found."""
    documented, problems = {}, []
    section, depth, want_tag, item = None, 0, False, []
    commands = {r.split(" ")[0] for r in rows}
    for lineno, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.rstrip("\n")
        if line.startswith('.\\"'):
            continue
        if line.startswith(".SH"):
            section = " ".join(macro_args(line[3:])).strip()
            depth, want_tag, item = 0, False, []
            continue
        if section != "COMMANDS":
            continue
        if line.startswith(".RS"):
            depth += 1
            continue
        if line.startswith(".RE"):
            depth = max(0, depth - 1)
            continue
        if line.startswith(".TP"):
            want_tag = True
            continue
        if not want_tag:
            continue
        want_tag = False
        toks = tokens(segments(line))
        opts = [w for _, w in toks if OPTION.match(w)]
        if depth:
            # a nested tag: more options of the item's commands
            for name in item:
                documented[name].update(opts)
            continue
        item = []
        for c in clauses(toks):
            where = "%s:%d" % (path, lineno)
            font, cmd = c[0]
            if font != "B" or cmd not in commands:
                problems.append("%s: '%s' is not a command of the table"
                                % (where, cmd))
                continue
            word = c[1][1] if len(c) > 1 and c[1][0] == "B" else None
            if word and "%s %s" % (cmd, word) in rows:
                name = "%s %s" % (cmd, word)
            elif only_subs(cmd, rows):
                problems.append("%s: '%s %s' is not a command of the table"
                                % (where, cmd, word or ""))
                continue
            else:
                name = cmd
            item.append(name)
            documented.setdefault(name, set()).update(
                w for _, w in c if OPTION.match(w))
    return documented, problems


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write("usage: mancheck.py MANPAGE OPTIONS [SHORTS]\n")
        return 2
    man = argv[1]
    rows = read_table(argv[2])
    shorts = read_shorts(argv[3] if len(argv) == 4 else None)
    documented, problems = parse_man(man, rows)
    for name, opts in rows.items():
        if name not in documented:
            if not only_subs(name, rows):
                problems.append("%s: no item for '%s'" % (man, name))
            continue
        doc, raw = set(), set()
        for o in documented[name]:
            m = OPTION.match(o).group(0)
            raw.add(m)
            if not m.startswith("--") and m in shorts.get(name, {}):
                m = shorts[name][m]
            doc.add(m)
        for short, long_ in sorted(shorts.get(name, {}).items()):
            if short not in raw:
                problems.append("%s: '%s' does not document %s (%s)"
                                % (man, name, short, long_))
        for o in sorted(opts - doc):
            problems.append("%s: '%s' does not document %s" % (man, name, o))
        for o in sorted(doc - opts - GLOBAL):
            problems.append("%s: '%s' documents %s, which the table does "
                            "not have" % (man, name, o))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
