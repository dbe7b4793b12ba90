/* SPDX-License-Identifier: MIT */
/* hlx policy add|rm|ls|check, hlx purge. */
#include "node/cli/cmds.h"
#include "node/policies.h"
#include "node/retention.h"
#include "node/store.h"
#include "node/sync.h"
#include "protocol/err.h"
#include "protocol/head.h"
#include "protocol/policy.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct policy_opts {
	int replace, entries, digest, all;
};

static int policy_opt(void *ctx, int c, const char *arg)
{
	struct policy_opts *o = ctx;

	(void)arg;
	switch (c) {
	case 'r': o->replace = 1; return 0;
	case 'e': o->entries = 1; return 0;
	case 'd': o->digest = 1; return 0;
	case 'a': o->all = 1; return 0;
	}
	return 1;
}

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
	printf("  %-24s from %-24s %10" PRIu64 " entries; %s\n", view, src, count, rt);
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

int cmd_policy(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "replace", no_argument, NULL, 'r' },
		{ "entries", no_argument, NULL, 'e' },
		{ "digest", no_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ 0 }
	};
	struct policy_opts o = { 0 };
	struct hlx_policies *pols = NULL;
	struct hlx_peers *ps = NULL;
	struct hlx_audiences *aus = NULL;
	struct hlx_node *n = NULL;
	struct hlx_buf b = HLX_BUF_INIT;
	const char *sub;
	int rc, ret, nargs;

	ret = cli_subcommand(cli, &argc, &argv, &sub);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = cli_getopt(cli, argc, argv, "h", extra, policy_opt, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	nargs = argc - optind;
	if (!strcmp(sub, "add")) {
		if (nargs != 1)
			return cli_usage(cli->cmd, "policy add FILE|- [--replace]");
	} else if (!strcmp(sub, "rm")) {
		if (nargs != 1)
			return cli_usage(cli->cmd, "policy rm NAME");
	} else if (!strcmp(sub, "ls")) {
		if (nargs != 0)
			return cli_usage(cli->cmd, "policy ls takes no argument");
	} else if (!strcmp(sub, "check")) {
		if ((nargs != 1 && !o.all) || (o.all && nargs != 0) ||
		    (o.entries && o.digest))
			return cli_usage(cli->cmd,
					 "policy check (PEER | --all) [--entries | --digest]");
	} else {
		return cli_usage(cli->cmd, "unknown policy command '%s'", sub);
	}
	ret = cli_open_node(cli, strcmp(sub, "ls") != 0, &n);
	if (ret)
		return ret;
	/* what would be published: nothing past its retention */
	if (!strcmp(sub, "check") && (rc = hlx_retention_purge(n, cli->now, NULL))) {
		ret = cli_fail(rc, "cannot purge");
		goto out;
	}
	if (!strcmp(sub, "add")) {
		char name[65];

		rc = cli_read_file(argv[optind], 65536, &b);
		if (!rc)
			rc = hlx_policies_add(cli->home, (const char *)b.data, b.len,
					      o.replace, name);
		if (rc)
			ret = cli_fail(rc, "cannot add policy from '%s'", argv[optind]);
		else
			fprintf(stderr, "hlx: policy '%s' %s; it applies at the next publish\n",
				name, o.replace ? "stored" : "added");
		goto out;
	}
	rc = hlx_peers_load(cli->home, &ps);
	if (!rc && strcmp(sub, "rm") == 0) {
		rc = hlx_policies_remove(cli->home, ps, argv[optind]);
		if (rc)
			ret = cli_fail(rc, "cannot remove policy '%.64s'", argv[optind]);
		goto out;
	}
	if (!rc)
		rc = hlx_policies_load(cli->home, &pols);
	if (!rc)
		rc = hlx_audiences_make(cli->home, pols, ps, &aus);
	if (rc) {
		ret = cli_fail(rc, "cannot read the policies");
		goto out;
	}
	if (!strcmp(sub, "ls")) {
		ret = policy_ls(pols, ps, aus);
	} else if (o.all) {
		const struct hlx_peer **pe = calloc(ps->n + 1, sizeof(*pe));

		for (size_t i = 0; pe && i < ps->n; i++)
			pe[i] = &ps->v[i];
		ret = pe ? check_peers(n, pols, aus, pe, ps->n, &o) :
			   cli_fail(HLX_ENOMEM, "out of memory");
		free(pe);
	} else {
		const struct hlx_peer *pe = hlx_peers_find(ps, argv[optind]);

		ret = pe ? check_peers(n, pols, aus, &pe, 1, &o) :
			   cli_fail(HLX_ENOENT, "no such peer '%.64s'", argv[optind]);
	}
out:
	hlx_buf_free(&b);
	hlx_audiences_free(aus);
	hlx_policies_free(pols);
	hlx_peers_free(ps);
	hlx_node_free(n);
	return ret;
}

int cmd_purge(struct hlx_cli *cli, int argc, char **argv)
{
	struct hlx_node *n = NULL;
	uint64_t count = 0;
	int rc, ret;

	ret = cli_getopt(cli, argc, argv, "h", NULL, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind != argc)
		return cli_usage(cli->cmd, "unexpected argument '%s'", argv[optind]);
	ret = cli_open_node(cli, 1, &n);
	if (ret)
		return ret;
	rc = hlx_retention_purge(n, cli->now, &count);
	if (rc)
		ret = cli_fail(rc, "cannot purge");
	else
		fprintf(stderr, "hlx: %" PRIu64 " entries past their retention purged\n",
			count);
	/* free pages of the state still hold what was purged: compacted
	 * before the lock goes */
	if (!rc && count) {
		rc = hlx_node_compact_free(n, NULL, NULL);
		if (rc)
			ret = cli_fail(rc, "cannot compact the state after the purge");
	} else {
		hlx_node_free(n);
	}
	return ret;
}
