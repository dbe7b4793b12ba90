/* SPDX-License-Identifier: MIT */
/*
 * Files of the node home and of the command line: bounded reads, atomic
 * writes, directories.  Secret files go through keys/keyfile.h instead,
 * which also checks their permissions.
 */
#ifndef HLX_FILES_H
#define HLX_FILES_H

#include <limits.h>
#include <stddef.h>

#include "protocol/buf.h"

/* Read a whole file (standard input for "-") into out, which is reset
 * first: HLX_ENOENT if it does not exist, HLX_ETOOBIG past max bytes. */
int hlx_file_read(const char *path, size_t max, struct hlx_buf *out);
/* Replace a file atomically (temporary file, fsync, rename, fsync of the
 * directory) with the given mode. */
int hlx_file_write(const char *path, const void *p, size_t n, unsigned mode);
/* mkdir -p, new directories with mode 0755 and the last with mode. */
int hlx_file_mkdirs(const char *path, unsigned mode);

/* Remove a file or a directory tree, not following symbolic links; a
 * missing one is fine. */
int hlx_rm_rf(const char *path);
/* snprintf into a PATH_MAX buffer; HLX_EINVAL when it does not fit. */
int hlx_pathf(char out[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fsync a file, or a directory (dir set). */
int hlx_fsync_path(const char *path, int dir);

#endif
