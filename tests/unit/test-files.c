/* SPDX-License-Identifier: MIT */
/* node/files.c: a whole file written under a temporary name (or none at
 * all), then renamed into place, at once (commit) or in two steps (sync,
 * then commit), as the match index writes its files without the writer
 * lock and puts them in place under it. */
#include "node/files.h"
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The names in dir besides . and .., and whether one is a temporary. */
static size_t names(const char *dir, int *temp)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	*temp = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (hlx_file_is_temp(e->d_name))
			*temp = 1;
	}
	closedir(d);
	return n;
}

static int holds(const char *path, const char *want)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int same = hlx_file_read(path, 1 << 20, &b) == HLX_OK &&
		   b.len == strlen(want) && !memcmp(b.data, want, b.len);

	hlx_buf_free(&b);
	return same;
}

int main(void)
{
	char dir[] = "/tmp/hlx-test-files-XXXXXX", p[PATH_MAX];
	struct hlx_file_new w;
	struct stat sb;
	int temp;

	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof(p), "%s/f", dir);
	if (hlx_file_write(p, "old", 3, 0600) != HLX_OK)
		return 1;

	/* in two steps: after sync the old file is still in place */
	is_rc(hlx_file_new_open(&w, NULL, p, 0640), HLX_OK, "a new file opened");
	ok(write(w.fd, "new", 3) == 3, "written");
	is_rc(hlx_file_new_sync(&w), HLX_OK, "synced");
	ok(w.fd < 0, "its descriptor closed");
	ok(holds(p, "old") && names(dir, &temp) == 2 && temp,
	   "the old file still in place, the new one beside it under a temporary name");
	is_rc(hlx_file_new_sync(&w), HLX_EINVAL, "a second sync is refused");
	is_rc(hlx_file_new_commit(&w), HLX_OK, "then committed: renamed only");
	ok(holds(p, "new") && names(dir, &temp) == 1 && !temp,
	   "the new file in place, no temporary left");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0640, "with its mode (%04o)",
	   (unsigned)(sb.st_mode & 07777));
	is_rc(hlx_file_new_commit(&w), HLX_EINVAL, "a second commit is refused");

	/* synced, then abandoned: nothing replaced, nothing left */
	is_rc(hlx_file_new_open(&w, NULL, p, 0600), HLX_OK, "another opened");
	ok(write(w.fd, "lost", 4) == 4, "written");
	is_rc(hlx_file_new_sync(&w), HLX_OK, "synced");
	hlx_file_new_abort(&w);
	ok(holds(p, "new") && names(dir, &temp) == 1 && !temp,
	   "aborted after sync: the file unchanged, the temporary removed");
	is_rc(hlx_file_new_commit(&w), HLX_EINVAL, "a commit after abort is refused");

	/* in one step, as before */
	is_rc(hlx_file_new_open(&w, NULL, p, 0600), HLX_OK, "a third opened");
	ok(write(w.fd, "third", 5) == 5, "written");
	is_rc(hlx_file_new_commit(&w), HLX_OK, "committed without a sync of its own");
	ok(holds(p, "third") && names(dir, &temp) == 1 && !temp, "in place");

	/* the temporary removed before the rename (as a list's removal
	 * empties match/): the commit fails, and the file is unchanged */
	is_rc(hlx_file_new_open(&w, NULL, p, 0600), HLX_OK, "a fourth opened");
	is_rc(hlx_file_new_sync(&w), HLX_OK, "synced");
	{
		char t[PATH_MAX];

		snprintf(t, sizeof(t), "%s/%s", dir, w.tmp);
		ok(unlink(t) == 0, "its temporary removed by someone else");
	}
	is_rc(hlx_file_new_commit(&w), HLX_EIO, "the commit fails");
	ok(holds(p, "third") && names(dir, &temp) == 1 && !temp,
	   "the file unchanged, nothing left");

	/* unnamed (O_TMPFILE): no name in the directory until the commit */
	is_rc(hlx_file_new_open_unnamed(&w, NULL, p, 0640), HLX_OK,
	      "an unnamed file opened");
	ok(write(w.fd, "fifth", 5) == 5, "written");
	is_rc(hlx_file_new_sync(&w), HLX_OK, "synced");
	ok(w.fd >= 0, "its descriptor still open: all there is of it");
	ok(holds(p, "third") && names(dir, &temp) == 1 && !temp,
	   "the directory holds no name of it");
	is_rc(hlx_file_new_commit(&w), HLX_OK, "committed: linked in and renamed");
	ok(holds(p, "fifth") && names(dir, &temp) == 1 && !temp && w.fd < 0,
	   "in place, no temporary left, closed");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0640, "with its mode (%04o)",
	   (unsigned)(sb.st_mode & 07777));
	is_rc(hlx_file_new_commit(&w), HLX_EINVAL, "a second commit is refused");
	is_rc(hlx_file_new_open_unnamed(&w, NULL, p, 0600), HLX_OK, "another unnamed");
	ok(write(w.fd, "gone", 4) == 4, "written");
	hlx_file_new_abort(&w);
	ok(holds(p, "fifth") && names(dir, &temp) == 1 && !temp,
	   "aborted: the file unchanged, nothing left");

	unlink(p);
	rmdir(dir);
	return done_testing();
}
