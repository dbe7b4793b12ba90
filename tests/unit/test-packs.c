/* SPDX-License-Identifier: MIT */
/*
 * Keeping a received pack (node/packs.h, hlx_pack_keep): a pack of just
 * what the verified commit reaches is kept as it came (the very file
 * received), also when many of its objects' ids share their first two
 * bytes, which a publisher can arrange by trying contents (here groups
 * of 21 and 6 blobs, found so); a pack with one object more, which the
 * commit does not reach, is packed again without it.  The same for a
 * second version on top of the first held, whose tree names blobs the
 * pack does not hold: one planted with an id next to a held blob's is
 * not taken for it.  The packs go the way a pull takes them: written by
 * hlx_pack_write (or libgit2's packbuilder, for the planted ones), through
 * the bounded scanner and libgit2's indexer (hlx_pack_index) into a
 * staging repository, then hlx_pack_keep.  Synthetic random blobs only.
 */
#include "node/files.h"
#include "node/packs.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "tests/unit/rng.h"
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
#define NNEW 10    /* blobs version 2 adds */
#define T0 1767323045 /* 2026-01-02T03:04:05Z */

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

/* The way of a pull: sent (a pack file) into a new staging repository
 * that sees base's objects (NULL: none), then what head reaches and hide
 * does not kept into dir; *ino is the inode of the pack as indexed in
 * staging (a pack kept as it came is that file, moved). */
static int receive(const char *top, const char *name, const char *base,
		   const char *sent, const char *head, const char *hide,
		   char dir[PATH_MAX], ino_t *ino)
{
	char staging[512], packs[PATH_MAX], pack[PATH_MAX];
	struct stat st;
	int rc;

	snprintf(staging, sizeof(staging), "%s/%s.git", top, name);
	snprintf(packs, sizeof(packs), "%s/objects/pack", staging);
	snprintf(dir, PATH_MAX, "%s/%s.keep", top, name);
	*ino = 0;
	rc = hlx_pack_stage(base, staging);
	if (!rc)
		rc = hlx_pack_index(staging, sent, NULL);
	if (!rc && find_ext(packs, ".pack", pack) == 1 && stat(pack, &st) == 0)
		*ino = st.st_ino;
	if (!rc)
		rc = hlx_pack_keep(staging, head, hide, dir);
	return rc;
}

/* The inode of path, 0 when it cannot be read. */
static ino_t inode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* A blob of random content into src; with like, one whose id starts
 * with like's first two bytes (and sorts after like's, with after): a
 * counter in the content stepped until it does, *tries counting. */
static int make_blob(git_repository *src, const git_oid *like, int after,
		     git_oid *id, uint64_t *tries)
{
	uint8_t c[48];

	random_content(c);
	for (;;) {
		uint64_t k;

		if (git_odb_hash(id, c, sizeof(c), GIT_OBJECT_BLOB) < 0)
			return -1;
		if (!like || (!memcmp(id->id, like->id, 2) &&
			      (!after || git_oid_cmp(id, like) > 0)))
			break;
		memcpy(&k, c + 40, 8);
		k++;
		memcpy(c + 40, &k, 8);
		(*tries)++;
	}
	return git_blob_create_from_buffer(id, src, c, sizeof(c));
}

/* A commit (parent: NULL, none) of one tree holding blobs ids[0..n). */
static int make_commit(git_repository *src, const git_oid *ids, size_t n,
		       const git_oid *parent, git_oid *tree, git_oid *commit)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_commit *pc = NULL;
	git_tree *t = NULL;
	int e = git_treebuilder_new(&tb, src, NULL);

	for (size_t i = 0; !e && i < n; i++) {
		char name[24];

		snprintf(name, sizeof(name), "b%04zu", i);
		e = git_treebuilder_insert(NULL, tb, name, &ids[i], GIT_FILEMODE_BLOB);
	}
	if (!e)
		e = git_treebuilder_write(tree, tb);
	if (!e)
		e = git_tree_lookup(&t, src, tree);
	if (!e && parent)
		e = git_commit_lookup(&pc, src, parent);
	if (!e)
		e = git_signature_new(&sig, "hlx-test", "hlx-test@example.invalid",
				      T0, 0);
	if (!e)
		e = git_commit_create_v(commit, src, NULL, sig, sig, NULL, "test\n",
					t, parent ? 1 : 0, pc);
	git_signature_free(sig);
	git_commit_free(pc);
	git_tree_free(t);
	git_treebuilder_free(tb);
	return e;
}

/* A pack file at path of what commit reaches and hide (NULL: none) does
 * not, and the blob extra, through libgit2's packbuilder. */
static int planted_pack(git_repository *src, const git_oid *commit,
			const git_oid *hide, const git_oid *extra,
			const char *path)
{
	git_packbuilder *pb = NULL;
	git_revwalk *w = NULL;
	git_buf buf = { 0 };
	int e = git_packbuilder_new(&pb, src);

	if (!e)
		e = git_revwalk_new(&w, src);
	if (!e)
		e = git_revwalk_push(w, commit);
	if (!e && hide)
		e = git_revwalk_hide(w, hide);
	if (!e)
		e = git_packbuilder_insert_walk(pb, w);
	if (!e)
		e = git_packbuilder_insert(pb, extra, NULL);
	if (!e)
		e = git_packbuilder_write_buf(&buf, pb);
	if (!e)
		e = write_file(path, buf.ptr, buf.size) == HLX_OK ? 0 : -1;
	git_buf_dispose(&buf);
	git_revwalk_free(w);
	git_packbuilder_free(pb);
	return e;
}

/* Every one of ids[0..n) in the pack whose index is idx. */
static int has_all(const char *idx, const git_oid *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pack_has(idx, &ids[i]) != 1)
			return 0;
	return 1;
}

/* The pack the publisher writes of what to reaches and from (NULL:
 * none) does not, at path. */
static int publish(const char *repo, const char *from, const char *to,
		   const char *path)
{
	int fd, rc = hlx_file_create(path, 0644, &fd);

	if (rc)
		return rc;
	rc = hlx_pack_write(repo, from, to, fd);
	close(fd);
	return rc;
}

int main(void)
{
	char top[64], srcdir[PATH_MAX], sent[PATH_MAX], dir[PATH_MAX];
	char kept[PATH_MAX], idx[PATH_MAX];
	char head1[GIT_OID_HEXSZ + 1], head2[GIT_OID_HEXSZ + 1];
	git_oid ids[NBLOBS + NNEW], tree1, tree2, c1, c2, extra;
	git_repository *src = NULL;
	uint64_t seed = 0x686c782d7061636bULL, tries = 0;
	size_t shared = 0, small = 0;
	ino_t ino;
	int setup = 0;

	if (getenv("HLX_SEED"))
		seed = strtoull(getenv("HLX_SEED"), NULL, 0);
	rng_state = seed;
	printf("# random seed 0x%016" PRIx64 " (HLX_SEED=n to change)\n", seed);
	snprintf(top, sizeof(top), "/tmp/hlx-test-packs.XXXXXX");
	if (!mkdtemp(top)) {
		ok(0, "a scratch directory");
		return done_testing();
	}
	snprintf(srcdir, sizeof(srcdir), "%s/src.git", top);
	if (git_libgit2_init() < 0 || git_repository_init(&src, srcdir, 1) < 0)
		goto out;

	/* random blobs, then NSHARED whose ids start with the first's two
	 * bytes and NSMALL with the second's */
	for (size_t i = 0; i < NBLOBS; i++)
		if (make_blob(src, i < NRANDOM ? NULL :
				   &ids[i < NRANDOM + NSHARED ? 0 : 1], 0,
			      &ids[i], &tries) < 0)
			goto out;
	for (size_t i = 0; i < NBLOBS; i++) {
		shared += !memcmp(ids[i].id, ids[0].id, 2);
		small += !memcmp(ids[i].id, ids[1].id, 2);
	}
	printf("# %zu tries for %d blobs sharing %02x%02x and %d sharing %02x%02x\n",
	       (size_t)tries, NSHARED, ids[0].id[0], ids[0].id[1], NSMALL,
	       ids[1].id[0], ids[1].id[1]);
	/* version 2: the same blobs and NNEW more */
	for (size_t i = NBLOBS; i < NBLOBS + NNEW; i++)
		if (make_blob(src, NULL, 0, &ids[i], &tries) < 0)
			goto out;
	if (make_commit(src, ids, NBLOBS, NULL, &tree1, &c1) < 0 ||
	    make_commit(src, ids, NBLOBS + NNEW, &c1, &tree2, &c2) < 0)
		goto out;
	git_oid_tostr(head1, sizeof(head1), &c1);
	git_oid_tostr(head2, sizeof(head2), &c2);
	setup = 1;
	ok(shared > 16 && small > 1 && small <= 16,
	   "%zu of the blobs' ids share their first two bytes, %zu others theirs",
	   shared, small);

	/* the publisher's pack of version 1: kept as it came */
	snprintf(sent, sizeof(sent), "%s/v1.pack", top);
	is_rc(publish(srcdir, NULL, head1, sent), HLX_OK,
	      "the publisher writes the pack of version 1");
	is_rc(receive(top, "one", NULL, sent, head1, NULL, dir, &ino), HLX_OK,
	      "the pack is received, indexed and kept");
	ok(find_ext(dir, ".pack", kept) == 1 && same_file(sent, kept) &&
	   ino && inode(kept) == ino,
	   "what the commit reaches, and nothing else: the pack kept as it came "
	   "(the received file, not packed again)");
	ok(find_ext(dir, ".idx", idx) == 1 && has_all(idx, ids, NBLOBS),
	   "the kept pack holds every blob");

	/* the same objects and one blob more, which nothing reaches: packed
	 * again, without it */
	snprintf(sent, sizeof(sent), "%s/v1-planted.pack", top);
	if (make_blob(src, NULL, 0, &extra, &tries) < 0 ||
	    planted_pack(src, &c1, NULL, &extra, sent) < 0) {
		ok(0, "the planted pack of version 1 is made");
		goto out;
	}
	is_rc(receive(top, "two", NULL, sent, head1, NULL, dir, &ino), HLX_OK,
	      "the pack with a planted blob is received, indexed and kept");
	ok(find_ext(dir, ".pack", kept) == 1 && !same_file(sent, kept) &&
	   ino && inode(kept) != ino,
	   "a pack with an object no verified commit reaches is packed again");
	ok(find_ext(dir, ".idx", idx) == 1 && pack_has(idx, &extra) == 0,
	   "the planted blob is not kept");
	ok(has_all(idx, ids, NBLOBS) && pack_has(idx, &c1) == 1 &&
	   pack_has(idx, &tree1) == 1,
	   "the commit, its tree and every blob are kept");

	/* version 2 on top of version 1 held: its tree names the held
	 * blobs, which the pack does not hold and the walk must not find */
	snprintf(sent, sizeof(sent), "%s/v2.pack", top);
	is_rc(publish(srcdir, head1, head2, sent), HLX_OK,
	      "the publisher writes the pack of version 2");
	is_rc(receive(top, "three", srcdir, sent, head2, head1, dir, &ino), HLX_OK,
	      "the pack of version 2 is received on version 1 and kept");
	ok(find_ext(dir, ".pack", kept) == 1 && ino && inode(kept) == ino,
	   "what version 2 adds, and nothing else: the pack kept as it came");
	ok(find_ext(dir, ".idx", idx) == 1 && has_all(idx, ids + NBLOBS, NNEW) &&
	   pack_has(idx, &ids[5]) == 0,
	   "it holds the new blobs, not the held ones");
	/* a planted blob whose id shares its first two bytes with a held
	 * blob's and sorts right after it: a lookup of the held blob that
	 * answered with a neighbour would mark the planted one reached */
	snprintf(sent, sizeof(sent), "%s/v2-planted.pack", top);
	if (make_blob(src, &ids[5], 1, &extra, &tries) < 0 ||
	    planted_pack(src, &c2, &c1, &extra, sent) < 0) {
		ok(0, "the planted pack of version 2 is made");
		goto out;
	}
	is_rc(receive(top, "four", srcdir, sent, head2, head1, dir, &ino), HLX_OK,
	      "version 2 with a blob planted next to a held one is received and kept");
	ok(find_ext(dir, ".pack", kept) == 1 && ino && inode(kept) != ino,
	   "it is packed again");
	ok(find_ext(dir, ".idx", idx) == 1 && pack_has(idx, &extra) == 0 &&
	   has_all(idx, ids + NBLOBS, NNEW) && pack_has(idx, &c2) == 1,
	   "the planted blob is not kept, the new blobs and the commit are");
out:
	if (!setup)
		ok(0, "the test's repository and objects are made");
	git_repository_free(src);
	git_libgit2_shutdown();
	hlx_rm_rf(top);
	return done_testing();
}
