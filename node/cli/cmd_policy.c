/* SPDX-License-Identifier: MIT */
/* hlx policy add|rm|ls|check, hlx purge. */
#include "node/cli/cmds.h"
#include "node/cli/glance.h"
#include "node/policies.h"
#include "node/retention.h"
#include "node/store.h"
#include "node/sync.h"
#include "protocol/err.h"
#include "protocol/head.h"
#include "protocol/policy.h"

#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct policy_opts {
	int entries, digest;
};

static void rules_text(const struct hlx_rules *r, char *out, size_t n)
{
	char ret[32];

	if (r->retention_days > 0)
		snprintf(ret, sizeof(ret), "%" PRId64 " days", r->retention_days);
	else
		snprintf(ret, sizeof(ret), "none");
	snprintf(out, n, "onward sharing %s, retention %s, purpose %s",
		 r->onward ? "allowed" : "forbidden", ret,
		 r->purpose[0] ? r->purpose : "(none)");
}

struct check_ctx {
	const char *const *peers;  /* peer of each policy checked */
	int entries, digest;
	/* --digest: per view, the count and XOR of SHA-256 of its lines */
	size_t cur;
	char view[HLX_NAME_MAX + 1];
	uint64_t n;
	uint8_t x[32];
	int open;
};

static void digest_flush(struct check_ctx *c)
{
	char hex[65];

	if (!c->open)
		return;
	sodium_bin2hex(hex, sizeof(hex), c->x, 32);
	printf("%s\t%s\t%" PRIu64 "\t%s\n", c->peers[c->cur], c->view, c->n, hex);
	c->open = 0;
}

static int check_list(void *ctx, size_t i, const char *view, const char *src,
		      uint64_t count, const struct hlx_rules *r)
{
	struct check_ctx *c = ctx;
	char rt[160];

	if (c->digest) {
		digest_flush(c);
		c->cur = i;
		snprintf(c->view, sizeof(c->view), "%s", view);
		c->n = 0;
		memset(c->x, 0, sizeof(c->x));
		c->open = 1;
		return 0;
	}
	if (c->entries)
		return 0;
	rules_text(r, rt, sizeof(rt));
	printf("  %-24s from %-24s %10" PRIu64 " %s; %s\n", view, src, count,
	       cli_noun(count, "entry", "entries"), rt);
	return 0;
}

static int check_line(void *ctx, size_t i, const char *view, int status,
		      const char *line, size_t len)
{
	struct check_ctx *c = ctx;

	(void)status;
	if (c->digest) {
		uint8_t h[32];

		crypto_hash_sha256(h, (const uint8_t *)line, len);
		for (int k = 0; k < 32; k++)
			c->x[k] ^= h[k];
		c->n++;
		return 0;
	}
	printf("%s\t%s\t%.*s", c->peers[i], view, (int)len, line);
	return 0;
}

/* What each of the peers receives. */
static int check_peers(struct hlx_node *n, const struct hlx_policies *pols,
		       const struct hlx_audiences *aus,
		       const struct hlx_peer *const *pe, size_t np,
		       const struct policy_opts *o)
{
	const struct hlx_policy **v = calloc(np + 1, sizeof(*v));
	const char **names = calloc(np + 1, sizeof(*names));
	struct check_ctx c = { NULL, o->entries, o->digest, 0, "", 0, { 0 }, 0 };
	size_t k = 0;
	int rc, ret = 0;

	if (!v || !names) {
		ret = cli_fail(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < np; i++) {
		const struct hlx_policy *pol;
		const struct hlx_audience *au;
		struct hlx_rules r;
		uint8_t ph[32];
		char hex[65], rt[160];

		if (!pe[i]->policy[0]) {
			if (!o->entries && !o->digest)
				printf("peer '%s': no policy: receives nothing\n",
				       pe[i]->name);
			continue;
		}
		pol = hlx_policies_find(pols, pe[i]->policy);
		au = hlx_audiences_of(aus, pe[i]->name);
		if (!pol || !au) {
			ret = cli_fail(HLX_ENOENT, "peer '%s': no such policy '%s'",
				       pe[i]->name, pe[i]->policy);
			goto out;
		}
		if (!o->entries && !o->digest) {
			hlx_policy_hash(pol, ph);
			sodium_bin2hex(hex, sizeof(hex), ph, 32);
			hlx_policy_rules(pol, &r);
			rules_text(&r, rt, sizeof(rt));
			printf("peer '%s': policy '%s' (sha256 %.16s), feed a/%s/ (%s), %zu member(s)\n",
			       pe[i]->name, pe[i]->policy, hex,
			       hlx_audiences_dir(aus, pe[i]->name),
			       hlx_policy_encrypt(pol) ? "encrypted, one feed for all" :
			       "not encrypted, its own feed",
			       au->n);
			printf("  %s\n", rt);
			/* one peer at a time: its lists under its header */
			names[0] = pe[i]->name;
			c.peers = names;
			rc = hlx_view_preview(n, &pol, 1, check_list, NULL, &c);
			if (rc) {
				ret = cli_fail(rc, "cannot check peer '%s'", pe[i]->name);
				goto out;
			}
			continue;
		}
		v[k] = pol;
		names[k++] = pe[i]->name;
	}
	if (k) {
		c.peers = names;
		rc = hlx_view_preview(n, v, k, check_list, check_line, &c);
		digest_flush(&c);
		if (rc)
			ret = cli_fail(rc, "cannot check the peers");
	}
out:
	free(v);
	free(names);
	return ret;
}

static int policy_ls(const struct hlx_policies *pols, const struct hlx_peers *ps,
		     const struct hlx_audiences *aus)
{
	printf("%-20s %-16s %-32s %-9s %s\n", "POLICY", "SHA256", "AUDIENCE",
	       "ENCRYPTED", "PEERS");
	for (size_t i = 0; i < pols->n; i++) {
		const struct hlx_policy *p = pols->v[i];
		const struct hlx_audience *au = NULL;
		uint8_t ph[32];
		char hex[65];

		hlx_policy_hash(p, ph);
		sodium_bin2hex(hex, sizeof(hex), ph, 32);
		for (size_t j = 0; j < ps->n && !au; j++)
			if (!strcmp(ps->v[j].policy, hlx_policy_name(p)))
				au = hlx_audiences_of(aus, ps->v[j].name);
		/* a plain audience has no one feed: each member its own */
		printf("%-20s %-16.16s %-32s %-9s", hlx_policy_name(p), hex,
		       !au ? "-" : hlx_policy_encrypt(p) ? au->id : "(one per peer)",
		       hlx_policy_encrypt(p) ? "yes" : "no");
		for (size_t j = 0; j < ps->n; j++)
			if (!strcmp(ps->v[j].policy, hlx_policy_name(p)))
				printf(" %s", ps->v[j].name);
		printf("\n");
	}
	return 0;
}

/* A policy as it is entered: the lists it names exist, and the peers
 * bound to it by name can be given it (node/policies.h). */
static int entry_check(struct hlx_cli *cli, const struct hlx_buf *b)
{
	struct hlx_policy *pol = NULL;
	struct hlx_peers *ps = NULL;
	int rc = hlx_policy_parse((const char *)b->data, b->len, &pol);

	if (!rc)
		rc = hlx_peers_load(cli->home, &ps);
	if (!rc)
		rc = hlx_policy_check_node(cli->node, pol, ps);
	hlx_peers_free(ps);
	hlx_policy_free(pol);
	return rc;
}

int cmd_policy_add(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int replace = cli_given(a, "replace") != 0, rc, ret = 0;
	char name[65];

	rc = cli_read_file(a->argv[0], 65536, &b);
	if (!rc)
		rc = entry_check(cli, &b);
	if (!rc)
		rc = hlx_policies_add(cli->home, (const char *)b.data, b.len,
				      replace, name);
	if (rc)
		ret = cli_fail(rc, "cannot add policy from '%s'", a->argv[0]);
	else
		fprintf(stderr, "hlx: policy '%s' %s; it applies at the next publish\n",
			name, replace ? "stored" : "added");
	hlx_buf_free(&b);
	return ret;
}

int cmd_policy_rm(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_peers *ps = NULL;
	int rc = hlx_peers_load(cli->home, &ps), ret = 0;

	if (!rc) {
		rc = hlx_policies_remove(cli->home, ps, a->argv[0]);
		if (rc)
			ret = cli_fail(rc, "cannot remove policy '%.64s'", a->argv[0]);
	} else {
		ret = cli_fail(rc, "cannot read the policies");
	}
	hlx_peers_free(ps);
	return ret;
}

/* The policies, the peers and their audiences, as publishing sees them. */
struct policy_world {
	struct hlx_policies *pols;
	struct hlx_peers *ps;
	struct hlx_audiences *aus;
};

static int world_load(struct hlx_cli *cli, struct policy_world *w)
{
	int rc = hlx_peers_load(cli->home, &w->ps);

	if (!rc)
		rc = hlx_policies_load(cli->home, &w->pols);
	if (!rc)
		rc = hlx_audiences_make(cli->home, w->pols, w->ps, &w->aus);
	return rc ? cli_fail(rc, "cannot read the policies") : 0;
}

static void world_free(struct policy_world *w)
{
	hlx_audiences_free(w->aus);
	hlx_policies_free(w->pols);
	hlx_peers_free(w->ps);
}

int cmd_policy_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	struct policy_world w = { 0 };
	int ret;

	if (cli_given(a, "json"))
		return cli_glance_json(cli, CLI_GLANCE_POLICIES);
	ret = world_load(cli, &w);
	if (!ret)
		ret = policy_ls(w.pols, w.ps, w.aus);
	world_free(&w);
	return ret;
}

int cmd_policy_check(struct hlx_cli *cli, const struct cli_args *a)
{
	struct policy_opts o = { cli_given(a, "entries") != 0,
				 cli_given(a, "digest") != 0 };
	struct policy_world w = { 0 };
	int all = cli_given(a, "all") != 0, rc, ret;

	if (all == (a->argc == 1) || (o.entries && o.digest))
		return cli_usage(cli->cmd, "a PEER or --all, and --entries or --digest at most");
	/* what would be published: nothing past its retention */
	rc = hlx_retention_purge(cli->node, cli->now, NULL);
	if (rc)
		return cli_fail(rc, "cannot purge");
	ret = world_load(cli, &w);
	if (!ret && all) {
		const struct hlx_peer **pe = calloc(w.ps->n + 1, sizeof(*pe));

		for (size_t i = 0; pe && i < w.ps->n; i++)
			pe[i] = &w.ps->v[i];
		ret = pe ? check_peers(cli->node, w.pols, w.aus, pe, w.ps->n, &o) :
			   cli_fail(HLX_ENOMEM, "out of memory");
		free(pe);
	} else if (!ret) {
		const struct hlx_peer *pe = hlx_peers_find(w.ps, a->argv[0]);

		ret = pe ? check_peers(cli->node, w.pols, w.aus, &pe, 1, &o) :
			   cli_fail(HLX_ENOENT, "no such peer '%.64s'", a->argv[0]);
	}
	world_free(&w);
	return ret;
}

int cmd_purge(struct hlx_cli *cli, const struct cli_args *a)
{
	uint64_t count = 0;
	int rc;

	(void)a;
	rc = hlx_retention_purge(cli->node, cli->now, &count);
	if (rc)
		return cli_fail(rc, "cannot purge");
	fprintf(stderr, "hlx: %" PRIu64 " %s past their retention purged\n",
		count, cli_noun(count, "entry", "entries"));
	/* free pages of the state still hold what was purged: compacted
	 * before the lock goes */
	if (count && (rc = cli_compact(cli, NULL, NULL)))
		return cli_fail(rc, "cannot compact the state after the purge");
	return 0;
}
