#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generator and independent model for tests/t0710-leak.sh.

gen SEED HOME OUTDIR: writes OUTDIR/lNN.csv (entries of the node's lists),
    OUTDIR/status.jsonl (status records), the policies into HOME/policies/,
    the peers into HOME/peers.json, and OUTDIR/model.pickle (the data).
want OUTDIR: prints, for every peer and every list its policy gives, the
    line "PEER TAB VIEW TAB COUNT TAB XOR" where XOR is the XOR of the
    SHA-256 of the canonical lines the peer must receive (spec/policy.md),
    computed here without hlx.
Synthetic random hashes only.
"""
import bisect
import hashlib
import json
import os
import pickle
import random
import sys

NLISTS = 16
NENTRIES = 100_000
NSTATUS = 10_000
NPOLICIES = 1000
TYPES = {"md5": 16, "sha1": 20, "sha256": 32, "pdq": 32}
CATS = ["cat-a", "cat-b", "cat-c", "cat-d"]
TAGS = ["hold", "le-hold", "triaged", "video"]
HOLDS = ["hold", "le-hold", "video"]
COUNTRIES = ["DE", "FR", "GB", "NL", "US", "SE"]
STATES = ["reported", "notice-sent", "removed", "reappeared", "withdrawn"]
FIELDS = ["category", "confidence", "first_seen", "tags"]


def ts(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def entry_line(h, cat, seen, conf, tags, keep):
    return "%s\t%s\t%s\t%s\t%s\n" % (
        h,
        cat if cat and "category" in keep else "-",
        ts(seen) if seen is not None and "first_seen" in keep else "-",
        str(conf) if conf is not None and "confidence" in keep else "-",
        ",".join(tags) if tags and "tags" in keep else "-")


def status_line(item, country, state, rep, chg, keep):
    if "times" not in keep:
        rep -= rep % 86400
        chg -= chg % 86400
    return "%s\t%s\t%s\t%s\t%s\n" % (
        item, country if country and "country" in keep else "-", state,
        ts(rep), ts(chg))


def sha(s):
    return int.from_bytes(hashlib.sha256(s.encode()).digest(), "big")


def subsets(xs):
    out = []
    for m in range(1 << len(xs)):
        out.append(frozenset(x for i, x in enumerate(xs) if m >> i & 1))
    return out


def gen(seed, home, out):
    r = random.Random(seed)
    lists = ["l%02d" % i for i in range(NLISTS)]
    entries = {l: [] for l in lists}
    seen_hashes = []
    for i in range(NENTRIES):
        l = lists[i % NLISTS]
        t = r.choice(list(TYPES))
        if seen_hashes and r.random() < 0.02:
            # the same hash in a second list, with other metadata
            h = r.choice(seen_hashes)
            if any(e[0] == h for e in entries[l]):
                continue
        else:
            h = "%s:%s" % (t, r.randbytes(TYPES[t]).hex())
            seen_hashes.append(h)
        cat = r.choice(CATS) if r.random() < 0.9 else None
        seen = r.randrange(1600000000, 1790000000) if r.random() < 0.8 else None
        conf = r.randrange(0, 101) if r.random() < 0.9 else None
        tags = sorted(r.sample(TAGS, r.choice([0, 0, 1, 1, 2])))
        entries[l].append((h, cat, seen, conf, tags))
    for l in lists:
        with open(os.path.join(out, l + ".csv"), "w") as f:
            f.write("hash,category,first_seen,confidence,tags\n")
            for h, cat, seen, conf, tags in entries[l]:
                f.write("%s,%s,%s,%s,%s\n" % (
                    h, cat or "", ts(seen) if seen is not None else "",
                    "" if conf is None else conf, ";".join(tags)))
    status = []
    items = set()
    for i in range(NSTATUS):
        if r.random() < 0.6:
            item = r.choice(seen_hashes)
        else:
            t = r.choice(list(TYPES))
            item = "%s:%s" % (t, r.randbytes(TYPES[t]).hex())
        if item in items:
            continue
        items.add(item)
        state = r.choice(STATES)
        rep = r.randrange(1600000000, 1790000000)
        chg = rep if state == "reported" else rep + r.randrange(0, 9000000)
        country = r.choice(COUNTRIES) if r.random() < 0.8 else None
        status.append((item, country, state, rep, chg))
    with open(os.path.join(out, "status.jsonl"), "w") as f:
        for item, country, state, rep, chg in status:
            o = {"item": item, "state": state, "reported": ts(rep),
                 "changed": ts(chg)}
            if country:
                o["country"] = country
            f.write(json.dumps(o) + "\n")
    policies = []
    os.makedirs(os.path.join(home, "policies"), exist_ok=True)
    for i in range(NPOLICIES):
        p = {"format": "hlx-policy-1", "name": "pol%04d" % i}
        if r.random() < 0.05:
            p["lists"] = ["*"]
        else:
            p["lists"] = r.sample(lists, r.choice([1, 1, 2, 3]))
        if r.random() < 0.5:
            p["lists"].append("status")
        if r.random() < 0.7:
            p["types"] = r.sample(list(TYPES), r.randrange(1, 5))
        if r.random() < 0.6:
            p["categories"] = r.sample(CATS, r.randrange(1, 5))
        if r.random() < 0.5:
            p["min_confidence"] = r.randrange(0, 101)
        p["fields"] = r.sample(FIELDS, r.randrange(0, 5))
        if r.random() < 0.7:
            p["status_fields"] = r.sample(["country", "times"], r.randrange(0, 3))
        if r.random() < 0.6:
            p["hold_tags"] = r.sample(HOLDS, r.randrange(0, 4))
        if r.random() < 0.5:
            p["rules"] = {"onward": r.random() < 0.5,
                          "retention_days": r.randrange(0, 400)}
        if r.random() < 0.3:
            p["encrypt"] = True
        policies.append(p)
        with open(os.path.join(home, "policies", p["name"] + ".json"), "w") as f:
            json.dump(p, f)
    peers = []
    with open(os.path.join(out, "root.pub")) as f:
        root = f.read().strip()
    with open(os.path.join(out, "box.pub")) as f:
        box = f.read().strip()
    for i in range(NPOLICIES):
        peers.append({"name": "p%04d" % i, "url": "", "root": root, "lists": [],
                      "policy": "pol%04d" % i, "box": box})
    with open(os.path.join(home, "peers.json"), "w") as f:
        json.dump({"format": "hlx-peers-1", "peers": peers}, f)
    with open(os.path.join(out, "model.pickle"), "wb") as f:
        pickle.dump((lists, entries, status, policies), f)
    n = sum(len(v) for v in entries.values())
    print("# %d entries in %d lists, %d status records, %d policies" %
          (n, len(lists), len(status), len(policies)))


def want(out):
    with open(os.path.join(out, "model.pickle"), "rb") as f:
        lists, entries, status, policies = pickle.load(f)
    masks = subsets(FIELDS)
    # per list, groups by (type, category, hold tags carried), each sorted
    # by confidence with suffix XORs per kept-field set, so that a policy
    # is decided per group, not per entry
    groups = {}
    for l in lists:
        g = {}
        for h, cat, seen, conf, tags in entries[l]:
            key = (h.split(":")[0], cat, frozenset(t for t in tags if t in HOLDS))
            g.setdefault(key, []).append((-1 if conf is None else conf, h, cat,
                                          seen, conf, tags))
        for key, v in g.items():
            v.sort(key=lambda e: e[0])
            confs = [e[0] for e in v]
            suf = {}
            for m in masks:
                acc = [0] * (len(v) + 1)
                for i in range(len(v) - 1, -1, -1):
                    e = v[i]
                    acc[i] = acc[i + 1] ^ sha(entry_line(e[1], e[2], e[3], e[4],
                                                         e[5], m))
                suf[m] = acc
            g[key] = (confs, suf)
        groups[l] = g

    def shares(p, t, cat, holdset, conf):
        if "types" in p and t not in p["types"]:
            return False
        if holdset & set(p.get("hold_tags", ["hold"])):
            return False
        if "categories" in p and (cat is None or cat not in p["categories"]):
            return False
        if "min_confidence" in p and (conf is None or conf < p["min_confidence"]):
            return False
        return True

    # where each status item is listed
    where = {}
    for l in lists:
        for h, cat, seen, conf, tags in entries[l]:
            where.setdefault(h, []).append((l, cat, conf,
                                            frozenset(t for t in tags if t in HOLDS)))
    smasks = subsets(["country", "times"])
    sline = {m: [sha(status_line(*s, m)) for s in status] for m in smasks}
    for i, p in enumerate(policies):
        peer = "p%04d" % i
        given = lists if p["lists"][0] == "*" else sorted(
            x for x in p["lists"] if x != "status")
        keep = frozenset(p["fields"])
        for l in sorted(given):
            n = 0
            x = 0
            for (t, cat, holdset), (confs, suf) in groups[l].items():
                if "types" in p and t not in p["types"]:
                    continue
                if holdset & set(p.get("hold_tags", ["hold"])):
                    continue
                if "categories" in p and (cat is None or cat not in p["categories"]):
                    continue
                if "min_confidence" in p:
                    k = bisect.bisect_left(confs, p["min_confidence"])
                    k = max(k, bisect.bisect_right(confs, -1))
                else:
                    k = 0
                n += len(confs) - k
                x ^= suf[keep][k]
            print("%s\t%s\t%d\t%064x" % (peer, l, n, x))
        if "status" in p["lists"]:
            sk = frozenset(p.get("status_fields", []))
            n = 0
            x = 0
            for j, (item, country, state, rep, chg) in enumerate(status):
                if "types" in p and item.split(":")[0] not in p["types"]:
                    continue
                w = where.get(item)
                if w and not any(l in given and
                                 shares(p, item.split(":")[0], cat, hs, conf)
                                 for l, cat, conf, hs in w):
                    continue
                n += 1
                x ^= sline[sk][j]
            print("%s\tstatus\t%d\t%064x" % (peer, n, x))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        want(sys.argv[2])
