#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helper of t0950-takedown.sh: the plan of the federation, the seeded
reports, and the expected owners from the independent model
(tests/tools/fed_owner.py), read from what the nodes hold with git, not
through hlx.

    t0950-takedown.py plan ROOTS.json            the plan document
    t0950-takedown.py reports SEED N ORG...      reports-ORG.jsonl, urls.tsv
    t0950-takedown.py model NOW ORG...           model input on stdout
    t0950-takedown.py twice ORG...               cases noticed by two orgs
    t0950-takedown.py urls HLX ORG...            who holds the sampled URLs
"""
import glob
import hashlib
import json
import os
import random
import subprocess
import sys

HOTLINES = {"DE": "hl-de", "FR": "hl-fr", "GB": "hl-gb", "NL": "hl-nl"}
COUNTRIES = ["DE", "FR", "GB", "NL", "US", "BR", "JP", "ZA", None]
HOSTS = ["img.host-a.example", "host-a.example", "host-b.example",
         "cdn.other.example", "files.example"]
CATEGORIES = ["a1", "b2", None]


def deadlines(hold=0, by=None, esc=0, to=None):
    d = {"le_hold_hours": hold, "notice_hours": 24, "renotice_hours": 24,
         "escalate_after": esc}
    if by:
        d["le_by"] = by
    if to:
        d["escalate_to"] = to
    return d


def plan(roots_path):
    with open(roots_path) as f:
        roots = json.load(f)
    rules = [
        {"country": "*", "category": "*", "org": "hl-nl",
         "fallbacks": ["hl-de", "hl-gb"], "channel": "flagger",
         "languages": ["nl", "en"], "deadlines": deadlines(esc=3, to="le-nl")},
        {"country": "*", "category": "*", "host": "host-a.example",
         "org": "hl-nl", "fallbacks": ["hl-de"], "channel": "host-node",
         "via": "host-a", "languages": ["en"], "deadlines": deadlines()},
        {"country": "*", "category": "*", "host": "host-b.example",
         "org": "hl-gb", "fallbacks": ["hl-nl"], "channel": "host-node",
         "via": "host-b", "languages": ["en"], "deadlines": deadlines()},
        {"country": "FR", "category": "b2", "org": "hl-fr", "fallbacks": [],
         "channel": "police", "via": "le-nl", "languages": ["fr"],
         "deadlines": deadlines()},
        {"country": "NL", "category": "*", "org": "hl-nl",
         "fallbacks": ["hl-de"], "channel": "self", "languages": ["nl", "en"],
         "deadlines": deadlines(hold=24, by="le-nl")},
    ]
    for cc in ("DE", "FR", "GB"):
        org = HOTLINES[cc]
        rules.append({"country": cc, "category": "*", "org": org,
                      "fallbacks": ["hl-nl"] if org != "hl-nl" else [],
                      "channel": "self", "languages": ["en"],
                      "deadlines": deadlines()})
    doc = {"format": "hlx-plan-1", "name": "eu", "version": 1,
           "lease_seconds": 3600, "settle_seconds": 300,
           "signatories": [{"org": o, "root": r} for o, r in
                           sorted(roots.items(), reverse=True)],
           "rules": rules}
    # any spelling: propose canonicalises it
    print(json.dumps(doc, indent=1))


def reports(seed, n, orgs):
    rng = random.Random(seed)
    per = {o: [] for o in orgs}
    urls = []
    for i in range(n):
        host = rng.choice(HOSTS)
        url = "https://%s/%s" % (host, "%032x" % rng.getrandbits(128))
        rep = {"url": url, "item": "md5:%032x" % rng.getrandbits(128)}
        cc = rng.choice(COUNTRIES)
        if cc:
            rep["country"] = cc
        cat = rng.choice(CATEGORIES)
        if cat:
            rep["category"] = cat
        who = [rng.choice(orgs)]
        if rng.random() < 0.05:  # the same location reported twice
            who.append(rng.choice([o for o in orgs if o != who[0]]))
        for k, o in enumerate(who):
            r = dict(rep)
            if k and rng.random() < 0.5 and "country" in r:
                del r["country"]  # a second report that says less
            per[o].append(r)
        urls.append((url, ",".join(who)))
    for o in orgs:
        with open("reports-%s.jsonl" % o, "w") as f:
            for r in per[o]:
                f.write(json.dumps(r, sort_keys=True) + "\n")
    with open("urls.tsv", "w") as f:
        for url, who in urls:
            f.write("%s\t%s\n" % (url, who))


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir] + list(args),
                          check=True, capture_output=True).stdout


def log_lines(gitdir):
    """Every line of the cases log at HEAD of a repository."""
    if not os.path.isdir(gitdir):
        return []
    out = []
    tree = git(gitdir, "ls-tree", "-r", "-z", "HEAD").split(b"\0")
    blobs = [t.split(b"\t")[0].split()[2].decode() for t in tree if t]
    if not blobs:
        return []
    data = subprocess.run(["git", "--git-dir", gitdir, "cat-file",
                           "--batch"], input="\n".join(blobs).encode() + b"\n",
                          check=True, capture_output=True).stdout
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        size = int(data[pos:nl].split()[2])
        body = data[nl + 1:nl + 1 + size]
        pos = nl + 1 + size + 1
        for line in body.decode().split("\n"):
            if line.startswith("url-sha256:"):
                out.append(line + "\n")
    return out


def model(now, orgs):
    plans, acts = set(), set()
    for b in glob.glob("%s/plans/*/*.json" % orgs[0]):
        with open(b) as f:
            bundle = json.load(f)
        plans.add(bundle["plan"])
        for a in bundle["acts"]:
            acts.add(a["body"])
    roots = {}
    for o in orgs:
        with open("%s.fpr" % o) as f:
            roots[o] = f.read().strip()
    lines = []
    for o in orgs:
        for ln in log_lines("%s/lists/cases.git" % o):
            lines.append([o, ln])
    json.dump({"plans": sorted(plans), "acts": sorted(acts), "roots": roots,
               "lines": lines, "now": now}, sys.stdout)


def twice(orgs):
    """Cases whose lines show notices from two organisations."""
    by = {}
    for o in orgs:
        for ln in log_lines("%s/lists/cases.git" % o):
            f = ln.rstrip("\n").split("\t")
            if int(f[9]) > 0:
                by.setdefault(f[0], set()).add(o)
    noticed = sum(1 for v in by.values() if v)
    bad = sorted(c for c, v in by.items() if len(v) > 1)
    print("noticed %d twice %d" % (noticed, len(bad)))
    for c in bad:
        print(c, ",".join(sorted(by[c])))


def urls(hlx, orgs):
    """Each URL of sample.tsv (reported by one organisation) is held by
    its reporter and its owner now, and by no node that never owned it:
    the owners are those of the model at each stage (model-*.out)."""
    owners = {}
    for path in glob.glob("model-*.out"):
        with open(path) as f:
            for ln in f:
                c = ln.split("\t")
                owners.setdefault(c[0], []).append((path, c[2]))
    with open("model.out") as f:
        final = {ln.split("\t")[0]: ln.split("\t")[2] for ln in f}
    bad = 0
    with open("sample.tsv") as f:
        for ln in f:
            url, rep = ln.rstrip("\n").split("\t")
            case = "url-sha256:" + hashlib.sha256(url.encode()).hexdigest()
            must = {rep, final[case]}
            may = must | {o for _, o in owners.get(case, [])}
            for o in orgs:
                r = subprocess.run([hlx, "--home", o, "url", "show", url],
                                   capture_output=True)
                held = r.returncode == 0 and r.stdout.decode() == url + "\n"
                if held and o not in may:
                    print("# %s holds %s, which it never owned" % (o, case))
                    bad += 1
                if o in must and not held:
                    print("# %s lacks %s" % (o, case))
                    bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "plan":
        plan(sys.argv[2])
    elif cmd == "reports":
        reports(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
    elif cmd == "model":
        model(sys.argv[2], sys.argv[3:])
    elif cmd == "twice":
        twice(sys.argv[2:])
    elif cmd == "urls":
        urls(sys.argv[2], sys.argv[3:])
    else:
        sys.exit("usage: see the header")
