/* SPDX-License-Identifier: MIT */
/*
 * Raw URLs behind url-sha256 items, kept only by the node that recorded
 * them, encrypted at rest.
 *
 *   urls/            (0700) in the node home
 *   urls/HEX         (0600) one per item, HEX the 64 lowercase hex digits
 *                    of its url-sha256: the normalised URL (protocol/hash.h)
 *                    in a sealed envelope (keys/seal.h) to the node's own
 *                    box key, context "hlx-url:HEX"
 *
 * Only the url-sha256 goes into lists, histories, state and feeds.  The URL
 * itself is held in secure buffers and never written in clear, and the
 * error details of this module never quote it (a failed normalisation
 * says why, not what).
 */
#ifndef HLX_URLS_H
#define HLX_URLS_H

#include <stddef.h>

#include "node/home.h"
#include "protocol/buf.h"
#include "protocol/hash.h"

/* Normalise url and compute its url-sha256 into item; the normalised URL
 * is appended to norm (give a secure buffer) unless norm is NULL. */
int hlx_urls_item(const char *url, size_t n, struct hlx_hash *item,
		  struct hlx_buf *norm);

/* Keep url (normalised) sealed to the home's box key as urls/HEX, written
 * atomically; item receives its url-sha256.  Needs no passphrase.  An
 * existing file for the item is replaced (same URL, new envelope). */
int hlx_urls_put(struct hlx_home *h, const char *url, size_t n,
		 struct hlx_hash *item);

/* Open the URL kept for item with the box key k; the normalised URL is
 * appended to out (give a secure buffer).  HLX_ENOENT if none is kept. */
int hlx_urls_get(struct hlx_home *h, const struct hlx_hash *item,
		 const struct hlx_boxkey *k, struct hlx_buf *out);

/* Call fn for every item with a kept URL, in hex order; a non-zero return
 * from fn stops and is returned.  No passphrase needed. */
int hlx_urls_foreach(struct hlx_home *h,
		     int (*fn)(void *ctx, const struct hlx_hash *item),
		     void *ctx);

/* Forget (delete) the kept URL of every item that none of the node's own
 * lists, status log included, holds any more, and that is no case of a
 * cases log held (its own or a peer's): after a retraction, so that the
 * raw URL of a withdrawn item does not outlive it. */
struct hlx_node;
int hlx_urls_forget_unlisted(struct hlx_node *n, uint64_t *count);


#endif
