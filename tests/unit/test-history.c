/* SPDX-License-Identifier: MIT */
/*
 * List histories (node/history.h): versions of synthetic random entries are
 * written, read back, compared and logged; malformed changes are refused
 * and leave the repository as it was; stock git verifies the signatures,
 * passes fsck --strict and reads the shards; forged histories (wrong
 * version number, unsorted or misplaced lines, unsigned or merge commits,
 * stray files) fail hlx_hist_check_chain.
 */
#include "keys/key.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "node/history.h"
#include "node/packs.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/record.h"
#include "tests/unit/rng.h"
#include "tests/unit/tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <git2.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORG "test-org"
#define LIST "csam-main"
#define NFIRST 20000
#define T0 1767323045 /* 2026-01-02T03:04:05Z */

static struct hlx_seckey *key;
static char dir[64], repo[128];

static int sign_cb(void *ctx, const uint8_t *d, size_t n, struct hlx_buf *out)
{
	return hlx_sshsig_sign(ctx, "git", "sha512", d, n, out);
}

static int failing_sign(void *ctx, const uint8_t *d, size_t n,
			struct hlx_buf *out)
{
	(void)ctx;
	(void)d;
	(void)n;
	(void)out;
	return hlx_err(HLX_ECRYPTO, "test: signing refused");
}

/* ---- the model: sorted arrays of canonical lines ------------------------ */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *s, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n] = malloc(n + 1);
	if (!l->v[l->n])
		abort();
	memcpy(l->v[l->n], s, n);
	l->v[l->n][n] = '\0';
	l->n++;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static size_t hlen(const char *s)
{
	return strcspn(s, "\t\n");
}

static int hcmp(const char *a, const char *b)
{
	size_t an = hlen(a), bn = hlen(b);
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

static int hcmp_q(const void *a, const void *b)
{
	return hcmp(*(char *const *)a, *(char *const *)b);
}

struct change {
	char *line;
	int retract;
};

static int change_q(const void *a, const void *b)
{
	return hcmp(((const struct change *)a)->line,
		    ((const struct change *)b)->line);
}

static int str_q(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_sort(struct lines *l)
{
	qsort(l->v, l->n, sizeof(*l->v), hcmp_q);
}

static const enum hlx_hash_type types[] = {
	HLX_HASH_MD5, HLX_HASH_SHA1, HLX_HASH_SHA256, HLX_HASH_PDQ,
	HLX_HASH_URL_SHA256, HLX_HASH_VPDQ,
};

static void random_entry(struct hlx_entry *e, enum hlx_hash_type t)
{
	static const char *cats[] = { "csam-a", "csam-b", "b1", "x" };
	static const char *tags[] = { "tag1", "tag2", "video", "series-9" };

	hlx_entry_init(e);
	e->hash.type = t;
	switch (t) {
	case HLX_HASH_MD5: e->hash.len = 16; break;
	case HLX_HASH_SHA1: e->hash.len = 20; break;
	case HLX_HASH_VPDQ: e->hash.len = 32 * (1 + rnd() % 3); break;
	default: e->hash.len = 32; break;
	}
	for (size_t i = 0; i < e->hash.len; i++)
		e->hash.bytes[i] = (uint8_t)rnd();
	if (rnd() % 4)
		snprintf(e->category, sizeof(e->category), "%s",
			 cats[rnd() % 4]);
	if (rnd() % 2)
		e->first_seen = T0 - (int64_t)(rnd() % 100000000);
	if (rnd() % 2)
		e->confidence = (int)(rnd() % 101);
	for (unsigned i = 0, n = (unsigned)(rnd() % 3); i < n; i++) {
		const char *tg = tags[rnd() % 4];

		hlx_entry_add_tag(e, tg, strlen(tg)); /* EEXIST is fine */
	}
}

static void encode(const struct hlx_entry *e, struct hlx_buf *b)
{
	hlx_buf_reset(b);
	if (hlx_entry_encode(e, b)) {
		printf("Bail out! encode: %s\n", hlx_err_detail());
		exit(1);
	}
}

/* n random entries, sorted, one per hash; every type appears. */
static void random_lines(struct lines *l, size_t n)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_entry e;
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		size_t nt = sizeof(types) / sizeof(types[0]);

		random_entry(&e, types[i < nt ? i : rnd() % nt]);
		encode(&e, &b);
		lines_add(l, (const char *)b.data, b.len);
	}
	/* A vpdq hash and a longer one that starts with it: prefix order. */
	random_entry(&e, HLX_HASH_VPDQ);
	e.hash.len = 32;
	encode(&e, &b);
	lines_add(l, (const char *)b.data, b.len);
	e.hash.len = 64;
	encode(&e, &b);
	lines_add(l, (const char *)b.data, b.len);
	lines_sort(l);
	for (size_t i = 0; i < l->n; i++) {
		if (j && hcmp(l->v[j - 1], l->v[i]) == 0) {
			free(l->v[i]);
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	hlx_buf_free(&b);
}

static struct hlx_hist_op *ops_of(const struct lines *l, const char *retract)
{
	struct hlx_hist_op *ops = calloc(l->n ? l->n : 1, sizeof(*ops));

	if (!ops)
		abort();
	for (size_t i = 0; i < l->n; i++) {
		ops[i].line = l->v[i];
		ops[i].retract = retract && retract[i];
		ops[i].len = ops[i].retract ? hlen(l->v[i]) : strlen(l->v[i]);
	}
	return ops;
}

/* ---- collecting what the library returns ------------------------------- */

static int collect_cb(void *ctx, const char *line, size_t len)
{
	lines_add(ctx, line, len);
	return 0;
}

static int same_lines(const struct lines *a, const struct lines *b)
{
	if (a->n != b->n) {
		printf("#   %zu lines, want %zu\n", a->n, b->n);
		return 0;
	}
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0) {
			printf("#   line %zu: got '%.60s', want '%.60s'\n", i,
			       a->v[i], b->v[i]);
			return 0;
		}
	return 1;
}

static int content_is(struct hlx_hist *h, const char *oid,
		      const struct lines *want)
{
	struct lines got = { 0 };
	int rc = hlx_hist_foreach(h, oid, collect_cb, &got);
	int same = rc == HLX_OK && same_lines(&got, want);

	if (rc)
		printf("#   foreach: %s\n", hlx_err_detail());
	lines_free(&got);
	return same;
}

struct diffs {
	struct lines removed, added;
	int ordered;
	char last[HLX_ENTRY_LINE_MAX + 1];
	int last_added;
};

static int diff_cb(void *ctx, const char *line, size_t len, int added)
{
	struct diffs *d = ctx;
	char *cur;
	int c;

	lines_add(added ? &d->added : &d->removed, line, len);
	cur = (added ? d->added.v[d->added.n - 1] :
		       d->removed.v[d->removed.n - 1]);
	if (d->last[0]) {
		c = hcmp(d->last, cur);
		if (c > 0 || (c == 0 && (d->last_added || !added)))
			d->ordered = 0;
	}
	snprintf(d->last, sizeof(d->last), "%s", cur);
	d->last_added = added;
	return 0;
}

static int stop_cb(void *ctx, const char *line, size_t len)
{
	(void)line;
	(void)len;
	return ++*(int *)ctx == 3 ? 42 : 0;
}

struct logged {
	struct hlx_hist_version v[16];
	int n;
};

static int log_cb(void *ctx, const struct hlx_hist_version *v)
{
	struct logged *l = ctx;

	if (l->n < 16)
		l->v[l->n] = *v;
	l->n++;
	return 0;
}

/* Files in objects/pack and loose objects: "was anything written?" */
static int count_objects(void)
{
	char p[256];
	int n = 0;
	DIR *d;
	struct dirent *de;

	snprintf(p, sizeof(p), "%s/objects/pack", repo);
	d = opendir(p);
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	for (int i = 0; i < 256; i++) {
		snprintf(p, sizeof(p), "%s/objects/%02x", repo, i);
		d = opendir(p);
		while (d && (de = readdir(d)))
			n += de->d_name[0] != '.';
		if (d)
			closedir(d);
	}
	return n;
}

static int run(const char *cmd, struct hlx_buf *out)
{
	char chunk[4096];
	size_t n;
	FILE *p = popen(cmd, "r");

	if (out)
		hlx_buf_reset(out);
	if (!p)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		if (out && hlx_buf_put(out, chunk, n))
			abort();
	if (out && hlx_buf_put(out, "", 0))
		abort();
	return pclose(p);
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* ---- forging commits with libgit2 directly ------------------------------ */

static git_repository *grepo;

static void gcheck(int grc, const char *what)
{
	if (grc < 0) {
		const git_error *e = git_error_last();

		printf("Bail out! %s: %s\n", what, e ? e->message : "?");
		exit(1);
	}
}

/* A tree: base (a commit id, or NULL for empty) with one path set to
 * content (NULL: removed). */
static void forge_tree(const char *base, const char *path,
		       const char *content, git_oid *out)
{
	git_tree *t = NULL;
	git_commit *c = NULL;
	git_tree_update u;
	git_oid bid, cid;

	if (base) {
		gcheck(git_oid_fromstr(&cid, base), "oid");
		gcheck(git_commit_lookup(&c, grepo, &cid), "commit");
		gcheck(git_commit_tree(&t, c), "tree");
	}
	memset(&u, 0, sizeof(u));
	u.path = path;
	if (content) {
		gcheck(git_blob_create_from_buffer(&bid, grepo, content,
						   strlen(content)),
		       "blob");
		u.action = GIT_TREE_UPDATE_UPSERT;
		u.id = bid;
		u.filemode = GIT_FILEMODE_BLOB;
	} else {
		u.action = GIT_TREE_UPDATE_REMOVE;
	}
	gcheck(git_tree_create_updated(out, grepo, t, 1, &u), "tree update");
	git_tree_free(t);
	git_commit_free(c);
}

/* A commit of tree on parents (0 to 2), as hlx would write it unless the
 * arguments say otherwise; signed unless unsigned_. */
static void forge_commit(const git_oid *tree_id, const char *p1,
			 const char *p2, uint64_t version, const char *org,
			 int unsigned_, char out[41])
{
	const git_commit *parents[2];
	git_commit *pc[2] = { NULL, NULL };
	git_signature *who;
	git_tree *tree;
	git_buf body = GIT_BUF_INIT;
	struct hlx_buf sig = HLX_BUF_INIT;
	char msg[256], email[128];
	size_t np = 0;
	git_oid o;

	snprintf(email, sizeof(email), "%s@hlx.invalid", org);
	snprintf(msg, sizeof(msg),
		 "hlx: %s version %" PRIu64 "\n\nforged\n\nHlx-List: %s\n"
		 "Hlx-Version: %" PRIu64 "\n",
		 LIST, version, LIST, version);
	for (const char *p = p1; p; p = p == p1 ? p2 : NULL) {
		gcheck(git_oid_fromstr(&o, p), "oid");
		gcheck(git_commit_lookup(&pc[np], grepo, &o), "parent");
		parents[np] = pc[np];
		np++;
	}
	gcheck(git_tree_lookup(&tree, grepo, tree_id), "tree");
	gcheck(git_signature_new(&who, org, email, T0 + 100, 0), "sig");
	gcheck(git_commit_create_buffer(&body, grepo, who, who, NULL, msg,
					tree, np, parents),
	       "commit buffer");
	if (unsigned_) {
		gcheck(git_odb_hash(&o, body.ptr, body.size,
				    GIT_OBJECT_COMMIT),
		       "hash");
		gcheck(git_commit_create(&o, grepo, NULL, who, who, NULL, msg,
					 tree, np, parents),
		       "commit");
	} else {
		if (hlx_sshsig_sign(key, "git", "sha512",
				    (const uint8_t *)body.ptr, body.size, &sig))
			abort();
		sig.data[--sig.len] = '\0'; /* as git writes it */
		gcheck(git_commit_create_with_signature(
			       &o, grepo, body.ptr, (const char *)sig.data,
			       "gpgsig"),
		       "signed commit");
	}
	git_oid_fmt(out, &o);
	out[40] = '\0';
	hlx_buf_free(&sig);
	git_buf_dispose(&body);
	git_signature_free(who);
	git_tree_free(tree);
	git_commit_free(pc[0]);
	git_commit_free(pc[1]);
}

/* The forged commit as head: check_chain must fail naming what. */
static void expect_defect(struct hlx_hist *h, const char *good,
			  const char *forged, const char *what,
			  const char *desc)
{
	is_rc(hlx_hist_set_head(h, good, forged), HLX_OK,
	      "%s: forged commit installed as head", desc);
	is_rc(hlx_hist_check_chain(h), HLX_EINVAL, "%s: check_chain fails",
	      desc);
	ok(strstr(hlx_err_detail(), what) != NULL,
	   "%s: detail names '%s': %s", desc, what, hlx_err_detail());
	is_rc(hlx_hist_set_head(h, forged, good), HLX_OK,
	      "%s: good head restored", desc);
}

/* A shard path ("md5/ab/cd") for a line. */
static void shard_of(const char *line, char *path, size_t n)
{
	size_t t = strcspn(line, ":");

	snprintf(path, n, "%.*s/%c%c/%c%c", (int)t, line, line[t + 1],
		 line[t + 2], line[t + 3], line[t + 4]);
}

/* The lines of v's shard path, from the model. */
static void shard_text(const struct lines *l, const char *path,
		       struct hlx_buf *out)
{
	char p[64];

	hlx_buf_reset(out);
	for (size_t i = 0; i < l->n; i++) {
		shard_of(l->v[i], p, sizeof(p));
		if (!strcmp(p, path) && hlx_buf_puts(out, l->v[i]))
			abort();
	}
	if (hlx_buf_put(out, "", 0))
		abort();
}

/* The shards a sync keeps: many tiny distinct blobs never hold more than
 * the budget, their table of ids included (a hostile pack of small
 * objects must not grow the table past it), and what is kept is found. */
static void test_blobs(void)
{
	const size_t budget = 1 << 20;
	struct hlx_hist_blobs *b = NULL;
	size_t most = 0, tried = 200000;

	if (hlx_hist_blobs_new(budget, &b))
		abort();
	for (size_t i = 0; i < tried; i++) {
		char *p = hlx_hist_blobs_reserve(b, 8);

		if (!p)
			break;
		memcpy(p, &i, 8);
		hlx_hist_blobs_keep(b, p, 8, 3);
		if (hlx_hist_blobs_memory(b) > most)
			most = hlx_hist_blobs_memory(b);
	}
	ok(most <= budget, "%zu tiny blobs offered: at most %zu bytes held, table included (budget %zu)",
	   tried, most, budget);
	ok(hlx_hist_blobs_count(b) > 4000 && hlx_hist_blobs_count(b) < tried,
	   "some kept (%zu), not all", hlx_hist_blobs_count(b));
	ok(!hlx_hist_blobs_whole(b), "a store that could not keep one is not whole");
	hlx_hist_blobs_free(b);

	/* whole: every object offered kept; not after a second copy of
	 * one (libgit2's indexer refuses a pack holding one twice), nor
	 * after one dropped, nor one of a kind a pack of hlx's never holds */
	for (int k = 0; k < 4; k++) {
		int whole;

		if (hlx_hist_blobs_new(budget, &b))
			abort();
		for (int i = 0; i < 3; i++) {
			char *p = hlx_hist_blobs_reserve(b, 8);

			/* "object 0", "object 1", then "object 2" or again
			 * "object 1" */
			memcpy(p, "object 0", 8);
			p[7] = (char)('0' + (k == 1 && i == 2 ? 1 : i));
			if (k == 2 && i == 2)
				hlx_hist_blobs_drop(b, p, 8);
			else
				hlx_hist_blobs_keep(b, p, 8, k == 3 && i == 2 ? 4 : 3);
		}
		whole = hlx_hist_blobs_whole(b);
		ok(k == 0 ? whole && hlx_hist_blobs_count(b) == 3 : !whole,
		   "%s: %s (%zu kept)", k == 0 ? "three objects kept" :
		   k == 1 ? "the second again" : k == 2 ? "the third dropped" :
		   "the third a tag", whole ? "whole" : "not whole",
		   hlx_hist_blobs_count(b));
		hlx_hist_blobs_free(b);
	}
}

/* A pack of what oid reaches, as the publisher writes it, at path;
 * with bad, its trailer's last byte changed (which the bounded scanner
 * does not check, and libgit2's indexer does). */
static int write_pack(const char *oid, const char *path, int bad)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = fd < 0 ? HLX_EIO : hlx_pack_write(repo, NULL, oid, fd);
	uint8_t last;

	if (!rc && bad && (pread(fd, &last, 1, lseek(fd, 0, SEEK_END) - 1) != 1 ||
			   (last ^= 1, pwrite(fd, &last, 1, lseek(fd, 0, SEEK_END) - 1) != 1)))
		rc = HLX_EIO;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* hlx_hist_check_delta's callback: counts the lines added. */
static int count_added(void *ctx, const char *line, size_t len, int added)
{
	(void)len;
	if (line && added)
		++*(size_t *)ctx;
	return 0;
}

/* The number of objects a pack file declares (0: unreadable). */
static size_t pack_count(const char *path)
{
	uint8_t h[12];
	FILE *f = fopen(path, "rb");
	size_t n = f && fread(h, 1, sizeof(h), f) == sizeof(h) ?
		   (size_t)h[8] << 24 | (size_t)h[9] << 16 | (size_t)h[10] << 8 | h[11] : 0;

	if (f)
		fclose(f);
	return n;
}

/* The pack at path read as a stream into a new staging repository
 * (stage under dir): the indexer is the job's (*job). */
static int stream_in(const char *path, const char *stage, size_t budget,
		     struct hlx_hist_blobs **b, struct hlx_pack_job **job)
{
	int fd, rc;

	*b = NULL;
	*job = NULL;
	rc = hlx_pack_stage(NULL, stage);
	if (!rc)
		rc = hlx_hist_blobs_new(budget, b);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!rc && fd < 0)
		rc = HLX_EIO;
	if (!rc)
		rc = hlx_pack_index_stream(stage, path, fd, NULL, 0, *b, job);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A received pack read before libgit2 has indexed it (what a pull does
 * while the indexer works, node/packs.h): the scanner's objects, served
 * to a history in front of its packs, give the version whole (commit,
 * trees, shards) with no pack indexed at all; freed, they are gone; a
 * store that missed one says so; and the indexer's verdict on a pack
 * whose trailer is wrong comes when the job is finished. */
static void test_stream(struct hlx_hist *h, const char *oid1,
			const struct lines *v1)
{
	struct hlx_buf sig = HLX_BUF_INIT, sd = HLX_BUF_INIT;
	struct hlx_buf sig0 = HLX_BUF_INIT, sd0 = HLX_BUF_INIT;
	char pack[128], bad[128], stage[128];
	struct hlx_hist_blobs *b = NULL;
	struct hlx_pack_job *job = NULL;
	struct hlx_hist *hs = NULL;
	struct dirent *de;
	DIR *d;
	int gone = 0, left = 0;

	snprintf(pack, sizeof(pack), "%s/v1.pack", dir);
	snprintf(bad, sizeof(bad), "%s/v1-bad.pack", dir);
	is_rc(write_pack(oid1, pack, 0), HLX_OK, "the pack of version 1 is written");
	is_rc(write_pack(oid1, bad, 1), HLX_OK, "and one with a wrong trailer");

	snprintf(stage, sizeof(stage), "%s/stream-a.git", dir);
	is_rc(stream_in(pack, stage, (size_t)1 << 26, &b, &job), HLX_OK,
	      "the pack read as a stream and scanned to its end");
	ok(job != NULL && hlx_hist_blobs_whole(b) &&
	   hlx_hist_blobs_count(b) == pack_count(pack),
	   "the indexer a job of its own, every object in hand (%zu, as the "
	   "pack declares)", hlx_hist_blobs_count(b));
	/* the indexer stopped, and whatever it wrote taken away (it may
	 * have committed the pack already): the store is all there is */
	hlx_pack_job_abandon(job);
	job = NULL;
	{
		char packs[160], f[512];

		snprintf(packs, sizeof(packs), "%s/objects/pack", stage);
		if ((d = opendir(packs)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(f, sizeof(f), "%s/%s", packs, de->d_name);
				gone += unlink(f) == 0;
			}
			closedir(d);
		}
		if ((d = opendir(packs)) != NULL) {
			while ((de = readdir(d)) != NULL)
				left += de->d_name[0] != '.';
			closedir(d);
		}
	}
	if (left)
		ok(0, "(setup) staging's packs removed");
	printf("# the job abandoned; %d files of its removed\n", gone);
	is_rc(hlx_hist_open(stage, 0, &hs), HLX_OK, "the staging repository opens");
	ok(!content_is(hs, oid1, v1), "without the store the version is not there");
	is_rc(hlx_hist_blobs_serve(hs, b), HLX_OK, "the store served to it");
	is_rc(hlx_hist_blobs_serve(hs, b), HLX_EINVAL, "only once");
	ok(content_is(hs, oid1, v1), "through the store: version 1 whole, no pack indexed");
	ok(hlx_hist_signature(hs, oid1, &sig, &sd) == HLX_OK &&
	   hlx_hist_signature(h, oid1, &sig0, &sd0) == HLX_OK &&
	   sig.len == sig0.len && !memcmp(sig.data, sig0.data, sig.len) &&
	   sd.len == sd0.len && !memcmp(sd.data, sd0.data, sd.len),
	   "and its commit's signature and signed bytes, as the history's own");
	{
		size_t n[2] = { 0, 0 };

		is_rc(hlx_hist_check_delta(hs, NULL, oid1, count_added, &n[0],
					   &n[1], b), HLX_OK,
		      "and its check as a pull makes it, in two halves on two "
		      "threads, each with a history of its own");
		ok(n[0] + n[1] == v1->n && n[0] && n[1],
		   "every line added (%zu + %zu of %zu)", n[0], n[1], v1->n);
	}
	hlx_hist_blobs_free(b);
	b = NULL;
	/* (the commit stays in libgit2's cache of small objects: the
	 * shards are what is gone) */
	ok(!content_is(hs, oid1, v1), "the store freed: gone again");
	hlx_hist_free(hs);
	hs = NULL;

	snprintf(stage, sizeof(stage), "%s/stream-b.git", dir);
	is_rc(stream_in(pack, stage, 4096, &b, &job), HLX_OK,
	      "the same pack with a store of 4 KiB");
	ok(!hlx_hist_blobs_whole(b), "that store is not whole");
	is_rc(hlx_pack_job_finish(job), HLX_OK, "the job finished: indexed");
	hlx_hist_blobs_free(b);
	ok(hlx_hist_open(stage, 0, &hs) == HLX_OK && content_is(hs, oid1, v1),
	   "version 1 read from the pack indexed");
	hlx_hist_free(hs);

	/* an indexer that cannot start (no repository): its failure comes
	 * from the read or from the job's end, never a pack indexed */
	snprintf(stage, sizeof(stage), "%s/no-such.git", dir);
	b = NULL;
	job = NULL;
	{
		int fd = open(pack, O_RDONLY | O_CLOEXEC), r1, r2 = HLX_OK;

		if (hlx_hist_blobs_new((size_t)1 << 26, &b))
			abort();
		r1 = hlx_pack_index_stream(stage, pack, fd, NULL, 0, b, &job);
		if (r1 == HLX_OK)
			r2 = hlx_pack_job_finish(job);
		ok((r1 == HLX_OK) != (r2 == HLX_OK) || (r1 && job == NULL),
		   "an indexer that cannot open its repository fails the pack: %s",
		   hlx_err_detail());
		if (fd >= 0)
			close(fd);
		hlx_hist_blobs_free(b);
	}

	snprintf(stage, sizeof(stage), "%s/stream-c.git", dir);
	is_rc(stream_in(bad, stage, (size_t)1 << 26, &b, &job), HLX_OK,
	      "a wrong trailer passes the scanner");
	ok(job != NULL && hlx_hist_blobs_whole(b), "every object in hand");
	is_rc(hlx_pack_job_finish(job), HLX_EHISTORY,
	      "the indexer's verdict when the job is finished: %s", hlx_err_detail());
	hlx_hist_blobs_free(b);
	hlx_buf_free(&sig);
	hlx_buf_free(&sd);
	hlx_buf_free(&sig0);
	hlx_buf_free(&sd0);
}

/* ---- the tests ---------------------------------------------------------- */

int main(void)
{
	struct hlx_hist *h = NULL;
	struct lines v1 = { 0 }, v2 = { 0 }, chg = { 0 }, v3 = { 0 };
	struct hlx_hist_meta m = { ORG, LIST, 1, T0, "import: many added" };
	struct hlx_hist_version ver;
	struct hlx_buf b = HLX_BUF_INIT, sig = HLX_BUF_INIT, sd = HLX_BUF_INIT;
	struct hlx_pubkey pub;
	struct hlx_hist_op *ops, op;
	struct logged lg;
	struct diffs d;
	char oid1[41], oid2[41], oid3[41], oid[41], head[41], fo[41];
	char *retract, path[64], cmd[512];
	uint8_t seed[HLX_SEED_LEN];
	uint64_t rseed;
	int before, stops = 0;
	git_oid tid;

	if (sodium_init() < 0)
		return 1;
	test_blobs();
	rseed = 0x686c782d68697374ULL; /* fixed: runs repeat */
	if (getenv("HLX_SEED"))
		rseed = strtoull(getenv("HLX_SEED"), NULL, 0);
	rng_state = rseed;
	printf("# random seed 0x%016" PRIx64 " (HLX_SEED=n to change)\n",
	       rseed);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(0x42 + i);
	if (hlx_seckey_from_seed(seed, &key))
		return 1;
	hlx_seckey_public(key, &pub);
	snprintf(dir, sizeof(dir), "/tmp/hlx-test-history.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(repo, sizeof(repo), "%s/lists/" LIST ".git", dir);

	/* ---- opening ---- */
	is_rc(hlx_hist_open(repo, 0, &h), HLX_ENOENT,
	      "open without create: missing repository is ENOENT");
	ok(h == NULL, "no handle on failure");
	is_rc(hlx_hist_open(repo, 1, &h), HLX_OK, "open with create");
	is_rc(hlx_hist_head(h, head), HLX_ENOENT, "new history has no head");
	lg.n = 0;
	is_rc(hlx_hist_log(h, log_cb, &lg), HLX_OK, "log of empty history");
	ok(lg.n == 0, "empty log calls nothing");
	is_rc(hlx_hist_check_chain(h), HLX_OK, "empty history checks");
	is_rc(hlx_hist_find_version(h, 1, &ver), HLX_ENOENT,
	      "find_version in empty history");
	git_libgit2_init();
	gcheck(git_repository_open(&grepo, repo), "open");
	ok(git_repository_is_bare(grepo), "repository is bare");
	snprintf(cmd, sizeof(cmd), "git -C %s symbolic-ref HEAD", repo);
	ok(run(cmd, &b) == 0 && !strcmp((char *)b.data, "refs/heads/main\n"),
	   "HEAD -> refs/heads/main");

	/* ---- version 1 ---- */
	random_lines(&v1, NFIRST);
	ops = ops_of(&v1, NULL);
	m.version = 2;
	is_rc(hlx_hist_commit(h, ops, v1.n, &m, sign_cb, key, oid1),
	      HLX_EINVAL, "first version numbered 2 is refused");
	m.version = 1;
	m.summary = "bad\nsummary";
	is_rc(hlx_hist_commit(h, ops, v1.n, &m, sign_cb, key, oid1),
	      HLX_EINVAL, "summary with a newline is refused");
	m.summary = "";
	is_rc(hlx_hist_commit(h, ops, v1.n, &m, sign_cb, key, oid1),
	      HLX_EINVAL, "empty summary is refused");
	m.summary = "import: many added";
	m.org = "Bad Org";
	is_rc(hlx_hist_commit(h, ops, v1.n, &m, sign_cb, key, oid1),
	      HLX_EINVAL, "bad organisation name is refused");
	m.org = ORG;
	m.time = -1;
	is_rc(hlx_hist_commit(h, ops, v1.n, &m, sign_cb, key, oid1),
	      HLX_EINVAL, "negative time is refused");
	m.time = T0;
	before = count_objects();
	is_rc(hlx_hist_commit(h, ops, v1.n, &m, failing_sign, NULL, oid1),
	      HLX_ECRYPTO, "a failing signer fails the commit");
	ok(count_objects() == before, "nothing written after a failed sign");
	is_rc(hlx_hist_commit(h, ops, v1.n, &m, sign_cb, key, oid1), HLX_OK,
	      "version 1: %zu entries", v1.n);
	ok(strlen(oid1) == 40, "commit id is 40 hex digits");
	is_rc(hlx_hist_head(h, head), HLX_ENOENT,
	      "commit does not move the head");
	is_rc(hlx_hist_set_head(h, oid1, oid1), HLX_ESTATE,
	      "set_head expecting a head that does not exist");
	is_rc(hlx_hist_set_head(h, NULL, oid1), HLX_OK, "set_head to version 1");
	ok(hlx_hist_head(h, head) == HLX_OK && !strcmp(head, oid1),
	   "head is version 1");
	is_rc(hlx_hist_set_head(h, NULL, oid1), HLX_ESTATE,
	      "set_head expecting no head while there is one");
	ok(content_is(h, oid1, &v1), "foreach gives exactly the sorted input");
	test_stream(h, oid1, &v1);
	stops = 0;
	is_rc(hlx_hist_foreach(h, oid1, stop_cb, &stops), 42,
	      "foreach stops with the callback's value");
	free(ops);

	/* ---- version 2: adds, replacements, retractions ---- */
	{
		struct hlx_buf lb = HLX_BUF_INIT;
		struct hlx_entry e;
		struct lines exp_rm = { 0 }, exp_add = { 0 };

		retract = calloc(v1.n + 400, 1);
		for (size_t i = 0; i < v1.n; i++) {
			uint64_t r = rnd() % 100;

			if (r < 2) { /* retract */
				retract[chg.n] = 1;
				lines_add(&chg, v1.v[i], strlen(v1.v[i]));
				lines_add(&exp_rm, v1.v[i], strlen(v1.v[i]));
			} else if (r < 4) { /* replace: same hash, new meta */
				if (hlx_entry_decode(v1.v[i], strlen(v1.v[i]),
						     &e))
					abort();
				e.confidence = e.confidence == 7 ? 8 : 7;
				encode(&e, &lb);
				lines_add(&chg, (char *)lb.data, lb.len);
				lines_add(&v2, (char *)lb.data, lb.len);
				lines_add(&exp_rm, v1.v[i], strlen(v1.v[i]));
				lines_add(&exp_add, (char *)lb.data, lb.len);
			} else {
				lines_add(&v2, v1.v[i], strlen(v1.v[i]));
			}
		}
		for (int i = 0; i < 300; i++) { /* new hashes */
			random_entry(&e, types[rnd() % 6]);
			encode(&e, &lb);
			lines_add(&chg, (char *)lb.data, lb.len);
			lines_add(&v2, (char *)lb.data, lb.len);
			lines_add(&exp_add, (char *)lb.data, lb.len);
		}
		/* sort the changes by hash, keeping their flags */
		{
			struct change *c = calloc(chg.n, sizeof(*c));

			for (size_t i = 0; i < chg.n; i++) {
				c[i].line = chg.v[i];
				c[i].retract = retract[i];
			}
			qsort(c, chg.n, sizeof(*c), change_q);
			for (size_t i = 0; i < chg.n; i++) {
				chg.v[i] = c[i].line;
				retract[i] = (char)c[i].retract;
			}
			free(c);
		}
		lines_sort(&v2);
		ops = ops_of(&chg, retract);
		m.version = 2;
		m.time = T0 + 60;
		m.summary = "update: 300 added, some replaced and retracted";
		is_rc(hlx_hist_commit(h, ops, chg.n, &m, sign_cb, key, oid2),
		      HLX_OK, "version 2: %zu changes", chg.n);
		is_rc(hlx_hist_set_head(h, oid1, oid2), HLX_OK,
		      "set_head 1 -> 2");
		ok(content_is(h, oid2, &v2),
		   "version 2 content: adds, replacements, retractions");
		ok(content_is(h, oid1, &v1), "version 1 is unchanged");

		/* diff 1 -> 2 */
		memset(&d, 0, sizeof(d));
		d.ordered = 1;
		is_rc(hlx_hist_diff(h, oid1, oid2, diff_cb, &d), HLX_OK,
		      "diff 1 -> 2");
		qsort(d.removed.v, d.removed.n, sizeof(char *), str_q);
		qsort(d.added.v, d.added.n, sizeof(char *), str_q);
		qsort(exp_rm.v, exp_rm.n, sizeof(char *), str_q);
		qsort(exp_add.v, exp_add.n, sizeof(char *), str_q);
		ok(same_lines(&d.removed, &exp_rm),
		   "diff: removed lines are the retracted and replaced ones");
		ok(same_lines(&d.added, &exp_add),
		   "diff: added lines are the new and replacing ones");
		ok(d.ordered, "diff in hash order, removed before added");
		lines_free(&d.removed);
		lines_free(&d.added);
		memset(&d, 0, sizeof(d));
		d.ordered = 1;
		is_rc(hlx_hist_diff(h, NULL, oid1, diff_cb, &d), HLX_OK,
		      "diff from nothing");
		ok(d.removed.n == 0 && same_lines(&d.added, &v1),
		   "diff from nothing adds every line, in order");
		lines_free(&d.removed);
		lines_free(&d.added);
		memset(&d, 0, sizeof(d));
		is_rc(hlx_hist_diff(h, oid2, oid2, diff_cb, &d), HLX_OK,
		      "diff of a version with itself");
		ok(d.removed.n == 0 && d.added.n == 0, "... is empty");
		lines_free(&exp_rm);
		lines_free(&exp_add);
		hlx_buf_free(&lb);
		free(ops);
	}

	/* ---- refused changes write nothing ---- */
	before = count_objects();
	m.version = 3;
	{
		struct hlx_hist_op two[2];
		const char *absent = "md5:00000000000000000000000000000000";
		const char *l0 = v2.v[0], *l1 = v2.v[1];

		op.line = absent;
		op.len = strlen(absent);
		op.retract = 1;
		is_rc(hlx_hist_commit(h, &op, 1, &m, sign_cb, key, oid), HLX_ENOENT,
		      "retracting an absent hash is ENOENT");
		ok(strstr(hlx_err_detail(), absent) != NULL,
		   "detail names the hash: %s", hlx_err_detail());
		two[0].line = l1;
		two[0].len = strlen(l1);
		two[0].retract = 0;
		two[1].line = l0;
		two[1].len = strlen(l0);
		two[1].retract = 0;
		is_rc(hlx_hist_commit(h, two, 2, &m, sign_cb, key, oid),
		      HLX_EINVAL, "unsorted changes are refused");
		two[0] = two[1];
		is_rc(hlx_hist_commit(h, two, 2, &m, sign_cb, key, oid),
		      HLX_EINVAL, "a hash twice is refused");
		two[1].line = l0;
		two[1].len = hlen(l0);
		two[1].retract = 1;
		is_rc(hlx_hist_commit(h, two, 2, &m, sign_cb, key, oid),
		      HLX_EINVAL, "put and retract of one hash are refused");
		op.line = l0;
		op.len = strlen(l0) - 1;
		op.retract = 0;
		is_rc(hlx_hist_commit(h, &op, 1, &m, sign_cb, key, oid),
		      HLX_EINVAL, "a line without its newline is refused");
		op.line = "md5:0123\t-\t-\t-\t-\n";
		op.len = strlen(op.line);
		is_rc(hlx_hist_commit(h, &op, 1, &m, sign_cb, key, oid),
		      HLX_EINVAL, "a short hash is refused");
		op.line = "MD5:00000000000000000000000000000000\t-\t-\t-\t-\n";
		op.len = strlen(op.line);
		is_rc(hlx_hist_commit(h, &op, 1, &m, sign_cb, key, oid),
		      HLX_EINVAL, "a non-canonical line is refused");
		op.line = l0;
		op.len = strlen(l0);
		op.retract = 1;
		is_rc(hlx_hist_commit(h, &op, 1, &m, sign_cb, key, oid),
		      HLX_EINVAL, "a retraction with a whole line is refused");
		m.version = 2;
		op.retract = 0;
		is_rc(hlx_hist_commit(h, &op, 1, &m, sign_cb, key, oid),
		      HLX_EINVAL, "a version number already used is refused");
		m.version = 3;
		m.list = "other-list";
		is_rc(hlx_hist_commit(h, &op, 1, &m, sign_cb, key, oid),
		      HLX_EINVAL, "another list name is refused");
		m.list = LIST;
	}
	ok(count_objects() == before, "refused changes wrote nothing");
	ok(hlx_hist_head(h, head) == HLX_OK && !strcmp(head, oid2),
	   "head unchanged by refused changes");

	/* ---- version 3: retract every url-sha256 entry ---- */
	{
		struct lines r = { 0 };

		for (size_t i = 0; i < v2.n; i++) {
			if (!strncmp(v2.v[i], "url-sha256:", 11))
				lines_add(&r, v2.v[i], hlen(v2.v[i]));
			else
				lines_add(&v3, v2.v[i], strlen(v2.v[i]));
		}
		retract = realloc(retract, r.n);
		memset(retract, 1, r.n);
		ops = ops_of(&r, retract);
		m.summary = "retract: every url";
		m.time = T0 + 120;
		is_rc(hlx_hist_commit(h, ops, r.n, &m, sign_cb, key, oid3),
		      HLX_OK, "version 3: %zu retractions", r.n);
		is_rc(hlx_hist_set_head(h, oid1, oid3), HLX_ESTATE,
		      "set_head with a wrong expected head fails");
		ok(hlx_hist_head(h, head) == HLX_OK && !strcmp(head, oid2),
		   "... and leaves the head alone");
		is_rc(hlx_hist_set_head(h, oid2, oid3), HLX_OK, "set_head 2 -> 3");
		ok(content_is(h, oid3, &v3), "version 3 content");
		snprintf(cmd, sizeof(cmd),
			 "git -C %s ls-tree --name-only main", repo);
		ok(run(cmd, &b) == 0 && !strstr((char *)b.data, "url-sha256") &&
			   strstr((char *)b.data, "md5"),
		   "the emptied type directory is gone");
		lines_free(&r);
		free(ops);
	}

	/* ---- log, find, read ---- */
	lg.n = 0;
	is_rc(hlx_hist_log(h, log_cb, &lg), HLX_OK, "log");
	ok(lg.n == 3 && lg.v[0].version == 3 && lg.v[1].version == 2 &&
		   lg.v[2].version == 1,
	   "log: versions 3, 2, 1");
	ok(lg.n == 3 && !strcmp(lg.v[0].oid, oid3) &&
		   !strcmp(lg.v[0].parent, oid2) && !strcmp(lg.v[1].oid, oid2) &&
		   !strcmp(lg.v[1].parent, oid1) && !strcmp(lg.v[2].oid, oid1) &&
		   lg.v[2].parent[0] == '\0',
	   "log: ids and parents");
	ok(lg.n == 3 && lg.v[0].time == T0 + 120 && lg.v[2].time == T0 &&
		   !strcmp(lg.v[2].summary, "import: many added") &&
		   !strcmp(lg.v[0].summary, "retract: every url"),
	   "log: times and summaries");
	is_rc(hlx_hist_find_version(h, 2, &ver), HLX_OK, "find version 2");
	is_str(ver.oid, oid2, "version 2 is the second commit");
	is_rc(hlx_hist_find_version(h, 4, &ver), HLX_ENOENT,
	      "find version 4: ENOENT");
	is_rc(hlx_hist_find_version(h, 0, &ver), HLX_ENOENT,
	      "find version 0: ENOENT");
	is_rc(hlx_hist_read_version(h, oid2, &ver), HLX_OK, "read version 2");
	ok(ver.version == 2 && !strcmp(ver.parent, oid1) && ver.time == T0 + 60,
	   "read version 2: number, parent, time");
	is_rc(hlx_hist_read_version(h, "0123", &ver), HLX_EINVAL,
	      "read_version of a short id");
	is_rc(hlx_hist_read_version(h,
				    "0123456789abcdef0123456789abcdef01234567",
				    &ver),
	      HLX_ENOENT, "read_version of an unknown commit");
	is_rc(hlx_hist_read_version(h,
				    "0123456789ABCDEF0123456789abcdef01234567",
				    &ver),
	      HLX_EINVAL, "read_version of an uppercase id");
	is_rc(hlx_hist_foreach(h, "0123456789abcdef0123456789abcdef01234567",
			       collect_cb, &v2),
	      HLX_ENOENT, "foreach of an unknown commit");

	/* ---- signatures ---- */
	is_rc(hlx_hist_signature(h, oid2, &sig, &sd), HLX_OK,
	      "signature of version 2");
	{
		struct hlx_sshsig *s = NULL;

		ok(hlx_sshsig_parse_armor((char *)sig.data, sig.len, &s) ==
				   HLX_OK &&
			   hlx_sshsig_verify_key(s, &pub, "git", sd.data,
						 sd.len) == HLX_OK,
		   "it verifies over the signed bytes with the owner's key");
		ok(sd.len && !strstr((char *)sd.data, "gpgsig"),
		   "signed bytes exclude the gpgsig header");
		ok(strstr((char *)sd.data, "Hlx-Version: 2\n") != NULL &&
			   strstr((char *)sd.data,
				  "author " ORG " <" ORG "@hlx.invalid> ") != NULL,
		   "signed bytes hold the trailer and the author");
		hlx_sshsig_free(s);
	}
	is_rc(hlx_hist_check_chain(h), HLX_OK, "check_chain passes");

	/* ---- stock git ---- */
	{
		FILE *f;
		char as[256], shard[64];
		struct hlx_buf k = HLX_BUF_INIT, want = HLX_BUF_INIT;

		snprintf(as, sizeof(as), "%s/allowed_signers", dir);
		if (hlx_sshkey_format(&pub, NULL, &k))
			abort();
		f = fopen(as, "w");
		fprintf(f, "%s %s\n", ORG, (char *)k.data);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
			 "git -C %s -c gpg.format=ssh -c "
			 "gpg.ssh.allowedSignersFile=%s log --show-signature "
			 "2>&1",
			 repo, as);
		ok(run(cmd, &b) == 0 &&
			   count_str((char *)b.data, "Good \"git\" signature") == 3,
		   "git log --show-signature: 3 good signatures");
		if (count_str((char *)b.data, "Good \"git\" signature") != 3)
			printf("# %.600s\n", (char *)b.data);
		snprintf(cmd, sizeof(cmd), "git -C %s fsck --strict 2>&1", repo);
		ok(run(cmd, &b) == 0, "git fsck --strict passes");
		if (b.len > 1)
			printf("# fsck: %.300s\n", (char *)b.data);
		shard_of(v3.v[v3.n / 2], shard, sizeof(shard));
		snprintf(cmd, sizeof(cmd), "git -C %s show main:%s", repo, shard);
		shard_text(&v3, shard, &want);
		ok(run(cmd, &b) == 0 && !strcmp((char *)b.data, (char *)want.data),
		   "git show main:%s gives the shard's lines", shard);
		snprintf(cmd, sizeof(cmd), "git -C %s log --format=%%B -1 main~1",
			 repo);
		ok(run(cmd, &b) == 0 &&
			   !strcmp((char *)b.data,
				   "hlx: " LIST " version 2\n\nupdate: 300 added, "
				   "some replaced and retracted\n\nHlx-List: " LIST
				   "\nHlx-Version: 2\n\n"),
		   "commit message format");
		snprintf(cmd, sizeof(cmd),
			 "git -C %s log --format='%%an <%%ae> %%at %%ad' "
			 "--date=format:%%z -1 main",
			 repo);
		{
			char w[128];

			snprintf(w, sizeof(w), ORG " <" ORG "@hlx.invalid> %d +0000\n",
				 T0 + 120);
			ok(run(cmd, &b) == 0 && !strcmp((char *)b.data, w),
			   "author, committer email, time and zone");
		}
		hlx_buf_free(&k);
		hlx_buf_free(&want);
	}

	/* ---- reopening ---- */
	hlx_hist_free(h);
	h = NULL;
	is_rc(hlx_hist_open(repo, 0, &h), HLX_OK, "reopen");
	ok(hlx_hist_head(h, head) == HLX_OK && !strcmp(head, oid3),
	   "head survives reopening");

	/* ---- forged histories ---- */
	/* wrong version number on top of a good history */
	forge_tree(oid3, "md5/00/00",
		   "md5:00000000000000000000000000000000\t-\t-\t-\t-\n", &tid);
	forge_commit(&tid, oid3, NULL, 5, ORG, 0, fo);
	expect_defect(h, oid3, fo, "expected version 4",
		      "version 5 after version 3");
	is_rc(hlx_hist_set_head(h, oid3, fo), HLX_OK, "forged head again");
	lg.n = 0;
	is_rc(hlx_hist_log(h, log_cb, &lg), HLX_EINVAL,
	      "log fails on a wrong version number");
	is_rc(hlx_hist_read_version(h, fo, &ver), HLX_EINVAL,
	      "read_version fails on a wrong version number");
	is_rc(hlx_hist_find_version(h, 1, &ver), HLX_EINVAL,
	      "find_version fails on a wrong version number");
	is_rc(hlx_hist_set_head(h, fo, oid3), HLX_OK, "head restored");

	/* an unsorted shard */
	{
		char text[512];
		const char *a = NULL, *bb = NULL;

		for (size_t i = 1; i < v3.n && !a; i++) {
			char p1[64], p2[64];

			shard_of(v3.v[i - 1], p1, sizeof(p1));
			shard_of(v3.v[i], p2, sizeof(p2));
			if (!strcmp(p1, p2)) {
				a = v3.v[i - 1];
				bb = v3.v[i];
				strcpy(path, p1);
			}
		}
		ok(a != NULL, "found a shard with two lines: %s", path);
		if (a) {
			struct hlx_buf sh = HLX_BUF_INIT;

			shard_text(&v3, path, &sh);
			/* swap the two lines */
			snprintf(text, sizeof(text), "%s", (char *)sh.data);
			{
				char *p = strstr(text, a);
				size_t la = strlen(a), lb = strlen(bb);

				memcpy(p, bb, lb);
				memcpy(p + lb, a, la);
			}
			forge_tree(oid3, path, text, &tid);
			forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
			expect_defect(h, oid3, fo, path, "unsorted shard");
			ok(strstr(hlx_err_detail(), "version 4") != NULL,
			   "detail names the version");
			hlx_buf_free(&sh);
		}
	}
	/* a line in the wrong shard */
	{
		char text[512];

		snprintf(text, sizeof(text), "%s", v3.v[0]);
		forge_tree(oid3, "md5/ff/ff", text, &tid);
		forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
		expect_defect(h, oid3, fo, "wrong shard", "line in the wrong shard");
	}
	/* a duplicate hash in a shard */
	{
		char text[1024];

		shard_of(v3.v[0], path, sizeof(path));
		snprintf(text, sizeof(text), "%s%s", v3.v[0], v3.v[0]);
		forge_tree(oid3, path, text, &tid);
		forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
		expect_defect(h, oid3, fo, "not after", "duplicate hash");
	}
	/* a non-canonical line */
	forge_tree(oid3, "md5/ab/cd",
		   "md5:abcd0000000000000000000000000000\tX\t-\t-\t-\n", &tid);
	forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
	expect_defect(h, oid3, fo, "field 'category'", "non-canonical line");
	/* an empty shard */
	forge_tree(oid3, "md5/ab/cd", "", &tid);
	forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
	expect_defect(h, oid3, fo, "empty", "empty shard");
	/* a stray file at the top */
	forge_tree(oid3, "README", "hello\n", &tid);
	forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
	expect_defect(h, oid3, fo, "README", "stray file");
	/* a bad shard name */
	forge_tree(oid3, "md5/ab/cde", "x\n", &tid);
	forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
	expect_defect(h, oid3, fo, "cde", "bad shard name");
	/* unsigned */
	forge_tree(oid3, "md5/00/00",
		   "md5:00000000000000000000000000000000\t-\t-\t-\t-\n", &tid);
	forge_commit(&tid, oid3, NULL, 4, ORG, 1, fo);
	expect_defect(h, oid3, fo, "not signed", "unsigned commit");
	is_rc(hlx_hist_signature(h, fo, &sig, &sd), HLX_EBADSIG,
	      "hlx_hist_signature of an unsigned commit: EBADSIG");
	/* another owner */
	forge_commit(&tid, oid3, NULL, 4, "someone-else", 0, fo);
	expect_defect(h, oid3, fo, "someone-else", "owner changed");
	/* a merge */
	forge_commit(&tid, oid3, oid2, 4, ORG, 0, fo);
	expect_defect(h, oid3, fo, "parents", "merge commit");
	/* a second root */
	forge_commit(&tid, NULL, NULL, 4, ORG, 0, fo);
	expect_defect(h, oid3, fo, "expected version 1", "root numbered 4");
	/* a good forged-by-hand version passes: the checks are not vacuous */
	forge_commit(&tid, oid3, NULL, 4, ORG, 0, fo);
	is_rc(hlx_hist_set_head(h, oid3, fo), HLX_OK, "well-formed version 4");
	is_rc(hlx_hist_check_chain(h), HLX_OK, "... passes check_chain");
	is_rc(hlx_hist_set_head(h, fo, oid3), HLX_OK, "head restored");

	/* after all that, the real history is intact */
	is_rc(hlx_hist_check_chain(h), HLX_OK, "check_chain passes again");
	ok(content_is(h, oid3, &v3), "version 3 content intact");

	hlx_hist_free(h);
	git_repository_free(grepo);
	git_libgit2_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	lines_free(&v1);
	lines_free(&v2);
	lines_free(&v3);
	lines_free(&chg);
	free(retract);
	hlx_buf_free(&b);
	hlx_buf_free(&sig);
	hlx_buf_free(&sd);
	hlx_seckey_free(key);
	return done_testing();
}
