/* SPDX-License-Identifier: MIT */
/*
 * The node's matcher (spec/match.md): per-list settings, the persisted PDQ
 * index (a base snapshot and an overlay, both under HOME/match/), its
 * incremental refresh from history diffs, and the match calls.
 */
#include "node/match.h"
#include "node/files.h"
#include "protocol/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MATCH_DIR "match"
#define CONF_FILE "config.json"
#define BASE_FILE "pdq.base"
#define DELTA_FILE "pdq.delta"
#define CONF_MAX (1 << 20)
#define LISTS_MAX 1000000u
#define BASE_MAGIC "HLXPDQB1"
#define DELTA_MAGIC "HLXPDQD1"
#define MAGIC_LEN 8
#define ID_LEN 16
#define ALIGN 64
#define COMPACT_MIN 65536
#define LOOKUP_BATCH 4096
#define WINDOW_MAX 65536        /* PDQ queries searched together */
#define WINDOW_MIN 256
#define HITS_TARGET (1u << 21)  /* hits a window aims at */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int hash32_cmp(const void *a, const void *b)
{
	return memcmp(a, b, HLX_PDQ_BYTES);
}

/*
 * Sort n hashes of 32 bytes and drop duplicates; returns the new count.
 * Large arrays are first spread by their first 16 bits (a counting sort
 * into a second array), which leaves small buckets for qsort.
 */
static size_t sort_unique(uint8_t *a, size_t n)
{
	uint8_t *t = n > 65536 ? malloc(n * HLX_PDQ_BYTES) : NULL;
	uint32_t *c = t ? calloc(65537, sizeof(*c)) : NULL;
	size_t w = 0;

	if (n < 2) {
		free(t);
		return n;
	}
	if (c && n <= UINT32_MAX) {
		uint32_t *p = c + 1;

		for (size_t i = 0; i < n; i++) {
			const uint8_t *h = a + i * HLX_PDQ_BYTES;

			p[h[0] << 8 | h[1]]++;
		}
		for (unsigned v = 0; v < 65536; v++)
			c[v + 1] += c[v];
		/* c[v] is where bucket v starts; p[v - 1] counts it out */
		for (size_t i = 0; i < n; i++) {
			const uint8_t *h = a + i * HLX_PDQ_BYTES;

			size_t k = c[h[0] << 8 | h[1]]++;

			memcpy(t + k * HLX_PDQ_BYTES, h, HLX_PDQ_BYTES);
		}
		/* now c[v] is where bucket v ends */
		for (unsigned v = 0, start = 0; v < 65536; start = c[v++])
			if (c[v] - start > 1)
				qsort(t + (size_t)start * HLX_PDQ_BYTES,
				      c[v] - start, HLX_PDQ_BYTES, hash32_cmp);
		memcpy(a, t, n * HLX_PDQ_BYTES);
	} else {
		qsort(a, n, HLX_PDQ_BYTES, hash32_cmp);
	}
	free(c);
	free(t);
	for (size_t r = 1; r < n; r++)
		if (memcmp(a + w * HLX_PDQ_BYTES, a + r * HLX_PDQ_BYTES,
			   HLX_PDQ_BYTES) != 0) {
			w++;
			if (w != r)
				memcpy(a + w * HLX_PDQ_BYTES,
				       a + r * HLX_PDQ_BYTES, HLX_PDQ_BYTES);
		}
	return w + 1;
}

/* Index of h in the sorted array a[0..n), or -1. */
static ptrdiff_t find32(const uint8_t *a, size_t n, const uint8_t *h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(a + mid * HLX_PDQ_BYTES, h, HLX_PDQ_BYTES);

		if (c == 0)
			return (ptrdiff_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- files -------------------------------------------------------------- */

static int path_of(char out[PATH_MAX], const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return hlx_err(HLX_EINVAL, "path too long in '%.60s'", dir);
	return HLX_OK;
}


/*
 * Replace dir/name atomically and durably by the concatenation of up to
 * three byte ranges: a temporary file, fsync, rename, fsync of dir.
 */
static int write_atomic(const char *dir, const char *name, const void *a,
			size_t al, const void *b, size_t bl, const void *c,
			size_t cl)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd, rc, dfd;

	rc = path_of(dst, dir, name);
	if (!rc && snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
		   (int)sizeof(tmp))
		rc = hlx_err(HLX_EINVAL, "path too long in '%.60s'", dir);
	if (rc)
		return rc;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return hlx_err(HLX_EIO, "cannot create a file in '%s': %s", dir,
			       strerror(errno));
	if (hlx_write_all(fd, a, al) || hlx_write_all(fd, b, bl) ||
	    hlx_write_all(fd, c, cl) || fchmod(fd, 0600) || fsync(fd)) {
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", tmp,
			     strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	close(fd);
	if (rename(tmp, dst) != 0) {
		rc = hlx_err(HLX_EIO, "cannot rename '%s' to '%s': %s", tmp, dst,
			     strerror(errno));
		unlink(tmp);
		return rc;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return HLX_OK;
}

/*
 * Remove the temporary files of writers that died before their rename
 * (an hour old: a live writer keeps its file fresh).
 */
static void clean_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat sb;

		if (strncmp(e->d_name, "." BASE_FILE ".", sizeof(BASE_FILE) + 1) &&
		    strncmp(e->d_name, "." DELTA_FILE ".", sizeof(DELTA_FILE) + 1) &&
		    strncmp(e->d_name, "." CONF_FILE ".", sizeof(CONF_FILE) + 1))
			continue;
		if (path_of(p, dir, e->d_name) == HLX_OK && lstat(p, &sb) == 0 &&
		    S_ISREG(sb.st_mode) && now - sb.st_mtime > 3600)
			unlink(p);
	}
	closedir(d);
}

static int match_dir(struct hlx_node *n, char out[PATH_MAX], int create)
{
	int rc = path_of(out, hlx_home_dir(hlx_node_home(n)), MATCH_DIR);

	if (!rc && create && mkdir(out, 0700) != 0 && errno != EEXIST)
		rc = hlx_err(HLX_EIO, "cannot create '%s': %s", out,
			     strerror(errno));
	return rc;
}

/* ---- per-list settings -------------------------------------------------- */

void hlx_match_conf_init(struct hlx_match_conf *c)
{
	c->threshold = HLX_MATCH_THRESHOLD_DEFAULT;
	c->allow = 0;
}

static int conf_entry_cmp(const void *a, const void *b)
{
	const struct hlx_match_conf_entry *x = a, *y = b;

	return strcmp(x->list, y->list);
}

static int conf_one(const char *name, json_t *v, struct hlx_match_conf_entry *e)
{
	const char *k;
	json_t *f;

	if (hlx_list_name_check(name) != HLX_OK) {
		char q[HLX_QUOTE_SIZE];

		return hlx_err(HLX_EINVAL, "list name '%s' is not valid",
			       hlx_quote(q, name, strlen(name)));
	}
	memcpy(e->list, name, strlen(name) + 1);
	hlx_match_conf_init(&e->c);
	if (!json_is_object(v))
		return hlx_err(HLX_EINVAL, "list '%s': settings must be an object",
			       name);
	json_object_foreach(v, k, f) {
		if (!strcmp(k, "threshold")) {
			json_int_t t;

			if (!json_is_integer(f))
				return hlx_err(HLX_EINVAL,
					       "list '%s': threshold must be an integer",
					       name);
			t = json_integer_value(f);
			if (t < 0 || t > HLX_MATCH_THRESHOLD_MAX)
				return hlx_err(HLX_EINVAL,
					       "list '%s': threshold %" JSON_INTEGER_FORMAT
					       " is not in 0..%d", name, t,
					       HLX_MATCH_THRESHOLD_MAX);
			e->c.threshold = (int)t;
		} else if (!strcmp(k, "allow")) {
			if (!json_is_boolean(f))
				return hlx_err(HLX_EINVAL,
					       "list '%s': allow must be true or false",
					       name);
			e->c.allow = json_is_true(f);
		} else {
			char q[HLX_QUOTE_SIZE];

			return hlx_err(HLX_EINVAL, "list '%s': unknown setting '%s'",
				       name, hlx_quote(q, k, strlen(k)));
		}
	}
	return HLX_OK;
}

int hlx_match_conf_parse(const char *s, size_t len,
			 struct hlx_match_conf_entry **out, size_t *n)
{
	struct hlx_match_conf_entry *e = NULL;
	json_error_t jerr;
	json_t *root, *lists = NULL, *v;
	const char *k;
	size_t cnt = 0;
	int rc = HLX_OK;

	*out = NULL;
	*n = 0;
	if (len > CONF_MAX)
		return hlx_err(HLX_ETOOBIG, "match settings of %zu bytes: at most %d",
			       len, CONF_MAX);
	root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson's text may quote the input: keep it printable */
		for (char *p = jerr.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		return hlx_err(HLX_EINVAL, "match settings: %s (line %d)", jerr.text,
			       jerr.line);
	}
	if (!json_is_object(root)) {
		rc = hlx_err(HLX_EINVAL, "match settings: not a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "lists") != 0) {
			char q[HLX_QUOTE_SIZE];

			rc = hlx_err(HLX_EINVAL, "match settings: unknown key '%s'",
				     hlx_quote(q, k, strlen(k)));
			goto out;
		}
		lists = v;
	}
	if (!lists) {
		rc = hlx_err(HLX_EINVAL, "match settings: no \"lists\" object");
		goto out;
	}
	if (!json_is_object(lists)) {
		rc = hlx_err(HLX_EINVAL, "match settings: \"lists\" must be an object");
		goto out;
	}
	cnt = json_object_size(lists);
	e = calloc(cnt ? cnt : 1, sizeof(*e));
	if (!e) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	cnt = 0;
	json_object_foreach(lists, k, v) {
		rc = conf_one(k, v, &e[cnt]);
		if (rc) {
			rc = hlx_err_wrap(rc, "match settings");
			goto out;
		}
		cnt++;
	}
	qsort(e, cnt, sizeof(*e), conf_entry_cmp);
	*out = e;
	*n = cnt;
	e = NULL;
out:
	free(e);
	json_decref(root);
	return rc;
}

int hlx_match_conf_format(const struct hlx_match_conf_entry *e, size_t n,
			  struct hlx_buf *out)
{
	json_t *root = json_object(), *lists = json_object();
	char *text = NULL;
	int rc = HLX_OK;

	if (!root || !lists || json_object_set(root, "lists", lists)) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o;

		if (e[i].c.threshold == HLX_MATCH_THRESHOLD_DEFAULT && !e[i].c.allow)
			continue;
		if (hlx_list_name_check(e[i].list) != HLX_OK ||
		    e[i].c.threshold < 0 ||
		    e[i].c.threshold > HLX_MATCH_THRESHOLD_MAX) {
			rc = hlx_err(HLX_EINVAL, "match settings of list '%.64s' are invalid",
				     e[i].list);
			goto out;
		}
		o = json_pack("{s:i,s:b}", "threshold", e[i].c.threshold,
			      "allow", e[i].c.allow);
		if (!o || json_object_set_new(lists, e[i].list, o)) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			goto out;
		}
	}
	text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1));
	if (!text) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	rc = hlx_buf_puts(out, text);
	if (!rc)
		rc = hlx_buf_putc(out, '\n');
out:
	free(text);
	json_decref(lists);
	json_decref(root);
	return rc;
}

/* All settings of the node; a missing file is no settings. */
static int conf_load(struct hlx_node *n, struct hlx_match_conf_entry **e,
		     size_t *cnt)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char dir[PATH_MAX], p[PATH_MAX];
	int rc;

	*e = NULL;
	*cnt = 0;
	rc = match_dir(n, dir, 0);
	if (!rc)
		rc = path_of(p, dir, CONF_FILE);
	if (!rc)
		rc = hlx_file_read(p, CONF_MAX, &b);
	if (rc == HLX_ENOENT)
		rc = HLX_OK;
	else if (!rc) {
		rc = hlx_match_conf_parse((const char *)b.data, b.len, e, cnt);
		if (rc)
			rc = hlx_err_wrap(rc, "'%s'", p);
	}
	hlx_buf_free(&b);
	return rc;
}

static const struct hlx_match_conf *
conf_find(const struct hlx_match_conf_entry *e, size_t n, const char *list)
{
	struct hlx_match_conf_entry key;

	if (!n || strlen(list) > HLX_LIST_NAME_MAX)
		return NULL;
	memcpy(key.list, list, strlen(list) + 1);
	e = bsearch(&key, e, n, sizeof(*e), conf_entry_cmp);
	return e ? &e->c : NULL;
}

int hlx_match_conf_get(struct hlx_node *n, const char *list,
		       struct hlx_match_conf *out)
{
	struct hlx_match_conf_entry *e;
	const struct hlx_match_conf *c;
	struct hlx_list_rec rec;
	size_t cnt;
	int rc;

	rc = hlx_list_get(n, list, &rec);
	if (!rc)
		rc = conf_load(n, &e, &cnt);
	if (rc)
		return rc;
	c = conf_find(e, cnt, list);
	if (c)
		*out = *c;
	else
		hlx_match_conf_init(out);
	free(e);
	return HLX_OK;
}

int hlx_match_conf_set(struct hlx_node *n, const char *list,
		       const struct hlx_match_conf *c)
{
	struct hlx_match_conf_entry *e = NULL, *p;
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_list_rec rec;
	char dir[PATH_MAX];
	size_t cnt = 0, i;
	int rc;

	if (c->threshold < 0 || c->threshold > HLX_MATCH_THRESHOLD_MAX)
		return hlx_err(HLX_EINVAL, "threshold %d is not in 0..%d",
			       c->threshold, HLX_MATCH_THRESHOLD_MAX);
	rc = hlx_list_get(n, list, &rec);
	if (!rc)
		rc = conf_load(n, &e, &cnt);
	if (rc)
		return rc;
	for (i = 0; i < cnt && strcmp(e[i].list, list) != 0; i++)
		;
	if (i == cnt) {
		p = realloc(e, (cnt + 1) * sizeof(*e));
		if (!p) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			goto out;
		}
		e = p;
		memcpy(e[cnt].list, list, strlen(list) + 1);
		cnt++;
	}
	e[i].c = *c;
	qsort(e, cnt, sizeof(*e), conf_entry_cmp);
	rc = hlx_match_conf_format(e, cnt, &b);
	if (!rc)
		rc = match_dir(n, dir, 1);
	if (!rc)
		rc = write_atomic(dir, CONF_FILE, b.data, b.len, NULL, 0, NULL, 0);
out:
	hlx_buf_free(&b);
	free(e);
	return rc;
}

/* ---- index files -------------------------------------------------------- */

/*
 * Both files (spec/match.md, "Files"): an 8-byte magic, then in the SSH
 * wire encoding the snapshot id, the lists and the versions the file
 * reflects, the two hash counts and the offset of the hashes; zeros up to
 * that offset (a multiple of 64); then the hashes, 32 bytes each, each
 * array strictly increasing.  A base holds one array (its hashes), an
 * overlay two (added, removed) and names the base it applies to.
 */
struct lver {
	uint32_t id;
	uint64_t version;
	char head[41];
};

struct idxfile {
	uint8_t id[ID_LEN];
	struct lver *lists; /* malloc'd */
	size_t nlists;
	const uint8_t *a;   /* base: the hashes; overlay: added */
	size_t na;
	const uint8_t *d;   /* overlay: removed */
	size_t nd;
};

static int rd_u64(struct hlx_rd *r, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;
	int rc = hlx_rd_u32(r, &hi);

	if (!rc)
		rc = hlx_rd_u32(r, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return rc;
}

static int check_sorted(const uint8_t *a, size_t n, const char *what)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(a + (i - 1) * HLX_PDQ_BYTES, a + i * HLX_PDQ_BYTES,
			   HLX_PDQ_BYTES) >= 0)
			return hlx_err(HLX_EINVAL, "%s hash %zu is out of order",
				       what, i + 1);
	return HLX_OK;
}

static int idx_parse(const uint8_t *p, size_t len, int delta,
		     struct idxfile *f)
{
	struct hlx_rd r = hlx_rd_make(p, len);
	const uint8_t *s;
	size_t sl, used;
	uint64_t na, nd;
	uint32_t nl, off;
	int rc;

	memset(f, 0, sizeof(*f));
	if (len < MAGIC_LEN ||
	    memcmp(p, delta ? DELTA_MAGIC : BASE_MAGIC, MAGIC_LEN) != 0)
		return hlx_err(HLX_EINVAL, "not an hlx %s file",
			       delta ? "PDQ overlay" : "PDQ index");
	r.p += MAGIC_LEN;
	r.left -= MAGIC_LEN;
	rc = hlx_rd_string(&r, &s, &sl);
	if (!rc && sl != ID_LEN)
		rc = hlx_err(HLX_EINVAL, "snapshot id of %zu bytes", sl);
	if (rc)
		return rc;
	memcpy(f->id, s, ID_LEN);
	rc = hlx_rd_u32(&r, &nl);
	if (rc)
		return rc;
	/* each list takes at least 16 bytes: bound nl before allocating */
	if (nl > LISTS_MAX || nl > r.left / 16)
		return hlx_err(HLX_EINVAL, "%" PRIu32 " lists", nl);
	f->lists = calloc(nl ? nl : 1, sizeof(*f->lists));
	if (!f->lists)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < nl; i++) {
		struct lver *l = &f->lists[i];

		rc = hlx_rd_u32(&r, &l->id);
		if (!rc)
			rc = rd_u64(&r, &l->version);
		if (!rc)
			rc = hlx_rd_string(&r, &s, &sl);
		if (rc)
			goto fail;
		if (l->id == 0 || l->id > LISTS_MAX ||
		    (i > 0 && l->id <= f->lists[i - 1].id)) {
			rc = hlx_err(HLX_EINVAL, "list id %" PRIu32 " out of order",
				     l->id);
			goto fail;
		}
		if ((sl != 0 && sl != 40) || (sl == 0) != (l->version == 0)) {
			rc = hlx_err(HLX_EINVAL, "list %" PRIu32 ": bad head", l->id);
			goto fail;
		}
		for (size_t k = 0; k < sl; k++)
			if (!((s[k] >= '0' && s[k] <= '9') ||
			      (s[k] >= 'a' && s[k] <= 'f'))) {
				rc = hlx_err(HLX_EINVAL, "list %" PRIu32 ": bad head",
					     l->id);
				goto fail;
			}
		memcpy(l->head, s, sl);
		l->head[sl] = '\0';
	}
	f->nlists = nl;
	rc = rd_u64(&r, &na);
	if (!rc)
		rc = rd_u64(&r, &nd);
	if (!rc)
		rc = hlx_rd_u32(&r, &off);
	if (rc)
		goto fail;
	used = len - r.left;
	if (na > HLX_PDQIDX_MAX || nd > HLX_PDQIDX_MAX || (!delta && nd) ||
	    off % ALIGN || off < used || off > len ||
	    (len - off) / HLX_PDQ_BYTES != na + nd ||
	    (len - off) % HLX_PDQ_BYTES) {
		rc = hlx_err(HLX_EINVAL, "sizes do not match the file (%zu bytes)",
			     len);
		goto fail;
	}
	for (size_t k = used; k < off; k++)
		if (p[k]) {
			rc = hlx_err(HLX_EINVAL, "padding is not zero");
			goto fail;
		}
	f->a = p + off;
	f->na = (size_t)na;
	f->d = f->a + f->na * HLX_PDQ_BYTES;
	f->nd = (size_t)nd;
	rc = check_sorted(f->a, f->na, delta ? "added" : "indexed");
	if (!rc)
		rc = check_sorted(f->d, f->nd, "removed");
	if (rc)
		goto fail;
	return HLX_OK;
fail:
	free(f->lists);
	f->lists = NULL;
	return rc;
}

int hlx_match_file_check(const uint8_t *p, size_t len)
{
	struct idxfile f;
	int rc;

	if (len >= MAGIC_LEN && memcmp(p, DELTA_MAGIC, MAGIC_LEN) == 0)
		rc = idx_parse(p, len, 1, &f);
	else
		rc = idx_parse(p, len, 0, &f);
	if (!rc)
		free(f.lists);
	return rc;
}

static int idx_header(struct hlx_buf *b, int delta, const uint8_t id[ID_LEN],
		      const struct lver *l, size_t nl, size_t na, size_t nd)
{
	int rc = hlx_buf_put(b, delta ? DELTA_MAGIC : BASE_MAGIC, MAGIC_LEN);
	size_t off;

	if (!rc)
		rc = hlx_buf_put_string(b, id, ID_LEN);
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)nl);
	for (size_t i = 0; i < nl && !rc; i++) {
		rc = hlx_buf_put_u32(b, l[i].id);
		if (!rc)
			rc = hlx_buf_put_u32(b, (uint32_t)(l[i].version >> 32));
		if (!rc)
			rc = hlx_buf_put_u32(b, (uint32_t)l[i].version);
		if (!rc)
			rc = hlx_buf_put_cstring(b, l[i].head);
	}
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)((uint64_t)na >> 32));
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)na);
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)((uint64_t)nd >> 32));
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)nd);
	if (rc)
		return rc;
	off = (b->len + 4 + ALIGN - 1) / ALIGN * ALIGN;
	if (off > UINT32_MAX)
		return hlx_err(HLX_ETOOBIG, "index header too large");
	rc = hlx_buf_put_u32(b, (uint32_t)off);
	while (!rc && b->len < off)
		rc = hlx_buf_putc(b, 0);
	return rc;
}

/* ---- the matcher -------------------------------------------------------- */

struct lstate {
	struct hlx_list_rec rec; /* name[0] == 0: no such list */
	struct hlx_match_conf c;
};

struct hlx_matcher {
	struct hlx_node *node;
	char dir[PATH_MAX];
	pthread_rwlock_t lock;      /* match calls (read) vs refresh (write) */
	pthread_mutex_t store_lock; /* the node's store and histories, but
				     * hlx_store_lookup (thread-safe) */
	pthread_mutex_t build_lock; /* building the tables on demand */
	double build_seconds;       /* under build_lock */
	unsigned threads;
	int override;               /* -1 or a threshold for every list */
	size_t compact_min;

	/* the base snapshot: mmapped file or malloc'd array */
	uint8_t base_id[ID_LEN];
	void *map;
	size_t maplen;
	uint8_t *owned;
	const uint8_t *base;
	size_t nbase;
	struct hlx_pdqidx *bidx;
	uint8_t *dead;              /* bit per base hash: removed */
	size_t ndead;
	/* the overlay's additions */
	uint8_t *add;
	size_t nadd;
	struct hlx_pdqidx *didx;
	int have_base;

	struct lver *ver;           /* versions indexed, by id */
	size_t nver;
	struct lstate *lists;       /* by id - 1 */
	size_t nlists;
	unsigned radius;            /* largest threshold in use */

	struct hlx_match_status st;
	atomic_uint_fast64_t queries, pdq_queries, matches, scanned;
	atomic_size_t window;       /* PDQ queries per search window */
};

static void base_drop(struct hlx_matcher *m)
{
	hlx_pdqidx_free(m->bidx);
	hlx_pdqidx_free(m->didx);
	m->bidx = m->didx = NULL;
	if (m->map)
		munmap(m->map, m->maplen);
	m->map = NULL;
	m->maplen = 0;
	free(m->owned);
	m->owned = NULL;
	m->base = NULL;
	m->nbase = 0;
	free(m->dead);
	m->dead = NULL;
	m->ndead = 0;
	free(m->add);
	m->add = NULL;
	m->nadd = 0;
	m->have_base = 0;
}

void hlx_matcher_free(struct hlx_matcher *m)
{
	if (!m)
		return;
	base_drop(m);
	free(m->ver);
	free(m->lists);
	pthread_rwlock_destroy(&m->lock);
	pthread_mutex_destroy(&m->store_lock);
	pthread_mutex_destroy(&m->build_lock);
	free(m);
}

static int dead_alloc(struct hlx_matcher *m)
{
	free(m->dead);
	m->dead = calloc(m->nbase / 8 + 1, 1);
	m->ndead = 0;
	return m->dead ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
}

static inline int is_dead(const struct hlx_matcher *m, size_t i)
{
	return m->dead[i / 8] >> (i % 8) & 1;
}

static void set_dead(struct hlx_matcher *m, size_t i, int v)
{
	if (is_dead(m, i) == v)
		return;
	m->dead[i / 8] ^= (uint8_t)(1u << (i % 8));
	if (v)
		m->ndead++;
	else
		m->ndead--;
}

static int map_file(const char *path, void **map, size_t *len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = HLX_OK;

	*map = NULL;
	*len = 0;
	if (fd < 0)
		return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = hlx_err(HLX_EIO, "'%s' is not a regular file", path);
	} else if (sb.st_size == 0) {
		rc = hlx_err(HLX_EINVAL, "'%s' is empty", path);
	} else if ((uint64_t)sb.st_size > SIZE_MAX / 2) {
		rc = hlx_err(HLX_ETOOBIG, "'%s' is too large", path);
	} else {
		*map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE,
			    fd, 0);
		if (*map == MAP_FAILED) {
			*map = NULL;
			rc = hlx_err(HLX_EIO, "cannot map '%s': %s", path,
				     strerror(errno));
		} else {
			*len = (size_t)sb.st_size;
		}
	}
	close(fd);
	return rc;
}

static int versions_set(struct hlx_matcher *m, const struct lver *l, size_t n)
{
	struct lver *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (n)
		memcpy(v, l, n * sizeof(*v));
	free(m->ver);
	m->ver = v;
	m->nver = n;
	return HLX_OK;
}

/* Load pdq.base and, if it applies to it, pdq.delta. */
static int load_files(struct hlx_matcher *m)
{
	struct idxfile f, d;
	char p[PATH_MAX];
	void *dmap = NULL;
	size_t dlen = 0;
	int rc;

	rc = path_of(p, m->dir, BASE_FILE);
	if (!rc)
		rc = map_file(p, &m->map, &m->maplen);
	if (rc)
		return rc;
	rc = idx_parse(m->map, m->maplen, 0, &f);
	if (rc)
		return hlx_err_wrap(rc, "'%s'", p);
	memcpy(m->base_id, f.id, ID_LEN);
	m->base = f.a;
	m->nbase = f.na;
	rc = versions_set(m, f.lists, f.nlists);
	free(f.lists);
	if (!rc)
		rc = dead_alloc(m);
	if (rc)
		return rc;
	m->have_base = 1;
	rc = path_of(p, m->dir, DELTA_FILE);
	if (!rc)
		rc = map_file(p, &dmap, &dlen);
	if (rc == HLX_ENOENT)
		return HLX_OK;
	if (!rc)
		rc = idx_parse(dmap, dlen, 1, &d);
	if (rc) {
		/* A damaged overlay only costs diffs: start from the base. */
		if (dmap)
			munmap(dmap, dlen);
		snprintf(m->st.note, sizeof(m->st.note), "overlay ignored: %.120s",
			 hlx_err_detail());
		return HLX_OK;
	}
	if (memcmp(d.id, m->base_id, ID_LEN) != 0) {
		free(d.lists); /* an overlay of another base */
		munmap(dmap, dlen);
		return HLX_OK;
	}
	for (size_t i = 0; i < d.nd; i++) {
		ptrdiff_t k = find32(m->base, m->nbase,
				     d.d + i * HLX_PDQ_BYTES);

		if (k >= 0)
			set_dead(m, (size_t)k, 1);
	}
	m->add = malloc(d.na ? d.na * HLX_PDQ_BYTES : 1);
	rc = m->add ? versions_set(m, d.lists, d.nlists) :
		      hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < d.na; i++)
		if (find32(m->base, m->nbase, d.a + i * HLX_PDQ_BYTES) < 0)
			memcpy(m->add + m->nadd++ * HLX_PDQ_BYTES,
			       d.a + i * HLX_PDQ_BYTES, HLX_PDQ_BYTES);
	free(d.lists);
	munmap(dmap, dlen);
	return rc;
}

/* The lists of the node now, each checked against its history. */
struct cur_ctx {
	struct hlx_node *n;
	struct hlx_list_rec *v;
	size_t cnt, cap;
};

static int collect_name(void *ctx, const struct hlx_list_rec *l)
{
	struct cur_ctx *c = ctx;

	if (hlx_is_status_list(l->name))
		return 0; /* removal statuses, not hashes to match */
	if (l->id == 0 || l->id > LISTS_MAX)
		return hlx_err(HLX_ESTORE, "list id %" PRIu32 " out of range", l->id);
	if (c->cnt == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct hlx_list_rec *p = realloc(c->v, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->v = p;
		c->cap = nc;
	}
	c->v[c->cnt++] = *l;
	return 0;
}

static int rec_id_cmp(const void *a, const void *b)
{
	const struct hlx_list_rec *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int current_lists(struct hlx_matcher *m, struct cur_ctx *c)
{
	int rc;

	c->n = m->node;
	rc = hlx_store_list_foreach(hlx_node_store(m->node), collect_name, c);
	/* recover (or refuse) a list whose state and history disagree */
	for (size_t i = 0; !rc && i < c->cnt; i++) {
		char name[HLX_LIST_NAME_MAX + 1];

		memcpy(name, c->v[i].name, sizeof(name));
		rc = hlx_list_get(m->node, name, &c->v[i]);
	}
	if (!rc && c->cnt > 1)
		qsort(c->v, c->cnt, sizeof(*c->v), rec_id_cmp);
	return rc;
}

/* Settings and list records, by id, for the match calls. */
static int lists_set(struct hlx_matcher *m, const struct cur_ctx *c)
{
	struct hlx_match_conf_entry *e;
	struct lstate *ls;
	size_t ne, nl = c->cnt ? c->v[c->cnt - 1].id : 0;
	unsigned radius = 0;
	int rc;

	rc = conf_load(m->node, &e, &ne);
	if (rc)
		return rc;
	ls = calloc(nl ? nl : 1, sizeof(*ls));
	if (!ls) {
		free(e);
		return hlx_err(HLX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->cnt; i++) {
		struct lstate *s = &ls[c->v[i].id - 1];
		const struct hlx_match_conf *f = conf_find(e, ne, c->v[i].name);

		s->rec = c->v[i];
		if (f)
			s->c = *f;
		else
			hlx_match_conf_init(&s->c);
		if (m->override >= 0)
			s->c.threshold = m->override;
		if ((unsigned)s->c.threshold > radius)
			radius = (unsigned)s->c.threshold;
	}
	if (c->cnt == 0)
		radius = m->override >= 0 ? (unsigned)m->override :
					    HLX_MATCH_THRESHOLD_DEFAULT;
	free(e);
	free(m->lists);
	m->lists = ls;
	m->nlists = nl;
	m->radius = radius;
	return HLX_OK;
}

/* Every PDQ hash of a version (for a fresh build). */
struct pdq_collect {
	struct hlx_buf hashes;
	struct hlx_hash *h;
	uint64_t lines;
	/* for diffs */
	struct hlx_matcher *m;
};

static int take_pdq(struct pdq_collect *c, const char *line, size_t len)
{
	const char *tab;
	int rc;

	c->lines++;
	if (len < 4 || memcmp(line, "pdq:", 4) != 0)
		return 0;
	tab = memchr(line, '\t', len);
	rc = hlx_hash_parse_canonical(line, tab ? (size_t)(tab - line) : len,
				      c->h);
	if (!rc && c->h->type != HLX_HASH_PDQ)
		rc = hlx_err(HLX_EINVAL, "not a pdq hash");
	if (rc)
		return hlx_err_wrap(HLX_EHISTORY, "history line");
	return hlx_buf_put(&c->hashes, c->h->bytes, HLX_PDQ_BYTES);
}

static int foreach_line(void *ctx, const char *line, size_t len)
{
	return take_pdq(ctx, line, len);
}

static int diff_line(void *ctx, const char *line, size_t len, int added)
{
	(void)added; /* whether it stays is the state's answer */
	return take_pdq(ctx, line, len);
}

static int lvers_from(const struct cur_ctx *c, struct lver **out)
{
	struct lver *v = calloc(c->cnt ? c->cnt : 1, sizeof(*v));

	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->cnt; i++) {
		v[i].id = c->v[i].id;
		v[i].version = c->v[i].version;
		memcpy(v[i].head, c->v[i].head, sizeof(v[i].head));
	}
	*out = v;
	return HLX_OK;
}

static int write_base(struct hlx_matcher *m, const struct lver *l, size_t nl)
{
	struct hlx_buf h = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc;

	rc = idx_header(&h, 0, m->base_id, l, nl, m->nbase, 0);
	if (!rc)
		rc = write_atomic(m->dir, BASE_FILE, h.data, h.len, m->base,
				  m->nbase * HLX_PDQ_BYTES, NULL, 0);
	hlx_buf_free(&h);
	/* the old overlay names the old base: harmless, but drop it */
	if (!rc && !path_of(p, m->dir, DELTA_FILE))
		unlink(p);
	return rc;
}

static int write_delta(struct hlx_matcher *m, const struct lver *l, size_t nl)
{
	struct hlx_buf h = HLX_BUF_INIT, del = HLX_BUF_INIT;
	int rc = HLX_OK;

	for (size_t i = 0; i < m->nbase && !rc; i++)
		if (m->ndead && is_dead(m, i))
			rc = hlx_buf_put(&del, m->base + i * HLX_PDQ_BYTES,
					 HLX_PDQ_BYTES);
	if (!rc)
		rc = idx_header(&h, 1, m->base_id, l, nl, m->nadd, m->ndead);
	if (!rc)
		rc = write_atomic(m->dir, DELTA_FILE, h.data, h.len, m->add,
				  m->nadd * HLX_PDQ_BYTES, del.data, del.len);
	hlx_buf_free(&h);
	hlx_buf_free(&del);
	return rc;
}

/* A new base from an array of sorted unique hashes (taken over). */
static int base_adopt(struct hlx_matcher *m, uint8_t *hashes, size_t n,
		      const struct lver *l, size_t nl)
{
	double t0 = now_s();
	int rc;

	base_drop(m);
	m->owned = hashes;
	m->base = hashes;
	m->nbase = n;
	randombytes_buf(m->base_id, ID_LEN);
	rc = dead_alloc(m);
	if (!rc)
		rc = versions_set(m, l, nl);
	if (!rc)
		rc = write_base(m, l, nl);
	if (!rc)
		m->have_base = 1; /* tables: on demand */
	m->st.load_seconds += now_s() - t0;
	return rc;
}

static int full_build(struct hlx_matcher *m, const struct cur_ctx *c)
{
	struct pdq_collect pc = { .hashes = HLX_BUF_INIT };
	struct lver *l = NULL;
	uint8_t *arr;
	size_t n;
	int rc;

	pc.h = malloc(sizeof(*pc.h));
	rc = pc.h ? lvers_from(c, &l) : hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < c->cnt; i++) {
		struct hlx_hist *h = NULL;

		if (!c->v[i].version)
			continue;
		rc = hlx_list_open_hist(m->node, c->v[i].name, &h);
		if (!rc)
			rc = hlx_hist_foreach(h, c->v[i].head, foreach_line, &pc);
		if (rc)
			rc = hlx_err_wrap(rc, "list '%s'", c->v[i].name);
		hlx_hist_free(h);
	}
	if (rc)
		goto out;
	n = sort_unique(pc.hashes.data, pc.hashes.len / HLX_PDQ_BYTES);
	/* take the buffer's memory over */
	arr = pc.hashes.data;
	pc.hashes.data = NULL;
	pc.hashes.len = pc.hashes.cap = 0;
	if (!arr) {
		arr = malloc(1);
		if (!arr) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = base_adopt(m, arr, n, l, c->cnt);
	m->st.rebuilt = 1;
	m->st.diff_lines += pc.lines;
	m->st.pdq_added += n;
out:
	hlx_buf_free(&pc.hashes);
	free(pc.h);
	free(l);
	return rc;
}

static const struct lver *ver_find(const struct hlx_matcher *m, uint32_t id)
{
	size_t lo = 0, hi = m->nver;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->ver[mid].id == id)
			return &m->ver[mid];
		if (m->ver[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int exists_cb(void *ctx, size_t query, uint32_t list, const char *meta,
		     size_t metalen)
{
	(void)list;
	(void)meta;
	(void)metalen;
	((uint8_t *)ctx)[query] = 1;
	return 0;
}

/* Which of n hashes some list of the state holds. */
static int state_has(struct hlx_matcher *m, const uint8_t *a, size_t n,
		     uint8_t *present)
{
	struct hlx_hash *hs = NULL;
	const struct hlx_hash **hp = NULL;
	size_t b = n < LOOKUP_BATCH ? n : LOOKUP_BATCH;
	int rc = HLX_OK;

	memset(present, 0, n);
	if (!n)
		return HLX_OK;
	hs = malloc(b * sizeof(*hs));
	hp = malloc(b * sizeof(*hp));
	if (!hs || !hp)
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i += b) {
		size_t k = n - i < b ? n - i : b;

		for (size_t j = 0; j < k; j++) {
			hs[j].type = HLX_HASH_PDQ;
			hs[j].len = HLX_PDQ_BYTES;
			memcpy(hs[j].bytes, a + (i + j) * HLX_PDQ_BYTES,
			       HLX_PDQ_BYTES);
			hp[j] = &hs[j];
		}
		rc = hlx_store_lookup(hlx_node_store(m->node), hp, k, exists_cb,
				      present + i);
	}
	free(hs);
	free(hp);
	return rc;
}

/* Apply the touched hashes (sorted, unique) with what the state holds. */
static int overlay_apply(struct hlx_matcher *m, const uint8_t *t, size_t n,
			 const uint8_t *present, int *changed)
{
	struct hlx_buf next = HLX_BUF_INIT;
	size_t ai = 0;
	int rc = HLX_OK;

	*changed = 0;
	/* merge the sorted overlay with the sorted touched hashes */
	for (size_t i = 0; i < n && !rc; i++) {
		const uint8_t *h = t + i * HLX_PDQ_BYTES;
		ptrdiff_t k = find32(m->base, m->nbase, h);
		int in_add;

		while (ai < m->nadd &&
		       memcmp(m->add + ai * HLX_PDQ_BYTES, h,
			      HLX_PDQ_BYTES) < 0) {
			rc = hlx_buf_put(&next, m->add + ai * HLX_PDQ_BYTES,
					 HLX_PDQ_BYTES);
			ai++;
		}
		in_add = ai < m->nadd &&
			 !memcmp(m->add + ai * HLX_PDQ_BYTES, h, HLX_PDQ_BYTES);
		if (in_add)
			ai++;
		if (k >= 0) {
			if (is_dead(m, (size_t)k) == !!present[i]) {
				set_dead(m, (size_t)k, !present[i]);
				*changed = 1;
				if (present[i])
					m->st.pdq_added++;
				else
					m->st.pdq_removed++;
			}
		} else if (present[i]) {
			if (!rc)
				rc = hlx_buf_put(&next, h, HLX_PDQ_BYTES);
			if (!in_add) {
				*changed = 1;
				m->st.pdq_added++;
			}
		} else if (in_add) {
			*changed = 1;
			m->st.pdq_removed++;
		}
	}
	if (!rc && ai < m->nadd)
		rc = hlx_buf_put(&next, m->add + ai * HLX_PDQ_BYTES,
				 (m->nadd - ai) * HLX_PDQ_BYTES);
	if (!rc && *changed) {
		uint8_t *a = next.data ? next.data : malloc(1);

		if (!a) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		} else {
			free(m->add);
			m->add = a;
			m->nadd = next.len / HLX_PDQ_BYTES;
			next.data = NULL;
		}
	}
	hlx_buf_free(&next);
	return rc;
}

/* Merge the overlay into a new base. */
static int compact(struct hlx_matcher *m, const struct lver *l, size_t nl)
{
	size_t n = m->nbase - m->ndead + m->nadd, w = 0, i = 0, j = 0;
	uint8_t *a = malloc(n ? n * HLX_PDQ_BYTES : 1);

	if (!a)
		return hlx_err(HLX_ENOMEM, "out of memory");
	while (i < m->nbase || j < m->nadd) {
		const uint8_t *x = NULL;

		if (i < m->nbase && is_dead(m, i)) {
			i++;
			continue;
		}
		if (j >= m->nadd ||
		    (i < m->nbase && memcmp(m->base + i * HLX_PDQ_BYTES,
					    m->add + j * HLX_PDQ_BYTES,
					    HLX_PDQ_BYTES) < 0))
			x = m->base + i++ * HLX_PDQ_BYTES;
		else
			x = m->add + j++ * HLX_PDQ_BYTES;
		memcpy(a + w++ * HLX_PDQ_BYTES, x, HLX_PDQ_BYTES);
	}
	m->st.compacted = 1;
	return base_adopt(m, a, w, l, nl);
}

static int refresh_locked(struct hlx_matcher *m, int rebuild)
{
	struct cur_ctx c = { 0 };
	struct pdq_collect pc = { .hashes = HLX_BUF_INIT };
	struct lver *l = NULL;
	uint8_t *present = NULL;
	double t0 = now_s();
	int rc, changed = 0, vchanged = 0;

	m->st.rebuilt = m->st.compacted = 0;
	m->st.lists_changed = m->st.diff_lines = 0;
	m->st.pdq_added = m->st.pdq_removed = 0;
	pthread_mutex_lock(&m->store_lock);
	rc = current_lists(m, &c);
	if (!rc)
		rc = lists_set(m, &c);
	if (rc)
		goto out;
	if (!m->have_base || rebuild) {
		if (rebuild)
			snprintf(m->st.note, sizeof(m->st.note), "rebuild asked for");
		rc = full_build(m, &c);
		m->st.lists_changed = c.cnt;
		goto out;
	}
	/* a list the index knows that is gone: start afresh */
	for (size_t i = 0, k = 0; i < m->nver; i++) {
		while (k < c.cnt && c.v[k].id < m->ver[i].id)
			k++;
		if (k == c.cnt || c.v[k].id != m->ver[i].id) {
			snprintf(m->st.note, sizeof(m->st.note),
				 "list %" PRIu32 " is gone: rebuilt", m->ver[i].id);
			rc = full_build(m, &c);
			goto out;
		}
	}
	pc.h = malloc(sizeof(*pc.h));
	if (!pc.h) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c.cnt && !rc; i++) {
		const struct lver *v = ver_find(m, c.v[i].id);
		const char *old = v && v->head[0] ? v->head : NULL;
		struct hlx_hist *h = NULL;

		if (v ? !strcmp(v->head, c.v[i].head) : !c.v[i].version)
			continue;
		vchanged = 1;
		m->st.lists_changed++;
		if (!c.v[i].version) {
			snprintf(m->st.note, sizeof(m->st.note),
				 "list '%.64s' went back to version 0: rebuilt",
				 c.v[i].name);
			rc = full_build(m, &c);
			goto out;
		}
		rc = hlx_list_open_hist(m->node, c.v[i].name, &h);
		if (!rc)
			rc = hlx_hist_diff(h, old, c.v[i].head, diff_line, &pc);
		hlx_hist_free(h);
		if (rc == HLX_ENOENT) {
			/* the indexed version is not in the history any more */
			snprintf(m->st.note, sizeof(m->st.note),
				 "list '%.64s': indexed version unknown: rebuilt",
				 c.v[i].name);
			rc = full_build(m, &c);
			goto out;
		}
		if (rc)
			rc = hlx_err_wrap(rc, "list '%s'", c.v[i].name);
	}
	m->st.diff_lines = pc.lines;
	if (rc || !vchanged)
		goto out;
	{
		size_t n = sort_unique(pc.hashes.data,
				       pc.hashes.len / HLX_PDQ_BYTES);

		present = malloc(n ? n : 1);
		rc = present ? state_has(m, pc.hashes.data, n, present) :
			       hlx_err(HLX_ENOMEM, "out of memory");
		if (!rc)
			rc = overlay_apply(m, pc.hashes.data, n, present, &changed);
	}
	if (!rc)
		rc = lvers_from(&c, &l);
	if (rc)
		goto out;
	if (m->nadd + m->ndead > m->compact_min &&
	    m->nadd + m->ndead > m->nbase / 16) {
		rc = compact(m, l, c.cnt);
		goto out;
	}
	rc = versions_set(m, l, c.cnt);
	if (!rc && changed) {
		hlx_pdqidx_free(m->didx); /* rebuilt on demand */
		m->didx = NULL;
	}
	if (!rc)
		rc = write_delta(m, l, c.cnt);
out:
	pthread_mutex_unlock(&m->store_lock);
	m->st.lists = m->nver;
	m->st.base = m->nbase;
	m->st.added = m->nadd;
	m->st.removed = m->ndead;
	m->st.refresh_seconds = now_s() - t0;
	free(present);
	free(pc.h);
	free(l);
	hlx_buf_free(&pc.hashes);
	free(c.v);
	return rc;
}

static int do_refresh(struct hlx_matcher *m, int rebuild,
		      struct hlx_match_status *st)
{
	int rc;

	pthread_rwlock_wrlock(&m->lock);
	m->st.note[0] = '\0';
	rc = refresh_locked(m, rebuild);
	if (rc) {
		/* never answer from a half-updated index */
		base_drop(m);
		free(m->ver);
		m->ver = NULL;
		m->nver = 0;
	}
	pthread_rwlock_unlock(&m->lock);
	if (st)
		hlx_matcher_status(m, st);
	return rc;
}

int hlx_matcher_refresh(struct hlx_matcher *m, struct hlx_match_status *st)
{
	return do_refresh(m, 0, st);
}

int hlx_matcher_rebuild(struct hlx_matcher *m, struct hlx_match_status *st)
{
	return do_refresh(m, 1, st);
}

/* The tables of the base and the overlay, if not built yet.  Callers hold
 * the read or the write lock. */
static int ensure_tables(struct hlx_matcher *m)
{
	double t0;
	int rc = HLX_OK;

	pthread_mutex_lock(&m->build_lock);
	t0 = now_s();
	if (m->have_base && !m->bidx)
		rc = hlx_pdqidx_build(m->base, m->nbase, m->threads, &m->bidx);
	if (!rc && m->have_base && m->nadd && !m->didx)
		rc = hlx_pdqidx_build(m->add, m->nadd, m->threads, &m->didx);
	m->build_seconds += now_s() - t0;
	pthread_mutex_unlock(&m->build_lock);
	return rc;
}

int hlx_matcher_prepare(struct hlx_matcher *m)
{
	int rc;

	pthread_rwlock_rdlock(&m->lock);
	rc = m->have_base ? ensure_tables(m) :
			    hlx_err(HLX_ESTATE, "the match index is not usable: refresh it");
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

void hlx_matcher_status(struct hlx_matcher *m, struct hlx_match_status *st)
{
	pthread_rwlock_rdlock(&m->lock);
	*st = m->st;
	pthread_mutex_lock(&m->build_lock);
	st->tables = m->bidx != NULL;
	st->build_seconds = m->build_seconds;
	st->memory = hlx_pdqidx_memory(m->bidx) + hlx_pdqidx_memory(m->didx) +
		     (m->dead ? m->nbase / 8 + 1 : 0);
	pthread_mutex_unlock(&m->build_lock);
	pthread_rwlock_unlock(&m->lock);
	st->queries = atomic_load(&m->queries);
	st->pdq_queries = atomic_load(&m->pdq_queries);
	st->matches = atomic_load(&m->matches);
	st->scanned = atomic_load(&m->scanned);
}

int hlx_matcher_open(struct hlx_node *n, const struct hlx_match_opts *o,
		     struct hlx_matcher **out)
{
	struct hlx_matcher *m;
	double t0 = now_s();
	long cpus;
	int rc;

	*out = NULL;
	if (o && (o->threshold < -1 || o->threshold > HLX_MATCH_THRESHOLD_MAX))
		return hlx_err(HLX_EINVAL, "threshold %d is not in 0..%d",
			       o->threshold, HLX_MATCH_THRESHOLD_MAX);
	m = calloc(1, sizeof(*m));
	if (!m)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (pthread_rwlock_init(&m->lock, NULL) != 0) {
		free(m);
		return hlx_err(HLX_ENOMEM, "cannot create a lock");
	}
	if (pthread_mutex_init(&m->store_lock, NULL) != 0) {
		pthread_rwlock_destroy(&m->lock);
		free(m);
		return hlx_err(HLX_ENOMEM, "cannot create a lock");
	}
	if (pthread_mutex_init(&m->build_lock, NULL) != 0) {
		pthread_mutex_destroy(&m->store_lock);
		pthread_rwlock_destroy(&m->lock);
		free(m);
		return hlx_err(HLX_ENOMEM, "cannot create a lock");
	}
	m->node = n;
	m->override = o ? o->threshold : -1;
	m->compact_min = o && o->compact_min ? o->compact_min : COMPACT_MIN;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	m->threads = o && o->threads ? o->threads :
		     cpus > 0 ? (unsigned)cpus : 1;
	if (m->threads > HLX_MATCH_THREADS_MAX)
		m->threads = HLX_MATCH_THREADS_MAX;
	atomic_init(&m->queries, 0);
	atomic_init(&m->pdq_queries, 0);
	atomic_init(&m->matches, 0);
	atomic_init(&m->scanned, 0);
	atomic_init(&m->window, WINDOW_MAX);
	rc = match_dir(n, m->dir, 1);
	if (rc)
		goto fail;
	clean_temporaries(m->dir);
	if (!o || !o->rebuild) {
		rc = load_files(m);
		m->st.load_seconds = now_s() - t0;
		if (rc == HLX_OK) {
			m->st.loaded = 1;
		} else {
			if (rc != HLX_ENOENT)
				snprintf(m->st.note, sizeof(m->st.note),
					 "index not usable (%.100s): rebuilt",
					 hlx_err_detail());
			base_drop(m);
			free(m->ver);
			m->ver = NULL;
			m->nver = 0;
		}
	}
	{
		char note[sizeof(m->st.note)];

		memcpy(note, m->st.note, sizeof(note));
		rc = do_refresh(m, o && o->rebuild, NULL);
		if (!m->st.note[0])
			memcpy(m->st.note, note, sizeof(note));
	}
	if (rc)
		goto fail;
	*out = m;
	return HLX_OK;
fail:
	hlx_matcher_free(m);
	return rc;
}

/* ---- matching ----------------------------------------------------------- */

struct item {
	uint32_t q;          /* query index */
	uint32_t dist;
	const uint8_t *hash; /* the stored hash (a query's, base's, overlay's) */
	enum hlx_hash_type type;
	uint32_t len;
};

struct row {
	uint32_t item;
	uint32_t list;
	uint32_t meta; /* offset in the arena */
	uint32_t metalen;
};

struct mctx {
	struct hlx_matcher *m;
	const struct hlx_hash *const *q;
	hlx_match_fn cb;
	void *ctx;
	struct item *items;
	size_t nitems, capitems;
	struct row *rows;
	size_t nrows, caprows, item_base;
	struct hlx_buf arena;
	struct hlx_hash *hs;        /* LOOKUP_BATCH */
	const struct hlx_hash **hp;
	struct hlx_buf status;       /* the item's status records, JSON */
	struct hlx_status st;        /* scratch for decoding them */
	uint8_t *allowed;           /* per item of a group */
	uint64_t matches;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c;

	if (x->q != y->q)
		return x->q < y->q ? -1 : 1;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	c = memcmp(x->hash, y->hash, x->len < y->len ? x->len : y->len);
	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

static int item_push(struct mctx *c, uint32_t q, uint32_t d, const uint8_t *h,
		     enum hlx_hash_type t, size_t len)
{
	if (c->nitems == c->capitems) {
		size_t nc = c->capitems ? c->capitems * 2 : 1024;
		struct item *p = realloc(c->items, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->items = p;
		c->capitems = nc;
	}
	c->items[c->nitems++] = (struct item){ q, d, h, t, (uint32_t)len };
	return HLX_OK;
}

static int row_cb(void *ctx, size_t query, uint32_t list, const char *meta,
		  size_t metalen)
{
	struct mctx *c = ctx;
	size_t off = c->arena.len;
	int rc;

	if (c->nrows == c->caprows) {
		size_t nc = c->caprows ? c->caprows * 2 : 1024;
		struct row *p = realloc(c->rows, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->rows = p;
		c->caprows = nc;
	}
	if (off > UINT32_MAX - metalen)
		return hlx_err(HLX_ETOOBIG, "too many matches at once");
	rc = hlx_buf_put(&c->arena, meta, metalen);
	if (rc)
		return rc;
	c->rows[c->nrows++] = (struct row){ (uint32_t)(c->item_base + query),
					    list, (uint32_t)off,
					    (uint32_t)metalen };
	return 0;
}

/* The state's entries of items [a, b), appended to c->rows. */
static int lookup_items(struct mctx *c, size_t a, size_t b)
{
	int rc = HLX_OK;

	for (size_t i = a; i < b && !rc; i += LOOKUP_BATCH) {
		size_t k = b - i < LOOKUP_BATCH ? b - i : LOOKUP_BATCH;

		for (size_t j = 0; j < k; j++) {
			const struct item *it = &c->items[i + j];

			c->hs[j].type = it->type;
			c->hs[j].len = it->len;
			memcpy(c->hs[j].bytes, it->hash, it->len);
			c->hp[j] = &c->hs[j];
		}
		c->item_base = i;
		/* safe from several threads at once (node/store.h) */
		rc = hlx_store_lookup(hlx_node_store(c->m->node), c->hp, k,
				      row_cb, c);
	}
	return rc;
}

static const struct lstate *list_of(struct mctx *c, uint32_t id,
				    struct lstate *tmp)
{
	const struct hlx_matcher *m = c->m;
	int rc;

	if (id && id <= m->nlists && m->lists[id - 1].rec.name[0])
		return &m->lists[id - 1];
	/* a list made after the last refresh: default settings */
	pthread_mutex_lock(&c->m->store_lock);
	rc = hlx_store_list_by_id(hlx_node_store(m->node), id, &tmp->rec);
	pthread_mutex_unlock(&c->m->store_lock);
	if (rc)
		return NULL;
	hlx_match_conf_init(&tmp->c);
	if (m->override >= 0)
		tmp->c.threshold = m->override;
	return tmp;
}

/* The removal-status records among the rows of the item of rows[k] (its
 * rows run up to at most end), as a JSON array in c->status ("" if none). */
static int item_status(struct mctx *c, size_t k, size_t end)
{
	struct hlx_status *st = &c->st;
	struct lstate tmp;
	size_t item = c->rows[k].item;
	int rc = HLX_OK, n = 0;

	hlx_buf_reset(&c->status);
	for (; k < end && c->rows[k].item == item && !rc; k++) {
		const struct row *w = &c->rows[k];
		const struct lstate *l = list_of(c, w->list, &tmp);
		const struct item *it = &c->items[item];
		struct hlx_buf line = HLX_BUF_INIT;
		char text[HLX_HASH_TEXT_MAX];

		if (!l || !hlx_is_status_list(l->rec.name))
			continue;
		c->hs[1].type = it->type;
		c->hs[1].len = it->len;
		memcpy(c->hs[1].bytes, it->hash, it->len);
		rc = hlx_hash_format(&c->hs[1], text, sizeof(text));
		if (!rc)
			rc = hlx_buf_printf(&line, "%s\t%.*s\n", text, (int)w->metalen,
					    (const char *)c->arena.data + w->meta);
		if (!rc)
			rc = hlx_status_decode((char *)line.data, line.len, st);
		hlx_buf_free(&line);
		if (rc) {
			rc = hlx_err_wrap(HLX_ESTORE, "status record of '%s'", text);
			break;
		}
		/* tokens and fixed forms only: no escaping needed */
		rc = hlx_buf_printf(&c->status, "%s{\"origin\":\"%s\",\"state\":\"%s\"",
				    n++ ? "," : "[", l->rec.owner,
				    hlx_state_name(st->state));
		if (!rc && st->country[0])
			rc = hlx_buf_printf(&c->status, ",\"country\":\"%s\"",
					    st->country);
		if (!rc) {
			char t1[HLX_TIME_TEXT], t2[HLX_TIME_TEXT];

			hlx_time_format(st->reported, t1);
			hlx_time_format(st->changed, t2);
			rc = hlx_buf_printf(&c->status,
					    ",\"reported\":\"%s\",\"changed\":\"%s\"}",
					    t1, t2);
		}
	}
	if (!rc && n)
		rc = hlx_buf_putc(&c->status, ']');
	return rc;
}

/* Apply the allow-lists and thresholds to the rows of items [a, b) (all
 * of whole queries) and report what remains. */
static int emit(struct mctx *c, size_t a, size_t b)
{
	struct lstate tmp;
	size_t r0 = 0;
	int rc = HLX_OK;

	memset(c->allowed, 0, b - a);
	while (r0 < c->nrows && !rc) {
		uint32_t q = c->items[c->rows[r0].item].q;
		unsigned allow_min = UINT32_MAX;
		size_t r1 = r0;

		/* the rows of one query: find its allow-listed hashes */
		for (; r1 < c->nrows && c->items[c->rows[r1].item].q == q;
		     r1++) {
			const struct row *w = &c->rows[r1];
			const struct item *it = &c->items[w->item];
			const struct lstate *l = list_of(c, w->list, &tmp);

			if (!l || !l->c.allow)
				continue;
			c->allowed[w->item - a] = 1;
			if (it->dist <= (unsigned)l->c.threshold &&
			    it->dist < allow_min)
				allow_min = it->dist;
		}
		for (size_t k = r0; k < r1 && !rc; k++) {
			const struct row *w = &c->rows[k];
			const struct item *it = &c->items[w->item];
			const struct lstate *l;
			struct hlx_match mt;

			if (k == r0 || c->rows[k - 1].item != w->item)
				rc = item_status(c, k, r1);
			if (rc)
				break;
			struct hlx_hash *h = &c->hs[0];
			char text[HLX_HASH_TEXT_MAX], cat[HLX_TOKEN_MAX + 1];
			const char *fields, *tab;
			size_t clen;

			if (c->allowed[w->item - a] || it->dist > allow_min)
				continue;
			l = list_of(c, w->list, &tmp);
			if (!l) {
				rc = hlx_err(HLX_ESTORE, "entry of unknown list %" PRIu32,
					     w->list);
				break;
			}
			if (hlx_is_status_list(l->rec.name))
				continue; /* a record, given with the matches */
			if (it->type == HLX_HASH_PDQ &&
			    it->dist > (unsigned)l->c.threshold)
				continue;
			h->type = it->type;
			h->len = it->len;
			memcpy(h->bytes, it->hash, it->len);
			fields = (const char *)c->arena.data + w->meta;
			tab = memchr(fields, '\t', w->metalen);
			clen = tab ? (size_t)(tab - fields) : w->metalen;
			if (clen == 1 && fields[0] == '-') {
				cat[0] = '\0';
			} else if (clen <= HLX_TOKEN_MAX &&
				   hlx_entry_token_check(fields, clen, "category") ==
				   HLX_OK) {
				memcpy(cat, fields, clen);
				cat[clen] = '\0';
			} else {
				rc = hlx_hash_format(h, text, sizeof(text));
				rc = hlx_err(HLX_ESTORE, "stored entry '%s': bad category",
					     rc ? "?" : text);
				break;
			}
			mt.hash = h;
			mt.category = cat;
			mt.fields = fields;
			mt.fields_len = w->metalen;
			mt.query = it->q;
			mt.distance = it->dist;
			mt.list = &l->rec;
			mt.status = c->status.len ? (const char *)c->status.data : NULL;
			mt.status_len = c->status.len;
			c->matches++;
			rc = c->cb(c->ctx, &mt);
		}
		r0 = r1;
	}
	return rc;
}

int hlx_match_entry(const struct hlx_match *m, struct hlx_entry *e)
{
	struct hlx_buf line = HLX_BUF_INIT;
	char text[HLX_HASH_TEXT_MAX];
	int rc;

	rc = hlx_hash_format(m->hash, text, sizeof(text));
	if (rc)
		return rc;
	rc = hlx_buf_puts(&line, text);
	if (!rc)
		rc = hlx_buf_putc(&line, '\t');
	if (!rc)
		rc = hlx_buf_put(&line, m->fields, m->fields_len);
	if (!rc)
		rc = hlx_buf_putc(&line, '\n');
	if (!rc)
		rc = hlx_entry_decode((const char *)line.data, line.len, e);
	if (rc)
		rc = hlx_err_wrap(HLX_ESTORE, "stored entry '%s'", text);
	hlx_buf_free(&line);
	return rc;
}

/* Look up and report the items (sorted by query) in groups of queries. */
static int report(struct mctx *c)
{
	size_t a = 0;
	int rc = HLX_OK;

	while (a < c->nitems && !rc) {
		size_t b = a;

		/* whole queries, about LOOKUP_BATCH items */
		while (b < c->nitems && (b - a < LOOKUP_BATCH ||
					 c->items[b].q == c->items[b - 1].q))
			b++;
		c->nrows = 0;
		hlx_buf_reset(&c->arena);
		if (b - a > LOOKUP_BATCH) {
			uint8_t *p = realloc(c->allowed, b - a);

			if (!p)
				return hlx_err(HLX_ENOMEM, "out of memory");
			c->allowed = p;
		}
		rc = lookup_items(c, a, b);
		if (!rc)
			rc = emit(c, a, b);
		a = b;
	}
	return rc;
}

int hlx_matcher_match(struct hlx_matcher *m, const struct hlx_hash *const *q,
		      size_t n, hlx_match_fn cb, void *ctx)
{
	struct mctx c = { .m = m, .q = q, .cb = cb, .ctx = ctx };
	struct hlx_pdq_hits hb = { 0 }, hd = { 0 };
	uint8_t *qb = NULL;
	uint32_t *qi = NULL;
	size_t win = atomic_load(&m->window);
	int rc = HLX_OK;

	if (n > UINT32_MAX)
		return hlx_err(HLX_ETOOBIG, "%zu queries in one call", n);
	for (size_t i = 0; i < n; i++) {
		rc = hlx_hash_validate(q[i]);
		if (rc)
			return hlx_err_wrap(rc, "query %zu", i + 1);
	}
	hlx_buf_init(&c.arena);
	hlx_buf_init(&c.status);
	c.hs = malloc(LOOKUP_BATCH * sizeof(*c.hs));
	c.hp = malloc(LOOKUP_BATCH * sizeof(*c.hp));
	c.allowed = malloc(LOOKUP_BATCH);
	qb = malloc((n < WINDOW_MAX ? n : WINDOW_MAX) * HLX_PDQ_BYTES + 1);
	qi = malloc((n < WINDOW_MAX ? n : WINDOW_MAX) * sizeof(*qi) + 1);
	if (!c.hs || !c.hp || !c.allowed || !qb || !qi) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	pthread_rwlock_rdlock(&m->lock);
	if (!m->have_base) {
		rc = hlx_err(HLX_ESTATE, "the match index is not usable: refresh it");
		goto unlock;
	}
	for (size_t w0 = 0; w0 < n && !rc;) {
		size_t w1 = w0, nq = 0;

		/* a window of queries holding at most win PDQ hashes */
		c.nitems = 0;
		for (; w1 < n; w1++) {
			const struct hlx_hash *h = q[w1];

			if (h->type != HLX_HASH_PDQ) {
				rc = item_push(&c, (uint32_t)w1, 0, h->bytes,
					       h->type, h->len);
				if (rc)
					break;
				continue;
			}
			if (nq == win)
				break;
			memcpy(qb + nq * HLX_PDQ_BYTES, h->bytes, HLX_PDQ_BYTES);
			qi[nq++] = (uint32_t)w1;
		}
		hb.n = hd.n = 0;
		hb.scanned = hd.scanned = 0;
		if (!rc && nq)
			rc = ensure_tables(m);
		if (!rc && nq)
			rc = hlx_pdqidx_search(m->bidx, qb, nq, m->radius,
					       m->threads, &hb);
		if (!rc && nq && m->didx)
			rc = hlx_pdqidx_search(m->didx, qb, nq, m->radius,
					       m->threads, &hd);
		for (size_t i = 0; i < hb.n && !rc; i++) {
			const struct hlx_pdq_hit *x = &hb.v[i];

			if (!is_dead(m, x->id))
				rc = item_push(&c, qi[x->query], x->distance,
					       m->base + (size_t)x->id * HLX_PDQ_BYTES,
					       HLX_HASH_PDQ, HLX_PDQ_BYTES);
		}
		for (size_t i = 0; i < hd.n && !rc; i++) {
			const struct hlx_pdq_hit *x = &hd.v[i];

			rc = item_push(&c, qi[x->query], x->distance,
				       m->add + (size_t)x->id * HLX_PDQ_BYTES,
				       HLX_HASH_PDQ, HLX_PDQ_BYTES);
		}
		if (rc)
			break;
		atomic_fetch_add(&m->scanned, hb.scanned + hd.scanned);
		atomic_fetch_add(&m->pdq_queries, nq);
		/* keep a window's hits near HITS_TARGET */
		if (nq) {
			size_t per = (hb.n + hd.n) / nq + 1;
			size_t nw = HITS_TARGET / per;

			nw = nw < WINDOW_MIN ? WINDOW_MIN :
			     nw > WINDOW_MAX ? WINDOW_MAX : nw;
			atomic_store(&m->window, nw);
			win = nw;
		}
		for (size_t i = 1; i < c.nitems; i++)
			if (item_cmp(&c.items[i - 1], &c.items[i]) > 0) {
				/* exact queries or overlay hits among them */
				qsort(c.items, c.nitems, sizeof(*c.items),
				      item_cmp);
				break;
			}
		rc = report(&c);
		w0 = w1;
	}
	atomic_fetch_add(&m->queries, n);
	atomic_fetch_add(&m->matches, c.matches);
unlock:
	pthread_rwlock_unlock(&m->lock);
out:
	hlx_pdq_hits_free(&hb);
	hlx_pdq_hits_free(&hd);
	free(qb);
	free(qi);
	free(c.items);
	free(c.rows);
	free(c.hs);
	free(c.hp);
	free(c.allowed);
	hlx_buf_free(&c.arena);
	hlx_buf_free(&c.status);
	return rc;
}
