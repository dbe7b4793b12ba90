/* SPDX-License-Identifier: MIT */
#include "node/retention.h"
#include "node/files.h"
#include "node/prune.h"
#include "protocol/err.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int rules_path(struct hlx_node *n, const char *peer, size_t pl,
		      const char *list, char out[PATH_MAX])
{
	char name[HLX_LIST_NAME_MAX + 1];

	if (pl >= sizeof(name))
		return hlx_err(HLX_EINVAL, "peer name too long");
	memcpy(name, peer, pl);
	name[pl] = 0;
	return hlx_node_path(n, HLX_HOME_PEER_RULES, name, list, out);
}

int hlx_retention_rules(struct hlx_node *n, const char *full,
			struct hlx_rules *out)
{
	const char *sl = strchr(full, '/');
	struct hlx_buf b = HLX_BUF_INIT;
	json_error_t je;
	json_t *o = NULL;
	char path[PATH_MAX];
	int rc;

	hlx_rules_init(out);
	if (!sl)
		return HLX_OK;
	rc = rules_path(n, full, (size_t)(sl - full), sl + 1, path);
	if (!rc)
		rc = hlx_file_read(path, 4096, &b);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = HLX_OK;
		goto out;
	}
	if (rc)
		goto out;
	o = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &je);
	rc = o ? hlx_rules_from_json(o, out) : hlx_err(HLX_EINVAL, "%s", je.text);
	if (rc)
		rc = hlx_err_wrap(rc, "handling rules '%s'", path);
out:
	json_decref(o);
	hlx_buf_free(&b);
	return rc;
}

int hlx_retention_save_rules(struct hlx_node *n, const char *peer,
			     const char *list, const struct hlx_rules *r)
{
	struct hlx_buf b = HLX_BUF_INIT, old = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc = hlx_rules_json(r, &b);

	if (!rc)
		rc = hlx_buf_putc(&b, '\n');
	if (!rc)
		rc = rules_path(n, peer, strlen(peer), list, path);
	if (!rc && hlx_file_read(path, 4096, &old) == HLX_OK && old.len == b.len &&
	    memcmp(old.data, b.data, b.len) == 0)
		goto out;
	hlx_err_clear();
	if (!rc) {
		char dir[PATH_MAX];

		rc = hlx_node_path(n, HLX_HOME_PEER, peer, NULL, dir);
		if (!rc)
			rc = hlx_file_mkdirs(dir, hlx_home_mode(HLX_HOME_PEER));
	}
	if (!rc)
		rc = hlx_file_write(path, b.data, b.len, hlx_home_mode(HLX_HOME_PEER_RULES));
out:
	hlx_buf_free(&b);
	hlx_buf_free(&old);
	return rc;
}

struct purge_ctx {
	struct hlx_node *n;
	int64_t now;
	uint64_t count;
	int rc;
};

static int purge_list(void *ctx, const struct hlx_list_rec *l)
{
	struct purge_ctx *c = ctx;
	struct hlx_store_txn *t = NULL;
	struct hlx_list_rec rec;
	struct hlx_rules r;
	uint64_t k = 0;
	int rc;

	if (!strchr(l->name, '/'))
		return 0;
	rc = hlx_retention_rules(c->n, l->name, &r);
	if (rc || r.retention_days <= 0)
		return c->rc = rc;
	rc = hlx_store_begin(hlx_node_store(c->n), &t);
	if (!rc)
		rc = hlx_store_purge(t, l->id, c->now - r.retention_days * 86400, c->now,
				     &k);
	if (!rc && k) {
		rec = *l;
		rec.count = rec.count >= k ? rec.count - k : 0;
		rc = hlx_store_set_list(t, &rec);
	}
	if (!rc && k) {
		rc = hlx_store_commit(t);
		t = NULL;
	}
	hlx_store_abort(t);
	c->count += k;
	if (rc)
		rc = hlx_err_wrap(rc, "cannot purge '%s'", l->name);
	return c->rc = rc;
}

int hlx_retention_purge(struct hlx_node *n, int64_t now, uint64_t *count)
{
	struct purge_ctx c = { n, now, 0, 0 };
	int rc = hlx_store_list_foreach(hlx_node_store(n), purge_list, &c);
	int done;

	if (!rc)
		rc = c.rc;
	/* the match index holds PDQ hashes of every list: rebuilt on use */
	if (!rc && c.count)
		rc = hlx_prune_reset_match(n, &done);
	if (count)
		*count = c.count;
	return rc;
}
