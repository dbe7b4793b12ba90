#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent model of the owner of a case (spec/cases.md, sections 4,
5 and 6.2), written from the spec, not from protocol/caseown.c.  It replays
every lapse one by one (no jumps), so it is slow and simple.

    case_owner.py gen SEED     write a random record set (below) to stdout
    case_owner.py owner FILE   print the owner at each 'at' of FILE
    case_owner.py owner FILE nocover
                               the same with a deliberate bug (a transfer
                               ignores the new owner's running claim), so
                               that tests/t0910 shows it can tell

Record set format, one item a line ('#' comments):

    route 1|0                  a plan routed the case (0: no plan at T0)
    lease N / settle N         lease_seconds, settle_seconds
    base ORG...                the base order B of plan.md 4.1
    chain N                    the first N of B: rule's and default's part
    le_by ORG|-
    wd ORG TIME                ORG withdrew from the routing version
    src ORG ROOT<TAB>LINE      a case line held, from ORG's cases log
    at TIME                    print the owner at TIME

Output per 'at': "TIME none" or
"TIME ORG SINCE UNTIL claimed|implicit STATE STATE-CHANGED".
"""
import datetime
import random
import sys

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
NOROUTE_LEASE = 86400
STATES = ["reported", "assessed", "le-hold", "le-cleared", "notice-sent",
          "re-notified", "escalated", "refused-by-host", "removed",
          "reappeared", "withdrawn"]


def ts(t):
    return (EPOCH + datetime.timedelta(seconds=t)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def pt(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    return int((d.replace(tzinfo=datetime.timezone.utc) - EPOCH)
               .total_seconds())


def parse_line(text):
    f = text.split("\t")
    assert len(f) == 10, text
    line = {"reported": None if f[5] == "-" else pt(f[5]),
            "state": None if f[7] == "-" else f[7],
            "changed": None if f[8] == "-" else pt(f[8]),
            "acts": []}
    if f[6] != "-":
        for a in f[6].split(","):
            p = a.split("/")
            if p[0] == "claim":
                line["acts"].append(("claim", pt(p[1]), pt(p[2]), None))
            elif p[0] == "release":
                line["acts"].append(("release", pt(p[1]), pt(p[1]), None))
            else:
                line["acts"].append(("handoff", pt(p[1]), pt(p[1]), p[2]))
    return line


class Case:
    nocover = False

    def __init__(self):
        self.routed = False
        self.lease = NOROUTE_LEASE
        self.settle = 0
        self.base = []
        self.nchain = 0
        self.le_by = None
        self.wd = {}
        self.srcs = []  # (org, root, line)

    # section 4, step 1
    def opening(self):
        best = None
        for i, (org, root, line) in enumerate(self.srcs):
            if line["reported"] is None:
                continue
            k = (line["reported"], org, root)
            if best is None or k < best[0]:
                best = (k, i)
        return None if best is None else best[1]

    def setup(self):
        i = self.opening()
        self.r0 = self.srcs[i][0]
        self.t0 = self.srcs[i][2]["reported"]
        if self.routed:
            self.B = list(self.base)
            if self.r0 not in self.B:
                self.B.append(self.r0)
            self.L, self.S = self.lease, self.settle
        else:
            self.B, self.L, self.S = [self.r0], NOROUTE_LEASE, 0

    def withdrawn(self, org, x):
        return self.routed and org in self.wd and self.wd[org] <= x

    # the active chain at x (section 4)
    def active(self, x):
        if not self.routed:
            return [self.r0]
        ch = [m for m in self.base[:self.nchain] if not self.withdrawn(m, x)]
        if ch:
            return ch
        sig = sorted(m for m in self.base if not self.withdrawn(m, x))
        if sig:
            return sig
        return [self.r0]

    def successor(self, x_org, x):
        ch = self.active(x)
        i = self.B.index(x_org)
        for j in range(1, len(self.B) + 1):
            c = self.B[(i + j) % len(self.B)]
            if c in ch:
                return c
        raise AssertionError("empty chain")

    def valid_handoff(self, x_org, y, T):
        return (self.routed and y in self.base and
                not self.withdrawn(y, T) and y != x_org)

    # section 5.2: the replay up to t
    def replay(self, t):
        T0, S, L = self.t0, self.S, self.L
        periods = {}   # org -> [(first counting time u, B up to t)]
        events = []
        for si, (org, root, line) in enumerate(self.srcs):
            for k, (kind, a, b, to) in enumerate(line["acts"]):
                if kind == "claim":
                    u, bb = max(a, T0 + S), min(b, t)
                    if u <= bb:
                        periods.setdefault(org, []).append((u, bb))
                        events.append((u, 4, org, root, si, k, "claim", bb))
                elif T0 <= a <= t:
                    rank = 2 if kind == "release" else 3
                    events.append((a, rank, org, root, si, k, kind, to))
        if self.routed:
            for org, at in self.wd.items():
                if T0 <= at <= t:
                    events.append((at, 1, org, "", -1, 0, "withdraw", None))
        events.sort(key=lambda e: e[:6])

        st = {"O": self.active(T0)[0], "since": T0, "E": T0 + S + L,
              "explicit": False}

        def cover(x_org, u):
            for (pu, pb) in periods.get(x_org, []):
                if pu <= u <= pb:
                    st["E"] = max(st["E"], pb + L)
                    st["explicit"] = True

        def transfer(y, u):
            if y != st["O"]:
                st["O"] = y
                st["since"] = u
            st["E"] = u + L
            st["explicit"] = False
            if not self.nocover:
                cover(st["O"], u)

        def lapses_until(limit):
            while st["E"] <= limit:
                e = st["E"]
                transfer(self.successor(st["O"], e), e)

        cover(st["O"], T0)
        for (time, rank, org, root, si, k, kind, extra) in events:
            lapses_until(time)
            mine = org == st["O"]
            if kind == "withdraw" and mine:
                transfer(self.successor(org, time), time)
            elif kind == "release" and mine:
                transfer(self.successor(org, time), time)
            elif kind == "handoff" and mine and \
                    self.valid_handoff(org, extra, time):
                transfer(extra, time)
            elif kind == "claim" and mine:
                st["E"] = max(st["E"], extra + L)
                st["explicit"] = True
        lapses_until(t)
        return st

    def owner(self, t):
        i = self.opening()
        if i is None or self.srcs[i][2]["reported"] > t:
            return None
        self.setup()
        st = self.replay(t)
        # section 6.2: the state of the case
        state, changed, who = "reported", self.t0, None
        for (org, root, line) in self.srcs:
            s, c = line["state"], line["changed"]
            if s is None or c > t or c < self.t0:
                continue
            counts = (s in ("le-hold", "le-cleared") and self.routed and
                      self.le_by == org) or self.replay(c)["O"] == org
            if not counts:
                continue
            if c > changed or (c == changed and
                               (who is None or (org, root) < who)):
                state, changed, who = s, c, (org, root)
        return st, state, changed


def load(path):
    c, ats = Case(), []
    with open(path) as fp:
        for raw in fp:
            raw = raw.rstrip("\n")
            if not raw or raw.startswith("#"):
                continue
            if raw.startswith("src "):
                head, text = raw.split("\t", 1)
                _, org, root = head.split(" ")
                c.srcs.append((org, root, parse_line(text)))
                continue
            w = raw.split(" ")
            if w[0] == "route":
                c.routed = w[1] == "1"
            elif w[0] == "lease":
                c.lease = int(w[1])
            elif w[0] == "settle":
                c.settle = int(w[1])
            elif w[0] == "chain":
                c.nchain = int(w[1])
            elif w[0] == "le_by":
                c.le_by = None if w[1] == "-" else w[1]
            elif w[0] == "base":
                c.base = w[1:]
            elif w[0] == "wd":
                c.wd[w[1]] = pt(w[2])
            elif w[0] == "at":
                ats.append(pt(w[1]))
    return c, ats


def owner_main(path, nocover=False):
    c, ats = load(path)
    c.nocover = nocover
    for t in ats:
        r = c.owner(t)
        if r is None:
            print("%s none" % ts(t))
            continue
        st, state, changed = r
        print("%s %s %s %s %s %s %s" % (
            ts(t), st["O"], ts(st["since"]), ts(st["E"]),
            "claimed" if st["explicit"] else "implicit", state, ts(changed)))


# ---- random record sets ----

ORGS = ["hl-a", "hl-b", "hl-c", "hl-d", "hl-e", "le-x", "host-y"]
CID = "url-sha256:" + "5d0c" * 16


def gen_line(rnd, org, t0, L, orgs):
    f = ["-"] * 9
    reported = None
    if rnd.random() < 0.6:
        reported = t0 + rnd.choice([0, 0, rnd.randint(-120, 900),
                                    rnd.randint(0, 20)])
        f[4] = ts(reported)
        if rnd.random() < 0.5:
            f[0] = "md5:" + "%032x" % rnd.getrandbits(128)
        if rnd.random() < 0.7:
            f[1] = rnd.choice(["DE", "NL", "FR", "GB", "BR"])
        if rnd.random() < 0.5:
            f[3] = rnd.choice(["a1", "b2"])
    # ownership actions, times never going back
    acts, now = [], t0 + rnd.randint(-200, 600)
    for _ in range(rnd.choice([0, 1, 2, 3, 4, 6])):
        now += rnd.choice([0, 0, rnd.randint(1, 60), rnd.randint(60, 2 * L),
                           L, L // 2])
        k = rnd.random()
        if k < 0.55:
            b = now + rnd.choice([0, rnd.randint(0, L), rnd.randint(L, 3 * L)])
            acts.append("claim/%s/%s" % (ts(now), ts(b)))
            now = b
        elif k < 0.75:
            acts.append("release/%s" % ts(now))
        else:
            acts.append("handoff/%s/%s" % (
                ts(now), rnd.choice(orgs + ["nobody", org, org])))
    f[5] = ",".join(acts) if acts else "-"
    # the state this organisation set last
    if reported is not None or rnd.random() < 0.5:
        if reported is not None and rnd.random() < 0.4:
            state, changed = "reported", reported
        else:
            state = rnd.choice(STATES[1:])
            lo = reported if reported is not None else t0 - 100
            changed = lo + rnd.choice([0, rnd.randint(0, 3 * L),
                                       rnd.randint(0, 600)])
        f[6], f[7] = state, ts(changed)
        if state == "reported":
            f[8] = "0"
        elif state in ("notice-sent", "re-notified"):
            f[8] = str(rnd.randint(1, 5))
        else:
            f[8] = str(rnd.randint(0, 3))
    else:
        f[8] = "0"
        if not acts:
            f[5] = "release/%s" % ts(now)
    return CID + "\t" + "\t".join(f)


def gen_main(seed):
    rnd = random.Random(seed)
    t0 = pt("2026-12-02T10:00:00Z")
    routed = rnd.random() < 0.85
    L = rnd.choice([60, 300, 900, 3600, 86400])
    S = rnd.choice([0, 0, 30, 300])
    out = ["# seed %d" % seed, "route %d" % routed]
    orgs = ORGS[:]
    rnd.shuffle(orgs)
    nsig = rnd.randint(1, len(orgs))
    sig = orgs[:nsig]
    nchain = rnd.randint(1, min(3, nsig))
    base = sig[:nchain] + sorted(sig[nchain:])
    if routed:
        out += ["lease %d" % L, "settle %d" % S, "base " + " ".join(base),
                "chain %d" % nchain,
                "le_by " + (rnd.choice(sig) if rnd.random() < 0.5 else "-")]
        for o in sig:
            if rnd.random() < 0.2:
                out.append("wd %s %s" % (o, ts(t0 + rnd.randint(-600,
                                                                  4 * L))))
    else:
        L = NOROUTE_LEASE
    writers = rnd.sample(ORGS + ["rep-z"], rnd.randint(1, 5))
    times = set()
    for o in writers:
        line = gen_line(rnd, o, t0, L, sig)
        out.append("src %s SHA256:%s\t%s" % (o, "%08x" % rnd.getrandbits(32),
                                             line))
        for fld in line.split("\t")[5:]:
            for piece in fld.replace(",", "/").split("/"):
                if piece.endswith("Z") and len(piece) == 20:
                    times.add(pt(piece))
    horizon = 4 * L if L < 86400 else 5 * 86400
    ats = set(rnd.randint(t0 - 300, t0 + horizon) for _ in range(20))
    for x in list(times)[:30]:
        ats.update((x - 1, x, x + 1, x + L, x + L + S))
    ats.add(t0 + S + L)
    ats.add(t0 + 40 * L if L <= 900 else t0 + 10 * L)
    for a in sorted(ats):
        out.append("at " + ts(a))
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "gen":
        gen_main(int(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "owner":
        owner_main(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1:4:2] == ["owner", "nocover"]:
        owner_main(sys.argv[2], True)
    else:
        sys.exit(__doc__)
