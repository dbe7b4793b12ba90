/* SPDX-License-Identifier: MIT */
/*
 * One `hlx run` a node home: HOME/run.pid, locked (flock) for the life of
 * the process that runs the node and holding its pid.  The lock dies with
 * the process (however it ends), so a stale file never blocks a start.
 */
#ifndef HLX_RUNLOCK_H
#define HLX_RUNLOCK_H

/* Take the run lock of home: HLX_OK with *fd holding it (closing *fd
 * releases it), or HLX_ESTATE when another process holds it, naming its
 * pid (also in *holder; 0 when it could not be read). */
int hlx_runlock_take(const char *home, int *fd, long *holder);

/*
 * What another command's change to the node leaves behind, to notice it
 * between rounds without opening the node: the state's data file, the
 * trust chain and peers.json, by size, inode and modification time, and
 * the state by its meta pages too, which each commit rewrites (a missing
 * file counts as one).  Equal stamps: nothing was written there.
 */
struct hlx_run_stamp {
	long long v[3][4];
};

void hlx_runlock_stamp(const char *home, struct hlx_run_stamp *out);

#endif
