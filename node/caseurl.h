/* SPDX-License-Identifier: MIT */
/*
 * The raw URL of a case goes to the case's owner alone (spec/cases.md
 * section 8).
 *
 * Sending.  A node that holds a case's raw URL (urls/HEX in its home,
 * node/urls.h) writes it, for the peer P of the owner's organisation,
 * into each feed directory P reads, as
 *
 *   PUBLISH/[a/ID/]urls/HEX   (0644) a sealed envelope (keys/seal.h) to
 *                             P's box key alone, context
 *                             "hlx-case-url:HEX", whose plaintext is the
 *                             normalised URL and nothing else
 *
 * (HEX the 64 hex digits of the case id).  In an encrypted audience's
 * directory it is not sealed again to the audience.  Before the file is
 * written, one url record is appended to the audit log and synced
 * (node/audit.h); after it, the node notes whom it sent the URL to in
 *
 *   cases-sent               (0600, in the home) one line per file in a
 *                             feed: "HEX PATH ORG PEER", PATH under the
 *                             publish directory; sorted, rewritten whole,
 *                             never over HLX_CASEURL_NOTES_MAX
 *
 * A crash between the record and the note repeats the sending at the next
 * publish (one more record, never a file without one).  A file that is no
 * longer due (the case reached a final state, its owner changed, the peer
 * reads another directory) is removed with its note; the new owner's is
 * written.
 *
 * Receiving.  The owner fetches U/urls/HEX from the feed of the peer that
 * reported the case or handed it over, opens it with its own box key,
 * normalises the URL and checks that its url-sha256 is the case id, and
 * only then keeps it as its own (urls/HEX, sealed to its own box key).
 * The envelope is bounded before it is read (HLX_CASEURL_FILE_MAX).
 *
 * Like node/urls.c, nothing here writes a URL in clear or quotes one in an
 * error detail.  The writer lock is the caller's.
 */
#ifndef HLX_CASEURL_H
#define HLX_CASEURL_H

#include <stddef.h>
#include <stdint.h>

#include "node/fetch.h"
#include "node/home.h"
#include "node/peers.h"
#include "keys/key.h"
#include "keys/seal.h"
#include "protocol/buf.h"
#include "protocol/case.h"
#include "protocol/hash.h"

/* The directory of these files in a feed directory. */
#define HLX_CASEURL_DIR "urls"
/* The largest urls/HEX a feed may serve: one recipient around the
 * longest normalised URL. */
#define HLX_CASEURL_FILE_MAX HLX_SEAL_LEN(HLX_URL_MAX, 1)
/* The most raw URLs fetched from one peer after one pull (spec/cases.md
 * section 8): a peer that reports or hands over many cases and serves none
 * of their URLs costs this many requests a round, not one a case. */
#define HLX_CASEURL_FETCH_MAX 256
/* "hlx-case-url:" and 64 hex digits, NUL */
#define HLX_CASEURL_CONTEXT_LEN (13 + 64 + 1)

/* The context of a case's envelope: "hlx-case-url:HEX". */
int hlx_caseurl_context(const struct hlx_hash *case_id,
			char out[HLX_CASEURL_CONTEXT_LEN]);

/* Where the sending happens: the home (its urls/ and cases-sent, its
 * audit log), the signing key of the audit records, the box key that
 * opens the node's own urls/HEX, the publish directory and the time.
 * signer and own may be NULL: they are then loaded from the home (through
 * getpass) when a URL is first to be sent, and freed before returning, so
 * that a publish with nothing to send asks for nothing. */
struct hlx_caseurl_ctx {
	struct hlx_home *h;
	const struct hlx_seckey *signer;
	const struct hlx_boxkey *own;
	const char *pubdir;
	int64_t now;
	hlx_pass_fn getpass;
	void *pass_ctx;
	/* the largest cases-sent written (0: HLX_CASEURL_NOTES_MAX; tests
	 * set less) */
	size_t notes_max;
};

/* cases-sent is read up to this many bytes (a line is under 320), and
 * never written larger: a sending whose note would not fit is refused. */
#define HLX_CASEURL_NOTES_MAX ((size_t)64 << 20)

/* One file due: the URL of case_id for the peer of org, in the feed
 * directory feed it reads ("" for the open feed, "a/ID" for an
 * audience's), sealed to box (the peer's box key text, "" if none). */
struct hlx_caseurl_due {
	struct hlx_hash case_id;
	char org[65];
	char peer[65];
	char box[128];
	char feed[40];
};

/*
 * Send one: the audit record (synced), then the file, then the note.  A
 * peer without a box key is refused (HLX_ESTATE, "raw URL: not sent to
 * ORG: no box key"), nothing written; so is a case whose URL this node
 * does not hold (HLX_ENOENT), a feed that is not "" or "a/ID", or a
 * sending whose note would make cases-sent larger than it may be read
 * (HLX_ESTATE, "... cases-sent is full"): a note that could not be read
 * back would stop every later sending and taking down.
 */
int hlx_caseurl_send(const struct hlx_caseurl_ctx *c,
		     const struct hlx_caseurl_due *d);

/* What hlx_caseurl_publish did. */
struct hlx_caseurl_stats {
	unsigned sent, kept, removed, failed;
	/* each file that could not be sent, with whom it names and why */
	void (*failure)(void *ctx, const char *who, int rc, const char *why);
	void *failure_ctx;
};

/*
 * Bring the raw URLs in the feeds to what is due now: every noted file
 * not in due[] is removed (a final state, another owner, a feed the peer
 * no longer reads) and its note dropped; every case's file in a feed's
 * urls/ that no note names (what a crash left between a file and its
 * note) is removed; every file of due[] that is not noted as sent there,
 * or whose file is gone, is sent.  A file that cannot be sent (no box
 * key, above all) or removed is reported through st->failure and counted;
 * the others are done all the same.  A cases-sent that does not read back
 * is reported and written anew from what of it reads.  own may be NULL when nothing is due (only removals).
 */
int hlx_caseurl_publish(const struct hlx_caseurl_ctx *c,
			const struct hlx_caseurl_due *due, size_t n,
			struct hlx_caseurl_stats *st);

/*
 * Who this node (organisation self) sends the raw URL of a case to, from
 * the lines held (srcs) and the owner now (o): the owner, when it is
 * another organisation and self reported the case (its line has a
 * report), or when self's last action handed the case to it; NULL
 * otherwise (no case, a final state, self owns it, or self is neither).
 * Whether self holds the URL is the caller's to check.
 */
const char *hlx_caseurl_recipient(const char *self,
				  const struct hlx_case_src *srcs, unsigned n,
				  const struct hlx_case_owner *o);

/*
 * Whether this node (self) fetches the raw URL of a case from the feed of
 * organisation from: self owns it now, it is in no final state, and from
 * reported it or its last action handed the case to self.  Whether self
 * already holds the URL is the caller's to check.
 */
int hlx_caseurl_from(const char *self, const char *from,
		     const struct hlx_case_src *srcs, unsigned n,
		     const struct hlx_case_owner *o);

/* Remove every case's file from the feeds under c->pubdir (its urls/,
 * a/ID/urls/), for a node with no note of any sending and no raw URL
 * held, from which nothing can be due: files a crash left before their
 * note was first saved. */
int hlx_caseurl_sweep(const struct hlx_caseurl_ctx *c,
		      struct hlx_caseurl_stats *st);

/* A URL due to an organisation, as the cases engine says (spec/cases.md
 * section 8: the reporter's to the owner, an owner's to whom it handed
 * the case to). */
struct hlx_caseurl_want {
	struct hlx_hash case_id;
	char org[65];
	char root[HLX_FPR_LEN]; /* the root its chain must hold, or "" */
	int root_plan;          /* 1: root is the routing plan's */
};

/*
 * hlx_caseurl_publish for what is due now: each want goes to the peer
 * whose trust chain names its organisation, into the feed directory that
 * peer reads (the open feed without policies, its audience's a/ID with
 * them).  A want that cannot be sent (no peer of that organisation, a
 * peer that reads no feed of this node, no box key) is reported through
 * st->failure; every file not wanted any more is removed.
 */
int hlx_caseurl_publish_wants(const struct hlx_caseurl_ctx *c,
			      const struct hlx_caseurl_want *w, size_t n,
			      struct hlx_caseurl_stats *st);

/* The local name of the peer whose verified trust chain (peers/PEER/
 * trust.json) names org and introduced root (a fingerprint), into peer.
 * With plan, root is the one the case's routing plan names for org: a
 * chain of that name under another root is an impostor's (or a stale
 * one) and is passed over.  Without, root is that of the chain org's
 * case lines came from, which the first chain loaded of that name may
 * have been: then exactly one peer's chain may name org.  HLX_ENOENT if
 * none qualifies, HLX_ESTATE if root is "" (not known: nobody is sent
 * anything) or two peers qualify. */
int hlx_caseurl_peer_of(struct hlx_home *h, const struct hlx_peers *ps,
			const char *org, const char *root, int plan,
			char peer[65]);

/*
 * The organisations the URL of case_id was sent to (as noted), each once,
 * separated by ", ", appended to out ("" if none).
 */
int hlx_caseurl_sent_to(struct hlx_home *h, const struct hlx_hash *case_id,
			struct hlx_buf *out);

/* Whether this node holds the raw URL of case_id (urls/HEX): *held. */
int hlx_caseurl_held(struct hlx_home *h, const struct hlx_hash *case_id,
		     int *held);

/*
 * Open an envelope fetched from a peer's urls/HEX: at most
 * HLX_CASEURL_FILE_MAX bytes (checked first), sealed to own with the
 * case's context; the plaintext normalises to a URL whose url-sha256 is
 * case_id.  The normalised URL is appended to url (give a secure buffer).
 * HLX_ETOOBIG, HLX_EPERM (not sealed to us), HLX_EBADSIG (tampered,
 * another context), HLX_EINVAL (not a URL, or not the case's URL); out is
 * unchanged on failure.
 */
int hlx_caseurl_open(const void *env, size_t n, const struct hlx_boxkey *own,
		     const struct hlx_hash *case_id, struct hlx_buf *url);

/* hlx_caseurl_open, then keep the URL as the node's own (urls/HEX, sealed
 * to its box key, written whole).  Nothing is written on failure. */
int hlx_caseurl_receive(struct hlx_home *h, const struct hlx_boxkey *own,
			const struct hlx_hash *case_id, const void *env,
			size_t n);

/*
 * Fetch PEER-URL/urls/HEX through f (at most HLX_CASEURL_FILE_MAX bytes)
 * and receive it.  HLX_ENOENT: the peer has not sent it (yet).  The
 * error detail of a refusal names the peer and the case, never the URL.
 */
int hlx_caseurl_fetch(struct hlx_home *h, struct hlx_fetch *f,
		      const struct hlx_peer *peer, const struct hlx_boxkey *own,
		      const struct hlx_hash *case_id);

/* ---- the hooks (caseurl_hooks.c): what the cases engine (node/cases.h)
 * says is due, at publish and after a pull ---- */

struct hlx_node;
struct hlx_pull_keys;
struct hlx_case_view;

/*
 * At publish, after the feeds (node/publish.c): for every case whose raw
 * URL this node holds and whose owner now is another organisation that
 * this node reported it to or handed it to (hlx_caseurl_recipient), the
 * URL is sent to that organisation's peer (hlx_caseurl_publish_wants);
 * what is no longer due is removed.  A node that holds no raw URL and has
 * sent none does nothing (and loads no case).  Owners are those at now
 * (the publish's: HLX_NOW when the program is given one), also the time
 * of the audit records.  signer may be NULL.
 */
int hlx_caseurl_at_publish(struct hlx_node *n, const char *pubdir,
			   int64_t now, const struct hlx_seckey *signer,
			   hlx_pass_fn getpass, void *pctx,
			   struct hlx_caseurl_stats *st);

/*
 * After a pull of peer's cases log (node/round.c): fetch, through f, the
 * raw URL of every case this node owns now, in no final state, that the
 * peer's organisation reported or handed to it (hlx_caseurl_from), and
 * whose URL this node lacks: at most HLX_CASEURL_FETCH_MAX of them, from
 * a random place in the list when more lack one (the rest at later pulls;
 * no case waits for good behind ones the peer never serves).  Not there
 * yet (404) is no error.  The first
 * refusal is recorded as the last error of the peer's "cases" (peer
 * status) and returned; the others are still fetched.  The box key is
 * loaded into keys on first need.  *got: URLs received.
 */
int hlx_caseurl_after_pull(struct hlx_node *n, const struct hlx_peer *peer,
			   struct hlx_fetch *f, int64_t now,
			   struct hlx_pull_keys *keys, unsigned *got);

/*
 * The "raw URL:" line of case show for v (self: this organisation):
 * "held" for the owner that holds it, "sent to ORG[, ORG]" once sent,
 * "not sent to ORG: no box key" when it cannot be, "held" while it waits
 * for the next publish, "not received" otherwise.  Appended to out.
 */
int hlx_caseurl_show(struct hlx_node *n, const char *self,
		     const struct hlx_case_view *v, struct hlx_buf *out);

#endif
