/* SPDX-License-Identifier: MIT */
/*
 * The audit log of disclosures (spec/audit.md).
 *
 * audit.log in the node home (0600) holds one line per disclosure: which
 * peer received which versions of which list, under which policy.  Each
 * line is a canonical JSON object (compact, sorted keys) signed by the
 * node's signing key, numbered (seq 1, 2, ...) and chained to the line
 * before it by the SHA-256 of that line's bytes, so that a line cannot be
 * changed, removed, reordered or inserted without the reader noticing.
 * Only whole-file deletion and truncation of the tail are not detectable
 * from the file alone (see spec/audit.md, section 5).
 *
 * Two forms of record share the log and its chain: a disclosure of
 * versions of a list (no "kind" member), and the sending of a case's raw
 * URL to its owner (kind "url": case, org, path; spec/cases.md section 8).
 * The raw URL itself is in no record.
 */
#ifndef HLX_AUDIT_H
#define HLX_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"
#include "keys/trust.h"
#include "protocol/buf.h"

#define HLX_AUDIT_LINE_MAX 2048 /* bytes of one line, newline excluded */

enum hlx_audit_kind {
	HLX_AUDIT_DISCLOSURE = 0,  /* versions of a list given to a peer */
	HLX_AUDIT_URL = 1,         /* a case's raw URL sealed to its owner */
};

/* "url-sha256:" and 64 lowercase hex digits, NUL */
#define HLX_AUDIT_CASE_LEN 76
/* a path under the publish directory: "urls/HEX" or "a/ID/urls/HEX" */
#define HLX_AUDIT_PATH_MAX 112

struct hlx_audit_rec {
	int kind;            /* enum hlx_audit_kind; 0 (a zeroed record) is
				a disclosure */
	int64_t time;        /* when the disclosure was made */
	char peer[65];       /* the peer's local name */
	/* a disclosure: */
	char list[130];      /* the list as published: "NAME" or "PEER/NAME" */
	char audience[33];   /* 32 lowercase hex digits */
	uint64_t from, to;   /* versions disclosed, 1 <= from <= to */
	uint64_t entries;    /* entries in the view at version to */
	char policy[65];     /* 64 lowercase hex: sha256 of the canonical policy */
	/* a raw URL (kind HLX_AUDIT_URL); the fields above but time and peer
	 * are then unused (zero): */
	char case_id[HLX_AUDIT_CASE_LEN]; /* the case id, url-sha256:HEX */
	char org[65];        /* the recipient organisation */
	char path[HLX_AUDIT_PATH_MAX]; /* the file written, under the publish
					   directory: urls/HEX or a/ID/urls/HEX,
					   HEX the case's */
	/* filled on read (ignored by hlx_audit_append): */
	uint64_t seq;        /* 1, 2, ... */
	char key[64];        /* fingerprint of the signer, "SHA256:..." */
};

/*
 * Append n records (n >= 1) to HOME/audit.log in one write followed by
 * fsync; the file is created 0600 if absent.  seq, prev, key and sig are
 * computed here; each record's time must not be before the last record's
 * (nor before the previous record of the batch).  A log behind a symlink,
 * not a regular file, accessible by group or others, or not owned by us
 * is refused (HLX_EPERM).  A torn last line (no newline: a crash
 * interrupted an append, so its record never was complete) is cut off
 * first.  The last complete line must parse (HLX_EINVAL otherwise); it is
 * not verified here: hlx_audit_read() does that.  Concurrent appenders are
 * serialised by flock(2) on the log.
 */
int hlx_audit_append(const char *home, const struct hlx_seckey *signer,
		     const struct hlx_audit_rec *recs, size_t n);

/*
 * Append one url record (kind HLX_AUDIT_URL) as hlx_audit_append does:
 * the raw URL of case_id ("url-sha256:HEX") is about to be written, sealed
 * to org's peer peer, at path under the publish directory.  Durable
 * (fsync) when it returns HLX_OK: write the file only then.
 */
int hlx_audit_append_url(const char *home, const struct hlx_seckey *signer,
			 int64_t time, const char *peer, const char *org,
			 const char *case_id, const char *path);

/*
 * Read and verify HOME/audit.log, calling cb for each record in order.
 * Every line is checked before its record is given to cb: canonical form,
 * seq consecutive from 1, prev chain, Ed25519 signature, signer delegated
 * by chain and valid (not revoked, inside its window) at the record's
 * time, times non-decreasing.  The first defect stops the reading:
 * HLX_EINVAL for a malformed line, HLX_ETOOBIG for an oversized one,
 * HLX_EBADSIG for anything else, the detail beginning "line N: ".  A
 * missing log is empty (HLX_OK, cb never called).  A torn last line (no
 * newline) is a defect too (HLX_EINVAL): the next hlx_audit_append() cuts
 * it, but until then nothing says it was not a whole line whose newline
 * was changed.  A non-zero return
 * from cb stops the reading and is returned.  Records given to cb before a
 * defect further down were verified themselves; callers that must show
 * nothing from a broken log collect them and use them only on HLX_OK.
 */
int hlx_audit_read(const char *home, const struct hlx_trust *chain,
		   int (*cb)(void *ctx, const struct hlx_audit_rec *r),
		   void *ctx);

/* One line, parsed but not verified. */
struct hlx_audit_line {
	struct hlx_audit_rec rec;    /* seq and key filled */
	char prev[65];               /* 64 lowercase hex */
	uint8_t sig[HLX_SIG_LEN];
};

/*
 * Parse one line (without its newline) strictly: a canonical JSON object
 * with exactly the members of spec/audit.md for its form (twelve for a
 * disclosure, ten for kind "url"), each of its type and range.
 * Pure: no I/O, no signature check.  HLX_EINVAL or HLX_ETOOBIG.
 */
int hlx_audit_parse(const char *line, size_t n, struct hlx_audit_line *out);

/*
 * Append the canonical JSON of l to out, without a newline: with_sig 0
 * gives the signed message (every member but "sig"), 1 the whole line.
 * HLX_EINVAL if a field is out of its range.
 */
int hlx_audit_format(const struct hlx_audit_line *l, int with_sig,
		     struct hlx_buf *out);

#endif
