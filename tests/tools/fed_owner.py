#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent model of `hlx case ls --all` across a federation, from
the specs (spec/plan.md sections 4 to 6, spec/cases.md sections 4 to 6),
for the federation tests of takedown coordination.  It puts together the
two models written from the specs: tests/tools/plan_route.py (documents,
acts, in force) and tests/tools/case_owner.py (the owner replay, the state
of a case); it computes the base order of plan.md section 4.1 itself.

    fed_owner.py FILE

FILE is JSON:

    {"plans": [canonical document text, ...],
     "acts":  [act body text, ...],         every act taken as verified
     "roots": {ORG: "SHA256:...", ...},     first root of each organisation
     "lines": [[ORG, case line text], ...], every line of every cases log
     "now":   "TIME"}

Output, sorted by case id, one line per case that exists at now, as
`hlx case ls --all` prints it:

    CASE<TAB>STATE<TAB>OWNER<TAB>SINCE<TAB>COUNTRY<TAB>CATEGORY
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import case_owner  # noqa: E402
import plan_route  # noqa: E402


def base_route(plans, loc):
    """(doc, rule, B, nchain, withdrawals) of the route of loc over the
    plans in force ({name: (doc, {org: time})}), or None."""
    best = plan_route.best_rule(plans, loc)
    if best is None:
        return None
    doc, w = plans[best[0]]
    b = plan_route.chain_part(doc, best[1])
    nchain = len(b)
    for o in sorted((x["org"] for x in doc["signatories"]),
                    key=lambda o: o.encode()):
        if o not in b:
            b.append(o)
    return doc, best[1], b, nchain, w


def main(path):
    with open(path) as f:
        data = json.load(f)
    book = plan_route.Book()
    for text in data["plans"]:
        book.add(*plan_route.parse_plan(text))
    for body in data["acts"]:
        book.act(plan_route.parse_act(body))
    now = case_owner.pt(data["now"])
    by_case = {}
    for org, text in data["lines"]:
        cid = text.split("\t", 1)[0]
        by_case.setdefault(cid, []).append(
            (org, data["roots"][org], case_owner.parse_line(text),
             text.split("\t")))
    out = []
    for cid in sorted(by_case):
        c = case_owner.Case()
        c.srcs = [(o, r, ln) for (o, r, ln, _) in by_case[cid]]
        i = c.opening()
        if i is None or c.srcs[i][2]["reported"] > now:
            continue
        fields = by_case[cid][i][3]
        t0 = c.srcs[i][2]["reported"]
        loc = (None if fields[2] == "-" else fields[2],
               None if fields[4] == "-" else fields[4],
               None if fields[3] == "-" else fields[3])
        r = base_route(book.in_force(t0), loc)
        if r is not None:
            doc, rule, b, nchain, w = r
            c.routed = True
            c.lease = doc["lease_seconds"]
            c.settle = doc["settle_seconds"]
            c.base = b
            c.nchain = nchain
            c.le_by = rule["deadlines"].get("le_by")
            c.wd = {o: t for o, t in w.items() if t is not None}
        st, state, changed = c.owner(now)
        out.append("\t".join([cid, state, st["O"], case_owner.ts(st["since"]),
                              fields[2], fields[4]]))
    for line in out:
        print(line)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: fed_owner.py FILE")
    main(sys.argv[1])
