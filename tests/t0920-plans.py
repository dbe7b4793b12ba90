#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helper of t0920-plans.sh: plan documents, and moving bundles between
node homes by hand (the union of their acts), as a feed would.

    t0920-plans.py plan ROOTS.json VERSION [EXTRA-ORG]   a plan document
    t0920-plans.py carry SRC-HOME DST-HOME                copy bundles, merging acts
    t0920-plans.py forge HOME ORG                         swap ORG's act signature
"""
import glob
import json
import os
import sys


def deadlines():
    return {"le_hold_hours": 0, "notice_hours": 24, "renotice_hours": 0,
            "escalate_after": 0}


def plan(roots_path, version, extra=None):
    with open(roots_path) as f:
        roots = json.load(f)
    if extra:
        roots[extra] = "SHA256:" + "A" * 43
    rules = [
        {"country": "*", "category": "*", "org": "hl-a",
         "fallbacks": ["hl-b", "hl-c"], "channel": "flagger",
         "languages": ["nl", "en"], "deadlines": deadlines()},
        {"country": "DE", "category": "*", "org": "hl-b",
         "fallbacks": ["hl-a"], "channel": "self", "languages": ["de"],
         "deadlines": deadlines()},
        {"country": "*", "category": "*", "host": "host-c.example",
         "org": "hl-c", "fallbacks": [], "channel": "host-node",
         "via": "hl-c", "languages": ["en"], "deadlines": deadlines()},
        {"country": "FR", "category": "b2", "org": "hl-d", "fallbacks": [],
         "channel": "police", "languages": ["fr"], "deadlines": deadlines()},
    ]
    doc = {"rules": rules, "format": "hlx-plan-1", "name": "eu",
           "version": int(version), "lease_seconds": 3600,
           "settle_seconds": 300,
           "signatories": [{"org": o, "root": r} for o, r in
                           sorted(roots.items(), reverse=True)]}
    print(json.dumps(doc, indent=1))


def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True)


def carry(src, dst):
    for path in glob.glob(os.path.join(src, "plans", "*", "*.json")):
        rel = os.path.relpath(path, src)
        with open(path) as f:
            b = json.load(f)
        out = os.path.join(dst, rel)
        if os.path.exists(out):
            with open(out) as f:
                have = json.load(f)
            acts = {a["body"]: a for a in have["acts"]}
            for a in b["acts"]:
                acts.setdefault(a["body"], a)
            b["acts"] = [acts[k] for k in sorted(acts)]
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out + ".tmp", "w") as f:
            f.write(canon(b))
        os.chmod(out + ".tmp", 0o644)
        os.rename(out + ".tmp", out)


def forge(home, org):
    """Give ORG's act the signature of another act: a forged act."""
    for path in glob.glob(os.path.join(home, "plans", "*", "*.json")):
        with open(path) as f:
            b = json.load(f)
        mine = [a for a in b["acts"] if json.loads(a["body"])["org"] == org]
        other = [a for a in b["acts"] if json.loads(a["body"])["org"] != org]
        for a in mine:
            a["signature"] = other[0]["signature"]
        with open(path, "w") as f:
            f.write(canon(b))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "plan":
        plan(*sys.argv[2:])
    elif cmd == "carry":
        carry(sys.argv[2], sys.argv[3])
    elif cmd == "forge":
        forge(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
