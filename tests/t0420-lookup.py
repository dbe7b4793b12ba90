# SPDX-License-Identifier: MIT
# Helper of t0420-lookup.sh (never run alone): an independent model of
# 'hlx lookup' (doc/hlx.1, spec/records.md section 5).  gen SEED DIR writes
# DIR/a.csv and DIR/b.csv (two lists, overlapping), DIR/q.txt (queries:
# present, absent, repeated, upper-case, blank lines, CR LF) and
# DIR/want.txt, the output hlx must print, byte for byte, in input order.
import random
import sys

TYPES = [("md5", 16), ("sha1", 20), ("sha256", 32), ("pdq", 32),
         ("url-sha256", 32), ("photodna", 144), ("tmk", 1024),
         ("vpdq", 32), ("vpdq", 64), ("vpdq", 96)]
# more than one batch of node/lookup.c (BATCH, 262,144 queries)
NQUERIES = 300000
BATCH = 262144


def main():
    seed, out = int(sys.argv[2]), sys.argv[3]
    rnd = random.Random(seed)

    def rhash():
        t, n = rnd.choice(TYPES) if rnd.random() < 0.2 else \
            rnd.choice(TYPES[:4])
        return "%s:%s" % (t, rnd.randbytes(n).hex())

    def meta():
        cat = rnd.choice(["-", "csam-a", "csam-b", "x1"])
        fs = "-" if rnd.random() < 0.7 else \
            "2025-%02d-%02dT01:02:03Z" % (rnd.randint(1, 12), rnd.randint(1, 28))
        conf = rnd.choice(["-", "0", "7", "100", str(rnd.randint(1, 99))])
        tags = sorted(rnd.sample(["t1", "t2", "bulk", "z9"], rnd.randint(0, 2)))
        return (cat, fs, conf, ",".join(tags) if tags else "-")

    hashes = [rhash() for _ in range(3000)]
    lists = {"a": {}, "b": {}}
    for i, h in enumerate(hashes):
        # 1/3 in a only, 1/3 in b only, 1/3 in both (with other metadata)
        for name in ("a", "b")[0 if i % 3 != 1 else 1:1 if i % 3 == 0 else 2]:
            lists[name][h] = meta()
    for name, ent in lists.items():
        with open("%s/%s.csv" % (out, name), "w") as f:
            f.write("hash,category,first_seen,confidence,tags\n")
            for h, (cat, fs, conf, tags) in ent.items():
                f.write("%s,%s,%s,%s,%s\n" % (
                    h, "" if cat == "-" else cat, "" if fs == "-" else fs,
                    "" if conf == "-" else conf,
                    "" if tags == "-" else tags.replace(",", ";")))
    with open(out + "/q.txt", "w", newline="") as q, \
            open(out + "/want.txt", "w") as w:
        asked = 0
        for _ in range(NQUERIES):
            r = rnd.random()
            if r < 0.01:
                q.write("\n")  # blank lines are skipped
                continue
            asked += 1
            # hits at the ends of the batches, and at the very end
            edge = abs(asked - BATCH) < 3 or asked < 3 or \
                asked > NQUERIES - 3500
            h = rnd.choice(hashes) if r < 0.3 or edge else rhash()
            given = h
            if rnd.random() < 0.05:
                given = h.upper()
            q.write(given + ("\r\n" if rnd.random() < 0.02 else "\n"))
            text = given.lower()
            if len(text) >= 140:
                text = text[:120] + "..."
            for name, ver in (("a", 1), ("b", 1)):  # list-id order
                m = lists[name].get(h)
                if m:
                    w.write("%s\t%s\t%d\t%s\n" % (text, name, ver, "\t".join(m)))


if __name__ == "__main__":
    main()
