#!/bin/sh
# SPDX-License-Identifier: MIT
# The node at a glance, and for scripts: --json on every listing (one
# document, checked against what the node holds and against fingerprints
# ssh-keygen computes), 'hlx overview' with the items that need attention
# (a signing key near its end, heads near theirs, a peer failing for a
# day, policies no feed can be made for) raised for real and absent when
# all is well, and what 'hlx init' says at the end.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-860}
echo "# seed $SEED"
at() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
fpr() { ssh-keygen -lf "$1" | awk '{print $2}'; }

# ---- init ----------------------------------------------------------------
hlx --home a init --org org-a --no-passphrase 2>init.err
hlx --home a key show --root >a-root.pub
hlx --home a key show >a-sign.pub
test_ok "init names the root fingerprint ssh-keygen computes" \
	grep -qF "root key $(fpr a-root.pub)" init.err
for step in "list create NAME" "peer add PEER" "subscribe PEER LIST" "publish" "overview"; do
	test_ok "init's next steps: $step" grep -qF -- "hlx --home a $step" init.err
done
test_ok "init writes nothing on standard output" \
	sh -c '"$HLX" --home a0 init --org org-a0 --no-passphrase 2>/dev/null | wc -c | grep -qx 0'
for x in b c d f; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
for x in b d f; do hlx --home $x key show --root >$x-root.pub; done

# ---- a node with lists, peers, policies and feeds ------------------------
h1=md5:$(rand_hex 16); h2=md5:$(rand_hex 16); h3=sha256:$(rand_hex 32)
h4=md5:$(rand_hex 16); h5=md5:$(rand_hex 16)
hlx --home a list create uk-a 2>/dev/null
hlx --home a list create empty 2>/dev/null
hlx --home a add uk-a "$h1" "$h2" "$h3" 2>/dev/null
hlx --home a status set "$h1" --state removed --country DE 2>/dev/null
hlx --home a publish 2>/dev/null
hlx --home b list create bl 2>/dev/null
hlx --home b add bl "$h4" "$h5" 2>/dev/null
hlx --home b add bl "$h1" 2>/dev/null
cat >share.json <<'EOF'
{"format": "hlx-policy-1", "name": "share", "lists": ["bl"], "fields": ["category"]}
EOF
cat >sealed.json <<'EOF'
{"format": "hlx-policy-1", "name": "sealed", "lists": ["bl"], "fields": [], "encrypt": true}
EOF
test_ok "(setup) B pins A, subscribes, syncs; adds D and F under policies, publishes" sh -c "
	\"\$HLX\" --home b peer add a --url 'file://$PWD/a/publish' --key a-root.pub &&
	\"\$HLX\" --home b subscribe a uk-a && \"\$HLX\" --home b subscribe a status &&
	\"\$HLX\" --home b sync &&
	\"\$HLX\" --home b policy add share.json && \"\$HLX\" --home b policy add sealed.json &&
	\"\$HLX\" --home b peer add d --key d-root.pub --policy share &&
	\"\$HLX\" --home b peer add f --key f-root.pub --policy sealed --box \"\$(\"\$HLX\" --home f key show --box)\" &&
	\"\$HLX\" --home b status set $h1 --state notice-sent --country FR &&
	\"\$HLX\" --home b publish" 2>/dev/null

cat >check.py <<'EOF'
import json, subprocess, sys, os

HLX = os.environ["HLX"]

def run(home, *args, env=None, rc=0):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([HLX, "--home", home] + list(args), capture_output=True,
                       text=True, env=e)
    if p.returncode != rc:
        sys.exit("%s %s: exit %d: %s" % (home, args, p.returncode, p.stderr))
    return p.stdout

def js(home, *args, **kw):
    return json.loads(run(home, *args, **kw))

def fpr(path):
    out = subprocess.run(["ssh-keygen", "-lf", path], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[1]

def git_head(home, name):
    repo = run(home, "list", "repo", name).strip()
    return subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()

def eq(what, got, want):
    if got != want:
        sys.exit("%s: got %r, want %r" % (what, got, want))

def kinds(ov):
    return sorted(a["kind"] for a in ov["attention"])

def check(name, *a):
    return globals()["c_" + name.replace("-", "_")](*a)

def c_lists():
    ls = js("a", "list", "ls", "--json")
    eq("a's list names", [l["name"] for l in ls], ["empty", "status", "uk-a"])
    u = ls[2]
    eq("uk-a", (u["owner"], u["own"], u["version"], u["entries"]),
       ("org-a", True, 1, 3))
    eq("uk-a commit", u["commit"], git_head("a", "uk-a"))
    eq("empty", (ls[0]["version"], ls[0]["entries"], ls[0]["updated"],
                 ls[0]["commit"]), (0, 0, None, None))
    ls = {l["name"]: l for l in js("b", "list", "ls", "--json")}
    eq("b's lists", sorted(ls), ["a/status", "a/uk-a", "bl", "status"])
    eq("a/uk-a", (ls["a/uk-a"]["owner"], ls["a/uk-a"]["own"],
                  ls["a/uk-a"]["version"], ls["a/uk-a"]["entries"]),
       ("org-a", False, 1, 3))
    eq("bl", (ls["bl"]["own"], ls["bl"]["version"], ls["bl"]["entries"]),
       (True, 2, 3))

def c_keys():
    ks = js("a", "key", "ls", "--json")
    eq("roles", [k["role"] for k in ks], ["root", "signing"])
    eq("root", ks[0]["fingerprint"], fpr("a-root.pub"))
    eq("signing", ks[1]["fingerprint"], fpr("a-sign.pub"))
    eq("signing state", (ks[1]["state"], ks[1]["current"], ks[1]["revoked_since"]),
       ("valid", True, None))
    eq("root window", (ks[0]["valid_after"], ks[0]["valid_before"]), (None, None))

def c_peers():
    ps = js("b", "peer", "ls", "--json")
    eq("peer names", [p["name"] for p in ps], ["a", "d", "f"])
    a, d, f = ps
    eq("a", (a["root"], a["url"], a["lists"], a["policy"], a["box"], a["feed"]),
       (fpr("a-root.pub"), "file://%s/a/publish" % os.getcwd(),
        ["uk-a", "status"], None, False, None))
    eq("d", (d["root"], d["policy"], d["box"], d["lists"], d["url"]),
       (fpr("d-root.pub"), "share", False, [], None))
    eq("f", (f["root"], f["policy"], f["box"]), (fpr("f-root.pub"), "sealed", True))
    for p in (d, f):
        if not isinstance(p["feed"], str) or len(p["feed"]) != 32:
            sys.exit("feed of %s: %r" % (p["name"], p["feed"]))
    st = js("b", "peer", "status", "--json")
    eq("subscriptions", [(s["peer"], s["list"]) for s in st],
       [("a", "uk-a"), ("a", "status")])
    u = st[0]
    eq("uk-a status", (u["held"], u["remote"], u["behind"], u["error"]), (1, 1, 0, None))
    if not u["last_ok"] or not u["last_try"] or not u["head_expires"]:
        sys.exit("times missing: %r" % u)

def c_policies():
    pol = js("b", "policy", "ls", "--json")
    eq("policy names", [p["name"] for p in pol], ["sealed", "share"])
    se, sh = pol
    eq("share", (sh["encrypt"], sh["audience"], sh["peers"], sh["lists"]),
       (False, None, ["d"], ["bl"]))
    eq("sealed", (se["encrypt"], se["peers"]), (True, ["f"]))
    f = [p for p in js("b", "peer", "ls", "--json") if p["name"] == "f"][0]
    eq("sealed audience is f's feed", se["audience"], f["feed"])
    text = run("b", "policy", "ls")
    for p in pol:
        line = [l for l in text.splitlines() if l.startswith(p["name"] + " ")][0]
        eq("sha256 of " + p["name"], p["sha256"][:16], line.split()[1])

def c_match():
    m = js("a", "match", "status", "--json")
    eq("indexed lists (those with a version)", m["indexed_lists"], 2)
    eq("lists", [(l["name"], l["version"], l["threshold"], l["allow"])
                 for l in m["lists"]],
       [("empty", 0, 31, False), ("status", 1, 31, False), ("uk-a", 1, 31, False)])
    if m["refresh"] not in ("up-to-date", "incremental", "compacted", "rebuilt"):
        sys.exit("refresh: %r" % m["refresh"])

def c_status(h1):
    st = js("b", "status", "show", h1, "--json")
    eq("orgs", sorted(r["org"] for r in st), ["org-a", "org-b"])
    for r in st:
        want = ("removed", "DE") if r["org"] == "org-a" else ("notice-sent", "FR")
        eq("record of " + r["org"], (r["item"], r["state"], r["country"]),
           (h1, ) + want)
    eq("none", js("b", "status", "show", "md5:" + "0" * 32, "--json", rc=1), [])

def c_overview():
    for home in ("a", "b"):
        ov = js(home, "overview", "--json")
        eq(home + " org", ov["org"], "org-" + home)
        eq(home + " root", ov["root"], fpr(home + "-root.pub"))
        eq(home + " keys", ov["keys"], js(home, "key", "ls", "--json"))
        eq(home + " lists", ov["lists"], js(home, "list", "ls", "--json"))
        eq(home + " policies", ov["policies"], js(home, "policy", "ls", "--json"))
        subs = js(home, "peer", "status", "--json")
        peers = js(home, "peer", "ls", "--json")
        for p in peers:
            p["subscriptions"] = [dict((k, v) for k, v in s.items() if k != "peer")
                                  for s in subs if s["peer"] == p["name"]]
        eq(home + " peers", ov["peers"], peers)
        eq(home + " attention", ov["attention"], [])
        eq(home + " publish dir", ov["publish"]["dir"], home + "/publish")
    ov = js("a", "overview", "--json")
    heads = {h["list"]: h for h in ov["publish"]["heads"]}
    eq("a's heads", sorted(heads), ["status", "uk-a"])
    body = json.loads(json.load(open("a/publish/lists/uk-a/head"))["body"])
    h = heads["uk-a"]
    eq("uk-a head", (h["feed"], h["version"], h["issued"], h["expires"]),
       ("", 1, body["issued"], body["expires"]))
    eq("last signed", ov["publish"]["last_signed"],
       max(x["issued"] for x in heads.values()))
    ov = js("b", "overview", "--json")
    pol = {p["name"]: p for p in ov["policies"]}
    feeds = sorted(h["feed"] for h in ov["publish"]["heads"] if h["list"] == "bl")
    d = [p for p in ov["peers"] if p["name"] == "d"][0]
    eq("bl served to d's and to the sealed audience's feed", feeds,
       sorted(["a/" + d["feed"], "a/" + pol["sealed"]["audience"]]))

def c_attention(home, when, *want):
    env = {"HLX_NOW": when} if when != "-" else {}
    ov = js(home, "overview", "--json", env=env)
    eq("attention of %s at %s" % (home, when), kinds(ov), sorted(want))
    for a in ov["attention"]:
        if not a["message"] or not a["subject"]:
            sys.exit("empty attention item %r" % a)
    return ov

def c_key_expiring(home, pub):
    ov = c_attention(home, "-", "key-expiring")
    eq("subject", ov["attention"][0]["subject"], fpr(pub))
    cur = [k for k in ov["keys"] if k["current"] and k["role"] == "signing"][0]
    eq("time", ov["attention"][0]["time"], cur["valid_before"])

def c_failing(home, when, *subjects):
    env = {"HLX_NOW": when} if when != "-" else {}
    ov = js(home, "overview", "--json", env=env)
    got = sorted(a["subject"] for a in ov["attention"] if a["kind"] == "peer-failing")
    eq("failing at %s" % when, got, sorted(subjects))
    for s in js(home, "peer", "status", "--json"):
        if not s["error"]:
            sys.exit("no error kept for %s/%s" % (s["peer"], s["list"]))

check(*sys.argv[1:])
EOF
chk() { python3 check.py "$@"; }

# ---- every listing, as JSON ------------------------------------------------
test_ok "list ls --json: names, owners, versions, entries, commits" chk lists
test_ok "list ls has a header line" sh -c '"$HLX" --home a list ls | head -n 1 | grep -Eq "^LIST +OWNER +VERSION +ENTRIES +UPDATED$"'
test_ok "key ls --json: fingerprints as ssh-keygen computes them" chk keys
test_ok "peer ls and peer status --json: roots, URLs, policies, feeds, versions" chk peers
test_ok "policy ls --json: audiences, peers, lists, hashes" chk policies
test_ok "match status --json: the index and each list's settings" chk match
test_ok "status show --json: every organisation's record" chk status "$h1"
test_ok "overview --json: the same objects as the listings; nothing needs attention" chk overview
test_ok "overview in text says so" sh -c '"$HLX" --home b overview | grep -q "nothing needs attention"'
test_fails_with "--json is refused where there is none" 2 "json" hlx --home a list repo uk-a --json

# ---- attention -------------------------------------------------------------
test_ok "three days on, the heads are still fresh" chk attention a "$(at $((3 * 86400)))"
test_ok "six days on, A's heads are about to expire" chk attention a "$(at $((6 * 86400)))" head-expiring
test_ok "eight days on, expired (still one item)" chk attention a "$(at $((8 * 86400)))" head-expiring
test_ok "340 days on, the signing key too" chk attention a "$(at $((340 * 86400)))" head-expiring key-expiring
test_ok "366 days on, no signing key is left" chk attention a "$(at $((366 * 86400)))" head-expiring no-signing-key
hlx --home k init --org org-k --no-passphrase --valid-days 20 2>/dev/null
hlx --home k key show >k-sign.pub
test_ok "a key delegated for 20 days needs attention at once" chk key-expiring k k-sign.pub
test_ok "overview in text names it" sh -c '"$HLX" --home k overview | grep -q "key-expiring .*hlx key rotate"'
test_ok "after 'key rotate' it is gone" sh -c '"$HLX" --home k key rotate 2>/dev/null && python3 check.py attention k -'

mv a/publish a/publish.off
test_fails "B's sync fails while A's feed is gone" hlx --home b sync
test_ok "failing for less than a day: not yet an item, the error is kept" chk failing b -
test_ok "a day on, both lists of A need attention" chk failing b "$(at $((25 * 3600)))" a/uk-a a/status
test_ok "overview in text says since when" sh -c "HLX_NOW=$(at $((25 * 3600))) \"\$HLX\" --home b overview | grep -q 'peer-failing  a/uk-a: failing since .* (25 h)'"
mv a/publish.off a/publish
test_ok "after a good sync, nothing again, even a day on" sh -c "
	\"\$HLX\" --home b sync 2>/dev/null && python3 check.py attention b $(at $((25 * 3600)))"

cp -r a/publish copy
test_ok "(setup) C subscribes to a feed that then disappears" sh -c "
	\"\$HLX\" --home c peer add a2 --url 'file://$PWD/copy' --key a-root.pub &&
	\"\$HLX\" --home c subscribe a2 uk-a && rm -rf copy" 2>/dev/null
test_fails "C's sync fails" hlx --home c sync
test_ok "a subscription that never synced needs attention at once" chk failing c - a2/uk-a
test_ok "and says it never synced" sh -c '"$HLX" --home c overview | grep -q "peer-failing  a2/uk-a: never synced"'

mv b/policies/share.json share.off
test_ok "a peer bound to a policy that is gone: no audiences, an item" chk attention b - policies
test_ok "and the rest is still shown" sh -c '"$HLX" --home b overview --json | python3 -c "
import json, sys; o = json.load(sys.stdin); assert o[\"policy_error\"] and len(o[\"peers\"]) == 3"'
mv share.off b/policies/share.json
test_ok "restored: nothing needs attention" chk attention b -

# whoever else writes in the publish directory shows nothing: a feed whose
# name is not a feed's (escape sequences, bytes that are not UTF-8) holding
# a copy of a real head, and a list directory named likewise
esc=$(printf 'a/\033]0;PWNED\007\033[2J%s' 0123456789abcdef01)
mkdir -p "a/publish/$esc/lists/uk-a" "a/publish/a/$(printf '\377%.0s' $(seq 32))/lists/uk-a" \
	"a/publish/lists/$(printf '\033[31mx')"
cp a/publish/lists/uk-a/head "a/publish/$esc/lists/uk-a/head"
cp a/publish/lists/uk-a/head "a/publish/a/$(printf '\377%.0s' $(seq 32))/lists/uk-a/head"
cp a/publish/lists/uk-a/head "a/publish/lists/$(printf '\033[31mx')/head"
test_ok "planted feed names: --json still answers, with the real heads only" sh -c '
	"$HLX" --home a overview --json | python3 -c "
import json, sys; o = json.load(sys.stdin); assert all(h[\"feed\"] == \"\" for h in o[\"publish\"][\"heads\"]), o[\"publish\"][\"heads\"]"'

test_done
