/* SPDX-License-Identifier: MIT */
/* The node's settings file, HOME/hlx.conf (node/config.h). */
#include "node/config.h"
#include "node/files.h"
#include "node/home.h"
#include "node/sync.h"
#include "protocol/buf.h"
#include "protocol/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(HLX_CONF_DEF_EXPIRES * 86400 == HLX_HEAD_VALIDITY,
	       "the default head lifetime is the one publish has");

static const struct {
	const char *name;
	uint32_t min, max;   /* numbers; 0, 0 for the directory */
} keys[HLX_CONF_N] = {
	[HLX_CONF_PUBLISH_DIR] = { "publish-dir", 0, 0 },
	[HLX_CONF_POLL_INTERVAL] = { "poll-interval", 1, 86400 },
	[HLX_CONF_EXPIRES_DAYS] = { "expires-days", 1, 366 },
};

void hlx_config_init(struct hlx_config *c)
{
	memset(c, 0, sizeof(*c));
	c->poll_interval = HLX_CONF_DEF_INTERVAL;
	c->expires_days = HLX_CONF_DEF_EXPIRES;
}

const char *hlx_config_name(unsigned i)
{
	return i < HLX_CONF_N ? keys[i].name : NULL;
}

int hlx_config_lookup(const char *name, unsigned *key)
{
	char q[HLX_QUOTE_SIZE];
	unsigned i;

	for (i = 0; i < HLX_CONF_N; i++)
		if (strcmp(name, keys[i].name) == 0) {
			*key = i;
			return HLX_OK;
		}
	return hlx_err(HLX_EINVAL, "unknown key '%s' (keys: publish-dir, poll-interval, expires-days)",
		       hlx_quote(q, name, strlen(name)));
}

/* A whole number from min to max, digits only. */
static int parse_num(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!*s || strlen(s) > 10)
		return HLX_EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return HLX_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return HLX_EINVAL;
	*out = (uint32_t)v;
	return HLX_OK;
}

int hlx_config_set(struct hlx_config *c, unsigned key, const char *value)
{
	char q[HLX_QUOTE_SIZE];
	size_t n = strlen(value), i;
	uint32_t v;

	if (key >= HLX_CONF_N)
		return hlx_err(HLX_EINVAL, "no such key");
	hlx_quote(q, value, n);
	if (key == HLX_CONF_PUBLISH_DIR) {
		for (i = 0; i < n; i++)
			if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
				return hlx_err(HLX_EINVAL, "%s: '%s' holds a control character",
					       keys[key].name, q);
		/* the file trims blanks at either end: one never comes back */
		if (n && value[n - 1] == ' ')
			return hlx_err(HLX_EINVAL, "%s: '%s' ends with a blank",
				       keys[key].name, q);
		if (value[0] != '/')
			return hlx_err(HLX_EINVAL, "%s: expected an absolute path, got '%s'",
				       keys[key].name, q);
		if (n >= sizeof(c->publish_dir) - 64)
			return hlx_err(HLX_EINVAL, "%s: path too long", keys[key].name);
		memcpy(c->publish_dir, value, n + 1);
	} else {
		if (parse_num(value, keys[key].min, keys[key].max, &v))
			return hlx_err(HLX_EINVAL, "%s: expected a whole number %u..%u, got '%s'",
				       keys[key].name, keys[key].min, keys[key].max, q);
		if (key == HLX_CONF_POLL_INTERVAL)
			c->poll_interval = v;
		else
			c->expires_days = v;
	}
	c->set |= 1u << key;
	return HLX_OK;
}

void hlx_config_unset(struct hlx_config *c, unsigned key)
{
	struct hlx_config d;

	if (key >= HLX_CONF_N)
		return;
	hlx_config_init(&d);
	c->set &= ~(1u << key);
	if (key == HLX_CONF_PUBLISH_DIR)
		c->publish_dir[0] = '\0';
	else if (key == HLX_CONF_POLL_INTERVAL)
		c->poll_interval = d.poll_interval;
	else
		c->expires_days = d.expires_days;
}

static int blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One line (NUL-terminated, its own copy, changed in place). */
static int parse_line(struct hlx_config *c, char *s, size_t lineno)
{
	char *eq, *k, *v, *end, q[HLX_QUOTE_SIZE];
	unsigned key;
	int rc;

	while (blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && blank(end[-1]))
		*--end = '\0';
	if (!*s || *s == '#')
		return HLX_OK;
	eq = strchr(s, '=');
	if (!eq)
		return hlx_err(HLX_EINVAL, "line %zu: expected KEY = VALUE, got '%s'",
			       lineno, hlx_quote(q, s, strlen(s)));
	k = s;
	v = eq + 1;
	*eq = '\0';
	while (eq > k && blank(eq[-1]))
		*--eq = '\0';
	while (blank(*v))
		v++;
	rc = hlx_config_lookup(k, &key);
	if (rc)
		return hlx_err_wrap(rc, "line %zu", lineno);
	if (c->set & (1u << key))
		return hlx_err(HLX_EINVAL, "line %zu: key '%s' given twice", lineno,
			       keys[key].name);
	rc = hlx_config_set(c, key, v);
	return rc ? hlx_err_wrap(rc, "line %zu", lineno) : HLX_OK;
}

int hlx_config_parse(const char *text, size_t n, struct hlx_config *c)
{
	struct hlx_config t;
	size_t off = 0, lineno = 0;
	char *line = NULL;
	int rc = HLX_OK;

	hlx_config_init(&t);
	if (memchr(text, '\0', n))
		return hlx_err(HLX_EINVAL, "a NUL byte in the settings");
	while (off < n && !rc) {
		const char *nl = memchr(text + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (text + off)) : n - off;

		lineno++;
		line = malloc(len + 1);
		if (!line)
			return hlx_err(HLX_ENOMEM, "out of memory");
		memcpy(line, text + off, len);
		line[len] = '\0';
		rc = parse_line(&t, line, lineno);
		free(line);
		off += len + 1;
	}
	if (!rc)
		*c = t;
	return rc;
}

int hlx_config_load(const char *home, struct hlx_config *c)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc = hlx_home_path(p, home, HLX_HOME_SETTINGS, NULL, NULL);

	hlx_config_init(c);
	if (!rc)
		rc = hlx_file_read(p, HLX_CONFIG_MAX, &b);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = HLX_OK;
	} else if (!rc) {
		rc = hlx_config_parse((const char *)b.data, b.len, c);
		if (rc)
			rc = hlx_err_wrap(rc, "settings '%s'", p);
	}
	hlx_buf_free(&b);
	return rc;
}

int hlx_config_get(const struct hlx_config *c, const char *home, unsigned key,
		   char out[PATH_MAX])
{
	if (key == HLX_CONF_PUBLISH_DIR)
		return hlx_config_publish_dir(c, home, out);
	if (key >= HLX_CONF_N)
		return hlx_err(HLX_EINVAL, "no such key");
	snprintf(out, PATH_MAX, "%u", key == HLX_CONF_POLL_INTERVAL ?
		 c->poll_interval : c->expires_days);
	return HLX_OK;
}

int hlx_config_publish_dir(const struct hlx_config *c, const char *home,
			   char out[PATH_MAX])
{
	if (c->set & (1u << HLX_CONF_PUBLISH_DIR))
		return hlx_pathf(out, "%s", c->publish_dir);
	return hlx_home_path(out, home, HLX_HOME_PUBLISH, NULL, NULL);
}

/* path resolved: realpath of its longest existing prefix, then the rest
 * as written (without "." or ".." parts: those are refused). */
static int resolve(const char *path, char out[PATH_MAX])
{
	char head[PATH_MAX], tail[PATH_MAX] = "", r[PATH_MAX];
	char *sl;

	if (hlx_pathf(head, "%s", path))
		return HLX_EINVAL;
	for (;;) {
		size_t n = strlen(head);

		while (n > 1 && head[n - 1] == '/')
			head[--n] = '\0';
		if (realpath(head, r))
			break;
		sl = strrchr(head, '/');
		if (!sl) {
			/* a relative path none of which exists: from "." */
			if (!strcmp(head, ".") || !strcmp(head, ".."))
				return hlx_err(HLX_EINVAL, "'%s': no '.' or '..' in a path that does not exist yet",
					       path);
			if (hlx_pathf(r, "/%s%s", head, tail) || hlx_pathf(tail, "%s", r) ||
			    !realpath(".", r))
				return hlx_err(HLX_EINVAL, "'%s' cannot be resolved", path);
			break;
		}
		if (!strcmp(sl + 1, ".") || !strcmp(sl + 1, ".."))
			return hlx_err(HLX_EINVAL, "'%s': no '.' or '..' in a path that does not exist yet",
				       path);
		if (hlx_pathf(r, "%s%s", sl, tail) || hlx_pathf(tail, "%s", r))
			return HLX_EINVAL;
		if (sl == head)
			sl[1] = '\0';     /* on to "/" */
		else
			*sl = '\0';
	}
	return hlx_pathf(out, "%s%s", strcmp(r, "/") ? r : "", tail);
}

/* Is b a or under a? */
static int under(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

int hlx_config_publish_dir_check(const char *home, const char *dir)
{
	char h[PATH_MAX], d[PATH_MAX], pub[PATH_MAX];
	int rc = resolve(home, h);

	if (!rc)
		rc = resolve(dir, d);
	if (!rc)
		rc = hlx_pathf(pub, "%s/publish", h);
	if (rc)
		return rc;
	if (under(d, h))
		return hlx_err(HLX_EINVAL, "publish directory '%s' holds the node home '%s'",
			       dir, home);
	if (under(h, d) && !under(pub, d))
		return hlx_err(HLX_EINVAL, "publish directory '%s' lies inside the node home '%s' (only its publish/ may)",
			       dir, home);
	return HLX_OK;
}

int hlx_config_save(const char *home, const struct hlx_config *c)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX], v[PATH_MAX];
	unsigned i;
	int rc = hlx_home_path(p, home, HLX_HOME_SETTINGS, NULL, NULL);

	if (!rc)
		rc = hlx_buf_puts(&b, "# hlx settings: hlx config set KEY VALUE "
				  "(hlx(1), config)\n");
	for (i = 0; !rc && i < HLX_CONF_N; i++) {
		if (!(c->set & (1u << i)))
			continue;
		rc = hlx_config_get(c, home, i, v);
		if (!rc)
			rc = hlx_buf_puts(&b, keys[i].name);
		if (!rc)
			rc = hlx_buf_puts(&b, " = ");
		if (!rc)
			rc = hlx_buf_puts(&b, v);
		if (!rc)
			rc = hlx_buf_putc(&b, '\n');
	}
	if (!rc)
		rc = hlx_file_write(p, b.data, b.len, 0600);
	hlx_buf_free(&b);
	return rc;
}
