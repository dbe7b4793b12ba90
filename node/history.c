/* SPDX-License-Identifier: MIT */
/*
 * List histories in bare git repositories (node/history.h, spec/lists.md).
 *
 * A new version is built in memory: its blobs, trees and commit go to a
 * mempack backend that sits in front of the repository's object database,
 * then the whole lot is written as one pack (fsync'd by libgit2) before
 * hlx_hist_commit() returns.  Trees are rebuilt only along the paths of the
 * shards that change, so a one-entry version writes one blob, three trees
 * and a commit whatever the size of the list.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "node/history.h"
#include "node/files.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/record.h"

#define EMAIL_DOMAIN "hlx.invalid"
/* The trailer of a checkpoint root (spec/prune.md). */
#define CHECKPOINT_TRAILER "Hlx-Checkpoint: "
/* Tree levels: root (hash types), TYPE (first byte), TYPE/ab (shards). */
#define LEVEL_SHARDS 2

struct hlx_hist {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack; /* owned by odb */
	int pack_config;          /* PACK_CONFIG added to repo's */
};

/* ---- errors and small helpers ----------------------------------------- */

__attribute__((format(printf, 1, 2)))
static int gerr(const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return hlx_err(HLX_EHISTORY, "%s: %s", what,
		       e && e->message ? e->message : "libgit2 error");
}

static int is_lhex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int parse_oid(const char *s, git_oid *oid, const char *what)
{
	char q[HLX_QUOTE_SIZE];
	size_t i;

	if (!s)
		return hlx_err(HLX_EINVAL, "%s: missing commit id", what);
	for (i = 0; i < 40 && s[i]; i++)
		if (!is_lhex((unsigned char)s[i]))
			break;
	if (i != 40 || s[40] != '\0')
		return hlx_err(HLX_EINVAL,
			       "%s '%s': expected 40 lowercase hex digits", what,
			       hlx_quote(q, s, strlen(s)));
	if (git_oid_fromstr(oid, s) < 0)
		return gerr("%s '%s'", what, s);
	return HLX_OK;
}

static void fmt_oid(const git_oid *oid, char out[41])
{
	git_oid_fmt(out, oid);
	out[40] = '\0';
}

/* Organisation and list names: [a-z0-9][a-z0-9._-]{0,63}. */
static int name_check(const char *s, const char *what)
{
	char q[HLX_QUOTE_SIZE];
	size_t n;

	if (!s)
		return hlx_err(HLX_EINVAL, "%s: missing", what);
	n = strlen(s);
	if (n == 0 || n > HLX_HIST_NAME_MAX)
		return hlx_err(HLX_EINVAL, "%s '%s': must be 1 to %d characters",
			       what, hlx_quote(q, s, n), HLX_HIST_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return hlx_err(HLX_EINVAL,
				       "%s '%s': character %zu is not allowed",
				       what, hlx_quote(q, s, n), i + 1);
	}
	return HLX_OK;
}

static int summary_check(const char *s, size_t n)
{
	if (n == 0 || n > HLX_HIST_SUMMARY_MAX)
		return hlx_err(HLX_EINVAL,
			       "version summary: must be 1 to %d characters, got %zu",
			       HLX_HIST_SUMMARY_MAX, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return hlx_err(HLX_EINVAL,
				       "version summary: character %zu is not printable ASCII",
				       i + 1);
	return HLX_OK;
}

/*
 * The name of a checked hash field's directory or file at a tree level:
 * "md5", "ab" or "cd".  Type names are short: the colon comes early.
 */
static void field_key(const char *f, size_t fn, int level, const char **k,
		      size_t *kn)
{
	const char *colon = memchr(f, ':', fn < 16 ? fn : 16);
	size_t t = (size_t)(colon - f);

	if (level == 0) {
		*k = f;
		*kn = t;
	} else {
		*k = f + t + 1 + 2 * (level - 1);
		*kn = 2;
	}
}

static int key_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/* A version holds entry lines, or status lines for a status log: a line
 * must be one or the other in its canonical form. */
static int decode_line(const char *line, size_t n)
{
	struct hlx_entry e;
	struct hlx_status st;
	char detail[512];
	int rc = hlx_entry_decode(line, n, &e);

	if (!rc)
		return HLX_OK;
	/* Report the entry's defect, not the status line's. */
	snprintf(detail, sizeof(detail), "%s", hlx_err_detail());
	if (hlx_status_decode(line, n, &st) == HLX_OK) {
		hlx_err_clear();
		return HLX_OK;
	}
	return hlx_err(rc, "%s", detail);
}

/* ---- open / free -------------------------------------------------------- */

int hlx_hist_open(const char *path, int create, struct hlx_hist **out)
{
	struct hlx_hist *h;
	int rc, grc;

	*out = NULL;
	if (git_libgit2_init() < 0)
		return gerr("libgit2 initialisation");
	h = calloc(1, sizeof(*h));
	if (!h) {
		git_libgit2_shutdown();
		return hlx_err(HLX_ENOMEM, "history '%.200s': out of memory",
			       path);
	}
	/* Objects, packs and refs are fsync'd (with their directories)
	 * before they are renamed into place. */
	if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0) {
		rc = gerr("enabling fsync");
		goto fail;
	}
	grc = git_repository_open_ext(&h->repo, path,
				      GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (grc == GIT_ENOTFOUND && create) {
		/* made whole under PATH.init, then renamed into place: a
		 * process killed half-way leaves no half repository at PATH
		 * (a config.lock that no later open gets past) */
		git_repository_init_options o;
		git_repository *r = NULL;
		char tmp[PATH_MAX], dir[PATH_MAX];

		rc = hlx_pathf(tmp, "%s.init", path);
		if (!rc)
			rc = hlx_pathf(dir, "%s", path);
		if (!rc)
			rc = hlx_rm_rf(tmp);
		if (rc)
			goto fail;
		git_repository_init_options_init(
			&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_BARE |
			  GIT_REPOSITORY_INIT_MKPATH |
			  GIT_REPOSITORY_INIT_NO_REINIT;
		o.initial_head = "main";
		grc = git_repository_init_ext(&r, tmp, &o);
		git_repository_free(r);
		if (grc < 0) {
			rc = gerr("creating history '%.200s'", path);
			goto fail;
		}
		rc = hlx_fsync_path(tmp, 1);
		if (!rc && rename(tmp, path) != 0)
			rc = hlx_err(HLX_EIO, "cannot rename '%.200s': %s", tmp,
				     strerror(errno));
		if (!rc)
			rc = hlx_fsync_path(dirname(dir), 1);
		if (rc) {
			hlx_rm_rf(tmp);
			goto fail;
		}
		if (git_repository_open_ext(&h->repo, path,
					    GIT_REPOSITORY_OPEN_NO_SEARCH,
					    NULL) < 0) {
			rc = gerr("opening history '%.200s'", path);
			goto fail;
		}
	} else if (grc == GIT_ENOTFOUND) {
		rc = hlx_err(HLX_ENOENT, "history '%.200s': no repository",
			     path);
		goto fail;
	} else if (grc < 0) {
		rc = gerr("opening history '%.200s'", path);
		goto fail;
	}
	if (!git_repository_is_bare(h->repo)) {
		rc = hlx_err(HLX_EINVAL, "history '%.200s': not a bare repository",
			     path);
		goto fail;
	}
	if (git_repository_odb(&h->odb, h->repo) < 0 ||
	    git_mempack_new(&h->mempack) < 0) {
		rc = gerr("history '%.200s': object database", path);
		goto fail;
	}
	/* In front of the loose and pack backends: new objects go here. */
	if (git_odb_add_backend(h->odb, h->mempack, 1000) < 0) {
		h->mempack->free(h->mempack);
		h->mempack = NULL;
		rc = gerr("history '%.200s': object database", path);
		goto fail;
	}
	*out = h;
	return HLX_OK;
fail:
	hlx_hist_free(h);
	return rc;
}

void hlx_hist_free(struct hlx_hist *h)
{
	if (!h)
		return;
	git_odb_free(h->odb);
	git_repository_free(h->repo);
	free(h);
	git_libgit2_shutdown();
}

/* ---- commit metadata ---------------------------------------------------- */

struct cmeta {
	struct hlx_hist_version v;
	char org[HLX_HIST_NAME_MAX + 1];
	char list[HLX_HIST_NAME_MAX + 1];
	git_oid parent;
	int has_parent;
	/* a checkpoint root (spec/prune.md): the commit it replaces */
	char checkpoint[41];
};

static int build_message(struct hlx_buf *b, const char *list, uint64_t v,
			 const char *summary, size_t sn)
{
	return hlx_buf_printf(b,
			      "hlx: %s version %llu\n\n%.*s\n\n"
			      "Hlx-List: %s\nHlx-Version: %llu\n",
			      list, (unsigned long long)v, (int)sn, summary,
			      list, (unsigned long long)v);
}

/* A decimal version number: 1..UINT64_MAX, no leading zero. */
static int parse_version(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 20 || s[0] == '0')
		return HLX_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return HLX_EINVAL;
		d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return HLX_EINVAL;
		x = x * 10 + d;
	}
	*v = x;
	return HLX_OK;
}

static int check_person(const git_signature *s, const char *role,
			const char *org, const char *id)
{
	char want[HLX_HIST_NAME_MAX + sizeof(EMAIL_DOMAIN) + 2];
	char qn[HLX_QUOTE_SIZE], qe[HLX_QUOTE_SIZE];

	snprintf(want, sizeof(want), "%s@%s", org, EMAIL_DOMAIN);
	if (strcmp(s->name, org) != 0 || strcmp(s->email, want) != 0)
		return hlx_err(HLX_EINVAL,
			       "commit %.12s: %s '%s <%s>' is not the owner '%s'",
			       id, role, hlx_quote(qn, s->name,
							strlen(s->name)),
			       hlx_quote(qe, s->email, strlen(s->email)),
			       org);
	if (s->when.offset != 0)
		return hlx_err(HLX_EINVAL,
			       "commit %.12s: %s time zone is not +0000", id,
			       role);
	return HLX_OK;
}

/* Only tree, parent, author, committer and gpgsig (with continuation
 * lines) may appear in the header. */
static int check_header(const char *hdr, const char *id)
{
	static const char *const allowed[] = { "tree ", "parent ", "author ",
					       "committer ", "gpgsig ", " " };
	const char *p = hdr;
	char q[HLX_QUOTE_SIZE];

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t i;

		for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (!strncmp(p, allowed[i], strlen(allowed[i])))
				break;
		if (i == sizeof(allowed) / sizeof(allowed[0]))
			return hlx_err(HLX_EINVAL,
				       "commit %.12s: unexpected header line '%s'",
				       id, hlx_quote(q, p, strcspn(p, "\n")));
		if (!eol)
			break;
		p = eol + 1;
	}
	return HLX_OK;
}

/* The form of one commit; the version chain is checked by the callers. */
static int parse_commit(git_commit *c, struct cmeta *out)
{
	const git_signature *a = git_commit_author(c);
	const git_signature *k = git_commit_committer(c);
	const char *msg = git_commit_message_raw(c);
	const char *p, *q, *s, *se;
	struct hlx_buf want = HLX_BUF_INIT;
	char id[41], qt[HLX_QUOTE_SIZE];
	size_t ln;
	int rc;

	memset(out, 0, sizeof(*out));
	fmt_oid(git_commit_id(c), id);
	memcpy(out->v.oid, id, sizeof(id));
	if (git_commit_parentcount(c) > 1)
		return hlx_err(HLX_EINVAL, "commit %.12s: %u parents, at most 1 allowed",
			       id, git_commit_parentcount(c));
	if (git_commit_parentcount(c) == 1) {
		git_oid_cpy(&out->parent, git_commit_parent_id(c, 0));
		fmt_oid(&out->parent, out->v.parent);
		out->has_parent = 1;
	}
	rc = check_header(git_commit_raw_header(c), id);
	if (rc)
		return rc;
	if (git_commit_message_encoding(c))
		return hlx_err(HLX_EINVAL, "commit %.12s: has an encoding header", id);

	/* "hlx: LIST version N\n\nSUMMARY\n\n..." */
	if (!msg || strncmp(msg, "hlx: ", 5) != 0)
		goto bad_msg;
	p = msg + 5;
	q = strchr(p, ' ');
	if (!q || (size_t)(q - p) > HLX_HIST_NAME_MAX)
		goto bad_msg;
	ln = (size_t)(q - p);
	memcpy(out->list, p, ln);
	out->list[ln] = '\0';
	if (name_check(out->list, "list name"))
		goto bad_msg;
	if (strncmp(q, " version ", 9) != 0)
		goto bad_msg;
	p = q + 9;
	q = strchr(p, '\n');
	if (!q || parse_version(p, (size_t)(q - p), &out->v.version))
		goto bad_msg;
	if (q[1] != '\n')
		goto bad_msg;
	s = q + 2;
	se = strchr(s, '\n');
	if (!se || summary_check(s, (size_t)(se - s)))
		goto bad_msg;
	memcpy(out->v.summary, s, (size_t)(se - s));
	out->v.summary[se - s] = '\0';
	/* The whole message must be exactly what hlx writes. */
	rc = build_message(&want, out->list, out->v.version, out->v.summary,
			   (size_t)(se - s));
	if (rc)
		goto out;
	if (strcmp(msg, (const char *)want.data) != 0) {
		/* or a checkpoint root's: one more trailer at the end */
		const char *t = msg + want.len;

		if (strncmp(msg, (const char *)want.data, want.len) != 0 ||
		    strncmp(t, CHECKPOINT_TRAILER, strlen(CHECKPOINT_TRAILER)) != 0)
			goto bad_msg;
		t += strlen(CHECKPOINT_TRAILER);
		for (ln = 0; ln < 40; ln++)
			if (!is_lhex((unsigned char)t[ln]))
				goto bad_msg;
		if (strcmp(t + 40, "\n") != 0)
			goto bad_msg;
		memcpy(out->checkpoint, t, 40);
		out->checkpoint[40] = '\0';
	}

	if (name_check(a->name, "owner"))
		goto bad_person;
	snprintf(out->org, sizeof(out->org), "%s", a->name);
	rc = check_person(a, "author", out->org, id);
	if (!rc)
		rc = check_person(k, "committer", out->org, id);
	if (rc)
		goto out;
	if (a->when.time != k->when.time || k->when.time < 0 ||
	    k->when.time > HLX_HIST_TIME_MAX) {
		rc = hlx_err(HLX_EINVAL,
			     "commit %.12s: author and committer times differ or are out of range",
			     id);
		goto out;
	}
	out->v.time = k->when.time;
	rc = HLX_OK;
	goto out;
bad_person:
	rc = hlx_err(HLX_EINVAL,
		     "commit %.12s: author '%s' is not an organisation name", id,
		     hlx_quote(qt, a->name, strlen(a->name)));
	goto out;
bad_msg:
	rc = hlx_err(HLX_EINVAL,
		     "commit %.12s: message is not an hlx version message: '%s'",
		     id, hlx_quote(qt, msg ? msg : "", msg ? strlen(msg) : 0));
out:
	hlx_buf_free(&want);
	return rc;
}

static int lookup_commit(struct hlx_hist *h, const git_oid *oid,
			 git_commit **c)
{
	int grc = git_commit_lookup(c, h->repo, oid);

	if (grc == GIT_ENOTFOUND)
		return hlx_err(HLX_ENOENT, "commit %s: not in the history",
			       git_oid_tostr_s(oid));
	if (grc < 0)
		return gerr("reading commit %s", git_oid_tostr_s(oid));
	return HLX_OK;
}

static int read_meta(struct hlx_hist *h, const git_oid *oid,
		     struct cmeta *out)
{
	git_commit *c = NULL;
	int rc = lookup_commit(h, oid, &c);

	if (!rc)
		rc = parse_commit(c, out);
	git_commit_free(c);
	return rc;
}

/* child's version must follow parent's (or be 1 without a parent, or
 * more than 1 for a checkpoint root, which has no parent). */
static int check_number(const struct cmeta *child, const struct cmeta *parent)
{
	uint64_t want = parent ? parent->v.version + 1 : 1;

	if (child->checkpoint[0] && parent)
		return hlx_err(HLX_EINVAL,
			       "version %llu (commit %.12s): a checkpoint root must have no parent",
			       (unsigned long long)child->v.version,
			       child->v.oid);
	if (child->checkpoint[0]) {
		if (child->v.version < 2)
			return hlx_err(HLX_EINVAL,
				       "version %llu (commit %.12s): a checkpoint root must be version 2 or later",
				       (unsigned long long)child->v.version,
				       child->v.oid);
		return HLX_OK;
	}

	if (parent && parent->v.version == UINT64_MAX)
		want = 0;
	if (child->v.version != want)
		return hlx_err(HLX_EINVAL,
			       "version %llu (commit %.12s): expected version %llu after %s",
			       (unsigned long long)child->v.version,
			       child->v.oid, (unsigned long long)want,
			       parent ? parent->v.oid : "the start");
	return HLX_OK;
}

static int head_oid(struct hlx_hist *h, git_oid *oid)
{
	int grc = git_reference_name_to_id(oid, h->repo, HLX_HIST_BRANCH);

	if (grc == GIT_ENOTFOUND)
		return hlx_err(HLX_ENOENT, "history: no version yet");
	if (grc < 0)
		return gerr("reading %s", HLX_HIST_BRANCH);
	return HLX_OK;
}

int hlx_hist_head(struct hlx_hist *h, char oid[41])
{
	git_oid o;
	int rc = head_oid(h, &o);

	if (rc)
		return rc;
	fmt_oid(&o, oid);
	return HLX_OK;
}

int hlx_hist_read_version(struct hlx_hist *h, const char *oid,
			  struct hlx_hist_version *out)
{
	struct cmeta m, pm;
	git_oid o;
	int rc;

	rc = parse_oid(oid, &o, "version");
	if (!rc)
		rc = read_meta(h, &o, &m);
	if (!rc && m.has_parent)
		rc = read_meta(h, &m.parent, &pm);
	if (!rc)
		rc = check_number(&m, m.has_parent ? &pm : NULL);
	if (rc)
		return rc;
	*out = m.v;
	return HLX_OK;
}

/* Walk the first-parent chain from the head, checking the numbering. */
static int walk(struct hlx_hist *h,
		int (*cb)(void *ctx, const struct cmeta *m), void *ctx)
{
	struct cmeta cur, next;
	git_oid o;
	int rc = head_oid(h, &o);

	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (rc)
		return rc;
	rc = read_meta(h, &o, &cur);
	while (!rc) {
		if (cur.has_parent) {
			rc = read_meta(h, &cur.parent, &next);
			if (!rc)
				rc = check_number(&cur, &next);
		} else {
			rc = check_number(&cur, NULL);
		}
		if (!rc)
			rc = cb(ctx, &cur);
		if (rc || !cur.has_parent)
			break;
		cur = next;
	}
	return rc;
}

struct log_ctx {
	int (*cb)(void *ctx, const struct hlx_hist_version *v);
	void *ctx;
	uint64_t want;
	struct hlx_hist_version *found;
};

static int log_cb(void *ctx, const struct cmeta *m)
{
	struct log_ctx *l = ctx;

	return l->cb(l->ctx, &m->v);
}

int hlx_hist_log(struct hlx_hist *h,
		 int (*cb)(void *ctx, const struct hlx_hist_version *v),
		 void *ctx)
{
	struct log_ctx l = { cb, ctx, 0, NULL };

	return walk(h, log_cb, &l);
}

#define FOUND 1
#define PASSED 2

static int find_cb(void *ctx, const struct cmeta *m)
{
	struct log_ctx *l = ctx;

	if (m->v.version == l->want) {
		*l->found = m->v;
		return FOUND;
	}
	return m->v.version < l->want ? PASSED : 0;
}

int hlx_hist_find_version(struct hlx_hist *h, uint64_t version,
			  struct hlx_hist_version *out)
{
	struct log_ctx l = { NULL, NULL, version, out };
	int rc = version ? walk(h, find_cb, &l) : HLX_OK;

	if (rc == FOUND)
		return HLX_OK;
	if (rc == HLX_OK || rc == PASSED)
		return hlx_err(HLX_ENOENT, "history: no version %llu",
			       (unsigned long long)version);
	return rc;
}

/* ---- writing a version -------------------------------------------------- */

static int check_ops(const struct hlx_hist_op *ops, size_t n)
{
	struct hlx_hash hash;
	const char *pf = NULL;
	size_t pn = 0;

	for (size_t i = 0; i < n; i++) {
		const struct hlx_hist_op *op = &ops[i];
		size_t fn;
		int rc;

		if (!op->line || op->len == 0)
			return hlx_err(HLX_EINVAL, "change %zu: empty", i + 1);
		if (op->retract) {
			fn = op->len;
			if (fn >= HLX_HASH_TEXT_MAX)
				return hlx_err(HLX_ETOOBIG,
					       "retraction %zu: hash is too long", i + 1);
			rc = hlx_hash_parse_canonical(op->line, fn, &hash);
		} else {
			fn = hlx_line_hash_len(op->line, op->len);
			rc = decode_line(op->line, op->len);
		}
		if (rc)
			return hlx_err_wrap(rc, "change %zu (%s)", i + 1,
					    op->retract ? "retract" : "put");
		if (pf && hlx_line_hash_cmp(pf, pn, op->line, fn) >= 0)
			return hlx_err(HLX_EINVAL,
				       "change %zu ('%.*s'): changes are not sorted by hash or a hash appears twice",
				       i + 1, (int)(fn < 80 ? fn : 80), op->line);
		pf = op->line;
		pn = fn;
	}
	return HLX_OK;
}

struct build {
	struct hlx_hist *h;
	const struct hlx_hist_op *ops;
	struct hlx_buf shard;
	struct hlx_buf ids; /* git_oid[]: the objects written */
};

static int add_obj(struct build *b, const git_oid *id)
{
	return hlx_buf_put(&b->ids, id, sizeof(*id));
}

/* The end of the group of ops[from..to) sharing ops[from]'s key. */
static size_t group_end(const struct hlx_hist_op *ops, size_t from,
			size_t to, int level)
{
	const char *k, *k2;
	size_t kn, kn2, i;

	field_key(ops[from].line, ops[from].len, level, &k, &kn);
	for (i = from + 1; i < to; i++) {
		field_key(ops[i].line, ops[i].len, level, &k2, &kn2);
		if (!key_eq(k, kn, k2, kn2))
			break;
	}
	return i;
}

/* Apply ops[from..to) to the lines of one shard, into b->shard. */
static int merge_shard(struct build *b, const char *old, size_t on,
		       size_t from, size_t to)
{
	struct hlx_buf *o = &b->shard;
	size_t pos = 0;
	int rc;

	hlx_buf_reset(o);
	for (size_t i = from; i < to; i++) {
		const struct hlx_hist_op *op = &b->ops[i];
		size_t fn = op->retract ? op->len : hlx_line_hash_len(op->line, op->len);
		int found = 0;

		while (pos < on) {
			const char *l = old + pos;
			const char *nl = memchr(l, '\n', on - pos);
			size_t ll;
			int c;

			if (!nl)
				return hlx_err(HLX_EINVAL,
					       "shard of '%.*s': last line has no newline",
					       (int)(fn < 80 ? fn : 80), op->line);
			ll = (size_t)(nl - l) + 1;
			c = hlx_line_hash_cmp(l, hlx_line_hash_len(l, ll - 1), op->line, fn);
			if (c > 0)
				break;
			pos += ll;
			if (c == 0) {
				found = 1;
				break;
			}
			rc = hlx_buf_put(o, l, ll);
			if (rc)
				return rc;
		}
		if (op->retract && !found)
			return hlx_err(HLX_ENOENT,
				       "retract '%.*s': not in the list",
				       (int)(fn < 80 ? fn : 80), op->line);
		if (!op->retract) {
			rc = hlx_buf_put(o, op->line, op->len);
			if (rc)
				return rc;
		}
	}
	if (pos < on) {
		if (old[on - 1] != '\n')
			return hlx_err(HLX_EINVAL, "shard: last line has no newline");
		return hlx_buf_put(o, old + pos, on - pos);
	}
	return HLX_OK;
}

static int build_shard(struct build *b, const git_tree_entry *old,
		       size_t from, size_t to, git_oid *out, int *empty)
{
	git_blob *blob = NULL;
	const char *data = NULL;
	size_t n = 0;
	int rc;

	if (old) {
		const char *name = git_tree_entry_name(old);
		char q[HLX_QUOTE_SIZE];

		hlx_quote(q, name, strlen(name));
		if (git_tree_entry_type(old) != GIT_OBJECT_BLOB)
			return hlx_err(HLX_EINVAL, "shard '%s' is not a file", q);
		if (git_blob_lookup(&blob, b->h->repo,
				    git_tree_entry_id(old)) < 0)
			return gerr("reading shard '%s'", q);
		data = git_blob_rawcontent(blob);
		n = (size_t)git_blob_rawsize(blob);
	}
	rc = merge_shard(b, data, n, from, to);
	git_blob_free(blob);
	if (rc)
		return rc;
	*empty = b->shard.len == 0;
	if (*empty)
		return HLX_OK;
	/*
	 * Straight into the mempack: git_odb_write() would first look for
	 * the object in every backend and rescan objects/pack for each new
	 * one.  A shard that happens to exist already is packed again,
	 * which is harmless.
	 */
	if (git_odb_hash(out, b->shard.data, b->shard.len,
			 GIT_OBJECT_BLOB) < 0 ||
	    b->h->mempack->write(b->h->mempack, out, b->shard.data,
				 b->shard.len, GIT_OBJECT_BLOB) < 0)
		return gerr("writing a shard");
	return add_obj(b, out);
}

/*
 * Rebuild the tree at level (0 root, 1 type, 2 first byte) from old (may
 * be NULL) and ops[from..to), which all fall under it.  *empty is set
 * when the result has no entry (not written, except at the root).
 */
static int build_tree(struct build *b, const git_tree *old, int level,
		      size_t from, size_t to, git_oid *out, int *empty)
{
	git_treebuilder *tb = NULL;
	int rc = HLX_OK;

	if (git_treebuilder_new(&tb, b->h->repo, old) < 0)
		return gerr("building a tree");
	for (size_t i = from; i < to;) {
		size_t j = group_end(b->ops, i, to, level);
		const git_tree_entry *e = NULL;
		const char *k;
		char name[HLX_HASH_TEXT_MAX];
		size_t kn;
		git_oid sub;
		int sub_empty = 0;

		field_key(b->ops[i].line, b->ops[i].len, level, &k, &kn);
		memcpy(name, k, kn);
		name[kn] = '\0';
		if (old)
			e = git_tree_entry_byname(old, name);
		if (level == LEVEL_SHARDS) {
			rc = build_shard(b, e, i, j, &sub, &sub_empty);
		} else {
			git_tree *st = NULL;

			if (e && git_tree_entry_type(e) != GIT_OBJECT_TREE) {
				rc = hlx_err(HLX_EINVAL,
					     "history tree: '%s' is not a directory",
					     name);
				goto out;
			}
			if (e && git_tree_lookup(&st, b->h->repo,
						 git_tree_entry_id(e)) < 0) {
				rc = gerr("reading tree '%s'", name);
				goto out;
			}
			rc = build_tree(b, st, level + 1, i, j, &sub,
					&sub_empty);
			git_tree_free(st);
		}
		if (rc)
			goto out;
		if (sub_empty) {
			if (e && git_treebuilder_remove(tb, name) < 0) {
				rc = gerr("removing '%s'", name);
				goto out;
			}
		} else if (git_treebuilder_insert(NULL, tb, name, &sub,
						  level == LEVEL_SHARDS ?
							  GIT_FILEMODE_BLOB :
							  GIT_FILEMODE_TREE) < 0) {
			rc = gerr("adding '%s' to a tree", name);
			goto out;
		}
		i = j;
	}
	*empty = git_treebuilder_entrycount(tb) == 0;
	if (!*empty || level == 0) {
		if (git_treebuilder_write(out, tb) < 0)
			rc = gerr("writing a tree");
		else
			rc = add_obj(b, out);
	}
out:
	git_treebuilder_free(tb);
	return rc;
}

/*
 * Packing.  The new objects are written by libgit2's packbuilder, with
 * the delta search turned off: on the random content of hash lists it
 * finds nothing and costs four times the rest of an import (16 s of 20 s
 * for a million entries).  libgit2 1.5 takes the size above which it does
 * not look for deltas from pack.deltaCacheSize; git calls it
 * core.bigFileThreshold.  The setting lives in a file of its own that
 * hlx adds on top of the configuration of the handles it packs with; git
 * never reads it, so git gc and git repack still make deltas.
 */
#define PACK_CONFIG HLX_HIST_PACK_CONFIG
#define PACK_CONFIG_TEXT HLX_HIST_PACK_CONFIG_TEXT

/* The pack configuration on top of h's, written if missing. */
static int use_pack_config(struct hlx_hist *h)
{
	const char *gitdir = git_repository_path(h->repo);
	git_config *cfg = NULL;
	char path[4096];
	int rc = HLX_OK;

	if (h->pack_config)
		return HLX_OK;
	if ((size_t)snprintf(path, sizeof(path), "%s%s", gitdir,
			     PACK_CONFIG) >= sizeof(path))
		return hlx_err(HLX_ETOOBIG, "history '%.200s': path too long",
			       gitdir);
	if (access(path, R_OK) != 0 &&
	    (rc = hlx_file_write(path, PACK_CONFIG_TEXT, strlen(PACK_CONFIG_TEXT),
				 0644)))
		return hlx_err_wrap(rc, "history");
	if (git_repository_config(&cfg, h->repo) < 0 ||
	    git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP,
				       h->repo, 1) < 0)
		rc = gerr("history '%.200s': pack configuration", gitdir);
	else
		h->pack_config = 1;
	git_config_free(cfg);
	return rc;
}

/* Feeds the pack stream to the indexer in large chunks: the packbuilder
 * writes each object in three small pieces, and the indexer does a write
 * and some bookkeeping per piece. */
#define PACK_CHUNK (1024 * 1024)

struct pack_feed {
	git_odb_writepack *wp;
	git_indexer_progress st;
	uint8_t *buf;
	size_t len;
};

static int feed_flush(struct pack_feed *f)
{
	int grc = 0;

	if (f->len)
		grc = f->wp->append(f->wp, f->buf, f->len, &f->st);
	f->len = 0;
	return grc;
}

static int feed_cb(void *data, size_t n, void *ctx)
{
	struct pack_feed *f = ctx;
	const uint8_t *p = data;
	int grc;

	while (n) {
		size_t k = PACK_CHUNK - f->len < n ? PACK_CHUNK - f->len : n;

		memcpy(f->buf + f->len, p, k);
		f->len += k;
		p += k;
		n -= k;
		if (f->len == PACK_CHUNK && (grc = feed_flush(f)) < 0)
			return grc;
	}
	return 0;
}

/*
 * Write ids[0..n) (in the mempack) as one pack in objects/pack.  The
 * indexer checks every object and fsyncs pack, index and directory before
 * renaming them into place (GIT_OPT_ENABLE_FSYNC_GITDIR).
 */
static int flush_objects(struct hlx_hist *h, const git_oid *ids, size_t n)
{
	struct pack_feed f;
	git_packbuilder *pb = NULL;
	int rc = use_pack_config(h);

	if (rc)
		return rc;
	memset(&f, 0, sizeof(f));
	f.buf = malloc(PACK_CHUNK);
	if (!f.buf)
		return hlx_err(HLX_ENOMEM, "history: out of memory");
	if (git_packbuilder_new(&pb, h->repo) < 0)
		goto fail;
	git_packbuilder_set_threads(pb, 1);
	for (size_t i = 0; i < n; i++)
		if (git_packbuilder_insert(pb, &ids[i], NULL) < 0)
			goto fail;
	if (git_odb_write_pack(&f.wp, h->odb, NULL, NULL) < 0 ||
	    git_packbuilder_foreach(pb, feed_cb, &f) < 0 ||
	    feed_flush(&f) < 0 || f.wp->commit(f.wp, &f.st) < 0)
		goto fail;
	goto out;
fail:
	rc = gerr("writing the pack of the new version");
out:
	if (f.wp)
		f.wp->free(f.wp);
	git_packbuilder_free(pb);
	free(f.buf);
	return rc;
}

int hlx_hist_commit(struct hlx_hist *h, const struct hlx_hist_op *ops,
		    size_t n, const struct hlx_hist_meta *m,
		    hlx_hist_sign_fn sign, void *ctx, char oid[41])
{
	struct build b = { h, ops, HLX_BUF_INIT, HLX_BUF_INIT };
	struct hlx_buf msg = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	git_signature *who = NULL;
	git_commit *parent = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	git_buf body = GIT_BUF_INIT;
	char email[HLX_HIST_NAME_MAX + sizeof(EMAIL_DOMAIN) + 2];
	git_oid head, root, coid;
	struct cmeta pm;
	int rc, empty;

	oid[0] = '\0';
	if (!sign)
		return hlx_err(HLX_EINVAL, "commit: no signing function");
	rc = name_check(m->org, "owner");
	if (!rc)
		rc = name_check(m->list, "list name");
	if (!rc)
		rc = summary_check(m->summary ? m->summary : "",
				   m->summary ? strlen(m->summary) : 0);
	if (rc)
		return rc;
	if (m->time < 0 || m->time > HLX_HIST_TIME_MAX)
		return hlx_err(HLX_EINVAL, "version time %lld: out of range",
			       (long long)m->time);
	rc = check_ops(ops, n);
	if (rc)
		return rc;

	rc = head_oid(h, &head);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		if (m->version != 1)
			return hlx_err(HLX_EINVAL,
				       "list '%s': the first version must be 1, not %llu",
				       m->list, (unsigned long long)m->version);
	} else if (rc) {
		return rc;
	} else {
		rc = lookup_commit(h, &head, &parent);
		if (!rc)
			rc = parse_commit(parent, &pm);
		if (rc)
			goto out;
		if (strcmp(pm.list, m->list) || strcmp(pm.org, m->org)) {
			rc = hlx_err(HLX_EINVAL,
				     "list '%s' of '%s': the history is list '%s' of '%s'",
				     m->list, m->org, pm.list, pm.org);
			goto out;
		}
		if (pm.v.version == UINT64_MAX ||
		    m->version != pm.v.version + 1) {
			rc = hlx_err(HLX_EINVAL,
				     "list '%s': version %llu does not follow version %llu",
				     m->list, (unsigned long long)m->version,
				     (unsigned long long)pm.v.version);
			goto out;
		}
		if (git_commit_tree(&ptree, parent) < 0) {
			rc = gerr("reading the tree of version %llu",
				  (unsigned long long)pm.v.version);
			goto out;
		}
	}

	rc = build_tree(&b, ptree, 0, 0, n, &root, &empty);
	if (rc)
		goto out;
	snprintf(email, sizeof(email), "%s@%s", m->org, EMAIL_DOMAIN);
	if (git_tree_lookup(&tree, h->repo, &root) < 0 ||
	    git_signature_new(&who, m->org, email, m->time, 0) < 0) {
		rc = gerr("preparing the commit");
		goto out;
	}
	rc = build_message(&msg, m->list, m->version, m->summary,
			   strlen(m->summary));
	if (rc)
		goto out;
	if (git_commit_create_buffer(&body, h->repo, who, who, NULL,
				     (const char *)msg.data, tree,
				     parent ? 1 : 0,
				     (const git_commit **)&parent) < 0) {
		rc = gerr("formatting the commit");
		goto out;
	}
	rc = sign(ctx, (const uint8_t *)body.ptr, body.size, &sig);
	if (rc)
		goto out;
	/* git writes the signature's lines without the final newline. */
	while (sig.len && sig.data[sig.len - 1] == '\n')
		sig.data[--sig.len] = '\0';
	if (sig.len == 0 || memchr(sig.data, '\0', sig.len)) {
		rc = hlx_err(HLX_EINVAL, "commit signature: empty or not text");
		goto out;
	}
	if (git_commit_create_with_signature(&coid, h->repo, body.ptr,
					     (const char *)sig.data,
					     "gpgsig") < 0) {
		rc = gerr("writing the commit");
		goto out;
	}
	rc = add_obj(&b, &coid);
	if (!rc)
		rc = flush_objects(h, (const git_oid *)b.ids.data,
				   b.ids.len / sizeof(git_oid));
	if (rc)
		goto out;
	fmt_oid(&coid, oid);
out:
	git_mempack_reset(h->mempack);
	git_buf_dispose(&body);
	git_signature_free(who);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	hlx_buf_free(&sig);
	hlx_buf_free(&msg);
	hlx_buf_free(&b.shard);
	hlx_buf_free(&b.ids);
	return rc;
}

int hlx_hist_set_head(struct hlx_hist *h, const char *expected,
		      const char *oid)
{
	git_reference *ref = NULL;
	git_commit *c = NULL;
	git_oid o, e;
	int rc, grc;

	rc = parse_oid(oid, &o, "new head");
	if (!rc && expected)
		rc = parse_oid(expected, &e, "expected head");
	if (!rc)
		rc = lookup_commit(h, &o, &c);
	git_commit_free(c);
	if (rc)
		return rc;
	if (expected)
		grc = git_reference_create_matching(&ref, h->repo,
						    HLX_HIST_BRANCH, &o, 1,
						    &e, "hlx: new version");
	else
		grc = git_reference_create(&ref, h->repo, HLX_HIST_BRANCH, &o,
					   0, "hlx: first version");
	git_reference_free(ref);
	if (grc == GIT_EEXISTS || grc == GIT_EMODIFIED ||
	    (grc == GIT_ENOTFOUND && expected))
		return hlx_err(HLX_ESTATE,
			       "history head is not at %s: another writer moved it",
			       expected ? expected : "the start");
	if (grc < 0)
		return gerr("moving %s to %s", HLX_HIST_BRANCH, oid);
	return HLX_OK;
}

/* ---- reading versions --------------------------------------------------- */

static int commit_tree(struct hlx_hist *h, const char *oid, git_tree **t)
{
	git_commit *c = NULL;
	git_oid o;
	int rc;

	*t = NULL;
	rc = parse_oid(oid, &o, "version");
	if (!rc)
		rc = lookup_commit(h, &o, &c);
	if (!rc && git_commit_tree(t, c) < 0)
		rc = gerr("reading the tree of %s", oid);
	git_commit_free(c);
	return rc;
}

static int check_name(const char *name, int level)
{
	enum hlx_hash_type t;

	if (level == 0)
		return hlx_hash_type_parse(name, strlen(name), &t) ?
			       HLX_EINVAL : HLX_OK;
	return strlen(name) == 2 && is_lhex(name[0]) && is_lhex(name[1]) ?
		       HLX_OK : HLX_EINVAL;
}

/* An entry of the expected kind and name at its level. */
static int check_entry(const git_tree_entry *e, int level, const char *dir)
{
	const char *name = git_tree_entry_name(e);
	git_filemode_t want = level == LEVEL_SHARDS ? GIT_FILEMODE_BLOB :
						      GIT_FILEMODE_TREE;
	char q[HLX_QUOTE_SIZE];

	if (check_name(name, level))
		return hlx_err(HLX_EINVAL, "'%s%s': not a %s name", dir,
			       hlx_quote(q, name, strlen(name)),
			       level == 0 ? "hash type" : "shard");
	if (git_tree_entry_filemode_raw(e) != want)
		return hlx_err(HLX_EINVAL, "'%s%s': not a %s", dir, name,
			       level == LEVEL_SHARDS ? "regular file" :
						       "directory");
	return HLX_OK;
}

struct lines {
	git_blob *blob;
	const char *p;
	size_t n, pos;
};

static int lines_open(struct hlx_hist *h, const git_oid *id, struct lines *l,
		      const char *path)
{
	memset(l, 0, sizeof(*l));
	if (!id)
		return HLX_OK;
	if (git_blob_lookup(&l->blob, h->repo, id) < 0)
		return gerr("reading shard '%s'", path);
	l->p = git_blob_rawcontent(l->blob);
	l->n = (size_t)git_blob_rawsize(l->blob);
	if (l->n && l->p[l->n - 1] != '\n')
		return hlx_err(HLX_EINVAL, "shard '%s': last line has no newline",
			       path);
	return HLX_OK;
}

/* Next line ('\n' included) or 0 at the end. */
static size_t lines_next(struct lines *l, const char **line)
{
	const char *nl;
	size_t n;

	if (l->pos >= l->n)
		return 0;
	*line = l->p + l->pos;
	nl = memchr(*line, '\n', l->n - l->pos);
	n = (size_t)(nl - *line) + 1;
	l->pos += n;
	return n;
}

static void lines_close(struct lines *l)
{
	git_blob_free(l->blob);
	l->blob = NULL;
}

struct each {
	struct hlx_hist *h;
	int (*cb)(void *ctx, const char *line, size_t len);
	void *ctx;
	char path[128];
};

static int foreach_tree(struct each *w, const git_tree *t, int level)
{
	size_t plen = strlen(w->path);
	int rc = HLX_OK;

	for (size_t i = 0; i < git_tree_entrycount(t) && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);

		rc = check_entry(e, level, w->path);
		if (rc)
			break;
		snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s",
			 git_tree_entry_name(e), level < LEVEL_SHARDS ? "/" : "");
		if (level < LEVEL_SHARDS) {
			git_tree *st;

			if (git_tree_lookup(&st, w->h->repo,
					    git_tree_entry_id(e)) < 0)
				return gerr("reading tree '%s'", w->path);
			rc = foreach_tree(w, st, level + 1);
			git_tree_free(st);
		} else {
			struct lines l;
			const char *line;
			size_t n;

			rc = lines_open(w->h, git_tree_entry_id(e), &l,
					w->path);
			while (!rc && (n = lines_next(&l, &line)))
				rc = w->cb(w->ctx, line, n);
			lines_close(&l);
		}
		w->path[plen] = '\0';
	}
	return rc;
}

int hlx_hist_foreach(struct hlx_hist *h, const char *oid,
		     int (*cb)(void *ctx, const char *line, size_t len),
		     void *ctx)
{
	struct each w = { h, cb, ctx, "" };
	git_tree *t;
	int rc = commit_tree(h, oid, &t);

	if (!rc)
		rc = foreach_tree(&w, t, 0);
	git_tree_free(t);
	return rc;
}

/* Compare two sorted shards line by line. */
static int diff_lines(struct lines *a, struct lines *b,
		      int (*cb)(void *ctx, const char *line, size_t len,
				int added),
		      void *ctx)
{
	const char *la = NULL, *lb = NULL;
	size_t na = lines_next(a, &la), nb = lines_next(b, &lb);
	int rc = HLX_OK;

	while (!rc && (na || nb)) {
		int c;

		if (!na)
			c = 1;
		else if (!nb)
			c = -1;
		else
			c = hlx_line_hash_cmp(la, hlx_line_hash_len(la, na - 1), lb,
				      hlx_line_hash_len(lb, nb - 1));
		if (c == 0 && na == nb && !memcmp(la, lb, na)) {
			na = lines_next(a, &la);
			nb = lines_next(b, &lb);
			continue;
		}
		if (c <= 0) {
			rc = cb(ctx, la, na, 0);
			na = lines_next(a, &la);
		}
		if (!rc && c >= 0) {
			rc = cb(ctx, lb, nb, 1);
			nb = lines_next(b, &lb);
		}
	}
	return rc;
}

int hlx_hist_diff(struct hlx_hist *h, const char *old, const char *new_,
		  int (*cb)(void *ctx, const char *line, size_t len,
			    int added),
		  void *ctx)
{
	git_tree *ot = NULL, *nt = NULL;
	git_diff_options o;
	git_diff *d = NULL;
	int rc = HLX_OK;

	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);

	if (old)
		rc = commit_tree(h, old, &ot);
	if (!rc)
		rc = commit_tree(h, new_, &nt);
	if (rc)
		goto out;
	if (git_diff_tree_to_tree(&d, h->repo, ot, nt, &o) < 0) {
		rc = gerr("comparing versions");
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(d) && !rc; i++) {
		const git_diff_delta *dd = git_diff_get_delta(d, i);
		const char *p = dd->new_file.path ? dd->new_file.path :
						    dd->old_file.path;
		struct lines a = { 0 }, b = { 0 };
		int has_a = !git_oid_is_zero(&dd->old_file.id);
		int has_b = !git_oid_is_zero(&dd->new_file.id);
		char path[HLX_QUOTE_SIZE];

		hlx_quote(path, p, strlen(p));
		if ((has_a && dd->old_file.mode != GIT_FILEMODE_BLOB) ||
		    (has_b && dd->new_file.mode != GIT_FILEMODE_BLOB)) {
			rc = hlx_err(HLX_EINVAL, "'%s': not a regular file",
				     path);
			break;
		}
		rc = lines_open(h, has_a ? &dd->old_file.id : NULL, &a, path);
		if (!rc)
			rc = lines_open(h, has_b ? &dd->new_file.id : NULL, &b,
					path);
		if (!rc)
			rc = diff_lines(&a, &b, cb, ctx);
		lines_close(&a);
		lines_close(&b);
	}
out:
	git_diff_free(d);
	git_tree_free(ot);
	git_tree_free(nt);
	return rc;
}

int hlx_hist_signature(struct hlx_hist *h, const char *oid,
		       struct hlx_buf *sig, struct hlx_buf *signed_data)
{
	git_buf s = GIT_BUF_INIT, d = GIT_BUF_INIT;
	git_commit *c = NULL;
	git_oid o;
	int rc, grc;

	hlx_buf_reset(sig);
	hlx_buf_reset(signed_data);
	rc = parse_oid(oid, &o, "version");
	if (!rc)
		rc = lookup_commit(h, &o, &c);
	git_commit_free(c);
	if (rc)
		return rc;
	grc = git_commit_extract_signature(&s, &d, h->repo, &o, "gpgsig");
	if (grc == GIT_ENOTFOUND) {
		rc = hlx_err(HLX_EBADSIG, "commit %.12s: not signed", oid);
		goto out;
	}
	if (grc < 0) {
		rc = gerr("reading the signature of %s", oid);
		goto out;
	}
	rc = hlx_buf_put(sig, s.ptr, s.size);
	if (!rc && (s.size == 0 || s.ptr[s.size - 1] != '\n'))
		rc = hlx_buf_putc(sig, '\n');
	if (!rc)
		rc = hlx_buf_put(signed_data, d.ptr, d.size);
out:
	git_buf_dispose(&s);
	git_buf_dispose(&d);
	return rc;
}

/* ---- fsck --------------------------------------------------------------- */

struct fsck {
	struct hlx_hist *h;
	const struct cmeta *m;
	char path[128];
};

static int check_shard(struct fsck *f, const git_oid *id)
{
	/* "TYPE/ab/cd" -> expected hash field prefix "TYPE:abcd" */
	char prefix[64];
	const char *slash = strchr(f->path, '/');
	const char *pf = NULL, *line;
	size_t pn = 0, n, ln = 0, plen;
	struct lines l;
	int rc;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%.*s:%c%c%c%c",
				(int)(slash - f->path), f->path, slash[1],
				slash[2], slash[4], slash[5]);
	rc = lines_open(f->h, id, &l, f->path);
	if (!rc && l.n == 0)
		rc = hlx_err(HLX_EINVAL, "shard is empty");
	while (!rc && (n = lines_next(&l, &line))) {
		size_t fn = hlx_line_hash_len(line, n - 1);

		ln++;
		rc = decode_line(line, n);
		if (rc)
			break;
		if (fn < plen || memcmp(line, prefix, plen) != 0)
			rc = hlx_err(HLX_EINVAL, "hash '%.*s' in the wrong shard",
				     (int)(fn < 80 ? fn : 80), line);
		else if (pf && hlx_line_hash_cmp(pf, pn, line, fn) >= 0)
			rc = hlx_err(HLX_EINVAL,
				     "hash '%.*s' is not after the previous line's",
				     (int)(fn < 80 ? fn : 80), line);
		pf = line;
		pn = fn;
	}
	lines_close(&l);
	if (rc)
		return hlx_err_wrap(rc, "line %zu", ln);
	return HLX_OK;
}

/* Check what differs in t from old (NULL: everything). */
static int check_tree(struct fsck *f, const git_tree *t, const git_tree *old,
		      int level)
{
	size_t plen = strlen(f->path);
	int rc = HLX_OK;

	for (size_t i = 0; i < git_tree_entrycount(t) && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(e);
		const git_tree_entry *oe = NULL;
		git_tree *st = NULL, *ost = NULL;

		rc = check_entry(e, level, f->path);
		/* in git's order, each name once: a level has at most 256
		 * entries (8 at the root), so a walk is bounded by the
		 * pack's size (spec/sync.md) */
		if (!rc && i > 0 &&
		    strcmp(git_tree_entry_name(git_tree_entry_byindex(t, i - 1)),
			   name) >= 0)
			rc = hlx_err(HLX_EINVAL, "'%s%s': not after the entry before it",
				     f->path, name);
		if (rc)
			break;
		if (old)
			oe = git_tree_entry_byname(old, name);
		if (oe && git_tree_entry_filemode_raw(oe) ==
				  git_tree_entry_filemode_raw(e) &&
		    git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(e)))
			continue; /* checked with an earlier version */
		snprintf(f->path + plen, sizeof(f->path) - plen, "%s%s", name,
			 level < LEVEL_SHARDS ? "/" : "");
		if (level == LEVEL_SHARDS) {
			rc = check_shard(f, git_tree_entry_id(e));
			if (rc)
				rc = hlx_err_wrap(rc, "shard '%s'", f->path);
			f->path[plen] = '\0';
			continue;
		}
		if (git_tree_lookup(&st, f->h->repo, git_tree_entry_id(e)) < 0) {
			rc = gerr("reading tree '%s'", f->path);
			break;
		}
		if (oe && git_tree_entry_type(oe) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&ost, f->h->repo, git_tree_entry_id(oe)) < 0)
			rc = gerr("reading tree '%s'", f->path);
		if (!rc && git_tree_entrycount(st) == 0)
			rc = hlx_err(HLX_EINVAL, "directory '%s' is empty",
				     f->path);
		if (!rc)
			rc = check_tree(f, st, ost, level + 1);
		git_tree_free(st);
		git_tree_free(ost);
		f->path[plen] = '\0';
	}
	return rc;
}

static int check_commit(struct fsck *f, git_commit *c, git_commit *parent)
{
	git_tree *t = NULL, *pt = NULL;
	git_buf sig = GIT_BUF_INIT;
	int rc = HLX_OK, grc;

	grc = git_commit_header_field(&sig, c, "gpgsig");
	git_buf_dispose(&sig);
	if (grc == GIT_ENOTFOUND)
		return hlx_err(HLX_EINVAL, "not signed");
	if (grc < 0)
		return gerr("reading the signature");
	if (git_commit_tree(&t, c) < 0 ||
	    (parent && git_commit_tree(&pt, parent) < 0))
		rc = gerr("reading the tree");
	if (!rc)
		rc = check_tree(f, t, pt, 0);
	git_tree_free(t);
	git_tree_free(pt);
	return rc;
}

int hlx_hist_check_chain(struct hlx_hist *h)
{
	struct fsck f = { h, NULL, "" };
	struct cmeta cur, next, top;
	git_commit *c = NULL, *p = NULL;
	git_oid o;
	int rc = head_oid(h, &o);

	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (rc)
		return rc;
	rc = lookup_commit(h, &o, &c);
	if (!rc)
		rc = parse_commit(c, &cur);
	if (rc) {
		rc = hlx_err_wrap(rc, "history head");
		goto out;
	}
	top = cur;
	for (;;) {
		f.m = &cur;
		if (strcmp(cur.list, top.list) || strcmp(cur.org, top.org)) {
			rc = hlx_err(HLX_EINVAL,
				     "version %llu (commit %.12s) is list '%s' of '%s', "
				     "the head list '%s' of '%s'",
				     (unsigned long long)cur.v.version,
				     cur.v.oid, cur.list, cur.org, top.list,
				     top.org);
			goto wrap;
		}
		/* Errors name their commit or version themselves. */
		if (cur.has_parent) {
			rc = lookup_commit(h, &cur.parent, &p);
			if (!rc)
				rc = parse_commit(p, &next);
			if (!rc)
				rc = check_number(&cur, &next);
		} else {
			rc = check_number(&cur, NULL);
		}
		if (rc)
			goto wrap;
		rc = check_commit(&f, c, p);
		if (rc) {
			rc = hlx_err_wrap(rc, "version %llu (commit %.12s)",
					  (unsigned long long)cur.v.version,
					  cur.v.oid);
			goto wrap;
		}
		git_commit_free(c);
		c = p;
		p = NULL;
		if (!c)
			break;
		cur = next;
	}
	goto out;
wrap:
	rc = hlx_err_wrap(rc, "history of list '%s'", top.list);
out:
	git_commit_free(c);
	git_commit_free(p);
	return rc;
}

/* ---- reachability ------------------------------------------------------- */

/* A set of object ids: open addressing, at most half full. */
struct oidset {
	git_oid *v;
	unsigned char *used;
	size_t cap, n;
};

static size_t oidset_slot(const struct oidset *s, const git_oid *id)
{
	size_t i;

	memcpy(&i, id->id, sizeof(i)); /* object ids are uniformly random */
	for (i &= s->cap - 1; s->used[i] && !git_oid_equal(&s->v[i], id);
	     i = (i + 1) & (s->cap - 1))
		;
	return i;
}

static int oidset_has(const struct oidset *s, const git_oid *id)
{
	return s->cap && s->used[oidset_slot(s, id)];
}

/* 1 if added, 0 if there already, <0 on error. */
static int oidset_add(struct oidset *s, const git_oid *id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct oidset b = { NULL, NULL, s->cap ? 2 * s->cap : 1024, 0 };

		b.v = malloc(b.cap * sizeof(*b.v));
		b.used = calloc(b.cap, 1);
		if (!b.v || !b.used) {
			free(b.v);
			free(b.used);
			return hlx_err(HLX_ENOMEM, "history: out of memory");
		}
		for (size_t j = 0; j < s->cap; j++)
			if (s->used[j]) {
				size_t k = oidset_slot(&b, &s->v[j]);

				b.v[k] = s->v[j];
				b.used[k] = 1;
				b.n++;
			}
		free(s->v);
		free(s->used);
		*s = b;
	}
	i = oidset_slot(s, id);
	if (s->used[i])
		return 0;
	s->v[i] = *id;
	s->used[i] = 1;
	s->n++;
	return 1;
}

/* A tree and what it reaches; level bounds the depth (hlx's trees have
 * three levels, check_chain says whether they have the right shape). */
static int reach_tree(struct hlx_hist *h, struct oidset *s, const git_oid *id,
		      int level)
{
	git_tree *t = NULL;
	int rc = oidset_add(s, id);

	if (rc <= 0)
		return rc;
	if (level > LEVEL_SHARDS)
		return HLX_OK; /* deeper: check_chain reports it */
	if (git_tree_lookup(&t, h->repo, id) < 0)
		return HLX_OK; /* not a tree or missing: check_chain's business */
	rc = HLX_OK;
	for (size_t i = 0; i < git_tree_entrycount(t) && rc >= 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);

		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = reach_tree(h, s, git_tree_entry_id(e), level + 1);
		else
			rc = oidset_add(s, git_tree_entry_id(e));
	}
	git_tree_free(t);
	return rc < 0 ? rc : HLX_OK;
}

struct unreach {
	struct hlx_hist *h;
	struct oidset *s;
	size_t max;
	void (*cb)(void *ctx, const char *oid, const char *type);
	void *ctx;
	uint64_t n;
	git_oid *commits; /* pass 1: the unreached commits */
	size_t nc, cc;
	int pass, rc;
};

static int unreach_cb(const git_oid *id, void *payload)
{
	struct unreach *u = payload;
	git_object_t type = GIT_OBJECT_INVALID;
	size_t len;
	char hex[41];

	if (oidset_has(u->s, id))
		return 0;
	git_odb_read_header(&len, &type, u->h->odb, id);
	if (u->pass == 1) {
		if (type != GIT_OBJECT_COMMIT)
			return 0;
		if (u->nc == u->cc) {
			size_t cap = u->cc ? 2 * u->cc : 16;
			git_oid *v = realloc(u->commits, cap * sizeof(*v));

			if (!v) {
				u->rc = hlx_err(HLX_ENOMEM, "history: out of memory");
				return 1;
			}
			u->commits = v;
			u->cc = cap;
		}
		u->commits[u->nc++] = *id;
		return 0;
	}
	if (u->n++ < u->max) {
		fmt_oid(id, hex);
		u->cb(u->ctx, hex, git_object_type2string(type));
	}
	return 0;
}

/* Objects of a version an interrupted change left: a commit not on the
 * branch whose parent is (or is such a commit), that keep accepts, and
 * what it reaches.  Added to the set; returns how many, or <0. */
static int64_t reach_left(struct unreach *u,
			  int (*keep)(void *ctx, const char *oid), void *kctx)
{
	size_t before = u->s->n;
	int more = 1, rc = HLX_OK;

	while (more && !rc) {
		more = 0;
		for (size_t i = 0; i < u->nc && !rc; i++) {
			git_commit *c = NULL;
			char hex[41];

			if (oidset_has(u->s, &u->commits[i]) ||
			    git_commit_lookup(&c, u->h->repo, &u->commits[i]) < 0)
				continue;
			fmt_oid(&u->commits[i], hex);
			if (git_commit_parentcount(c) == 1 &&
			    oidset_has(u->s, git_commit_parent_id(c, 0)) &&
			    keep(kctx, hex) == HLX_OK) {
				rc = oidset_add(u->s, &u->commits[i]);
				if (rc >= 0)
					rc = reach_tree(u->h, u->s,
							git_commit_tree_id(c), 0);
				rc = rc < 0 ? rc : HLX_OK;
				more = 1;
			}
			git_commit_free(c);
		}
	}
	hlx_err_clear();
	return rc ? rc : (int64_t)(u->s->n - before);
}

int hlx_hist_unreachable(struct hlx_hist *h, size_t max,
			 void (*cb)(void *ctx, const char *oid,
				    const char *type),
			 void *ctx, int (*keep)(void *ctx, const char *oid),
			 void *kctx, uint64_t *n, uint64_t *left)
{
	struct oidset s = { NULL, NULL, 0, 0 };
	struct unreach u = { h, &s, max, cb, ctx, 0, NULL, 0, 0, 1, HLX_OK };
	git_revwalk *w = NULL;
	git_commit *c = NULL;
	git_odb *odb = NULL;
	git_oid o;
	char path[4096];
	int rc = head_oid(h, &o), grc = 0;

	*n = *left = 0;
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = HLX_OK;
	} else if (!rc) {
		if (git_revwalk_new(&w, h->repo) < 0 || git_revwalk_push(w, &o) < 0)
			rc = gerr("walking the history");
		while (!rc && (grc = git_revwalk_next(&o, w)) == 0) {
			rc = oidset_add(&s, &o);
			if (rc >= 0 && git_commit_lookup(&c, h->repo, &o) < 0)
				rc = gerr("reading commit %.12s", git_oid_tostr_s(&o));
			if (rc >= 0)
				rc = reach_tree(h, &s, git_commit_tree_id(c), 0);
			git_commit_free(c);
			c = NULL;
			rc = rc < 0 ? rc : HLX_OK;
		}
		if (!rc && grc != GIT_ITEROVER)
			rc = gerr("walking the history");
	}
	/* the store on disk (h->odb has a mempack in front, which cannot
	 * list its objects, and holds none here) */
	if (!rc && (size_t)snprintf(path, sizeof(path), "%sobjects",
				    git_repository_path(h->repo)) >= sizeof(path))
		rc = hlx_err(HLX_ETOOBIG, "history: path too long");
	if (!rc && git_odb_open(&odb, path) < 0)
		rc = gerr("opening the objects of the history");
	if (!rc && (git_odb_foreach(odb, unreach_cb, &u) < 0 || u.rc))
		rc = u.rc ? u.rc : gerr("listing the objects of the history");
	if (!rc && u.nc) {
		int64_t k = reach_left(&u, keep, kctx);

		if (k < 0)
			rc = (int)k;
		else
			*left = (uint64_t)k;
	}
	u.pass = 2;
	if (!rc && git_odb_foreach(odb, unreach_cb, &u) < 0)
		rc = gerr("listing the objects of the history");
	*n = u.n;
	git_odb_free(odb);
	git_revwalk_free(w);
	free(u.commits);
	free(s.v);
	free(s.used);
	return rc;
}

/* ---- checkpoint roots and pruning (spec/prune.md) ----------------------- */

int hlx_hist_commit_info(struct hlx_hist *h, const char *oid, char tree[41],
			 char replaces[41])
{
	git_commit *c = NULL;
	struct cmeta m;
	git_oid o;
	int rc;

	tree[0] = replaces[0] = '\0';
	rc = parse_oid(oid, &o, "version");
	if (!rc)
		rc = lookup_commit(h, &o, &c);
	if (!rc)
		rc = parse_commit(c, &m);
	if (!rc) {
		fmt_oid(git_commit_tree_id(c), tree);
		memcpy(replaces, m.checkpoint, 41);
	}
	git_commit_free(c);
	return rc;
}

struct rewrite_ctx {
	uint64_t before;
	struct hlx_buf v;  /* struct kept, newest first */
	char org[HLX_HIST_NAME_MAX + 1];
	char list[HLX_HIST_NAME_MAX + 1];
	int reached;       /* saw a version below before */
};

struct kept {
	struct hlx_hist_version v;
};

static int rewrite_cb(void *ctx, const struct cmeta *m)
{
	struct rewrite_ctx *r = ctx;
	struct kept k;

	if (m->v.version < r->before) {
		r->reached = 1;
		return PASSED;
	}
	if (!r->org[0]) {
		memcpy(r->org, m->org, sizeof(r->org));
		memcpy(r->list, m->list, sizeof(r->list));
	} else if (strcmp(r->org, m->org) || strcmp(r->list, m->list)) {
		return hlx_err(HLX_EINVAL,
			       "version %llu (commit %.12s) is list '%s' of '%s', the head list '%s' of '%s'",
			       (unsigned long long)m->v.version, m->v.oid,
			       m->list, m->org, r->list, r->org);
	}
	if (r->v.len / sizeof(k) >= HLX_HIST_REWRITE_MAX)
		return hlx_err(HLX_ETOOBIG,
			       "more than %d versions would remain: prune closer to the head",
			       HLX_HIST_REWRITE_MAX);
	k.v = m->v;
	return hlx_buf_put(&r->v, &k, sizeof(k));
}

/* Copy an object, and for a tree everything below it, from h into d's
 * mempack; ids collects what was copied (for the pack). */
static int copy_object(struct hlx_hist *h, struct hlx_hist *d,
		       const git_oid *id, struct hlx_buf *ids, int depth)
{
	git_odb_object *obj = NULL;
	git_tree *t = NULL;
	git_oid got;
	int rc = HLX_OK;

	if (git_odb_exists(d->odb, id))
		return HLX_OK; /* copied with an earlier version */
	if (git_odb_read(&obj, h->odb, id) < 0)
		return gerr("reading object %s", git_oid_tostr_s(id));
	if (git_odb_object_type(obj) == GIT_OBJECT_TREE) {
		if (depth > LEVEL_SHARDS) {
			rc = hlx_err(HLX_EINVAL, "tree %s: nested too deep",
				     git_oid_tostr_s(id));
			goto out;
		}
		if (git_tree_lookup(&t, h->repo, id) < 0) {
			rc = gerr("reading tree %s", git_oid_tostr_s(id));
			goto out;
		}
		for (size_t i = 0; i < git_tree_entrycount(t) && !rc; i++)
			rc = copy_object(h, d,
					 git_tree_entry_id(git_tree_entry_byindex(t, i)),
					 ids, depth + 1);
		if (rc)
			goto out;
	} else if (git_odb_object_type(obj) != GIT_OBJECT_BLOB) {
		rc = hlx_err(HLX_EINVAL, "object %s: not a tree or blob",
			     git_oid_tostr_s(id));
		goto out;
	}
	if (git_odb_write(&got, d->odb, git_odb_object_data(obj),
			  git_odb_object_size(obj), git_odb_object_type(obj)) < 0) {
		rc = gerr("copying object %s", git_oid_tostr_s(id));
		goto out;
	}
	rc = hlx_buf_put(ids, &got, sizeof(got));
out:
	git_tree_free(t);
	git_odb_object_free(obj);
	return rc;
}

int hlx_hist_rewrite(struct hlx_hist *h, uint64_t before, const char *dest,
		     int64_t time, hlx_hist_sign_fn sign, void *ctx,
		     struct hlx_hist_rewritten **out, size_t *nout)
{
	struct rewrite_ctx r = { before, HLX_BUF_INIT, "", "", 0 };
	struct hlx_buf ids = HLX_BUF_INIT, msg = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_hist_rewritten *map = NULL;
	struct hlx_hist *d = NULL;
	git_signature *who = NULL;
	char email[HLX_HIST_NAME_MAX + sizeof(EMAIL_DOMAIN) + 2];
	git_oid prev;
	size_t n = 0;
	int rc;

	*out = NULL;
	*nout = 0;
	if (!sign)
		return hlx_err(HLX_EINVAL, "prune: no signing function");
	if (before < 2)
		return hlx_err(HLX_EINVAL, "prune before version %llu: must be 2 or more",
			       (unsigned long long)before);
	if (time < 0 || time > HLX_HIST_TIME_MAX)
		return hlx_err(HLX_EINVAL, "version time %lld: out of range",
			       (long long)time);
	rc = walk(h, rewrite_cb, &r);
	if (rc == PASSED)
		rc = HLX_OK;
	if (rc)
		goto out;
	n = r.v.len / sizeof(struct kept);
	if (n == 0) {
		rc = hlx_err(HLX_EINVAL, "prune before version %llu: the list has no such version",
			     (unsigned long long)before);
		goto out;
	}
	if (!r.reached) {
		rc = hlx_err(HLX_EINVAL,
			     "prune before version %llu: the history already starts there",
			     (unsigned long long)before);
		goto out;
	}
	map = calloc(n, sizeof(*map));
	if (!map) {
		rc = hlx_err(HLX_ENOMEM, "prune: out of memory");
		goto out;
	}
	rc = hlx_hist_open(dest, 1, &d);
	if (rc)
		goto out;
	if (git_repository_head_unborn(d->repo) != 1) {
		rc = hlx_err(HLX_EEXIST, "prune: '%.200s' is not an empty repository",
			     dest);
		goto out;
	}
	snprintf(email, sizeof(email), "%s@%s", r.org, EMAIL_DOMAIN);
	if (git_signature_new(&who, r.org, email, time, 0) < 0) {
		rc = gerr("preparing the commits");
		goto out;
	}
	/* oldest first: the kept versions are newest first */
	for (size_t i = 0; i < n && !rc; i++) {
		const struct kept *k = (const struct kept *)r.v.data + (n - 1 - i);
		struct hlx_hist_rewritten *w = &map[i];
		git_commit *oc = NULL, *parent = NULL;
		git_tree *tree = NULL;
		git_buf body = GIT_BUF_INIT;
		git_oid o, coid;

		w->version = k->v.version;
		w->time = k->v.time;
		memcpy(w->old, k->v.oid, sizeof(w->old));
		rc = parse_oid(k->v.oid, &o, "version");
		if (!rc)
			rc = lookup_commit(h, &o, &oc);
		if (!rc) {
			fmt_oid(git_commit_tree_id(oc), w->tree);
			rc = copy_object(h, d, git_commit_tree_id(oc), &ids, 0);
		}
		hlx_buf_reset(&msg);
		hlx_buf_reset(&sig);
		if (!rc)
			rc = build_message(&msg, r.list, k->v.version, k->v.summary,
					   strlen(k->v.summary));
		if (!rc && i == 0)
			rc = hlx_buf_printf(&msg, CHECKPOINT_TRAILER "%s\n", k->v.oid);
		if (!rc && (git_tree_lookup(&tree, d->repo, git_commit_tree_id(oc)) < 0 ||
			    (i && git_commit_lookup(&parent, d->repo, &prev) < 0) ||
			    git_commit_create_buffer(&body, d->repo, who, who, NULL,
						     (const char *)msg.data, tree,
						     i ? 1 : 0,
						     (const git_commit **)&parent) < 0))
			rc = gerr("formatting version %llu",
				  (unsigned long long)k->v.version);
		if (!rc)
			rc = sign(ctx, (const uint8_t *)body.ptr, body.size, &sig);
		while (!rc && sig.len && sig.data[sig.len - 1] == '\n')
			sig.data[--sig.len] = '\0';
		if (!rc && (sig.len == 0 || memchr(sig.data, '\0', sig.len)))
			rc = hlx_err(HLX_EINVAL, "commit signature: empty or not text");
		if (!rc && git_commit_create_with_signature(&coid, d->repo, body.ptr,
							    (const char *)sig.data,
							    "gpgsig") < 0)
			rc = gerr("writing version %llu",
				  (unsigned long long)k->v.version);
		if (!rc) {
			fmt_oid(&coid, w->new_);
			git_oid_cpy(&prev, &coid);
			rc = hlx_buf_put(&ids, &coid, sizeof(coid));
		}
		git_buf_dispose(&body);
		git_tree_free(tree);
		git_commit_free(parent);
		git_commit_free(oc);
	}
	if (!rc)
		rc = flush_objects(d, (const git_oid *)ids.data,
				   ids.len / sizeof(git_oid));
	git_mempack_reset(d->mempack);
	if (!rc)
		rc = hlx_hist_set_head(d, NULL, map[n - 1].new_);
	if (!rc) {
		*out = map;
		*nout = n;
		map = NULL;
	}
out:
	if (d)
		git_mempack_reset(d->mempack);
	hlx_hist_free(d);
	git_signature_free(who);
	free(map);
	hlx_buf_free(&r.v);
	hlx_buf_free(&ids);
	hlx_buf_free(&msg);
	hlx_buf_free(&sig);
	return rc;
}
