/* SPDX-License-Identifier: MIT */
/* The node's response plans (node/plans.h). */
#include "node/plans.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "node/files.h"
#include "node/peers.h"
#include "protocol/err.h"
#include "protocol/plan_feed.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Acts dated later than now by more than this are deferred (5.2, 6). */
#define PLAN_AHEAD 300
/* Pending versions a plan name may have (5.4). */
#define PLAN_PENDING_MAX 16

/* A document held: its plan (owned by the book) and every act held for
 * it, as its bundle holds them. */
struct held {
	const struct hlx_plan *p;
	uint8_t hash[32];
	char hex[65];
	int excluded;
	int charged; /* this node did not sign it: it counts against the
		      * quota of the organisations whose acts name it */
	int dirty; /* acts added by hlx_plans_take, not saved yet */
	struct hlx_plan_bact *acts;
	size_t nacts, cap;
};

/* A trust chain the node holds: its own or one being taken in (not
 * owned: own set), or a peer's. */
struct chain {
	struct hlx_trust *t;
	int own;
};

/* Documents charged to an organisation (the quota of section 5.4). */
struct charge {
	char org[HLX_NAME_MAX + 1];
	size_t n;
};

struct hlx_plans {
	struct hlx_plan_book *book;
	struct held *d;
	size_t nd, capd;
	struct chain *c;
	size_t nc;
	char org[HLX_NAME_MAX + 1];
	char home[PATH_MAX];
	/* per organisation, the documents charged to it: counted once, at
	 * the first new document hlx_plans_take weighs, then kept up */
	struct charge *q;
	size_t nq;
	int qready;
};

static void bact_free(struct hlx_plan_bact *a)
{
	free(a->body);
	free(a->sig);
}

void hlx_plans_free(struct hlx_plans *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nd; i++) {
		for (size_t k = 0; k < p->d[i].nacts; k++)
			bact_free(&p->d[i].acts[k]);
		free(p->d[i].acts);
	}
	free(p->d);
	for (size_t i = 0; i < p->nc; i++)
		if (!p->c[i].own)
			hlx_trust_free(p->c[i].t);
	free(p->c);
	free(p->q);
	hlx_plan_book_free(p->book);
	free(p);
}

const struct hlx_plan_book *hlx_plans_book(const struct hlx_plans *p)
{
	return p->book;
}

size_t hlx_plans_ndocs(const struct hlx_plans *p)
{
	return p->nd;
}

const struct hlx_plan *hlx_plans_doc(const struct hlx_plans *p, size_t i)
{
	return i < p->nd ? p->d[i].p : NULL;
}

static struct held *held_of(const struct hlx_plans *p,
			    const struct hlx_plan *doc)
{
	for (size_t i = 0; i < p->nd; i++)
		if (p->d[i].p == doc)
			return &p->d[i];
	return NULL;
}

static struct held *held_hash(const struct hlx_plans *p, const uint8_t h[32])
{
	for (size_t i = 0; i < p->nd; i++)
		if (!memcmp(p->d[i].hash, h, 32))
			return &p->d[i];
	return NULL;
}

int hlx_plans_counts(const struct hlx_plans *p, const struct hlx_plan *doc)
{
	const struct held *h = held_of(p, doc);

	return h && !h->excluded;
}

/* ---- chains and acts ---------------------------------------------------- */

/* The chain that introduced root: *t, or NULL when none is held. */
static const struct hlx_trust *chain_for(const struct hlx_plans *p,
					 const char *root)
{
	for (size_t i = 0; i < p->nc; i++)
		if (hlx_trust_has_root(p->c[i].t, root))
			return p->c[i].t;
	return NULL;
}

int hlx_plans_chain_held(const struct hlx_plans *p, const struct hlx_plan *doc,
			 size_t i)
{
	const char *root = hlx_plan_signatory_root(doc, i);
	const struct hlx_trust *t = root ? chain_for(p, root) : NULL;

	return t && !strcmp(hlx_trust_org(t), hlx_plan_signatory(doc, i));
}

enum { ACT_VALID, ACT_VOID, ACT_DEFERRED };

/*
 * Is act a, for the document doc it names, valid (spec/plan.md section
 * 5.2)?  *st: ACT_VALID, ACT_VOID or ACT_DEFERRED, with HLX_OK; a bad act
 * is an error.  now < 0 skips condition 6 (an act of the store was
 * checked against the clock when it was stored).
 */
static int act_check(const struct hlx_plans *p, const struct hlx_plan_bact *a,
		     const struct hlx_plan *doc, int64_t now, int *st)
{
	const struct hlx_trust *t;
	struct hlx_sshsig *s = NULL;
	int rc, i;

	if ((rc = hlx_plan_act_for(&a->a, doc)))
		return rc;
	i = hlx_plan_signatory_find(doc, a->a.org);
	t = chain_for(p, hlx_plan_signatory_root(doc, (size_t)i));
	if (t && strcmp(hlx_trust_org(t), a->a.org))
		return hlx_err(HLX_EUNTRUSTED,
			       "plan act of '%s': the root the plan names is of '%s'",
			       a->a.org, hlx_trust_org(t));
	rc = hlx_sshsig_parse_armor(a->sig, a->siglen, &s);
	if (!rc && strcmp(hlx_sshsig_hashalg(s), "sha512"))
		rc = hlx_err(HLX_EBADSIG, "plan act of '%s': hash must be sha512",
			     a->a.org);
	if (!rc)
		rc = hlx_sshsig_verify(s, HLX_PLAN_ACT_NAMESPACE,
				       (const uint8_t *)a->body, a->bodylen);
	if (rc) {
		rc = hlx_err_wrap(rc, "plan act of '%s'", a->a.org);
		goto out;
	}
	if (!t) {
		*st = ACT_DEFERRED;
		goto out;
	}
	rc = hlx_trust_check(t, hlx_sshsig_signer(s), a->a.time);
	if (rc == HLX_EREVOKED || rc == HLX_EEXPIRED) {
		*st = ACT_VOID;
		rc = HLX_OK;
		goto out;
	}
	if (rc) {
		rc = hlx_err_wrap(rc, "plan act of '%s'", a->a.org);
		goto out;
	}
	*st = now >= 0 && a->a.time > now + PLAN_AHEAD ? ACT_DEFERRED : ACT_VALID;
out:
	hlx_sshsig_free(s);
	return rc;
}

/* ---- loading ------------------------------------------------------------ */

static int add_chain(struct hlx_plans *p, struct hlx_trust *t, int own)
{
	struct chain *c = realloc(p->c, (p->nc + 1) * sizeof(*c));

	if (!c) {
		if (!own)
			hlx_trust_free(t);
		return hlx_err(HLX_ENOMEM, "plans");
	}
	p->c = c;
	c[p->nc].t = t;
	c[p->nc++].own = own;
	return HLX_OK;
}

/* The node's own chain, then every peer's verified one. */
static int load_chains(struct hlx_plans *p, struct hlx_node *n)
{
	struct hlx_home *h = hlx_node_home(n);
	struct hlx_peers *peers = NULL;
	int rc;

	rc = add_chain(p, (struct hlx_trust *)hlx_home_trust(h), 1);
	if (!rc)
		rc = hlx_peers_load(p->home, &peers);
	for (size_t i = 0; !rc && i < peers->n; i++) {
		struct hlx_trust *t = NULL;

		/* a peer not pulled yet, or whose chain is damaged, has none */
		if (hlx_peer_trust(p->home, &peers->v[i], &t) == HLX_OK)
			rc = add_chain(p, t, 0);
	}
	hlx_peers_free(peers);
	hlx_err_clear();
	return rc;
}

/* Hold b's document (the book takes it); with acts, b's acts too. */
static int add_held(struct hlx_plans *p, struct hlx_plan_bundle *b, int acts)
{
	struct held *h;
	uint8_t hash[32];
	int rc;

	hlx_plan_hash(b->plan, hash);
	if (held_hash(p, hash))
		return HLX_OK;
	if (p->nd == p->capd) {
		size_t cap = p->capd ? 2 * p->capd : 8;

		h = realloc(p->d, cap * sizeof(*h));
		if (!h)
			return hlx_err(HLX_ENOMEM, "plans");
		p->d = h;
		p->capd = cap;
	}
	h = &p->d[p->nd];
	memset(h, 0, sizeof(*h));
	memcpy(h->hash, hash, 32);
	hlx_plan_hash_hex(b->plan, h->hex);
	h->p = b->plan;
	rc = hlx_plan_book_add(p->book, b->plan);
	b->plan = NULL;
	if (rc)
		return rc;
	if (acts) {
		h->acts = b->acts;
		h->nacts = h->cap = b->nacts;
		b->acts = NULL;
		b->nacts = 0;
	}
	p->nd++;
	return HLX_OK;
}

static int load_file(struct hlx_plans *p, const char *name, const char *file)
{
	struct hlx_plan_bundle b = { 0 };
	struct hlx_buf text = HLX_BUF_INIT;
	char path[PATH_MAX], hex[65], stem[65];
	size_t l = strlen(file);
	int rc;

	if (l != 69 || strcmp(file + 64, ".json"))
		return HLX_OK; /* a temporary file, or not hlx's */
	memcpy(stem, file, 64);
	stem[64] = '\0';
	rc = hlx_home_path(path, p->home, HLX_HOME_PLAN, name, stem);
	if (!rc)
		rc = hlx_file_read(path, HLX_PLAN_BUNDLE_MAX, &text);
	if (!rc)
		rc = hlx_plan_bundle_parse((char *)text.data, text.len, &b);
	if (!rc) {
		hlx_plan_hash_hex(b.plan, hex);
		if (strcmp(hex, stem) || strcmp(hlx_plan_name(b.plan), name))
			rc = hlx_err(HLX_EINVAL, "holds %s@%lld sha256:%s",
				     hlx_plan_name(b.plan),
				     (long long)hlx_plan_version(b.plan), hex);
	}
	if (!rc)
		rc = add_held(p, &b, 1);
	if (rc)
		rc = hlx_err_wrap(rc, "plan store 'plans/%s/%s'", name, file);
	hlx_plan_bundle_free(&b);
	hlx_buf_free(&text);
	return rc;
}

static int load_dir(struct hlx_plans *p, const char *name)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc;

	if (hlx_entry_token_check(name, strlen(name), "plan name")) {
		hlx_err_clear();
		return HLX_OK;
	}
	if ((rc = hlx_home_path(path, p->home, HLX_HOME_PLAN_DIR, name, NULL)))
		return rc;
	if (!(d = opendir(path)))
		return errno == ENOTDIR || errno == ENOENT
			       ? HLX_OK
			       : hlx_err(HLX_EIO, "cannot read '%s': %s", path,
					 strerror(errno));
	rc = HLX_OK;
	while (!rc && (e = readdir(d)))
		rc = load_file(p, name, e->d_name);
	closedir(d);
	return rc;
}

static int cmp_held(const void *x, const void *y)
{
	const struct held *a = x, *b = y;
	int c = strcmp(hlx_plan_name(a->p), hlx_plan_name(b->p));

	if (c)
		return c;
	if (hlx_plan_version(a->p) != hlx_plan_version(b->p))
		return hlx_plan_version(a->p) < hlx_plan_version(b->p) ? -1 : 1;
	return memcmp(a->hash, b->hash, 32);
}

/* Every act held, checked again; the valid ones into the book; then the
 * documents this node did not sign kept out of force. */
static int book_acts(struct hlx_plans *p)
{
	int rc;

	for (size_t i = 0; i < p->nd; i++) {
		for (size_t k = 0; k < p->d[i].nacts; k++) {
			const struct hlx_plan_bact *a = &p->d[i].acts[k];
			const struct hlx_plan *doc = hlx_plan_book_find(p->book, a->a.doc);
			int st = ACT_DEFERRED;

			if (!doc)
				continue; /* a withdrawal from a version not held */
			if (act_check(p, a, doc, -1, &st) || st != ACT_VALID) {
				hlx_err_clear();
				continue;
			}
			if ((rc = hlx_plan_book_act(p->book, &a->a)))
				return rc;
		}
	}
	for (size_t i = 0; i < p->nd; i++) {
		int me = hlx_plan_signatory_find(p->d[i].p, p->org);

		if (me < 0 || hlx_plan_book_signed(p->book, p->d[i].p, (size_t)me) < 0) {
			p->d[i].excluded = 1;
			p->d[i].charged = 1;
			if ((rc = hlx_plan_book_exclude(p->book, p->d[i].hash)))
				return rc;
		}
	}
	return HLX_OK;
}

int hlx_plans_load(struct hlx_node *n, struct hlx_plans **out)
{
	struct hlx_plans *p;
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = NULL;
	int rc;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return hlx_err(HLX_ENOMEM, "out of memory");
	snprintf(p->home, sizeof(p->home), "%s", hlx_home_dir(hlx_node_home(n)));
	snprintf(p->org, sizeof(p->org), "%s", hlx_home_org(hlx_node_home(n)));
	rc = hlx_plan_book_new(&p->book);
	if (!rc)
		rc = load_chains(p, n);
	if (!rc)
		rc = hlx_home_path(path, p->home, HLX_HOME_PLANS, NULL, NULL);
	if (!rc && !(d = opendir(path)) && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot read '%s': %s", path, strerror(errno));
	while (!rc && d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			rc = load_dir(p, e->d_name);
	if (d)
		closedir(d);
	if (!rc && p->nd)
		qsort(p->d, p->nd, sizeof(*p->d), cmp_held);
	if (!rc)
		rc = book_acts(p);
	if (rc) {
		hlx_plans_free(p);
		return rc;
	}
	*out = p;
	return HLX_OK;
}

/* ---- what a name holds -------------------------------------------------- */

/* The highest complete version of name (0: none). */
static int64_t top_complete(const struct hlx_plans *p, const char *name)
{
	int64_t v = 0, s;

	for (size_t i = 0; i < p->nd; i++)
		if (!strcmp(hlx_plan_name(p->d[i].p), name) &&
		    hlx_plan_book_complete(p->book, p->d[i].p, &s) &&
		    hlx_plan_version(p->d[i].p) > v)
			v = hlx_plan_version(p->d[i].p);
	return v;
}

long hlx_plans_pending(const struct hlx_plans *p, const char *name)
{
	int64_t top = top_complete(p, name), s;
	long best = -1;

	for (size_t i = 0; i < p->nd; i++) {
		const struct hlx_plan *d = p->d[i].p;

		if (strcmp(hlx_plan_name(d), name) || hlx_plan_version(d) <= top ||
		    hlx_plan_book_complete(p->book, d, &s))
			continue;
		/* sorted: the last one of the highest version wins ties */
		if (best < 0 || hlx_plan_version(d) >= hlx_plan_version(p->d[best].p))
			best = (long)i;
	}
	return best;
}

static size_t count_pending(const struct hlx_plans *p, const char *name)
{
	int64_t top = top_complete(p, name), s;
	size_t k = 0;

	for (size_t i = 0; i < p->nd; i++)
		if (!strcmp(hlx_plan_name(p->d[i].p), name) &&
		    hlx_plan_version(p->d[i].p) > top &&
		    !hlx_plan_book_complete(p->book, p->d[i].p, &s))
			k++;
	return k;
}

static void done_fill(const struct hlx_plans *p, const struct hlx_plan *doc,
		      int64_t now, struct hlx_plans_done *r)
{
	struct hlx_plan_force *f = NULL;
	size_t nf = 0;

	snprintf(r->name, sizeof(r->name), "%s", hlx_plan_name(doc));
	r->version = hlx_plan_version(doc);
	hlx_plan_hash_hex(doc, r->hash);
	r->of = hlx_plan_nsignatories(doc);
	r->nsigned = 0;
	for (size_t i = 0; i < r->of; i++)
		if (hlx_plan_book_signed(p->book, doc, i) >= 0)
			r->nsigned++;
	r->in_force = 0;
	if (hlx_plan_book_in_force(p->book, now, &f, &nf) == HLX_OK)
		for (size_t i = 0; i < nf; i++)
			if (f[i].plan == doc)
				r->in_force = 1;
	free(f);
}

/* ---- writing ------------------------------------------------------------ */

static int save_held(const struct hlx_plans *p, const struct held *h)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	const char *name = hlx_plan_name(h->p);
	int rc;

	rc = hlx_plan_bundle_encode(h->p, h->acts, h->nacts, &b);
	if (!rc && b.len > HLX_PLAN_BUNDLE_MAX)
		rc = hlx_err(HLX_ETOOBIG, "the bundle of %s@%lld would exceed %d bytes",
			     name, (long long)hlx_plan_version(h->p),
			     HLX_PLAN_BUNDLE_MAX);
	if (!rc)
		rc = hlx_home_path(path, p->home, HLX_HOME_PLANS, NULL, NULL);
	if (!rc)
		rc = hlx_file_mkdirs(path, hlx_home_mode(HLX_HOME_PLANS));
	if (!rc)
		rc = hlx_home_path(path, p->home, HLX_HOME_PLAN_DIR, name, NULL);
	if (!rc)
		rc = hlx_file_mkdirs(path, hlx_home_mode(HLX_HOME_PLAN_DIR));
	if (!rc)
		rc = hlx_home_path(path, p->home, HLX_HOME_PLAN, name, h->hex);
	if (!rc)
		rc = hlx_file_write(path, b.data, b.len, hlx_home_mode(HLX_HOME_PLAN));
	hlx_buf_free(&b);
	return rc;
}

static int held_push(struct held *h, const struct hlx_plan_bact *a)
{
	struct hlx_plan_bact *v, c = *a;

	if (h->nacts >= HLX_PLAN_BUNDLE_ACTS_MAX)
		return hlx_err(HLX_ETOOBIG, "%s@%lld holds %d acts already",
			       hlx_plan_name(h->p), (long long)hlx_plan_version(h->p),
			       HLX_PLAN_BUNDLE_ACTS_MAX);
	c.body = strdup(a->body);
	c.sig = strdup(a->sig);
	if (h->nacts == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;

		v = realloc(h->acts, cap * sizeof(*v));
		if (!v) {
			bact_free(&c);
			return hlx_err(HLX_ENOMEM, "plans");
		}
		h->acts = v;
		h->cap = cap;
	}
	if (!c.body || !c.sig) {
		bact_free(&c);
		return hlx_err(HLX_ENOMEM, "plans");
	}
	h->acts[h->nacts++] = c;
	return HLX_OK;
}

/* Make the act of kind k of this node for doc at now, signed, and check it
 * as any act is checked. */
static int make_act(const struct hlx_plans *p, struct hlx_node *n,
		    const struct hlx_plan *doc, enum hlx_plan_act_kind k,
		    hlx_pass_fn getpass, void *ctx, int64_t now,
		    struct hlx_plan_bact *out)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_seckey *key = NULL;
	int rc, st = ACT_DEFERRED;

	memset(out, 0, sizeof(*out));
	out->a.act = k;
	snprintf(out->a.org, sizeof(out->a.org), "%s", p->org);
	snprintf(out->a.plan, sizeof(out->a.plan), "%s", hlx_plan_name(doc));
	out->a.version = hlx_plan_version(doc);
	hlx_plan_hash(doc, out->a.doc);
	out->a.time = now;
	rc = hlx_plan_act_body(&out->a, &body);
	if (!rc)
		rc = hlx_home_signing_key(hlx_node_home(n), getpass, ctx, now, &key);
	if (!rc)
		rc = hlx_sshsig_sign(key, HLX_PLAN_ACT_NAMESPACE, "sha512",
				     body.data, body.len, &sig);
	if (!rc && (!(out->body = strndup((char *)body.data, body.len)) ||
		    !(out->sig = strndup((char *)sig.data, sig.len))))
		rc = hlx_err(HLX_ENOMEM, "plans");
	out->bodylen = body.len;
	out->siglen = sig.len;
	if (!rc)
		rc = act_check(p, out, doc, now, &st);
	if (!rc && st != ACT_VALID)
		rc = hlx_err(HLX_EUNTRUSTED,
			     "this node's own act does not verify under its chain");
	hlx_seckey_free(key);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	if (rc)
		bact_free(out);
	return rc;
}

/* Reload, so that the book, the exclusions and what is in force follow
 * from the store alone; then say what the act did. */
static int reload_done(struct hlx_node *n, struct hlx_plans **p,
		       const uint8_t hash[32], int64_t now,
		       struct hlx_plans_done *r)
{
	const struct hlx_plan *doc;
	int rc;

	hlx_plans_free(*p);
	*p = NULL;
	rc = hlx_plans_load(n, p);
	if (rc)
		return rc;
	doc = hlx_plan_book_find((*p)->book, hash);
	if (!doc)
		return hlx_err(HLX_EIO, "the plan stored is not found again");
	done_fill(*p, doc, now, r);
	return HLX_OK;
}

/* Signatory i of doc: the peer whose verified chain is its (name and
 * root), found in peers; NULL when none. */
static struct hlx_peer *signatory_peer(const char *home, struct hlx_peers *peers,
				       const struct hlx_plan *doc, size_t i)
{
	for (size_t k = 0; k < peers->n; k++) {
		struct hlx_trust *t = NULL;
		int ok;

		if (hlx_peer_trust(home, &peers->v[k], &t)) {
			hlx_err_clear();
			continue;
		}
		ok = !strcmp(hlx_trust_org(t), hlx_plan_signatory(doc, i)) &&
		     hlx_trust_has_root(t, hlx_plan_signatory_root(doc, i));
		hlx_trust_free(t);
		if (ok)
			return &peers->v[k];
	}
	return NULL;
}

int hlx_plans_propose(struct hlx_node *n, const char *json, size_t len,
		      hlx_pass_fn getpass, void *ctx, int64_t now,
		      struct hlx_plans_done *r)
{
	struct hlx_plan *doc = NULL;
	struct hlx_plans *p = NULL;
	struct hlx_peers *peers = NULL;
	struct hlx_plan_bundle b = { 0 };
	struct hlx_plan_bact act = { 0 };
	const char *name;
	int64_t v;
	uint8_t hash[32];
	int rc, me;

	memset(r, 0, sizeof(*r));
	rc = hlx_plan_parse(json, len, 0, &doc);
	if (rc)
		return rc;
	name = hlx_plan_name(doc);
	v = hlx_plan_version(doc);
	rc = hlx_plans_load(n, &p);
	if (!rc)
		rc = hlx_peers_load(p->home, &peers);
	if (rc)
		goto out;
	me = hlx_plan_signatory_find(doc, p->org);
	if (me < 0) {
		rc = hlx_err(HLX_ESTATE, "plan %s@%lld: this node's organisation '%s' is not a signatory",
			     name, (long long)v, p->org);
		goto out;
	}
	if (!hlx_trust_has_root(hlx_home_trust(hlx_node_home(n)),
				hlx_plan_signatory_root(doc, (size_t)me))) {
		rc = hlx_err(HLX_ESTATE, "plan %s@%lld: the root named for '%s' is not a root of this node's chain",
			     name, (long long)v, p->org);
		goto out;
	}
	for (size_t i = 0; i < hlx_plan_nsignatories(doc); i++)
		if ((int)i != me && !signatory_peer(p->home, peers, doc, i)) {
			rc = hlx_err(HLX_ESTATE, "plan %s@%lld: signatory '%s' is not a peer of this node",
				     name, (long long)v, hlx_plan_signatory(doc, i));
			goto out;
		}
	for (size_t i = 0; i < p->nd; i++)
		if (!strcmp(hlx_plan_name(p->d[i].p), name) &&
		    hlx_plan_version(p->d[i].p) >= v) {
			rc = hlx_err(HLX_ESTATE, "plan %s@%lld: this node holds version %lld already; propose a higher one",
				     name, (long long)v, (long long)hlx_plan_version(p->d[i].p));
			goto out;
		}
	if (count_pending(p, name) >= PLAN_PENDING_MAX) {
		rc = hlx_err(HLX_ESTATE, "too many pending versions of plan %s", name);
		goto out;
	}
	rc = make_act(p, n, doc, HLX_PLAN_SIGN, getpass, ctx, now, &act);
	if (rc)
		goto out;
	hlx_plan_hash(doc, hash);
	b.plan = doc;
	doc = NULL;
	b.acts = &act;
	b.nacts = 1;
	{
		struct held h = { .p = b.plan, .acts = &act, .nacts = 1 };

		memcpy(h.hash, hash, 32);
		hlx_plan_hash_hex(b.plan, h.hex);
		rc = save_held(p, &h);
	}
	b.acts = NULL;
	b.nacts = 0;
	if (!rc)
		rc = reload_done(n, &p, hash, now, r);
out:
	bact_free(&act);
	hlx_plan_bundle_free(&b);
	hlx_plan_free(doc);
	hlx_peers_free(peers);
	hlx_plans_free(p);
	return rc;
}

/* The document sign acts on (see hlx_plans_sign). */
static int pick_doc(const struct hlx_plans *p, const char *name,
		    int64_t version, const char *doc_hex, struct held **out)
{
	struct held *h = NULL;
	int any = 0;
	long pend;

	for (size_t i = 0; i < p->nd; i++)
		if (!strcmp(hlx_plan_name(p->d[i].p), name))
			any = 1;
	if (!any)
		return hlx_err(HLX_ENOENT, "no such plan '%s'", name);
	if (!version) {
		pend = hlx_plans_pending(p, name);
		if (pend < 0)
			return hlx_err(HLX_ESTATE, "plan '%s' has no pending version", name);
		version = hlx_plan_version(p->d[pend].p);
	}
	for (size_t i = 0; i < p->nd; i++) {
		struct held *c = &p->d[i];

		if (strcmp(hlx_plan_name(c->p), name) || hlx_plan_version(c->p) != version)
			continue;
		if (doc_hex && strcmp(doc_hex, c->hex) &&
		    !(strncmp(doc_hex, "sha256:", 7) == 0 && !strcmp(doc_hex + 7, c->hex)))
			continue;
		if (h)
			return hlx_err(HLX_ESTATE,
				       "%s@%lld has two documents, sha256:%s and sha256:%s: name one with --doc",
				       name, (long long)version, h->hex, c->hex);
		h = c;
	}
	if (!h)
		return hlx_err(HLX_ENOENT, "plan '%s' has no version %lld%s%s", name,
			       (long long)version, doc_hex ? " with document " : "",
			       doc_hex ? doc_hex : "");
	*out = h;
	return HLX_OK;
}

/* Subscribe to 'cases' of every other signatory that is a peer; name the
 * others in r. */
static int subscribe_cases(const struct hlx_plans *p, const struct hlx_plan *doc,
			   struct hlx_plans_done *r)
{
	struct hlx_peers *peers = NULL;
	int rc, changed = 0;

	rc = hlx_peers_load(p->home, &peers);
	for (size_t i = 0; !rc && i < hlx_plan_nsignatories(doc); i++) {
		struct hlx_peer *peer;

		if (!strcmp(hlx_plan_signatory(doc, i), p->org))
			continue;
		peer = signatory_peer(p->home, peers, doc, i);
		if (!peer) {
			snprintf(r->notpeer[r->nnotpeer++], sizeof(r->notpeer[0]),
				 "%s", hlx_plan_signatory(doc, i));
			continue;
		}
		rc = hlx_peer_subscribe(peer, "cases");
		if (rc == HLX_EEXIST) {
			hlx_err_clear();
			rc = HLX_OK;
		} else if (!rc) {
			changed = 1;
		}
	}
	if (!rc && changed)
		rc = hlx_peers_save(p->home, peers);
	hlx_peers_free(peers);
	return rc;
}

int hlx_plans_sign(struct hlx_node *n, const char *name, int64_t version,
		   const char *doc_hex, hlx_pass_fn getpass, void *ctx,
		   int64_t now, struct hlx_plans_done *r)
{
	struct hlx_plans *p = NULL;
	struct hlx_plan_bact act = { 0 };
	struct held *h = NULL;
	uint8_t hash[32];
	int rc, me;

	memset(r, 0, sizeof(*r));
	rc = hlx_plans_load(n, &p);
	if (!rc)
		rc = pick_doc(p, name, version, doc_hex, &h);
	if (rc)
		goto out;
	me = hlx_plan_signatory_find(h->p, p->org);
	if (me < 0)
		rc = hlx_err(HLX_ESTATE, "%s@%lld: this node's organisation '%s' is not a signatory",
			     name, (long long)hlx_plan_version(h->p), p->org);
	else if (hlx_plan_book_signed(p->book, h->p, (size_t)me) >= 0)
		rc = hlx_err(HLX_ESTATE, "%s@%lld sha256:%s: signed by this node already",
			     name, (long long)hlx_plan_version(h->p), h->hex);
	else if (hlx_plan_book_withdrawn(p->book, h->p, (size_t)me) >= 0)
		rc = hlx_err(HLX_ESTATE, "%s@%lld: this node has withdrawn from it",
			     name, (long long)hlx_plan_version(h->p));
	if (!rc)
		rc = make_act(p, n, h->p, HLX_PLAN_SIGN, getpass, ctx, now, &act);
	if (!rc)
		rc = held_push(h, &act);
	if (!rc)
		rc = save_held(p, h);
	if (rc)
		goto out;
	memcpy(hash, h->hash, 32);
	rc = subscribe_cases(p, h->p, r);
	if (!rc) {
		struct hlx_plans_done d = *r;

		rc = reload_done(n, &p, hash, now, r);
		r->nnotpeer = d.nnotpeer;
		memcpy(r->notpeer, d.notpeer, sizeof(r->notpeer));
	}
out:
	bact_free(&act);
	hlx_plans_free(p);
	return rc;
}

int hlx_plans_withdraw(struct hlx_node *n, const char *name,
		       hlx_pass_fn getpass, void *ctx, int64_t now,
		       struct hlx_plans_done *r)
{
	struct hlx_plans *p = NULL;
	struct hlx_plan_bact act = { 0 };
	struct held *h = NULL;
	int64_t s;
	uint8_t hash[32];
	int rc, any = 0;

	memset(r, 0, sizeof(*r));
	if ((rc = hlx_plans_load(n, &p)))
		return rc;
	/* the highest version this node is a signatory of; of two documents
	 * of it, a complete one, then the first */
	for (size_t i = 0; i < p->nd; i++) {
		struct held *c = &p->d[i];

		if (strcmp(hlx_plan_name(c->p), name))
			continue;
		any = 1;
		if (hlx_plan_signatory_find(c->p, p->org) < 0)
			continue;
		if (!h || hlx_plan_version(c->p) > hlx_plan_version(h->p) ||
		    (hlx_plan_version(c->p) == hlx_plan_version(h->p) &&
		     !hlx_plan_book_complete(p->book, h->p, &s) &&
		     hlx_plan_book_complete(p->book, c->p, &s)))
			h = c;
	}
	if (!any)
		rc = hlx_err(HLX_ENOENT, "no such plan '%s'", name);
	else if (!h)
		rc = hlx_err(HLX_ESTATE, "this node is not a signatory of any version of plan '%s'",
			     name);
	else if (hlx_plan_book_withdrawn(p->book, h->p,
					 (size_t)hlx_plan_signatory_find(h->p, p->org)) >= 0)
		rc = hlx_err(HLX_ESTATE, "this node has withdrawn from %s@%lld already",
			     name, (long long)hlx_plan_version(h->p));
	if (!rc)
		rc = make_act(p, n, h->p, HLX_PLAN_WITHDRAW, getpass, ctx, now, &act);
	/* into the bundle of every document it covers (section 7.2) */
	for (size_t i = 0; !rc && i < p->nd; i++) {
		struct held *c = &p->d[i];

		if (strcmp(hlx_plan_name(c->p), name) ||
		    hlx_plan_version(c->p) > act.a.version ||
		    hlx_plan_signatory_find(c->p, p->org) < 0)
			continue;
		rc = held_push(c, &act);
		if (!rc)
			rc = save_held(p, c);
	}
	if (!rc) {
		memcpy(hash, h->hash, 32);
		rc = reload_done(n, &p, hash, now, r);
	}
	bact_free(&act);
	hlx_plans_free(p);
	return rc;
}

/* ---- plans in feeds ------------------------------------------------------ */

int hlx_plans_add_chain(struct hlx_plans *p, const struct hlx_trust *t)
{
	struct chain *c = realloc(p->c, (p->nc + 1) * sizeof(*c));

	if (!c)
		return hlx_err(HLX_ENOMEM, "plans");
	p->c = c;
	memmove(c + 1, c, p->nc * sizeof(*c));
	c[0].t = (struct hlx_trust *)t;
	c[0].own = 1;
	p->nc++;
	return HLX_OK;
}

void hlx_plans_pub_free(struct hlx_plans_pub *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		hlx_buf_free(&v[i].text);
	free(v);
}

/* Is act a (held for some document) valid now? */
static int act_valid(const struct hlx_plans *p, const struct hlx_plan_bact *a)
{
	const struct hlx_plan *doc = hlx_plan_book_find(p->book, a->a.doc);
	int st = ACT_DEFERRED;

	if (!doc || act_check(p, a, doc, -1, &st)) {
		hlx_err_clear();
		return 0;
	}
	return st == ACT_VALID;
}

/* The bundle of document p->d[at] as it is published: the acts on it
 * and on the other versions of its name, which lie next to it (the
 * documents are sorted by name), so a bundle costs its name's documents,
 * not all of them. */
static int pub_bundle(const struct hlx_plans *p, size_t at, struct hlx_buf *out)
{
	const struct held *d = &p->d[at];
	const char *name = hlx_plan_name(d->p);
	const struct hlx_plan_bact **v = NULL;
	struct hlx_plan_bact *flat = NULL;
	size_t nv = 0, cap = 0, lo = at, hi = at + 1;
	int rc = HLX_OK;

	while (lo > 0 && !strcmp(hlx_plan_name(p->d[lo - 1].p), name))
		lo--;
	while (hi < p->nd && !strcmp(hlx_plan_name(p->d[hi].p), name))
		hi++;
	for (size_t i = lo; !rc && i < hi; i++) {
		const struct held *h = &p->d[i];

		for (size_t k = 0; !rc && k < h->nacts; k++) {
			const struct hlx_plan_bact *a = &h->acts[k];

			if (a->a.act == HLX_PLAN_SIGN ? memcmp(a->a.doc, d->hash, 32) != 0
			    : (a->a.version < hlx_plan_version(d->p) ||
			       hlx_plan_signatory_find(d->p, a->a.org) < 0))
				continue;
			if (!act_valid(p, a))
				continue;
			if (nv == cap) {
				const struct hlx_plan_bact **w;

				cap = cap ? 2 * cap : 16;
				w = realloc(v, cap * sizeof(*v));
				if (!w) {
					rc = hlx_err(HLX_ENOMEM, "plans");
					break;
				}
				v = w;
			}
			v[nv++] = a;
		}
	}
	if (!rc && nv > HLX_PLAN_BUNDLE_ACTS_MAX)
		nv = HLX_PLAN_BUNDLE_ACTS_MAX;
	if (!rc && nv && !(flat = malloc(nv * sizeof(*flat))))
		rc = hlx_err(HLX_ENOMEM, "plans");
	for (size_t i = 0; !rc && i < nv; i++)
		flat[i] = *v[i];
	if (!rc)
		rc = hlx_plan_bundle_encode(d->p, flat, nv, out);
	free(flat);
	free(v);
	return rc;
}

/* Which plans a head lists first (section 7.1): those this node signed
 * (only its own key makes them, so no peer can crowd them out), then the
 * others that name it (any peer can make those), then the rest. */
enum { PUB_SIGNED, PUB_NAMED, PUB_OTHER, PUB_TIERS, PUB_NOT = PUB_TIERS };

/* The tier of every document held (PUB_NOT: not listed: neither complete
 * nor above the highest complete version of its name), into tier; per
 * tier, how many, into count.  The documents are sorted by name, so each
 * name's highest complete version is found in one pass over its run. */
static void pub_tiers(const struct hlx_plans *p, unsigned char *tier,
		      size_t count[PUB_TIERS])
{
	int64_t s;

	for (size_t i = 0, end; i < p->nd; i = end) {
		const char *name = hlx_plan_name(p->d[i].p);
		int64_t top = 0;

		for (end = i; end < p->nd && !strcmp(hlx_plan_name(p->d[end].p), name); end++)
			if (hlx_plan_book_complete(p->book, p->d[end].p, &s) &&
			    hlx_plan_version(p->d[end].p) > top)
				top = hlx_plan_version(p->d[end].p);
		for (size_t k = i; k < end; k++) {
			const struct hlx_plan *doc = p->d[k].p;
			int me = hlx_plan_signatory_find(doc, p->org);

			if (!hlx_plan_book_complete(p->book, doc, &s) &&
			    hlx_plan_version(doc) <= top)
				tier[k] = PUB_NOT;
			else if (me >= 0 && hlx_plan_book_signed(p->book, doc, (size_t)me) >= 0)
				tier[k] = PUB_SIGNED;
			else if (me >= 0)
				tier[k] = PUB_NAMED;
			else
				tier[k] = PUB_OTHER;
			if (tier[k] != PUB_NOT)
				count[tier[k]]++;
		}
	}
}

int hlx_plans_publishable(const struct hlx_plans *p, struct hlx_plans_pub **out,
			  size_t *n)
{
	struct hlx_plans_pub *v = NULL;
	unsigned char *tier = NULL;
	size_t count[PUB_TIERS] = { 0 }, room = HLX_PLANS_HEAD_PLANS_MAX, k = 0;
	int rc = HLX_OK, cut;

	*out = NULL;
	*n = 0;
	if (!p->nd)
		return HLX_OK;
	if (!(v = calloc(p->nd, sizeof(*v))) || !(tier = malloc(p->nd))) {
		rc = hlx_err(HLX_ENOMEM, "plans");
		goto out;
	}
	pub_tiers(p, tier, count);
	/* whole tiers while they fit; of the tier cut, the first in order */
	for (cut = 0; cut < PUB_TIERS && count[cut] <= room; cut++)
		room -= count[cut];
	for (size_t i = 0; !rc && i < p->nd; i++) {
		const struct held *h = &p->d[i];
		uint8_t bh[32];

		if (tier[i] == PUB_NOT || tier[i] > cut)
			continue;
		if (tier[i] == cut) {
			if (!room)
				continue;
			room--;
		}
		rc = pub_bundle(p, i, &v[k].text);
		if (rc)
			break;
		snprintf(v[k].e.name, sizeof(v[k].e.name), "%s", hlx_plan_name(h->p));
		v[k].e.version = hlx_plan_version(h->p);
		memcpy(v[k].e.doc, h->hex, 65);
		crypto_hash_sha256(bh, v[k].text.data, v[k].text.len);
		sodium_bin2hex(v[k].e.bundle, sizeof(v[k].e.bundle), bh, 32);
		k++;
	}
out:
	free(tier);
	if (rc || !k) {
		hlx_plans_pub_free(v, v ? p->nd : 0);
		return rc;
	}
	*out = v;
	*n = k;
	return HLX_OK;
}

/* Does h hold an act with this body? */
static int held_has(const struct held *h, const struct hlx_plan_bact *a)
{
	for (size_t i = 0; i < h->nacts; i++)
		if (h->acts[i].bodylen == a->bodylen &&
		    !memcmp(h->acts[i].body, a->body, a->bodylen))
			return 1;
	return 0;
}

static int cmp_body(const void *x, const void *y)
{
	const struct hlx_plan_bact *a = *(const struct hlx_plan_bact *const *)x;
	const struct hlx_plan_bact *b = *(const struct hlx_plan_bact *const *)y;

	if (a->bodylen != b->bodylen)
		return a->bodylen < b->bodylen ? -1 : 1;
	return memcmp(a->body, b->body, a->bodylen);
}

/* Withdrawals of org from plan name held, into *k: each body once (a
 * withdrawal is held in the bundle of every version it covers).  Every
 * act held for a document names the document's plan (the bundle parser
 * and hlx_plan_act_for see to it), so only the documents of name are
 * read; their matching acts are sorted and counted once each. */
static int withdrawals(const struct hlx_plans *p, const char *name,
		       const char *org, size_t *k)
{
	const struct hlx_plan_bact **v = NULL;
	size_t nv = 0, cap = 0;
	int rc = HLX_OK;

	*k = 0;
	for (size_t i = 0; i < p->nd; i++) {
		if (strcmp(hlx_plan_name(p->d[i].p), name))
			continue;
		for (size_t j = 0; j < p->d[i].nacts; j++) {
			const struct hlx_plan_bact *a = &p->d[i].acts[j];

			if (a->a.act != HLX_PLAN_WITHDRAW || strcmp(a->a.plan, name) ||
			    strcmp(a->a.org, org))
				continue;
			if (nv == cap) {
				const struct hlx_plan_bact **w;

				cap = cap ? 2 * cap : 64;
				if (!(w = realloc(v, cap * sizeof(*v)))) {
					rc = hlx_err(HLX_ENOMEM, "plans");
					goto out;
				}
				v = w;
			}
			v[nv++] = a;
		}
	}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), cmp_body);
	for (size_t i = 0; i < nv; i++)
		*k += !i || cmp_body(&v[i - 1], &v[i]) != 0;
out:
	free(v);
	return rc;
}

/* ---- the quota of documents per organisation (section 5.4) ------------- */

/* The count of documents charged to org (NULL: none yet; with make, a
 * new count of 0). */
static size_t *charge_of(struct hlx_plans *p, const char *org, int make)
{
	struct charge *q;

	for (size_t i = 0; i < p->nq; i++)
		if (!strcmp(p->q[i].org, org))
			return &p->q[i].n;
	if (!make)
		return NULL;
	if (!(q = realloc(p->q, (p->nq + 1) * sizeof(*q))))
		return NULL;
	p->q = q;
	snprintf(q[p->nq].org, sizeof(q[p->nq].org), "%s", org);
	q[p->nq].n = 0;
	return &q[p->nq++].n;
}

static int charge_add(struct hlx_plans *p, const char *org)
{
	size_t *c = charge_of(p, org, 1);

	if (!c)
		return hlx_err(HLX_ENOMEM, "plans");
	(*c)++;
	return HLX_OK;
}

/* Does h hold an act of org that names h's document? */
static int held_names(const struct held *h, const char *org)
{
	for (size_t i = 0; i < h->nacts; i++)
		if (!memcmp(h->acts[i].a.doc, h->hash, 32) && !strcmp(h->acts[i].a.org, org))
			return 1;
	return 0;
}

/* Count, once per hlx_plans, the documents charged to each organisation:
 * every document this node did not sign, to each organisation with an
 * act held that names it (held acts were verified when taken: one that
 * is void now still says who brought the document). */
static int charges_build(struct hlx_plans *p)
{
	int rc = HLX_OK;

	if (p->qready)
		return HLX_OK;
	for (size_t i = 0; !rc && i < p->nd; i++) {
		const struct held *h = &p->d[i];
		unsigned char seen[HLX_PLAN_SIGNATORIES_MAX] = { 0 };

		if (!h->charged)
			continue;
		for (size_t k = 0; !rc && k < h->nacts; k++) {
			const struct hlx_plan_bact *a = &h->acts[k];
			int who;

			if (memcmp(a->a.doc, h->hash, 32))
				continue;
			who = hlx_plan_signatory_find(h->p, a->a.org);
			if (who < 0 || seen[who])
				continue;
			seen[who] = 1;
			rc = charge_add(p, a->a.org);
		}
	}
	if (!rc)
		p->qready = 1;
	return rc;
}

/* Check every act of bundle b (document hash): st[i] its status; a bad
 * one is an error. */
static int take_check(const struct hlx_plans *p, const struct hlx_plan_bundle *b,
		      const uint8_t hash[32], int64_t now, int *st)
{
	for (size_t i = 0; i < b->nacts; i++) {
		const struct hlx_plan_bact *a = &b->acts[i];
		const struct hlx_plan *doc = !memcmp(a->a.doc, hash, 32)
						     ? b->plan
						     : hlx_plan_book_find(p->book, a->a.doc);
		int rc;

		st[i] = ACT_DEFERRED;
		if (!doc)
			continue; /* a withdrawal from a document not held */
		rc = act_check(p, a, doc, now, &st[i]);
		if (rc)
			return hlx_err_wrap(rc, "plan %s@%lld", a->a.plan,
					    (long long)a->a.version);
	}
	return HLX_OK;
}

int hlx_plans_take(struct hlx_plans *p, const char *text, size_t n,
		   const struct hlx_plans_entry *e, int64_t now, int *whole,
		   size_t *added)
{
	struct hlx_plan_bundle b = { 0 };
	struct held *h;
	uint8_t hash[32];
	char hex[65];
	int *st = NULL, rc, keep = 0;
	size_t ns, signers = 0;

	*whole = 1;
	*added = 0;
	rc = hlx_plan_bundle_parse(text, n, &b);
	if (rc)
		return hlx_err_wrap(rc, "bundle of %s@%lld", e->name, (long long)e->version);
	hlx_plan_hash(b.plan, hash);
	hlx_plan_hash_hex(b.plan, hex);
	if (strcmp(hex, e->doc) || strcmp(hlx_plan_name(b.plan), e->name) ||
	    hlx_plan_version(b.plan) != e->version) {
		rc = hlx_err(HLX_EUNTRUSTED,
			     "the bundle listed as %s@%lld sha256:%s holds %s@%lld sha256:%s",
			     e->name, (long long)e->version, e->doc, hlx_plan_name(b.plan),
			     (long long)hlx_plan_version(b.plan), hex);
		goto out;
	}
	if (b.nacts && !(st = calloc(b.nacts, sizeof(*st)))) {
		rc = hlx_err(HLX_ENOMEM, "plans");
		goto out;
	}
	if ((rc = take_check(p, &b, hash, now, st)))
		goto out;
	h = held_hash(p, hash);
	ns = hlx_plan_nsignatories(b.plan);
	for (size_t i = 0; i < b.nacts; i++) {
		if (st[i] == ACT_DEFERRED)
			*whole = 0;
		if (st[i] == ACT_VALID && !memcmp(b.acts[i].a.doc, hash, 32))
			keep = 1;
	}
	if (!h) {
		/* a new document: kept with a valid act of its own, complete
		 * or above the highest complete version (section 5.4) */
		int64_t top = top_complete(p, e->name);
		unsigned char to[HLX_PLAN_SIGNATORIES_MAX] = { 0 };
		int own = 0, under = 0, nto = 0;

		for (size_t s2 = 0; s2 < ns; s2++)
			for (size_t i = 0; i < b.nacts; i++)
				if (st[i] == ACT_VALID && b.acts[i].a.act == HLX_PLAN_SIGN &&
				    !strcmp(b.acts[i].a.org, hlx_plan_signatory(b.plan, s2))) {
					signers++;
					break;
				}
		if (!keep)
			goto out;
		if (signers < ns && e->version <= top) {
			rc = hlx_err(HLX_EUNTRUSTED,
				     "%s@%lld sha256:%s is not complete and not above the complete version %lld",
				     e->name, (long long)e->version, hex, (long long)top);
			goto out;
		}
		if (signers < ns && count_pending(p, e->name) >= PLAN_PENDING_MAX)
			goto dropped; /* too many pending versions */
		/* the organisations it would be charged to: those whose act
		 * naming it is kept below (a sign act always is, as the first
		 * of its organisation; a withdrawal while its organisation
		 * holds fewer than 64 for the name) */
		for (size_t i = 0; i < b.nacts; i++) {
			const struct hlx_plan_bact *a = &b.acts[i];
			int who = hlx_plan_signatory_find(b.plan, a->a.org);
			size_t nw = 0;

			if (st[i] != ACT_VALID || memcmp(a->a.doc, hash, 32) || who < 0)
				continue;
			if (a->a.act == HLX_PLAN_SIGN && !strcmp(a->a.org, p->org))
				own = 1; /* signed by this node: never dropped */
			if (to[who])
				continue;
			if (a->a.act == HLX_PLAN_WITHDRAW) {
				if ((rc = withdrawals(p, a->a.plan, a->a.org, &nw)))
					goto out;
				if (nw >= 64)
					continue;
			}
			to[who] = 1;
			nto++;
		}
		if (!nto)
			goto dropped; /* no act naming it would be kept */
		if (!own) {
			if ((rc = charges_build(p)))
				goto out;
			for (size_t w = 0; w < ns && !under; w++) {
				const size_t *c;

				if (!to[w])
					continue;
				c = charge_of(p, hlx_plan_signatory(b.plan, w), 0);
				under = !c || *c < HLX_PLANS_ORG_DOCS_MAX;
			}
			if (!under)
				goto dropped; /* every one at its quota */
		}
		if ((rc = add_held(p, &b, 0)))
			goto out;
		p->d[p->nd - 1].charged = !own;
		qsort(p->d, p->nd, sizeof(*p->d), cmp_held);
		h = held_hash(p, hash);
	}
	/* the acts naming this document first, so that a new document holds
	 * the ones its quota was weighed with (the withdrawal cap may drop
	 * later ones) */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < b.nacts; i++) {
			const struct hlx_plan_bact *a = &b.acts[i];
			const struct hlx_plan *doc;
			int who, names = !memcmp(a->a.doc, hash, 32), first;

			if (names == pass || st[i] != ACT_VALID || held_has(h, a))
				continue;
			doc = hlx_plan_book_find(p->book, a->a.doc);
			who = doc ? hlx_plan_signatory_find(doc, a->a.org) : -1;
			if (who < 0)
				continue;
			if (a->a.act == HLX_PLAN_SIGN) {
				int64_t t = hlx_plan_book_signed(p->book, doc, (size_t)who);

				if (t >= 0 && t <= a->a.time)
					continue; /* the earliest counts */
			} else {
				size_t nw;

				if ((rc = withdrawals(p, a->a.plan, a->a.org, &nw)))
					goto out;
				if (nw >= 64)
					continue; /* section 5.4: more are dropped */
			}
			first = names && h->charged && p->qready && !held_names(h, a->a.org);
			if ((rc = held_push(h, a)) || (rc = hlx_plan_book_act(p->book, &a->a)))
				goto out;
			if (first && (rc = charge_add(p, a->a.org)))
				goto out;
			h->dirty = 1;
			(*added)++;
		}
	goto out;
dropped:
	/* a limit, not an error: the pull goes on and records the bundle
	 * as taken, so it is not fetched again while the peer serves it */
	*whole = 1;
out:
	free(st);
	hlx_plan_bundle_free(&b);
	return rc;
}

int hlx_plans_save(struct hlx_plans *p)
{
	int rc = HLX_OK;

	for (size_t i = 0; !rc && i < p->nd; i++)
		if (p->d[i].dirty) {
			rc = save_held(p, &p->d[i]);
			if (!rc)
				p->d[i].dirty = 0;
		}
	return rc;
}
