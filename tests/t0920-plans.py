#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helper of t0920-plans.sh: plan documents, and moving bundles between
node homes by hand (the union of their acts), as a feed would.

    t0920-plans.py plan ROOTS.json VERSION [EXTRA-ORG]   a plan document
    t0920-plans.py carry SRC-HOME DST-HOME                copy bundles, merging acts
    t0920-plans.py forge HOME ORG                         swap ORG's act signature
    t0920-plans.py evil HLX HOME WWW NOW MODE             a peer serving a
        signed plans head over: MODE forged-act (an act of another
        organisation with a signature of its own), lower (a new document of
        an existing version, signed by the peer alone), fork (the same seq,
        other plans), drop (an act left out, the next seq)
"""
import glob
import hashlib
import json
import os
import subprocess
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


def sign(hlx, home, now, ns, data):
    env = dict(os.environ, HLX_NOW=now)
    return subprocess.run([hlx, "--home", home, "sign", "-n", ns, "-"],
                          input=data.encode(), env=env, check=True,
                          capture_output=True).stdout.decode()


def evil(hlx, home, www, now, mode):
    with open(os.path.join(www, "plans", "head")) as f:
        head = json.load(f)
    body = json.loads(head["body"])
    org = body["org"]
    e = body["plans"][-1]
    with open(os.path.join(www, "plans", e["name"], e["doc"] + ".json")) as f:
        bundle = json.load(f)
    if mode == "forged-act":
        # another organisation's act, signed by this peer's own key
        other = [a for a in bundle["acts"]
                 if json.loads(a["body"])["org"] != org][0]
        b = json.loads(other["body"])
        b["time"] = now
        nb = canon(b)
        bundle["acts"] = [a for a in bundle["acts"] if a is not other]
        bundle["acts"].append({"body": nb, "signature": sign(
            hlx, home, now, "hlx-plan", nb)})
        bundle["acts"].sort(key=lambda a: a["body"])
        body["seq"] += 1
    elif mode == "lower":
        doc = json.loads(bundle["plan"])
        doc["lease_seconds"] += 1
        text = canon(doc)
        h = hashlib.sha256(text.encode()).hexdigest()
        act = canon({"act": "sign", "doc": h, "format": "hlx-plan-act-1",
                     "org": org, "plan": doc["name"],
                     "version": doc["version"], "time": now})
        bundle = {"format": "hlx-plan-bundle-1", "plan": text,
                  "acts": [{"body": act, "signature": sign(
                      hlx, home, now, "hlx-plan", act)}]}
        e = {"name": doc["name"], "version": doc["version"], "doc": h}
        body["plans"].append(e)
        body["plans"].sort(key=lambda x: (x["name"], x["version"], x["doc"]))
        body["seq"] += 1
    elif mode in ("fork", "drop"):
        bundle["acts"] = bundle["acts"][:-1]
        body["seq"] += mode == "drop"
    data = canon(bundle)
    e["bundle"] = hashlib.sha256(data.encode()).hexdigest()
    os.makedirs(os.path.join(www, "plans", e["name"]), exist_ok=True)
    with open(os.path.join(www, "plans", e["name"], e["doc"] + ".json"),
              "w") as f:
        f.write(data)
    body["issued"] = now
    nb = canon(body)
    with open(os.path.join(www, "plans", "head"), "w") as f:
        f.write(json.dumps({"body": nb, "signature": sign(
            hlx, home, now, "hlx-plans", nb)}, indent=1) + "\n")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "plan":
        plan(*sys.argv[2:])
    elif cmd == "carry":
        carry(sys.argv[2], sys.argv[3])
    elif cmd == "evil":
        evil(*sys.argv[2:7])
    elif cmd == "forge":
        forge(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
