/* SPDX-License-Identifier: MIT */
/* Raw URLs behind url-sha256 items, sealed at rest; hlx url. */
#include "node/urls.h"
#include "node/files.h"
#include "node/lists.h"
#include "keys/seal.h"
#include "protocol/err.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEX_LEN 64
#define CONTEXT_PREFIX "hlx-url:"
#define FILE_MAX HLX_SEAL_LEN(HLX_URL_MAX, 1)

/* Replace a normalisation detail, which quotes the URL, with one that
 * only says what is wrong with it. */
static int url_fail(int rc, const char *url, size_t n)
{
	char q[HLX_QUOTE_SIZE], prefix[HLX_QUOTE_SIZE + 16], why[256];
	const char *d = hlx_err_detail();
	size_t pl;

	snprintf(prefix, sizeof(prefix), "url '%s': ", hlx_quote(q, url, n));
	pl = strlen(prefix);
	if (strncmp(d, prefix, pl) == 0)
		snprintf(why, sizeof(why), "%s", d + pl);
	else if (n == 0)
		snprintf(why, sizeof(why), "empty");
	else
		snprintf(why, sizeof(why), "not a valid http or https URL");
	sodium_memzero(q, sizeof(q));
	sodium_memzero(prefix, sizeof(prefix));
	hlx_err_clear();
	return hlx_err(rc, "URL of %zu bytes: %s", n, why);
}

int hlx_urls_item(const char *url, size_t n, struct hlx_hash *item,
		  struct hlx_buf *norm)
{
	struct hlx_buf b;
	int rc;

	hlx_buf_init_secure(&b);
	rc = hlx_url_normalise(url, n, &b);
	if (rc) {
		rc = url_fail(rc, url, n);
		goto out;
	}
	crypto_hash_sha256(item->bytes, b.data, b.len);
	item->type = HLX_HASH_URL_SHA256;
	item->len = crypto_hash_sha256_BYTES;
	if (norm)
		rc = hlx_buf_put(norm, b.data, b.len);
out:
	hlx_buf_free(&b);
	return rc;
}

static int item_hex(const struct hlx_hash *item, char hex[HEX_LEN + 1])
{
	if (item->type != HLX_HASH_URL_SHA256 || item->len != HEX_LEN / 2)
		return hlx_err(HLX_EINVAL, "not a url-sha256 item (%s)",
			       hlx_hash_type_name(item->type) ?
			       hlx_hash_type_name(item->type) : "?");
	sodium_bin2hex(hex, HEX_LEN + 1, item->bytes, item->len);
	return HLX_OK;
}

static int item_path(struct hlx_home *h, const char *hex, char out[PATH_MAX])
{
	return hlx_home_path(out, hlx_home_dir(h), HLX_HOME_URL, hex, NULL);
}

static int urls_dir(struct hlx_home *h, char out[PATH_MAX])
{
	return hlx_home_path(out, hlx_home_dir(h), HLX_HOME_URLS, NULL, NULL);
}

int hlx_urls_put(struct hlx_home *h, const char *url, size_t n,
		 struct hlx_hash *item)
{
	struct hlx_buf norm, env = HLX_BUF_INIT;
	struct hlx_boxpub self;
	char hex[HEX_LEN + 1], ctx[sizeof(CONTEXT_PREFIX) + HEX_LEN];
	char p[PATH_MAX];
	int rc;

	hlx_buf_init_secure(&norm);
	rc = hlx_urls_item(url, n, item, &norm);
	if (!rc)
		rc = hlx_home_box_pub(h, &self);
	if (!rc)
		rc = item_hex(item, hex);
	if (!rc)
		rc = urls_dir(h, p);
	if (!rc)
		rc = hlx_file_mkdirs(p, hlx_home_mode(HLX_HOME_URLS));
	if (!rc)
		rc = hlx_dir_chmod(p, hlx_home_mode(HLX_HOME_URLS));
	if (rc)
		goto out;
	snprintf(ctx, sizeof(ctx), "%s%s", CONTEXT_PREFIX, hex);
	rc = hlx_seal_buf(norm.data, norm.len, &self, 1, ctx, &env);
	if (!rc)
		rc = item_path(h, hex, p);
	if (!rc)
		rc = hlx_file_write(p, env.data, env.len, hlx_home_mode(HLX_HOME_URL));
out:
	hlx_buf_free(&norm);
	hlx_buf_free(&env);
	return rc;
}

int hlx_urls_get(struct hlx_home *h, const struct hlx_hash *item,
		 const struct hlx_boxkey *k, struct hlx_buf *out)
{
	struct hlx_buf env = HLX_BUF_INIT, url;
	struct hlx_hash check;
	char hex[HEX_LEN + 1], ctx[sizeof(CONTEXT_PREFIX) + HEX_LEN];
	char p[PATH_MAX];
	int rc;

	hlx_buf_init_secure(&url);
	rc = item_hex(item, hex);
	if (!rc)
		rc = item_path(h, hex, p);
	if (!rc)
		rc = hlx_file_read(p, FILE_MAX, &env);
	if (rc == HLX_ENOENT)
		rc = hlx_err(HLX_ENOENT, "no raw URL kept for url-sha256:%s", hex);
	if (rc)
		goto out;
	snprintf(ctx, sizeof(ctx), "%s%s", CONTEXT_PREFIX, hex);
	rc = hlx_unseal_buf(env.data, env.len, k, ctx, HLX_URL_MAX, &url);
	if (rc) {
		rc = hlx_err_wrap(rc, "'%s'", p);
		goto out;
	}
	/* the context binds the file to its name; check the content too */
	rc = hlx_urls_item((const char *)url.data, url.len, &check, NULL);
	if (!rc && (check.len != item->len ||
		    sodium_memcmp(check.bytes, item->bytes, item->len) != 0))
		rc = hlx_err(HLX_EBADSIG, "'%s': the URL inside is not the item's",
			     p);
	if (rc)
		goto out;
	rc = hlx_buf_put(out, url.data, url.len);
out:
	hlx_buf_free(&env);
	hlx_buf_free(&url);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_item_name(const char *s)
{
	if (strlen(s) != HEX_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int hlx_urls_foreach(struct hlx_home *h,
		     int (*fn)(void *ctx, const struct hlx_hash *item),
		     void *ctx)
{
	char p[PATH_MAX], **names = NULL, **grown;
	size_t n = 0, cap = 0, i, len;
	struct hlx_hash item;
	struct dirent *de;
	DIR *d;
	int rc = urls_dir(h, p);

	if (rc)
		return rc;
	d = opendir(p);
	if (!d)
		return errno == ENOENT ? HLX_OK :
		       hlx_err(HLX_EIO, "cannot read '%s': %s", p, strerror(errno));
	while (!rc && (de = readdir(d))) {
		if (!is_item_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				rc = hlx_err(HLX_ENOMEM, "out of memory");
				break;
			}
			names = grown;
		}
		if (!(names[n] = strdup(de->d_name)))
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		else
			n++;
	}
	closedir(d);
	if (!rc && n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; !rc && i < n; i++) {
		item.type = HLX_HASH_URL_SHA256;
		item.len = HEX_LEN / 2;
		if (sodium_hex2bin(item.bytes, sizeof(item.bytes), names[i],
				   HEX_LEN, NULL, &len, NULL) != 0 ||
		    len != HEX_LEN / 2)
			continue;
		rc = fn(ctx, &item);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

struct forget_ctx {
	struct hlx_node *n;
	struct hlx_home *h;
	int held;
	uint64_t count;
};

static int own_hit(void *ctx, size_t q, uint32_t list, const char *meta,
		   size_t metalen)
{
	struct forget_ctx *c = ctx;
	struct hlx_list_rec rec;

	(void)q;
	(void)meta;
	(void)metalen;
	/* an own list names it, or any cases log held does: a case's URL
	 * received as its owner is kept while the case exists, and cases
	 * logs are never retracted (spec/cases.md section 8) */
	if (hlx_store_list_by_id(hlx_node_store(c->n), list, &rec) == HLX_OK &&
	    (!strchr(rec.name, '/') || hlx_is_cases_list(rec.name)))
		c->held = 1;
	return 0;
}

static int forget_one(void *ctx, const struct hlx_hash *item)
{
	struct forget_ctx *c = ctx;
	char hex[HEX_LEN + 1], path[PATH_MAX];
	int rc;

	c->held = 0;
	rc = hlx_store_lookup(hlx_node_store(c->n), &item, 1, own_hit, c);
	if (rc || c->held)
		return rc;
	rc = item_hex(item, hex);
	if (!rc)
		rc = item_path(c->h, hex, path);
	if (!rc && unlink(path) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", path, strerror(errno));
	if (!rc)
		c->count++;
	return rc;
}

int hlx_urls_forget_unlisted(struct hlx_node *n, uint64_t *count)
{
	struct forget_ctx c = { n, hlx_node_home(n), 0, 0 };
	int rc = hlx_urls_foreach(c.h, forget_one, &c);

	if (count)
		*count = c.count;
	return rc;
}
