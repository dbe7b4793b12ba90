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
 *
 * This file: opening a history, commit metadata and the version chain.
 * Writing a version is in history_write.c, reading and checking in
 * history_read.c, pruning in history_prune.c.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/alloc.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "node/history_int.h"
#include "node/files.h"
#include "protocol/err.h"
#include "protocol/case.h"
#include "protocol/hash.h"
#include "protocol/record.h"

/* ---- errors and small helpers ----------------------------------------- */

__attribute__((format(printf, 1, 2)))
int hlx_hist_gerr(const char *fmt, ...)
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

int hlx_hist_is_lhex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int hlx_hist_parse_oid(const char *s, git_oid *oid, const char *what)
{
	char q[HLX_QUOTE_SIZE];
	size_t i;

	if (!s)
		return hlx_err(HLX_EINVAL, "%s: missing commit id", what);
	for (i = 0; i < 40 && s[i]; i++)
		if (!hlx_hist_is_lhex((unsigned char)s[i]))
			break;
	if (i != 40 || s[40] != '\0')
		return hlx_err(HLX_EINVAL,
			       "%s '%s': expected 40 lowercase hex digits", what,
			       hlx_quote(q, s, strlen(s)));
	if (git_oid_fromstr(oid, s) < 0)
		return hlx_hist_gerr("%s '%s'", what, s);
	return HLX_OK;
}

void hlx_hist_fmt_oid(const git_oid *oid, char out[41])
{
	git_oid_fmt(out, oid);
	out[40] = '\0';
}

/* Organisation and list names: [a-z0-9][a-z0-9._-]{0,63}. */
int hlx_hist_name_check(const char *s, const char *what)
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

int hlx_hist_summary_check(const char *s, size_t n)
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
void hlx_hist_field_key(const char *f, size_t fn, int level, const char **k,
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

int hlx_hist_key_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/* A version holds entry lines, status lines for a status log, or case
 * lines for a cases log: a line must be one of them in its canonical
 * form. */
int hlx_hist_decode_line(const char *line, size_t n)
{
	struct hlx_entry e;
	struct hlx_status st;
	struct hlx_case_line *c;
	char detail[512];
	int rc = hlx_entry_decode(line, n, &e);

	if (!rc)
		return HLX_OK;
	/* Report the entry's defect, not the status or case line's. */
	snprintf(detail, sizeof(detail), "%s", hlx_err_detail());
	if (hlx_status_decode(line, n, &st) == HLX_OK) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (n > 11 && memcmp(line, "url-sha256:", 11) == 0 &&
	    (c = malloc(sizeof(*c))) != NULL) {
		int crc = hlx_case_decode(line, n, c);

		free(c);
		if (crc == HLX_OK) {
			hlx_err_clear();
			return HLX_OK;
		}
	}
	return hlx_err(rc, "%s", detail);
}

/* ---- open / free -------------------------------------------------------- */

/*
 * libgit2 hashes every object it reads again (strict hash verification),
 * which git does not: an object was hashed when its pack was indexed
 * (what a feed sends) or when it was written.  Off for the process; fsck,
 * which looks for what changed on disk since, turns it on.
 *
 * libgit2's global initialisation loads the system's CA certificates
 * (for transports hlx never uses): each init after the last shutdown did
 * it again, for every repository opened, most of a round of 'hlx run'.
 * One reference taken once and never given back keeps libgit2 set up for
 * the life of the process; callers pair their own init and shutdown.
 */
static pthread_once_t git_once = PTHREAD_ONCE_INIT;

/*
 * Under AddressSanitizer, libgit2's allocator, with a few large blocks
 * kept for reuse.  Writing a pack, libgit2 takes a 1 MiB buffer for
 * every object it compresses and gives it back at once: with glibc that
 * is heap memory reused, but each is a mapping made, zeroed and unmapped
 * under AddressSanitizer (a 6,000-entry import spent 80% of its time
 * there).  Blocks of LARGE_MIN bytes or more are kept, up to LARGE_KEEP
 * of them (poisoned meanwhile: a use after free is still caught), and
 * given again for a request of at most their size and at least half of
 * it.  Everything else is the C library's: a block can be
 * freed by either allocator, so the switch is safe whenever it happens.
 * Elsewhere libgit2 keeps its own (the C library's, called directly): the
 * size each free asks for here reads the block's neighbour, a cache miss
 * for every one of the hundreds of thousands of small blocks an indexer
 * frees (a third of a 1M sync's time between download and check).
 */
#if defined(__SANITIZE_ADDRESS__)
#define HLX_GIT_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HLX_GIT_ALLOC 1
#endif
#endif

#ifdef HLX_GIT_ALLOC
#include <sanitizer/asan_interface.h>

#define LARGE_MIN (256u * 1024)
#define LARGE_MAX (16u * 1024 * 1024)
#define LARGE_KEEP 4

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static void *large[LARGE_KEEP];
static size_t large_size[LARGE_KEEP];

static void *galloc_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (n >= LARGE_MIN && n <= LARGE_MAX) {
		void *p = NULL;

		pthread_mutex_lock(&large_lock);
		for (unsigned i = 0; i < LARGE_KEEP; i++)
			if (large[i] && large_size[i] >= n &&
			    large_size[i] / 2 <= n) {
				p = large[i];
				large[i] = NULL;
				break;
			}
		pthread_mutex_unlock(&large_lock);
		if (p) {
			/* kept poisoned: a use after its free is still seen */
			ASAN_UNPOISON_MEMORY_REGION(p, malloc_usable_size(p));
			return p;
		}
	}
	return malloc(n);
}

static void galloc_free(void *p)
{
	size_t n;

	if (!p)
		return;
	n = malloc_usable_size(p);
	if (n >= LARGE_MIN && n <= LARGE_MAX) {
		pthread_mutex_lock(&large_lock);
		for (unsigned i = 0; i < LARGE_KEEP; i++)
			if (!large[i]) {
				ASAN_POISON_MEMORY_REGION(p, n);
				large[i] = p;
				large_size[i] = n;
				p = NULL;
				break;
			}
		pthread_mutex_unlock(&large_lock);
	}
	free(p);
}

static void *galloc_calloc(size_t nelem, size_t elsize, const char *file,
			   int line)
{
	(void)file;
	(void)line;
	return calloc(nelem, elsize);
}

static char *galloc_strdup(const char *s, const char *file, int line)
{
	(void)file;
	(void)line;
	return strdup(s);
}

static char *galloc_strndup(const char *s, size_t n, const char *file,
			    int line)
{
	(void)file;
	(void)line;
	return strndup(s, n);
}

static char *galloc_substrdup(const char *s, size_t n, const char *file,
			      int line)
{
	char *p;

	(void)file;
	(void)line;
	if (n == SIZE_MAX || !(p = malloc(n + 1)))
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static void *galloc_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return realloc(p, n);
}

static void *galloc_reallocarray(void *p, size_t nelem, size_t elsize,
				 const char *file, int line)
{
	(void)file;
	(void)line;
	if (elsize && nelem > SIZE_MAX / elsize)
		return NULL;
	return realloc(p, nelem * elsize);
}

static void *galloc_mallocarray(size_t nelem, size_t elsize,
				const char *file, int line)
{
	if (elsize && nelem > SIZE_MAX / elsize)
		return NULL;
	return galloc_malloc(nelem * elsize, file, line);
}

static git_allocator galloc = {
	galloc_malloc, galloc_calloc, galloc_strdup, galloc_strndup,
	galloc_substrdup, galloc_realloc, galloc_reallocarray,
	galloc_mallocarray, galloc_free
};
#endif

static void git_keep(void)
{
#ifdef HLX_GIT_ALLOC
	git_libgit2_opts(GIT_OPT_SET_ALLOCATOR, &galloc);
#endif
	if (git_libgit2_init() < 0)
		return;
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* hlx's repositories are its own: the system's and the user's git
	 * settings (a broken ~/.gitconfig, another default branch) are not
	 * read for them */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, "");
	/* Objects, packs and refs are fsync'd (with their directories)
	 * before they are renamed into place: set once, for every thread. */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
}

void hlx_hist_verify_reads(int on)
{
	pthread_once(&git_once, git_keep);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, on);
}

int hlx_hist_git_init(void)
{
	pthread_once(&git_once, git_keep);
	return git_libgit2_init();
}

int hlx_hist_open(const char *path, int create, struct hlx_hist **out)
{
	struct hlx_hist *h;
	int rc, grc;

	*out = NULL;
	if (hlx_hist_git_init() < 0)
		return hlx_hist_gerr("libgit2 initialisation");
	h = calloc(1, sizeof(*h));
	if (!h) {
		git_libgit2_shutdown();
		return hlx_err(HLX_ENOMEM, "history '%.200s': out of memory",
			       path);
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
			rc = hlx_hist_gerr("creating history '%.200s'", path);
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
			rc = hlx_hist_gerr("opening history '%.200s'", path);
			goto fail;
		}
	} else if (grc == GIT_ENOTFOUND) {
		rc = hlx_err(HLX_ENOENT, "history '%.200s': no repository",
			     path);
		goto fail;
	} else if (grc < 0) {
		rc = hlx_hist_gerr("opening history '%.200s'", path);
		goto fail;
	}
	if (!git_repository_is_bare(h->repo)) {
		rc = hlx_err(HLX_EINVAL, "history '%.200s': not a bare repository",
			     path);
		goto fail;
	}
	if (git_repository_odb(&h->odb, h->repo) < 0 ||
	    git_mempack_new(&h->mempack) < 0) {
		rc = hlx_hist_gerr("history '%.200s': object database", path);
		goto fail;
	}
	/* In front of the loose and pack backends: new objects go here. */
	if (git_odb_add_backend(h->odb, h->mempack, 1000) < 0) {
		h->mempack->free(h->mempack);
		h->mempack = NULL;
		rc = hlx_hist_gerr("history '%.200s': object database", path);
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

int hlx_hist_build_message(struct hlx_buf *b, const char *list, uint64_t v,
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
int hlx_hist_parse_commit(git_commit *c, struct cmeta *out)
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
	hlx_hist_fmt_oid(git_commit_id(c), id);
	memcpy(out->v.oid, id, sizeof(id));
	if (git_commit_parentcount(c) > 1)
		return hlx_err(HLX_EINVAL, "commit %.12s: %u parents, at most 1 allowed",
			       id, git_commit_parentcount(c));
	if (git_commit_parentcount(c) == 1) {
		git_oid_cpy(&out->parent, git_commit_parent_id(c, 0));
		hlx_hist_fmt_oid(&out->parent, out->v.parent);
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
	if (hlx_hist_name_check(out->list, "list name"))
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
	if (!se || hlx_hist_summary_check(s, (size_t)(se - s)))
		goto bad_msg;
	memcpy(out->v.summary, s, (size_t)(se - s));
	out->v.summary[se - s] = '\0';
	/* The whole message must be exactly what hlx writes. */
	rc = hlx_hist_build_message(&want, out->list, out->v.version, out->v.summary,
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
			if (!hlx_hist_is_lhex((unsigned char)t[ln]))
				goto bad_msg;
		if (strcmp(t + 40, "\n") != 0)
			goto bad_msg;
		memcpy(out->checkpoint, t, 40);
		out->checkpoint[40] = '\0';
	}

	if (hlx_hist_name_check(a->name, "owner"))
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

int hlx_hist_lookup_commit(struct hlx_hist *h, const git_oid *oid,
			   git_commit **c)
{
	int grc = git_commit_lookup(c, h->repo, oid);

	if (grc == GIT_ENOTFOUND)
		return hlx_err(HLX_ENOENT, "commit %s: not in the history",
			       git_oid_tostr_s(oid));
	if (grc < 0)
		return hlx_hist_gerr("reading commit %s", git_oid_tostr_s(oid));
	return HLX_OK;
}

static int read_meta(struct hlx_hist *h, const git_oid *oid,
		     struct cmeta *out)
{
	git_commit *c = NULL;
	int rc = hlx_hist_lookup_commit(h, oid, &c);

	if (!rc)
		rc = hlx_hist_parse_commit(c, out);
	git_commit_free(c);
	return rc;
}

/* child's version must follow parent's (or be 1 without a parent, or
 * more than 1 for a checkpoint root, which has no parent). */
int hlx_hist_check_number(const struct cmeta *child, const struct cmeta *parent)
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

int hlx_hist_head_oid(struct hlx_hist *h, git_oid *oid)
{
	int grc = git_reference_name_to_id(oid, h->repo, HLX_HIST_BRANCH);

	if (grc == GIT_ENOTFOUND)
		return hlx_err(HLX_ENOENT, "history: no version yet");
	if (grc < 0)
		return hlx_hist_gerr("reading %s", HLX_HIST_BRANCH);
	return HLX_OK;
}

int hlx_hist_head_opt(struct hlx_hist *h, git_oid *oid)
{
	int rc = hlx_hist_head_oid(h, oid);

	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return 1;
	}
	return rc;
}

int hlx_hist_head(struct hlx_hist *h, char oid[41])
{
	git_oid o;
	int rc = hlx_hist_head_oid(h, &o);

	if (rc)
		return rc;
	hlx_hist_fmt_oid(&o, oid);
	return HLX_OK;
}

int hlx_hist_read_version(struct hlx_hist *h, const char *oid,
			  struct hlx_hist_version *out)
{
	struct cmeta m, pm;
	git_oid o;
	int rc;

	rc = hlx_hist_parse_oid(oid, &o, "version");
	if (!rc)
		rc = read_meta(h, &o, &m);
	if (!rc && m.has_parent)
		rc = read_meta(h, &m.parent, &pm);
	if (!rc)
		rc = hlx_hist_check_number(&m, m.has_parent ? &pm : NULL);
	if (rc)
		return rc;
	*out = m.v;
	return HLX_OK;
}

/* Walk the first-parent chain from the head, checking the numbering. */
int hlx_hist_walk(struct hlx_hist *h,
		  int (*cb)(void *ctx, const struct cmeta *m), void *ctx)
{
	struct cmeta cur, next;
	git_oid o;
	int rc = hlx_hist_head_opt(h, &o);

	if (rc)
		return rc == 1 ? HLX_OK : rc;
	rc = read_meta(h, &o, &cur);
	while (!rc) {
		if (cur.has_parent) {
			rc = read_meta(h, &cur.parent, &next);
			if (!rc)
				rc = hlx_hist_check_number(&cur, &next);
		} else {
			rc = hlx_hist_check_number(&cur, NULL);
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

	return hlx_hist_walk(h, log_cb, &l);
}


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
	int rc = version ? hlx_hist_walk(h, find_cb, &l) : HLX_OK;

	if (rc == FOUND)
		return HLX_OK;
	if (rc == HLX_OK || rc == PASSED)
		return hlx_err(HLX_ENOENT, "history: no version %llu",
			       (unsigned long long)version);
	return rc;
}
