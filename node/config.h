/* SPDX-License-Identifier: MIT */
/*
 * The node's settings: what `hlx publish` and `hlx run` must agree on,
 * in HOME/hlx.conf (config.json is the identity, written once by init).
 *
 *   # comment
 *   publish-dir = /srv/hlx/publish
 *   poll-interval = 60
 *   expires-days = 7
 *
 * One "KEY = VALUE" a line (blanks around the '=' and at either end of
 * the line are ignored; "#" starts a comment line).  Parsing is strict:
 * an unknown key, a bad value, a key given twice or a line that is not
 * "KEY = VALUE" refuses the whole file, with the line number and the key.
 * A missing file is every default.  The command line overrides each.
 */
#ifndef HLX_CONFIG_H
#define HLX_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define HLX_CONFIG_MAX 65536   /* bytes: the file is refused past it */

/* The keys (bit i of hlx_config.set is key i). */
enum hlx_config_key {
	HLX_CONF_PUBLISH_DIR,   /* an absolute path; default HOME/publish */
	HLX_CONF_POLL_INTERVAL, /* seconds, 1..86400; default 60 */
	HLX_CONF_EXPIRES_DAYS,  /* head lifetime in days, 1..366; default 7 */
	HLX_CONF_N,
};

#define HLX_CONF_DEF_INTERVAL 60
#define HLX_CONF_DEF_EXPIRES 7

struct hlx_config {
	unsigned set;                  /* keys the file gives */
	char publish_dir[PATH_MAX];    /* "" when not set */
	uint32_t poll_interval;        /* the value, or its default */
	uint32_t expires_days;
};

/* The defaults (nothing set). */
void hlx_config_init(struct hlx_config *c);
/* Parse the text of a settings file (n bytes, no NUL needed). */
int hlx_config_parse(const char *text, size_t n, struct hlx_config *c);
/* Read HOME/hlx.conf (every default when there is none). */
int hlx_config_load(const char *home, struct hlx_config *c);
/* Write HOME/hlx.conf atomically (a new file renamed over the old one),
 * mode 0600, keys in their order, only those set.  The caller holds the
 * node's writer lock and loaded c under it. */
int hlx_config_save(const char *home, const struct hlx_config *c);

/* The name of key i, and the key of a name (HLX_EINVAL naming it and the
 * known keys when there is none). */
const char *hlx_config_name(unsigned i);
int hlx_config_lookup(const char *name, unsigned *key);
/* Set a key from text, validated as the file's parser does; c unchanged
 * on failure. */
int hlx_config_set(struct hlx_config *c, unsigned key, const char *value);
/* Forget a key (back to its default). */
void hlx_config_unset(struct hlx_config *c, unsigned key);
/* The value of a key as text (the default's when not set; the publish
 * directory's default is HOME/publish). */
int hlx_config_get(const struct hlx_config *c, const char *home, unsigned key,
		   char out[PATH_MAX]);
/* The publish directory: the configured one, or HOME/publish. */
int hlx_config_publish_dir(const struct hlx_config *c, const char *home,
			   char out[PATH_MAX]);
/* A publish directory may not be the home, hold it, or lie inside it
 * (but HOME/publish): the home's entries are private, a feed's are not,
 * and a feed's lists/ would mix with the home's.  Paths are compared
 * resolved (the longest part that exists, then the rest as given).
 * HLX_EINVAL naming both. */
int hlx_config_publish_dir_check(const char *home, const char *dir);

#endif
