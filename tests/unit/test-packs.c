/* SPDX-License-Identifier: MIT */
/*
 * Keeping a received pack (node/packs.h, hlx_pack_keep): a pack of just
 * what the verified commit reaches is kept as it came, byte for byte,
 * also when many of its objects' ids share their first two bytes (which
 * a publisher can arrange by trying contents: here groups of 21 and 6
 * blobs, found so);
 * a pack with one object more, which the commit does not reach, is packed
 * again without it.  The packs go the way a pull takes them: written by
 * hlx_pack_write, through the bounded scanner and libgit2's indexer
 * (hlx_pack_index) into a staging repository, then hlx_pack_keep.
 * Synthetic random blobs only.
 */
#include "node/files.h"
#include "node/packs.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "tests/unit/tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NRANDOM 300
#define NSHARED 20 /* more than the groups an insertion sort takes (16) */
#define NSMALL 5   /* a group it takes */
#define NBLOBS (NRANDOM + NSHARED + NSMALL)
#define T0 1767323045 /* 2026-01-02T03:04:05Z */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 40 random bytes, then an 8-byte counter a search may step */
static void random_content(uint8_t c[48])
{
	for (int i = 0; i < 48; i += 8) {
		uint64_t x = rnd();

		memcpy(c + i, &x, 8);
	}
}

/* The one file of dir whose name ends in ext, into path. */
static int find_ext(const char *dir, const char *ext, char path[PATH_MAX])
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), el = strlen(ext);

		if (l > el && !strcmp(de->d_name + l - el, ext)) {
			snprintf(path, PATH_MAX, "%s/%s", dir, de->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

static int same_file(const char *a, const char *b)
{
	struct hlx_buf x = HLX_BUF_INIT, y = HLX_BUF_INIT;
	int same = hlx_file_read(a, 1 << 26, &x) == HLX_OK &&
		   hlx_file_read(b, 1 << 26, &y) == HLX_OK && x.len == y.len &&
		   memcmp(x.data, y.data, x.len) == 0;

	hlx_buf_free(&x);
	hlx_buf_free(&y);
	return same;
}

/* Is id in the pack whose index is idx? -1 when it cannot be read. */
static int pack_has(const char *idx, const git_oid *id)
{
	git_odb_backend *be = NULL;
	int has;

	if (git_odb_backend_one_pack(&be, idx) < 0)
		return -1;
	has = be->exists(be, id);
	be->free(be);
	return has;
}

static int write_file(const char *path, const void *p, size_t n)
{
	int fd, rc = hlx_file_create(path, 0644, &fd);

	if (rc)
		return rc;
	if (hlx_write_all(fd, p, n) != 0)
		rc = HLX_EIO;
	close(fd);
	return rc;
}

/* The way of a pull: sent (a pack file) into a new staging repository,
 * then kept into dir; *ino is the inode of the pack as indexed in
 * staging (a pack kept as it came is that file, moved). */
static int receive(const char *top, const char *name, const char *sent,
		   const char *head, char dir[PATH_MAX], ino_t *ino)
{
	char staging[512], packs[PATH_MAX], pack[PATH_MAX];
	struct stat st;
	int rc;

	snprintf(staging, sizeof(staging), "%s/%s.git", top, name);
	snprintf(packs, sizeof(packs), "%s/objects/pack", staging);
	snprintf(dir, PATH_MAX, "%s/%s.keep", top, name);
	*ino = 0;
	rc = hlx_pack_stage(NULL, staging);
	if (!rc)
		rc = hlx_pack_index(staging, sent, NULL);
	if (!rc && find_ext(packs, ".pack", pack) == 1 && stat(pack, &st) == 0)
		*ino = st.st_ino;
	if (!rc)
		rc = hlx_pack_keep(staging, head, NULL, dir);
	return rc;
}

/* The inode of path, 0 when it cannot be read. */
static ino_t inode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

int main(void)
{
	char top[64], srcdir[PATH_MAX], sent[PATH_MAX], dir[PATH_MAX];
	char kept[PATH_MAX], idx[PATH_MAX], head[GIT_OID_HEXSZ + 1];
	git_oid ids[NBLOBS], tree, commit, extra;
	git_repository *src = NULL;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_packbuilder *pb = NULL;
	git_buf buf = { 0 };
	git_tree *t = NULL;
	uint8_t c[48];
	uint64_t seed = 0x686c782d7061636bULL, tries = 0;
	size_t shared = 0, small = 0;
	int fd, all, some;
	ino_t ino;

	if (getenv("HLX_SEED"))
		seed = strtoull(getenv("HLX_SEED"), NULL, 0);
	rng_state = seed;
	printf("# random seed 0x%016" PRIx64 " (HLX_SEED=n to change)\n", seed);
	snprintf(top, sizeof(top), "/tmp/hlx-test-packs.XXXXXX");
	if (!mkdtemp(top) || git_libgit2_init() < 0)
		return 1;
	snprintf(srcdir, sizeof(srcdir), "%s/src.git", top);
	if (git_repository_init(&src, srcdir, 1) < 0)
		return 1;

	/* random blobs, then NSHARED whose ids start with the first's two
	 * bytes and NSMALL with the second's: a counter stepped until the
	 * id does */
	for (size_t i = 0; i < NBLOBS; i++) {
		random_content(c);
		for (;;) {
			uint64_t k;

			if (git_odb_hash(&ids[i], c, sizeof(c), GIT_OBJECT_BLOB) < 0)
				return 1;
			if (i < NRANDOM ||
			    !memcmp(ids[i].id, ids[i < NRANDOM + NSHARED ? 0 : 1].id, 2))
				break;
			memcpy(&k, c + 40, 8);
			k++;
			memcpy(c + 40, &k, 8);
			tries++;
		}
		if (git_blob_create_from_buffer(&ids[i], src, c, sizeof(c)) < 0)
			return 1;
	}
	for (size_t i = 0; i < NBLOBS; i++) {
		shared += !memcmp(ids[i].id, ids[0].id, 2);
		small += !memcmp(ids[i].id, ids[1].id, 2);
	}
	printf("# %zu tries for %d blobs sharing %02x%02x and %d sharing %02x%02x\n",
	       (size_t)tries, NSHARED, ids[0].id[0], ids[0].id[1], NSMALL,
	       ids[1].id[0], ids[1].id[1]);
	ok(shared > 16 && small > 1 && small <= 16,
	   "%zu of the blobs' ids share their first two bytes, %zu others theirs",
	   shared, small);

	/* one tree of them all, one commit */
	if (git_treebuilder_new(&tb, src, NULL) < 0)
		return 1;
	for (size_t i = 0; i < NBLOBS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "b%04zu", i);
		if (git_treebuilder_insert(NULL, tb, name, &ids[i], GIT_FILEMODE_BLOB) < 0)
			return 1;
	}
	if (git_treebuilder_write(&tree, tb) < 0 || git_tree_lookup(&t, src, &tree) < 0 ||
	    git_signature_new(&sig, "hlx-test", "hlx-test@example.invalid", T0, 0) < 0)
		return 1;
	if (git_commit_create(&commit, src, NULL, sig, sig, NULL, "test\n", t, 0,
			      NULL) < 0)
		return 1;
	git_oid_tostr(head, sizeof(head), &commit);

	/* the publisher's pack of the commit: kept as it came */
	snprintf(sent, sizeof(sent), "%s/sent.pack", top);
	if (hlx_file_create(sent, 0644, &fd) != HLX_OK)
		return 1;
	is_rc(hlx_pack_write(srcdir, NULL, head, fd), HLX_OK, "the publisher writes the pack");
	close(fd);
	is_rc(receive(top, "one", sent, head, dir, &ino), HLX_OK,
	      "the pack is received, indexed and kept");
	ok(find_ext(dir, ".pack", kept) == 1 && same_file(sent, kept) &&
	   ino && inode(kept) == ino,
	   "what the commit reaches, and nothing else: the pack kept as it came "
	   "(the received file, not packed again)");
	all = find_ext(dir, ".idx", idx) == 1;
	for (size_t i = 0; all && i < NBLOBS; i++)
		all = pack_has(idx, &ids[i]) == 1;
	ok(all, "the kept pack holds every blob");

	/* the same objects and one blob more, which nothing reaches: packed
	 * again, without it */
	random_content(c);
	if (git_blob_create_from_buffer(&extra, src, c, sizeof(c)) < 0 ||
	    git_packbuilder_new(&pb, src) < 0 ||
	    git_packbuilder_insert_commit(pb, &commit) < 0 ||
	    git_packbuilder_insert(pb, &extra, NULL) < 0 ||
	    git_packbuilder_write_buf(&buf, pb) < 0)
		return 1;
	snprintf(sent, sizeof(sent), "%s/planted.pack", top);
	if (write_file(sent, buf.ptr, buf.size) != HLX_OK)
		return 1;
	is_rc(receive(top, "two", sent, head, dir, &ino), HLX_OK,
	      "the pack with a planted blob is received, indexed and kept");
	ok(find_ext(dir, ".pack", kept) == 1 && !same_file(sent, kept) &&
	   ino && inode(kept) != ino,
	   "a pack with an object no verified commit reaches is packed again");
	some = find_ext(dir, ".idx", idx) == 1;
	ok(some && pack_has(idx, &extra) == 0, "the planted blob is not kept");
	all = some;
	for (size_t i = 0; all && i < NBLOBS; i++)
		all = pack_has(idx, &ids[i]) == 1;
	ok(all && pack_has(idx, &commit) == 1 && pack_has(idx, &tree) == 1,
	   "the commit, its tree and every blob are kept");

	git_buf_dispose(&buf);
	git_packbuilder_free(pb);
	git_signature_free(sig);
	git_tree_free(t);
	git_treebuilder_free(tb);
	git_repository_free(src);
	git_libgit2_shutdown();
	hlx_rm_rf(top);
	return done_testing();
}
