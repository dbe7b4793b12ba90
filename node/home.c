/* SPDX-License-Identifier: MIT */
#include "node/home.h"
#include "node/files.h"
#include "keys/keyfile.h"
#include "keys/sshkey.h"
#include "protocol/err.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FORMAT "hlx-home-1"
#define CONFIG_MAX 65536

struct hlx_home {
	char *dir;
	char org[HLX_ORG_MAX + 1];
	struct hlx_pubkey pinned;
	struct hlx_trust *trust;
	int lockfd; /* the node's writer lock, when held (else -1) */
};

/* ---- the layout of a home (spec/home.md) -------------------------------- */

/* Each entry: its format under the home (one %s per name it takes, in
 * the order a, b), its place as the spec writes it (a directory ends in
 * '/'), and its mode. */
static const struct home_entry {
	const char *fmt, *shown;
	unsigned mode;
} entries[HLX_HOME_NENTRIES] = {
	[HLX_HOME_CONFIG]          = { "config.json", "config.json", 0600 },
	[HLX_HOME_SETTINGS]        = { "hlx.conf", "hlx.conf", 0600 },
	[HLX_HOME_TRUST]           = { "trust.json", "trust.json", 0600 },
	[HLX_HOME_LOCK]            = { "lock", "lock", 0600 },
	[HLX_HOME_RUN_PID]         = { "run.pid", "run.pid", 0600 },
	[HLX_HOME_REMOVE_INTENT]   = { "remove.intent", "remove.intent", 0600 },
	[HLX_HOME_KEYS]            = { "keys", "keys/", 0700 },
	[HLX_HOME_ROOT_KEY]        = { "keys/root.key", "keys/root.key", 0600 },
	[HLX_HOME_SIGNING_KEY]     = { "keys/signing.key", "keys/signing.key", 0600 },
	[HLX_HOME_ROOT_KEY_NEW]    = { "keys/root.key.new", "keys/root.key.new", 0600 },
	[HLX_HOME_SIGNING_KEY_NEW] = { "keys/signing.key.new", "keys/signing.key.new", 0600 },
	[HLX_HOME_BOX_KEY]         = { "keys/box.key", "keys/box.key", 0600 },
	[HLX_HOME_FEED_SECRET]     = { "keys/feed.secret", "keys/feed.secret", 0600 },
	[HLX_HOME_STATE]           = { "state", "state/", 0700 },
	[HLX_HOME_LISTS]           = { "lists", "lists/", 0700 },
	[HLX_HOME_LIST_REPO]       = { "lists/%s.git", "lists/NAME.git", 0755 },
	[HLX_HOME_PEER_LISTS]      = { "lists/%s", "lists/PEER/", 0755 },
	[HLX_HOME_MIRROR_REPO]     = { "lists/%s/%s.git", "lists/PEER/LIST.git", 0755 },
	[HLX_HOME_PEERS_FILE]      = { "peers.json", "peers.json", 0600 },
	[HLX_HOME_PEERS]           = { "peers", "peers/", 0700 },
	[HLX_HOME_PEER]            = { "peers/%s", "peers/PEER/", 0755 },
	[HLX_HOME_PEER_TRUST]      = { "peers/%s/trust.json", "peers/PEER/trust.json", 0644 },
	[HLX_HOME_PEER_SYNC]       = { "peers/%s/%s.sync", "peers/PEER/LIST.sync", 0644 },
	[HLX_HOME_PEER_RULES]      = { "peers/%s/%s.rules", "peers/PEER/LIST.rules", 0644 },
	[HLX_HOME_PEER_REBASE]     = { "peers/%s/%s.rebase", "peers/PEER/LIST.rebase", 0644 },
	[HLX_HOME_POLICIES]        = { "policies", "policies/", 0700 },
	[HLX_HOME_POLICY]          = { "policies/%s.json", "policies/NAME.json", 0600 },
	[HLX_HOME_HOLD_TAGS]       = { "policies/hold-tags", "policies/hold-tags", 0600 },
	[HLX_HOME_VIEWS]           = { "views", "views/", 0700 },
	[HLX_HOME_VIEW_OPEN]       = { "views/" HLX_VIEW_OPEN, "views/" HLX_VIEW_OPEN "/", 0700 },
	[HLX_HOME_VIEW]            = { "views/%s", "views/ID/", 0700 },
	[HLX_HOME_VIEW_REPO]       = { "views/%s/%s.git", "views/ID/LIST.git", 0755 },
	[HLX_HOME_VIEW_SRC]        = { "views/%s/%s.src", "views/ID/LIST.src", 0600 },
	[HLX_HOME_VIEW_HEAD]       = { "views/%s/%s.head", "views/ID/LIST.head", 0600 },
	[HLX_HOME_VIEW_CHECKPOINT] = { "views/%s/%s.checkpoint", "views/ID/LIST.checkpoint", 0600 },
	[HLX_HOME_VIEW_MEMBERS]    = { "views/%s/members", "views/ID/members", 0600 },
	[HLX_HOME_VIEW_TRUST]      = { "views/%s/trust.json", "views/ID/trust.json", 0600 },
	[HLX_HOME_VIEW_SEED]       = { "views/%s/seed.pack", "views/ID/seed.pack", 0600 },
	[HLX_HOME_VIEW_PLAIN]      = { "views/%s/plain.pack", "views/ID/plain.pack", 0600 },
	[HLX_HOME_STAGING]         = { "staging", "staging/", 0700 },
	[HLX_HOME_STAGING_REPO]    = { "staging/%s", "staging/NAME/", 0755 },
	[HLX_HOME_MATCH]           = { "match", "match/", 0700 },
	[HLX_HOME_MATCH_CONFIG]    = { "match/config.json", "match/config.json", 0600 },
	[HLX_HOME_MATCH_BASE]      = { "match/pdq.base", "match/pdq.base", 0600 },
	[HLX_HOME_MATCH_DELTA]     = { "match/pdq.delta", "match/pdq.delta", 0600 },
	[HLX_HOME_MATCH_TABLES]    = { "match/pdq.tables", "match/pdq.tables", 0600 },
	[HLX_HOME_URLS]            = { "urls", "urls/", 0700 },
	[HLX_HOME_URL]             = { "urls/%s", "urls/HEX", 0600 },
	[HLX_HOME_AUDIT]           = { "audit.log", "audit.log", 0600 },
	[HLX_HOME_CASES_SENT]      = { "cases-sent", "cases-sent", 0600 },
	[HLX_HOME_PLANS]           = { "plans", "plans/", 0700 },
	[HLX_HOME_PLAN_DIR]        = { "plans/%s", "plans/NAME/", 0755 },
	[HLX_HOME_PLAN]            = { "plans/%s/%s.json", "plans/NAME/HEX.json", 0644 },
	[HLX_HOME_PEER_PLANS]      = { "peers/%s/plans.sync", "peers/PEER/plans.sync", 0644 },
	[HLX_HOME_PEER_PLANS_ERROR] = { "peers/%s/plans.error", "peers/PEER/plans.error", 0644 },
	[HLX_HOME_VIEW_PLANS]      = { "views/%s/plans-head", "views/ID/plans-head", 0600 },
	[HLX_HOME_PLANS_SEQ]       = { "plans-seq", "plans-seq", 0600 },
	[HLX_HOME_PUBLISH]         = { HLX_HOME_PUBLIC, HLX_HOME_PUBLIC "/", 0755 },
};

static int bad_name(const char *s)
{
	return !s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strchr(s, '/');
}

int hlx_home_path(char out[PATH_MAX], const char *home,
		  enum hlx_home_entry e, const char *a, const char *b)
{
	const char *f;
	size_t want = 0;
	int n;

	if ((unsigned)e >= HLX_HOME_NENTRIES || !home)
		return hlx_err(HLX_EINVAL, "no such entry of a home");
	f = entries[e].fmt;
	for (const char *q = f; (q = strstr(q, "%s")); q += 2)
		want++;
	if ((want > 0 && bad_name(a)) || (want > 1 && bad_name(b)))
		return hlx_err(HLX_EINVAL, "'%.64s' cannot name %s in a home",
			       want > 0 && bad_name(a) ? (a ? a : "") : b ? b : "",
			       entries[e].shown);
	if ((want < 1 && a) || (want < 2 && b))
		return hlx_err(HLX_EINVAL, "%s takes no such name", entries[e].shown);
	/* the formats are the table's own; a and b fill what they ask for */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = snprintf(out, PATH_MAX, "%s/", home);
	if (n >= 0 && n < PATH_MAX)
		n += snprintf(out + n, PATH_MAX - (size_t)n, f, a, b);
#pragma GCC diagnostic pop
	if (n < 0 || n >= PATH_MAX)
		return hlx_err(HLX_ETOOBIG, "path too long: '%.60s/%s'", home,
			       entries[e].shown);
	return HLX_OK;
}

const char *hlx_home_entry_name(enum hlx_home_entry e)
{
	return (unsigned)e < HLX_HOME_NENTRIES ? entries[e].shown : "";
}

unsigned hlx_home_mode(enum hlx_home_entry e)
{
	return (unsigned)e < HLX_HOME_NENTRIES ? entries[e].mode : 0;
}

int hlx_home_entry_is_dir(enum hlx_home_entry e)
{
	const char *s = hlx_home_entry_name(e);

	return *s && s[strlen(s) - 1] == '/';
}

static int path(char out[PATH_MAX], const char *dir, enum hlx_home_entry e)
{
	return hlx_home_path(out, dir, e, NULL, NULL);
}

static int save_trust(const char *dir, const struct hlx_trust *t)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc = path(p, dir, HLX_HOME_TRUST);

	if (!rc)
		rc = hlx_trust_serialize(t, &b);
	if (!rc)
		rc = hlx_file_write(p, b.data, b.len, 0644);
	hlx_buf_free(&b);
	return rc;
}

/* Ask for a passphrase unless the key is stored unencrypted. */
static int key_pass(const char *file, const char *what, hlx_pass_fn getpass,
		    void *ctx, struct hlx_buf *pass, int *encrypted)
{
	struct hlx_keyfile_info info;
	int rc = hlx_keyfile_read_info(file, &info);

	if (rc)
		return rc;
	*encrypted = info.encrypted;
	if (!info.encrypted)
		return HLX_OK;
	return getpass(ctx, what, 0, pass);
}

static int load_key(const char *dir, enum hlx_home_entry name, const char *what,
		    hlx_pass_fn getpass, void *ctx, struct hlx_buf *pass,
		    int *encrypted, struct hlx_seckey **out)
{
	char p[PATH_MAX];
	int rc = path(p, dir, name);

	if (!rc)
		rc = key_pass(p, what, getpass, ctx, pass, encrypted);
	if (!rc)
		rc = hlx_keyfile_read(p, *encrypted ? (const char *)pass->data : NULL,
				      pass->len, out);
	return rc;
}

static int write_key(const char *dir, enum hlx_home_entry name,
		     const struct hlx_seckey *k, const struct hlx_buf *pass,
		     int encrypted)
{
	char p[PATH_MAX];
	int rc = path(p, dir, name);

	if (!rc)
		rc = hlx_keyfile_write(p, k, encrypted ? (const char *)pass->data : NULL,
				       encrypted ? pass->len : 0);
	return rc;
}

static int rename_in(const char *dir, enum hlx_home_entry from,
		     enum hlx_home_entry to)
{
	char a[PATH_MAX], b[PATH_MAX];
	int rc = path(a, dir, from);

	if (!rc)
		rc = path(b, dir, to);
	if (!rc && rename(a, b) != 0)
		rc = hlx_err(HLX_EIO, "cannot rename '%s' to '%s': %s", a, b,
			     strerror(errno));
	return rc;
}

/* Is name a top-level entry of the table but publish/ (or a temporary
 * file of one, node/files.h)?  What make_private may chmod: anything
 * else there (a home made in a directory that held files) is not hlx's
 * to change. */
static int home_entry(const char *name)
{
	for (size_t i = 0; i < HLX_HOME_NENTRIES; i++) {
		const char *f = entries[i].fmt;
		size_t n = strlen(f);

		if (i == HLX_HOME_PUBLISH || strchr(f, '/'))
			continue;
		if (!strncmp(name, f, n) &&
		    (name[n] == '\0' || (name[n] == '.' && hlx_file_is_temp(name))))
			return 1;
	}
	return 0;
}

/* hlx_home_private; quiet: keep the error detail as it is (a failure is
 * only returned, HLX_EIO) */
static int make_private(const char *dir, int quiet)
{
	struct dirent *e;
	struct stat st;
	DIR *d = NULL;
	int dfd, fd, rc = HLX_OK;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) != 0) {
		rc = quiet ? HLX_EIO :
		     hlx_err(HLX_EIO, "cannot open '%s': %s", dir, strerror(errno));
		goto out;
	}
	/* a home someone else owns is theirs to set */
	if ((st.st_mode & 07777) != 0711 && st.st_uid == geteuid() &&
	    fchmod(dfd, 0711) != 0) {
		rc = quiet ? HLX_EIO :
		     hlx_err(HLX_EIO, "cannot chmod '%s': %s", dir, strerror(errno));
		goto out;
	}
	fd = dup(dfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		rc = quiet ? HLX_EIO :
		     hlx_err(HLX_EIO, "cannot list '%s': %s", dir, strerror(errno));
		goto out;
	}
	while (!rc && (e = readdir(d)) != NULL) {
		mode_t m;

		if (!home_entry(e->d_name))
			continue;
		fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			    O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			continue; /* a link (never followed), or gone */
		if (fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
		    (st.st_mode & 077)) {
			m = S_ISDIR(st.st_mode) ? 0700 : st.st_mode & 0700;
			if (fchmod(fd, m) != 0)
				rc = quiet ? HLX_EIO :
				     hlx_err(HLX_EIO, "cannot chmod '%s/%s': %s",
					     dir, e->d_name, strerror(errno));
		}
		close(fd);
	}
out:
	if (d)
		closedir(d);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int hlx_home_private(const char *dir)
{
	return make_private(dir, 0);
}

/* The node's writer lock: an flock on HOME/lock, held by every command
 * that changes the node from before it reads what it changes until it
 * is done (hlx_node_open, init, the key commands).  Returns the
 * descriptor in *fd; HLX_ESTATE (no message) when !wait and it is held. */
static int lock_dir(const char *dir, int wait, int *fd)
{
	char p[PATH_MAX];
	int rc = path(p, dir, HLX_HOME_LOCK);

	*fd = -1;
	if (rc)
		return rc;
	*fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return hlx_err(HLX_EIO, "cannot lock '%s': %s", p, strerror(errno));
	while (flock(*fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		rc = errno == EWOULDBLOCK && !wait ? HLX_ESTATE :
		     hlx_err(HLX_EIO, "cannot lock '%s': %s", p, strerror(errno));
		close(*fd);
		*fd = -1;
		return rc;
	}
	/* what the last writer made is private before this one reads */
	rc = hlx_home_private(dir);
	if (rc) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

int hlx_home_create(const char *dir, const char *org, int no_passphrase,
		    hlx_pass_fn getpass, void *ctx, int64_t now,
		    unsigned valid_days)
{
	struct hlx_seckey *root = NULL, *sign = NULL, *box = NULL;
	struct hlx_trust *t = NULL;
	struct hlx_buf pass, cfg = HLX_BUF_INIT, kb = HLX_BUF_INIT;
	struct hlx_pubkey rpub, spub;
	char p[PATH_MAX], what[128];
	struct stat st;
	json_t *o = NULL;
	char *js = NULL;
	int rc, lockfd = -1;

	hlx_buf_init_secure(&pass);
	rc = hlx_org_validate(org);
	if (rc)
		goto out;
	if (valid_days == 0 || valid_days > 36500) {
		rc = hlx_err(HLX_EINVAL, "validity of %u days (1 to 36500)",
			     valid_days);
		goto out;
	}
	rc = path(p, dir, HLX_HOME_CONFIG);
	if (rc)
		goto out;
	if (stat(p, &st) == 0) {
		rc = hlx_err(HLX_EEXIST, "'%s' is already a node home", dir);
		goto out;
	}
	if (!no_passphrase) {
		snprintf(what, sizeof(what), "the keys of '%s'", org);
		rc = getpass(ctx, what, 1, &pass);
		if (rc)
			goto out;
	}
	rc = hlx_file_mkdirs(dir, 0700);
	/* two inits of one home at once: one makes it, the other is told */
	if (!rc)
		rc = lock_dir(dir, 1, &lockfd);
	if (!rc)
		rc = path(p, dir, HLX_HOME_CONFIG);
	if (!rc && stat(p, &st) == 0)
		rc = hlx_err(HLX_EEXIST, "'%s' is already a node home", dir);
	if (!rc)
		rc = path(p, dir, HLX_HOME_KEYS);
	if (!rc)
		rc = hlx_file_mkdirs(p, hlx_home_mode(HLX_HOME_KEYS));
	if (!rc)
		rc = hlx_dir_chmod(p, 0700);
	if (!rc)
		rc = hlx_seckey_generate(&root);
	if (!rc)
		rc = hlx_seckey_generate(&sign);
	if (!rc)
		rc = hlx_seckey_generate(&box);
	if (rc)
		goto out;
	hlx_seckey_public(root, &rpub);
	hlx_seckey_public(sign, &spub);
	rc = hlx_trust_create(org, root, now, &t);
	if (!rc)
		rc = hlx_trust_delegate(t, root, &spub, now,
					now + (int64_t)valid_days * 86400, now);
	if (!rc)
		rc = write_key(dir, HLX_HOME_ROOT_KEY, root, &pass, !no_passphrase);
	if (!rc)
		rc = write_key(dir, HLX_HOME_SIGNING_KEY, sign, &pass, !no_passphrase);
	if (!rc)
		rc = write_key(dir, HLX_HOME_BOX_KEY, box, &pass, !no_passphrase);
	if (!rc)
		rc = save_trust(dir, t);
	if (!rc)
		rc = hlx_sshkey_format(&rpub, NULL, &kb);
	if (rc)
		goto out;
	/* The config is written last: its presence marks a finished init. */
	o = json_pack("{s:s, s:s, s:s%}", "format", CONFIG_FORMAT, "org", org,
		      "root", (const char *)kb.data, kb.len);
	js = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (!js) {
		rc = hlx_err(HLX_ENOMEM, "cannot encode the configuration");
		goto out;
	}
	rc = hlx_buf_puts(&cfg, js);
	if (!rc)
		rc = hlx_buf_putc(&cfg, '\n');
	if (!rc)
		rc = path(p, dir, HLX_HOME_CONFIG);
	if (!rc)
		rc = hlx_file_write(p, cfg.data, cfg.len, 0644);
	if (!rc)
		rc = hlx_home_private(dir);
out:
	if (lockfd >= 0)
		close(lockfd);
	free(js);
	json_decref(o);
	hlx_trust_free(t);
	hlx_seckey_free(root);
	hlx_seckey_free(sign);
	hlx_seckey_free(box);
	hlx_buf_free(&pass);
	hlx_buf_free(&cfg);
	hlx_buf_free(&kb);
	return rc;
}


static int load_config(struct hlx_home *h)
{
	struct hlx_buf b = HLX_BUF_INIT;
	json_error_t jerr;
	json_t *o = NULL;
	const char *fmt = NULL, *org = NULL, *root = NULL;
	char p[PATH_MAX];
	int rc = path(p, h->dir, HLX_HOME_CONFIG);

	if (!rc)
		rc = hlx_file_read(p, CONFIG_MAX, &b);
	if (rc == HLX_ENOENT) {
		rc = hlx_err(HLX_ENOENT,
			     "'%s' is not a node home (run 'hlx init --org NAME')",
			     h->dir);
		goto out;
	}
	if (rc)
		goto out;
	o = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || json_unpack(o, "{s:s, s:s, s:s}", "format", &fmt, "org", &org,
			      "root", &root) != 0 ||
	    strcmp(fmt, CONFIG_FORMAT) != 0) {
		rc = hlx_err(HLX_EINVAL, "'%s': not an hlx configuration%s%s", p,
			     o ? "" : ": ", o ? "" : jerr.text);
		goto out;
	}
	rc = hlx_org_validate(org);
	if (!rc)
		rc = hlx_sshkey_parse(root, strlen(root), &h->pinned, NULL);
	if (rc) {
		rc = hlx_err_wrap(rc, "'%s'", p);
		goto out;
	}
	snprintf(h->org, sizeof(h->org), "%s", org);
out:
	json_decref(o);
	hlx_buf_free(&b);
	return rc;
}

/* (Re)read trust.json; h->trust is replaced only by a chain that loads. */
static int load_trust(struct hlx_home *h)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_trust *t = NULL;
	char p[PATH_MAX];
	int rc = path(p, h->dir, HLX_HOME_TRUST);

	if (!rc)
		rc = hlx_file_read(p, HLX_TRUST_MAX, &b);
	if (!rc)
		rc = hlx_trust_load((const char *)b.data, b.len, &h->pinned, &t);
	if (rc)
		rc = hlx_err_wrap(rc, "'%s'", p);
	else if (strcmp(hlx_trust_org(t), h->org) != 0)
		rc = hlx_err(HLX_EINVAL, "'%s' is the chain of '%s', not '%s'", p,
			     hlx_trust_org(t), h->org);
	if (!rc) {
		hlx_trust_free(h->trust);
		h->trust = t;
		t = NULL;
	}
	hlx_trust_free(t);
	hlx_buf_free(&b);
	return rc;
}

/* Finish or drop a key replacement that a crash interrupted. */
static int recover(struct hlx_home *h, enum hlx_home_entry name,
		   enum hlx_home_entry newname, int is_root)
{
	char pn[PATH_MAX];
	struct hlx_keyfile_info info;
	const struct hlx_trust_key *k;
	int rc, adopt = 0;

	rc = path(pn, h->dir, newname);
	if (rc || access(pn, F_OK) != 0)
		return rc;
	if (hlx_keyfile_read_info(pn, &info) == HLX_OK) {
		if (is_root) {
			adopt = hlx_pubkey_eq(&info.pub, hlx_trust_root(h->trust));
		} else {
			for (size_t i = 0; i < hlx_trust_nkeys(h->trust); i++) {
				k = hlx_trust_key(h->trust, i);
				if (hlx_pubkey_eq(&k->key, &info.pub) && !k->revoked)
					adopt = 1;
			}
		}
	}
	if (adopt)
		return rename_in(h->dir, newname, name);
	if (unlink(pn) != 0)
		return hlx_err(HLX_EIO, "cannot remove '%s': %s", pn,
			       strerror(errno));
	return HLX_OK;
}

static int take_lock(struct hlx_home *h, int wait)
{
	return lock_dir(h->dir, wait, &h->lockfd);
}

static void drop_lock(struct hlx_home *h)
{
	if (h->lockfd >= 0) {
		/* and what this writer made, before the next reader */
		(void)make_private(h->dir, 1);
		close(h->lockfd); /* releases the lock */
	}
	h->lockfd = -1;
}

/* Under the lock: the chain as it is now, and any key replacement a
 * crash interrupted finished or dropped. */
static int reload(struct hlx_home *h)
{
	int rc = load_trust(h);

	if (!rc)
		rc = recover(h, HLX_HOME_ROOT_KEY, HLX_HOME_ROOT_KEY_NEW, 1);
	if (!rc)
		rc = recover(h, HLX_HOME_SIGNING_KEY, HLX_HOME_SIGNING_KEY_NEW, 0);
	return rc;
}

static int pending(const struct hlx_home *h)
{
	char p[PATH_MAX];

	return (path(p, h->dir, HLX_HOME_ROOT_KEY_NEW) == HLX_OK &&
		access(p, F_OK) == 0) ||
	       (path(p, h->dir, HLX_HOME_SIGNING_KEY_NEW) == HLX_OK &&
		access(p, F_OK) == 0);
}

int hlx_home_open_ex(const char *dir, int lock, struct hlx_home **out)
{
	struct hlx_home *h;
	int rc;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h || !(h->dir = strdup(dir))) {
		free(h);
		return hlx_err(HLX_ENOMEM, "out of memory");
	}
	h->lockfd = -1;
	/* config.json never changes after init, and tells a home from any
	 * other directory before a lock file is made in it */
	rc = load_config(h);
	if (!rc && lock)
		rc = take_lock(h, 1);
	if (!rc)
		rc = load_trust(h);
	if (!rc && pending(h)) {
		/* A key replacement is under way or was interrupted: only
		 * the lock's holder may finish or drop it.  A reader that
		 * cannot have the lock at once leaves it to its holder. */
		if (lock) {
			rc = reload(h);
		} else if ((rc = take_lock(h, 0)) == HLX_OK) {
			rc = reload(h);
			drop_lock(h);
		} else if (rc == HLX_ESTATE) {
			rc = HLX_OK;
		}
	}
	if (rc) {
		hlx_home_free(h);
		return rc;
	}
	*out = h;
	return HLX_OK;
}

int hlx_home_open(const char *dir, struct hlx_home **out)
{
	return hlx_home_open_ex(dir, 0, out);
}

int hlx_home_lock(struct hlx_home *h)
{
	int rc;

	if (h->lockfd >= 0)
		return HLX_OK;
	rc = take_lock(h, 1);
	if (!rc)
		rc = reload(h);
	if (rc)
		drop_lock(h);
	return rc;
}

int hlx_home_locked(const struct hlx_home *h)
{
	return h->lockfd >= 0;
}

int hlx_home_trylock_fd(const struct hlx_home *h, int *fd)
{
	*fd = -1;
	if (h->lockfd >= 0)
		return HLX_OK;
	return lock_dir(h->dir, 0, fd);
}

void hlx_home_unlock_fd(const struct hlx_home *h, int fd)
{
	if (fd < 0)
		return;
	/* and what this writer made, before the next reader */
	(void)make_private(h->dir, 1);
	close(fd);
}

void hlx_home_free(struct hlx_home *h)
{
	if (!h)
		return;
	hlx_trust_free(h->trust);
	drop_lock(h);
	free(h->dir);
	free(h);
}

const char *hlx_home_dir(const struct hlx_home *h)
{
	return h->dir;
}

const char *hlx_home_org(const struct hlx_home *h)
{
	return h->org;
}

const struct hlx_trust *hlx_home_trust(const struct hlx_home *h)
{
	return h->trust;
}

const struct hlx_pubkey *hlx_home_pinned_root(const struct hlx_home *h)
{
	return &h->pinned;
}

static int key_pub(const struct hlx_home *h, enum hlx_home_entry name,
		   struct hlx_pubkey *pub)
{
	struct hlx_keyfile_info info;
	char p[PATH_MAX];
	int rc = path(p, h->dir, name);

	if (!rc)
		rc = hlx_keyfile_read_info(p, &info);
	if (!rc)
		*pub = info.pub;
	return rc;
}

int hlx_home_signing_pub(const struct hlx_home *h, struct hlx_pubkey *pub)
{
	return key_pub(h, HLX_HOME_SIGNING_KEY, pub);
}

int hlx_home_root_pub(const struct hlx_home *h, struct hlx_pubkey *pub)
{
	int rc = key_pub(h, HLX_HOME_ROOT_KEY, pub);

	if (!rc && !hlx_pubkey_eq(pub, hlx_trust_root(h->trust)))
		rc = hlx_err(HLX_ESTATE,
			     "keys/root.key of '%s' is not the root of its trust chain",
			     h->dir);
	return rc;
}

int hlx_home_signing_key(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
			 int64_t now, struct hlx_seckey **out)
{
	struct hlx_pubkey pub;
	struct hlx_buf pass;
	char what[128];
	int rc, enc;

	*out = NULL;
	rc = hlx_home_signing_pub(h, &pub);
	if (!rc)
		rc = hlx_trust_check(h->trust, &pub, now);
	if (rc)
		return hlx_err_wrap(rc, "cannot sign (run 'hlx key rotate' for a new signing key)");
	hlx_buf_init_secure(&pass);
	snprintf(what, sizeof(what), "the signing key of '%s'", h->org);
	rc = load_key(h->dir, HLX_HOME_SIGNING_KEY, what, getpass, ctx, &pass,
		      &enc, out);
	hlx_buf_free(&pass);
	return rc;
}

int hlx_home_box_pub(struct hlx_home *h, struct hlx_boxpub *out)
{
	struct hlx_pubkey pub;
	char p[PATH_MAX];
	int rc = path(p, h->dir, HLX_HOME_BOX_KEY);

	if (!rc && access(p, F_OK) != 0 && errno == ENOENT)
		return hlx_err(HLX_ENOENT, "no box key: run 'hlx key box'");
	if (!rc)
		rc = key_pub(h, HLX_HOME_BOX_KEY, &pub);
	if (!rc)
		rc = hlx_boxpub_from_pubkey(&pub, out);
	return rc;
}

int hlx_home_box_key(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
		     struct hlx_boxkey **out)
{
	struct hlx_boxpub bp;
	struct hlx_seckey *k = NULL;
	struct hlx_buf pass;
	char what[128];
	int rc, enc;

	*out = NULL;
	rc = hlx_home_box_pub(h, &bp);
	if (rc)
		return rc;
	hlx_buf_init_secure(&pass);
	snprintf(what, sizeof(what), "the box key of '%s'", h->org);
	rc = load_key(h->dir, HLX_HOME_BOX_KEY, what, getpass, ctx, &pass, &enc, &k);
	if (!rc)
		rc = hlx_boxkey_from_seckey(k, out);
	hlx_seckey_free(k);
	hlx_buf_free(&pass);
	return rc;
}

int hlx_home_box_create(struct hlx_home *h, hlx_pass_fn getpass, void *ctx)
{
	struct hlx_seckey *sign = NULL, *box = NULL;
	struct hlx_buf pass;
	char p[PATH_MAX], what[128];
	int rc, enc = 0;

	rc = path(p, h->dir, HLX_HOME_BOX_KEY);
	if (rc)
		return rc;
	if (access(p, F_OK) == 0 || errno != ENOENT)
		return hlx_err(HLX_EEXIST, "'%s' already has a box key", h->dir);
	hlx_buf_init_secure(&pass);
	/* the same passphrase as the other keys: prove it opens one */
	snprintf(what, sizeof(what), "the keys of '%s'", h->org);
	rc = load_key(h->dir, HLX_HOME_SIGNING_KEY, what, getpass, ctx, &pass,
		      &enc, &sign);
	/* then the lock, and the check again under it: two at once make
	 * one box key, not one each with the second replacing the first */
	if (!rc)
		rc = hlx_home_lock(h);
	if (!rc && (access(p, F_OK) == 0 || errno != ENOENT))
		rc = hlx_err(HLX_EEXIST, "'%s' already has a box key", h->dir);
	if (!rc)
		rc = hlx_seckey_generate(&box);
	if (!rc)
		rc = write_key(h->dir, HLX_HOME_BOX_KEY, box, &pass, enc);
	hlx_seckey_free(sign);
	hlx_seckey_free(box);
	hlx_buf_free(&pass);
	return rc;
}

/* After the passphrase was asked for (never while holding the lock, so
 * a prompt left open blocks nobody): take the node's writer lock, read
 * the chain again under it, and check that the root key loaded is still
 * its root.  What the caller changes is then the chain as it is now, not
 * as it was when the home was opened: no concurrent change is lost. */
static int lock_for_root(struct hlx_home *h, const struct hlx_seckey *root)
{
	struct hlx_pubkey pub;
	int rc = hlx_home_lock(h);

	if (rc)
		return rc;
	hlx_seckey_public(root, &pub);
	if (!hlx_pubkey_eq(&pub, hlx_trust_root(h->trust)))
		return hlx_err(HLX_ESTATE,
			       "the root key of '%s' was replaced while its passphrase was asked for: run the command again",
			       h->org);
	return HLX_OK;
}

/* Load the root key (asking for its passphrase), then take the lock
 * and check the key is still the root (lock_for_root). */
static int with_root(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
		     struct hlx_buf *pass, int *enc, struct hlx_seckey **root)
{
	struct hlx_pubkey pub;
	char what[128];
	int rc = hlx_home_root_pub(h, &pub);

	if (rc)
		return rc;
	snprintf(what, sizeof(what), "the root key of '%s'", h->org);
	rc = load_key(h->dir, HLX_HOME_ROOT_KEY, what, getpass, ctx, pass, enc,
		      root);
	return rc ? rc : lock_for_root(h, *root);
}

int hlx_home_rotate_signing(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
			    int64_t now, unsigned valid_days)
{
	struct hlx_seckey *root = NULL, *sign = NULL;
	struct hlx_pubkey spub;
	struct hlx_buf pass;
	int rc, enc = 0;

	if (valid_days == 0 || valid_days > 36500)
		return hlx_err(HLX_EINVAL, "validity of %u days (1 to 36500)",
			       valid_days);
	hlx_buf_init_secure(&pass);
	rc = with_root(h, getpass, ctx, &pass, &enc, &root);
	if (!rc)
		rc = hlx_seckey_generate(&sign);
	if (rc)
		goto out;
	hlx_seckey_public(sign, &spub);
	/* new key file, then the chain that delegates it, then the rename */
	rc = write_key(h->dir, HLX_HOME_SIGNING_KEY_NEW, sign, &pass, enc);
	if (!rc)
		rc = hlx_trust_delegate(h->trust, root, &spub, now,
					now + (int64_t)valid_days * 86400, now);
	if (!rc)
		rc = save_trust(h->dir, h->trust);
	if (!rc)
		rc = rename_in(h->dir, HLX_HOME_SIGNING_KEY_NEW, HLX_HOME_SIGNING_KEY);
out:
	hlx_seckey_free(root);
	hlx_seckey_free(sign);
	hlx_buf_free(&pass);
	return rc;
}

int hlx_home_rotate_root(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
			 int64_t now)
{
	struct hlx_seckey *root = NULL, *nroot = NULL;
	struct hlx_buf pass;
	int rc, enc = 0;

	hlx_buf_init_secure(&pass);
	rc = with_root(h, getpass, ctx, &pass, &enc, &root);
	if (!rc)
		rc = hlx_seckey_generate(&nroot);
	if (!rc)
		rc = write_key(h->dir, HLX_HOME_ROOT_KEY_NEW, nroot, &pass, enc);
	if (!rc)
		rc = hlx_trust_rotate_root(h->trust, root, nroot, now);
	if (!rc)
		rc = save_trust(h->dir, h->trust);
	if (!rc)
		rc = rename_in(h->dir, HLX_HOME_ROOT_KEY_NEW, HLX_HOME_ROOT_KEY);
	hlx_seckey_free(root);
	hlx_seckey_free(nroot);
	hlx_buf_free(&pass);
	return rc;
}

int hlx_home_revoke(struct hlx_home *h, const struct hlx_pubkey *key,
		    int64_t since, hlx_pass_fn getpass, void *ctx, int64_t now)
{
	struct hlx_seckey *root = NULL;
	struct hlx_buf pass;
	int rc, enc = 0;

	hlx_buf_init_secure(&pass);
	rc = with_root(h, getpass, ctx, &pass, &enc, &root);
	if (!rc)
		rc = hlx_trust_revoke(h->trust, root, key, since, now);
	if (!rc)
		rc = save_trust(h->dir, h->trust);
	hlx_seckey_free(root);
	hlx_buf_free(&pass);
	return rc;
}

int hlx_node_secret(const char *home, int create, uint8_t **out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	uint8_t *k;
	int rc = hlx_home_path(path, home, HLX_HOME_FEED_SECRET, NULL, NULL);

	*out = NULL;
	if (rc)
		return rc;
	k = sodium_malloc(32);
	if (!k)
		return hlx_err(HLX_ENOMEM, "out of memory");
	hlx_buf_init_secure(&b);
	rc = hlx_secret_file_read(path, 64, &b);
	if (rc == HLX_ENOENT && create) {
		randombytes_buf(k, 32);
		rc = hlx_secret_file_write(path, k, 32);
	} else if (!rc && b.len != 32) {
		rc = hlx_err(HLX_EINVAL, "'%s': not 32 bytes", path);
	} else if (!rc) {
		memcpy(k, b.data, 32);
	}
	hlx_buf_free(&b);
	if (rc)
		hlx_node_secret_free(k);
	else
		*out = k;
	return rc;
}

void hlx_node_secret_free(uint8_t *s)
{
	if (!s)
		return;
	sodium_memzero(s, 32);
	sodium_free(s);
}
