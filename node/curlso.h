/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded when it is first needed rather than when hlx starts.
 *
 * Linked the usual way, libcurl and the twenty-odd libraries it needs
 * (OpenSSL, GnuTLS through librtmp, Kerberos, LDAP, ...) are mapped and
 * relocated at the start of every command, which then takes 15 ms rather
 * than 7: most commands (add, lookup, list, ...) make no transfer at all.
 * So the program is not linked against libcurl; the first transfer or URL
 * check loads it (dlopen of its soname, from the usual library path, as the
 * dynamic linker would have at start) and takes the few functions hlx
 * calls.  node/fetch.c and node/peers.c include this header instead of
 * <curl/curl.h> and call libcurl by its own names, after hlx_curl_load().
 * Nothing else changes: the same library, the same settings.
 */
#ifndef HLX_CURLSO_H
#define HLX_CURLSO_H

#include <curl/curl.h>

/* The soname the program would otherwise have been linked against. */
#define HLX_CURL_SONAME "libcurl.so.4"

/* Load libcurl and its functions, once for the whole process (thread-safe;
 * later calls return the first outcome).  HLX_OK, or HLX_EUNSUPPORTED when
 * it cannot be loaded or lacks a function (the detail says which). */
int hlx_curl_load(void);

/* The functions, valid after hlx_curl_load() returned HLX_OK. */
struct hlx_curl_fns {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_version_info) *version_info;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_reset) *easy_reset;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_header) *easy_header;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_cleanup) *url_cleanup;
	__typeof__(curl_url_set) *url_set;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_free) *free;
};

extern struct hlx_curl_fns hlx_curl_fn;

#ifndef HLX_CURLSO_IMPL
/* libcurl's names, bound to the loaded functions (curl_easy_setopt and
 * curl_easy_getinfo lose the type-checking macros of curl/typecheck-gcc.h:
 * the same name cannot be both) */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*hlx_curl_fn.global_init)
#define curl_version_info (*hlx_curl_fn.version_info)
#define curl_easy_init (*hlx_curl_fn.easy_init)
#define curl_easy_cleanup (*hlx_curl_fn.easy_cleanup)
#define curl_easy_reset (*hlx_curl_fn.easy_reset)
#define curl_easy_setopt (*hlx_curl_fn.easy_setopt)
#define curl_easy_perform (*hlx_curl_fn.easy_perform)
#define curl_easy_getinfo (*hlx_curl_fn.easy_getinfo)
#define curl_easy_strerror (*hlx_curl_fn.easy_strerror)
#define curl_easy_header (*hlx_curl_fn.easy_header)
#define curl_slist_append (*hlx_curl_fn.slist_append)
#define curl_slist_free_all (*hlx_curl_fn.slist_free_all)
#define curl_url (*hlx_curl_fn.url)
#define curl_url_cleanup (*hlx_curl_fn.url_cleanup)
#define curl_url_set (*hlx_curl_fn.url_set)
#define curl_url_get (*hlx_curl_fn.url_get)
#define curl_free (*hlx_curl_fn.free)
#endif

#endif
