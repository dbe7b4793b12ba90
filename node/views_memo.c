/* SPDX-License-Identifier: MIT */
/*
 * The versions of views made in one publish, which other views may take as
 * they are (node/views.h, hlx_view_memo_commit).
 */
#include "node/views.h"
#include "node/history.h"
#include "node/lists.h"
#include "protocol/err.h"

#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Views that come out the same.  Two policies often let the same through
 * (an encrypted and a plain audience of one selection, say): their views
 * then get the very same version, commit and all, since the commit is
 * made of its parent, its content and its metadata, signed with the same
 * key.  The second takes the first's pack (linked, not copied:
 * hlx_hist_adopt) instead of building, compressing and indexing it again,
 * and both histories hold its objects once on disk.  A version is the
 * same when all of what makes it is: the parent commit, the changes and
 * the metadata (hashed together).
 */
struct hlx_view_memo {
	uint8_t d[32];
	char repo[PATH_MAX];
	char oid[41];
};

static void memo_digest(const char *parent, const struct hlx_hist_meta *m,
			const struct hlx_hist_op *ops, size_t k, uint8_t d[32])
{
	crypto_generichash_state st;
	int64_t nums[3] = { (int64_t)m->version, m->time, (int64_t)k };

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)parent, strlen(parent) + 1);
	crypto_generichash_update(&st, (const uint8_t *)m->org, strlen(m->org) + 1);
	crypto_generichash_update(&st, (const uint8_t *)m->list, strlen(m->list) + 1);
	crypto_generichash_update(&st, (const uint8_t *)m->summary,
				  strlen(m->summary) + 1);
	crypto_generichash_update(&st, (const uint8_t *)nums, sizeof(nums));
	for (size_t i = 0; i < k; i++) {
		uint64_t hd[2] = { (uint64_t)ops[i].retract, (uint64_t)ops[i].len };

		crypto_generichash_update(&st, (const uint8_t *)hd, sizeof(hd));
		crypto_generichash_update(&st, (const uint8_t *)ops[i].line, ops[i].len);
	}
	crypto_generichash_final(&st, d, 32);
}

/* Version m of the view in repo (history h, at head parent, "" for none)
 * from ops[0..k): the same version of another view if one was made in
 * this publish, else built and signed.  The branch is not moved. */
int hlx_view_memo_commit(struct hlx_view_ctx *c, struct hlx_hist *h,
			 const char *repo, const char *parent,
			 const struct hlx_hist_op *ops, size_t k,
			 const struct hlx_hist_meta *m, char oid[41])
{
	struct hlx_view_memo *x;
	uint8_t d[32];
	int rc;

	memo_digest(parent, m, ops, k, d);
	for (size_t i = 0; i < c->nmemo; i++) {
		if (sodium_memcmp(c->memo[i].d, d, 32) != 0 ||
		    !strcmp(c->memo[i].repo, repo))
			continue;
		if (hlx_hist_adopt(h, c->memo[i].repo, c->memo[i].oid) == HLX_OK) {
			struct hlx_hist_version v;

			/* it follows our head, as the digest says */
			if (hlx_hist_read_version(h, c->memo[i].oid, &v) == HLX_OK &&
			    !strcmp(v.parent, parent) && v.version == m->version) {
				memcpy(oid, c->memo[i].oid, 41);
				return HLX_OK;
			}
		}
		hlx_err_clear(); /* built instead */
		break;
	}
	rc = hlx_hist_commit(h, ops, k, m, hlx_list_sign_commit, c->key, oid);
	if (rc)
		return rc;
	x = realloc(c->memo, (c->nmemo + 1) * sizeof(*x));
	if (!x)
		return HLX_OK; /* only a shortcut lost */
	c->memo = x;
	x = &c->memo[c->nmemo++];
	memcpy(x->d, d, 32);
	snprintf(x->repo, sizeof(x->repo), "%s", repo);
	memcpy(x->oid, oid, 41);
	return HLX_OK;
}

void hlx_view_ctx_free(struct hlx_view_ctx *c)
{
	hlx_seckey_free(c->key);
	c->key = NULL;
	free(c->memo);
	c->memo = NULL;
	c->nmemo = 0;
}

