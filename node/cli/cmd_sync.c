/* SPDX-License-Identifier: MIT */
/* hlx publish, sync, run: the feeds out and in, once or as a service
 * (the engines: node/publish.h, node/sync.h). */
#include "node/cli/cmds.h"
#include "node/cases.h"
#include "node/config.h"
#include "node/files.h"
#include "node/runlock.h"
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
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How publish, sync and run report.  A command: "hlx: EVENT" as every
 * command does.  hlx run: one format for every line, "TIME ORG: EVENT"
 * (errors "TIME ORG: error: EVENT"), TIME the UTC time, left out when
 * standard error is the journal (which times each line itself) and
 * "<N>" (the syslog priority: 3 an error, 6 news) put first instead. */
static struct {
	int run;        /* hlx run's format */
	int journal;    /* standard error is the journal */
	char org[64];
} lg;

#define LOG_ERROR 3
#define LOG_NEWS 6

static void vsay(int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vsay(int prio, const char *fmt, va_list ap)
{
	char ts[HLX_TIME_TEXT];

	if (!lg.run) {
		fputs("hlx: ", stderr);
	} else if (lg.journal) {
		fprintf(stderr, "<%d>%s: ", prio, lg.org);
	} else {
		hlx_time_format((int64_t)time(NULL), ts);
		fprintf(stderr, "%s %s: ", ts, lg.org);
	}
	if (lg.run && prio == LOG_ERROR)
		fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void say(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(prio, fmt, ap);
	va_end(ap);
}

/* cli_fail in the format of the moment: "WHAT: DETAIL"; the exit code. */
static int fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int rc, const char *fmt, ...)
{
	const char *d = hlx_err_detail();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	say(LOG_ERROR, "%s: %s", what, d[0] ? d : hlx_strerror(rc));
	return cli_exit_code(rc);
}

/* Where publish and sync get passphrases (ctx: the cli): run keeps one. */
static int (*getpass_fn)(void *, const char *, int, struct hlx_buf *) = cli_getpass;

/* The options publish and run share, over the node's settings. */
struct pub_opts {
	char dir[PATH_MAX];
	long validity_days;
};

static int pub_opts(struct hlx_cli *cli, const struct cli_args *a,
		    const struct hlx_config *c, struct pub_opts *o)
{
	const char *to = cli_text(a, "to");
	int rc = to ? hlx_pathf(o->dir, "%s", to) :
		      hlx_config_publish_dir(c, cli->home, o->dir);

	if (!rc)
		rc = hlx_config_publish_dir_check(cli->home, o->dir);

	o->validity_days = (long)cli_num(a, "expires-days", c->expires_days);
	return rc;
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
		fail(rc, "cannot compact the state (run 'hlx sync' again)");
	else
		say(LOG_NEWS, "state compacted, so that what was removed has no "
		    "copy left in its free pages: %" PRIu64 " -> %" PRIu64 " bytes",
		    before, after);
}

static void progress(void *ctx, unsigned au, unsigned aus, const char *list)
{
	(void)ctx;
	fprintf(stderr, "\rhlx: publishing audience %u of %u, list '%.64s'\033[K",
		au, aus, list);
}

/* A raw URL of a case not sent (no failure): one line. */
static void pub_notice(void *ctx, const char *who, const char *why)
{
	(void)ctx;
	(void)who;
	say(LOG_NEWS, "%s", why);
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
	int rc;

	/* progress on a terminal: a first publication can take a while */
	if (!quiet && isatty(STDERR_FILENO))
		st.progress = progress;
	st.failure = pub_failure;
	st.failure_ctx = partial;
	st.notice = pub_notice;
	*partial = 0;
	/* HLX_NOW, when set, is the time of the views (the state of cases
	 * decides what a view of the cases log withholds) */
	rc = hlx_publish(n, o->dir, cli->now_fixed ? cli->now : (int64_t)time(NULL),
			 o->validity_days * 86400,
			 getpass_fn, cli, &st);
	if (st.progress)
		fprintf(stderr, "\r\033[K");
	/* what retention purged first leaves the state's pages too */
	*compact |= st.purged > 0;
	if (rc) {
		*partial = 0;
		return fail(rc, "cannot publish to '%s'", o->dir);
	}
	if (!quiet || st.heads_signed || st.packs_written)
		say(LOG_NEWS, "published %u %s to '%s': %u %s signed, %u %s written",
		    st.lists, cli_noun(st.lists, "list", "lists"), o->dir,
		    st.heads_signed, cli_noun(st.heads_signed, "head", "heads"),
		    st.packs_written, cli_noun(st.packs_written, "pack", "packs"));
	if (st.urls_sent)
		say(LOG_NEWS, "%u raw URL(s) of cases sealed to their owners", st.urls_sent);
	if (st.failed)
		say(LOG_NEWS, "%u audience(s) or peer(s) not published, the others were",
		    st.failed);
	return *partial;
}

int cmd_publish(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_config c;
	struct pub_opts o;
	int compact = 0, partial = 0, ret, rc;

	/* the settings, read under the writer lock the table took */
	rc = hlx_config_load(cli->home, &c);
	if (!rc)
		rc = pub_opts(cli, a, &c, &o);
	/* a first publish to audiences builds every view of every list */
	if (!rc)
		cli_bulk_memory(0);
	ret = rc ? cli_fail(rc, "cannot publish") :
	      do_publish(cli, cli->node, &o, 0, &compact, &partial);
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
		fail(ev->rc, "cannot sync peer '%s'", ev->peer);
		break;
	case HLX_SYNC_WAIT:     /* failed lately (hlx run): left for later */
		break;
	case HLX_SYNC_PURGE:
		if (ev->rc)
			fail(ev->rc, "cannot purge");
		else
			say(LOG_NEWS, "%" PRIu64 " %s past their retention purged",
			    ev->purged, cli_noun(ev->purged, "entry", "entries"));
		break;
	case HLX_SYNC_LIST:
		if (ev->rc)
			fail(ev->rc, "cannot sync '%s' of peer '%s'", ev->list, ev->peer);
		else if (r->changed && r->pruned)
			/* versions may go down: not a rollback (refused) */
			say(LOG_NEWS, "%s/%s: a new history from the peer (pruned, or "
			    "another feed): version %" PRIu64 " -> %" PRIu64
			    ": %" PRIu64 " added, %" PRIu64 " removed",
			    ev->peer, ev->list, r->from, r->to, r->added, r->removed);
		else if (r->changed)
			say(LOG_NEWS, "%s/%s: version %" PRIu64 " -> %" PRIu64
			    ": %" PRIu64 " added, %" PRIu64 " removed",
			    ev->peer, ev->list, r->from, r->to, r->added, r->removed);
		else if (!c->quiet && r->none)
			say(LOG_NEWS, "%s/%s: no cases log published yet", ev->peer, ev->list);
		else if (!c->quiet && r->not_modified)
			say(LOG_NEWS, "%s/%s: not modified since the last sync",
			    ev->peer, ev->list);
		else if (!c->quiet)
			say(LOG_NEWS, "%s/%s: up to date at version %" PRIu64,
			    ev->peer, ev->list, r->to);
		break;
	case HLX_SYNC_PLANS:
		if (ev->rc)
			fail(ev->rc, "cannot sync the plans of peer '%s'", ev->peer);
		else if (ev->plans->changed)
			say(LOG_NEWS, "%s/plans: seq %" PRIu64 ": %zu acts taken",
			    ev->peer, ev->plans->seq, ev->plans->added);
		else if (!c->quiet && !ev->plans->not_modified)
			say(LOG_NEWS, "%s/plans: up to date at seq %" PRIu64, ev->peer,
			    ev->plans->seq);
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
	/* HLX_NOW is the receiver's clock (time rules of pulls, the cases
	 * log's skew bound); otherwise the clock at each round */
	o.now = cli->now_fixed ? cli->now : 0;
	o.timeout_s = cli->timeout_s;
	o.getpass = getpass_fn;
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
	/* a first pull of a large list: its pack indexed on one thread, its
	 * shards checked on another (hlx run keeps the usual allocator: it
	 * runs for days, and gives back what a large pull took) */
	if (!rc)
		cli_bulk_memory(0);
	if (rc)
		ret = cli_fail(rc, "cannot sync");
	else if (sync_round(cli, cli->node, ps, only, 0, &changed, &compact, NULL))
		ret = HLX_EXIT_FAILED;
	hlx_peers_free(ps);
	close_compacted(cli->node, compact);
	cli->node = NULL;
	return ret;
}


/* ---- hlx run ------------------------------------------------------------ */

static volatile sig_atomic_t stop, hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup = 1;
	else
		stop = 1;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A watch on what hlx_runlock_stamp looks at (the home, for trust.json
 * and peers.json, and the state's directory), so that a change wakes the
 * nap at once rather than at its next look; -1 when the system has none
 * (the nap then only looks every 25 ms). */
static int nap_watch(const char *home)
{
	const uint32_t ev = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
			    IN_CREATE | IN_DELETE | IN_ATTRIB;
	char p[PATH_MAX];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -1;
	if (inotify_add_watch(fd, home, ev) < 0 ||
	    hlx_home_path(p, home, HLX_HOME_STATE, NULL, NULL) != HLX_OK ||
	    inotify_add_watch(fd, p, ev) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sleep up to ms, waking early on a signal, or (seen) as soon as another
 * command changed the node since seen was taken: what it changed is then
 * published without waiting for the interval.  watch (nap_watch, or -1)
 * wakes it when a file changes; the stamp is looked at then, and every
 * 25 ms whatever the watch says. */
static void nap(long ms, const char *home, const struct hlx_run_stamp *seen,
		int watch)
{
	long end = mono_ms() + ms, left;

	while ((left = end - mono_ms()) > 0 && !stop && !hup) {
		struct hlx_run_stamp now;
		int step = (int)(left > 25 ? 25 : left);

		if (seen && watch >= 0) {
			struct pollfd pf = { watch, POLLIN, 0 };
			char ev[4096] __attribute__((aligned(8)));

			if (poll(&pf, 1, step) > 0)
				while (read(watch, ev, sizeof(ev)) > 0)
					;
		} else {
			struct timespec ts = { 0, step * 1000000L };

			nanosleep(&ts, NULL);
		}
		if (seen) {
			hlx_runlock_stamp(home, &now);
			if (memcmp(&now, seen, sizeof(now)) != 0)
				break;
		}
	}
}

/* The passphrase typed on a terminal at run's start, kept for the same
 * key: asked once, not each round. */
static struct {
	char what[128];
	struct hlx_buf pass;
	int have;
} kept;

static int run_getpass(void *ctx, const char *what, int confirm,
		       struct hlx_buf *pass)
{
	const struct hlx_cli *cli = ctx;
	int rc;

	/* a passphrase file is read each time (it may be replaced) */
	if (cli->pass_file)
		return cli_getpass(ctx, what, confirm, pass);
	if (kept.have && !confirm && strcmp(kept.what, what) == 0) {
		hlx_buf_reset(pass);
		return hlx_buf_put(pass, kept.pass.data, kept.pass.len);
	}
	rc = cli_getpass(ctx, what, confirm, pass);
	if (!rc && !kept.have && strlen(what) < sizeof(kept.what)) {
		hlx_buf_init_secure(&kept.pass);
		if (hlx_buf_put(&kept.pass, pass->data, pass->len) == HLX_OK) {
			snprintf(kept.what, sizeof(kept.what), "%s", what);
			kept.have = 1;
		}
	}
	return rc;
}

/* What a run goes by: the settings, with the command line over them. */
struct run_conf {
	struct pub_opts o;
	long interval;
};

static int run_conf(struct hlx_cli *cli, const struct cli_args *a,
		    struct run_conf *r)
{
	struct hlx_config c;
	int rc = hlx_config_load(cli->home, &c);

	if (!rc)
		rc = pub_opts(cli, a, &c, &r->o);
	r->interval = (long)cli_num(a, "interval", c.poll_interval);
	return rc;
}

static void say_conf(const char *what, const struct cli_args *a,
		     const struct run_conf *r)
{
	say(LOG_NEWS, "%s: publish-dir '%s'%s, poll-interval %ld s%s, expires-days %ld%s",
	    what, r->o.dir, cli_given(a, "to") ? " (--to)" : "",
	    r->interval, cli_given(a, "interval") ? " (--interval)" : "",
	    r->o.validity_days, cli_given(a, "expires-days") ? " (--expires-days)" : "");
}

/* Whether standard error is the journal: JOURNAL_STREAM names its device
 * and inode (a child whose stderr went elsewhere inherits the variable). */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* The claims of the cases this organisation owns with less than half
 * their lease left, renewed in one version (spec/cases.md section 9). */
static int renew_claims(struct hlx_cli *cli, struct hlx_node *n, int *changed)
{
	int64_t now = cli->now_fixed ? cli->now : (int64_t)time(NULL);
	uint64_t count = 0;
	int rc = hlx_cases_renew(n, now, getpass_fn, cli, &count);

	if (rc) {
		fail(rc, "cannot renew the claims on cases");
		return 1;
	}
	if (count) {
		say(LOG_NEWS, "renewed the claims on %llu case(s)",
		    (unsigned long long)count);
		*changed = 1;
	}
	return 0;
}

/* Before the first round: the organisation (for the log), one run a
 * home, a signing key that can be loaded (a passphrase that cannot be
 * had does not come by retrying: exit 5), the settings. */
static int run_start(struct hlx_cli *cli, const struct cli_args *a,
		     struct run_conf *r, int *lockfd)
{
	struct hlx_home *h = NULL;
	struct hlx_seckey *k = NULL;
	long holder;
	int rc, ret = 0;

	rc = hlx_home_open(cli->home, &h);
	if (rc)
		return cli_fail(rc, "cannot open node home '%s'", cli->home);
	snprintf(lg.org, sizeof(lg.org), "%s", hlx_home_org(h));
	lg.journal = stderr_is_journal();
	lg.run = 1;
	rc = hlx_runlock_take(cli->home, lockfd, &holder);
	if (rc)
		ret = fail(rc, "cannot run the node");
	if (!ret) {
		rc = hlx_home_signing_key(h, run_getpass, cli, (int64_t)time(NULL), &k);
		if (rc == HLX_EPASS || rc == HLX_EPERM)
			ret = fail(rc, "cannot run the node");
		else if (rc)
			fail(rc, "cannot sign (publishing will fail until this is fixed)");
	}
	hlx_seckey_free(k);
	hlx_home_free(h);
	if (!ret && (rc = run_conf(cli, a, r)))
		ret = fail(rc, "cannot run the node");
	return ret;
}

int cmd_run(struct hlx_cli *cli, const struct cli_args *a)
{
	struct run_conf r;
	struct sigaction sa;
	unsigned backoff = 0;
	int lockfd = -1, watch = -1, ret;
	/* each peer's list backs off on its own (node/sync.h) */
	struct hlx_sync_backoff bo = { 60, 3600, 0, NULL, 0, NULL };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* a reload in the middle of a round interrupts no transfer or
	 * write; the nap (nanosleep) still wakes at once */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	getpass_fn = run_getpass;
	ret = run_start(cli, a, &r, &lockfd);
	if (ret)
		goto out;
	bo.base = r.interval;
	watch = nap_watch(cli->home);
	say(LOG_NEWS, "running node '%s' (pid %ld)", cli->home, (long)getpid());
	say_conf("settings", a, &r);
	while (!stop) {
		struct hlx_peers *ps = NULL;
		struct hlx_node *n = NULL;
		struct hlx_run_stamp seen;
		int failures = 0, pulls = 0, changed = 0, compact = 0, partial = 0, rc;
		long wait_ms, start = mono_ms();

		/* Each round opens the node afresh (and takes the writer lock
		 * only for the round), so CLI writers interleave. */
		rc = hlx_node_open(cli->home, 1, &n);
		if (!rc)
			rc = hlx_peers_load(cli->home, &ps);
		if (rc) {
			fail(rc, "cannot open node home '%s'", cli->home);
			failures = 1;
		} else {
			/* one audience's or list's failure (HLX_EXIT_FAILED,
			 * said once each) delays no other: only a publish
			 * that failed as a whole backs the loop off */
			rc = do_publish(cli, n, &r.o, 1, &compact, &partial);
			failures += rc && !partial;
			pulls += partial != 0;
			pulls += sync_round(cli, n, ps, NULL, 1, &changed, &compact, &bo);
			failures += renew_claims(cli, n, &changed);
			rc = changed ? do_publish(cli, n, &r.o, 1, &compact, &partial) : 0;
			failures += rc && !partial;
			pulls += rc && partial;
		}
		/* what the round wrote itself, under the writer lock: only
		 * what another command writes after it wakes the loop early */
		hlx_runlock_stamp(cli->home, &seen);
		hlx_peers_free(ps);
		close_compacted(n, compact);
		/* Rounds start an interval apart, less up to 20% jitter (so
		 * that nodes do not poll in step), never more: a change is
		 * seen at most an interval after it was published.  After a
		 * failure the interval doubles, up to an hour. */
		backoff = failures ? (backoff < 6 ? backoff + 1 : 6) : 0;
		wait_ms = r.interval * 1000L << backoff;
		if (wait_ms > 3600000L)
			wait_ms = 3600000L;
		wait_ms -= (long)(randombytes_uniform((uint32_t)(wait_ms / 5 + 1)));
		wait_ms -= mono_ms() - start;
		if (wait_ms < 0)
			wait_ms = 0;
		if (failures || pulls)
			say(LOG_NEWS, "round had %d failure(s); next in %ld ms",
			    failures + pulls, wait_ms);
		nap(wait_ms, cli->home, &seen, watch);
		if (hup && !stop) {
			struct run_conf nr;

			/* a bad file keeps what is in use; the next round
			 * starts at once, under what was read */
			hup = 0;
			rc = run_conf(cli, a, &nr);
			if (rc) {
				fail(rc, "SIGHUP: cannot re-read the settings (keeping those in use)");
			} else {
				r = nr;
				backoff = 0;
				bo.base = r.interval;
				say_conf("SIGHUP: settings re-read", a, &r);
			}
		}
	}
	say(LOG_NEWS, "stopping on signal");
out:
	hlx_sync_backoff_free(&bo);
	if (lockfd >= 0)
		close(lockfd);
	if (watch >= 0)
		close(watch);
	if (kept.have)
		hlx_buf_free(&kept.pass);
	memset(&kept, 0, sizeof(kept));
	return ret;
}
