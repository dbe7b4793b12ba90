/* SPDX-License-Identifier: MIT */
#include "node/peers.h"
#include "keys/keyfile.h"
#include "keys/seal.h"
#include "keys/sshkey.h"
#include "keys/trust.h"
#include "node/curlso.h"
#include "node/files.h"
#include "node/home.h"
#include "protocol/err.h"
#include "protocol/head.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT "hlx-peers-1"

void hlx_peers_free(struct hlx_peers *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].subs);
	free(p->v);
	free(p);
}

static int url_check(const char *url)
{
	size_t n = strlen(url);

	if (n == 0 || n >= HLX_URL_TEXT_MAX)
		return hlx_err(HLX_EINVAL, "URL of %zu characters", n);
	if (strncmp(url, "https://", 8) && strncmp(url, "file://", 7))
		return hlx_err(HLX_EINVAL,
			       "URL '%.80s': use https:// (or file:// for a local directory)",
			       url);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
			return hlx_err(HLX_EINVAL, "URL '%.80s': space or control character",
				       url);
	return HLX_OK;
}

/* What a fetch will take (node/fetch.c): an https URL with a host, or a
 * file URL of an absolute local path (no host but localhost); neither with
 * a query or a fragment, which a feed's relative paths cannot follow. */
int hlx_peer_url_check(const char *url)
{
	CURLU *u = NULL;
	char *host = NULL, *path = NULL, *extra = NULL;
	int rc = url_check(url), file = !strncmp(url, "file://", 7);

	if (!rc)
		rc = hlx_curl_load();
	if (rc)
		return rc;
	u = curl_url();
	if (!u)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (file && url[7] != '/' && strncasecmp(url + 7, "localhost/", 10))
		rc = hlx_err(HLX_EINVAL,
			     "URL '%.80s': a file URL takes an absolute path (file:///DIR/), with no host",
			     url);
	else if (curl_url_set(u, CURLUPART_URL, url, 0))
		rc = hlx_err(HLX_EINVAL, "URL '%.80s': malformed", url);
	else if (!curl_url_get(u, CURLUPART_QUERY, &extra, 0) ||
		 !curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0))
		rc = hlx_err(HLX_EINVAL, "URL '%.80s': a feed URL has no query or fragment",
			     url);
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !host[0])
		rc = file ? HLX_OK :
		     hlx_err(HLX_EINVAL, "URL '%.80s': no host", url);
	else if (file && strcasecmp(host, "localhost"))
		rc = hlx_err(HLX_EINVAL,
			     "URL '%.80s': a file URL takes an absolute path (file:///DIR/), with no host",
			     url);
	if (!rc && file &&
	    (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) || path[0] != '/'))
		rc = hlx_err(HLX_EINVAL, "URL '%.80s': not an absolute path", url);
	curl_free(host);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(u);
	return rc;
}

static int name_ends(const char *s, const char *sfx)
{
	size_t n = strlen(s), k = strlen(sfx);

	return n >= k && strcmp(s + n - k, sfx) == 0;
}

int hlx_peers_add(struct hlx_peers *p, const char *name, const char *url,
		  const struct hlx_pubkey *root, const char *ca)
{
	struct hlx_peer *v, *np;
	int rc = hlx_name_check(name, strlen(name), "peer");

	/* a peer's mirrors are lists/NAME/, beside own lists' lists/L.git
	 * and their temporary repositories: no name of theirs */
	if (!rc && (name_ends(name, ".git") || name_ends(name, ".git.new") ||
		    name_ends(name, ".git.swap") || name_ends(name, ".git.old") ||
		    hlx_file_is_temp(name)))
		rc = hlx_err(HLX_EINVAL, "peer name '%s' looks like a repository or a temporary file of the node home (.git, .tmp...)",
			     name);
	if (!rc && url[0])
		rc = url_check(url);
	if (!rc && ca && strlen(ca) >= sizeof(v->ca))
		rc = hlx_err(HLX_EINVAL, "CA path too long");
	if (rc)
		return rc;
	if (hlx_peers_find(p, name))
		return hlx_err(HLX_EEXIST, "peer '%s' exists already", name);
	if (p->n >= HLX_PEERS_MAX)
		return hlx_err(HLX_ETOOBIG, "more than %d peers", HLX_PEERS_MAX);
	v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	p->v = v;
	np = &v[p->n++];
	memset(np, 0, sizeof(*np));
	snprintf(np->name, sizeof(np->name), "%s", name);
	snprintf(np->url, sizeof(np->url), "%s", url);
	snprintf(np->ca, sizeof(np->ca), "%s", ca ? ca : "");
	np->root = *root;
	return HLX_OK;
}

int hlx_peer_set(struct hlx_peer *peer, const char *policy, const char *box)
{
	struct hlx_boxpub k;
	int rc;

	if (policy && policy[0] &&
	    (rc = hlx_name_check(policy, strlen(policy), "policy")))
		return rc;
	if (box && box[0]) {
		struct hlx_buf t = HLX_BUF_INIT;

		rc = hlx_boxpub_parse(box, strlen(box), &k);
		if (!rc)
			rc = hlx_boxpub_format(&k, &t);
		if (!rc && t.len >= sizeof(peer->box))
			rc = hlx_err(HLX_EINVAL, "box key too long");
		if (!rc)
			snprintf(peer->box, sizeof(peer->box), "%.*s", (int)t.len,
				 (const char *)t.data);
		hlx_buf_free(&t);
		if (rc)
			return hlx_err_wrap(rc, "box key of peer '%s'", peer->name);
	} else if (box) {
		peer->box[0] = '\0';
	}
	if (policy)
		snprintf(peer->policy, sizeof(peer->policy), "%s", policy);
	return HLX_OK;
}

int hlx_peer_set_url(struct hlx_peer *peer, const char *url, const char *ca)
{
	int rc = url && url[0] ? hlx_peer_url_check(url) : HLX_OK;

	if (!rc && ca && strlen(ca) >= sizeof(peer->ca))
		rc = hlx_err(HLX_EINVAL, "CA path too long");
	if (rc)
		return rc;
	if (url)
		snprintf(peer->url, sizeof(peer->url), "%s", url);
	if (ca)
		snprintf(peer->ca, sizeof(peer->ca), "%s", ca);
	return HLX_OK;
}

struct hlx_peer *hlx_peers_find(struct hlx_peers *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

int hlx_peers_remove(struct hlx_peers *p, const char *name)
{
	struct hlx_peer *x = hlx_peers_find(p, name);

	if (!x)
		return hlx_err(HLX_ENOENT, "no such peer '%.64s'", name);
	free(x->subs);
	memmove(x, x + 1, (size_t)(p->v + p->n - (x + 1)) * sizeof(*x));
	p->n--;
	return HLX_OK;
}

int hlx_peer_subscribe(struct hlx_peer *peer, const char *list)
{
	void *v;
	int rc = hlx_name_check(list, strlen(list), "list");

	if (rc)
		return rc;
	for (size_t i = 0; i < peer->nsubs; i++)
		if (strcmp(peer->subs[i], list) == 0)
			return hlx_err(HLX_EEXIST, "already subscribed to '%s' of '%s'",
				       list, peer->name);
	if (peer->nsubs >= HLX_SUBS_MAX)
		return hlx_err(HLX_ETOOBIG, "more than %d subscriptions", HLX_SUBS_MAX);
	v = realloc(peer->subs, (peer->nsubs + 1) * sizeof(*peer->subs));
	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	peer->subs = v;
	snprintf(peer->subs[peer->nsubs++], 65, "%s", list);
	return HLX_OK;
}

int hlx_peer_unsubscribe(struct hlx_peer *peer, const char *list)
{
	for (size_t i = 0; i < peer->nsubs; i++) {
		if (strcmp(peer->subs[i], list) != 0)
			continue;
		memmove(peer->subs[i], peer->subs[i + 1],
			(peer->nsubs - i - 1) * sizeof(*peer->subs));
		peer->nsubs--;
		return HLX_OK;
	}
	return hlx_err(HLX_ENOENT, "not subscribed to '%.64s' of '%s'", list,
		       peer->name);
}

static int path_of(const char *home, char out[PATH_MAX])
{
	return hlx_home_path(out, home, HLX_HOME_PEERS_FILE, NULL, NULL);
}

int hlx_peers_load(const char *home, struct hlx_peers **out)
{
	struct hlx_peers *p;
	json_error_t jerr;
	json_t *doc = NULL, *arr, *v;
	char path[PATH_MAX];
	size_t i;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = path_of(home, path);
	if (rc)
		goto fail;
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		struct stat st;

		if (stat(path, &st) != 0 && errno == ENOENT) {
			*out = p;
			return HLX_OK;
		}
		rc = hlx_err(HLX_EINVAL, "'%s': %s (line %d)", path, jerr.text,
			     jerr.line);
		goto fail;
	}
	arr = json_object_get(doc, "peers");
	v = json_object_get(doc, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), FORMAT) ||
	    !json_is_array(arr)) {
		rc = hlx_err(HLX_EINVAL, "'%s': not an hlx peers file", path);
		goto fail;
	}
	json_array_foreach(arr, i, v) {
		const char *name = NULL, *url = NULL, *root = NULL, *ca = NULL,
			   *policy = NULL, *box = NULL;
		json_t *subs = NULL, *s;
		struct hlx_pubkey k;
		size_t j;

		if (json_unpack(v, "{s:s, s:s, s:s, s?s, s?s, s?s, s:o}", "name",
				&name, "url", &url, "root", &root, "ca", &ca,
				"policy", &policy, "box", &box, "lists", &subs) != 0 ||
		    !json_is_array(subs)) {
			rc = hlx_err(HLX_EINVAL, "'%s': peer %zu is malformed", path,
				     i + 1);
			goto fail;
		}
		rc = hlx_sshkey_parse(root, strlen(root), &k, NULL);
		if (!rc)
			rc = hlx_peers_add(p, name, url, &k, ca);
		if (!rc && (policy || box))
			rc = hlx_peer_set(&p->v[p->n - 1], policy, box);
		json_array_foreach(subs, j, s) {
			if (rc)
				break;
			rc = json_is_string(s) ?
			     hlx_peer_subscribe(&p->v[p->n - 1], json_string_value(s)) :
			     hlx_err(HLX_EINVAL, "list name is not a string");
		}
		if (rc) {
			rc = hlx_err_wrap(rc, "'%s': peer %zu", path, i + 1);
			goto fail;
		}
	}
	json_decref(doc);
	*out = p;
	return HLX_OK;
fail:
	json_decref(doc);
	hlx_peers_free(p);
	return rc;
}

int hlx_peers_save(const char *home, const struct hlx_peers *p)
{
	json_t *doc = json_object(), *arr = json_array();
	struct hlx_buf kb = HLX_BUF_INIT;
	char path[PATH_MAX], *s = NULL;
	int rc = HLX_OK;

	if (!doc || !arr || json_object_set_new(doc, "format", json_string(FORMAT)) ||
	    json_object_set(doc, "peers", arr)) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n && !rc; i++) {
		const struct hlx_peer *x = &p->v[i];
		json_t *subs = json_array(), *o;

		hlx_buf_reset(&kb);
		rc = hlx_sshkey_format(&x->root, NULL, &kb);
		for (size_t j = 0; !rc && subs && j < x->nsubs; j++)
			if (json_array_append_new(subs, json_string(x->subs[j])))
				rc = hlx_err(HLX_ENOMEM, "out of memory");
		o = rc || !subs ? NULL :
		    json_pack("{s:s, s:s, s:s, s:o}", "name", x->name, "url", x->url,
			      "root", (const char *)kb.data, "lists", subs);
		if (!o) {
			rc = rc ? rc : hlx_err(HLX_ENOMEM, "out of memory");
			break;
		}
		if (x->ca[0] && json_object_set_new(o, "ca", json_string(x->ca)))
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		if (x->policy[0] &&
		    json_object_set_new(o, "policy", json_string(x->policy)))
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		if (x->box[0] && json_object_set_new(o, "box", json_string(x->box)))
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		if (json_array_append_new(arr, o))
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	if (rc)
		goto out;
	s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s) {
		rc = hlx_err(HLX_ENOMEM, "cannot encode peers");
		goto out;
	}
	rc = path_of(home, path);
	if (!rc) {
		size_t n = strlen(s);

		s[n] = '\n';
		rc = hlx_file_write(path, s, n + 1, 0644);
		s[n] = '\0';
	}
out:
	free(s);
	json_decref(arr);
	json_decref(doc);
	hlx_buf_free(&kb);
	return rc;
}

/* ---- the rebase marker --------------------------------------------------- */

static int rebase_path(char out[PATH_MAX], const char *home, const char *peer,
		       const char *list)
{
	return hlx_home_path(out, home, HLX_HOME_PEER_REBASE, peer, list);
}

int hlx_peer_rebase_mark(const char *home, const struct hlx_peer *peer)
{
	char p[PATH_MAX];
	int rc = hlx_home_path(p, home, HLX_HOME_PEER, peer->name, NULL);

	if (!rc && peer->nsubs)
		rc = hlx_file_mkdirs(p, hlx_home_mode(HLX_HOME_PEER));
	for (size_t j = 0; !rc && j < peer->nsubs; j++) {
		rc = rebase_path(p, home, peer->name, peer->subs[j]);
		if (!rc)
			rc = hlx_file_write(p, "", 0, hlx_home_mode(HLX_HOME_PEER_REBASE));
	}
	return rc;
}

int hlx_peer_rebase_marked(const char *home, const char *peer,
			   const char *list, int *marked)
{
	char p[PATH_MAX];
	int rc = rebase_path(p, home, peer, list);

	*marked = !rc && access(p, F_OK) == 0;
	return rc;
}

int hlx_peer_rebase_clear(const char *home, const char *peer, const char *list)
{
	char p[PATH_MAX];
	int rc = rebase_path(p, home, peer, list);

	if (!rc && unlink(p) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p, strerror(errno));
	return rc;
}

int hlx_peer_trust(const char *home, const struct hlx_peer *peer,
		   struct hlx_trust **out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc;

	rc = hlx_home_path(path, home, HLX_HOME_PEER_TRUST, peer->name, NULL);
	if (!rc)
		rc = hlx_file_read(path, HLX_TRUST_MAX, &b);
	if (rc == HLX_ENOENT)
		rc = hlx_err(HLX_ENOENT, "no verified trust chain of peer '%s' yet",
			     peer->name);
	else if (!rc) {
		rc = hlx_trust_load((char *)b.data, b.len, &peer->root, out);
		if (rc)
			rc = hlx_err_wrap(rc, "the stored trust chain of peer '%s'",
					  peer->name);
	}
	hlx_buf_free(&b);
	return rc;
}
