/* SPDX-License-Identifier: MIT */
/* hlx publish, sync, run: the feeds out and in, once or as a service
 * (the engines: node/publish.h, node/sync.h). */
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

/* One audience or peer not published (the others are): one line. */
static void pub_failure(void *ctx, const char *who, int rc, const char *why)
{
	int *first = ctx;

	if (!*first)
		*first = cli_exit_code(rc);
	fprintf(stderr, "hlx: cannot publish to %s: %s\n", who, why);
}

/* 0, or the exit code of what stopped it all, or (*partial set) of the
 * first audience or peer not published (each said) while the others
 * were. */
static int do_publish(struct hlx_cli *cli, struct hlx_node *n,
		      const struct pub_opts *o, int quiet, int *compact,
		      int *partial)
{
	struct hlx_publish_stats st = { 0 };
	char dir[PATH_MAX];
	int rc = publish_dir(cli, o->to, dir);

	/* progress on a terminal: a first publication can take a while */
	if (!quiet && isatty(STDERR_FILENO))
		st.progress = progress;
	st.failure = pub_failure;
	st.failure_ctx = partial;
	*partial = 0;
	if (!rc)
		rc = hlx_publish(n, dir, (int64_t)time(NULL), o->validity_days * 86400,
				 cli_getpass, cli, &st);
	if (st.progress)
		fprintf(stderr, "\r\033[K");
	/* what retention purged first leaves the state's pages too */
	*compact |= st.purged > 0;
	if (rc) {
		*partial = 0;
		return cli_fail(rc, "cannot publish to '%s'", dir);
	}
	if (!quiet || st.heads_signed || st.packs_written)
		fprintf(stderr, "hlx: published %u lists to '%s': %u heads signed, %u packs written\n",
			st.lists, dir, st.heads_signed, st.packs_written);
	if (st.failed)
		fprintf(stderr, "hlx: %u audience(s) or peer(s) not published, the others were\n",
			st.failed);
	return *partial;
}

int cmd_publish(struct hlx_cli *cli, const struct cli_args *a)
{
	struct pub_opts o = pub_opts(a);
	int compact = 0, partial, ret = do_publish(cli, cli->node, &o, 0, &compact,
						   &partial);

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
	case HLX_SYNC_WAIT:     /* failed lately (hlx run): left for later */
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
		      int *changed, int *compact, struct hlx_sync_backoff *bo)
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
	o.backoff = bo;
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
	else if (sync_round(cli, cli->node, ps, only, 0, &changed, &compact, NULL))
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
	/* each peer's list backs off on its own (node/sync.h) */
	struct hlx_sync_backoff bo = { interval, 3600, 0, NULL };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	logline("hlx run: node '%s', polling every %ld s", cli->home, interval);
	while (!stop) {
		struct hlx_peers *ps = NULL;
		struct hlx_node *n = NULL;
		int failures = 0, pulls = 0, changed = 0, compact = 0, partial = 0, rc;
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
			/* one audience's or list's failure (HLX_EXIT_FAILED,
			 * said once each) delays no other: only a publish
			 * that failed as a whole backs the loop off */
			rc = do_publish(cli, n, &o, 1, &compact, &partial);
			failures += rc && !partial;
			pulls += partial != 0;
			pulls += sync_round(cli, n, ps, NULL, 1, &changed, &compact, &bo);
			rc = changed ? do_publish(cli, n, &o, 1, &compact, &partial) : 0;
			failures += rc && !partial;
			pulls += rc && partial;
		}
		hlx_peers_free(ps);
		close_compacted(n, compact);
		/* exponential backoff on failure, with jitter */
		backoff = failures ? (backoff < 6 ? backoff + 1 : 6) : 0;
		wait_ms = interval * 1000L << backoff;
		if (wait_ms > 3600000L)
			wait_ms = 3600000L;
		wait_ms += (long)(randombytes_uniform((uint32_t)(wait_ms / 5 + 1)));
		if (failures || pulls)
			logline("round had %d failure(s); next in %ld ms", failures + pulls,
				wait_ms);
		nap(wait_ms);
	}
	hlx_sync_backoff_free(&bo);
	logline("hlx run: stopping on signal");
	return 0;
}
