/* SPDX-License-Identifier: MIT */
/* The run lock, HOME/run.pid (node/runlock.h). */
#include "node/runlock.h"
#include "node/files.h"
#include "node/home.h"
#include "protocol/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The holder's pid, as it wrote it (it may be writing it right now). */
static long read_holder(int fd)
{
	char b[32];
	ssize_t n;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		struct timespec ts = { 0, 10 * 1000000L };

		n = pread(fd, b, sizeof(b) - 1, 0);
		if (n > 0 && b[n - 1] == '\n') {
			b[n] = '\0';
			return strtol(b, NULL, 10);
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Open the run lock file, made afresh (O_EXCL|O_NOFOLLOW) or as it is,
 * never through a symbolic link nor anything but a regular file. */
static int open_file(const char *p, int *fd)
{
	struct stat st;
	int rc;

	for (;;) {
		rc = hlx_file_create(p, 0600, fd);
		if (rc != HLX_EEXIST)
			return rc;
		*fd = open(p, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (*fd >= 0)
			break;
		if (errno != ENOENT) /* removed between the two: again */
			return hlx_err(HLX_EIO, "cannot open '%s': %s", p,
				       strerror(errno));
	}
	hlx_err_clear();
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return hlx_err(HLX_EPERM, "'%s' is not a regular file", p);
	}
	return HLX_OK;
}

int hlx_runlock_take(const char *home, int *fd, long *holder)
{
	char p[PATH_MAX], b[32];
	int rc, n;

	*fd = -1;
	*holder = 0;
	rc = hlx_home_path(p, home, HLX_HOME_RUN_PID, NULL, NULL);
	if (!rc)
		rc = open_file(p, fd);
	if (rc)
		return rc;
	while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		rc = errno == EWOULDBLOCK ? HLX_ESTATE : HLX_EIO;
		if (rc == HLX_ESTATE) {
			*holder = read_holder(*fd);
			rc = *holder > 0 ?
			     hlx_err(rc, "hlx run is already running on '%s' (pid %ld)",
				     home, *holder) :
			     hlx_err(rc, "hlx run is already running on '%s' (%s is locked)",
				     home, p);
		} else {
			rc = hlx_err(rc, "cannot lock '%s': %s", p, strerror(errno));
		}
		close(*fd);
		*fd = -1;
		return rc;
	}
	n = snprintf(b, sizeof(b), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, b, (size_t)n, 0) != n) {
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", p, strerror(errno));
		close(*fd);
		*fd = -1;
	}
	return rc;
}

void hlx_runlock_stamp(const char *home, struct hlx_run_stamp *out)
{
	static const enum hlx_home_entry e[3] = {
		HLX_HOME_STATE, HLX_HOME_TRUST, HLX_HOME_PEERS_FILE
	};
	char p[PATH_MAX], q[PATH_MAX];

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 3; i++) {
		struct stat st;
		const char *f = p;

		if (hlx_home_path(p, home, e[i], NULL, NULL) != HLX_OK)
			continue;
		/* the state is LMDB's: its data file changes with each write */
		if (e[i] == HLX_HOME_STATE) {
			if (hlx_pathf(q, "%s/data.mdb", p) != HLX_OK)
				continue;
			f = q;
		}
		if (stat(f, &st) != 0)
			continue;
		if (e[i] == HLX_HOME_STATE) {
			/* a file's time moves in clock ticks: two commits in
			 * one tick look alike.  Every LMDB commit rewrites one
			 * of the two meta pages at the start of the file (its
			 * transaction number), so those bytes are looked at */
			long ps = sysconf(_SC_PAGESIZE);
			unsigned char b[2 * 65536];
			size_t n = ps > 0 && ps <= 65536 ? 2 * (size_t)ps : 8192;
			int fd = open(f, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			ssize_t got = fd >= 0 ? pread(fd, b, n, 0) : -1;
			unsigned long long h = 1469598103934665603ULL;

			if (fd >= 0)
				close(fd);
			for (ssize_t k = 0; k < got; k++)
				h = (h ^ b[k]) * 1099511628211ULL;
			out->v[i][0] = (long long)h;
		}
		out->v[i][0] ^= (long long)st.st_size;
		out->v[i][1] = (long long)st.st_ino;
		out->v[i][2] = (long long)st.st_mtim.tv_sec;
		out->v[i][3] = (long long)st.st_mtim.tv_nsec;
	}
	hlx_err_clear();
}
