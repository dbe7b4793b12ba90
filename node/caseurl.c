/* SPDX-License-Identifier: MIT */
/* The raw URL of a case, sealed to its owner alone (spec/cases.md 8). */
#include "node/caseurl.h"
#include "node/audit.h"
#include "node/files.h"
#include "node/policies.h"
#include "node/urls.h"
#include "keys/trust.h"
#include "protocol/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEX_LEN 64
#define CONTEXT_PREFIX "hlx-case-url:"
#define FEED_URLS HLX_CASEURL_DIR
#define NOTES_MAX HLX_CASEURL_NOTES_MAX

static int case_hex(const struct hlx_hash *id, char hex[HEX_LEN + 1])
{
	if (id->type != HLX_HASH_URL_SHA256 || id->len != HEX_LEN / 2)
		return hlx_err(HLX_EINVAL, "a case id is a url-sha256");
	sodium_bin2hex(hex, HEX_LEN + 1, id->bytes, id->len);
	return HLX_OK;
}

int hlx_caseurl_context(const struct hlx_hash *case_id,
			char out[HLX_CASEURL_CONTEXT_LEN])
{
	char hex[HEX_LEN + 1];
	int rc = case_hex(case_id, hex);

	if (!rc)
		snprintf(out, HLX_CASEURL_CONTEXT_LEN, "%s%s", CONTEXT_PREFIX, hex);
	return rc;
}

/* "" or "a/" and 32 lowercase hex digits */
static int feed_check(const char *feed)
{
	size_t n = strlen(feed);

	if (n == 0)
		return HLX_OK;
	if (n != 2 + 32 || feed[0] != 'a' || feed[1] != '/')
		goto bad;
	for (size_t i = 2; i < n; i++)
		if (!((feed[i] >= '0' && feed[i] <= '9') ||
		      (feed[i] >= 'a' && feed[i] <= 'f')))
			goto bad;
	return HLX_OK;
bad:
	return hlx_err(HLX_EINVAL, "feed directory '%s' is not a/ID", feed);
}

/* The file's path under the publish directory, and its directory. */
static int feed_paths(const char *feed, const char *hex,
		      char rel[HLX_AUDIT_PATH_MAX], char dir[PATH_MAX])
{
	int n = snprintf(rel, HLX_AUDIT_PATH_MAX, "%s%s%s/%s", feed,
			 feed[0] ? "/" : "", FEED_URLS, hex);

	if (n < 0 || n >= HLX_AUDIT_PATH_MAX)
		return hlx_err(HLX_EINVAL, "feed path too long");
	return hlx_pathf(dir, "%s%s%s", feed, feed[0] ? "/" : "", FEED_URLS);
}

/* ---- the note of whom a URL was sent to (cases-sent) ------------------- */

struct note {
	char hex[HEX_LEN + 1];
	char path[HLX_AUDIT_PATH_MAX];
	char org[65];
	char peer[65];
	int keep;
	size_t at; /* its place in the file, while it is read */
};

/* v[0..nsorted) is sorted by case and path, without repetition; notes
 * added since (sendings of this publish) follow it unsorted. */
struct notes {
	struct note *v;
	size_t n, cap, nsorted;
	size_t bytes; /* of the file they make */
};

/* The bytes of x's line in cases-sent. */
static size_t note_len(const struct note *x)
{
	return strlen(x->hex) + strlen(x->path) + strlen(x->org) +
	       strlen(x->peer) + 4;
}

static void notes_count(struct notes *ns)
{
	ns->bytes = 0;
	for (size_t i = 0; i < ns->n; i++)
		ns->bytes += note_len(&ns->v[i]);
}

static size_t notes_max(const struct hlx_caseurl_ctx *c)
{
	return c->notes_max && c->notes_max < NOTES_MAX ? c->notes_max : NOTES_MAX;
}

static void notes_free(struct notes *ns)
{
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

static int key_cmp(const char *hex, const char *path, const struct note *x)
{
	int c = strcmp(hex, x->hex);

	return c ? c : strcmp(path, x->path);
}

static int note_cmp(const void *a, const void *b)
{
	const struct note *x = a;

	return key_cmp(x->hex, x->path, b);
}

/* By case and path, then by place in the file. */
static int note_cmp_at(const void *a, const void *b)
{
	const struct note *x = a, *y = b;
	int c = note_cmp(x, y);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* Sort the notes and keep, of those for one file, the last one read (as
 * a later line replaced an earlier one). */
static void notes_sort(struct notes *ns)
{
	size_t w = 0;

	if (ns->n > 1)
		qsort(ns->v, ns->n, sizeof(*ns->v), note_cmp_at);
	for (size_t i = 0; i < ns->n; i++) {
		if (i + 1 < ns->n && !note_cmp(&ns->v[i], &ns->v[i + 1]))
			continue;
		ns->v[w++] = ns->v[i];
	}
	ns->n = ns->nsorted = w;
}

static struct note *notes_find(struct notes *ns, const char *hex,
			       const char *path)
{
	size_t lo = 0, hi = ns->nsorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(hex, path, &ns->v[mid]);

		if (!c)
			return &ns->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (size_t i = ns->nsorted; i < ns->n; i++)
		if (!key_cmp(hex, path, &ns->v[i]))
			return &ns->v[i];
	return NULL;
}

/* Append x (after the sorted notes). */
static int notes_push(struct notes *ns, const struct note *x)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 32;
		void *p = reallocarray(ns->v, cap, sizeof(*ns->v));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		ns->v = p;
		ns->cap = cap;
	}
	ns->v[ns->n++] = *x;
	return HLX_OK;
}

/* Note x: it replaces the note of the same file, or is added. */
static int notes_add(struct notes *ns, const struct note *x)
{
	struct note *at = notes_find(ns, x->hex, x->path);
	int rc;

	if (!at) {
		if ((rc = notes_push(ns, x)))
			return rc;
		at = &ns->v[ns->n - 1];
	} else {
		ns->bytes -= note_len(at);
		*at = *x;
	}
	ns->bytes += note_len(at);
	return HLX_OK;
}

static int notes_path(struct hlx_home *h, char out[PATH_MAX])
{
	return hlx_home_path(out, hlx_home_dir(h), HLX_HOME_CASES_SENT, NULL, NULL);
}

static int copy_word(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* One line "HEX PATH ORG PEER" of the node's own file, checked. */
static int note_parse(const char *s, size_t n, struct note *x)
{
	const char *w[4];
	size_t wl[4], k = 0, i = 0;

	memset(x, 0, sizeof(*x));
	while (k < 4 && i <= n) {
		size_t j = i;

		while (j < n && s[j] != ' ')
			j++;
		w[k] = s + i;
		wl[k++] = j - i;
		i = j + 1;
	}
	if (k != 4 || i <= n || wl[0] != HEX_LEN ||
	    copy_word(x->hex, sizeof(x->hex), w[0], wl[0]) ||
	    copy_word(x->path, sizeof(x->path), w[1], wl[1]) ||
	    copy_word(x->org, sizeof(x->org), w[2], wl[2]) ||
	    copy_word(x->peer, sizeof(x->peer), w[3], wl[3]))
		return HLX_EINVAL;
	for (i = 0; i < HEX_LEN; i++)
		if (!((x->hex[i] >= '0' && x->hex[i] <= '9') ||
		      (x->hex[i] >= 'a' && x->hex[i] <= 'f')))
			return HLX_EINVAL;
	/* the path must be one this module writes, for this case */
	{
		char rel[HLX_AUDIT_PATH_MAX], dir[PATH_MAX], feed[40];
		const char *slash = strstr(x->path, "/" FEED_URLS "/");
		size_t fl = slash ? (size_t)(slash - x->path) : 0;

		if (fl >= sizeof(feed))
			return HLX_EINVAL;
		memcpy(feed, x->path, fl);
		feed[fl] = '\0';
		if (feed_check(feed) || feed_paths(feed, x->hex, rel, dir) ||
		    strcmp(rel, x->path) != 0) {
			hlx_err_clear();
			return HLX_EINVAL;
		}
	}
	return HLX_OK;
}

/* The notes of cases-sent; lenient: lines that are no note are skipped
 * (counted in *bad) rather than refused. */
static int notes_load_ex(struct hlx_home *h, struct notes *ns, int lenient,
			 size_t *bad)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];
	size_t at = 0, line = 0;
	int rc;

	memset(ns, 0, sizeof(*ns));
	rc = notes_path(h, p);
	if (!rc)
		rc = hlx_file_read(p, NOTES_MAX, &b);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = HLX_OK;
	}
	while (!rc && at < b.len) {
		const uint8_t *nl = memchr(b.data + at, '\n', b.len - at);
		struct note x;

		line++;
		if (!nl ||
		    note_parse((const char *)b.data + at,
			       (size_t)(nl - (b.data + at)), &x) != HLX_OK) {
			if (!lenient) {
				rc = hlx_err(HLX_EINVAL, "'%s' line %zu: not HEX PATH ORG PEER",
					     p, line);
				break;
			}
			hlx_err_clear();
			++*bad;
			if (!nl)
				break;
			at = (size_t)(nl - b.data) + 1;
			continue;
		}
		x.at = line;
		rc = notes_push(ns, &x);
		at = (size_t)(nl - b.data) + 1;
	}
	hlx_buf_free(&b);
	if (!rc) {
		notes_sort(ns);
		notes_count(ns);
	}
	if (rc)
		notes_free(ns);
	return rc;
}

static int notes_load(struct hlx_home *h, struct notes *ns)
{
	size_t bad = 0;

	return notes_load_ex(h, ns, 0, &bad);
}

/* Write the notes whole; never more than max bytes (send_one keeps them
 * under it), so that what is written can be read back. */
static int notes_save(struct hlx_home *h, struct notes *ns, size_t max)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc = notes_path(h, p);

	if (ns->n)
		qsort(ns->v, ns->n, sizeof(*ns->v), note_cmp);
	ns->nsorted = ns->n;
	for (size_t i = 0; !rc && i < ns->n; i++)
		rc = hlx_buf_printf(&b, "%s %s %s %s\n", ns->v[i].hex, ns->v[i].path,
				    ns->v[i].org, ns->v[i].peer);
	if (!rc && b.len > max)
		rc = hlx_err(HLX_ETOOBIG, "'%s' would be %zu bytes, more than the %zu it may hold",
			     p, b.len, max);
	if (!rc)
		rc = hlx_file_write(p, b.data, b.len,
				    hlx_home_mode(HLX_HOME_CASES_SENT));
	hlx_buf_free(&b);
	return rc;
}

/* ---- sending ------------------------------------------------------------ */

static int due_check(const struct hlx_caseurl_due *d)
{
	if (!memchr(d->org, '\0', sizeof(d->org)) ||
	    !memchr(d->peer, '\0', sizeof(d->peer)) ||
	    !memchr(d->box, '\0', sizeof(d->box)) ||
	    !memchr(d->feed, '\0', sizeof(d->feed)))
		return hlx_err(HLX_EINVAL, "raw URL: a field is not terminated");
	return feed_check(d->feed);
}

/* The keys of a sending: the caller's, or loaded on first need. */
struct keys {
	const struct hlx_seckey *signer;
	const struct hlx_boxkey *own;
	struct hlx_seckey *sk;
	struct hlx_boxkey *bk;
};

static int keys_get(const struct hlx_caseurl_ctx *c, struct keys *k)
{
	int rc = HLX_OK;

	if (!k->signer && !c->signer) {
		rc = hlx_home_signing_key(c->h, c->getpass, c->pass_ctx, c->now, &k->sk);
		k->signer = k->sk;
	} else if (!k->signer) {
		k->signer = c->signer;
	}
	if (!rc && !k->own && !c->own) {
		rc = hlx_home_box_key(c->h, c->getpass, c->pass_ctx, &k->bk);
		k->own = k->bk;
	} else if (!rc && !k->own) {
		k->own = c->own;
	}
	return rc;
}

static void keys_free(struct keys *k)
{
	hlx_seckey_free(k->sk);
	hlx_boxkey_free(k->bk);
	memset(k, 0, sizeof(*k));
}

/* The audit record, the file, then the note in ns (saved by the caller). */
static int send_one(const struct hlx_caseurl_ctx *c, struct keys *k,
		    const struct hlx_caseurl_due *d, struct notes *ns)
{
	struct hlx_buf url, env = HLX_BUF_INIT;
	struct hlx_boxpub to;
	struct note x;
	char hex[HEX_LEN + 1], ctx[HLX_CASEURL_CONTEXT_LEN];
	char text[HLX_HASH_TEXT_MAX], dir[PATH_MAX], abs[PATH_MAX];
	int rc;

	hlx_buf_init_secure(&url);
	memset(&x, 0, sizeof(x));
	rc = due_check(d);
	if (!rc)
		rc = case_hex(&d->case_id, hex);
	if (!rc)
		rc = hlx_hash_format(&d->case_id, text, sizeof(text));
	if (rc)
		goto out;
	if (!d->box[0]) {
		rc = hlx_err(HLX_ESTATE, "raw URL: not sent to %s: no box key", d->org);
		goto out;
	}
	rc = hlx_boxpub_parse(d->box, strlen(d->box), &to);
	if (rc) {
		rc = hlx_err_wrap(rc, "raw URL: not sent to %s: box key of peer '%s'",
				  d->org, d->peer);
		goto out;
	}
	memcpy(x.hex, hex, sizeof(x.hex));
	snprintf(x.org, sizeof(x.org), "%s", d->org);
	snprintf(x.peer, sizeof(x.peer), "%s", d->peer);
	rc = feed_paths(d->feed, hex, x.path, dir);
	if (!rc)
		rc = hlx_caseurl_context(&d->case_id, ctx);
	if (rc)
		goto out;
	/* the note must fit before anything is recorded or written */
	{
		const struct note *old = notes_find(ns, x.hex, x.path);

		if (ns->bytes - (old ? note_len(old) : 0) + note_len(&x) > notes_max(c)) {
			rc = hlx_err(HLX_ESTATE,
				     "raw URL of %s: not sent to %s: cases-sent is full (%zu bytes)",
				     text, d->org, notes_max(c));
			goto out;
		}
	}
	rc = keys_get(c, k);
	if (rc)
		goto out;
	rc = hlx_urls_get(c->h, &d->case_id, k->own, &url);
	if (rc) {
		rc = hlx_err_wrap(rc, "raw URL of %s: not sent to %s", text, d->org);
		goto out;
	}
	rc = hlx_seal_buf(url.data, url.len, &to, 1, ctx, &env);
	/* no disclosure without a record: durable before the file is */
	if (!rc)
		rc = hlx_audit_append_url(hlx_home_dir(c->h), k->signer, c->now,
					  d->peer, d->org, text, x.path);
	if (!rc)
		rc = hlx_pathf(abs, "%s/%s", c->pubdir, dir);
	if (!rc)
		rc = hlx_file_mkdirs_in(c->pubdir, abs, 0755);
	if (!rc)
		rc = hlx_pathf(abs, "%s/%s", c->pubdir, x.path);
	if (!rc)
		rc = hlx_file_write_in(c->pubdir, abs, env.data, env.len, 0644);
	if (!rc)
		rc = notes_add(ns, &x);
out:
	hlx_buf_free(&url);
	hlx_buf_free(&env);
	return rc;
}

int hlx_caseurl_send(const struct hlx_caseurl_ctx *c,
		     const struct hlx_caseurl_due *d)
{
	struct keys k = { NULL, NULL, NULL, NULL };
	struct notes ns;
	int rc = notes_load(c->h, &ns);

	if (rc)
		return rc;
	rc = send_one(c, &k, d, &ns);
	if (!rc)
		rc = notes_save(c->h, &ns, notes_max(c));
	notes_free(&ns);
	keys_free(&k);
	return rc;
}

/* What one file's failure must not stop: the others go on. */
static int per_file(int rc)
{
	return rc == HLX_ESTATE || rc == HLX_ENOENT || rc == HLX_EINVAL ||
	       rc == HLX_EPERM;
}

static int file_there(const char *pubdir, const char *rel)
{
	char abs[PATH_MAX];
	struct stat st;

	return hlx_pathf(abs, "%s/%s", pubdir, rel) == HLX_OK &&
	       lstat(abs, &st) == 0 && S_ISREG(st.st_mode);
}

/* The files due (case and path) as notes, sorted: a note is kept when
 * its file is among them. */
static int due_files(const struct hlx_caseurl_due *due, size_t n,
		     struct notes *out)
{
	int rc = HLX_OK;

	memset(out, 0, sizeof(*out));
	for (size_t j = 0; !rc && j < n; j++) {
		struct note x;
		char dir[PATH_MAX];

		memset(&x, 0, sizeof(x));
		if (case_hex(&due[j].case_id, x.hex) || feed_check(due[j].feed) ||
		    feed_paths(due[j].feed, x.hex, x.path, dir)) {
			hlx_err_clear(); /* sent to no file: fails below */
			continue;
		}
		rc = notes_push(out, &x);
	}
	if (!rc)
		notes_sort(out);
	return rc;
}

/* 64 lowercase hex digits: the name of a case's file */
static int hex_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == HEX_LEN;
}

/* The entries of the directory rel under the publish directory, opened
 * without following a symbolic link: fn(ctx, fd of the directory, name)
 * for each but . and ..  A directory that cannot be opened (missing, a
 * link planted in its place, not ours to read) has none: what the sweep
 * cannot reach it leaves, and the publish goes on. */
static int each_entry(const char *pubdir, const char *rel,
		      int (*fn)(void *, int, const char *), void *ctx)
{
	char abs[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int fd, rc = hlx_pathf(abs, "%s/%s", pubdir, rel);

	if (!rc)
		rc = hlx_dir_open_in(pubdir, abs, &fd);
	if (rc) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (!(d = fdopendir(fd))) {
		close(fd);
		return HLX_OK;
	}
	while (!rc && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = fn(ctx, dirfd(d), e->d_name);
	closedir(d);
	return rc;
}

struct sweep {
	const struct hlx_caseurl_ctx *c;
	struct notes *ns;
	struct hlx_caseurl_stats *st;
	char feed[64]; /* "" or a/ID */
	char urls[PATH_MAX];
};

/* One entry of a feed's urls/: a case's file (or a link in its place)
 * that no note names goes; a directory is not one of ours and stays.  A
 * removal that fails is told as the failure of that file. */
static int sweep_file(void *ctx, int dfd, const char *name)
{
	struct sweep *w = ctx;
	char rel[HLX_AUDIT_PATH_MAX], dir[PATH_MAX];
	struct stat st;
	int rc;

	if (!hex_name(name))
		return HLX_OK; /* not a case's file (temporary files go at publish) */
	rc = feed_paths(w->feed, name, rel, dir);
	if (rc || notes_find(w->ns, name, rel))
		return rc;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode))
		return HLX_OK;
	if (unlinkat(dfd, name, 0) == 0) {
		w->st->removed++;
		return HLX_OK;
	}
	w->st->failed++;
	if (w->st->failure) {
		char why[HLX_AUDIT_PATH_MAX + 128];

		snprintf(why, sizeof(why), "cannot remove '%s', sent to no one any more: %s",
			 rel, strerror(errno));
		w->st->failure(w->st->failure_ctx, rel, HLX_EIO, why);
	}
	return HLX_OK;
}

static int sweep_feed(struct sweep *w, const char *feed)
{
	char rel[HLX_AUDIT_PATH_MAX];
	int rc;

	snprintf(w->feed, sizeof(w->feed), "%s", feed);
	rc = feed_paths(feed, "", rel, w->urls);
	return rc ? rc : each_entry(w->c->pubdir, w->urls, sweep_file, w);
}

static int sweep_audience(void *ctx, int dfd, const char *name)
{
	char feed[64];

	(void)dfd;
	if (snprintf(feed, sizeof(feed), "a/%s", name) >= (int)sizeof(feed) ||
	    feed_check(feed)) {
		hlx_err_clear();
		return HLX_OK; /* not an audience's feed */
	}
	return sweep_feed(ctx, feed);
}

/*
 * Every file of a feed's urls/ (the open feed's, each audience's) that no
 * note names goes: what a crash left between a file and its note (which
 * follows the file).  If it is due, it is sent again below, with a record
 * of its own; if not (a final state, another owner), it would otherwise
 * stay in the feed for good.
 */
static int sweep_unnoted(const struct hlx_caseurl_ctx *c, struct notes *ns,
			 struct hlx_caseurl_stats *st)
{
	struct sweep w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.ns = ns;
	w.st = st;
	rc = sweep_feed(&w, "");
	if (!rc)
		rc = each_entry(c->pubdir, "a", sweep_audience, &w);
	return rc;
}

int hlx_caseurl_sweep(const struct hlx_caseurl_ctx *c,
		      struct hlx_caseurl_stats *st)
{
	struct notes ns;

	memset(&ns, 0, sizeof(ns));
	return sweep_unnoted(c, &ns, st);
}

int hlx_caseurl_publish(const struct hlx_caseurl_ctx *c,
			const struct hlx_caseurl_due *due, size_t n,
			struct hlx_caseurl_stats *st)
{
	struct keys k = { NULL, NULL, NULL, NULL };
	struct notes ns, files = { NULL, 0, 0, 0, 0 };
	size_t w = 0;
	int rc = notes_load(c->h, &ns), src;

	if (rc == HLX_ETOOBIG || rc == HLX_EINVAL) {
		/* damaged: the lines that are notes are kept; past its limit
		 * (an older build wrote it at any size): read as empty.  It
		 * is written anew below, and what no note names any more goes
		 * from the feeds and is sent again if due.  (What it held is
		 * derived: the audit log keeps every sending.) */
		char why[PATH_MAX + 512];
		size_t skipped = 0;
		int was = rc;

		snprintf(why, sizeof(why), "%s", hlx_err_detail());
		hlx_err_clear();
		rc = was == HLX_EINVAL ? notes_load_ex(c->h, &ns, 1, &skipped) : HLX_OK;
		if (!rc && st->failure) {
			char msg[sizeof(why) + 128];

			snprintf(msg, sizeof(msg), "cases-sent: %s: %s, written anew", why,
				 was == HLX_EINVAL ? "the lines that are notes kept" :
				 "read as empty");
			st->failure(st->failure_ctx, "cases-sent", was, msg);
		}
	}
	if (!rc)
		rc = due_files(due, n, &files);
	/* what is no longer due goes first: a final state, another owner */
	for (size_t i = 0; !rc && i < ns.n; i++) {
		struct note *x = &ns.v[i];
		char abs[PATH_MAX];

		x->keep = notes_find(&files, x->hex, x->path) != NULL;
		if (x->keep) {
			ns.v[w++] = *x;
			continue;
		}
		rc = hlx_pathf(abs, "%s/%s", c->pubdir, x->path);
		if (!rc)
			rc = hlx_rm_rf_in(c->pubdir, abs);
		if (!rc)
			st->removed++;
	}
	notes_free(&files);
	if (rc) {
		notes_free(&ns);
		return rc;
	}
	ns.n = ns.nsorted = w; /* what is left of a sorted run is sorted */
	notes_count(&ns);
	rc = sweep_unnoted(c, &ns, st);
	if (!rc)
		rc = notes_save(c->h, &ns, NOTES_MAX);
	for (size_t j = 0; !rc && j < n; j++) {
		const struct hlx_caseurl_due *d = &due[j];
		char hex[HEX_LEN + 1], rel[HLX_AUDIT_PATH_MAX], dir[PATH_MAX];
		struct note *x;

		src = due_check(d);
		if (!src)
			src = case_hex(&d->case_id, hex);
		if (!src)
			src = feed_paths(d->feed, hex, rel, dir);
		x = src ? NULL : notes_find(&ns, hex, rel);
		if (x && !strcmp(x->org, d->org) && !strcmp(x->peer, d->peer) &&
		    file_there(c->pubdir, rel)) {
			st->kept++;
			continue;
		}
		if (!src)
			src = send_one(c, &k, d, &ns);
		if (!src) {
			st->sent++;
			continue;
		}
		if (!per_file(src)) {
			rc = src;
			break;
		}
		st->failed++;
		if (st->failure) {
			char who[100];

			snprintf(who, sizeof(who), "peer '%s'", d->peer);
			st->failure(st->failure_ctx, who, src, hlx_err_detail());
		}
		hlx_err_clear();
	}
	/* the note follows the files, also when a sending failed half-way */
	src = notes_save(c->h, &ns, NOTES_MAX);
	if (!rc)
		rc = src;
	notes_free(&ns);
	keys_free(&k);
	return rc;
}

/* self's line among srcs, or NULL */
static const struct hlx_case_line *line_of(const char *org,
					   const struct hlx_case_src *srcs,
					   unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (srcs[i].org && srcs[i].line && !strcmp(srcs[i].org, org))
			return srcs[i].line;
	return NULL;
}

/* Did the organisation of line l report the case, or hand it to to? */
static int gave(const struct hlx_case_line *l, const char *to)
{
	const struct hlx_case_act *last;

	if (!l)
		return 0;
	if (l->reported >= 0)
		return 1;
	last = l->nacts ? &l->acts[l->nacts - 1] : NULL;
	return last && last->kind == HLX_CASE_HANDOFF && !strcmp(last->org, to);
}

const char *hlx_caseurl_recipient(const char *self,
				  const struct hlx_case_src *srcs, unsigned n,
				  const struct hlx_case_owner *o)
{
	if (!o->exists || !o->org || hlx_case_state_final(o->state) ||
	    !strcmp(o->org, self))
		return NULL;
	return gave(line_of(self, srcs, n), o->org) ? o->org : NULL;
}

int hlx_caseurl_from(const char *self, const char *from,
		     const struct hlx_case_src *srcs, unsigned n,
		     const struct hlx_case_owner *o)
{
	if (!o->exists || !o->org || hlx_case_state_final(o->state) ||
	    strcmp(o->org, self) != 0 || !strcmp(from, self))
		return 0;
	return gave(line_of(from, srcs, n), self);
}

int hlx_caseurl_peer_of(struct hlx_home *h, const struct hlx_peers *ps,
			const char *org, const char *root, int plan,
			char peer[65])
{
	const char *found = NULL, *first = NULL;

	if (!root || !root[0])
		return hlx_err(HLX_ESTATE,
			       "raw URL: not sent to %s: the root of its chain is not known",
			       org);
	for (size_t i = 0; i < ps->n; i++) {
		struct hlx_trust *t = NULL;
		int same, rooted;

		if (hlx_peer_trust(hlx_home_dir(h), &ps->v[i], &t) != HLX_OK) {
			/* a peer never pulled from names no organisation yet */
			hlx_err_clear();
			continue;
		}
		same = !strcmp(hlx_trust_org(t), org);
		rooted = same && hlx_trust_has_root(t, root);
		hlx_trust_free(t);
		if (!same)
			continue;
		/* without the plan's word on the root (which may then be
		 * that of whichever chain of the name was read first), two
		 * chains naming the organisation: one poses as the other;
		 * a raw URL goes to neither */
		if (!plan && first)
			return hlx_err(HLX_ESTATE,
				       "raw URL: not sent to %s: peers '%s' and '%s' both name it",
				       org, first, ps->v[i].name);
		if (!first)
			first = ps->v[i].name;
		/* a chain of the name under another root than the plan's is
		 * not the owner's: an impostor, or one held before a
		 * rotation the plan does not know */
		if (!rooted)
			continue;
		/* two peers whose chains hold that root: likewise */
		if (found)
			return hlx_err(HLX_ESTATE,
				       "raw URL: not sent to %s: peers '%s' and '%s' both name it",
				       org, found, ps->v[i].name);
		found = ps->v[i].name;
	}
	if (!found && first)
		return hlx_err(HLX_ENOENT,
			       "raw URL: not sent to %s: no peer's chain of that organisation holds the root %s",
			       org, root);
	if (!found)
		return hlx_err(HLX_ENOENT,
			       "raw URL: not sent to %s: no peer of that organisation", org);
	snprintf(peer, 65, "%s", found);
	return HLX_OK;
}

/* One want as a file due: its peer and the directory that peer reads. */
static int want_due(const struct hlx_caseurl_ctx *c, const struct hlx_peers *ps,
		    const struct hlx_audiences *aus,
		    const struct hlx_caseurl_want *w, struct hlx_caseurl_due *d)
{
	const struct hlx_peer *pe;
	int rc;

	memset(d, 0, sizeof(*d));
	d->case_id = w->case_id;
	snprintf(d->org, sizeof(d->org), "%s", w->org);
	rc = hlx_caseurl_peer_of(c->h, ps, w->org, w->root, w->root_plan, d->peer);
	if (rc)
		return rc;
	pe = hlx_peers_find((struct hlx_peers *)ps, d->peer);
	if (!pe)
		return hlx_err(HLX_ENOENT, "no peer '%s'", d->peer);
	snprintf(d->box, sizeof(d->box), "%s", pe->box);
	if (aus) {
		const char *dir = hlx_audiences_dir(aus, pe->name);

		if (!dir)
			return hlx_err(HLX_ESTATE,
				       "raw URL: not sent to %s: peer '%s' reads no feed of this node (no policy)",
				       w->org, pe->name);
		snprintf(d->feed, sizeof(d->feed), "a/%s", dir);
	}
	return HLX_OK;
}

int hlx_caseurl_publish_wants(const struct hlx_caseurl_ctx *c,
			      const struct hlx_caseurl_want *w, size_t n,
			      struct hlx_caseurl_stats *st)
{
	const char *home = hlx_home_dir(c->h);
	struct hlx_peers *ps = NULL;
	struct hlx_policies *pols = NULL;
	struct hlx_audiences *aus = NULL;
	struct hlx_caseurl_due *due = NULL;
	size_t nd = 0;
	int rc;

	rc = hlx_peers_load(home, &ps);
	if (!rc && n)
		rc = hlx_policies_load(home, &pols);
	if (!rc && n && pols->n)
		rc = hlx_audiences_make(home, pols, ps, &aus);
	if (!rc && !(due = calloc(n + 1, sizeof(*due))))
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		int wrc = want_due(c, ps, aus, &w[i], &due[nd]);

		if (!wrc) {
			nd++;
			continue;
		}
		if (wrc != HLX_ENOENT && wrc != HLX_ESTATE) {
			rc = wrc;
			break;
		}
		st->failed++;
		if (st->failure) {
			char who[100];

			snprintf(who, sizeof(who), "organisation '%s'", w[i].org);
			st->failure(st->failure_ctx, who, wrc, hlx_err_detail());
		}
		hlx_err_clear();
	}
	if (!rc)
		rc = hlx_caseurl_publish(c, due, nd, st);
	free(due);
	hlx_audiences_free(aus);
	hlx_policies_free(pols);
	hlx_peers_free(ps);
	return rc;
}

int hlx_caseurl_sent_to(struct hlx_home *h, const struct hlx_hash *case_id,
			struct hlx_buf *out)
{
	struct notes ns;
	char hex[HEX_LEN + 1];
	size_t k = 0;
	int rc = case_hex(case_id, hex);

	if (!rc)
		rc = notes_load(h, &ns);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < ns.n; i++) {
		int seen = 0;

		if (strcmp(ns.v[i].hex, hex) != 0)
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(ns.v[j].hex, hex) &&
				!strcmp(ns.v[j].org, ns.v[i].org);
		if (!seen)
			rc = hlx_buf_printf(out, "%s%s", k++ ? ", " : "", ns.v[i].org);
	}
	notes_free(&ns);
	return rc;
}

int hlx_caseurl_held(struct hlx_home *h, const struct hlx_hash *case_id,
		     int *held)
{
	char hex[HEX_LEN + 1], p[PATH_MAX];
	struct stat st;
	int rc = case_hex(case_id, hex);

	if (!rc)
		rc = hlx_home_path(p, hlx_home_dir(h), HLX_HOME_URL, hex, NULL);
	if (rc)
		return rc;
	*held = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
	return HLX_OK;
}

/* ---- receiving ---------------------------------------------------------- */

int hlx_caseurl_open(const void *env, size_t n, const struct hlx_boxkey *own,
		     const struct hlx_hash *case_id, struct hlx_buf *url)
{
	struct hlx_buf plain, norm;
	struct hlx_hash item;
	char ctx[HLX_CASEURL_CONTEXT_LEN], text[HLX_HASH_TEXT_MAX];
	int rc;

	rc = hlx_caseurl_context(case_id, ctx);
	if (!rc)
		rc = hlx_hash_format(case_id, text, sizeof(text));
	if (rc)
		return rc;
	if (n > HLX_CASEURL_FILE_MAX)
		return hlx_err(HLX_ETOOBIG, "raw URL of %s: %zu bytes (at most %zu)",
			       text, n, (size_t)HLX_CASEURL_FILE_MAX);
	hlx_buf_init_secure(&plain);
	hlx_buf_init_secure(&norm);
	rc = hlx_unseal_buf(env, n, own, ctx, HLX_URL_MAX, &plain);
	if (rc) {
		rc = hlx_err_wrap(rc, "raw URL of %s", text);
		goto out;
	}
	rc = hlx_urls_item((const char *)plain.data, plain.len, &item, &norm);
	if (rc) {
		rc = hlx_err_wrap(rc, "raw URL of %s", text);
		goto out;
	}
	if (item.len != case_id->len ||
	    sodium_memcmp(item.bytes, case_id->bytes, item.len) != 0) {
		rc = hlx_err(HLX_EINVAL, "raw URL of %s: the URL inside is not the case's",
			     text);
		goto out;
	}
	rc = hlx_buf_put(url, norm.data, norm.len);
out:
	hlx_buf_free(&plain);
	hlx_buf_free(&norm);
	return rc;
}

int hlx_caseurl_receive(struct hlx_home *h, const struct hlx_boxkey *own,
			const struct hlx_hash *case_id, const void *env,
			size_t n)
{
	struct hlx_buf url;
	struct hlx_hash item;
	int rc;

	hlx_buf_init_secure(&url);
	rc = hlx_caseurl_open(env, n, own, case_id, &url);
	if (!rc)
		rc = hlx_urls_put(h, (const char *)url.data, url.len, &item);
	if (!rc && (item.len != case_id->len ||
		    sodium_memcmp(item.bytes, case_id->bytes, item.len) != 0))
		rc = hlx_err(HLX_EINVAL, "raw URL: stored under another item");
	hlx_buf_free(&url);
	return rc;
}

int hlx_caseurl_fetch(struct hlx_home *h, struct hlx_fetch *f,
		      const struct hlx_peer *peer, const struct hlx_boxkey *own,
		      const struct hlx_hash *case_id)
{
	struct hlx_buf u = HLX_BUF_INIT, env = HLX_BUF_INIT;
	char hex[HEX_LEN + 1], rel[HEX_LEN + 16];
	int rc = case_hex(case_id, hex);

	if (!rc && !peer->url[0])
		rc = hlx_err(HLX_ENOENT, "peer '%s' has no feed", peer->name);
	if (!rc) {
		snprintf(rel, sizeof(rel), "%s/%s", FEED_URLS, hex);
		rc = hlx_fetch_join(peer->url, rel, &u);
	}
	if (!rc)
		rc = hlx_buf_putc(&u, '\0');
	if (!rc)
		rc = hlx_fetch_get(f, (const char *)u.data, HLX_CASEURL_FILE_MAX, NULL,
				   NULL, &env, NULL);
	if (rc == HLX_ENOENT)
		rc = hlx_err(HLX_ENOENT, "peer '%s' has not sent the raw URL of url-sha256:%s",
			     peer->name, hex);
	else if (rc)
		rc = hlx_err_wrap(rc, "raw URL of url-sha256:%s", hex);
	else
		rc = hlx_caseurl_receive(h, own, case_id, env.data, env.len);
	if (rc && rc != HLX_ENOENT)
		rc = hlx_err_wrap(rc, "peer '%s'", peer->name);
	hlx_buf_free(&u);
	hlx_buf_free(&env);
	return rc;
}
