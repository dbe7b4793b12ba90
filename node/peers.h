/* SPDX-License-Identifier: MIT */
/*
 * Peers: the organisations this node pulls feeds from.
 *
 * peers.json in the node home holds, for each peer, its local name, the
 * URL where its publish directory is served, its pinned root key, an
 * optional CA bundle for its server, and the lists subscribed; for the
 * peers this node shares with, the sharing policy that applies to them
 * (node/policies.h) and their box key for encrypted feeds.  A peer that
 * only receives from this node has no URL ("").  It is
 * small, human-readable and rewritten atomically.  What the node learned
 * from a peer (its verified trust chain, sync progress) lives under
 * peers/NAME/ and in the state.
 */
#ifndef HLX_PEERS_H
#define HLX_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"

#define HLX_PEERS_MAX 4096
#define HLX_SUBS_MAX 256
#define HLX_URL_TEXT_MAX 2048

struct hlx_peer {
	char name[65];
	char url[HLX_URL_TEXT_MAX];
	char ca[1024];                 /* "" for the system store */
	struct hlx_pubkey root;
	char policy[65];               /* sharing policy name, "" for none */
	char box[128];                 /* "hlx-box ..." encryption key, or "" */
	size_t nsubs;
	char (*subs)[65];
};

struct hlx_peers {
	size_t n;
	struct hlx_peer *v;
};

/* Load peers.json of a home (an absent file is no peers). */
int hlx_peers_load(const char *home, struct hlx_peers **out);
int hlx_peers_save(const char *home, const struct hlx_peers *p);
void hlx_peers_free(struct hlx_peers *p);
struct hlx_peer *hlx_peers_find(struct hlx_peers *p, const char *name);
int hlx_peers_add(struct hlx_peers *p, const char *name, const char *url,
		  const struct hlx_pubkey *root, const char *ca);
/* A feed URL as it is entered: https:// with a host, or file:// with an
 * absolute local path; no query, fragment, space or control character.
 * (peers.json is read with a looser check, so that an old or damaged
 * entry stops its own peer only, at sync.) */
int hlx_peer_url_check(const char *url);
/* Set (or, with "", clear) a peer's policy name and box key text; NULL
 * leaves a field as it is.  The box key is checked (keys/seal.h). */
int hlx_peer_set(struct hlx_peer *peer, const char *policy, const char *box);
/* Set the URL (or "" for none; checked with hlx_peer_url_check) and CA
 * bundle; NULL leaves one as it is. */
int hlx_peer_set_url(struct hlx_peer *peer, const char *url, const char *ca);
int hlx_peers_remove(struct hlx_peers *p, const char *name);
int hlx_peer_subscribe(struct hlx_peer *peer, const char *list);
/* The peer's verified trust chain (peers/NAME/trust.json), loaded against
 * its pinned root: HLX_ENOENT before its first verified pull.  Free *out
 * with hlx_trust_free. */
struct hlx_trust;
int hlx_peer_trust(const char *home, const struct hlx_peer *peer,
		   struct hlx_trust **out);
int hlx_peer_unsubscribe(struct hlx_peer *peer, const char *list);

/*
 * The rebase marker, peers/NAME/LIST.rebase in the home: the peer's feed
 * moved ('hlx peer set --url'), so the next pull of LIST takes its history
 * afresh from the new feed (spec/sync.md).  Mark every subscribed list of
 * a peer; test one list (*marked); clear it once the new feed's history
 * is held.
 */
int hlx_peer_rebase_mark(const char *home, const struct hlx_peer *peer);
int hlx_peer_rebase_marked(const char *home, const char *peer,
			   const char *list, int *marked);
int hlx_peer_rebase_clear(const char *home, const char *peer,
			  const char *list);

#endif
