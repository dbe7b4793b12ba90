/* SPDX-License-Identifier: MIT */
/*
 * The matcher's per-list settings (spec/match.md): the PDQ threshold and
 * whether a list is an allow-list, kept in HOME/match/config.json.
 */
#include "node/match_int.h"
#include "node/files.h"
#include "protocol/err.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-list settings -------------------------------------------------- */

void hlx_match_conf_init(struct hlx_match_conf *c)
{
	c->threshold = HLX_MATCH_THRESHOLD_DEFAULT;
	c->allow = 0;
}

static int conf_entry_cmp(const void *a, const void *b)
{
	const struct hlx_match_conf_entry *x = a, *y = b;

	return strcmp(x->list, y->list);
}

static int conf_one(const char *name, json_t *v, struct hlx_match_conf_entry *e)
{
	const char *k;
	json_t *f;

	if (hlx_list_name_check(name) != HLX_OK) {
		char q[HLX_QUOTE_SIZE];

		return hlx_err(HLX_EINVAL, "list name '%s' is not valid",
			       hlx_quote(q, name, strlen(name)));
	}
	memcpy(e->list, name, strlen(name) + 1);
	hlx_match_conf_init(&e->c);
	if (!json_is_object(v))
		return hlx_err(HLX_EINVAL, "list '%s': settings must be an object",
			       name);
	json_object_foreach(v, k, f) {
		if (!strcmp(k, "threshold")) {
			json_int_t t;

			if (!json_is_integer(f))
				return hlx_err(HLX_EINVAL,
					       "list '%s': threshold must be an integer",
					       name);
			t = json_integer_value(f);
			if (t < 0 || t > HLX_MATCH_THRESHOLD_MAX)
				return hlx_err(HLX_EINVAL,
					       "list '%s': threshold %" JSON_INTEGER_FORMAT
					       " is not in 0..%d", name, t,
					       HLX_MATCH_THRESHOLD_MAX);
			e->c.threshold = (int)t;
		} else if (!strcmp(k, "allow")) {
			if (!json_is_boolean(f))
				return hlx_err(HLX_EINVAL,
					       "list '%s': allow must be true or false",
					       name);
			e->c.allow = json_is_true(f);
		} else {
			char q[HLX_QUOTE_SIZE];

			return hlx_err(HLX_EINVAL, "list '%s': unknown setting '%s'",
				       name, hlx_quote(q, k, strlen(k)));
		}
	}
	return HLX_OK;
}

int hlx_match_conf_parse(const char *s, size_t len,
			 struct hlx_match_conf_entry **out, size_t *n)
{
	struct hlx_match_conf_entry *e = NULL;
	json_error_t jerr;
	json_t *root, *lists = NULL, *v;
	const char *k;
	size_t cnt = 0;
	int rc = HLX_OK;

	*out = NULL;
	*n = 0;
	if (len > CONF_MAX)
		return hlx_err(HLX_ETOOBIG, "match settings of %zu bytes: at most %d",
			       len, CONF_MAX);
	root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson's text may quote the input: keep it printable */
		for (char *p = jerr.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		return hlx_err(HLX_EINVAL, "match settings: %s (line %d)", jerr.text,
			       jerr.line);
	}
	if (!json_is_object(root)) {
		rc = hlx_err(HLX_EINVAL, "match settings: not a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "lists") != 0) {
			char q[HLX_QUOTE_SIZE];

			rc = hlx_err(HLX_EINVAL, "match settings: unknown key '%s'",
				     hlx_quote(q, k, strlen(k)));
			goto out;
		}
		lists = v;
	}
	if (!lists) {
		rc = hlx_err(HLX_EINVAL, "match settings: no \"lists\" object");
		goto out;
	}
	if (!json_is_object(lists)) {
		rc = hlx_err(HLX_EINVAL, "match settings: \"lists\" must be an object");
		goto out;
	}
	cnt = json_object_size(lists);
	e = calloc(cnt ? cnt : 1, sizeof(*e));
	if (!e) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	cnt = 0;
	json_object_foreach(lists, k, v) {
		rc = conf_one(k, v, &e[cnt]);
		if (rc) {
			rc = hlx_err_wrap(rc, "match settings");
			goto out;
		}
		cnt++;
	}
	qsort(e, cnt, sizeof(*e), conf_entry_cmp);
	*out = e;
	*n = cnt;
	e = NULL;
out:
	free(e);
	json_decref(root);
	return rc;
}

int hlx_match_conf_format(const struct hlx_match_conf_entry *e, size_t n,
			  struct hlx_buf *out)
{
	json_t *root = json_object(), *lists = json_object();
	char *text = NULL;
	int rc = HLX_OK;

	if (!root || !lists || json_object_set(root, "lists", lists)) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o;

		if (e[i].c.threshold == HLX_MATCH_THRESHOLD_DEFAULT && !e[i].c.allow)
			continue;
		if (hlx_list_name_check(e[i].list) != HLX_OK ||
		    e[i].c.threshold < 0 ||
		    e[i].c.threshold > HLX_MATCH_THRESHOLD_MAX) {
			rc = hlx_err(HLX_EINVAL, "match settings of list '%.64s' are invalid",
				     e[i].list);
			goto out;
		}
		o = json_pack("{s:i,s:b}", "threshold", e[i].c.threshold,
			      "allow", e[i].c.allow);
		if (!o || json_object_set_new(lists, e[i].list, o)) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			goto out;
		}
	}
	text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1));
	if (!text) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	rc = hlx_buf_puts(out, text);
	if (!rc)
		rc = hlx_buf_putc(out, '\n');
out:
	free(text);
	json_decref(lists);
	json_decref(root);
	return rc;
}

/* All settings of the node; a missing file is no settings. */
int hlx_match_conf_load(struct hlx_node *n, struct hlx_match_conf_entry **e,
			size_t *cnt)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc;

	*e = NULL;
	*cnt = 0;
	rc = hlx_node_path(n, HLX_HOME_MATCH_CONFIG, NULL, NULL, p);
	if (!rc)
		rc = hlx_file_read(p, CONF_MAX, &b);
	if (rc == HLX_ENOENT)
		rc = HLX_OK;
	else if (!rc) {
		rc = hlx_match_conf_parse((const char *)b.data, b.len, e, cnt);
		if (rc)
			rc = hlx_err_wrap(rc, "'%s'", p);
	}
	hlx_buf_free(&b);
	return rc;
}

const struct hlx_match_conf *
hlx_match_conf_find(const struct hlx_match_conf_entry *e, size_t n,
		    const char *list)
{
	struct hlx_match_conf_entry key;

	if (!n || strlen(list) > HLX_LIST_NAME_MAX)
		return NULL;
	memcpy(key.list, list, strlen(list) + 1);
	e = bsearch(&key, e, n, sizeof(*e), conf_entry_cmp);
	return e ? &e->c : NULL;
}

int hlx_match_conf_get(struct hlx_node *n, const char *list,
		       struct hlx_match_conf *out)
{
	struct hlx_match_conf_entry *e;
	const struct hlx_match_conf *c;
	struct hlx_list_rec rec;
	size_t cnt;
	int rc;

	rc = hlx_list_get(n, list, &rec);
	if (!rc)
		rc = hlx_match_conf_load(n, &e, &cnt);
	if (rc)
		return rc;
	c = hlx_match_conf_find(e, cnt, list);
	if (c)
		*out = *c;
	else
		hlx_match_conf_init(out);
	free(e);
	return HLX_OK;
}

int hlx_match_conf_set(struct hlx_node *n, const char *list,
		       const struct hlx_match_conf *c)
{
	struct hlx_match_conf_entry *e = NULL, *p;
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_list_rec rec;
	char dir[PATH_MAX], path[PATH_MAX];
	size_t cnt = 0, i;
	int rc;

	if (c->threshold < 0 || c->threshold > HLX_MATCH_THRESHOLD_MAX)
		return hlx_err(HLX_EINVAL, "threshold %d is not in 0..%d",
			       c->threshold, HLX_MATCH_THRESHOLD_MAX);
	rc = hlx_list_get(n, list, &rec);
	if (!rc)
		rc = hlx_match_conf_load(n, &e, &cnt);
	if (rc)
		return rc;
	for (i = 0; i < cnt && strcmp(e[i].list, list) != 0; i++)
		;
	if (i == cnt) {
		p = realloc(e, (cnt + 1) * sizeof(*e));
		if (!p) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			goto out;
		}
		e = p;
		memcpy(e[cnt].list, list, strlen(list) + 1);
		cnt++;
	}
	e[i].c = *c;
	qsort(e, cnt, sizeof(*e), conf_entry_cmp);
	rc = hlx_match_conf_format(e, cnt, &b);
	if (!rc)
		rc = hlx_match_dir(n, dir, 1);
	if (!rc)
		rc = hlx_node_path(n, HLX_HOME_MATCH_CONFIG, NULL, NULL, path);
	if (!rc)
		rc = hlx_file_write(path, b.data, b.len,
				    hlx_home_mode(HLX_HOME_MATCH_CONFIG));
out:
	hlx_buf_free(&b);
	free(e);
	return rc;
}
