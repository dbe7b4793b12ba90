/* SPDX-License-Identifier: MIT */
/*
 * Git packs for feeds (spec/sync.md): writing the pack of one version for
 * publishing, and receiving packs on the subscriber side into a staging
 * repository that sees the mirror's objects but changes nothing in it
 * until every new commit has been verified.
 */
#ifndef HLX_PACKS_H
#define HLX_PACKS_H

#include <limits.h>
#include <stddef.h>

/* Write to fd (a file the caller created, see hlx_file_new in
 * node/files.h, and commits) a pack of the objects reachable from commit
 * to and not from commit from (NULL: all of them). */
int hlx_pack_write(const char *repo, const char *from, const char *to, int fd);

/* The path of the pack file in repo's objects/pack that is exactly the
 * pack hlx_pack_write would write (the history wrote that version's
 * objects as one pack): publishing links or reads it instead of writing
 * it again.  HLX_ENOENT when there is none.  The file is never changed in
 * place (a prune or a purge replaces the repository). */
int hlx_pack_find(const char *repo, const char *from, const char *to,
		  char path[PATH_MAX]);

/* Create a bare repository at staging whose object store falls back to
 * base's (objects/info/alternates; base NULL: none); base is not
 * modified. */
int hlx_pack_stage(const char *base, const char *staging);

/* Index a received pack file into repo's objects/pack: first through the
 * bounded scanner (protocol/pack.h: only what hlx writes, within bounds,
 * in constant memory), then checking every object (libgit2's indexer).
 * blobs (NULL: none) keeps the blobs the scanner inflated, within its
 * budget (node/history.h), even when the pack is refused. */
struct hlx_hist_blobs;
int hlx_pack_index(const char *repo, const char *packfile,
		   struct hlx_hist_blobs *blobs);

/* The same for a pack read from fd as it arrives (a pipe from the
 * download): pre holds its first npre bytes, read from fd already; name
 * names it in errors.  Reads fd to its end unless the pack is refused
 * first: the writer must then see its end closed.
 * The indexer runs on a thread of its own behind the reader.  With job
 * NULL the call waits for it.  Otherwise the call returns once the whole
 * pack was read and scanned (blobs then holds what it kept), and on
 * success *job is the indexer, maybe still at work: the pack is indexed
 * (or refused) only when hlx_pack_job_finish says so, and nothing may be
 * read from repo's own packs before.  hlx_pack_job_abandon stops it
 * instead (the pack may be indexed already: remove repo). */
struct hlx_pack_job;
int hlx_pack_index_stream(const char *repo, const char *name, int fd,
			  const void *pre, size_t npre,
			  struct hlx_hist_blobs *blobs,
			  struct hlx_pack_job **job);
/* Wait for the indexer and free the job: HLX_OK when the pack is
 * indexed, the indexer's error otherwise.  NULL: HLX_OK. */
int hlx_pack_job_finish(struct hlx_pack_job *job);
/* Stop the indexer if it is still at work and free the job, whatever
 * it did (what it indexed stays in repo); NULL: nothing. */
void hlx_pack_job_abandon(struct hlx_pack_job *job);

/* The same for a pack this node wrote itself from its own histories (a
 * whole history can exceed the bounds set for one received version):
 * never for anything received. */
int hlx_pack_index_own(const char *repo, const char *packfile);

/* After verification: write into directory dir (created) one pack of
 * exactly the objects of staging reachable from commit head and not from
 * commit hide (NULL: none hidden), and its index, synced.  Whatever else
 * the received packs held stays behind (spec/sync.md). */
int hlx_pack_keep(const char *staging, const char *head, const char *hide,
		  const char *dir);

/* Remove every pack of repo's objects/pack. */
int hlx_pack_drop(const char *repo);

/* Move the packs in directory from into base's objects/pack (each .pack
 * before its .idx, both synced), after verification. */
int hlx_pack_adopt(const char *from, const char *base);

#endif
