#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent model of routing over response plans (spec/plan.md),
written from the spec, not from the C code, for tests/t0900-plan-route.sh.

    plan_route.py gen SEED      print a random input (plans, acts, times,
                                locations) as JSON
    plan_route.py route FILE    route every location at every time

The input and output are those of tests/unit/plan-route-driver.c:
{"plans": [TEXT...], "acts": [BODY...], "times": [...], "locations": [...]};
every act is taken as verified (section 5.2, conditions 3 to 6).

Output: "doc I refused" for each document that section 3.7 refuses, "act I
refused" for each act body that section 5.1 refuses, then per time and
location TIME<TAB>LOCATION<TAB>ORG<TAB>PLAN@V<TAB>RULE-ID<TAB>FALLBACKS as
`hlx plan route` prints it (section 8), or TIME<TAB>INPUT<TAB>error.

Countries: the model knows the assigned codes this test uses (COUNTRIES);
the generator uses no others except the unassigned ones in BAD_COUNTRIES.
"""
import hashlib
import json
import random
import re
import sys

COUNTRIES = {"BE", "BR", "DE", "FR", "GB", "NL", "US", "XK"}
BAD_COUNTRIES = ["UK", "EU", "ZZ"]
TOKEN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}\Z")
ORG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
LABEL = re.compile(r"[a-z0-9_-]{1,63}\Z")
LANG = re.compile(r"[a-z]{2,3}\Z")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
CHANNELS = ("self", "police", "host-node", "flagger")


class Refused(Exception):
    pass


def need(cond, why="refused"):
    if not cond:
        raise Refused(why)


def is_int(v):
    return type(v) is int


def is_host(h):
    if not isinstance(h, str) or not 1 <= len(h) <= 253:
        return False
    labels = h.split(".")
    if not all(LABEL.match(x) for x in labels):
        return False
    return not all(c.isdigit() or c == "." for c in h)


def no_dups(pairs):
    d = {}
    for k, v in pairs:
        need(k not in d, "duplicate member")
        d[k] = v
    return d


# ---- the document (sections 2 and 3) ---------------------------------------

def check_members(o, required, optional=()):
    need(isinstance(o, dict))
    need(set(o) <= set(required) | set(optional))
    need(set(required) <= set(o))


def check_int(v, lo, hi):
    need(is_int(v) and lo <= v <= hi)


def check_rule(r, orgs):
    check_members(r, ["country", "category", "org", "fallbacks", "channel",
                      "languages", "deadlines"], ["host", "via"])
    c, k = r["country"], r["category"]
    need(isinstance(c, str) and (c == "*" or c in COUNTRIES))
    need(isinstance(k, str) and (k == "*" or TOKEN.match(k)))
    if "host" in r:
        need(is_host(r["host"]))
    need(r["org"] in orgs)
    fb = r["fallbacks"]
    need(isinstance(fb, list) and len(fb) <= 8)
    need(all(isinstance(x, str) and x in orgs for x in fb))
    need(r["org"] not in fb and len(set(fb)) == len(fb))
    ch = r["channel"]
    need(ch in CHANNELS)
    if ch == "host-node":
        need("via" in r)
    if ch in ("self", "flagger"):
        need("via" not in r)
    if "via" in r:
        need(r["via"] in orgs)
    la = r["languages"]
    need(isinstance(la, list) and 1 <= len(la) <= 8)
    need(all(isinstance(x, str) and LANG.match(x) for x in la))
    need(len(set(la)) == len(la))
    d = r["deadlines"]
    check_members(d, ["le_hold_hours", "notice_hours", "renotice_hours",
                      "escalate_after"], ["le_by", "escalate_to"])
    check_int(d["le_hold_hours"], 0, 720)
    check_int(d["notice_hours"], 1, 8760)
    check_int(d["renotice_hours"], 0, 8760)
    check_int(d["escalate_after"], 0, 100)
    if "le_by" in d:
        need(d["le_hold_hours"] > 0 and d["le_by"] in orgs)
    need(("escalate_to" in d) == (d["escalate_after"] > 0))
    if "escalate_to" in d:
        need(d["escalate_to"] in orgs)


def rule_id(r):
    i = r["country"] + "/" + r["category"]
    return i + "/" + r["host"] if "host" in r else i


def canonical(doc):
    """Section 2.3: signatories by org, rules by id, languages sorted."""
    d = json.loads(json.dumps(doc))
    d["signatories"].sort(key=lambda s: s["org"].encode())
    d["rules"].sort(key=lambda r: rule_id(r).encode())
    for r in d["rules"]:
        r["languages"].sort()
    return json.dumps(d, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode()


def parse_plan(text):
    """The document and its hash (hex), or Refused."""
    try:
        doc = json.loads(text, object_pairs_hook=no_dups,
                         parse_constant=lambda x: None)
    except ValueError:
        raise Refused("not JSON")
    check_members(doc, ["format", "name", "version", "lease_seconds",
                        "settle_seconds", "signatories", "rules"])
    need(doc["format"] == "hlx-plan-1")
    need(isinstance(doc["name"], str) and TOKEN.match(doc["name"]))
    check_int(doc["version"], 1, 2147483647)
    check_int(doc["lease_seconds"], 60, 604800)
    check_int(doc["settle_seconds"], 0, 3600)
    sigs = doc["signatories"]
    need(isinstance(sigs, list) and 1 <= len(sigs) <= 64)
    for s in sigs:
        check_members(s, ["org", "root"])
        need(isinstance(s["org"], str) and ORG.match(s["org"]))
        root = s["root"]
        need(isinstance(root, str) and len(root) == 50 and
             root.startswith("SHA256:") and all(c in B64 for c in root[7:]))
        need(B64.index(root[-1]) % 4 == 0)
    need(len({s["org"] for s in sigs}) == len(sigs))
    need(len({s["root"] for s in sigs}) == len(sigs))
    orgs = {s["org"] for s in sigs}
    rules = doc["rules"]
    need(isinstance(rules, list) and 1 <= len(rules) <= 1024)
    for r in rules:
        check_rule(r, orgs)
    ids = [rule_id(r) for r in rules]
    need(len(set(ids)) == len(ids), "two rules with one id")
    need("*/*" in ids, "no default rule")
    c = canonical(doc)
    need(len(c) <= 262144)
    return json.loads(c), hashlib.sha256(c).hexdigest()


# ---- acts (section 5.1) -----------------------------------------------------

TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z\Z")


def days_from_civil(y, m, d):
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_time(s):
    m = TIME.match(s) if isinstance(s, str) else None
    need(m)
    y, mo, d, h, mi, se = map(int, m.groups())
    need(1970 <= y and 1 <= mo <= 12 and h < 24 and mi < 60 and se < 60)
    mdays = [31, 29 if (y % 4 == 0 and y % 100) or y % 400 == 0 else 28,
             31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    need(1 <= d <= mdays[mo - 1])
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se


def format_time(t):
    import datetime
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def act_body(kind, org, plan, version, doc, t):
    o = {"format": "hlx-plan-act-1", "act": kind, "org": org, "plan": plan,
         "version": version, "doc": doc, "time": format_time(t)}
    return json.dumps(o, sort_keys=True, separators=(",", ":"))


def parse_act(body):
    try:
        o = json.loads(body, object_pairs_hook=no_dups)
    except ValueError:
        raise Refused("not JSON")
    need(len(body.encode()) <= 1024)
    check_members(o, ["format", "act", "org", "plan", "version", "doc",
                      "time"])
    need(o["format"] == "hlx-plan-act-1")
    need(o["act"] in ("sign", "withdraw"))
    need(isinstance(o["org"], str) and ORG.match(o["org"]))
    need(isinstance(o["plan"], str) and TOKEN.match(o["plan"]))
    check_int(o["version"], 1, 2147483647)
    need(isinstance(o["doc"], str) and re.match(r"[0-9a-f]{64}\Z", o["doc"]))
    o["time"] = parse_time(o["time"])
    need(body == json.dumps(json.loads(body), sort_keys=True,
                            separators=(",", ":"), ensure_ascii=True))
    return o


# ---- in force (sections 5.3 and 6) ------------------------------------------

class Book:
    def __init__(self):
        self.docs = {}      # hash -> document
        self.signed = {}    # hash -> {org: earliest sign time}
        self.withdrawals = []  # (plan, org, version, time)

    def add(self, doc, h):
        if h not in self.docs:
            self.docs[h] = doc
            self.signed[h] = {}

    def act(self, a):
        d = self.docs.get(a["doc"])
        if d is None or d["name"] != a["plan"] or \
                d["version"] != a["version"] or \
                a["org"] not in [s["org"] for s in d["signatories"]]:
            return
        if a["act"] == "sign":
            s = self.signed[a["doc"]]
            s[a["org"]] = min(s.get(a["org"], a["time"]), a["time"])
        else:
            self.withdrawals.append((a["plan"], a["org"], a["version"],
                                     a["time"]))

    def start(self, h):
        """The start of a complete document, or None."""
        d, s = self.docs[h], self.signed[h]
        if any(x["org"] not in s for x in d["signatories"]):
            return None
        return max(s.values())

    def withdrawn(self, doc, org):
        ts = [t for (n, o, v, t) in self.withdrawals
              if n == doc["name"] and o == org and v >= doc["version"]]
        return min(ts) if ts else None

    def in_force(self, t):
        """{name: (doc, {org: withdrawal time})} at t."""
        counting = {}  # (name, version) -> (start, hash)
        for h, d in self.docs.items():
            s = self.start(h)
            if s is None:
                continue
            key = (d["name"], d["version"])
            if key not in counting or (s, h) < counting[key]:
                counting[key] = (s, h)
        out = {}
        for name in {n for (n, v) in counting}:
            started = [(v, sh) for (n, v), sh in counting.items()
                       if n == name and sh[0] <= t]
            if not started:
                continue
            v, (s, h) = max(started)
            d = self.docs[h]
            w = {x["org"]: self.withdrawn(d, x["org"])
                 for x in d["signatories"]}
            if all(wt is not None and wt <= t for wt in w.values()):
                continue  # every signatory withdrew: and no older version
            out[name] = (d, w)
        return out


# ---- routing (section 4) ----------------------------------------------------

def parse_location(s):
    parts = s.split("/")
    need(len(parts) in (2, 3))
    c, k = parts[0], parts[1]
    if c != "-":
        c = c.upper()
        need(c in COUNTRIES and len(parts[0]) == 2)
    if k != "-":
        need(TOKEN.match(k))
    h = None
    if len(parts) == 3:
        h = parts[2].lower()
        need(is_host(h) and all(ord(ch) < 128 for ch in parts[2]))
    return (None if c == "-" else c, None if k == "-" else k, h)


def matches(r, c, k, h):
    if r["country"] != "*" and r["country"] != c:
        return False
    if r["category"] != "*" and r["category"] != k:
        return False
    if "host" in r:
        H = r["host"]
        return h is not None and (h == H or h.endswith("." + H))
    return True


def specificity(r):
    return (len(r["host"].split(".")) if "host" in r else 0,
            int(r["country"] != "*"), int(r["category"] != "*"))


def best_rule(plans, loc):
    """(name, rule): the most specific matching rule of the plans in
    force, ties to the plan name first in byte order; or None."""
    c, k, h = loc
    best = None
    for name in sorted(plans, key=lambda n: n.encode()):
        doc, w = plans[name]
        rules = [r for r in doc["rules"] if matches(r, c, k, h)]
        specs = sorted((specificity(r) for r in rules), reverse=True)
        assert len(specs) < 2 or specs[0] != specs[1]
        r = max(rules, key=specificity)
        if best is None or specificity(r) > specificity(best[1]):
            best = (name, r)
    return best


def chain_part(doc, r):
    """The rule's and default rule's part of the base order (4.1)."""
    default = [x for x in doc["rules"] if rule_id(x) == "*/*"][0]
    b = []
    for o in [r["org"]] + r["fallbacks"] + [default["org"]] + \
            default["fallbacks"]:
        if o not in b:
            b.append(o)
    return b


def route(plans, loc, t):
    """(org, 'name@v', rule id, [fallbacks]) or None."""
    best = best_rule(plans, loc)
    if best is None:
        return None
    name, r = best
    doc, w = plans[name]
    b = chain_part(doc, r)

    def gone(o):
        return w[o] is not None and w[o] <= t
    chain = [o for o in b if not gone(o)]
    if not chain:
        chain = sorted((x["org"] for x in doc["signatories"]
                        if not gone(x["org"])), key=lambda o: o.encode())
    if not chain:
        return None
    return (chain[0], "%s@%d" % (name, doc["version"]), rule_id(r),
            chain[1:])


def run(path):
    with open(path) as f:
        data = json.load(f)
    book = Book()
    out = []
    for i, text in enumerate(data["plans"]):
        try:
            book.add(*parse_plan(text))
        except Refused:
            out.append("doc %d refused" % i)
    for i, body in enumerate(data["acts"]):
        try:
            book.act(parse_act(body))
        except Refused:
            out.append("act %d refused" % i)
    for t in data["times"]:
        plans = book.in_force(t)
        for s in data["locations"]:
            try:
                loc = parse_location(s)
            except Refused:
                out.append("%d\t%s\terror" % (t, s))
                continue
            norm = "/".join([loc[0] or "-", loc[1] or "-"] +
                            ([loc[2]] if loc[2] else []))
            r = route(plans, loc, t)
            if r is None:
                out.append("%d\t%s\t-\t-\t-\t-" % (t, norm))
            else:
                out.append("%d\t%s\t%s\t%s\t%s\t%s" % (
                    t, norm, r[0], r[1], r[2], ",".join(r[3]) or "-"))
    print("\n".join(out))


# ---- the generator ----------------------------------------------------------

ORGS = ["hl-de", "hl-fr", "hl-gb", "hl-nl", "host-a", "host-b", "le-nl",
        "ngo.x"]
CATS = ["a1", "a2", "b2"]
RULE_HOSTS = ["host-a.example", "img.host-a.example", "host-b.example",
              "example", "cdn.host-b.example"]
LOC_HOSTS = RULE_HOSTS + ["sub.img.host-a.example", "evilhost-a.example",
                          "x.example", "HOST-A.Example", "other.test",
                          "a.b.cdn.host-b.example"]
BASE = 1796083200  # 2026-12-01T00:00:00Z
HOUR = 3600


def root(rng):
    return "SHA256:" + "".join(rng.choice(B64) for _ in range(42)) + \
        rng.choice("AEIMQUYcgkosw048")


def gen_rule(rng, orgs, country, category, host):
    org = rng.choice(orgs)
    others = [o for o in orgs if o != org]
    rng.shuffle(others)
    r = {"country": country, "category": category, "org": org,
         "fallbacks": others[:rng.randint(0, min(3, len(others)))],
         "channel": rng.choice(CHANNELS),
         "languages": rng.sample(["de", "en", "fr", "nl", "gsw"],
                                 rng.randint(1, 3)),
         "deadlines": {"le_hold_hours": 0, "notice_hours": 24,
                       "renotice_hours": 0, "escalate_after": 0}}
    if host:
        r["host"] = host
    if r["channel"] in ("host-node", "police") and \
            (r["channel"] == "host-node" or rng.random() < 0.5):
        r["via"] = rng.choice(orgs)
    if rng.random() < 0.3:
        r["deadlines"]["le_hold_hours"] = rng.randint(1, 720)
        if rng.random() < 0.5:
            r["deadlines"]["le_by"] = rng.choice(orgs)
    if rng.random() < 0.3:
        r["deadlines"]["escalate_after"] = rng.randint(1, 100)
        r["deadlines"]["escalate_to"] = rng.choice(orgs)
    return r


def gen_doc(rng, name, version):
    orgs = rng.sample(ORGS, rng.randint(1, 5))
    rules = [gen_rule(rng, orgs, "*", "*", None)]
    seen = {"*/*"}
    for _ in range(rng.randint(0, 10)):
        c = rng.choice(["*"] + sorted(COUNTRIES))
        k = rng.choice(["*"] + CATS)
        h = rng.choice([None, None] + RULE_HOSTS)
        r = gen_rule(rng, orgs, c, k, h)
        if rule_id(r) not in seen:
            seen.add(rule_id(r))
            rules.append(r)
    doc = {"format": "hlx-plan-1", "name": name, "version": version,
           "lease_seconds": rng.choice([60, 3600, 86400]),
           "settle_seconds": rng.choice([0, 300]),
           "signatories": [{"org": o, "root": root(rng)} for o in orgs],
           "rules": rules}
    defect = rng.random()
    if defect < 0.03:
        doc["rules"] = [r for r in rules if rule_id(r) != "*/*"] or \
            [gen_rule(rng, orgs, "DE", "*", None)]
    elif defect < 0.06:
        r = rng.choice(rules)
        r["fallbacks"] = r["fallbacks"] + [r["org"]]
    elif defect < 0.09:
        rng.choice(rules)["org"] = "not-a-signatory"
    elif defect < 0.12:
        rules.append(json.loads(json.dumps(rng.choice(rules))))
    return doc


def spell(rng, doc):
    """Any spelling: members and arrays (not fallbacks) shuffled,
    whitespace."""
    d = json.loads(json.dumps(doc))
    rng.shuffle(d["signatories"])
    rng.shuffle(d["rules"])
    for r in d["rules"]:
        rng.shuffle(r["languages"])

    def shuffled(o):
        if isinstance(o, dict):
            items = list(o.items())
            rng.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(o, list):
            return [shuffled(x) for x in o]
        return o
    return json.dumps(shuffled(d), indent=rng.choice([None, 1, 4]))


def gen(seed):
    rng = random.Random(seed)
    plans, acts, docs, times = [], [], [], []
    for name in ["p1", "p2", "p3"][:rng.randint(1, 3)]:
        for version in range(1, rng.randint(1, 3) + 1):
            for _ in range(rng.choice([1, 1, 1, 2])):
                doc = gen_doc(rng, name, version)
                text = spell(rng, doc)
                plans.append(text)
                try:
                    docs.append(parse_plan(text))
                except Refused:
                    pass
    for doc, h in docs:
        # a quarter of the documents lack one signature; the last
        # signature is at one of four times, so that two documents of one
        # version often start together (then the smaller hash counts)
        lacking = rng.choice(doc["signatories"])["org"] \
            if rng.random() < 0.25 else None
        last = rng.choice([10, 20, 30, 40])
        for i, s in enumerate(doc["signatories"]):
            for j in range(0 if s["org"] == lacking else rng.choice([1, 1, 2])):
                t = BASE + (last if i == j == 0 else
                            rng.randint(0, last)) * HOUR
                times.append(t)
                acts.append(act_body("sign", s["org"], doc["name"],
                                     doc["version"], h, t))
            if rng.random() < 0.2:
                t = BASE + rng.randint(0, 60) * HOUR
                times.append(t)
                acts.append(act_body("withdraw", s["org"], doc["name"],
                                     doc["version"], h, t))
    if acts and rng.random() < 0.3:  # an act for no document held
        o = json.loads(acts[0])
        o["doc"] = "%064x" % rng.getrandbits(256)
        acts.append(json.dumps(o, sort_keys=True, separators=(",", ":")))
    if acts and rng.random() < 0.2:  # a body not in canonical form
        acts.append(acts[0].replace(",", ", ", 1))
    rng.shuffle(acts)
    times = sorted(set(rng.sample(times, min(len(times), 6)) +
                       [BASE + rng.randint(0, 70) * HOUR for _ in range(4)]))
    locs = []
    for _ in range(40):
        c = rng.choice(sorted(COUNTRIES) + ["-", "-", "de", "Gb"] +
                       (BAD_COUNTRIES if rng.random() < 0.1 else []))
        k = rng.choice(CATS + ["-", "-"] + (["A1"] if rng.random() < 0.05
                                            else []))
        h = rng.choice([None, None] + LOC_HOSTS)
        locs.append("%s/%s%s" % (c, k, "/" + h if h else ""))
    return {"plans": plans, "acts": acts, "times": times, "locations": locs}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "gen":
        print(json.dumps(gen(int(sys.argv[2]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "route":
        run(sys.argv[2])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
