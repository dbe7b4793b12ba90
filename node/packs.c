/* SPDX-License-Identifier: MIT */
#include "node/packs.h"
#include "node/files.h"
#include "node/history.h"
#include "protocol/err.h"
#include "protocol/pack.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <dirent.h>
#include <libgen.h>
#include <git2/sys/odb_backend.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int gerr(const char *what, const char *subject)
{
	const git_error *e = git_error_last();

	return hlx_err(HLX_EHISTORY, "%s '%.200s': %s", what, subject,
		       e && e->message ? e->message : "libgit2 error");
}

static int open_repo(const char *path, git_repository **out)
{
	if (hlx_hist_git_init() < 0)
		return gerr("cannot initialise libgit2 for", path);
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0) {
		int rc = gerr("cannot open repository", path);

		git_libgit2_shutdown();
		return rc;
	}
	return HLX_OK;
}

static void close_repo(git_repository *r)
{
	git_repository_free(r);
	git_libgit2_shutdown();
}


/* Hash lists are random: a delta search finds nothing and costs most of
 * the time.  Packing handles read the history's pack configuration. */
static int no_deltas(const char *repo, git_repository *r)
{
	git_config *cfg = NULL;
	char path[PATH_MAX];
	int rc = HLX_OK;

	if (snprintf(path, sizeof(path), "%s/" HLX_HIST_PACK_CONFIG, repo) >=
	    (int)sizeof(path))
		return hlx_err(HLX_EINVAL, "path too long");
	if (access(path, R_OK) != 0 &&
	    (rc = hlx_file_write(path, HLX_HIST_PACK_CONFIG_TEXT,
				 strlen(HLX_HIST_PACK_CONFIG_TEXT), 0644)))
		return rc;
	if (git_repository_config(&cfg, r) < 0 ||
	    git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP, r, 1) < 0)
		rc = gerr("cannot configure packing of", repo);
	git_config_free(cfg);
	return rc;
}

/* Number of objects in a pack index (version 2), or 0. */
static uint32_t idx_count(const char *idx)
{
	unsigned char h[8 + 256 * 4];
	FILE *f = fopen(idx, "rb");
	size_t got = f ? fread(h, 1, sizeof(h), f) : 0;

	if (f)
		fclose(f);
	if (got != sizeof(h) || memcmp(h, "\377tOc\0\0\0\2", 8) != 0)
		return 0;
	return (uint32_t)h[8 + 255 * 4] << 24 | (uint32_t)h[8 + 255 * 4 + 1] << 16 |
	       (uint32_t)h[8 + 255 * 4 + 2] << 8 | h[8 + 255 * 4 + 3];
}

/* An index file of a history's packs, and when it was last changed. */
struct idx_ent {
	char name[NAME_MAX + 1];
	struct timespec mt;
};

/* Newest first: the pack of the version just written, which is what a
 * publish looks for, is then the first one opened, however many versions
 * (one pack each) the history has. */
static int idx_newer(const void *a, const void *b)
{
	const struct idx_ent *x = a, *y = b;

	if (x->mt.tv_sec != y->mt.tv_sec)
		return x->mt.tv_sec < y->mt.tv_sec ? 1 : -1;
	if (x->mt.tv_nsec != y->mt.tv_nsec)
		return x->mt.tv_nsec < y->mt.tv_nsec ? 1 : -1;
	return strcmp(x->name, y->name);
}

/*
 * The history writes each version's new objects as one pack.  That pack
 * holds only objects the version added (an object already in the store is
 * not written again), so when it has as many objects as the walk from the
 * version's commit, hiding its parent's, finds, it is exactly the pack to
 * publish: it is used as it is instead of compressing everything again.
 * Its path into pack; 1 when there is one.
 */
static int own_pack(const char *repo, const git_oid *commit, size_t need,
		    char pack[PATH_MAX])
{
	char dir[PATH_MAX], idx[PATH_MAX];
	git_odb_backend *be = NULL;
	struct idx_ent *v = NULL;
	size_t nv = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	int found = 0;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/objects/pack", repo) >= (int)sizeof(dir) ||
	    !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".idx") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (nv == cap) {
			struct idx_ent *w = reallocarray(v, cap ? 2 * cap : 16, sizeof(*v));

			if (!w)
				break; /* not found: the pack is built instead */
			v = w;
			cap = cap ? 2 * cap : 16;
		}
		memcpy(v[nv].name, de->d_name, n + 1);
		v[nv++].mt = st.st_mtim;
	}
	closedir(d);
	if (nv > 1)
		qsort(v, nv, sizeof(*v), idx_newer);
	for (size_t i = 0; !found && i < nv; i++) {
		if (snprintf(idx, sizeof(idx), "%s/%s", dir, v[i].name) >= (int)sizeof(idx) ||
		    git_odb_backend_one_pack(&be, idx) < 0)
			continue;
		found = be->exists(be, commit) && idx_count(idx) == need;
		be->free(be);
		if (found) {
			memcpy(pack, idx, strlen(idx) - 4);
			strcpy(pack + strlen(idx) - 4, ".pack");
		}
	}
	free(v);
	return found;
}

/* Copy the file at path to fd; 1 when copied, 0 when it could not be read
 * (fd is emptied again), -1 when fd could not be emptied. */
static int copy_pack(const char *path, int fd)
{
	FILE *in = fopen(path, "rb");
	char buf[1 << 16];
	size_t got;
	int copied = in != NULL;

	while (copied && (got = fread(buf, 1, sizeof(buf), in)) > 0)
		copied = hlx_write_all(fd, buf, got) == 0;
	if (copied && ferror(in))
		copied = 0;
	if (in)
		fclose(in);
	/* what a failed copy wrote goes: the pack is built instead */
	if (!copied && (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0))
		return -1;
	return copied;
}

/* The walk of the objects from commit to, hiding from's, into a new
 * packbuilder of r. */
static int walk(const char *repo, git_repository *r, const char *from,
		const char *to, git_packbuilder **pb)
{
	git_revwalk *w = NULL;
	git_oid oid;
	int rc = HLX_OK;

	*pb = NULL;
	if (git_packbuilder_new(pb, r) < 0 || git_revwalk_new(&w, r) < 0 ||
	    git_oid_fromstr(&oid, to) < 0 || git_revwalk_push(w, &oid) < 0 ||
	    (from && (git_oid_fromstr(&oid, from) < 0 ||
		      git_revwalk_hide(w, &oid) < 0)) ||
	    git_packbuilder_insert_walk(*pb, w) < 0)
		rc = gerr("cannot build a pack from", repo);
	git_revwalk_free(w);
	return rc;
}

int hlx_pack_find(const char *repo, const char *from, const char *to,
		  char path[PATH_MAX])
{
	git_repository *r = NULL;
	git_packbuilder *pb = NULL;
	git_oid oid;
	int rc = open_repo(repo, &r);

	if (rc)
		return rc;
	rc = walk(repo, r, from, to, &pb);
	if (!rc && (git_oid_fromstr(&oid, to) < 0 ||
		    !own_pack(repo, &oid, git_packbuilder_object_count(pb), path)))
		rc = hlx_err(HLX_ENOENT, "history '%.200s': no pack of its own for %.40s",
			     repo, to);
	git_packbuilder_free(pb);
	close_repo(r);
	return rc;
}

int hlx_pack_write(const char *repo, const char *from, const char *to, int fd)
{
	git_repository *r = NULL;
	git_packbuilder *pb = NULL;
	git_buf buf = { 0 };
	git_oid oid;
	char own[PATH_MAX];
	int rc, reused = 0;

	rc = open_repo(repo, &r);
	if (rc)
		return rc;
	rc = no_deltas(repo, r);
	if (!rc)
		rc = walk(repo, r, from, to, &pb);
	if (rc)
		goto out;
	git_oid_fromstr(&oid, to);
	if (own_pack(repo, &oid, git_packbuilder_object_count(pb), own))
		reused = copy_pack(own, fd);
	if (reused < 0) {
		rc = hlx_err(HLX_EIO, "cannot write a pack of '%s': %s", repo,
			     strerror(errno));
		goto out;
	}
	if (reused)
		goto out;
	if (git_packbuilder_write_buf(&buf, pb) < 0) {
		rc = gerr("cannot build a pack from", repo);
		goto out;
	}
	if (hlx_write_all(fd, buf.ptr, buf.size) != 0)
		rc = hlx_err(HLX_EIO, "cannot write a pack of '%s': %s", repo,
			     strerror(errno));
out:
	git_buf_dispose(&buf);
	git_packbuilder_free(pb);
	close_repo(r);
	return rc;
}

int hlx_pack_stage(const char *base, const char *staging)
{
	git_repository *r = NULL;
	git_repository_init_options o;
	char alt[PATH_MAX], objs[PATH_MAX];
	int rc = HLX_OK;

	if (snprintf(alt, sizeof(alt), "%s/objects/info/alternates", staging) >=
		    (int)sizeof(alt) ||
	    (base && (!realpath(base, objs) || strlen(objs) + 10 > sizeof(objs))))
		return hlx_err(HLX_EINVAL, "cannot resolve '%.200s'", base);
	if (base)
		strcat(objs, "/objects");
	if (hlx_hist_git_init() < 0)
		return gerr("cannot initialise libgit2 for", staging);
	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
		  GIT_REPOSITORY_INIT_NO_REINIT;
	o.initial_head = "main";
	if (git_repository_init_ext(&r, staging, &o) < 0) {
		rc = gerr("cannot create staging repository", staging);
		git_libgit2_shutdown();
		return rc;
	}
	close_repo(r);
	if (!base)
		return HLX_OK;
	strcat(objs, "\n");
	return hlx_file_write(alt, objs, strlen(objs), 0644);
}

/*
 * Receiving a pack.  Nothing received reaches libgit2 before the bounded
 * scanner (protocol/pack.h) has accepted it, but the two need not take
 * turns: the reader scans each chunk as it comes, then hands it to
 * libgit2's indexer, which runs behind it on a thread of its own, a queue
 * of at most RECV_QUEUE bytes between them.  The indexer commits the pack
 * only once the scanner has seen its end (its trailer and nothing after
 * it) and the reader closed the job.  So the reader reaches the end of
 * the pack, every object it kept in hand, while the indexer still works:
 * a caller that takes the job (hlx_pack_index_stream with job) reads
 * those objects meanwhile and has the indexer's verdict when it finishes
 * the job.  Large chunks: the indexer drops its maps of the pack it
 * writes on every append.
 */
#define RECV_CHUNK (1 << 20)
#define RECV_QUEUE ((size_t)32 << 20)

struct chunk {
	struct chunk *next;
	size_t n;
	unsigned char data[];
};

struct hlx_pack_job {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail; /* handed over, not yet indexed */
	size_t queued;             /* their bytes */
	int closed;                /* every chunk handed over */
	int cancel;                /* the reader failed: commit nothing */
	int done;                  /* the indexer stopped; rc says how */
	int rc;
	char detail[512];          /* the indexer's error detail */
	char repo[PATH_MAX];
	char name[PATH_MAX];
};

/* The indexer takes n bytes; its error becomes ours. */
static int index_append(git_odb_writepack *wp, const void *p, size_t n,
			git_indexer_progress *st, const char *packfile)
{
	if (n && wp->append(wp, p, n, st) < 0)
		return gerr("bad pack", packfile);
	return HLX_OK;
}

/* The next chunk to index; NULL when there is none to come (or the
 * reader failed: *cancel). */
static struct chunk *job_take(struct hlx_pack_job *j, int *cancel)
{
	struct chunk *c;

	pthread_mutex_lock(&j->mu);
	while (!j->head && !j->closed && !j->cancel)
		pthread_cond_wait(&j->cv, &j->mu);
	*cancel = j->cancel;
	c = *cancel ? NULL : j->head;
	if (c) {
		j->head = c->next;
		if (!j->head)
			j->tail = NULL;
		j->queued -= c->n;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return c;
}

static void *index_run(void *arg)
{
	struct hlx_pack_job *j = arg;
	git_repository *r = NULL;
	git_odb *odb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = { 0 };
	int cancel = 0, rc;

	rc = open_repo(j->repo, &r);
	if (rc)
		r = NULL;
	else if (git_repository_odb(&odb, r) < 0 ||
		 git_odb_write_pack(&wp, odb, NULL, NULL) < 0)
		rc = gerr("cannot receive a pack into", j->repo);
	while (!rc) {
		struct chunk *c = job_take(j, &cancel);

		if (!c)
			break;
		rc = index_append(wp, c->data, c->n, &st, j->name);
		free(c);
	}
	if (!rc && !cancel && wp->commit(wp, &st) < 0)
		rc = gerr("bad pack", j->name);
	if (wp)
		wp->free(wp);
	git_odb_free(odb);
	if (r)
		close_repo(r);
	pthread_mutex_lock(&j->mu);
	if (rc)
		snprintf(j->detail, sizeof(j->detail), "%s", hlx_err_detail());
	j->rc = rc;
	j->done = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* The indexer's error, on the calling thread. */
static int job_err(struct hlx_pack_job *j)
{
	return hlx_err(j->rc, "%s", j->detail);
}

/* Hand chunk c of n bytes over (c is the job's, whatever happens); wait
 * while the queue is full.  The indexer's error if it stopped. */
static int job_put(struct hlx_pack_job *j, struct chunk *c, size_t n)
{
	int rc = HLX_OK;

	c->next = NULL;
	c->n = n;
	pthread_mutex_lock(&j->mu);
	while (j->queued && j->queued + n > RECV_QUEUE && !j->done)
		pthread_cond_wait(&j->cv, &j->mu);
	if (j->done) {
		rc = j->rc ? job_err(j) : hlx_err(HLX_EHISTORY, "the indexer stopped early");
		free(c);
	} else if (n) {
		if (j->tail)
			j->tail->next = c;
		else
			j->head = c;
		j->tail = c;
		j->queued += n;
		pthread_cond_broadcast(&j->cv);
	} else {
		free(c);
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

/* Every chunk was handed over: the indexer commits the pack once it has
 * taken them all. */
static void job_close(struct hlx_pack_job *j)
{
	pthread_mutex_lock(&j->mu);
	j->closed = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Wait for the indexer and free the job: its verdict, or HLX_OK when
 * cancelled.  A job finished before every chunk was handed over is
 * cancelled, and that is an error: the pack is not indexed. */
static int job_end(struct hlx_pack_job *j, int cancel)
{
	int rc, early;

	pthread_mutex_lock(&j->mu);
	early = !cancel && !j->closed;
	if (cancel || early)
		j->cancel = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->th, NULL);
	if (early)
		rc = hlx_err(HLX_EINVAL, "'%.200s': finished before it was read whole",
			     j->name);
	else
		rc = j->rc && !cancel ? job_err(j) : HLX_OK;
	while (j->head) {
		struct chunk *c = j->head;

		j->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
	return rc;
}

static int job_start(const char *repo, const char *packfile,
		     struct hlx_pack_job **out)
{
	struct hlx_pack_job *j = calloc(1, sizeof(*j));
	int mu = 0, cv = 0, rc;

	*out = NULL;
	if (!j)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (snprintf(j->repo, sizeof(j->repo), "%s", repo) >= (int)sizeof(j->repo) ||
	    snprintf(j->name, sizeof(j->name), "%s", packfile) >= (int)sizeof(j->name)) {
		rc = hlx_err(HLX_EINVAL, "path too long: '%.200s'", packfile);
		goto fail;
	}
	mu = pthread_mutex_init(&j->mu, NULL) == 0;
	cv = mu && pthread_cond_init(&j->cv, NULL) == 0;
	if (!cv || pthread_create(&j->th, NULL, index_run, j) != 0) {
		rc = hlx_err(HLX_ENOMEM, "cannot start an indexer");
		goto fail;
	}
	*out = j;
	return HLX_OK;
fail:
	if (cv)
		pthread_cond_destroy(&j->cv);
	if (mu)
		pthread_mutex_destroy(&j->mu);
	free(j);
	return rc;
}

int hlx_pack_job_finish(struct hlx_pack_job *job)
{
	return job ? job_end(job, 0) : HLX_OK;
}

void hlx_pack_job_abandon(struct hlx_pack_job *job)
{
	if (job)
		job_end(job, 1);
}

/* The objects the scanner inflates, kept by id (struct hlx_hist_blobs). */
struct collect {
	struct hlx_hist_blobs *b;
	char *cur;               /* the object in hand, NULL: not kept */
	size_t n, pos;
	int type;
};

static void collect_obj(void *ctx, int type, uint64_t size)
{
	struct collect *c = ctx;

	hlx_hist_blobs_drop(c->b, c->cur, c->n);
	c->cur = NULL;
	c->type = type;
	c->n = size <= SIZE_MAX ? (size_t)size : SIZE_MAX;
	c->pos = 0;
	c->cur = hlx_hist_blobs_reserve(c->b, c->n);
}

static void collect_data(void *ctx, const uint8_t *p, size_t n, int end)
{
	struct collect *c = ctx;

	if (!c->cur)
		return;
	if (end && c->pos == c->n) {
		hlx_hist_blobs_keep(c->b, c->cur, c->n, c->type);
		c->cur = NULL;
	} else if (end || n > c->n - c->pos) {
		hlx_hist_blobs_drop(c->b, c->cur, c->n);
		c->cur = NULL;
	} else {
		memcpy(c->cur + c->pos, p, n);
		c->pos += n;
	}
}

/* Where a pack comes from: bytes read from fd already (pre), then fd. */
struct src {
	int fd;
	const uint8_t *pre;
	size_t npre;
};

/* Fill buf with up to n bytes: fewer only at the end of the stream;
 * (size_t)-1 on a read error. */
static size_t src_read(struct src *s, uint8_t *buf, size_t n)
{
	size_t got = 0;

	if (s->npre) {
		got = s->npre < n ? s->npre : n;
		memcpy(buf, s->pre, got);
		s->pre += got;
		s->npre -= got;
	}
	while (got < n) {
		ssize_t r = read(s->fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return (size_t)-1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Read the pack from in to its end, scanning it (scan), and index it;
 * the indexer still running when the reader is done is *job's when job
 * is not NULL, else waited for here. */
static int index_pack(const char *repo, const char *packfile, struct src *in,
		      int scan, struct hlx_hist_blobs *blobs,
		      struct hlx_pack_job **job)
{
	struct collect col = { blobs, NULL, 0, 0, 0 };
	struct hlx_packscan *ps = NULL;
	struct hlx_pack_job *j = NULL;
	int inited = 0, rc;

	if (job)
		*job = NULL;
	ps = scan ? calloc(1, sizeof(*ps)) : NULL;
	if (scan && !ps)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = scan ? hlx_packscan_init(ps) : HLX_OK;
	inited = scan && !rc;
	if (inited && blobs) {
		ps->obj = collect_obj;
		ps->data = collect_data;
		ps->ctx = &col;
	}
	if (!rc)
		rc = job_start(repo, packfile, &j);
	while (!rc) {
		struct chunk *c = malloc(sizeof(*c) + RECV_CHUNK);
		size_t n;
		int finish;

		if (!c) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			break;
		}
		n = src_read(in, c->data, RECV_CHUNK);
		if (n == (size_t)-1) {
			rc = hlx_err(HLX_EIO, "cannot read '%s': %s", packfile,
				     strerror(errno));
			free(c);
			break;
		}
		finish = n < RECV_CHUNK;
		if (scan) {
			rc = hlx_packscan_feed(ps, c->data, n);
			/* (the job is closed only once the end was seen) */
			if (!rc && finish)
				rc = hlx_packscan_finish(ps);
		}
		if (rc)
			free(c);
		else
			rc = job_put(j, c, n);
		if (finish)
			break;
	}
	if (j && rc) {
		hlx_pack_job_abandon(j);
	} else if (j) {
		job_close(j);
		if (job)
			*job = j;
		else
			rc = hlx_pack_job_finish(j);
	}
	if (inited)
		hlx_packscan_free(ps);
	hlx_hist_blobs_drop(blobs, col.cur, col.n);
	free(ps);
	return rc;
}

/* index_pack from the file packfile */
static int index_file(const char *repo, const char *packfile, int scan,
		      struct hlx_hist_blobs *blobs)
{
	struct src in = { -1, NULL, 0 };
	int rc;

	in.fd = open(packfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in.fd < 0)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", packfile, strerror(errno));
	rc = index_pack(repo, packfile, &in, scan, blobs, NULL);
	close(in.fd);
	return rc;
}

int hlx_pack_index(const char *repo, const char *packfile,
		   struct hlx_hist_blobs *blobs)
{
	return index_file(repo, packfile, 1, blobs);
}

int hlx_pack_index_stream(const char *repo, const char *name, int fd,
			  const void *pre, size_t npre,
			  struct hlx_hist_blobs *blobs,
			  struct hlx_pack_job **job)
{
	struct src in = { fd, pre, npre };

	return index_pack(repo, name, &in, 1, blobs, job);
}

int hlx_pack_index_own(const char *repo, const char *packfile)
{
	return index_file(repo, packfile, 0, NULL);
}

/* ---- keeping what was verified ---------------------------------------- */

static int move_packs(const char *from, const char *to);

/* The objects of the received packs, sorted, each with a mark; fan[k]
 * is the number of them whose first two bytes are less than k. */
struct recv {
	git_odb_backend **be;
	size_t nbe;
	git_oid *id;
	unsigned char *mark;
	size_t n, cap;
	uint32_t *fan;
	git_repository *r;
};

#define RECV_FAN 65536

static int recv_add(const git_oid *id, void *payload)
{
	struct recv *v = payload;

	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 4096;
		git_oid *x;

		if (nc > SIZE_MAX / sizeof(*x))
			return -1;
		x = realloc(v->id, nc * sizeof(*x));
		if (!x)
			return -1;
		v->id = x;
		v->cap = nc;
	}
	v->id[v->n++] = *id;
	return 0;
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

static unsigned recv_key(const git_oid *id)
{
	return (unsigned)id->id[0] << 8 | id->id[1];
}

/* Sort the received objects and count them by their first two bytes: a
 * lookup then searches the few that share those (two, at 131,000
 * objects) instead of all.  The index does not hand them over by id
 * (libgit2 lists a pack's objects in the pack's order): they are placed
 * by their first two bytes, and each group (of about two) sorted, in
 * place of a sort of all. */
static int recv_sort(struct recv *v)
{
	git_oid *to;
	size_t i;

	if ((uint64_t)v->n > UINT32_MAX || !(v->fan = calloc(RECV_FAN + 1, sizeof(*v->fan))))
		return -1;
	if (!(to = malloc((v->n ? v->n : 1) * sizeof(*to))))
		return -1;
	for (i = 0; i < v->n; i++)
		v->fan[recv_key(&v->id[i]) + 1]++;
	for (i = 1; i <= RECV_FAN; i++)
		v->fan[i] += v->fan[i - 1];
	/* fan[k] is where group k starts; each placed one moves it on */
	for (i = 0; i < v->n; i++)
		to[v->fan[recv_key(&v->id[i])]++] = v->id[i];
	/* now fan[k] is where group k ends, group k + 1 starts */
	memmove(v->fan + 1, v->fan, RECV_FAN * sizeof(*v->fan));
	v->fan[0] = 0;
	for (unsigned k = 0; k < RECV_FAN; k++) {
		size_t lo = v->fan[k], hi = v->fan[k + 1];

		/* many ids sharing two bytes can be made on purpose: no
		 * insertion sort of those */
		if (hi - lo > 16) {
			qsort(to + lo, hi - lo, sizeof(*to), oid_cmp);
			continue;
		}
		for (size_t a = lo + 1; a < hi; a++) {
			git_oid t = to[a];
			size_t b = a;

			for (; b > lo && git_oid_cmp(&to[b - 1], &t) > 0; b--)
				to[b] = to[b - 1];
			to[b] = t;
		}
	}
	free(v->id);
	v->id = to;
	return 0;
}

/* Index of id among the received objects, or -1. */
static ssize_t recv_find(const struct recv *v, const git_oid *id)
{
	unsigned k = recv_key(id);
	size_t lo = v->fan[k], hi = v->fan[k + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = git_oid_cmp(&v->id[mid], id);

		if (!c)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Mark the received objects of tree id and below; a tree that was not
 * received is held already, with everything below it.  The history's
 * check (three levels, entries in order) ran before. */
static int recv_tree(struct recv *v, const git_oid *id, int level)
{
	ssize_t k = recv_find(v, id);
	git_tree *t = NULL;
	int rc = 0;

	if (k < 0 || v->mark[k])
		return 0;
	v->mark[k] = 1;
	if (level > 3 || git_tree_lookup(&t, v->r, id) < 0)
		return -1;
	for (size_t i = 0; i < git_tree_entrycount(t) && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		ssize_t j;

		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = recv_tree(v, git_tree_entry_id(e), level + 1);
		else if ((j = recv_find(v, git_tree_entry_id(e))) >= 0)
			v->mark[j] = 1;
	}
	git_tree_free(t);
	return rc;
}

/*
 * Whether the received packs of staging hold only objects that the new
 * commits (head, not hide) reach: then they are kept as they are, instead
 * of compressing every object again.  A walk from each new commit marks
 * the received objects it reaches, descending only into trees that were
 * received (work in proportion to what was received, never to the whole
 * list); any object left unmarked sends the caller to the repack.
 * Returns 1 when all are reached, 0 when not, -1 on error.
 */
static int recv_all_reached(git_repository *r, const char *staging,
			    const char *head, const char *hide)
{
	struct recv v = { NULL, 0, NULL, NULL, 0, 0, NULL, r };
	char dir[PATH_MAX], idx[PATH_MAX];
	git_revwalk *w = NULL;
	struct dirent *de;
	git_oid oid;
	DIR *d;
	int res = -1;

	if (snprintf(dir, sizeof(dir), "%s/objects/pack", staging) >= (int)sizeof(dir) ||
	    !(d = opendir(dir)))
		return -1;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		git_odb_backend *be = NULL, **x;

		if (n < 5 || strcmp(de->d_name + n - 4, ".idx") != 0)
			continue;
		if (snprintf(idx, sizeof(idx), "%s/%s", dir, de->d_name) >= (int)sizeof(idx) ||
		    git_odb_backend_one_pack(&be, idx) < 0)
			goto closed;
		x = realloc(v.be, (v.nbe + 1) * sizeof(*x));
		if (!x) {
			be->free(be);
			goto closed;
		}
		v.be = x;
		v.be[v.nbe++] = be;
		if (be->foreach(be, recv_add, &v) < 0)
			goto closed;
	}
	closedir(d);
	d = NULL;
	v.mark = calloc(v.n + 1, 1);
	if (!v.mark || recv_sort(&v) < 0 || git_revwalk_new(&w, r) < 0 ||
	    git_oid_fromstr(&oid, head) < 0 || git_revwalk_push(w, &oid) < 0 ||
	    (hide && (git_oid_fromstr(&oid, hide) < 0 || git_revwalk_hide(w, &oid) < 0)))
		goto closed;
	res = 1;
	while (res == 1 && git_revwalk_next(&oid, w) == 0) {
		git_commit *c = NULL;
		ssize_t k = recv_find(&v, &oid);

		if (k >= 0)
			v.mark[k] = 1;
		if (git_commit_lookup(&c, r, &oid) < 0 ||
		    recv_tree(&v, git_commit_tree_id(c), 1) < 0)
			res = -1;
		git_commit_free(c);
	}
	for (size_t i = 0; res == 1 && i < v.n; i++)
		if (!v.mark[i])
			res = 0;
closed:
	if (d)
		closedir(d);
	git_revwalk_free(w);
	for (size_t i = 0; i < v.nbe; i++)
		v.be[i]->free(v.be[i]);
	free(v.be);
	free(v.id);
	free(v.mark);
	free(v.fan);
	return res;
}

/* The number of pack indexes in staging's objects/pack (at most 2: is
 * there more than one?), -1 on error. */
static int recv_packs(const char *staging)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (snprintf(dir, sizeof(dir), "%s/objects/pack", staging) >= (int)sizeof(dir) ||
	    !(d = opendir(dir)))
		return -1;
	while (n < 2 && (de = readdir(d))) {
		size_t l = strlen(de->d_name);

		n += l > 4 && strcmp(de->d_name + l - 4, ".idx") == 0;
	}
	closedir(d);
	return n;
}

/* Move the received packs of staging (each .pack with its .idx) to dir. */
static int recv_move(const char *staging, const char *dir)
{
	char from[PATH_MAX];

	if (snprintf(from, sizeof(from), "%s/objects/pack", staging) >= (int)sizeof(from))
		return hlx_err(HLX_EINVAL, "path too long");
	return move_packs(from, dir);
}

/* libgit2's indexer maps and unmaps the pack once per append: fed one
 * object at a time, as git_packbuilder_write does, that is two system
 * calls per object (most of a sync's time at a few thousand objects).
 * The pack goes to the indexer in chunks of FEED_CHUNK instead. */
#define FEED_CHUNK (1u << 20)

struct feed {
	git_indexer *idx;
	git_indexer_progress st;
	unsigned char *buf;
	size_t len;
};

static int feed_flush(struct feed *f)
{
	int e = 0;

	if (f->len)
		e = git_indexer_append(f->idx, f->buf, f->len, &f->st);
	f->len = 0;
	return e;
}

static int feed_cb(void *data, size_t size, void *payload)
{
	struct feed *f = payload;
	const unsigned char *p = data;

	while (size) {
		size_t n = FEED_CHUNK - f->len;

		if (n > size)
			n = size;
		memcpy(f->buf + f->len, p, n);
		f->len += n;
		p += n;
		size -= n;
		if (f->len == FEED_CHUNK && feed_flush(f) < 0)
			return -1;
	}
	return 0;
}

/* Writes the packbuilder's pack and its index into dir (fsync'd by the
 * indexer under GIT_OPT_ENABLE_FSYNC_GITDIR, then renamed into place). */
static int write_pack_chunked(git_packbuilder *pb, const char *dir)
{
	struct feed f = { 0 };
	int rc = HLX_OK;

	f.buf = malloc(FEED_CHUNK);
	if (!f.buf)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (git_indexer_new(&f.idx, dir, 0644, NULL, NULL) < 0 ||
	    git_packbuilder_foreach(pb, feed_cb, &f) < 0 ||
	    feed_flush(&f) < 0 || git_indexer_commit(f.idx, &f.st) < 0)
		rc = gerr("cannot write a pack into", dir);
	git_indexer_free(f.idx);
	free(f.buf);
	return rc;
}

int hlx_pack_keep(const char *staging, const char *head, const char *hide,
		  const char *dir)
{
	git_repository *r = NULL;
	git_packbuilder *pb = NULL;
	git_revwalk *w = NULL;
	git_oid oid;
	int rc;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return hlx_err(HLX_EIO, "cannot create '%s': %s", dir, strerror(errno));
	rc = open_repo(staging, &r);
	if (rc)
		return rc;
	/* the usual case: the publisher sent just what one version added.
	 * Several versions' packs are packed again as one: their indexes
	 * would come into the mirror one by one, in directory order, and a
	 * crash between two could show a version without its parent (an
	 * object no verified commit reaches, spec/sync.md 5.2). */
	if (recv_packs(staging) == 1 &&
	    recv_all_reached(r, staging, head, hide) == 1) {
		rc = recv_move(staging, dir);
		goto out;
	}
	hlx_err_clear();
	rc = no_deltas(staging, r);
	if (rc)
		goto out;
	if (git_packbuilder_new(&pb, r) < 0 || git_revwalk_new(&w, r) < 0 ||
	    git_oid_fromstr(&oid, head) < 0 || git_revwalk_push(w, &oid) < 0 ||
	    (hide && (git_oid_fromstr(&oid, hide) < 0 ||
		      git_revwalk_hide(w, &oid) < 0))) {
		rc = gerr("cannot walk the verified versions in", staging);
		goto out;
	}
	git_packbuilder_set_threads(pb, 1);
	if (git_packbuilder_insert_walk(pb, w) < 0)
		rc = gerr("cannot pack the verified versions of", staging);
	else
		rc = write_pack_chunked(pb, dir);
out:
	git_revwalk_free(w);
	git_packbuilder_free(pb);
	close_repo(r);
	return rc;
}

int hlx_pack_drop(const char *repo)
{
	char dir[PATH_MAX], p[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = HLX_OK;

	if (snprintf(dir, sizeof(dir), "%s/objects/pack", repo) >= (int)sizeof(dir))
		return hlx_err(HLX_EINVAL, "path too long");
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? HLX_OK :
		       hlx_err(HLX_EIO, "cannot open '%s': %s", dir, strerror(errno));
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
			rc = hlx_err(HLX_EINVAL, "path too long");
		else if (unlink(p) != 0)
			rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p, strerror(errno));
	}
	closedir(d);
	return rc;
}

static int move_packs(const char *from, const char *to)
{
	char sp[PATH_MAX], dp[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = HLX_OK;

	/* .pack files first, then their .idx: git only sees a pack through
	 * its index, so a crash in between leaves nothing half there */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		const char *ext = pass ? ".idx" : ".pack";

		d = opendir(from);
		if (!d)
			return hlx_err(HLX_EIO, "cannot open '%s': %s", from, strerror(errno));
		while (!rc && (de = readdir(d))) {
			size_t n = strlen(de->d_name), el = strlen(ext);

			if (n <= el || strcmp(de->d_name + n - el, ext) != 0)
				continue;
			if (snprintf(sp, sizeof(sp), "%s/%s", from, de->d_name) >= (int)sizeof(sp) ||
			    snprintf(dp, sizeof(dp), "%s/%s", to, de->d_name) >= (int)sizeof(dp)) {
				rc = hlx_err(HLX_EINVAL, "path too long");
				break;
			}
			rc = hlx_fsync_path(sp, 0);
			if (!rc && rename(sp, dp) != 0)
				rc = hlx_err(HLX_EIO, "cannot move '%s' to '%s': %s", sp, dp,
					     strerror(errno));
		}
		closedir(d);
		if (!rc)
			rc = hlx_fsync_path(to, 1);
	}
	return rc;
}

int hlx_pack_adopt(const char *from, const char *base)
{
	char to[PATH_MAX];

	if (snprintf(to, sizeof(to), "%s/objects/pack", base) >= (int)sizeof(to))
		return hlx_err(HLX_EINVAL, "path too long");
	return move_packs(from, to);
}
