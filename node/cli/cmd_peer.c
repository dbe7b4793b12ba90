/* SPDX-License-Identifier: MIT */
/* hlx peer, subscribe, unsubscribe: the peers and what we take from them. */
#include "node/cli/cmds.h"
#include "node/cli/glance.h"
#include "node/files.h"
#include "node/remove.h"
#include "node/policies.h"
#include "node/sync.h"
#include "node/retention.h"
#include "node/store.h"
#include "keys/seal.h"
#include "keys/sshkey.h"
#include "protocol/err.h"
#include "protocol/head.h"
#include "protocol/rtime.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- peer --------------------------------------------------------------- */

/* --box BOXKEY: the key itself (hlx-box BASE64, as 'hlx key show --box'
 * prints it), or a file holding it; *out is the key's text. */
static int load_box(const char *arg, struct hlx_buf *b, const char **out)
{
	int rc;

	*out = arg;
	if (!arg || !arg[0] || strncmp(arg, "hlx-box ", 8) == 0)
		return HLX_OK;
	rc = cli_read_file(arg, 256, b);
	if (!rc && memchr(b->data, '\0', b->len))
		rc = hlx_err(HLX_EINVAL, "a NUL byte in it");
	if (!rc)
		rc = hlx_buf_putc(b, 0);
	if (rc)
		return hlx_err_wrap(rc, "box key file '%s'", arg);
	b->len--;
	cli_trim_buf(b);
	*out = (const char *)b->data;
	return HLX_OK;
}

static const char *days(int64_t d, char *out, size_t n)
{
	snprintf(out, n, "%" PRId64 " days", d);
	return out;
}

/* The row of a peer's plans (spec/plan.md section 7.3), once pulled or
 * refused. */
static void plans_status(struct hlx_cli *cli, struct hlx_node *n,
			 const struct hlx_peer *p)
{
	char e[512], err[sizeof(e) * 2], a[32];
	uint64_t seq = 0;
	int64_t ok = 0;

	if (hlx_plans_sync_status(n, p->name, &seq, &ok, e, sizeof(e)) != HLX_OK) {
		hlx_err_clear();
		return;
	}
	hlx_err_neutralise(err, sizeof(err), e);
	cli_ago(a, sizeof(a), cli->now, ok, 0);
	printf("%-16s %-20s %8" PRIu64 " %8s %7s  %-10s %-10s %s\n", p->name, "plans",
	       seq, "-", "-", a, "-", err[0] ? err : "-");
}

static int peer_status(struct hlx_cli *cli, struct hlx_node *n,
		       struct hlx_peers *ps)
{
	printf("%-16s %-20s %8s %8s %7s  %-10s %-10s %s\n", "PEER", "LIST", "HELD",
	       "REMOTE", "BEHIND", "SYNCED", "TRIED", "LAST ERROR");
	for (size_t i = 0; i < ps->n; i++) {
		const struct hlx_peer *p = &ps->v[i];

		if (p->nsubs == 0)
			printf("%-16s %-20s\n", p->name, "(no subscriptions)");
		for (size_t j = 0; j < p->nsubs; j++) {
			struct hlx_sync_state ss;
			struct hlx_list_rec rec;
			char full[HLX_LIST_NAME_MAX + 1], a[32], b[32], dd[32];
			char err[sizeof(ss.error) * 2];
			struct hlx_rules r;
			uint64_t held = 0;

			snprintf(full, sizeof(full), "%s/%s", p->name, p->subs[j]);
			if (hlx_store_list_get(hlx_node_store(n), full, &rec) == HLX_OK)
				held = rec.version;
			hlx_sync_state_get(n, p->name, p->subs[j], &ss);
			/* an error kept by an older hlx may quote a hostile
			 * feed's bytes as they came */
			ss.error[sizeof(ss.error) - 1] = '\0';
			hlx_err_neutralise(err, sizeof(err), ss.error);
			cli_ago(a, sizeof(a), cli->now, ss.last_ok, 0);
			cli_ago(b, sizeof(b), cli->now, ss.last_try, 0);
			printf("%-16s %-20s %8" PRIu64 " %8" PRIu64 " %7" PRIu64 "  %-10s %-10s %s\n",
			       p->name, p->subs[j], held, ss.remote_version,
			       ss.remote_version > held ? ss.remote_version - held : 0,
			       a, b, err[0] ? err : "-");
			/* the handling rules it came with, when there are any */
			if (hlx_retention_rules(n, full, &r) == HLX_OK &&
			    (!r.onward || r.retention_days || r.purpose[0]))
				printf("%-16s   handling rules: onward sharing %s, retention %s%s, purpose %s\n",
				       "", r.onward ? "allowed" : "forbidden",
				       r.retention_days ? "" : "none",
				       r.retention_days ? days(r.retention_days, dd, sizeof(dd)) : "",
				       r.purpose[0] ? r.purpose : "(none)");
		}
		plans_status(cli, n, p);
	}
	return 0;
}

/* A peer's policy as it will be applied at the next publish: it exists,
 * and if it encrypts, the peer has a box key (node/policies.h). */
static int policy_check(struct hlx_cli *cli, const struct hlx_peer *pe)
{
	struct hlx_policies *pols = NULL;
	int rc = pe->policy[0] ? hlx_policies_load(cli->home, &pols) : HLX_OK;

	if (!rc && pe->policy[0])
		rc = hlx_peer_policy_check(pols, pe);
	hlx_policies_free(pols);
	return rc;
}

/* The peers, read under the table's lock. */
static int load_peers(struct hlx_cli *cli, struct hlx_peers **ps)
{
	int rc = hlx_peers_load(cli->home, ps);

	return rc ? cli_fail(rc, "cannot read the peers") : 0;
}

int cmd_peer_add(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *name = a->argv[0], *url = cli_text(a, "url");
	const char *box = cli_text(a, "box"), *policy = cli_text(a, "policy");
	struct hlx_buf boxb = HLX_BUF_INIT;
	struct hlx_peers *ps = NULL;
	struct hlx_pubkey k;
	char f[HLX_FPR_LEN];
	int rc, ret;

	if (!cli_text(a, "key"))
		return cli_usage(cli->cmd, "--key KEY is required");
	rc = load_box(box, &boxb, &box);
	if (rc) {
		ret = cli_fail(rc, "cannot add peer '%.64s'", name);
		goto out;
	}
	ret = load_peers(cli, &ps);
	if (ret)
		goto out;
	rc = cli_load_pubkey(cli_text(a, "key"), &k);
	if (!rc && url)
		rc = hlx_peer_url_check(url);
	if (!rc)
		rc = hlx_peers_add(ps, name, url ? url : "", &k, cli_text(a, "ca"));
	if (!rc && (box || policy))
		rc = hlx_peer_set(&ps->v[ps->n - 1], policy, box);
	if (!rc)
		rc = policy_check(cli, &ps->v[ps->n - 1]);
	if (!rc)
		rc = hlx_peers_save(cli->home, ps);
	if (rc) {
		ret = cli_fail(rc, "cannot add peer '%s'", name);
		goto out;
	}
	hlx_sshkey_fingerprint(&k, f);
	if (url)
		fprintf(stderr, "hlx: added peer '%s' at %s, root %s\n", name, url, f);
	else
		fprintf(stderr, "hlx: added peer '%s' (no feed URL yet), root %s\n",
			name, f);
out:
	hlx_buf_free(&boxb);
	hlx_peers_free(ps);
	return ret;
}

int cmd_peer_set(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *name = a->argv[0], *url = cli_text(a, "url");
	const char *ca = cli_text(a, "ca"), *box = cli_text(a, "box");
	const char *policy = cli_given(a, "no-policy") ? "" : cli_text(a, "policy");
	struct hlx_buf boxb = HLX_BUF_INIT;
	struct hlx_peers *ps = NULL;
	struct hlx_peer *pe;
	int rc, ret, moved;

	if (!box && !policy && !url && !ca)
		return cli_usage(cli->cmd, "nothing to set: give --url, --ca, --box, --policy or --no-policy");
	if (cli_given(a, "no-policy") && cli_given(a, "policy"))
		return cli_usage(cli->cmd, "--policy or --no-policy, not both");
	rc = load_box(box, &boxb, &box);
	if (rc) {
		ret = cli_fail(rc, "cannot change peer '%.64s'", name);
		goto out;
	}
	ret = load_peers(cli, &ps);
	if (ret)
		goto out;
	pe = hlx_peers_find(ps, name);
	rc = pe ? hlx_peer_set(pe, policy, box) : hlx_err(HLX_ENOENT, "no such peer");
	moved = !rc && url && pe->url[0] && strcmp(url, pe->url) != 0;
	if (!rc && (url || ca))
		rc = hlx_peer_set_url(pe, url, ca);
	/* a policy or box key that changed: as the next publish will apply
	 * them (a URL alone leaves an old broken setting to its own fix) */
	if (!rc && (policy || box))
		rc = policy_check(cli, pe);
	/* another feed: what it serves is taken afresh (spec/sync.md) */
	if (!rc && moved)
		rc = hlx_peer_rebase_mark(cli->home, pe);
	if (!rc && moved && pe->nsubs)
		fprintf(stderr, "hlx: the next sync takes the lists of '%s' afresh from its new URL\n",
			pe->name);
	if (!rc)
		rc = hlx_peers_save(cli->home, ps);
	if (rc)
		ret = cli_fail(rc, "cannot change peer '%.64s'", name);
out:
	hlx_buf_free(&boxb);
	hlx_peers_free(ps);
	return ret;
}

/* The options of a removal: --force, --to DIR (else the configured
 * publish directory). */
static int remove_opts(const struct hlx_cli *cli, const struct cli_args *a,
		       struct hlx_remove_opts *o, char dir[PATH_MAX])
{
	o->force = cli_given(a, "force") != 0;
	o->publish = dir;
	return cli_publish_dir(cli, cli_text(a, "to"), dir);
}

static void removed(const char *what, const struct hlx_remove_result *r)
{
	char msg[256];

	hlx_remove_describe(r, msg, sizeof(msg));
	fprintf(stderr, "hlx: removed %s: %s\n", what, msg);
}

/* The peer and everything of it (node/remove.h). */
int cmd_peer_rm(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_remove_result r;
	struct hlx_remove_opts o;
	char what[96], dir[PATH_MAX];
	int rc;

	rc = remove_opts(cli, a, &o, dir);
	if (!rc)
		rc = hlx_remove_peer(cli->node, a->argv[0], &o, &r);
	if (rc)
		return cli_fail(rc, "cannot remove peer '%.64s'", a->argv[0]);
	snprintf(what, sizeof(what), "peer '%s'", a->argv[0]);
	removed(what, &r);
	return 0;
}

int cmd_peer_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_peers *ps = NULL;
	int ret;

	if (cli_given(a, "json"))
		return cli_glance_json(cli, CLI_GLANCE_PEERS);
	ret = load_peers(cli, &ps);
	for (size_t i = 0; !ret && i < ps->n; i++) {
		const struct hlx_peer *p = &ps->v[i];
		char f[HLX_FPR_LEN];

		hlx_sshkey_fingerprint(&p->root, f);
		printf("%-16s %s  %s  lists:", p->name, f,
		       p->url[0] ? p->url : "(no feed)");
		for (size_t j = 0; j < p->nsubs; j++)
			printf(" %s", p->subs[j]);
		printf("  policy: %s%s\n", p->policy[0] ? p->policy : "(none)",
		       p->box[0] ? "  box: yes" : "");
	}
	hlx_peers_free(ps);
	return ret;
}

int cmd_peer_status(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_peers *ps = NULL;
	int ret;

	if (cli_given(a, "json"))
		return cli_glance_json(cli, CLI_GLANCE_PEER_STATUS);
	ret = load_peers(cli, &ps);
	if (!ret)
		ret = peer_status(cli, cli->node, ps);
	hlx_peers_free(ps);
	return ret;
}

/*
 * Does the peer publish the list for this node?  A feed serves no index of
 * its lists (spec/sync.md section 2), so the list's own head is asked for.
 * There: subscribed.  Not there while the feed answers: refused, unless
 * --force (a list the peer will publish, or will give this node, later).
 * The feed not reachable, or no URL yet: subscribed with a warning, since
 * a peer's server being down must not stop its subscriber's setup.
 */
static int published(struct hlx_cli *cli, const struct hlx_peer *p,
		     const char *list)
{
	int rc, pub = 0;

	if (!p->url[0]) {
		cli_warn("peer '%s' has no feed URL: '%s' is pulled once it has one (hlx peer set %s --url URL)",
			 p->name, list, p->name);
		return HLX_OK;
	}
	rc = hlx_sync_probe(p, list, cli->timeout_s, &pub);
	if (rc == HLX_ENOMEM || rc == HLX_EINVAL)
		return rc;
	if (rc) {
		cli_warn("cannot check that peer '%s' publishes '%s' (%s); subscribed all the same",
			 p->name, list, hlx_err_detail());
		hlx_err_clear();
		return HLX_OK;
	}
	if (!pub)
		return hlx_err(HLX_ENOENT,
			       "peer '%s' publishes no list '%s' for this node at %.200s (check the name with the peer; --force subscribes all the same)",
			       p->name, list, p->url);
	return HLX_OK;
}

static int subscription(struct hlx_cli *cli, const struct cli_args *a, int on)
{
	const char *peer = a->argv[0], *list = a->argv[1];
	struct hlx_peers *ps = NULL;
	struct hlx_peer *p;
	int rc, ret = 0;

	rc = hlx_peers_load(cli->home, &ps);
	if (!rc) {
		p = hlx_peers_find(ps, peer);
		if (!p)
			rc = hlx_err(HLX_ENOENT, "no such peer '%.64s'", peer);
		else if (on)
			rc = hlx_peer_subscribe(p, list);
		else
			rc = hlx_peer_unsubscribe(p, list);
		if (!rc && on && !cli_given(a, "force"))
			rc = published(cli, p, list);
	}
	if (!rc)
		rc = hlx_peers_save(cli->home, ps);
	if (rc)
		ret = cli_fail(rc, "cannot %s '%.64s' of '%.64s'",
			       on ? "subscribe to" : "unsubscribe from", list, peer);
	hlx_peers_free(ps);
	return ret;
}

int cmd_subscribe(struct hlx_cli *cli, const struct cli_args *a)
{
	return subscription(cli, a, 1);
}

int cmd_unsubscribe(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_remove_result r;
	struct hlx_remove_opts o;
	char what[160], dir[PATH_MAX];
	int rc;

	if (!cli_given(a, "purge")) {
		if (cli_given(a, "force") || cli_given(a, "to"))
			return cli_usage(cli->cmd, "--force and --to go with --purge");
		return subscription(cli, a, 0);
	}
	/* the mirror and everything made from it (node/remove.h) */
	rc = remove_opts(cli, a, &o, dir);
	if (!rc)
		rc = hlx_remove_mirror(cli->node, a->argv[0], a->argv[1], &o, &r);
	if (rc)
		return cli_fail(rc, "cannot purge '%.64s' of '%.64s'", a->argv[1],
				a->argv[0]);
	snprintf(what, sizeof(what), "'%s' of '%s'", a->argv[1], a->argv[0]);
	removed(what, &r);
	return 0;
}
