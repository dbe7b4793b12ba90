/* SPDX-License-Identifier: MIT */
/*
 * The checks of what a peer's feed sends, and the steps that stage and
 * apply it (node/sync_int.h): sealed files, the peer's trust chain, the
 * head's signature, the new commits, the delta, the packs, the rules.
 * The phases of a pull that use them are in sync.c.
 */
#include "node/sync_int.h"
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
#include "protocol/case.h"
#include "protocol/checkpoint.h"
#include "protocol/head.h"
#include "protocol/record.h"
#include "protocol/rtime.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
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

static int box_key(struct pull *p);

/* The audience a feed URL names: its path ends in a/ID/ (or a/ID) with ID
 * 32 lowercase hex digits (spec/sync.md section 8); "" for the open feed. */
void hlx_pull_url_audience(const char *url, char out[33])
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
int hlx_pull_open_sealed(struct pull *p, const char *rel, struct hlx_buf *b,
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
int hlx_pull_peer_trust(struct pull *p)
{
	struct hlx_buf b = HLX_BUF_INIT, url = HLX_BUF_INIT;
	struct hlx_fetch_result fr;
	struct hlx_trust *have = NULL, *got = NULL;
	uint8_t h[32], at[32];
	char hex[65], path[PATH_MAX];
	int rc;

	rc = hlx_node_path(p->n, HLX_HOME_PEER_TRUST, p->peer->name, NULL, path);
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
		rc = hlx_pull_open_sealed(p, "trust.json", &b, HLX_TRUST_MAX);
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

int hlx_pull_save_trust(struct pull *p)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc = hlx_trust_serialize(p->trust, &b);

	if (!rc)
		rc = hlx_node_path(p->n, HLX_HOME_PEER, p->peer->name, NULL, path);
	if (!rc)
		rc = hlx_file_mkdirs(path, hlx_home_mode(HLX_HOME_PEER));
	if (!rc)
		rc = hlx_node_path(p->n, HLX_HOME_PEER_TRUST, p->peer->name, NULL, path);
	if (!rc)
		rc = hlx_file_write(path, b.data, b.len, hlx_home_mode(HLX_HOME_PEER_TRUST));
	hlx_buf_free(&b);
	return rc;
}

/* Signature of the head by a key the peer's chain lets sign at issue time. */
int hlx_pull_verify_head(struct pull *p, const struct hlx_buf *body,
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
int hlx_pull_verify_commits(struct pull *p, struct hlx_hist *h,
			    const char *have, uint64_t have_version)
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

/* A unit starts: the one before applied, or where it starts noted. */
static int delta_unit(struct delta *d)
{
	if (d->t)
		return hlx_pull_delta_flush(d);
	if (!d->back)
		return HLX_OK;
	if (d->ncut == d->cutcap) {
		size_t nc = d->cutcap ? d->cutcap * 2 : 256;
		size_t *x = realloc(d->cut, nc * sizeof(*x));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		d->cut = x;
		d->cutcap = nc;
	}
	d->cut[d->ncut++] = d->n;
	return HLX_OK;
}

/* A line into the delta: '+' or '-', then the line; or, for an added
 * line whose key was decoded when it was checked (key), '*', the key's
 * type, its length (two bytes, little-endian) and bytes, then the line,
 * so that it is not parsed again when it is applied. */
static int delta_put(struct delta *d, const char *line, size_t len, int added,
		     const struct hlx_hash *key)
{
	size_t off = d->arena.len;
	uint8_t *p;
	int rc;

	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 1024;
		size_t *x = realloc(d->off, nc * sizeof(*x));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		d->off = x;
		d->cap = nc;
	}
	rc = hlx_buf_reserve(&d->arena, 4 + (key ? key->len : 0) + len);
	if (rc)
		return rc;
	p = d->arena.data + off;
	if (key) {
		*p++ = '*';
		*p++ = (uint8_t)key->type;
		*p++ = (uint8_t)key->len;
		*p++ = (uint8_t)(key->len >> 8);
		memcpy(p, key->bytes, key->len);
		p += key->len;
	} else {
		*p++ = added ? '+' : '-';
	}
	memcpy(p, line, len);
	d->arena.len = (size_t)(p + len - d->arena.data);
	d->arena.data[d->arena.len] = '\0';
	d->off[d->n++] = off;
	return HLX_OK;
}

/* Line i of the delta (what delta_put put): its text, whether it is
 * added, and its key if it came with one (*keyed). */
static const char *delta_at(const struct delta *d, size_t i, size_t *len,
			    int *added, struct hlx_hash *key, int *keyed)
{
	const char *l = (const char *)d->arena.data + d->off[i];
	size_t end = i + 1 < d->n ? d->off[i + 1] : d->arena.len;
	size_t hl = 0;

	*keyed = l[0] == '*';
	*added = l[0] != '-';
	if (*keyed) {
		const uint8_t *k = (const uint8_t *)l + 1;

		hl = 3 + ((size_t)k[1] | (size_t)k[2] << 8);
		key->type = (enum hlx_hash_type)k[0];
		key->len = hl - 3;
		memcpy(key->bytes, k + 3, key->len);
	}
	*len = end - d->off[i] - 1 - hl;
	return l + 1 + hl;
}

int hlx_pull_delta_line(void *ctx, const char *line, size_t len, int added)
{
	struct delta *d = ctx;

	if (!line)
		return delta_unit(d);
	return delta_put(d, line, len, added, NULL);
}

/* A line of the list's kind: an entry, a status record or a case line;
 * *h (if h) is its key. */
static int delta_decode(int kind, const char *l, size_t len,
			struct hlx_entry *e, struct hlx_status *st,
			struct hlx_case_line *c, const struct hlx_hash **h)
{
	int rc;

	if (kind == HLX_LIST_STATUS) {
		rc = hlx_status_decode(l, len, st);
		if (h)
			*h = &st->item;
	} else if (kind == HLX_LIST_CASES) {
		rc = hlx_case_decode(l, len, c);
		if (h)
			*h = &c->id;
	} else {
		rc = hlx_entry_decode(l, len, e);
		if (h)
			*h = &e->hash;
	}
	return rc;
}

struct decoded {
	struct hlx_entry e;
	struct hlx_status st;
	struct hlx_case_line c;
};

int hlx_pull_delta_checked(void *ctx, const char *line, size_t len, int added)
{
	struct delta *d = ctx;
	struct decoded *x = d->scratch;
	const struct hlx_hash *key = NULL;

	if (added && line) {
		if (!x && !(x = d->scratch = malloc(sizeof(*x))))
			return hlx_err(HLX_ENOMEM, "out of memory");
		if (delta_decode(d->kind, line, len, &x->e, &x->st, &x->c, &key))
			return hlx_err_wrap(HLX_EINVAL, "a line of the feed");
		/* an entry's key is its first field: kept, not parsed again */
		if (d->kind != HLX_LIST_ENTRIES)
			key = NULL;
	}
	if (!line)
		return delta_unit(d);
	return delta_put(d, line, len, added, key);
}

/* Every line of the delta decodes as the list's kind of record: checked
 * before anything is applied. */
int hlx_pull_check_delta(const struct delta *d)
{
	struct hlx_entry *e = malloc(sizeof(*e));
	struct hlx_status *st = malloc(sizeof(*st));
	struct hlx_case_line *c = malloc(sizeof(*c));
	int rc = e && st && c ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	for (size_t i = 0; i < d->n && !rc; i++) {
		size_t len;
		int added, keyed;
		const char *l = delta_at(d, i, &len, &added, &e->hash, &keyed);

		rc = delta_decode(d->kind, l, len, e, st, c, NULL);
		if (rc)
			rc = hlx_err_wrap(HLX_EINVAL, "a line of the feed");
	}
	free(e);
	free(st);
	free(c);
	return rc;
}

static int append_line(void *ctx, const char *line, size_t len)
{
	return hlx_buf_put(ctx, line, len);
}

/* The content check of a cases log (spec/cases.md section 7.2): between
 * the version held (old, NULL for none) and the new one, every line
 * decodes and is in order, none was removed, lines only grow, and every
 * new time is at most the newest version's time and now + 300 s. */
int hlx_pull_check_cases(struct pull *p, struct hlx_hist *h, const char *old,
			 const char *new_)
{
	struct hlx_buf a = HLX_BUF_INIT, b = HLX_BUF_INIT;
	struct hlx_hist_version v;
	int rc = HLX_OK;

	if (old)
		rc = hlx_hist_foreach(h, old, append_line, &a);
	if (!rc)
		rc = hlx_hist_foreach(h, new_, append_line, &b);
	if (!rc)
		rc = hlx_hist_read_version(h, new_, &v);
	if (!rc)
		rc = hlx_case_log_check((const char *)a.data, a.len,
					(const char *)b.data, b.len, v.time,
					p->now);
	if (rc)
		rc = hlx_err_wrap(rc, "the cases log");
	hlx_buf_free(&a);
	hlx_buf_free(&b);
	return rc;
}

/* Apply lines lo..hi-1 of the delta to the state.  A peer's list with a
 * retention period records when each entry arrived; an entry purged here
 * stays out of the state (also when the peer changes it) until the peer
 * retracts it.  A changed entry's removal and addition are in one unit. */
static int apply_range(struct hlx_store_txn *t, uint32_t list,
		       struct delta *d, size_t lo, size_t hi, int retention,
		       int64_t now, int fresh)
{
	struct hlx_entry *e = malloc(sizeof(*e));
	struct hlx_status *st = malloc(sizeof(*st));
	struct hlx_case_line *c = malloc(sizeof(*c));
	char *skip = calloc(hi - lo + 1, 1); /* by i - lo */
	int any = 0, rc = e && st && c && skip ? HLX_OK :
		 hlx_err(HLX_ENOMEM, "out of memory");

	/* nothing of the list purged (the usual case): no keyed hash of
	 * every entry to find that out one by one */
	if (!rc)
		rc = hlx_store_any_purged(t, list, &any);

	/* removals first: a changed entry comes as a removal and an addition */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (size_t i = lo; i < hi && !rc; i++) {
			size_t len;
			int added, keyed;
			const char *l = (const char *)d->arena.data + d->off[i];
			const struct hlx_hash *h = &e->hash;
			const char *tab;
			int purged = 0;

			if ((l[0] != '-') != pass || skip[i - lo])
				continue;
			l = delta_at(d, i, &len, &added, &e->hash, &keyed);
			tab = memchr(l, '\t', len);
			/* an entry line was decoded whole when it was checked:
			 * its key is its first field (kept with it, or parsed) */
			if (d->kind == HLX_LIST_ENTRIES)
				rc = !tab ? HLX_EINVAL : keyed ? HLX_OK :
				     hlx_hash_parse_canonical(l, (size_t)(tab - l), &e->hash);
			else
				rc = delta_decode(d->kind, l, len, e, st, c, &h);
			if (rc || !tab) {
				rc = hlx_err_wrap(HLX_EINVAL, "a line of the feed");
				break;
			}
			if (any)
				rc = hlx_store_is_purged(t, list, h, &purged);
			if (rc)
				break;
			if (pass == 0) {
				/* changed, when its addition follows */
				struct hlx_hash nk;
				size_t nxlen = 0, fl = (size_t)(tab - l) + 1;
				int nxadded = 0, nxkeyed;
				const char *nx = i + 1 < hi ?
					delta_at(d, i + 1, &nxlen, &nxadded, &nk,
						 &nxkeyed) : NULL;
				int changed = nx && nxadded && nxlen >= fl &&
					      !memcmp(nx, l, fl);

				if (purged && changed) {
					skip[i + 1 - lo] = 1; /* stays purged */
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
				rc = (fresh ? hlx_store_put_new : hlx_store_put)(
					t, list, h, tab + 1, len - (size_t)(tab - l) - 2);
				if (!rc && retention)
					rc = hlx_store_received_put(t, list, h, now);
				d->added++;
			}
		}
	}
	free(e);
	free(st);
	free(c);
	free(skip);
	return rc;
}

int hlx_pull_apply_delta(struct hlx_store_txn *t, uint32_t list,
			 struct delta *d, int retention, int64_t now, int fresh)
{
	int rc = HLX_OK;

	if (!d->ncut)
		return apply_range(t, list, d, 0, d->n, retention, now, fresh);
	/* the units came last first; lines before the first mark (none
	 * are expected) came before it, so after it in order */
	for (size_t k = d->ncut; k-- > 0 && !rc;)
		rc = apply_range(t, list, d, d->cut[k],
				 k + 1 < d->ncut ? d->cut[k + 1] : d->n,
				 retention, now, fresh);
	if (!rc && d->cut[0])
		rc = apply_range(t, list, d, 0, d->cut[0], retention, now, fresh);
	return rc;
}

int hlx_pull_delta_flush(struct delta *d)
{
	int rc;

	if (!d->t || !d->n)
		return HLX_OK;
	rc = apply_range(d->t, d->list, d, 0, d->n, d->retention, d->now,
			 d->fresh);
	d->n = 0;
	d->arena.len = 0;
	return rc;
}

/* A pack's download, on a thread of its own, into the write end of a
 * pipe that the indexer reads as the bytes arrive. */
struct download {
	struct hlx_fetch *f;
	const char *url;
	int fd;                 /* the pipe's write end, closed at the end */
	int rc;
	char detail[512];       /* the error detail is per thread */
};

static void *download_run(void *arg)
{
	struct download *d = arg;
	struct hlx_fetch_result fr;
	struct timespec zero = { 0, 0 };
	sigset_t pipe_sig;

	/* a reader that stopped early (a refused pack) makes write(2) fail
	 * with EPIPE here instead of killing the process */
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	d->rc = hlx_fetch_to_fd(d->f, d->url, SEALED_MAX(HLX_PACK_MAX), d->fd, &fr);
	if (d->rc)
		snprintf(d->detail, sizeof(d->detail), "%s", hlx_err_detail());
	close(d->fd);
	while (sigtimedwait(&pipe_sig, NULL, &zero) == SIGPIPE)
		; /* taken: it was for this thread */
	return NULL;
}

/* Read up to n bytes of fd: fewer at its end, -1 on an error. */
static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Did the reader of pipe fd read it to its end (the writer closed it)?
 * Not if bytes are still there or still to come. */
static int at_end(int fd)
{
	uint8_t c;
	ssize_t r;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return 0;
	do
		r = read(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	return r == 0;
}

/* A sealed pack is opened whole: the rest of the stream into file. */
static int sealed_to_file(int in, const uint8_t *pre, size_t npre,
			  const char *file)
{
	uint8_t buf[65536];
	ssize_t r;
	int fd, rc;

	/* a new file: a leftover of a killed run goes first */
	if (unlink(file) != 0 && errno != ENOENT)
		return hlx_err(HLX_EIO, "cannot remove '%s': %s", file, strerror(errno));
	rc = hlx_file_create(file, 0600, &fd);
	if (rc)
		return rc;
	if (hlx_write_all(fd, pre, npre) != 0)
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", file, strerror(errno));
	while (!rc && (r = read_full(in, buf, sizeof(buf))) > 0)
		if (hlx_write_all(fd, buf, (size_t)r) != 0)
			rc = hlx_err(HLX_EIO, "cannot write '%s': %s", file,
				     strerror(errno));
	if (!rc && r < 0)
		rc = hlx_err(HLX_EIO, "cannot read a download: %s", strerror(errno));
	close(fd);
	return rc;
}

/* Fetch one version's pack and index it into staging as it arrives (a
 * sealed one once it is whole and opened).  *job (NULL on entry) is the
 * indexer of an open feed's pack, maybe still at work on success. */
static int fetch_pack(struct pull *p, const char *staging, const char *rel,
		      const char *url, uint64_t v, struct hlx_hist_blobs *blobs,
		      struct hlx_pack_job **job)
{
	struct download d = { p->f, url, -1, 0, "" };
	char file[PATH_MAX];
	uint8_t magic[16];
	pthread_t th;
	ssize_t nm;
	int pfd[2], rc, sealed = 0, stopped;

	rc = hlx_pathf(file, "%s/incoming-%" PRIu64 ".pack", staging, v);
	if (rc)
		return rc;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return hlx_err(HLX_EIO, "cannot make a pipe: %s", strerror(errno));
	/* room for the download to run a chunk of the indexer's (1 MiB)
	 * ahead of it: with the default 64 KiB, it would wait while the
	 * indexer works, and the two would take turns (the limit for a user
	 * is /proc/sys/fs/pipe-max-size, 1 MiB by default; less is fine) */
	(void)fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
	d.fd = pfd[1];
	if (pthread_create(&th, NULL, download_run, &d) != 0) {
		close(pfd[0]);
		close(pfd[1]);
		return hlx_err(HLX_ENOMEM, "cannot start a download");
	}
	nm = read_full(pfd[0], magic, sizeof(magic));
	if (nm < 0)
		rc = hlx_err(HLX_EIO, "cannot read a download: %s", strerror(errno));
	else if ((sealed = hlx_seal_is(magic, (size_t)nm)))
		rc = sealed_to_file(pfd[0], magic, (size_t)nm, file);
	else
		rc = hlx_pack_index_stream(staging, rel, pfd[0], magic,
					   (size_t)nm, blobs, job);
	/* a refused pack stops the download: its write fails */
	stopped = !at_end(pfd[0]);
	close(pfd[0]);
	pthread_join(th, NULL);
	/* a failed download is what went wrong (the indexer saw a pack cut
	 * short), unless it failed writing to the pipe closed above before
	 * its end */
	if (d.rc && !(stopped && d.rc == HLX_EIO))
		rc = hlx_err(d.rc, "%s", d.detail);
	if (rc) {
		hlx_pack_job_abandon(*job);
		*job = NULL;
	}
	if (!rc && sealed) {
		rc = open_sealed_pack(p, rel, file);
		if (!rc)
			rc = hlx_pack_index(staging, file, blobs);
	}
	if (sealed)
		unlink(file);
	return rc;
}

int hlx_pull_pack_indexed(struct hlx_pack_job **job, uint64_t v)
{
	int rc = hlx_pack_job_finish(*job);

	*job = NULL;
	return rc ? hlx_err_wrap(rc, "pack of version %" PRIu64, v) : HLX_OK;
}

/* Fetch the packs of versions from..to into a staging repository: each
 * pack's indexer is waited for before the next pack is fetched, but the
 * last one's may still be at work on return (*job: sync_int.h). */
int hlx_pull_fetch_packs(struct pull *p, const char *staging, uint64_t from,
			 uint64_t to, struct hlx_hist_blobs *blobs,
			 struct hlx_pack_job **job)
{
	struct hlx_buf url = HLX_BUF_INIT;
	char rel[PATH_MAX];
	int rc = HLX_OK;

	*job = NULL;
	for (uint64_t v = from; !rc && v <= to; v++) {
		rc = hlx_pull_pack_indexed(job, v - 1);
		if (rc)
			break;
		rc = hlx_pathf(rel, "lists/%s/packs/%" PRIu64 ".pack", p->list, v);
		hlx_buf_reset(&url);
		if (!rc)
			rc = hlx_fetch_join(p->peer->url, rel, &url);
		if (!rc)
			rc = fetch_pack(p, staging, rel, (const char *)url.data, v,
					blobs, job);
		if (rc)
			rc = hlx_err_wrap(rc, "pack of version %" PRIu64, v);
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
int hlx_pull_save_rules(struct pull *p, const struct hlx_list_rec *rec)
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
