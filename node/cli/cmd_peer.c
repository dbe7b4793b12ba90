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
#include <getopt.h>
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

struct peer_opts {
	const char *url, *key, *ca, *box, *policy;
};

static int peer_opt(void *ctx, int c, const char *arg)
{
	struct peer_opts *o = ctx;

	switch (c) {
	case 'u': o->url = arg; return 0;
	case 'k': o->key = arg; return 0;
	case 'c': o->ca = arg; return 0;
	case 'b': o->box = arg; return 0;
	case 'p': o->policy = arg; return 0;
	case 'n': o->policy = ""; return 0;
	}
	return 1;
}

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

int cmd_peer(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'c' },
		{ "box", required_argument, NULL, 'b' },
		{ "policy", required_argument, NULL, 'p' },
		{ "no-policy", no_argument, NULL, 'n' },
		{ 0 }
	};
	struct peer_opts o = { 0 };
	struct hlx_peers *ps = NULL;
	struct hlx_node *n = NULL;
	struct hlx_buf boxb = HLX_BUF_INIT;
	struct hlx_pubkey k;
	const char *sub;
	int rc, ret, nargs;

	ret = cli_subcommand(cli, &argc, &argv, &sub);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = cli_getopt(cli, argc, argv, "h", extra, peer_opt, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	nargs = argc - optind;
	if (!strcmp(sub, "add")) {
		if (nargs != 1 || !o.key)
			return cli_usage(cli->cmd,
					 "peer add NAME [--url URL] --key KEY [--box KEY] [--policy P]");
	} else if (!strcmp(sub, "set")) {
		if (nargs != 1 || (!o.box && !o.policy && !o.url && !o.ca) || o.key)
			return cli_usage(cli->cmd,
					 "peer set NAME [--url URL] [--ca FILE] [--box KEY] [--policy P | --no-policy]");
	} else if (!strcmp(sub, "rm")) {
		if (nargs != 1)
			return cli_usage(cli->cmd, "peer rm NAME");
	} else if (!strcmp(sub, "ls") || !strcmp(sub, "status")) {
		if (nargs != 0)
			return cli_usage(cli->cmd, "peer %s takes no argument", sub);
	} else {
		return cli_usage(cli->cmd, "unknown peer command '%s'", sub);
	}
	rc = strcmp(sub, "add") && strcmp(sub, "set") ? HLX_OK :
	     load_box(o.box, &boxb, &o.box);
	if (rc) {
		ret = cli_fail(rc, "cannot %s peer '%.64s'",
			       strcmp(sub, "add") ? "change" : "add", argv[optind]);
		goto out;
	}
	ret = cli_open_node(cli, strcmp(sub, "ls") && strcmp(sub, "status"), &n);
	if (ret)
		goto out;
	rc = hlx_peers_load(cli->home, &ps);
	if (rc) {
		ret = cli_fail(rc, "cannot read the peers");
		goto out;
	}
	if (!strcmp(sub, "add")) {
		char f[HLX_FPR_LEN];

		rc = cli_load_pubkey(o.key, &k);
		if (!rc)
			rc = hlx_peers_add(ps, argv[optind], o.url ? o.url : "", &k, o.ca);
		if (!rc && (o.box || o.policy))
			rc = hlx_peer_set(&ps->v[ps->n - 1], o.policy, o.box);
		if (!rc)
			rc = hlx_peers_save(cli->home, ps);
		if (rc) {
			ret = cli_fail(rc, "cannot add peer '%s'", argv[optind]);
			goto out;
		}
		hlx_sshkey_fingerprint(&k, f);
		fprintf(stderr, "hlx: added peer '%s' at %s, root %s\n", argv[optind],
			o.url ? o.url : "(no feed)", f);
	} else if (!strcmp(sub, "set")) {
		struct hlx_peer *pe = hlx_peers_find(ps, argv[optind]);

		int moved = 0;

		rc = pe ? hlx_peer_set(pe, o.policy, o.box) :
			  hlx_err(HLX_ENOENT, "no such peer");
		moved = !rc && o.url && pe->url[0] && strcmp(o.url, pe->url) != 0;
		if (!rc && (o.url || o.ca))
			rc = hlx_peer_set_url(pe, o.url, o.ca);
		/* another feed: what it serves is taken afresh (spec/sync.md) */
		if (!rc && moved)
			rc = hlx_peer_rebase_mark(cli->home, pe);
		if (!rc && moved && pe->nsubs)
			fprintf(stderr, "hlx: the next sync takes the lists of '%s' afresh from its new URL\n",
				pe->name);
		if (!rc)
			rc = hlx_peers_save(cli->home, ps);
		if (rc)
			ret = cli_fail(rc, "cannot change peer '%.64s'", argv[optind]);
	} else if (!strcmp(sub, "rm")) {
		rc = hlx_peers_remove(ps, argv[optind]);
		if (!rc)
			rc = hlx_peers_save(cli->home, ps);
		if (rc)
			ret = cli_fail(rc, "cannot remove peer '%s'", argv[optind]);
	} else if (!strcmp(sub, "ls")) {
		for (size_t i = 0; i < ps->n; i++) {
			char f[HLX_FPR_LEN];

			hlx_sshkey_fingerprint(&ps->v[i].root, f);
			printf("%-16s %s  %s  lists:", ps->v[i].name, f,
			       ps->v[i].url[0] ? ps->v[i].url : "(no feed)");
			for (size_t j = 0; j < ps->v[i].nsubs; j++)
				printf(" %s", ps->v[i].subs[j]);
			printf("  policy: %s%s\n",
			       ps->v[i].policy[0] ? ps->v[i].policy : "(none)",
			       ps->v[i].box[0] ? "  box: yes" : "");
		}
	} else {
		ret = peer_status(cli, n, ps);
	}
out:
	hlx_buf_free(&boxb);
	hlx_peers_free(ps);
	hlx_node_free(n);
	return ret;
}

static int subscription(struct hlx_cli *cli, int argc, char **argv, int on)
{
	struct hlx_peers *ps = NULL;
	struct hlx_node *n = NULL;
	struct hlx_peer *p;
	int rc, ret;

	ret = cli_getopt(cli, argc, argv, "h", NULL, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (argc - optind != 2)
		return cli_usage(cli->cmd, "a PEER and a LIST");
	ret = cli_open_node(cli, 1, &n);
	if (ret)
		return ret;
	rc = hlx_peers_load(cli->home, &ps);
	if (!rc) {
		p = hlx_peers_find(ps, argv[optind]);
		if (!p)
			rc = hlx_err(HLX_ENOENT, "no such peer '%.64s'", argv[optind]);
		else if (on)
			rc = hlx_peer_subscribe(p, argv[optind + 1]);
		else
			rc = hlx_peer_unsubscribe(p, argv[optind + 1]);
	}
	if (!rc)
		rc = hlx_peers_save(cli->home, ps);
	if (rc)
		ret = cli_fail(rc, "cannot %ssubscribe", on ? "" : "un");
	hlx_peers_free(ps);
	hlx_node_free(n);
	return ret;
}

int cmd_subscribe(struct hlx_cli *cli, int argc, char **argv)
{
	return subscription(cli, argc, argv, 1);
}

int cmd_unsubscribe(struct hlx_cli *cli, int argc, char **argv)
{
	return subscription(cli, argc, argv, 0);
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

struct run_opts {
	const char *to;
	long interval, validity_days;
	int once;
};

static int run_opt(void *ctx, int c, const char *arg)
{
	struct run_opts *o = ctx;
	char *end;
	long v;

	if (c == 't') {
		o->to = arg;
		return 0;
	}
	v = strtol(arg, &end, 10);
	if (!*arg || *end || v <= 0)
		return 1;
	if (c == 'i' && v <= 86400)
		o->interval = v;
	else if (c == 'e' && v <= 366)
		o->validity_days = v;
	else
		return 1;
	return 0;
}

/* A peer pruned a history, or retention purged entries: the state's free pages may still
 * hold what it removed, so it is compacted when the node is closed, before
 * the writer lock goes. */
static int compact_wanted;
static void close_node(struct hlx_node *n);

static void progress(void *ctx, unsigned au, unsigned aus, const char *list)
{
	(void)ctx;
	fprintf(stderr, "\rhlx: publishing audience %u of %u, list '%.64s'\033[K",
		au, aus, list);
}

static int do_publish(struct hlx_cli *cli, struct hlx_node *n, const char *to,
		      long validity_days, int quiet)
{
	struct hlx_publish_stats st = { 0 };
	char dir[PATH_MAX];
	int rc = publish_dir(cli, to, dir);

	/* progress on a terminal: a first publication can take a while */
	if (!quiet && isatty(STDERR_FILENO))
		st.progress = progress;
	if (!rc)
		rc = hlx_publish(n, dir, (int64_t)time(NULL), validity_days * 86400,
				 cli_getpass, cli, &st);
	if (st.progress)
		fprintf(stderr, "\r\033[K");
	/* what retention purged first leaves the state's pages too */
	compact_wanted |= st.purged > 0;
	if (rc)
		return cli_fail(rc, "cannot publish to '%s'", dir);
	if (!quiet || st.heads_signed || st.packs_written)
		fprintf(stderr, "hlx: published %u lists to '%s': %u heads signed, %u packs written\n",
			st.lists, dir, st.heads_signed, st.packs_written);
	return 0;
}

int cmd_publish(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "to", required_argument, NULL, 't' },
		{ "expires-days", required_argument, NULL, 'e' },
		{ 0 }
	};
	struct run_opts o = { NULL, 60, HLX_HEAD_VALIDITY / 86400, 0 };
	struct hlx_node *n = NULL;
	int ret;

	ret = cli_getopt(cli, argc, argv, "h", extra, run_opt, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind != argc)
		return cli_usage(cli->cmd, "unexpected argument '%s'", argv[optind]);
	ret = cli_open_node(cli, 1, &n);
	if (!ret)
		ret = do_publish(cli, n, o.to, o.validity_days, 0);
	close_node(n);
	return ret;
}


static void close_node(struct hlx_node *n)
{
	uint64_t before = 0, after = 0;
	int rc;

	if (!n || !compact_wanted) {
		hlx_node_free(n);
		return;
	}
	compact_wanted = 0;
	rc = hlx_node_compact_free(n, &before, &after);
	if (rc)
		cli_fail(rc, "cannot compact the state after a prune (run 'hlx sync' again)");
	else
		fprintf(stderr, "hlx: state compacted after a peer's prune: %" PRIu64
			" -> %" PRIu64 " bytes\n", before, after);
}

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
		      int *changed)
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
	compact_wanted |= t.compact;
	return t.failures;
}

int cmd_sync(struct hlx_cli *cli, int argc, char **argv)
{
	struct hlx_peers *ps = NULL;
	struct hlx_node *n = NULL;
	int ret, rc, changed;

	ret = cli_getopt(cli, argc, argv, "h", NULL, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (argc - optind > 1)
		return cli_usage(cli->cmd, "at most one PEER");
	ret = cli_open_node(cli, 1, &n);
	if (ret)
		return ret;
	rc = hlx_peers_load(cli->home, &ps);
	if (!rc && optind < argc && !hlx_peers_find(ps, argv[optind]))
		rc = hlx_err(HLX_ENOENT, "no such peer '%.64s'", argv[optind]);
	if (rc) {
		ret = cli_fail(rc, "cannot sync");
		goto out;
	}
	if (sync_round(cli, n, ps, optind < argc ? argv[optind] : NULL, 0, &changed))
		ret = HLX_EXIT_FAILED;
out:
	hlx_peers_free(ps);
	close_node(n);
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

int cmd_run(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "to", required_argument, NULL, 't' },
		{ "expires-days", required_argument, NULL, 'e' },
		{ 0 }
	};
	struct run_opts o = { NULL, 60, HLX_HEAD_VALIDITY / 86400, 0 };
	struct sigaction sa;
	unsigned backoff = 0;
	int ret;

	ret = cli_getopt(cli, argc, argv, "h", extra, run_opt, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind != argc)
		return cli_usage(cli->cmd, "unexpected argument '%s'", argv[optind]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	logline("hlx run: node '%s', polling every %ld s", cli->home, o.interval);
	while (!stop) {
		struct hlx_peers *ps = NULL;
		struct hlx_node *n = NULL;
		int failures = 0, changed = 0, rc;
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
			if (do_publish(cli, n, o.to, o.validity_days, 1))
				failures++;
			failures += sync_round(cli, n, ps, NULL, 1, &changed);
			if (changed && do_publish(cli, n, o.to, o.validity_days, 1))
				failures++;
		}
		hlx_peers_free(ps);
		close_node(n);
		/* exponential backoff on failure, with jitter */
		backoff = failures ? (backoff < 6 ? backoff + 1 : 6) : 0;
		wait_ms = o.interval * 1000L << backoff;
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
