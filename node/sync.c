/* SPDX-License-Identifier: MIT */
#include "node/sync.h"
#include "node/files.h"
#include "node/packs.h"
#include "node/prune.h"
#include "node/retention.h"
#include "keys/seal.h"
#include "keys/keyfile.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "protocol/err.h"
#include "protocol/checkpoint.h"
#include "protocol/head.h"
#include "protocol/record.h"
#include "protocol/rtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLOCK_SKEW 300
/* A sealed file: at most 4096 recipients (keys/seal.h) around n bytes. */
#define SEALED_MAX(n) ((n) + (n) / 16 + 4096 * 80 + 1024)


/* ---- sync state --------------------------------------------------------- */

/* Sync progress lives in peers/PEER/LIST.sync, not in the LMDB state, so
 * that a rejected feed leaves the state byte for byte as it was. */
static int state_path(struct hlx_node *n, const char *peer, const char *list,
		      char out[PATH_MAX])
{
	return hlx_pathf(out, "%s/peers/%s/%s.sync",
			 hlx_home_dir(hlx_node_home(n)), peer, list);
}

int hlx_sync_state_get(struct hlx_node *n, const char *peer, const char *list,
		       struct hlx_sync_state *out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = state_path(n, peer, list, path);
	if (!rc)
		rc = hlx_file_read(path, 4096, &b);
	if (!rc) {
		/* etag, last_modified, last_try, last_ok, remote, expires,
		 * error: one a line */
		char *s = (char *)b.data, *f[7];
		int i = 0;

		for (f[i++] = s; i < 7 && (s = strchr(s, '\n')); f[i++] = ++s)
			*s = '\0';
		if (i == 7) {
			char *nl = strchr(f[6], '\n');

			if (nl)
				*nl = '\0';
			snprintf(out->etag, sizeof(out->etag), "%s", f[0]);
			snprintf(out->last_modified, sizeof(out->last_modified), "%s", f[1]);
			out->last_try = strtoll(f[2], NULL, 10);
			out->last_ok = strtoll(f[3], NULL, 10);
			out->remote_version = strtoull(f[4], NULL, 10);
			out->expires = strtoll(f[5], NULL, 10);
			snprintf(out->error, sizeof(out->error), "%s", f[6]);
		}
	}
	hlx_buf_free(&b);
	return rc == HLX_ENOENT ? HLX_OK : rc;
}

static int state_put(struct hlx_node *n, const char *peer, const char *list,
		     const struct hlx_sync_state *s)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc;

	rc = hlx_pathf(path, "%s/peers/%s", hlx_home_dir(hlx_node_home(n)), peer);
	if (!rc)
		rc = hlx_file_mkdirs(path, 0755);
	if (!rc)
		rc = state_path(n, peer, list, path);
	if (!rc)
		rc = hlx_buf_printf(&b, "%s\n%s\n%" PRId64 "\n%" PRId64 "\n%" PRIu64
				    "\n%" PRId64 "\n%s\n",
				    s->etag, s->last_modified, s->last_try, s->last_ok,
				    s->remote_version, s->expires, s->error);
	if (!rc)
		rc = hlx_file_write(path, b.data, b.len, 0644);
	hlx_buf_free(&b);
	return rc;
}

/* ---- pulling ------------------------------------------------------------ */

struct pull {
	struct hlx_node *n;
	const struct hlx_peer *peer;
	const char *list;
	struct hlx_fetch *f;
	int64_t now;
	char full[PATH_MAX];                /* PEER/LIST */
	struct hlx_trust *trust;            /* the peer's, verified */
	int trust_new;                      /* longer than the one stored */
	struct hlx_head head;
	int status;                         /* a status log, not a list */
	struct hlx_pull_keys *keys;         /* for sealed feeds */
};

static int box_key(struct pull *p);

/* The audience a feed URL names: its path ends in a/ID/ (or a/ID) with ID
 * 32 lowercase hex digits (spec/sync.md section 8); "" for the open feed. */
static void url_audience(const char *url, char out[33])
{
	size_t n = strlen(url);

	out[0] = '\0';
	if (n && url[n - 1] == '/')
		n--;
	if (n < 35 || memcmp(url + n - 35, "/a/", 3) != 0)
		return;
	for (size_t i = n - 32; i < n; i++)
		if (!((url[i] >= '0' && url[i] <= '9') || (url[i] >= 'a' && url[i] <= 'f')))
			return;
	memcpy(out, url + n - 32, 32);
	out[32] = '\0';
}

/* A file of the feed as fetched: opened if sealed to us (keys/seal.h). */
static int open_sealed(struct pull *p, const char *rel, struct hlx_buf *b,
		       size_t max)
{
	struct hlx_buf plain = HLX_BUF_INIT;
	char ctx[PATH_MAX];
	int rc;

	if (!hlx_seal_is(b->data, b->len))
		return HLX_OK;
	rc = box_key(p);
	if (!rc)
		rc = hlx_pathf(ctx, "hlx-feed:%s", rel);
	if (!rc)
		rc = hlx_unseal_buf(b->data, b->len, p->keys->box, ctx, max, &plain);
	if (rc) {
		hlx_buf_free(&plain);
		return hlx_err_wrap(rc, "'%s' of peer '%s'", rel, p->peer->name);
	}
	hlx_buf_free(b);
	*b = plain;
	return HLX_OK;
}

static int box_key(struct pull *p)
{
	if (!p->keys)
		return hlx_err(HLX_EPERM, "the feed is encrypted and no box key is at hand");
	if (p->keys->box)
		return HLX_OK;
	return hlx_home_box_key(hlx_node_home(p->n), p->keys->getpass, p->keys->ctx,
				&p->keys->box);
}

/* A fetched pack: replaced by its plain text if it is sealed. */
static int open_sealed_pack(struct pull *p, const char *rel, const char *file)
{
	struct hlx_file_new out = { .fd = -1, .dirfd = -1 };
	char magic[16], ctx[PATH_MAX];
	ssize_t got;
	int rc, in;

	in = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", file, strerror(errno));
	got = read(in, magic, sizeof(magic));
	if (got <= 0 || !hlx_seal_is(magic, (size_t)got)) {
		close(in);
		return HLX_OK;
	}
	rc = box_key(p);
	if (!rc)
		rc = hlx_pathf(ctx, "hlx-feed:%s", rel);
	if (!rc && lseek(in, 0, SEEK_SET) != 0)
		rc = hlx_err(HLX_EIO, "cannot read '%s'", file);
	/* the plain text replaces the file: a new file renamed over it */
	if (!rc)
		rc = hlx_file_new_open(&out, NULL, file, 0600);
	if (!rc)
		rc = hlx_unseal_fd(in, out.fd, p->keys->box, ctx, HLX_PACK_MAX);
	close(in);
	if (!rc)
		rc = hlx_file_new_commit(&out);
	else
		hlx_file_new_abort(&out);
	if (rc)
		return hlx_err_wrap(rc, "'%s' of peer '%s'", rel, p->peer->name);
	return HLX_OK;
}

/* The peer's trust chain: the one we hold, extended from its server when
 * the head names a longer one.  Never replaced by a shorter or a different
 * chain. */
static int peer_trust(struct pull *p)
{
	struct hlx_buf b = HLX_BUF_INIT, url = HLX_BUF_INIT;
	struct hlx_fetch_result fr;
	struct hlx_trust *have = NULL, *got = NULL;
	uint8_t h[32], at[32];
	char hex[65], path[PATH_MAX];
	int rc;

	rc = hlx_pathf(path, "%s/peers/%s/trust.json",
		       hlx_home_dir(hlx_node_home(p->n)), p->peer->name);
	if (rc)
		return rc;
	if (hlx_file_read(path, HLX_TRUST_MAX, &b) == HLX_OK) {
		rc = hlx_trust_load((char *)b.data, b.len, &p->peer->root, &have);
		if (rc)
			return hlx_err_wrap(rc, "the stored trust chain of peer '%s'",
					    p->peer->name);
		hlx_trust_head(have, h);
		sodium_bin2hex(hex, sizeof(hex), h, 32);
		if (hlx_trust_length(have) == p->head.trust_length &&
		    strcmp(hex, p->head.trust_head) == 0) {
			p->trust = have;
			hlx_buf_free(&b);
			return HLX_OK;
		}
		if (hlx_trust_length(have) > p->head.trust_length) {
			rc = hlx_err(HLX_EUNTRUSTED,
				     "head names trust chain length %" PRIu64
				     ", shorter than the %" PRIu64 " statements we hold (rollback)",
				     p->head.trust_length, hlx_trust_length(have));
			goto out;
		}
	}
	hlx_buf_reset(&b);
	rc = hlx_fetch_join(p->peer->url, "trust.json", &url);
	if (!rc)
		rc = hlx_fetch_get(p->f, (char *)url.data, SEALED_MAX(HLX_TRUST_MAX),
				   NULL, NULL, &b, &fr);
	if (!rc)
		rc = open_sealed(p, "trust.json", &b, HLX_TRUST_MAX);
	if (!rc)
		rc = hlx_trust_load((char *)b.data, b.len, &p->peer->root, &got);
	if (rc) {
		rc = hlx_err_wrap(rc, "trust chain of peer '%s'", p->peer->name);
		goto out;
	}
	if (have) {
		/* it must extend what we hold */
		hlx_trust_head(have, h);
		if (hlx_trust_length(got) < hlx_trust_length(have) ||
		    hlx_trust_head_at(got, hlx_trust_length(have), at) ||
		    sodium_memcmp(at, h, 32) != 0) {
			rc = hlx_err(HLX_EUNTRUSTED,
				     "the trust chain of peer '%s' does not extend the one we hold",
				     p->peer->name);
			goto out;
		}
	}
	hlx_trust_head(got, h);
	sodium_bin2hex(hex, sizeof(hex), h, 32);
	if (hlx_trust_length(got) != p->head.trust_length ||
	    strcmp(hex, p->head.trust_head) != 0) {
		rc = hlx_err(HLX_EUNTRUSTED,
			     "the head names a trust chain that peer '%s' does not serve",
			     p->peer->name);
		goto out;
	}
	/* kept in memory: stored only once the pull succeeds */
	p->trust = got;
	p->trust_new = 1;
	got = NULL;
out:
	hlx_trust_free(have);
	hlx_trust_free(got);
	hlx_buf_free(&b);
	hlx_buf_free(&url);
	return rc;
}

static int save_peer_trust(struct pull *p)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc = hlx_trust_serialize(p->trust, &b);

	if (!rc)
		rc = hlx_pathf(path, "%s/peers/%s",
			       hlx_home_dir(hlx_node_home(p->n)), p->peer->name);
	if (!rc)
		rc = hlx_file_mkdirs(path, 0755);
	if (!rc)
		rc = hlx_pathf(path, "%s/peers/%s/trust.json",
			       hlx_home_dir(hlx_node_home(p->n)), p->peer->name);
	if (!rc)
		rc = hlx_file_write(path, b.data, b.len, 0644);
	hlx_buf_free(&b);
	return rc;
}

/* Signature of the head by a key the peer's chain lets sign at issue time. */
static int verify_head(struct pull *p, const struct hlx_buf *body,
		       const struct hlx_buf *sig)
{
	struct hlx_sshsig *s = NULL;
	int rc;

	rc = hlx_sshsig_parse_armor((const char *)sig->data, sig->len, &s);
	if (!rc)
		rc = hlx_sshsig_verify(s, HLX_HEAD_NAMESPACE, body->data, body->len);
	if (!rc)
		rc = hlx_trust_check(p->trust, hlx_sshsig_signer(s), p->head.issued);
	hlx_sshsig_free(s);
	if (rc)
		return hlx_err_wrap(rc, "head signature");
	/* A head is made after the chain it names: a key revoked in that
	 * chain cannot sign a head dated before its revocation. */
	if (p->head.issued < hlx_trust_last_time(p->trust))
		return hlx_err(HLX_EUNTRUSTED,
			       "the head is issued before the last change of the trust chain it names");
	return HLX_OK;
}

/* The committer time of a commit's (signed) content, or -1. */
static int64_t commit_time(const struct hlx_buf *data)
{
	const char *s = (const char *)data->data, *end = s + data->len, *p, *nl;

	for (p = s; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || nl == p)
			break; /* the headers end at the first empty line */
		if ((size_t)(nl - p) > 10 && memcmp(p, "committer ", 10) == 0) {
			/* "committer NAME <EMAIL> SECONDS +ZZZZ" */
			const char *gt = memrchr(p, '>', (size_t)(nl - p));
			char *e;
			long long t;

			if (!gt || gt + 2 >= nl)
				return -1;
			t = strtoll(gt + 2, &e, 10);
			return e > gt + 2 && *e == ' ' ? (int64_t)t : -1;
		}
	}
	return -1;
}

/* Every new commit: consecutive versions back to what we hold, each
 * signed by a key of the peer valid at its time. */
static int verify_commits(struct pull *p, struct hlx_hist *h, const char *have,
			  uint64_t have_version)
{
	struct hlx_buf sig = HLX_BUF_INIT, data = HLX_BUF_INIT;
	struct hlx_hist_version v;
	char oid[41];
	uint64_t want = p->head.version;
	int rc = HLX_OK;

	memcpy(oid, p->head.commit, sizeof(oid));
	while (!rc && want > have_version) {
		struct hlx_sshsig *s = NULL;

		/* the signature first: it needs only the commit itself */
		rc = hlx_hist_signature(h, oid, &sig, &data);
		if (!rc)
			rc = hlx_sshsig_parse_armor((char *)sig.data, sig.len, &s);
		if (!rc)
			rc = hlx_sshsig_verify(s, "git", data.data, data.len);
		if (!rc)
			rc = hlx_trust_check(p->trust, hlx_sshsig_signer(s),
					     commit_time(&data));
		if (!rc) {
			rc = hlx_hist_read_version(h, oid, &v);
			/* the commit is there and signed, its parent is not:
			 * right after ours, that parent is not our version */
			if (rc == HLX_ENOENT && have_version > 0 &&
			    want == have_version + 1) {
				hlx_sshsig_free(s);
				rc = hlx_err(HLX_EUNTRUSTED,
					     "a fork: version %" PRIu64 " (%s) does not follow version %"
					     PRIu64 " we hold (%s)", want, oid, have_version, have);
				break;
			}
		}
		if (!rc && v.version != want)
			rc = hlx_err(HLX_EUNTRUSTED, "the commit says version %" PRIu64,
				     v.version);
		hlx_sshsig_free(s);
		if (rc) {
			rc = hlx_err_wrap(rc == HLX_EBADSIG || rc == HLX_EREVOKED ||
					  rc == HLX_EEXPIRED ? rc : HLX_EUNTRUSTED,
					  "version %" PRIu64 " (%s)", want, oid);
			break;
		}
		memcpy(oid, v.parent, sizeof(oid));
		want--;
	}
	if (!rc && strcmp(oid, have) != 0)
		rc = hlx_err(HLX_EUNTRUSTED,
			     "a fork: the new versions do not descend from version %"
			     PRIu64 " we hold (%s)", have_version, have);
	hlx_buf_free(&sig);
	hlx_buf_free(&data);
	return rc;
}

/* Changes between two versions, collected before anything is applied. */
struct delta {
	struct hlx_buf arena;
	size_t *off, n, cap;     /* lines, with a leading '+' or '-' */
	int status;
	uint64_t added, removed;
};

static int delta_line(void *ctx, const char *line, size_t len, int added)
{
	struct delta *d = ctx;
	size_t off = d->arena.len;
	int rc;

	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 1024;
		size_t *x = realloc(d->off, nc * sizeof(*x));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		d->off = x;
		d->cap = nc;
	}
	rc = hlx_buf_putc(&d->arena, added ? '+' : '-');
	if (!rc)
		rc = hlx_buf_put(&d->arena, line, len);
	if (!rc)
		d->off[d->n++] = off;
	return rc;
}

/* Every line of the delta decodes as the list's kind of record: checked
 * before anything is applied. */
static int check_delta(const struct delta *d)
{
	struct hlx_entry *e = malloc(sizeof(*e));
	struct hlx_status *st = malloc(sizeof(*st));
	int rc = e && st ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	for (size_t i = 0; i < d->n && !rc; i++) {
		const char *l = (const char *)d->arena.data + d->off[i] + 1;
		size_t len = (i + 1 < d->n ? d->off[i + 1] : d->arena.len) -
			     d->off[i] - 1;

		rc = d->status ? hlx_status_decode(l, len, st) :
				 hlx_entry_decode(l, len, e);
		if (rc)
			rc = hlx_err_wrap(HLX_EINVAL, "a line of the feed");
	}
	free(e);
	free(st);
	return rc;
}

/* Apply the delta to the state.  A peer's list with a retention period
 * records when each entry arrived; an entry purged here stays out of the
 * state (also when the peer changes it) until the peer retracts it. */
static int apply_delta(struct hlx_store_txn *t, uint32_t list, struct delta *d,
		       int retention, int64_t now)
{
	struct hlx_entry *e = malloc(sizeof(*e));
	struct hlx_status *st = malloc(sizeof(*st));
	char *skip = calloc(d->n + 1, 1);
	int rc = e && st && skip ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	/* removals first: a changed entry comes as a removal and an addition */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (size_t i = 0; i < d->n && !rc; i++) {
			const char *l = (const char *)d->arena.data + d->off[i];
			size_t len = (i + 1 < d->n ? d->off[i + 1] : d->arena.len) -
				     d->off[i] - 1;
			const struct hlx_hash *h;
			const char *tab;
			int purged = 0;

			if ((l[0] == '+') != pass || skip[i])
				continue;
			l++;
			rc = d->status ? hlx_status_decode(l, len, st) :
					 hlx_entry_decode(l, len, e);
			if (rc) {
				rc = hlx_err_wrap(HLX_EINVAL, "a line of the feed");
				break;
			}
			h = d->status ? &st->item : &e->hash;
			tab = memchr(l, '\t', len);
			rc = hlx_store_is_purged(t, list, h, &purged);
			if (rc)
				break;
			if (pass == 0) {
				/* changed, when its addition follows */
				const char *nx = i + 1 < d->n ?
					(const char *)d->arena.data + d->off[i + 1] : NULL;
				size_t nxlen = !nx ? 0 :
					(i + 2 < d->n ? d->off[i + 2] : d->arena.len) -
					d->off[i + 1];
				size_t fl = (size_t)(tab - l) + 1;
				int changed = nx && nx[0] == '+' && nxlen > fl &&
					      !memcmp(nx + 1, l, fl);

				if (purged && changed) {
					skip[i + 1] = 1; /* stays purged */
				} else if (purged) {
					rc = hlx_store_unpurge(t, list, h, NULL);
				} else {
					rc = hlx_store_del(t, list, h);
					/* the clock runs from the first arrival */
					if (!rc && !changed)
						rc = hlx_store_received_del(t, list, h);
					d->removed++;
				}
			} else if (!purged) {
				rc = hlx_store_put(t, list, h, tab + 1,
						   len - (size_t)(tab - l) - 2);
				if (!rc && retention)
					rc = hlx_store_received_put(t, list, h, now);
				d->added++;
			}
		}
	}
	free(e);
	free(st);
	free(skip);
	return rc;
}

/* Fetch the packs of versions from..to into a staging repository. */
static int fetch_packs(struct pull *p, const char *staging, uint64_t from,
		       uint64_t to)
{
	struct hlx_buf url = HLX_BUF_INIT;
	struct hlx_fetch_result pfr;
	char rel[PATH_MAX], file[PATH_MAX];
	int rc = HLX_OK;

	for (uint64_t v = from; !rc && v <= to; v++) {
		int fd;

		rc = hlx_pathf(rel, "lists/%s/packs/%" PRIu64 ".pack", p->list, v);
		hlx_buf_reset(&url);
		if (!rc)
			rc = hlx_fetch_join(p->peer->url, rel, &url);
		if (!rc)
			rc = hlx_pathf(file, "%s/incoming-%" PRIu64 ".pack", staging, v);
		if (rc)
			break;
		/* a new file: a leftover of a killed run goes first */
		if (unlink(file) != 0 && errno != ENOENT) {
			rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", file,
				     strerror(errno));
			break;
		}
		rc = hlx_file_create(file, 0600, &fd);
		if (rc)
			break;
		rc = hlx_fetch_to_fd(p->f, (char *)url.data, SEALED_MAX(HLX_PACK_MAX),
				     fd, &pfr);
		close(fd);
		if (!rc)
			rc = open_sealed_pack(p, rel, file);
		if (!rc)
			rc = hlx_pack_index(staging, file);
		if (rc)
			rc = hlx_err_wrap(rc, "pack of version %" PRIu64, v);
		unlink(file);
	}
	hlx_buf_free(&url);
	return rc;
}

struct backfill {
	struct hlx_store_txn *t;
	uint32_t list;
	int64_t now;
};

static int backfill_line(void *ctx, const char *line, size_t len)
{
	struct backfill *b = ctx;
	const char *tab = memchr(line, '\t', len);
	struct hlx_hash h;
	int rc;

	if (!tab)
		return hlx_err(HLX_EHISTORY, "malformed line in history");
	rc = hlx_hash_parse_canonical(line, (size_t)(tab - line), &h);
	if (!rc)
		rc = hlx_store_received_put(b->t, b->list, &h, b->now);
	return rc;
}

/* The handling rules of the verified head, kept before the data they
 * govern.  When a retention period starts for a list held already, its
 * entries' clocks start now (first, so that a crash repeats it). */
static int save_rules(struct pull *p, const struct hlx_list_rec *rec)
{
	struct hlx_rules r, was;
	int rc;

	if (p->head.has_rules)
		r = p->head.rules;
	else
		hlx_rules_init(&r);
	rc = hlx_retention_rules(p->n, p->full, &was);
	if (!rc && rec && rec->version && r.retention_days > 0 &&
	    was.retention_days == 0) {
		struct backfill b = { NULL, rec->id, p->now };
		struct hlx_hist *h = NULL;

		rc = hlx_list_open_hist(p->n, p->full, &h);
		if (!rc)
			rc = hlx_store_begin(hlx_node_store(p->n), &b.t);
		if (!rc)
			rc = hlx_hist_foreach(h, rec->head, backfill_line, &b);
		if (!rc) {
			rc = hlx_store_commit(b.t);
			b.t = NULL;
		}
		hlx_store_abort(b.t);
		hlx_hist_free(h);
	}
	if (!rc)
		rc = hlx_retention_save_rules(p->n, p->peer->name, p->list, &r);
	return rc;
}

/* The peer's checkpoint for a list (spec/prune.md section 6, steps 2 and
 * 3), when the peer pruned it since we last looked: verified, with how
 * what we hold continues in the new history.  cont->kind 0: none new. */
static int pull_checkpoint(struct pull *p, const struct hlx_list_rec *rec,
			   const char *repo, struct hlx_buf *text,
			   struct hlx_checkpoint *c, struct hlx_prune_cont *cont)
{
	struct hlx_buf url = HLX_BUF_INIT, held = HLX_BUF_INIT, hb = HLX_BUF_INIT,
		       hs = HLX_BUF_INIT;
	struct hlx_checkpoint hc;
	struct hlx_prune_have have;
	struct hlx_hist *h = NULL;
	char rel[PATH_MAX], path[PATH_MAX], tree[41] = "", replaces[41];
	int rc;

	memset(cont, 0, sizeof(*cont));
	hlx_checkpoint_init(&hc);
	rc = hlx_pathf(rel, "lists/%s/checkpoint", p->list);
	if (!rc)
		rc = hlx_fetch_join(p->peer->url, rel, &url);
	if (!rc)
		rc = hlx_fetch_get(p->f, (char *)url.data,
				   SEALED_MAX(HLX_CHECKPOINT_MAX), NULL, NULL, text,
				   NULL);
	if (rc == HLX_ENOENT) {
		/* never pruned */
		hlx_err_clear();
		rc = HLX_OK;
		goto out;
	}
	if (!rc)
		rc = open_sealed(p, rel, text, HLX_CHECKPOINT_MAX);
	if (rc)
		goto out;
	memset(&have, 0, sizeof(have));
	have.org = p->head.org;
	have.list = p->list;
	have.version = rec->version;
	have.commit = rec->head;
	have.tree = tree;
	have.held_issued = -1;
	if (rec->version) {
		rc = hlx_pathf(path, "%s/" HLX_PRUNE_CHECKPOINT_FILE, repo);
		if (!rc && hlx_file_read(path, HLX_CHECKPOINT_MAX, &held) == HLX_OK) {
			if (held.len == text->len &&
			    !memcmp(held.data, text->data, text->len))
				goto out; /* the one we hold */
			if (hlx_checkpoint_parse((char *)held.data, held.len, &hc,
						 &hb, &hs) == HLX_OK)
				have.held_issued = hc.issued;
		}
		hlx_err_clear();
		if (!rc)
			rc = hlx_hist_open(repo, 0, &h);
		if (!rc)
			rc = hlx_hist_commit_info(h, rec->head, tree, replaces);
		if (rc)
			goto out;
	}
	rc = hlx_prune_checkpoint_verify((char *)text->data, text->len, p->trust,
					 &have, p->now, c, cont);
	if (rc)
		rc = hlx_err_wrap(rc, "checkpoint of '%s'", p->list);
out:
	hlx_hist_free(h);
	hlx_checkpoint_free(&hc);
	hlx_buf_free(&url);
	hlx_buf_free(&held);
	hlx_buf_free(&hb);
	hlx_buf_free(&hs);
	return rc;
}

/* Adopt a peer's pruned history (spec/prune.md section 6, steps 4 to 9):
 * fetched and verified whole in R.new, then swapped in with the state.
 * Without a checkpoint (c NULL), a whole new history from version 1: a
 * peer's feed moved to another URL (another audience's view). */
static int pull_pruned(struct pull *p, struct hlx_list_rec *rec, int have_rec,
		       const char *repo, const struct hlx_buf *text,
		       const struct hlx_checkpoint *c,
		       const struct hlx_prune_cont *cont,
		       struct hlx_pull_result *res)
{
	const char *home = hlx_home_dir(hlx_node_home(p->n));
	struct delta d = { HLX_BUF_INIT, NULL, 0, 0, p->status, 0, 0 };
	struct hlx_hist *stage = NULL;
	struct hlx_store_txn *t = NULL;
	char nw[PATH_MAX], file[PATH_MAX], oldhead[41], keep[PATH_MAX];
	uint64_t before = c ? c->before : 1;
	int rc, intent = 0, built = 0;

	snprintf(oldhead, sizeof(oldhead), "%s", rec->head);
	rc = hlx_prune_new_path(repo, nw);
	if (!rc)
		rc = hlx_rm_rf(nw);
	if (!rc && !have_rec) {
		rc = hlx_pathf(file, "%s/lists/%s", home, p->peer->name);
		if (!rc)
			rc = hlx_file_mkdirs(file, 0755);
	}
	if (!rc)
		rc = hlx_pack_stage(have_rec ? repo : NULL, nw);
	built = !rc;
	if (!rc)
		rc = fetch_packs(p, nw, before, p->head.version);
	if (!rc)
		rc = hlx_hist_open(nw, 0, &stage);
	if (!rc)
		rc = hlx_hist_set_head(stage, NULL, p->head.commit);
	/* every commit down to the checkpoint root, then the checkpoint's
	 * word for each version it covers */
	if (!rc)
		rc = verify_commits(p, stage, "", before - 1);
	if (!rc && c)
		rc = hlx_prune_check_history(stage, c);
	if (!rc)
		rc = hlx_hist_check_chain(stage);
	/* the delta, while the old mirror's objects are still visible */
	if (!rc)
		rc = hlx_hist_diff(stage,
				   cont && cont->kind == HLX_PRUNE_MAPPED ? cont->new_commit :
				   rec->head[0] ? rec->head : NULL,
				   p->head.commit, delta_line, &d);
	if (!rc)
		rc = check_delta(&d);
	/* self-contained: nothing of the old history is needed any more */
	hlx_hist_free(stage);
	stage = NULL;
	/* and only what was verified: the objects the new head reaches,
	 * packed afresh, in place of the packs the feed sent */
	if (!rc)
		rc = hlx_pathf(keep, "%s/keep", nw);
	if (!rc)
		rc = hlx_pack_keep(nw, p->head.commit, NULL, keep);
	if (!rc)
		rc = hlx_pack_drop(nw);
	if (!rc)
		rc = hlx_pack_adopt(keep, nw);
	if (!rc && rmdir(keep) != 0)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", keep, strerror(errno));
	if (!rc && hlx_pathf(file, "%s/objects/info/alternates", nw) == HLX_OK &&
	    unlink(file) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", file, strerror(errno));
	if (!rc)
		rc = hlx_hist_open(nw, 0, &stage);
	if (!rc)
		rc = hlx_hist_check_chain(stage);
	hlx_hist_free(stage);
	stage = NULL;
	if (!rc && c)
		rc = hlx_pathf(file, "%s/" HLX_PRUNE_CHECKPOINT_FILE, nw);
	if (!rc && c)
		rc = hlx_file_write(file, text->data, text->len, 0644);
	if (!rc)
		rc = hlx_prune_sync_tree(nw);
	if (!rc)
		rc = save_rules(p, have_rec ? rec : NULL);
	if (rc)
		goto out;
	/* apply: intent, state, swap.  A new mirror first gets an empty
	 * repository and its record, so that recovery always has both. */
	if (!have_rec) {
		struct hlx_hist *empty = NULL;

		rc = hlx_hist_open(repo, 1, &empty);
		hlx_hist_free(empty);
		if (!rc)
			rc = hlx_store_list_create(hlx_node_store(p->n), p->full,
						   p->head.org, rec);
		if (rc)
			goto out;
	}
	rc = hlx_prune_intent(repo, oldhead, p->head.commit);
	if (rc)
		goto out;
	intent = 1;
	built = 0;
	rc = hlx_store_begin(hlx_node_store(p->n), &t);
	if (!rc)
		rc = apply_delta(t, rec->id, &d, p->head.has_rules &&
				 p->head.rules.retention_days > 0, p->now);
	if (!rc) {
		res->from = rec->version;
		rec->version = p->head.version;
		memcpy(rec->head, p->head.commit, sizeof(rec->head));
		rec->count = rec->count + d.added - d.removed;
		rec->updated = p->head.issued;
		rc = hlx_store_set_list(t, rec);
	}
	if (rc) {
		hlx_store_abort(t);
		t = NULL;
		if (intent)
			hlx_prune_abandon(repo);
		goto out;
	}
	rc = hlx_store_commit(t);
	t = NULL;
	if (!rc)
		rc = hlx_prune_replace_repo(repo);
	if (!rc) {
		int done;

		rc = hlx_prune_reset_match(p->n, &done);
	}
	if (!rc) {
		res->changed = 1;
		res->pruned = 1;
		res->to = rec->version;
		res->added = d.added;
		res->removed = d.removed;
	}
out:
	hlx_store_abort(t);
	hlx_hist_free(stage);
	if (built)
		hlx_rm_rf(nw);
	hlx_buf_free(&d.arena);
	free(d.off);
	return rc;
}

static int do_pull(struct pull *p, struct hlx_sync_state *ss,
		   struct hlx_pull_result *res)
{
	struct hlx_buf text = HLX_BUF_INIT, body = HLX_BUF_INIT, sig = HLX_BUF_INIT,
		       url = HLX_BUF_INIT;
	struct hlx_fetch_result fr;
	struct hlx_list_rec rec;
	struct hlx_hist *mirror = NULL, *stage = NULL;
	struct hlx_store_txn *t = NULL;
	struct delta d = { HLX_BUF_INIT, NULL, 0, 0, p->status, 0, 0 };
	struct hlx_buf cptext = HLX_BUF_INIT;
	struct hlx_checkpoint cp;
	struct hlx_prune_cont cont;
	char repo[PATH_MAX], staging[PATH_MAX], file[PATH_MAX], rel[PATH_MAX];
	char keep[PATH_MAX];
	const char *home = hlx_home_dir(hlx_node_home(p->n));
	int rc, have_rec, staged = 0, marked = 0;

	hlx_checkpoint_init(&cp);

	rc = hlx_pathf(rel, "lists/%s/head", p->list);
	if (!rc)
		rc = hlx_fetch_join(p->peer->url, rel, &url);	/* url is empty */
	if (!rc)
		rc = hlx_fetch_get(p->f, (char *)url.data, SEALED_MAX(HLX_HEAD_MAX),
				   ss->etag, ss->last_modified, &text, &fr);
	if (rc)
		goto out;
	if (fr.not_modified) {
		/* nothing new: but the head we verified last must still be
		 * fresh, or a server answering 304 for ever freezes us */
		if (ss->expires <= p->now) {
			char ts[HLX_TIME_TEXT];

			hlx_time_format(ss->expires, ts);
			rc = hlx_err(HLX_EEXPIRED,
				     "not modified, but the head expired at %s (a frozen feed?)",
				     ts);
			goto out;
		}
		res->not_modified = 1;
		goto out;
	}
	rc = hlx_pathf(rel, "lists/%s/head", p->list);
	if (!rc)
		rc = open_sealed(p, rel, &text, HLX_HEAD_MAX);
	if (!rc)
		rc = hlx_head_parse((char *)text.data, text.len, &p->head, &body, &sig);
	if (rc)
		goto out;
	/* the audience the head is for is the one the URL names */
	{
		char want[33];

		url_audience(p->peer->url, want);
		if (strcmp(p->head.audience, want) != 0) {
			rc = hlx_err(HLX_EUNTRUSTED,
				     "the head is for %s%s, the peer's URL names %s%s",
				     p->head.audience[0] ? "audience " : "the open feed",
				     p->head.audience, want[0] ? "audience " : "the open feed",
				     want);
			goto out;
		}
	}
	if (strcmp(p->head.list, p->list) != 0) {
		rc = hlx_err(HLX_EUNTRUSTED, "the head is for list '%s', not '%s'",
			     p->head.list, p->list);
		goto out;
	}
	rc = peer_trust(p);
	if (!rc && strcmp(hlx_trust_org(p->trust), p->head.org) != 0)
		rc = hlx_err(HLX_EUNTRUSTED, "the head is signed for '%s', the peer is '%s'",
			     p->head.org, hlx_trust_org(p->trust));
	if (!rc)
		rc = verify_head(p, &body, &sig);
	if (rc)
		goto out;
	if (p->head.expires <= p->now) {
		char ts[HLX_TIME_TEXT];

		hlx_time_format(p->head.expires, ts);
		rc = hlx_err(HLX_EEXPIRED, "the head expired at %s (a frozen feed?)", ts);
		goto out;
	}
	if (p->head.issued > p->now + CLOCK_SKEW) {
		rc = hlx_err(HLX_EUNTRUSTED, "the head is issued in the future");
		goto out;
	}
	/* what we hold */
	rc = hlx_list_get(p->n, p->full, &rec);
	have_rec = rc == HLX_OK;
	if (rc && rc != HLX_ENOENT)
		goto out;
	rc = HLX_OK;
	if (!have_rec) {
		memset(&rec, 0, sizeof(rec));
		hlx_err_clear();
	} else if (strcmp(rec.owner, p->head.org) != 0) {
		rc = hlx_err(HLX_EUNTRUSTED, "'%s' is held for '%s', the head is from '%s'",
			     p->full, rec.owner, p->head.org);
		goto out;
	}
	res->from = res->to = rec.version;
	/* The peer's feed moved ('hlx peer set --url'): behind the new URL
	 * may be another history of the list (another audience's view), so
	 * it is taken afresh, verified whole, the state following by a diff;
	 * a deliberate step of the operator, never a server's choice. */
	rc = hlx_peer_rebase_marked(home, p->peer->name, p->list, &marked);
	if (!rc && have_rec && rec.version && marked) {
		rc = hlx_pathf(repo, "%s/lists/%s.git", home, p->full);
		if (!rc && strcmp(p->head.commit, rec.head) != 0) {
			struct hlx_list_rec none = rec;

			none.version = 0;
			none.head[0] = '\0';
			rc = pull_checkpoint(p, &none, repo, &cptext, &cp, &cont);
			if (!rc)
				rc = pull_pruned(p, &rec, have_rec, repo, &cptext,
						 cont.kind ? &cp : NULL,
						 cont.kind ? &cont : NULL, res);
		} else if (!rc) {
			rc = save_rules(p, &rec); /* the same history */
		}
		if (!rc)
			rc = hlx_peer_rebase_clear(home, p->peer->name, p->list);
		if (rc)
			goto out;
		goto verified;
	}
	rc = HLX_OK;
	if (p->head.version < rec.version) {
		rc = hlx_err(HLX_EUNTRUSTED,
			     "rollback: the head is version %" PRIu64 ", we hold %" PRIu64,
			     p->head.version, rec.version);
		goto out;
	}
	/* a pruned history: the checkpoint says how ours continues */
	rc = hlx_pathf(repo, "%s/lists/%s.git", home, p->full);
	if (!rc)
		rc = pull_checkpoint(p, &rec, repo, &cptext, &cp, &cont);
	if (rc)
		goto out;
	if (cont.kind == HLX_PRUNE_MAPPED || cont.kind == HLX_PRUNE_REBASE) {
		rc = pull_pruned(p, &rec, have_rec, repo, &cptext, &cp, &cont, res);
		if (rc)
			goto out;
		goto verified;
	}
	if (p->head.version == rec.version) {
		if (strcmp(p->head.commit, rec.head) != 0)
			rc = hlx_err(HLX_EUNTRUSTED,
				     "the head names another commit for version %" PRIu64 " (a fork)",
				     rec.version);
		/* the newest verified head's rules apply */
		else if (have_rec)
			rc = save_rules(p, &rec);
		goto verified;
	}
	/* stage: fetch the packs of the missing versions into a repository
	 * that sees the mirror's objects, and verify every new commit there */
	rc = hlx_pathf(repo, "%s/lists/%s.git", home, p->full);
	if (!rc)
		rc = hlx_pathf(staging, "%s/staging/%s.%s.%ld", home,
			       p->peer->name, p->list, (long)getpid());
	if (rc)
		goto out;
	if (have_rec)
		rc = hlx_hist_open(repo, 0, &mirror);
	if (!rc)
		rc = hlx_pathf(file, "%s/staging", home);
	if (!rc)
		rc = hlx_file_mkdirs(file, 0755);
	if (!rc) {
		hlx_rm_rf(staging);
		rc = hlx_pack_stage(have_rec ? repo : NULL, staging);
		staged = !rc;
	}
	if (!rc)
		rc = hlx_hist_open(staging, 0, &stage);
	if (!rc)
		rc = fetch_packs(p, staging, rec.version + 1, p->head.version);
	if (!rc)
		rc = verify_commits(p, stage, rec.head, rec.version);
	/* the shape of every new version: lines in their shards, sorted,
	 * unique, canonical */
	if (!rc)
		rc = hlx_hist_check_chain(stage);
	if (!rc)
		rc = hlx_hist_diff(stage, rec.head[0] ? rec.head : NULL,
				   p->head.commit, delta_line, &d);
	if (!rc)
		rc = check_delta(&d);
	/* Keep only what was verified: one pack of the objects the new
	 * commits reach (and the mirror lacks), not what the feed sent. */
	if (!rc)
		rc = hlx_pathf(keep, "%s/keep", staging);
	if (!rc)
		rc = hlx_pack_keep(staging, p->head.commit,
				   rec.head[0] ? rec.head : NULL, keep);
	if (rc)
		goto out;
	/* Everything verified.  The handling rules first: they govern what
	 * is applied next (retention, onward sharing). */
	rc = save_rules(p, have_rec ? &rec : NULL);
	if (rc)
		goto out;
	/* Apply: objects, then state, then the ref. */
	if (!have_rec) {
		rc = hlx_pathf(file, "%s/lists/%s", home, p->peer->name);
		if (!rc)
			rc = hlx_file_mkdirs(file, 0755);
		if (!rc)
			rc = hlx_hist_open(repo, 1, &mirror);
		if (!rc)
			rc = hlx_store_list_create(hlx_node_store(p->n), p->full,
						   p->head.org, &rec);
		if (rc)
			goto out;
	}
	rc = hlx_store_begin(hlx_node_store(p->n), &t);
	if (!rc)
		rc = apply_delta(t, rec.id, &d, p->head.has_rules &&
				 p->head.rules.retention_days > 0, p->now);
	if (rc)
		goto out;
	rc = hlx_pack_adopt(keep, repo);
	if (rc)
		goto out;
	res->from = rec.version;
	{
		const char *old = rec.head[0] ? rec.head : NULL;
		char oldbuf[41];

		snprintf(oldbuf, sizeof(oldbuf), "%s", rec.head);
		rec.version = p->head.version;
		memcpy(rec.head, p->head.commit, sizeof(rec.head));
		rec.count = rec.count + d.added - d.removed;
		rec.updated = p->head.issued;
		rc = hlx_store_set_list(t, &rec);
		if (!rc) {
			rc = hlx_store_commit(t);
			t = NULL;
		}
		if (!rc)
			rc = hlx_hist_set_head(mirror, old ? oldbuf : NULL, p->head.commit);
	}
	if (rc)
		goto out;
	res->changed = 1;
	res->to = rec.version;
	res->added = d.added;
	res->removed = d.removed;
verified:
	if (!rc && p->trust_new)
		rc = save_peer_trust(p);
	if (!rc) {
		snprintf(ss->etag, sizeof(ss->etag), "%s", fr.etag);
		snprintf(ss->last_modified, sizeof(ss->last_modified), "%s",
			 fr.last_modified);
		ss->remote_version = p->head.version;
		ss->expires = p->head.expires;
	}
out:
	hlx_store_abort(t);
	hlx_hist_free(stage);
	hlx_hist_free(mirror);
	if (staged)
		hlx_rm_rf(staging);
	hlx_buf_free(&text);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&url);
	hlx_buf_free(&d.arena);
	free(d.off);
	hlx_buf_free(&cptext);
	hlx_checkpoint_free(&cp);
	return rc;
}

int hlx_pull(struct hlx_node *n, const struct hlx_peer *peer, const char *list,
	     struct hlx_fetch *f, int64_t now, struct hlx_pull_keys *keys,
	     struct hlx_pull_result *res)
{
	struct pull p = { .n = n, .peer = peer, .list = list, .f = f, .now = now,
			  .keys = keys };
	struct hlx_sync_state ss;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = hlx_name_check(list, strlen(list), "list");
	if (!rc)
		rc = hlx_pathf(p.full, "%s/%s", peer->name, list);
	if (rc)
		return rc;
	p.status = strcmp(list, "status") == 0;
	hlx_sync_state_get(n, peer->name, list, &ss);
	ss.last_try = now;
	rc = do_pull(&p, &ss, res);
	if (rc) {
		snprintf(ss.error, sizeof(ss.error), "%s", hlx_err_detail());
		for (char *c = ss.error; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		/* forget the validators: retry in full next time */
		ss.etag[0] = ss.last_modified[0] = '\0';
	} else {
		ss.error[0] = '\0';
		ss.last_ok = now;
	}
	{
		/* the sync record must not hide the pull's own error detail */
		char keep[512];
		int prc;

		snprintf(keep, sizeof(keep), "%s", hlx_err_detail());
		prc = state_put(n, peer->name, list, &ss);
		if (rc)
			hlx_err(rc, "%s", keep);
		else
			rc = prc;
	}
	hlx_trust_free(p.trust);
	return rc;
}
