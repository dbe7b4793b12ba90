/* SPDX-License-Identifier: MIT */
/*
 * The raw URL of a case (node/caseurl.h, spec/cases.md section 8):
 * sending seals it to the owner's peer alone, with the audit record
 * first and the note after, and the note never larger than it may be
 * read (a sending that would not fit is refused before its record); what
 * is no longer due is removed; receiving
 * refuses every forged envelope (another key, another context, a URL that
 * is not the case's, oversize, not a URL) and stores nothing then.
 * Synthetic URLs only; the seed is fixed and printed.
 */
#include "tap.h"
#include "node/audit.h"
#include "node/caseurl.h"
#include "node/files.h"
#include "node/home.h"
#include "node/peers.h"
#include "keys/sshkey.h"
#include "keys/trust.h"
#include "node/urls.h"
#include "protocol/rtime.h"
#include "seeded.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define T0 1800000000LL
#define SEED 940u

static char dir[256], pub[300], url1[128], url2[128];
static struct hlx_home *ha, *hb;
static struct hlx_seckey *sa;
static struct hlx_boxkey *ka, *kb, *kc;
static char boxb[128], boxc[128];
static struct hlx_hash case1, case2;

static void box_text(const struct hlx_boxkey *k, char out[128])
{
	struct hlx_boxpub p;
	struct hlx_buf b = HLX_BUF_INIT;

	hlx_boxkey_pub(k, &p);
	if (hlx_boxpub_format(&p, &b) || hlx_buf_putc(&b, '\0'))
		abort();
	snprintf(out, 128, "%s", (char *)b.data);
	hlx_buf_free(&b);
}

static struct hlx_boxkey *new_box(void)
{
	struct hlx_seckey *s = NULL;
	struct hlx_boxkey *k = NULL;

	if (hlx_seckey_generate(&s) || hlx_boxkey_from_seckey(s, &k))
		abort();
	hlx_seckey_free(s);
	return k;
}

static struct hlx_home *new_home(const char *name, const char *org)
{
	char p[PATH_MAX];
	struct hlx_home *h = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (hlx_home_create(p, org, 1, NULL, NULL, T0, 365) || hlx_home_open(p, &h))
		abort();
	return h;
}

/* Does any file under path hold the bytes s? (raw bytes, every file) */
static int tree_has(const char *path, const char *s)
{
	struct stat st;
	int found = 0;

	if (lstat(path, &st) != 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;

		while (d && (de = readdir(d)) && !found) {
			char q[PATH_MAX];

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(q, sizeof(q), "%s/%s", path, de->d_name);
			found = tree_has(q, s);
		}
		if (d)
			closedir(d);
		return found;
	}
	if (S_ISREG(st.st_mode)) {
		struct hlx_buf b = HLX_BUF_INIT;

		if (hlx_file_read(path, 1 << 26, &b) == HLX_OK)
			found = memmem(b.data, b.len, s, strlen(s)) != NULL;
		hlx_buf_free(&b);
	}
	return found;
}

struct count {
	size_t all, url;
	struct hlx_audit_rec last;
};

static int count_rec(void *ctx, const struct hlx_audit_rec *r)
{
	struct count *c = ctx;

	c->all++;
	if (r->kind == HLX_AUDIT_URL) {
		c->url++;
		c->last = *r;
	}
	return 0;
}

static struct count audit_of(struct hlx_home *h)
{
	struct count c;

	memset(&c, 0, sizeof(c));
	if (hlx_audit_read(hlx_home_dir(h), hlx_home_trust(h), count_rec, &c))
		c.all = (size_t)-1;
	return c;
}

static struct hlx_caseurl_due due(const struct hlx_hash *id, const char *org,
				  const char *peer, const char *box,
				  const char *feed)
{
	struct hlx_caseurl_due d;

	memset(&d, 0, sizeof(d));
	d.case_id = *id;
	snprintf(d.org, sizeof(d.org), "%s", org);
	snprintf(d.peer, sizeof(d.peer), "%s", peer);
	snprintf(d.box, sizeof(d.box), "%s", box);
	snprintf(d.feed, sizeof(d.feed), "%s", feed);
	return d;
}

static int read_feed(const char *rel, struct hlx_buf *b)
{
	char p[PATH_MAX];

	hlx_buf_reset(b);
	snprintf(p, sizeof(p), "%s/%s", pub, rel);
	return hlx_file_read(p, 1 << 20, b);
}

static char hex1[65], hex2[65], rel1[128], aud[] = "a/0123456789abcdef0123456789abcdef";

static void sent_to(struct hlx_home *h, const struct hlx_hash *id, const char *want,
		    const char *what)
{
	struct hlx_buf b = HLX_BUF_INIT;

	ok(hlx_caseurl_sent_to(h, id, &b) == HLX_OK && !hlx_buf_putc(&b, '\0') &&
	   !strcmp((char *)b.data, want), "%s: sent to '%s' (%s)", what, want,
	   b.data ? (char *)b.data : "?");
	hlx_buf_free(&b);
}

/* Peer NAME of home h pinned to the root of home of, holding its chain as
 * a verified pull leaves it (peers/NAME/trust.json). */
static void add_peer(struct hlx_home *h, struct hlx_peers *ps, const char *name,
		     struct hlx_home *of)
{
	const struct hlx_trust *t = hlx_home_trust(of);
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/peers/%s", hlx_home_dir(h), name);
	if (hlx_peers_add(ps, name, "https://example.org/feed/", hlx_trust_root(t), "") ||
	    hlx_file_mkdirs(p, 0700) || hlx_trust_serialize(t, &b))
		abort();
	snprintf(p, sizeof(p), "%s/peers/%s/trust.json", hlx_home_dir(h), name);
	if (hlx_file_write(p, b.data, b.len, 0600))
		abort();
	hlx_buf_free(&b);
}

/* Which peer gets the URL of an organisation's case: the one whose chain
 * names it and introduced the root the case names for it; an impostor's
 * chain of the same name never does, even while the real one is not
 * held; an unknown root or two qualifying peers send to nobody. */
static void test_peer_of(void)
{
	struct hlx_home *hc = new_home("c", "org-b"); /* names org-b too */
	struct hlx_peers *ps = NULL;
	char fb[HLX_FPR_LEN], fc[HLX_FPR_LEN], fx[HLX_FPR_LEN], peer[65], p[PATH_MAX];
	struct hlx_seckey *x = NULL;
	struct hlx_pubkey xp;

	if (!hc || hlx_peers_load(hlx_home_dir(ha), &ps) || hlx_seckey_generate(&x))
		abort();
	hlx_seckey_public(x, &xp);
	hlx_sshkey_fingerprint(hlx_trust_root(hlx_home_trust(hb)), fb);
	hlx_sshkey_fingerprint(hlx_trust_root(hlx_home_trust(hc)), fc);
	hlx_sshkey_fingerprint(&xp, fx);
	add_peer(ha, ps, "imp", hc);
	add_peer(ha, ps, "peer-b", hb);

	ok(hlx_caseurl_peer_of(ha, ps, "org-b", fb, 1, peer) == HLX_OK &&
	   !strcmp(peer, "peer-b"), "org-b under B's root: peer-b, not the impostor (%s)", peer);
	ok(hlx_caseurl_peer_of(ha, ps, "org-b", fc, 1, peer) == HLX_OK &&
	   !strcmp(peer, "imp"), "under the other chain's root: that chain's peer");
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", "", 1, peer), HLX_ESTATE,
	      "root not known: nobody");
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", fx, 1, peer), HLX_ENOENT,
	      "a root no chain holds: nobody");
	ok(strstr(hlx_err_detail(), "holds the root SHA256:") != NULL, "said: %s",
	   hlx_err_detail());
	/* a root not from a plan is that of whichever chain of the name
	 * the node read first: with two chains naming org-b, neither */
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", fb, 0, peer), HLX_ESTATE,
	      "not the plan's root, two chains naming org-b: nobody, even under B's root");
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", fc, 0, peer), HLX_ESTATE,
	      "nor under the impostor's");
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-z", fb, 1, peer), HLX_ENOENT,
	      "an organisation no chain names: nobody");

	/* B's chain not held yet (never pulled): the impostor's is the
	 * only one naming org-b, and does not get B's cases */
	snprintf(p, sizeof(p), "%s/peers/peer-b/trust.json", hlx_home_dir(ha));
	ok(unlink(p) == 0, "(peer-b's chain not held)");
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", fb, 1, peer), HLX_ENOENT,
	      "B's root while only the impostor's chain is held: nobody");
	ok(hlx_caseurl_peer_of(ha, ps, "org-b", fc, 0, peer) == HLX_OK &&
	   !strcmp(peer, "imp"),
	   "one chain naming org-b, whose lines they were: that chain's peer");
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", fb, 0, peer), HLX_ENOENT,
	      "one chain naming org-b, another root: nobody");

	/* two peers holding B's root: one poses as the other */
	hlx_peers_remove(ps, "peer-b");
	add_peer(ha, ps, "peer-b", hb);
	add_peer(ha, ps, "b-again", hb);
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", fb, 1, peer), HLX_ESTATE,
	      "two peers with B's root: nobody");
	is_rc(hlx_caseurl_peer_of(ha, ps, "org-b", fb, 0, peer), HLX_ESTATE,
	      "nor without a plan");
	hlx_err_clear();
	hlx_seckey_free(x);
	hlx_peers_free(ps);
	hlx_home_free(hc);
}

static void test_send(void)
{
	struct hlx_caseurl_ctx c = { ha, sa, ka, pub, T0 + 100, NULL, NULL, 0 };
	struct hlx_caseurl_due d;
	struct hlx_buf b = HLX_BUF_INIT, u;
	struct count a0, a1;
	char p[PATH_MAX];
	struct stat st;
	int held = 0;

	hlx_buf_init_secure(&u);
	a0 = audit_of(ha);
	ok(a0.all == 0, "no audit record yet");
	ok(hlx_caseurl_held(ha, &case1, &held) == HLX_OK && held, "A holds case 1");
	ok(hlx_caseurl_held(ha, &case2, &held) == HLX_OK && !held,
	   "A does not hold case 2");

	d = due(&case1, "org-b", "peer-b", boxb, "");
	is_rc(hlx_caseurl_send(&c, &d), HLX_OK, "send case 1 to org-b in the open feed");
	is_rc(read_feed(rel1, &b), HLX_OK, "urls/HEX is in the feed");
	snprintf(p, sizeof(p), "%s/%s", pub, rel1);
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0644, "mode 0644");
	ok(b.len == HLX_SEAL_LEN(strlen(url1), 1), "an envelope to one recipient (%zu)",
	   b.len);
	ok(hlx_caseurl_open(b.data, b.len, kb, &case1, &u) == HLX_OK &&
	   u.len == strlen(url1) && !memcmp(u.data, url1, u.len),
	   "B opens it: the normalised URL and nothing else");
	hlx_buf_reset(&u);
	is_rc(hlx_caseurl_open(b.data, b.len, kc, &case1, &u), HLX_EPERM,
	      "C cannot open it");
	is_rc(hlx_caseurl_open(b.data, b.len, ka, &case1, &u), HLX_EPERM,
	      "nor A (sealed to B alone)");
	a1 = audit_of(ha);
	ok(a1.all == 1 && a1.url == 1, "one url record");
	ok(!strcmp(a1.last.org, "org-b") && !strcmp(a1.last.peer, "peer-b") &&
	   !strcmp(a1.last.path, rel1) && !strncmp(a1.last.case_id, "url-sha256:", 11) &&
	   !strcmp(a1.last.case_id + 11, hex1) && a1.last.time == T0 + 100,
	   "it names case, org, peer and path");
	sent_to(ha, &case1, "org-b", "the note");
	ok(!tree_has(pub, url1) && !tree_has(pub, "example"),
	   "the URL is nowhere in clear in the feed");
	snprintf(p, sizeof(p), "%s/a", dir);
	/* the URL's path alone, long enough not to turn up by chance in
	 * the home's random bytes (keys, sealed envelopes, the state):
	 * "/x/" alone did, in one make check in twenty or so */
	ok(!tree_has(p, url1) && !tree_has(p, "/x/case-"),
	   "nor in A's home (audit log, note, urls/)");

	/* refusals: nothing written, no record */
	d = due(&case1, "org-x", "peer-x", "", "");
	is_rc(hlx_caseurl_send(&c, &d), HLX_ESTATE, "a peer without a box key is refused");
	is_str(hlx_err_detail(), "raw URL: not sent to org-x: no box key",
	       "with the error of spec/cases.md 8");
	d = due(&case2, "org-b", "peer-b", boxb, "");
	is_rc(hlx_caseurl_send(&c, &d), HLX_ENOENT, "a case whose URL A lacks is refused");
	d = due(&case1, "org-b", "peer-b", boxb, "a/../../x");
	is_rc(hlx_caseurl_send(&c, &d), HLX_EINVAL, "a feed outside a/ID is refused");
	d = due(&case1, "org-b", "peer-b", "hlx-box AAAA", "");
	is_rc(hlx_caseurl_send(&c, &d), HLX_EINVAL, "a bad box key is refused");
	ok(audit_of(ha).all == 1, "no record for a refused sending");
	snprintf(p, sizeof(p), "%s/urls/%s", pub, hex2);
	ok(access(p, F_OK) != 0, "no file for it");
	sent_to(ha, &case1, "org-b", "the note after refusals");

	/* an audience's directory */
	d = due(&case1, "org-b", "peer-b", boxb, aud);
	is_rc(hlx_caseurl_send(&c, &d), HLX_OK, "send into a/ID");
	snprintf(p, sizeof(p), "%s/urls/%s", aud, hex1);
	ok(read_feed(p, &b) == HLX_OK && hlx_seal_is(b.data, b.len) &&
	   b.len == HLX_SEAL_LEN(strlen(url1), 1),
	   "a/ID/urls/HEX: sealed to the peer once, not again to the audience");
	ok(audit_of(ha).url == 2 && !strcmp(audit_of(ha).last.path, p),
	   "its record names a/ID/urls/HEX");
	hlx_buf_free(&b);
	hlx_buf_free(&u);
}

struct fails {
	int n;
	char why[256];
};

static void on_fail(void *ctx, const char *who, int rc, const char *why)
{
	struct fails *f = ctx;

	(void)who;
	(void)rc;
	f->n++;
	snprintf(f->why, sizeof(f->why), "%s", why);
}

static void test_publish(void)
{
	struct hlx_caseurl_ctx c = { ha, sa, ka, pub, T0 + 200, NULL, NULL, 0 };
	struct hlx_caseurl_stats st;
	struct hlx_caseurl_due d[2];
	struct hlx_buf b = HLX_BUF_INIT, u;
	struct fails fl;
	char p[PATH_MAX];
	size_t n0;

	hlx_buf_init_secure(&u);
	/* the owner changed from org-b to org-c; a/ID is no longer read */
	n0 = audit_of(ha).all;
	memset(&st, 0, sizeof(st));
	d[0] = due(&case1, "org-c", "peer-c", boxc, "");
	is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK, "publish: the owner changed");
	ok(st.sent == 1 && st.removed == 1 && st.kept == 0 && st.failed == 0,
	   "one sent, one removed (%u %u %u %u)", st.sent, st.removed, st.kept, st.failed);
	ok(read_feed(rel1, &b) == HLX_OK &&
	   hlx_caseurl_open(b.data, b.len, kc, &case1, &u) == HLX_OK,
	   "the open feed's file is now C's");
	hlx_buf_reset(&u);
	is_rc(hlx_caseurl_open(b.data, b.len, kb, &case1, &u), HLX_EPERM,
	      "and B can no longer open it");
	snprintf(p, sizeof(p), "%s/%s/urls/%s", pub, aud, hex1);
	ok(access(p, F_OK) != 0, "the file of a/ID is gone");
	ok(audit_of(ha).all == n0 + 1 && !strcmp(audit_of(ha).last.org, "org-c"),
	   "one more record, for org-c");
	sent_to(ha, &case1, "org-c", "the note");

	memset(&st, 0, sizeof(st));
	is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK, "publish again");
	ok(st.sent == 0 && st.kept == 1 && audit_of(ha).all == n0 + 1,
	   "nothing sent twice, no record");

	/* a crash after the record, before the file: sent again */
	snprintf(p, sizeof(p), "%s/%s", pub, rel1);
	unlink(p);
	memset(&st, 0, sizeof(st));
	is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK, "publish with the file gone");
	ok(st.sent == 1 && access(p, F_OK) == 0 && audit_of(ha).all == n0 + 2,
	   "sent again, with a record of its own");

	/* a recipient without a box key fails alone */
	memset(&st, 0, sizeof(st));
	memset(&fl, 0, sizeof(fl));
	st.failure = on_fail;
	st.failure_ctx = &fl;
	d[1] = due(&case1, "org-x", "peer-x", "", aud);
	is_rc(hlx_caseurl_publish(&c, d, 2, &st), HLX_OK, "publish with a peer without box key");
	ok(st.failed == 1 && st.kept == 1 && fl.n == 1 &&
	   !strcmp(fl.why, "raw URL: not sent to org-x: no box key"),
	   "reported (%s), the other kept", fl.why);

	/* a planted symbolic link in the feed is not followed */
	{
		char a[PATH_MAX], t[PATH_MAX];

		snprintf(a, sizeof(a), "%s/a", pub);
		snprintf(t, sizeof(t), "%s/elsewhere", dir);
		mkdir(t, 0700);
		mkdir(a, 0755);
		snprintf(p, sizeof(p), "%s/%s", pub, aud);
		hlx_rm_rf(p);
		ok(symlink(t, p) == 0, "plant a/ID -> elsewhere");
		d[1] = due(&case1, "org-c", "peer-c", boxc, aud);
		memset(&st, 0, sizeof(st));
		ok(hlx_caseurl_publish(&c, d, 2, &st) == HLX_OK && st.failed == 1 &&
		   st.kept == 1,
		   "the sending through the link fails");
		snprintf(t, sizeof(t), "%s/elsewhere/urls", dir);
		ok(access(t, F_OK) != 0, "nothing written where the link points");
		/* nor removed there: a case's file where a/ID and urls/ lead */
		mkdir(t, 0700);
		snprintf(t, sizeof(t), "%s/elsewhere/urls/%s", dir, hex1);
		ok(hlx_file_write(t, "x", 1, 0600) == HLX_OK, "a file where the link leads");
		memset(&st, 0, sizeof(st));
		is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK, "publish, the link still there");
		ok(access(t, F_OK) == 0, "the file behind a/ID stays");
		unlink(p);
		{
			char ud[PATH_MAX], keep[PATH_MAX], dd[PATH_MAX];

			snprintf(ud, sizeof(ud), "%s/urls", pub);
			snprintf(keep, sizeof(keep), "%s/urls.real", pub);
			ok(rename(ud, keep) == 0, "the open feed's urls/ moved aside");
			snprintf(dd, sizeof(dd), "%s/elsewhere/urls", dir);
			ok(symlink(dd, ud) == 0, "urls/ planted as a link");
			memset(&st, 0, sizeof(st));
			hlx_caseurl_publish(&c, NULL, 0, &st);
			ok(access(t, F_OK) == 0, "the file behind the link stays");
			unlink(ud);
			ok(rename(keep, ud) == 0, "urls/ back");
			/* a directory named as a case's file is not one of ours */
			snprintf(dd, sizeof(dd), "%s/urls/%s", pub, hex2);
			mkdir(dd, 0700);
			memset(&st, 0, sizeof(st));
			is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK, "publish");
			ok(access(dd, F_OK) == 0, "a directory named as a case's file stays");
			rmdir(dd);
		}
	}

	/* a final state: nothing due, the file goes */
	memset(&st, 0, sizeof(st));
	is_rc(hlx_caseurl_publish(&c, NULL, 0, &st), HLX_OK, "publish: nothing due");
	snprintf(p, sizeof(p), "%s/%s", pub, rel1);
	ok(st.removed == 1 && access(p, F_OK) != 0, "the file was removed");
	sent_to(ha, &case1, "", "the note after the final state");

	/* a crash after the files, before their notes were saved: the
	 * files no note names are found at the next publish */
	{
		struct hlx_buf saved = HLX_BUF_INIT;
		char cs[PATH_MAX], pa[PATH_MAX];
		int had;

		ok(hlx_home_path(cs, hlx_home_dir(ha), HLX_HOME_CASES_SENT, NULL, NULL) ==
		   HLX_OK, "the path of cases-sent");
		had = hlx_file_read(cs, 1 << 20, &saved) == HLX_OK;
		d[0] = due(&case1, "org-c", "peer-c", boxc, "");
		d[1] = due(&case1, "org-c", "peer-c", boxc, aud);
		memset(&st, 0, sizeof(st));
		is_rc(hlx_caseurl_publish(&c, d, 2, &st), HLX_OK, "publish to both feeds");
		snprintf(p, sizeof(p), "%s/%s", pub, rel1);
		snprintf(pa, sizeof(pa), "%s/%s/urls/%s", pub, aud, hex1);
		ok(st.sent == 2 && access(p, F_OK) == 0 && access(pa, F_OK) == 0,
		   "both files written (%u sent)", st.sent);
		if (had)
			ok(hlx_file_write(cs, saved.data, saved.len, 0600) == HLX_OK,
			   "cases-sent as it was before (the crash)");
		else
			ok(unlink(cs) == 0, "no cases-sent, as before (the crash)");
		n0 = audit_of(ha).all;
		memset(&st, 0, sizeof(st));
		is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK,
		      "publish, only the open feed's file due");
		ok(st.removed == 2 && st.sent == 1 && access(p, F_OK) == 0 &&
		   access(pa, F_OK) != 0 && audit_of(ha).all == n0 + 1,
		   "both unnoted files went, the due one was sent again with a record (%u removed, %u sent)",
		   st.removed, st.sent);
		sent_to(ha, &case1, "org-c", "noted again");
		if (had)
			ok(hlx_file_write(cs, saved.data, saved.len, 0600) == HLX_OK,
			   "cases-sent as it was before (another crash)");
		else
			ok(unlink(cs) == 0, "no cases-sent (another crash)");
		memset(&st, 0, sizeof(st));
		is_rc(hlx_caseurl_publish(&c, NULL, 0, &st), HLX_OK, "publish: nothing due");
		ok(st.removed == 1 && access(p, F_OK) != 0,
		   "the unnoted file of a case no longer due is gone (%u removed)", st.removed);
		/* what is not a case's file is left alone */
		snprintf(p, sizeof(p), "%s/urls/README", pub);
		ok(hlx_file_write(p, "x", 1, 0644) == HLX_OK, "a file of another name");
		memset(&st, 0, sizeof(st));
		is_rc(hlx_caseurl_publish(&c, NULL, 0, &st), HLX_OK, "publish again");
		ok(st.removed == 0 && access(p, F_OK) == 0, "it stays");
		unlink(p);
		hlx_buf_free(&saved);

		/* a damaged cases-sent, or one past its limit (older builds
		 * wrote it at any size), is told and written anew: every
		 * publish would fail on it otherwise */
		memset(&st, 0, sizeof(st));
		is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK, "publish: one file due");
		snprintf(p, sizeof(p), "%s/%s", pub, rel1);
		ok(st.sent == 1 && access(p, F_OK) == 0, "sent");
		{
			FILE *f = fopen(cs, "a");

			ok(f && fputs("not a note\n", f) >= 0 && fclose(f) == 0,
			   "a line that is no note appended to cases-sent");
		}
		memset(&st, 0, sizeof(st));
		memset(&fl, 0, sizeof(fl));
		st.failure = on_fail;
		st.failure_ctx = &fl;
		n0 = audit_of(ha).all;
		is_rc(hlx_caseurl_publish(&c, d, 1, &st), HLX_OK, "publish with it");
		ok(fl.n == 1 && strstr(fl.why, "line 2") && st.removed == 0 &&
		   st.sent == 0 && st.kept == 1 && access(p, F_OK) == 0 &&
		   audit_of(ha).all == n0,
		   "told (%s), the note that reads kept: nothing sent again", fl.why);
		sent_to(ha, &case1, "org-c", "noted in a cases-sent written anew");
		{
			int fd = open(cs, O_WRONLY | O_TRUNC);

			ok(fd >= 0 && ftruncate(fd, (off_t)HLX_CASEURL_NOTES_MAX + 1) == 0 &&
			   close(fd) == 0, "cases-sent past its limit");
		}
		memset(&st, 0, sizeof(st));
		memset(&fl, 0, sizeof(fl));
		st.failure = on_fail;
		st.failure_ctx = &fl;
		is_rc(hlx_caseurl_publish(&c, NULL, 0, &st), HLX_OK,
		      "publish with it, nothing due");
		ok(fl.n == 1 && strstr(fl.why, "read as empty") && st.removed == 1 &&
		   access(p, F_OK) != 0,
		   "told (%s), the file no longer due gone", fl.why);
		{
			struct stat sb;

			ok(stat(cs, &sb) == 0 && sb.st_size == 0, "cases-sent written anew, empty");
		}
	}
	hlx_buf_free(&b);
	hlx_buf_free(&u);
}

static void seal_to(const struct hlx_boxkey *k, const char *plain, const char *ctx,
		    struct hlx_buf *out)
{
	struct hlx_boxpub p;

	hlx_boxkey_pub(k, &p);
	hlx_buf_reset(out);
	if (hlx_seal_buf(plain, strlen(plain), &p, 1, ctx, out))
		abort();
}

static void test_receive(void)
{
	struct hlx_buf env = HLX_BUF_INIT, u;
	char ctx1[HLX_CASEURL_CONTEXT_LEN], ctx2[HLX_CASEURL_CONTEXT_LEN];
	char other[128];
	int held = 1;

	snprintf(other, sizeof(other), "HTTPS://Example.ORG:443/x/case-%u", SEED);

	hlx_buf_init_secure(&u);
	hlx_caseurl_context(&case1, ctx1);
	hlx_caseurl_context(&case2, ctx2);
	ok(!strncmp(ctx1, "hlx-case-url:", 13) && !strcmp(ctx1 + 13, hex1),
	   "context hlx-case-url:HEX");

	/* forged ones first: B holds nothing after any of them */
	seal_to(kc, url1, ctx1, &env);
	is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, env.len), HLX_EPERM,
	      "sealed to another key: refused");
	seal_to(kb, url1, ctx2, &env);
	is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, env.len), HLX_EBADSIG,
	      "another case's context: refused");
	{
		char c3[80 + 64];

		snprintf(c3, sizeof(c3), "hlx-url:%s", hex1);
		seal_to(kb, url1, c3, &env);
		is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, env.len), HLX_EBADSIG,
		      "the at-rest context: refused");
	}
	seal_to(kb, url2, ctx1, &env);
	is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, env.len), HLX_EINVAL,
	      "a URL whose hash is not the case id: refused");
	ok(strstr(hlx_err_detail(), "not the case's") && !strstr(hlx_err_detail(), "example"),
	   "the detail says so without the URL (%s)", hlx_err_detail());
	seal_to(kb, "not a url at all", ctx1, &env);
	is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, env.len), HLX_EINVAL,
	      "a plaintext that is no URL: refused");
	seal_to(kb, url1, ctx1, &env);
	env.data[env.len - 1] ^= 1;
	is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, env.len), HLX_EBADSIG,
	      "a changed byte: refused");
	{
		size_t big = HLX_CASEURL_FILE_MAX + 1;
		uint8_t *p = calloc(1, big);

		memcpy(p, env.data, env.len);
		is_rc(hlx_caseurl_receive(hb, kb, &case1, p, big), HLX_ETOOBIG,
		      "oversize: refused before it is opened");
		free(p);
	}
	is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, 10), HLX_EBADSIG,
	      "truncated: refused");
	ok(hlx_caseurl_held(hb, &case1, &held) == HLX_OK && !held,
	   "after all of them B holds nothing");
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/b", dir);
		ok(!tree_has(p, "example.org"), "nothing of the URL in B's home");
	}

	/* the genuine one, in another spelling: normalised, stored */
	seal_to(kb, other, ctx1, &env);
	is_rc(hlx_caseurl_receive(hb, kb, &case1, env.data, env.len), HLX_OK,
	      "the owner's envelope, spelled otherwise, is received");
	ok(hlx_caseurl_held(hb, &case1, &held) == HLX_OK && held, "B holds it now");
	ok(hlx_urls_get(hb, &case1, kb, &u) == HLX_OK && u.len == strlen(url1) &&
	   !memcmp(u.data, url1, u.len), "as its own, normalised (urls/HEX)");
	hlx_buf_free(&env);
	hlx_buf_free(&u);
}

static void test_fetch(void)
{
	/* no keys given: loaded from the home on first need */
	struct hlx_caseurl_ctx c = { ha, NULL, NULL, pub, T0 + 300, NULL, NULL, 0 };
	struct hlx_caseurl_due d = due(&case1, "org-b", "peer-b", boxb, "");
	struct hlx_home *h2 = new_home("b2", "org-b");
	struct hlx_fetch *f = NULL;
	struct hlx_peer pe;
	int held = 0;

	memset(&pe, 0, sizeof(pe));
	snprintf(pe.name, sizeof(pe.name), "peer-a");
	snprintf(pe.url, sizeof(pe.url), "file://%s/", pub);
	is_rc(hlx_fetch_new(NULL, &f), HLX_OK, "a fetch handle");
	is_rc(hlx_caseurl_fetch(h2, f, &pe, kb, &case1), HLX_ENOENT,
	      "not sent yet: HLX_ENOENT");
	is_rc(hlx_caseurl_send(&c, &d), HLX_OK, "A sends it to org-b (keys loaded)");
	is_rc(hlx_caseurl_fetch(h2, f, &pe, kc, &case1), HLX_EPERM,
	      "fetched by a node with another box key: refused");
	ok(hlx_caseurl_held(h2, &case1, &held) == HLX_OK && !held, "nothing kept");
	is_rc(hlx_caseurl_fetch(h2, f, &pe, kb, &case1), HLX_OK,
	      "fetched and received by org-b");
	ok(hlx_caseurl_held(h2, &case1, &held) == HLX_OK && held, "kept");
	hlx_fetch_free(f);
	hlx_home_free(h2);
}

/* Who sends to whom, and who fetches from whom (spec/cases.md 8). */
static void test_rules(void)
{
	struct hlx_case_line rep, own, gb;
	struct hlx_case_src srcs[3] = { { "hl-fr", "", &rep }, { "hl-de", "", &own },
					{ "hl-gb", "", &gb } };
	struct hlx_case_owner o;
	const char *to;

	hlx_case_init(&rep);
	hlx_case_init(&own);
	hlx_case_init(&gb);
	rep.id = case1;
	rep.reported = T0;
	rep.state = HLX_CASE_REPORTED;
	rep.changed = T0;
	own.id = gb.id = case1;
	memset(&o, 0, sizeof(o));
	o.exists = 1;
	o.org = "hl-de";
	o.state = HLX_CASE_REPORTED;
	to = hlx_caseurl_recipient("hl-fr", srcs, 3, &o);
	ok(to && !strcmp(to, "hl-de"), "the reporter sends to the owner");
	ok(!hlx_caseurl_recipient("hl-de", srcs, 3, &o), "the owner sends to nobody");
	ok(!hlx_caseurl_recipient("hl-gb", srcs, 3, &o),
	   "an organisation that neither reported nor handed off sends nothing");
	ok(hlx_caseurl_from("hl-de", "hl-fr", srcs, 3, &o),
	   "the owner fetches from the reporter");
	ok(!hlx_caseurl_from("hl-de", "hl-gb", srcs, 3, &o),
	   "not from an organisation that did not report it");
	ok(!hlx_caseurl_from("hl-gb", "hl-fr", srcs, 3, &o), "nor does a non-owner fetch");
	o.state = HLX_CASE_REMOVED;
	ok(!hlx_caseurl_recipient("hl-fr", srcs, 3, &o) &&
	   !hlx_caseurl_from("hl-de", "hl-fr", srcs, 3, &o),
	   "a final state: nothing sent, nothing fetched");
	o.state = HLX_CASE_NOTICE_SENT;
	/* hl-de hands the case to hl-gb */
	own.nacts = 2;
	own.acts[0].kind = HLX_CASE_CLAIM;
	own.acts[0].a = own.acts[0].b = T0 + 10;
	own.acts[1].kind = HLX_CASE_HANDOFF;
	own.acts[1].a = own.acts[1].b = T0 + 20;
	snprintf(own.acts[1].org, sizeof(own.acts[1].org), "hl-gb");
	o.org = "hl-gb";
	to = hlx_caseurl_recipient("hl-de", srcs, 3, &o);
	ok(to && !strcmp(to, "hl-gb"), "the owner that handed off sends to the new owner");
	to = hlx_caseurl_recipient("hl-fr", srcs, 3, &o);
	ok(to && !strcmp(to, "hl-gb"), "and the reporter sends to it too");
	ok(hlx_caseurl_from("hl-gb", "hl-de", srcs, 3, &o) &&
	   hlx_caseurl_from("hl-gb", "hl-fr", srcs, 3, &o),
	   "the new owner fetches from either");
	/* the owner after a lapse, not a hand-off: hl-de passes nothing on */
	o.org = "hl-nl";
	ok(!hlx_caseurl_recipient("hl-de", srcs, 3, &o),
	   "a hand-off to another than the owner sends nothing");
	ok(!hlx_caseurl_from("hl-nl", "hl-de", srcs, 3, &o),
	   "and the owner does not fetch from it");
	o.exists = 0;
	ok(!hlx_caseurl_recipient("hl-fr", srcs, 3, &o), "no case, nothing");
}

static off_t notes_size(void)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/cases-sent", hlx_home_dir(ha));
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* cases-sent is never written larger than it may be read: a sending whose
 * note would not fit is refused before its record and its file; one that
 * fits exactly, or replaces a note of the same length, goes. */
static void test_notes_full(void)
{
	struct hlx_caseurl_ctx c = { ha, sa, ka, pub, T0 + 250, NULL, NULL, 0 };
	struct hlx_caseurl_due d;
	struct hlx_caseurl_stats st;
	struct hlx_hash case3;
	char url3[128], hex3[65], p[PATH_MAX];
	size_t line, n0;
	off_t s0;

	snprintf(url3, sizeof(url3), "https://example.org/x/case-%u", SEED + 2);
	if (hlx_urls_put(ha, url3, strlen(url3), &case3))
		abort();
	sodium_bin2hex(hex3, sizeof(hex3), case3.bytes, 32);
	d = due(&case1, "org-c", "peer-c", boxc, "");
	is_rc(hlx_caseurl_send(&c, &d), HLX_OK, "case 1 to org-c again");
	s0 = notes_size();
	ok(s0 > 0, "cases-sent holds %lld bytes", (long long)s0);
	/* "HEX urls/HEX org-b peer-b\n" */
	line = 64 + 1 + 5 + 64 + 1 + 5 + 1 + 6 + 1;
	n0 = audit_of(ha).all;
	d = due(&case3, "org-b", "peer-b", boxb, "");
	c.notes_max = (size_t)s0 + line - 1;
	is_rc(hlx_caseurl_send(&c, &d), HLX_ESTATE, "a note one byte too many: refused");
	ok(strstr(hlx_err_detail(), "cases-sent is full") != NULL &&
	   strstr(hlx_err_detail(), "not sent to org-b") != NULL &&
	   strstr(hlx_err_detail(), url3) == NULL,
	   "says so, naming the organisation, not the URL: %s", hlx_err_detail());
	snprintf(p, sizeof(p), "%s/urls/%s", pub, hex3);
	ok(access(p, F_OK) != 0 && audit_of(ha).all == n0,
	   "no file, no audit record");
	ok(notes_size() == s0, "cases-sent as it was");
	sent_to(ha, &case3, "", "no note");
	sent_to(ha, &case1, "org-c", "and the others still read");

	memset(&st, 0, sizeof(st));
	{
		struct hlx_caseurl_due dd[2] = { due(&case1, "org-c", "peer-c", boxc, ""), d };

		is_rc(hlx_caseurl_publish(&c, dd, 2, &st), HLX_OK,
		      "publish: the one that does not fit fails alone");
		ok(st.failed == 1 && st.kept == 1 && st.sent == 0,
		   "one failed, one kept (%u %u %u)", st.failed, st.kept, st.sent);
	}

	c.notes_max = (size_t)s0 + line;
	is_rc(hlx_caseurl_send(&c, &d), HLX_OK, "a note that fits exactly: sent");
	ok(notes_size() == s0 + (off_t)line && audit_of(ha).all == n0 + 1 &&
	   access(p, F_OK) == 0, "noted, recorded, written");
	sent_to(ha, &case3, "org-b", "the note");
	/* the same file for another peer of the same length: replaced */
	d = due(&case3, "org-c", "peer-c", boxc, "");
	is_rc(hlx_caseurl_send(&c, &d), HLX_OK, "a note replaced, no larger: sent");
	sent_to(ha, &case3, "org-c", "the new note");
	ok(notes_size() == s0 + (off_t)line, "cases-sent no larger");
	/* as test_publish left it: nothing sent */
	memset(&st, 0, sizeof(st));
	c.notes_max = 0;
	ok(hlx_caseurl_publish(&c, NULL, 0, &st) == HLX_OK && st.removed == 2 &&
	   notes_size() == 0, "nothing due: both taken down");
}

#define NMANY 20000

/* A publish with many files noted, due and there reads each note and each
 * file due once (sorted, then looked up): 20,000 of them, all kept, take
 * well under a second (the old pairwise matching took seconds). */
static void test_publish_many(void)
{
	struct hlx_caseurl_ctx c = { ha, sa, ka, pub, T0 + 260, NULL, NULL, 0 };
	struct hlx_caseurl_due *d = calloc(NMANY, sizeof(*d));
	struct hlx_caseurl_stats st;
	struct hlx_buf b = HLX_BUF_INIT;
	struct timespec t1, t2;
	char p[PATH_MAX];
	double secs;

	if (!d)
		abort();
	/* the notes, in reverse order: a file written by hand need not be
	 * sorted */
	for (int i = NMANY - 1; i >= 0; i--) {
		struct hlx_hash id;
		char hex[65];

		memset(&id, 0, sizeof(id));
		id.type = HLX_HASH_URL_SHA256;
		id.len = 32;
		randombytes_buf(id.bytes, 32);
		sodium_bin2hex(hex, sizeof(hex), id.bytes, 32);
		d[i] = due(&id, "org-b", "peer-b", boxb, "");
		if (hlx_buf_printf(&b, "%s urls/%s org-b peer-b\n", hex, hex))
			abort();
		snprintf(p, sizeof(p), "%s/urls/%s", pub, hex);
		{
			int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd < 0 || write(fd, "x", 1) != 1 || close(fd))
				abort();
		}
	}
	snprintf(p, sizeof(p), "%s/cases-sent", hlx_home_dir(ha));
	if (hlx_file_write(p, b.data, b.len, 0600))
		abort();
	memset(&st, 0, sizeof(st));
	/* CPU time, not wall time: a loaded machine (make check runs
	 * programs side by side) must not make it fail */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	is_rc(hlx_caseurl_publish(&c, d, NMANY, &st), HLX_OK,
	      "publish with %d files noted and due", NMANY);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t2);
	secs = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	printf("# %d notes and files due: %.3f s of CPU\n", NMANY, secs);
	ok(st.removed == 0 && st.kept == NMANY && st.sent == 0 && st.failed == 0,
	   "all kept, none sent or taken down (%u %u %u %u)", st.kept, st.sent,
	   st.removed, st.failed);
	/* about 1 s under the sanitizers; the pairwise match took 14 s
	 * (release) to 21 s (sanitizers) */
	ok(secs < 5.0, "in %.3f s of CPU, well under 5 s", secs);
	memset(&st, 0, sizeof(st));
	ok(hlx_caseurl_publish(&c, NULL, 0, &st) == HLX_OK && st.removed == NMANY &&
	   notes_size() == 0, "nothing due: every file taken down, every note dropped");
	/* two lines for one file (a file written by hand): the later counts */
	hlx_buf_reset(&b);
	if (hlx_buf_printf(&b, "%s urls/%s org-b peer-b\n%s urls/%s org-c peer-c\n",
			   hex1, hex1, hex1, hex1) ||
	    hlx_file_write(p, b.data, b.len, 0600))
		abort();
	sent_to(ha, &case1, "org-c", "of two lines for one file, the later");
	memset(&st, 0, sizeof(st));
	ok(hlx_caseurl_publish(&c, NULL, 0, &st) == HLX_OK && st.removed == 1 &&
	   notes_size() == 0, "and it is one note");
	hlx_buf_free(&b);
	free(d);
}

int main(void)
{
	char tmpl[] = "/tmp/hlx-test-caseurl-XXXXXX";
	if (seed_sodium() || sodium_init() < 0 || !mkdtemp(tmpl))
		return 1;
	printf("# case number %u (fixed)\n", SEED);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(pub, sizeof(pub), "%s/pub", dir);
	mkdir(pub, 0755);
	snprintf(url1, sizeof(url1), "https://example.org/x/case-%u", SEED);
	snprintf(url2, sizeof(url2), "https://example.org/x/case-%u", SEED + 1);
	ha = new_home("a", "org-a");
	hb = new_home("b", "org-b");
	if (hlx_home_signing_key(ha, NULL, NULL, T0, &sa) ||
	    hlx_home_box_key(ha, NULL, NULL, &ka) || hlx_home_box_key(hb, NULL, NULL, &kb))
		return 1;
	kc = new_box();
	box_text(kb, boxb);
	box_text(kc, boxc);
	if (hlx_urls_put(ha, url1, strlen(url1), &case1) ||
	    hlx_urls_item(url2, strlen(url2), &case2, NULL))
		return 1;
	sodium_bin2hex(hex1, sizeof(hex1), case1.bytes, 32);
	sodium_bin2hex(hex2, sizeof(hex2), case2.bytes, 32);
	snprintf(rel1, sizeof(rel1), "urls/%s", hex1);

	test_rules();
	test_send();
	test_publish();
	test_notes_full();
	test_publish_many();
	test_receive();
	ok(strlen(hex1) == 64 && strcmp(hex1, hex2) != 0, "two distinct cases");
	test_fetch();
	test_peer_of();

	hlx_seckey_free(sa);
	hlx_boxkey_free(ka);
	hlx_boxkey_free(kb);
	hlx_boxkey_free(kc);
	hlx_home_free(ha);
	hlx_home_free(hb);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
