/* SPDX-License-Identifier: MIT */
/* node/home.c: the one function that builds a path of a node home. */
#include "node/home.h"
#include "tap.h"

#include <ctype.h>

/* The entry's path with its placeholders (PEER, LIST...) as names must be
 * the place the table shows (and spec/home.md lists, tests/tools/homepaths.py). */
static void shown_matches(enum hlx_home_entry e)
{
	const char *s = hlx_home_entry_name(e);
	char names[2][16] = { "", "" }, want[PATH_MAX], got[PATH_MAX];
	size_t k = 0, n;
	int rc;

	for (const char *q = s; *q && k < 2; ) {
		if (isupper((unsigned char)*q) && (q == s || q[-1] == '/')) {
			for (n = 0; isupper((unsigned char)q[n]) && n < 15; n++)
				names[k][n] = q[n];
			names[k++][n] = 0;
			q += n;
		} else {
			q++;
		}
	}
	snprintf(want, sizeof(want), "/h/%s", s);
	if (hlx_home_entry_is_dir(e))
		want[strlen(want) - 1] = 0;
	rc = hlx_home_path(got, "/h", e, k > 0 ? names[0] : NULL,
			   k > 1 ? names[1] : NULL);
	ok(rc == HLX_OK && !strcmp(got, want) && hlx_home_mode(e) != 0,
	   "%s: %s, mode %04o", s, rc ? hlx_err_detail() : got, hlx_home_mode(e));
}

int main(void)
{
	char p[PATH_MAX], home[PATH_MAX];
	static const char *const bad[] = { "", ".", "..", "a/b", "/", "../x", NULL };

	for (int e = 0; e < HLX_HOME_NENTRIES; e++)
		shown_matches((enum hlx_home_entry)e);
	is_str(hlx_home_entry_name(HLX_HOME_NENTRIES), "", "past the end: no entry");
	is_rc(hlx_home_path(p, "/h", HLX_HOME_NENTRIES, NULL, NULL), HLX_EINVAL,
	      "past the end: refused");

	ok(hlx_home_path(p, "/h", HLX_HOME_MIRROR_REPO, "acme", "l.1") == HLX_OK &&
	   !strcmp(p, "/h/lists/acme/l.1.git"), "a mirror: %s", p);
	ok(hlx_home_path(p, "/h", HLX_HOME_PEER_REBASE, "acme", "csam") == HLX_OK &&
	   !strcmp(p, "/h/peers/acme/csam.rebase"), "a rebase marker: %s", p);
	for (int i = 0; bad[i]; i++) {
		is_rc(hlx_home_path(p, "/h", HLX_HOME_LIST_REPO, bad[i], NULL),
		      HLX_EINVAL, "a list named '%s' is refused", bad[i]);
		is_rc(hlx_home_path(p, "/h", HLX_HOME_PEER_SYNC, "acme", bad[i]),
		      HLX_EINVAL, "a peer's list named '%s' is refused", bad[i]);
		is_rc(hlx_home_path(p, "/h", HLX_HOME_PEER_SYNC, bad[i], "l"),
		      HLX_EINVAL, "a peer named '%s' is refused", bad[i]);
	}
	is_rc(hlx_home_path(p, "/h", HLX_HOME_LIST_REPO, NULL, NULL), HLX_EINVAL,
	      "a name missing is refused");
	is_rc(hlx_home_path(p, "/h", HLX_HOME_PEER_SYNC, "acme", NULL), HLX_EINVAL,
	      "a second name missing is refused");
	is_rc(hlx_home_path(p, "/h", HLX_HOME_CONFIG, "x", NULL), HLX_EINVAL,
	      "a name an entry does not take is refused");
	is_rc(hlx_home_path(p, "/h", HLX_HOME_LIST_REPO, "x", "y"), HLX_EINVAL,
	      "a second name an entry does not take is refused");
	is_rc(hlx_home_path(p, NULL, HLX_HOME_CONFIG, NULL, NULL), HLX_EINVAL,
	      "no home is refused");

	memset(home, 'h', sizeof(home) - 1);
	home[sizeof(home) - 5] = 0;
	is_rc(hlx_home_path(p, home, HLX_HOME_CONFIG, NULL, NULL), HLX_ETOOBIG,
	      "a path past PATH_MAX is refused");
	home[PATH_MAX - 1 - strlen("/config.json")] = 0;
	ok(hlx_home_path(p, home, HLX_HOME_CONFIG, NULL, NULL) == HLX_OK &&
	   strlen(p) == PATH_MAX - 1, "a path of PATH_MAX - 1 fits");
	home[PATH_MAX - 1 - strlen("/peers/abcdefghij/klmnopqrs.sync")] = 0;
	is_rc(hlx_home_path(p, home, HLX_HOME_PEER_SYNC, "abcdefghij", "klmnopqrst"),
	      HLX_ETOOBIG, "names past PATH_MAX are refused");

	ok(hlx_home_entry_is_dir(HLX_HOME_KEYS) && !hlx_home_entry_is_dir(HLX_HOME_LOCK),
	   "keys/ is a directory, lock a file");
	ok(hlx_home_mode(HLX_HOME_KEYS) == 0700 && hlx_home_mode(HLX_HOME_ROOT_KEY) == 0600,
	   "keys/ is 0700, its keys 0600");
	return done_testing();
}
