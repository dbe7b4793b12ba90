/* SPDX-License-Identifier: MIT */
/*
 * A bounded streaming check of a received git pack (spec/sync.md, "What a
 * subscriber accepts in a pack"), run before any of it reaches libgit2.
 *
 * hlx writes packs of commits, trees and blobs only, never a delta or a
 * tag (node/history.c, "Packing").  A delta declares the size of its
 * result, and a few hundred bytes of copy instructions can declare
 * gigabytes: libgit2's indexer would build them in memory.  So the scanner
 * refuses every object type hlx never writes, bounds what each object and
 * the whole pack declare, and inflates every object into a small fixed
 * buffer (constant memory) to check that it is exactly its declared size.
 *
 * Pure code, no I/O: the caller feeds the pack in chunks of any size, then
 * calls hlx_packscan_finish().  Memory is sizeof(struct hlx_packscan) plus
 * zlib's inflate state (about 7 KiB plus its 32 KiB window), whatever the
 * input.  The pack's trailing SHA-1 is checked by libgit2 afterwards.
 */
#ifndef HLX_PACK_H
#define HLX_PACK_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

/*
 * Bounds, from what hlx writes.  A version's pack holds the version's new
 * objects: at most one commit, one root tree with one entry per hash type
 * (8), 256 TYPE/ab trees per type, 256 TYPE/ab/cd shard blobs per TYPE/ab.
 */
/* Objects in one pack: 1 + 1 + 8 * 256 + 8 * 65536 < 2^20. */
#define HLX_PACKSCAN_OBJECTS_MAX (1u << 20)
/* A commit: headers, an SSHSIG armour (about 400 bytes), a summary of at
 * most 127 bytes and the hlx trailers: well under 4 KiB. */
#define HLX_PACKSCAN_COMMIT_MAX (64u * 1024)
/* A tree: at most 256 entries of "100644 ab\0" and a 20-byte id (30 bytes):
 * 7,680 bytes. */
#define HLX_PACKSCAN_TREE_MAX (16u * 1024)
/* A shard blob: the lines (at most HLX_ENTRY_LINE_MAX, about 2.4 KiB, each)
 * of the entries whose hash starts with the shard's two bytes. */
#define HLX_PACKSCAN_BLOB_MAX (64u * 1024 * 1024)
/* All objects of one pack together, inflated. */
#define HLX_PACKSCAN_INFLATED_MAX (8ull << 30)
/* At any point, the bytes inflated so far are at most RATIO times the pack
 * bytes read so far plus SLACK: hlx's objects (random hex, small trees and
 * commits) compress less than 4:1, zlib at best about 1000:1. */
#define HLX_PACKSCAN_RATIO 64u
#define HLX_PACKSCAN_SLACK (1u << 20)

/* Git's object types (the 3 bits of an object header). */
enum {
	HLX_PACK_COMMIT = 1,
	HLX_PACK_TREE = 2,
	HLX_PACK_BLOB = 3,
	HLX_PACK_TAG = 4,
	HLX_PACK_OFS_DELTA = 6,
	HLX_PACK_REF_DELTA = 7
};

struct hlx_packscan {
	z_stream z;
	int zinit;         /* z initialised */
	int state;         /* where in the pack (pack.c) */
	int failed;        /* an error was returned: every later call fails */
	uint8_t hdr[12];   /* "PACK", version, count */
	size_t hdrlen;
	uint32_t count;    /* objects the header declares */
	uint32_t seen;     /* objects begun */
	int type;          /* of the current object */
	uint64_t size;     /* its declared (inflated) size */
	unsigned shift;    /* header varint position */
	uint64_t out;      /* its bytes inflated so far */
	uint64_t read;     /* pack bytes consumed */
	uint64_t inflated; /* all objects' bytes inflated */
	size_t trailer;    /* trailer bytes seen */
	/* Optional, set after hlx_packscan_init: each object's start (its
	 * type and declared size, both within the bounds), then its inflated
	 * bytes as they come (never past the declared size), then end 1 once
	 * it inflated to exactly its size.  An object that fails gets no end. */
	void (*obj)(void *ctx, int type, uint64_t size);
	void (*data)(void *ctx, const uint8_t *p, size_t n, int end);
	void *ctx;
	uint8_t sink[16384];
};

/* Start a scan.  HLX_ENOMEM if zlib cannot start. */
int hlx_packscan_init(struct hlx_packscan *s);

/* The next n bytes of the pack.  HLX_EINVAL (with a detail naming the
 * object and the rule) for a pack hlx would not write, HLX_ETOOBIG past a
 * bound; once it failed it keeps failing. */
int hlx_packscan_feed(struct hlx_packscan *s, const void *data, size_t n);

/* The pack ended: HLX_OK if it held exactly the objects its header
 * declared, each complete, then the 20-byte trailer. */
int hlx_packscan_finish(struct hlx_packscan *s);

/* Release zlib's state (safe after init failed or twice). */
void hlx_packscan_free(struct hlx_packscan *s);

/* Scan a whole pack in memory: init, feed, finish, free. */
int hlx_packscan_buf(const void *data, size_t n);

#endif
