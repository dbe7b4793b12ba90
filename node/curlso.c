/* SPDX-License-Identifier: MIT */
/* libcurl, loaded at its first use (node/curlso.h). */
#define HLX_CURLSO_IMPL
#include "node/curlso.h"
#include "protocol/err.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct hlx_curl_fns hlx_curl_fn;

_Static_assert(sizeof(void *) == sizeof(hlx_curl_fn.easy_init),
	       "function and object pointers are of one size (POSIX)");

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc = HLX_EUNSUPPORTED;
static char load_err[256];

static void load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} fns[] = {
#define F(member, sym) { #sym, offsetof(struct hlx_curl_fns, member) }
		F(global_init, curl_global_init),
		F(version_info, curl_version_info),
		F(easy_init, curl_easy_init),
		F(easy_cleanup, curl_easy_cleanup),
		F(easy_reset, curl_easy_reset),
		F(easy_setopt, curl_easy_setopt),
		F(easy_perform, curl_easy_perform),
		F(easy_getinfo, curl_easy_getinfo),
		F(easy_strerror, curl_easy_strerror),
		F(easy_header, curl_easy_header),
		F(slist_append, curl_slist_append),
		F(slist_free_all, curl_slist_free_all),
		F(url, curl_url),
		F(url_cleanup, curl_url_cleanup),
		F(url_set, curl_url_set),
		F(url_get, curl_url_get),
		F(free, curl_free),
#undef F
	};
	struct hlx_curl_fns got;
	const char *e;
	void *lib;

	/* RTLD_LOCAL: its symbols resolve nothing else's; never closed */
	lib = dlopen(HLX_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		e = dlerror();
		snprintf(load_err, sizeof(load_err), "cannot load libcurl (%s): %s",
			 HLX_CURL_SONAME, e ? e : "unknown error");
		return;
	}
	memset(&got, 0, sizeof(got));
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		void *p;

		dlerror();
		p = dlsym(lib, fns[i].name);
		if (!p) {
			snprintf(load_err, sizeof(load_err),
				 "libcurl (%s) has no function '%s'",
				 HLX_CURL_SONAME, fns[i].name);
			return;
		}
		/* a function pointer as dlsym hands it out (POSIX) */
		memcpy((char *)&got + fns[i].off, &p, sizeof(p));
	}
	hlx_curl_fn = got;
	load_rc = HLX_OK;
}

int hlx_curl_load(void)
{
	if (pthread_once(&load_once, load) != 0)
		return hlx_err(HLX_EUNSUPPORTED, "cannot load libcurl: pthread_once failed");
	if (load_rc != HLX_OK)
		return hlx_err(load_rc, "%s", load_err);
	return HLX_OK;
}
