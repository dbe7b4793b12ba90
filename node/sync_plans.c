/* SPDX-License-Identifier: MIT */
/*
 * Pulling a peer's plans (spec/plan.md section 7.3): its plans head,
 * verified as a list head is (chain, signature with namespace hlx-plans,
 * freshness, audience), no rollback or fork of its seq, then the bundles
 * it lists that were not taken in whole before, every act checked; all
 * or nothing.  What a pull verified is kept in peers/P/plans.sync,
 * written only after the plans it brought; a refused pull leaves the
 * plans and plans.sync as they were and says why in peers/P/plans.error.
 */
#include "node/sync_int.h"
#include "node/files.h"
#include "node/plans.h"
#include "keys/sshsig.h"
#include "protocol/err.h"
#include "protocol/plan_feed.h"
#include "protocol/rtime.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLANS_SYNC_MAX (128 * 1024)

/* What plans.sync keeps. */
struct psync {
	uint64_t seq;            /* 0: none verified yet */
	char plans[65];          /* digest of the listed plans */
	char etag[256], last_modified[64];
	char url[HLX_URL_TEXT_MAX];  /* the feed it was verified from */
	int64_t last_ok;
	size_t ntaken;
	char (*taken)[65];       /* bundle hashes taken in whole */
};

static void psync_free(struct psync *s)
{
	free(s->taken);
	s->taken = NULL;
	s->ntaken = 0;
}

/* The digest of a head's plans: what a fork changes. */
static void plans_digest(const struct hlx_plans_head *h, char out[65])
{
	crypto_hash_sha256_state st;
	uint8_t d[32];
	char line[HLX_TOKEN_MAX + 200];

	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < h->n; i++) {
		int n = snprintf(line, sizeof(line), "%s\t%lld\t%s\t%s\n", h->v[i].name,
				 (long long)h->v[i].version, h->v[i].doc, h->v[i].bundle);

		crypto_hash_sha256_update(&st, (const uint8_t *)line, (size_t)n);
	}
	crypto_hash_sha256_final(&st, d);
	sodium_bin2hex(out, 65, d, 32);
}

static int psync_read(struct hlx_node *n, const char *peer, struct psync *s)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	json_t *o = NULL, *t;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = hlx_node_path(n, HLX_HOME_PEER_PLANS, peer, NULL, path);
	if (!rc)
		rc = hlx_file_read(path, PLANS_SYNC_MAX, &b);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = HLX_OK;
		goto out;
	}
	if (rc)
		goto out;
	o = json_loadb((char *)b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
	t = o ? json_object_get(o, "taken") : NULL;
	if (!o || !json_is_integer(json_object_get(o, "seq")) || !json_is_array(t) ||
	    json_array_size(t) > HLX_PLANS_HEAD_PLANS_MAX) {
		/* damaged: a full pull, with no rollback check for once */
		goto out;
	}
	s->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	snprintf(s->plans, sizeof(s->plans), "%s",
		 json_string_value(json_object_get(o, "plans")) ?: "");
	snprintf(s->etag, sizeof(s->etag), "%s",
		 json_string_value(json_object_get(o, "etag")) ?: "");
	snprintf(s->last_modified, sizeof(s->last_modified), "%s",
		 json_string_value(json_object_get(o, "last_modified")) ?: "");
	snprintf(s->url, sizeof(s->url), "%s",
		 json_string_value(json_object_get(o, "url")) ?: "");
	s->last_ok = json_integer_value(json_object_get(o, "last_ok"));
	if (json_array_size(t) && !(s->taken = calloc(json_array_size(t), 65))) {
		rc = hlx_err(HLX_ENOMEM, "plans.sync");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(t); i++)
		if (json_is_string(json_array_get(t, i)))
			snprintf(s->taken[s->ntaken++], 65, "%s",
				 json_string_value(json_array_get(t, i)));
out:
	json_decref(o);
	hlx_buf_free(&b);
	return rc;
}

static int psync_write(struct hlx_node *n, const char *peer, const struct psync *s)
{
	json_t *o = json_object(), *t = json_array();
	char path[PATH_MAX], *txt = NULL;
	int rc;

	for (size_t i = 0; t && i < s->ntaken; i++)
		json_array_append_new(t, json_string(s->taken[i]));
	if (!o || !t || json_object_set_new(o, "taken", t) ||
	    json_object_set_new(o, "seq", json_integer((json_int_t)s->seq)) ||
	    json_object_set_new(o, "plans", json_string(s->plans)) ||
	    json_object_set_new(o, "etag", json_string(s->etag)) ||
	    json_object_set_new(o, "last_modified", json_string(s->last_modified)) ||
	    json_object_set_new(o, "last_ok", json_integer(s->last_ok)) ||
	    json_object_set_new(o, "url", json_string(s->url)) ||
	    !(txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS))) {
		json_decref(o);
		return hlx_err(HLX_ENOMEM, "plans.sync");
	}
	json_decref(o);
	rc = hlx_node_path(n, HLX_HOME_PEER, peer, NULL, path);
	if (!rc)
		rc = hlx_file_mkdirs(path, hlx_home_mode(HLX_HOME_PEER));
	if (!rc)
		rc = hlx_node_path(n, HLX_HOME_PEER_PLANS, peer, NULL, path);
	if (!rc)
		rc = hlx_file_write(path, txt, strlen(txt), hlx_home_mode(HLX_HOME_PEER_PLANS));
	free(txt);
	return rc;
}

/* Why the last pull was refused ("" removes it). */
static void perror_note(struct hlx_node *n, const char *peer, const char *why)
{
	char path[PATH_MAX], dir[PATH_MAX];

	if (hlx_node_path(n, HLX_HOME_PEER_PLANS_ERROR, peer, NULL, path))
		return;
	if (!why[0]) {
		unlink(path);
		return;
	}
	if (!hlx_node_path(n, HLX_HOME_PEER, peer, NULL, dir) &&
	    !hlx_file_mkdirs(dir, hlx_home_mode(HLX_HOME_PEER)))
		hlx_file_write(path, why, strlen(why),
			       hlx_home_mode(HLX_HOME_PEER_PLANS_ERROR));
}

int hlx_plans_sync_status(struct hlx_node *n, const char *peer, uint64_t *seq,
			  int64_t *last_ok, char *err, size_t errlen)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct psync s;
	char path[PATH_MAX];
	int rc, any;

	err[0] = '\0';
	rc = psync_read(n, peer, &s);
	if (rc)
		return rc;
	*seq = s.seq;
	*last_ok = s.last_ok;
	any = s.seq > 0;
	psync_free(&s);
	if (!hlx_node_path(n, HLX_HOME_PEER_PLANS_ERROR, peer, NULL, path) &&
	    hlx_file_read(path, errlen - 1, &b) == HLX_OK) {
		memcpy(err, b.data, b.len);
		err[b.len] = '\0';
		any = 1;
	}
	hlx_err_clear();
	hlx_buf_free(&b);
	return any ? HLX_OK : HLX_ENOENT;
}

/* Step 1: the head, verified. */
static int check_plans_head(struct pull *pl, struct hlx_buf *text,
			    struct hlx_plans_head *h)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_sshsig *s = NULL;
	char want[33];
	int rc;

	rc = hlx_pull_open_sealed(pl, HLX_PLANS_FEED_HEAD, text, HLX_PLANS_HEAD_MAX);
	if (!rc)
		rc = hlx_plans_head_parse((char *)text->data, text->len, h, &body, &sig);
	if (rc)
		goto out;
	hlx_pull_url_audience(pl->peer->url, want);
	if (strcmp(h->audience, want)) {
		rc = hlx_err(HLX_EUNTRUSTED, "the plans head is for %s%s, the peer's URL names %s%s",
			     h->audience[0] ? "audience " : "the open feed", h->audience,
			     want[0] ? "audience " : "the open feed", want);
		goto out;
	}
	/* the chain it names, as a list head's */
	snprintf(pl->head.org, sizeof(pl->head.org), "%s", h->org);
	pl->head.trust_length = h->trust_length;
	memcpy(pl->head.trust_head, h->trust_head, sizeof(pl->head.trust_head));
	pl->head.issued = h->issued;
	pl->head.expires = h->expires;
	rc = hlx_pull_peer_trust(pl);
	if (!rc && strcmp(hlx_trust_org(pl->trust), h->org))
		rc = hlx_err(HLX_EUNTRUSTED, "the plans head is signed for '%s', the peer is '%s'",
			     h->org, hlx_trust_org(pl->trust));
	if (!rc)
		rc = hlx_sshsig_parse_armor((const char *)sig.data, sig.len, &s);
	if (!rc)
		rc = hlx_sshsig_verify(s, HLX_PLANS_HEAD_NAMESPACE, body.data, body.len);
	if (!rc)
		rc = hlx_trust_check(pl->trust, hlx_sshsig_signer(s), h->issued);
	if (rc) {
		rc = hlx_err_wrap(rc, "plans head");
		goto out;
	}
	if (h->issued < hlx_trust_last_time(pl->trust))
		rc = hlx_err(HLX_EUNTRUSTED,
			     "the plans head is issued before the last change of the trust chain it names");
	else if (h->expires <= pl->now)
		rc = hlx_err(HLX_EEXPIRED, "the plans head has expired (a frozen feed?)");
	else if (h->issued > pl->now + CLOCK_SKEW)
		rc = hlx_err(HLX_EUNTRUSTED, "the plans head is issued in the future");
out:
	hlx_sshsig_free(s);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

static int taken(const struct psync *s, const char *bundle)
{
	for (size_t i = 0; i < s->ntaken; i++)
		if (!strcmp(s->taken[i], bundle))
			return 1;
	return 0;
}

/* Step 3: one bundle, fetched, its bytes checked, taken into p. */
static int pull_bundle(struct pull *pl, struct hlx_plans *p,
		       const struct hlx_plans_entry *e, int *whole, size_t *added)
{
	struct hlx_buf url = HLX_BUF_INIT, b = HLX_BUF_INIT;
	struct hlx_fetch_result fr;
	char rel[PATH_MAX], hex[65];
	uint8_t h[32];
	int rc;

	rc = hlx_pathf(rel, HLX_PLANS_FEED_BUNDLE, e->name, e->doc);
	if (!rc)
		rc = hlx_fetch_join(pl->peer->url, rel, &url);
	if (!rc)
		rc = hlx_fetch_get(pl->f, (char *)url.data, SEALED_MAX(HLX_PLAN_BUNDLE_MAX),
				   NULL, NULL, &b, &fr);
	if (!rc)
		rc = hlx_pull_open_sealed(pl, rel, &b, HLX_PLAN_BUNDLE_MAX);
	if (rc)
		goto out;
	crypto_hash_sha256(h, b.data, b.len);
	sodium_bin2hex(hex, sizeof(hex), h, 32);
	if (strcmp(hex, e->bundle)) {
		rc = hlx_err(HLX_EUNTRUSTED, "'%s': its bytes are not the bundle the head names",
			     rel);
		goto out;
	}
	rc = hlx_plans_take(p, (char *)b.data, b.len, e, pl->now, whole, added);
out:
	hlx_buf_free(&url);
	hlx_buf_free(&b);
	return rc;
}

int hlx_pull_plans(struct hlx_node *n, const struct hlx_peer *peer,
		   struct hlx_fetch *f, int64_t now, struct hlx_pull_keys *keys,
		   struct hlx_plans_pull_result *res)
{
	struct pull pl;
	struct psync s, ns;
	struct hlx_plans_head h;
	struct hlx_plans *p = NULL;
	struct hlx_buf url = HLX_BUF_INIT, text = HLX_BUF_INIT;
	struct hlx_fetch_result fr;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&pl, 0, sizeof(pl));
	memset(&h, 0, sizeof(h));
	memset(&ns, 0, sizeof(ns));
	pl.n = n;
	pl.peer = peer;
	pl.list = "plans";
	pl.f = f;
	pl.now = now;
	pl.keys = keys;
	rc = psync_read(n, peer->name, &s);
	if (rc)
		return rc;
	if (strcmp(s.url, peer->url)) {
		/* the peer's feed moved (another audience's, say): its seq
		 * starts anew; what was taken stays, since acts only add up */
		psync_free(&s);
		memset(&s, 0, sizeof(s));
	}
	rc = hlx_fetch_join(peer->url, HLX_PLANS_FEED_HEAD, &url);
	if (!rc)
		rc = hlx_fetch_get(f, (char *)url.data, SEALED_MAX(HLX_PLANS_HEAD_MAX),
				   s.etag, s.last_modified, &text, &fr);
	if (rc == HLX_ENOENT) { /* the peer publishes no plans */
		hlx_err_clear();
		res->none = 1;
		rc = HLX_OK;
		goto out;
	}
	if (rc)
		goto fail;
	if (fr.not_modified) {
		res->not_modified = 1;
		goto out;
	}
	rc = check_plans_head(&pl, &text, &h);
	if (rc)
		goto fail;
	/* step 2: no rollback, no fork */
	plans_digest(&h, ns.plans);
	if (h.seq < s.seq)
		rc = hlx_err(HLX_EUNTRUSTED, "plans head seq %llu, below the %llu verified (rollback)",
			     (unsigned long long)h.seq, (unsigned long long)s.seq);
	else if (h.seq == s.seq && strcmp(ns.plans, s.plans))
		rc = hlx_err(HLX_EUNTRUSTED, "plans head seq %llu lists other plans than the one verified with that seq (a fork)",
			     (unsigned long long)h.seq);
	if (!rc)
		rc = hlx_plans_load(n, &p);
	if (!rc)
		rc = hlx_plans_add_chain(p, pl.trust);
	if (!rc && h.n && !(ns.taken = calloc(h.n, 65)))
		rc = hlx_err(HLX_ENOMEM, "plans");
	for (size_t i = 0; !rc && i < h.n; i++) {
		int whole = 1;
		size_t added = 0;

		if (!taken(&s, h.v[i].bundle)) {
			rc = pull_bundle(&pl, p, &h.v[i], &whole, &added);
			res->fetched++;
			res->added += added;
		}
		if (!rc && whole)
			memcpy(ns.taken[ns.ntaken++], h.v[i].bundle, 65);
	}
	if (rc)
		goto fail;
	/* step 5: the chain, the plans, then what was verified */
	if (pl.trust_new)
		rc = hlx_pull_save_trust(&pl);
	if (!rc)
		rc = hlx_plans_save(p);
	ns.seq = h.seq;
	snprintf(ns.etag, sizeof(ns.etag), "%s", fr.etag);
	snprintf(ns.last_modified, sizeof(ns.last_modified), "%s", fr.last_modified);
	ns.last_ok = now;
	snprintf(ns.url, sizeof(ns.url), "%s", peer->url);
	if (!rc)
		rc = psync_write(n, peer->name, &ns);
	if (rc)
		goto fail;
	perror_note(n, peer->name, "");
	res->seq = h.seq;
	res->changed = res->added > 0;
	goto out;
fail:
	{
		char why[512];

		snprintf(why, sizeof(why), "%s", hlx_err_detail());
		perror_note(n, peer->name, why);
		hlx_err(rc, "%s", why);
	}
out:
	hlx_plans_free(p);
	hlx_plans_head_free(&h);
	psync_free(&s);
	psync_free(&ns);
	hlx_trust_free(pl.trust);
	hlx_buf_free(&url);
	hlx_buf_free(&text);
	return rc;
}
