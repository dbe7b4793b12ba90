/* SPDX-License-Identifier: MIT */
#include "node/node.h"
#include "node/remove.h"
#include "protocol/err.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

struct hlx_node {
	struct hlx_home *home;
	struct hlx_store *store;
};

int hlx_node_path(struct hlx_node *n, enum hlx_home_entry e, const char *a,
		  const char *b, char out[PATH_MAX])
{
	return hlx_home_path(out, hlx_home_dir(n->home), e, a, b);
}

/* The state and its purge key, for a node whose home is open. */
static int state_open(struct hlx_node *n, int lock)
{
	char p[PATH_MAX];
	int rc = hlx_node_path(n, HLX_HOME_STATE, NULL, NULL, p);

	if (!rc)
		rc = hlx_store_open(p, &n->store);
	if (!rc) {
		/* the key that blinds what retention purged (store.h); a
		 * reader of a node that never had one has nothing purged */
		static const char ctx[] = "hlx: purged entries";
		uint8_t *key = NULL;

		rc = hlx_node_secret(hlx_home_dir(n->home), lock, &key);
		if (!rc)
			rc = hlx_store_set_secret(n->store, key, (const uint8_t *)ctx,
						  sizeof(ctx) - 1);
		else if (rc == HLX_ENOENT && !lock) {
			hlx_err_clear();
			rc = HLX_OK;
		}
		hlx_node_secret_free(key);
	}
	return rc;
}

int hlx_node_open(const char *home, int lock, struct hlx_node **out)
{
	struct hlx_node *n;
	int rc;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return hlx_err(HLX_ENOMEM, "out of memory");
	/* the writer lock first, then everything read under it: the trust
	 * chain (a revocation made while this waited is in it), the state */
	rc = hlx_home_open_ex(home, lock, &n->home);
	if (!rc)
		rc = state_open(n, lock);
	/* a removal a crash interrupted is finished before anything else */
	if (!rc && lock)
		rc = hlx_remove_recover(n);
	if (rc) {
		hlx_node_free(n);
		return rc;
	}
	*out = n;
	return HLX_OK;
}

void hlx_node_free(struct hlx_node *n)
{
	if (!n)
		return;
	hlx_store_free(n->store);
	hlx_home_free(n->home); /* releases the lock, after the store */
	free(n);
}

int hlx_node_compact_free(struct hlx_node *n, uint64_t *before,
			  uint64_t *after)
{
	char p[PATH_MAX];
	int rc;

	if (!hlx_home_locked(n->home)) {
		hlx_node_free(n);
		return hlx_err(HLX_ESTATE, "compacting the state needs the writer lock");
	}
	rc = hlx_node_path(n, HLX_HOME_STATE, NULL, NULL, p);
	hlx_store_free(n->store);
	n->store = NULL;
	if (!rc)
		rc = hlx_store_compact(p, before, after);
	hlx_node_free(n);
	return rc;
}

int hlx_node_compact(struct hlx_node *n, uint64_t *before, uint64_t *after)
{
	char p[PATH_MAX], d[512];
	int rc, rc2;

	if (!hlx_home_locked(n->home))
		return hlx_err(HLX_ESTATE, "compacting the state needs the writer lock");
	rc = hlx_node_path(n, HLX_HOME_STATE, NULL, NULL, p);
	if (rc)
		return rc;
	hlx_store_free(n->store);
	n->store = NULL;
	rc = hlx_store_compact(p, before, after);
	if (!rc)
		return state_open(n, 1);
	/* keep the compaction's error, and the state open again */
	snprintf(d, sizeof(d), "%s", hlx_err_detail());
	rc2 = state_open(n, 1);
	return rc2 ? rc2 : hlx_err(rc, "%s", d);
}

struct hlx_home *hlx_node_home(struct hlx_node *n)
{
	return n->home;
}

struct hlx_store *hlx_node_store(struct hlx_node *n)
{
	return n->store;
}
