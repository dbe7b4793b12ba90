/* SPDX-License-Identifier: MIT */
/*
 * The node home: the directory that holds one organisation's identity,
 * its lists, peers and state.  Every path of it is built by
 * hlx_home_path() below (the list: enum hlx_home_entry, spec/home.md).
 *
 *   config.json      organisation name and the pinned first root key
 *   trust.json       the signed trust chain (keys/trust.h), public
 *   keys/root.key    root secret key (0600; keys/ is 0700)
 *   keys/signing.key online signing secret key
 *   keys/box.key     key used only for encryption (keys/seal.h): feeds
 *                    sealed to this node and its own sealed files
 *
 * A key replacement writes "X.key.new" first, then the trust chain, then
 * renames; hlx_home_open() finishes or drops a replacement a crash
 * interrupted, so the keys and the chain always agree.
 */
#ifndef HLX_HOME_H
#define HLX_HOME_H

#include <limits.h>
#include <stdint.h>

#include "keys/key.h"
#include "keys/seal.h"
#include "keys/trust.h"
#include "protocol/buf.h"

struct hlx_home;

/*
 * The home is 0711: others may pass through it to its publish directory
 * (publish/, world-readable, served by a web server running as its own
 * user) and to nothing else: every other entry at its top level is made
 * private (directories 0700, files without group and other bits) by
 * hlx_home_private(), which every writer runs when it takes the writer
 * lock and again when it lets it go.  Entries someone else owns, and
 * symbolic links, are left as they are.
 */
#define HLX_HOME_PUBLIC "publish"
/* The ID of the open feed's views, views/open/ (others: hex digests). */
#define HLX_VIEW_OPEN "open"
int hlx_home_private(const char *dir);

/*
 * Every file and directory of a home (spec/home.md has the table: owner,
 * mode, what a crash may leave).  No other file formats a home path:
 * each is built by hlx_home_path() from the home directory and the
 * entry's names, a and b (NAME, PEER, LIST, ID, HEX in the comments, in
 * that order; NULL for an entry without them).
 */
enum hlx_home_entry {
	HLX_HOME_CONFIG,          /* config.json */
	HLX_HOME_SETTINGS,        /* hlx.conf */
	HLX_HOME_TRUST,           /* trust.json */
	HLX_HOME_LOCK,            /* lock */
	HLX_HOME_RUN_PID,         /* run.pid */
	HLX_HOME_REMOVE_INTENT,   /* remove.intent */
	HLX_HOME_KEYS,            /* keys/ */
	HLX_HOME_ROOT_KEY,        /* keys/root.key */
	HLX_HOME_SIGNING_KEY,     /* keys/signing.key */
	HLX_HOME_ROOT_KEY_NEW,    /* keys/root.key.new */
	HLX_HOME_SIGNING_KEY_NEW, /* keys/signing.key.new */
	HLX_HOME_BOX_KEY,         /* keys/box.key */
	HLX_HOME_FEED_SECRET,     /* keys/feed.secret */
	HLX_HOME_STATE,           /* state/ */
	HLX_HOME_LISTS,           /* lists/ */
	HLX_HOME_LIST_REPO,       /* lists/NAME.git */
	HLX_HOME_PEER_LISTS,      /* lists/PEER/ */
	HLX_HOME_MIRROR_REPO,     /* lists/PEER/LIST.git */
	HLX_HOME_PEERS_FILE,      /* peers.json */
	HLX_HOME_PEERS,           /* peers/ */
	HLX_HOME_PEER,            /* peers/PEER/ */
	HLX_HOME_PEER_TRUST,      /* peers/PEER/trust.json */
	HLX_HOME_PEER_SYNC,       /* peers/PEER/LIST.sync */
	HLX_HOME_PEER_RULES,      /* peers/PEER/LIST.rules */
	HLX_HOME_PEER_REBASE,     /* peers/PEER/LIST.rebase */
	HLX_HOME_POLICIES,        /* policies/ */
	HLX_HOME_POLICY,          /* policies/NAME.json */
	HLX_HOME_HOLD_TAGS,       /* policies/hold-tags */
	HLX_HOME_VIEWS,           /* views/ */
	HLX_HOME_VIEW_OPEN,       /* views/open/ (the open feed's ID is "open") */
	HLX_HOME_VIEW,            /* views/ID/ */
	HLX_HOME_VIEW_REPO,       /* views/ID/LIST.git */
	HLX_HOME_VIEW_SRC,        /* views/ID/LIST.src */
	HLX_HOME_VIEW_HEAD,       /* views/ID/LIST.head */
	HLX_HOME_VIEW_CHECKPOINT, /* views/ID/LIST.checkpoint */
	HLX_HOME_VIEW_MEMBERS,    /* views/ID/members */
	HLX_HOME_VIEW_TRUST,      /* views/ID/trust.json */
	HLX_HOME_VIEW_SEED,       /* views/ID/seed.pack */
	HLX_HOME_VIEW_PLAIN,      /* views/ID/plain.pack */
	HLX_HOME_STAGING,         /* staging/ */
	HLX_HOME_STAGING_REPO,    /* staging/NAME */
	HLX_HOME_MATCH,           /* match/ */
	HLX_HOME_MATCH_CONFIG,    /* match/config.json */
	HLX_HOME_MATCH_BASE,      /* match/pdq.base */
	HLX_HOME_MATCH_DELTA,     /* match/pdq.delta */
	HLX_HOME_MATCH_TABLES,    /* match/pdq.tables */
	HLX_HOME_URLS,            /* urls/ */
	HLX_HOME_URL,             /* urls/HEX */
	HLX_HOME_AUDIT,           /* audit.log */
	HLX_HOME_CASES_SENT,      /* cases-sent */
	HLX_HOME_PLANS,           /* plans/ */
	HLX_HOME_PLAN_DIR,        /* plans/NAME/ */
	HLX_HOME_PLAN,            /* plans/NAME/HEX.json */
	HLX_HOME_PEER_PLANS,      /* peers/PEER/plans.sync */
	HLX_HOME_PEER_PLANS_ERROR, /* peers/PEER/plans.error */
	HLX_HOME_VIEW_PLANS,      /* views/ID/plans-head */
	HLX_HOME_PLANS_SEQ,       /* plans-seq */
	HLX_HOME_PUBLISH,         /* publish/ (the default publish directory) */
	HLX_HOME_NENTRIES
};

/* home/ENTRY into out.  HLX_EINVAL when a name the entry takes is missing,
 * empty, ".", ".." or holds a '/' (no path it builds leaves the home), or
 * one it does not take is given; HLX_ETOOBIG when it does not fit. */
int hlx_home_path(char out[PATH_MAX], const char *home,
		  enum hlx_home_entry e, const char *a, const char *b);
/* The entry's place as spec/home.md writes it ("peers/PEER/LIST.sync",
 * "keys/", "" past the end), its mode, and whether it is a directory. */
const char *hlx_home_entry_name(enum hlx_home_entry e);
unsigned hlx_home_mode(enum hlx_home_entry e);
int hlx_home_entry_is_dir(enum hlx_home_entry e);

/* Returns a passphrase for what into pass (a secure buffer). */
typedef int (*hlx_pass_fn)(void *ctx, const char *what, int confirm,
			   struct hlx_buf *pass);

/* Create a home for org at dir.  getpass is called once (with confirm) unless
 * no_passphrase.  valid_days is the signing key's delegation window. */
int hlx_home_create(const char *dir, const char *org, int no_passphrase,
		    hlx_pass_fn getpass, void *ctx, int64_t now,
		    unsigned valid_days);

/* Open a home to read it.  Finishes or drops a key replacement that a
 * crash interrupted only when it can take the writer lock at once. */
int hlx_home_open(const char *dir, struct hlx_home **out);
/* With lock, take the node's writer lock (HOME/lock) first and hold it
 * until hlx_home_free: the chain is then read under it. */
int hlx_home_open_ex(const char *dir, int lock, struct hlx_home **out);
/* Take the writer lock now (if not held) and read the chain again under
 * it.  The key commands below call it themselves once the passphrase was
 * given: every change of the chain is made to the chain read under the
 * lock. */
int hlx_home_lock(struct hlx_home *h);
int hlx_home_locked(const struct hlx_home *h);
/* The writer lock for a reader's moment of writing (the match index):
 * taken without waiting, on a descriptor of its own (h is not changed,
 * so other threads may go on using it).  HLX_OK and *fd, -1 when h holds
 * the lock already; HLX_ESTATE (no message) when another process holds
 * it; HLX_EIO when it cannot be taken (a home this user may not write).
 * hlx_home_unlock_fd releases what it took (nothing for -1). */
int hlx_home_trylock_fd(const struct hlx_home *h, int *fd);
void hlx_home_unlock_fd(const struct hlx_home *h, int fd);
void hlx_home_free(struct hlx_home *h);

const char *hlx_home_dir(const struct hlx_home *h);
const char *hlx_home_org(const struct hlx_home *h);
const struct hlx_trust *hlx_home_trust(const struct hlx_home *h);
const struct hlx_pubkey *hlx_home_pinned_root(const struct hlx_home *h);
int hlx_home_signing_pub(const struct hlx_home *h, struct hlx_pubkey *pub);
int hlx_home_root_pub(const struct hlx_home *h, struct hlx_pubkey *pub);

/* The node's box public key, from keys/box.key (no passphrase needed).
 * HLX_ENOENT for a home made before box keys ("run 'hlx key box'"). */
int hlx_home_box_pub(struct hlx_home *h, struct hlx_boxpub *out);
/* Load the box secret key; caller frees *out with hlx_boxkey_free. */
int hlx_home_box_key(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
		     struct hlx_boxkey **out);
/* Give a home made before box keys its keys/box.key, under the passphrase
 * of its other keys (checked against keys/signing.key).  HLX_EEXIST if
 * it has one. */
int hlx_home_box_create(struct hlx_home *h, hlx_pass_fn getpass, void *ctx);

/* Load the signing key, checking that the trust chain lets it sign at now.
 * Caller frees *out with hlx_seckey_free. */
int hlx_home_signing_key(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
			 int64_t now, struct hlx_seckey **out);

/* Make a new signing key delegated for valid_days by the root. */
int hlx_home_rotate_signing(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
			    int64_t now, unsigned valid_days);
/* Make a new root key; the chain records it signed by old and new root. */
int hlx_home_rotate_root(struct hlx_home *h, hlx_pass_fn getpass, void *ctx,
			 int64_t now);
/* Revoke a delegated signing key for everything made from since on. */
int hlx_home_revoke(struct hlx_home *h, const struct hlx_pubkey *key,
		    int64_t since, hlx_pass_fn getpass, void *ctx, int64_t now);

/* The node's own 32-byte secret (keys/feed.secret), into sodium_malloc
 * memory (free with hlx_node_secret_free): audience names and the blinded
 * record of purged entries derive from it.  Made on first use when create
 * (by a writer); HLX_ENOENT otherwise. */
int hlx_node_secret(const char *home, int create, uint8_t **out);
void hlx_node_secret_free(uint8_t *s);

#endif
