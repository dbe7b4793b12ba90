/* SPDX-License-Identifier: MIT */
/* hlx peer, subscribe, unsubscribe, publish, sync, run, status. */
#include "node/cli/cmds.h"
#include "node/files.h"
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
	while (b->len && (b->data[b->len - 1] == '\n' ||
			  b->data[b->len - 1] == '\r' || b->data[b->len - 1] == ' '))
		b->data[--b->len] = '\0';
	*out = (const char *)b->data;
	return HLX_OK;
}

static void ago(char *out, size_t n, int64_t now, int64_t t)
{
	if (t <= 0)
		snprintf(out, n, "never");
	else if (now - t < 120)
		snprintf(out, n, "%" PRId64 "s ago", now - t);
	else if (now - t < 7200)
		snprintf(out, n, "%" PRId64 "m ago", (now - t) / 60);
	else
		snprintf(out, n, "%" PRId64 "h ago", (now - t) / 3600);
}

static const char *days(int64_t d, char *out, size_t n)
{
	snprintf(out, n, "%" PRId64 " days", d);
	return out;
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
			ago(a, sizeof(a), cli->now, ss.last_ok);
			ago(b, sizeof(b), cli->now, ss.last_try);
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
	}
	return 0;
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
	if (!rc)
		rc = hlx_peers_add(ps, name, url ? url : "", &k, cli_text(a, "ca"));
	if (!rc && (box || policy))
		rc = hlx_peer_set(&ps->v[ps->n - 1], policy, box);
	if (!rc)
		rc = hlx_peers_save(cli->home, ps);
	if (rc) {
		ret = cli_fail(rc, "cannot add peer '%s'", name);
		goto out;
	}
	hlx_sshkey_fingerprint(&k, f);
	fprintf(stderr, "hlx: added peer '%s' at %s, root %s\n", name,
		url ? url : "(no feed)", f);
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

int cmd_peer_rm(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_peers *ps = NULL;
	int rc, ret = load_peers(cli, &ps);

	if (ret)
		return ret;
	rc = hlx_peers_remove(ps, a->argv[0]);
	if (!rc)
		rc = hlx_peers_save(cli->home, ps);
	if (rc)
		ret = cli_fail(rc, "cannot remove peer '%s'", a->argv[0]);
	hlx_peers_free(ps);
	return ret;
}

int cmd_peer_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_peers *ps = NULL;
	int ret = load_peers(cli, &ps);

	(void)a;
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
	int ret = load_peers(cli, &ps);

	(void)a;
	if (!ret)
		ret = peer_status(cli, cli->node, ps);
	hlx_peers_free(ps);
	return ret;
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
	}
	if (!rc)
		rc = hlx_peers_save(cli->home, ps);
	if (rc)
		ret = cli_fail(rc, "cannot %ssubscribe", on ? "" : "un");
	hlx_peers_free(ps);
	return ret;
}

int cmd_subscribe(struct hlx_cli *cli, const struct cli_args *a)
{
	return subscription(cli, a, 1);
}

int cmd_unsubscribe(struct hlx_cli *cli, const struct cli_args *a)
{
	return subscription(cli, a, 0);
}

/* ---- publish, sync, run ------------------------------------------------- */

static int publish_dir(struct hlx_cli *cli, const char *to, char out[PATH_MAX])
{
	if (to)
		return snprintf(out, PATH_MAX, "%s", to) < PATH_MAX ? 0 :
		       hlx_err(HLX_EINVAL, "path too long");
	return snprintf(out, PATH_MAX, "%s/publish", cli->home) < PATH_MAX ? 0 :
	       hlx_err(HLX_EINVAL, "path too long");
}

/* The options publish and run share. */
struct pub_opts {
	const char *to;
	long validity_days;
};

static struct pub_opts pub_opts(const struct cli_args *a)
{
	struct pub_opts o = {
		cli_text(a, "to"),
		(long)cli_num(a, "expires-days", HLX_HEAD_VALIDITY / 86400) };

	return o;
}

/* A peer pruned a history, or retention purged entries: the state's free
 * pages may still hold what was removed, so it is compacted (and the node
 * freed) before the writer lock goes. */
static void close_compacted(struct hlx_node *n, int compact)
{
	uint64_t before = 0, after = 0;
	int rc;

	if (!n || !compact) {
		hlx_node_free(n);
		return;
	}
	rc = hlx_node_compact_free(n, &before, &after);
	if (rc)
		cli_fail(rc, "cannot compact the state after a prune (run 'hlx sync' again)");
	else
		fprintf(stderr, "hlx: state compacted after a peer's prune: %" PRIu64
			" -> %" PRIu64 " bytes\n", before, after);
}

static void progress(void *ctx, unsigned au, unsigned aus, const char *list)
{
	(void)ctx;
	fprintf(stderr, "\rhlx: publishing audience %u of %u, list '%.64s'\033[K",
		au, aus, list);
}

static int do_publish(struct hlx_cli *cli, struct hlx_node *n,
		      const struct pub_opts *o, int quiet, int *compact)
{
	struct hlx_publish_stats st = { 0 };
	char dir[PATH_MAX];
	int rc = publish_dir(cli, o->to, dir);

	/* progress on a terminal: a first publication can take a while */
	if (!quiet && isatty(STDERR_FILENO))
		st.progress = progress;
	if (!rc)
		rc = hlx_publish(n, dir, (int64_t)time(NULL), o->validity_days * 86400,
				 cli_getpass, cli, &st);
	if (st.progress)
		fprintf(stderr, "\r\033[K");
	/* what retention purged first leaves the state's pages too */
	*compact |= st.purged > 0;
	if (rc)
		return cli_fail(rc, "cannot publish to '%s'", dir);
	if (!quiet || st.heads_signed || st.packs_written)
		fprintf(stderr, "hlx: published %u lists to '%s': %u heads signed, %u packs written\n",
			st.lists, dir, st.heads_signed, st.packs_written);
	return 0;
}

int cmd_publish(struct hlx_cli *cli, const struct cli_args *a)
{
	struct pub_opts o = pub_opts(a);
	int compact = 0, ret = do_publish(cli, cli->node, &o, 0, &compact);

	close_compacted(cli->node, compact);
	cli->node = NULL;
	return ret;
}

/* How a pull round reads on standard error (quiet: what changed and what
 * failed only, as hlx run logs). */
struct round_ctx {
	int quiet;
};

/* What the sync round reports, one line each on stderr. */
static void round_report(void *ctx, const struct hlx_sync_event *ev)
{
	const struct round_ctx *c = ctx;
	const struct hlx_pull_result *r = ev->result;

	switch (ev->kind) {
	case HLX_SYNC_PEER:
		cli_fail(ev->rc, "cannot sync peer '%s'", ev->peer);
		break;
	case HLX_SYNC_PURGE:
		if (ev->rc)
			cli_fail(ev->rc, "cannot purge");
		else
			fprintf(stderr, "hlx: %" PRIu64 " entries past their retention purged\n",
				ev->purged);
		break;
	case HLX_SYNC_LIST:
		if (ev->rc)
			cli_fail(ev->rc, "cannot sync '%s' of peer '%s'", ev->list, ev->peer);
		else if (r->changed)
			fprintf(stderr, "hlx: %s/%s: version %" PRIu64 " -> %" PRIu64
				": %" PRIu64 " added, %" PRIu64 " removed\n",
				ev->peer, ev->list, r->from, r->to, r->added, r->removed);
		else if (!c->quiet && r->not_modified)
			fprintf(stderr, "hlx: %s/%s: not modified since the last sync\n",
				ev->peer, ev->list);
		else if (!c->quiet)
			fprintf(stderr, "hlx: %s/%s: up to date at version %" PRIu64 "\n",
				ev->peer, ev->list, r->to);
		break;
	}
}

/* One pull round over the peers (or one peer); returns failures. */
static int sync_round(struct hlx_cli *cli, struct hlx_node *n,
		      struct hlx_peers *ps, const char *only, int quiet,
		      int *changed, int *compact)
{
	struct round_ctx rc_ctx = { quiet };
	struct hlx_sync_opts o = { 0 };
	struct hlx_sync_totals t;

	o.only = only;
	o.timeout_s = cli->timeout_s;
	o.getpass = cli_getpass;
	o.pass_ctx = cli;
	o.report = round_report;
	o.report_ctx = &rc_ctx;
	hlx_sync_round(n, ps, &o, &t);
	*changed = t.changed;
	*compact |= t.compact;
	return t.failures;
}

int cmd_sync(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *only = a->argc ? a->argv[0] : NULL;
	struct hlx_peers *ps = NULL;
	int ret = 0, rc, changed, compact = 0;

	rc = hlx_peers_load(cli->home, &ps);
	if (!rc && only && !hlx_peers_find(ps, only))
		rc = hlx_err(HLX_ENOENT, "no such peer '%.64s'", only);
	if (rc)
		ret = cli_fail(rc, "cannot sync");
	else if (sync_round(cli, cli->node, ps, only, 0, &changed, &compact))
		ret = HLX_EXIT_FAILED;
	hlx_peers_free(ps);
	close_compacted(cli->node, compact);
	cli->node = NULL;
	return ret;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char ts[HLX_TIME_TEXT];
	va_list ap;

	hlx_time_format((int64_t)time(NULL), ts);
	fprintf(stderr, "%s ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Sleep up to ms, waking early on a signal. */
static void nap(long ms)
{
	while (ms > 0 && !stop) {
		struct timespec ts = { 0, (ms > 100 ? 100 : ms) * 1000000L };

		nanosleep(&ts, NULL);
		ms -= 100;
	}
}

int cmd_run(struct hlx_cli *cli, const struct cli_args *a)
{
	struct pub_opts o = pub_opts(a);
	long interval = (long)cli_num(a, "interval", 60);
	struct sigaction sa;
	unsigned backoff = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	logline("hlx run: node '%s', polling every %ld s", cli->home, interval);
	while (!stop) {
		struct hlx_peers *ps = NULL;
		struct hlx_node *n = NULL;
		int failures = 0, changed = 0, compact = 0, rc;
		long wait_ms;

		/* Each round opens the node afresh (and takes the writer lock
		 * only for the round), so CLI writers interleave. */
		rc = hlx_node_open(cli->home, 1, &n);
		if (!rc)
			rc = hlx_peers_load(cli->home, &ps);
		if (rc) {
			logline("error: %s", hlx_err_detail());
			failures = 1;
		} else {
			if (do_publish(cli, n, &o, 1, &compact))
				failures++;
			failures += sync_round(cli, n, ps, NULL, 1, &changed, &compact);
			if (changed && do_publish(cli, n, &o, 1, &compact))
				failures++;
		}
		hlx_peers_free(ps);
		close_compacted(n, compact);
		/* exponential backoff on failure, with jitter */
		backoff = failures ? (backoff < 6 ? backoff + 1 : 6) : 0;
		wait_ms = interval * 1000L << backoff;
		if (wait_ms > 3600000L)
			wait_ms = 3600000L;
		wait_ms += (long)(randombytes_uniform((uint32_t)(wait_ms / 5 + 1)));
		if (failures)
			logline("round had %d failure(s); next in %ld ms", failures, wait_ms);
		nap(wait_ms);
	}
	logline("hlx run: stopping on signal");
	return 0;
}
