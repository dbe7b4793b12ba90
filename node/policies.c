/* SPDX-License-Identifier: MIT */
#include "node/policies.h"
#include "node/files.h"
#include "node/node.h"
#include "node/store.h"
#include "keys/keyfile.h"
#include "keys/seal.h"
#include "protocol/err.h"
#include "protocol/head.h"
#include "protocol/record.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLICY_FILE_MAX 65536

static int policy_path(const char *home, const char *name, char out[PATH_MAX])
{
	return name ? hlx_home_path(out, home, HLX_HOME_POLICY, name, NULL) :
		      hlx_home_path(out, home, HLX_HOME_POLICIES, NULL, NULL);
}

void hlx_policies_free(struct hlx_policies *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		hlx_policy_free(p->v[i]);
	free(p->v);
	free(p);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(hlx_policy_name(*(struct hlx_policy *const *)a),
		      hlx_policy_name(*(struct hlx_policy *const *)b));
}

int hlx_policies_load(const char *home, struct hlx_policies **out)
{
	struct hlx_policies *p = calloc(1, sizeof(*p));
	struct hlx_buf b = HLX_BUF_INIT;
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	DIR *d = NULL;
	int rc;

	*out = NULL;
	if (!p)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = policy_path(home, NULL, dir);
	if (rc)
		goto fail;
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			goto done;
		rc = hlx_err(HLX_EIO, "cannot open '%s': %s", dir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct hlx_policy *pol = NULL, **v;
		char name[65];

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 ||
		    de->d_name[0] == '.')
			continue;
		if (len - 5 >= sizeof(name) ||
		    hlx_name_check(de->d_name, len - 5, "policy")) {
			rc = hlx_err(HLX_EINVAL, "'%s/%.80s': not a policy name", dir,
				     de->d_name);
			goto fail;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
		if (p->n >= HLX_POLICIES_MAX) {
			rc = hlx_err(HLX_ETOOBIG, "more than %d policies", HLX_POLICIES_MAX);
			goto fail;
		}
		hlx_buf_reset(&b);
		rc = policy_path(home, name, path);
		if (!rc)
			rc = hlx_file_read(path, POLICY_FILE_MAX, &b);
		if (!rc)
			rc = hlx_policy_parse((const char *)b.data, b.len, &pol);
		if (!rc && strcmp(hlx_policy_name(pol), name) != 0)
			rc = hlx_err(HLX_EINVAL, "it names policy '%s'",
				     hlx_policy_name(pol));
		if (rc) {
			hlx_policy_free(pol);
			rc = hlx_err_wrap(rc, "policy file '%s'", path);
			goto fail;
		}
		v = realloc(p->v, (p->n + 1) * sizeof(*v));
		if (!v) {
			hlx_policy_free(pol);
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			goto fail;
		}
		p->v = v;
		p->v[p->n++] = pol;
	}
	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), by_name);
done:
	if (d)
		closedir(d);
	hlx_buf_free(&b);
	*out = p;
	return HLX_OK;
fail:
	if (d)
		closedir(d);
	hlx_buf_free(&b);
	hlx_policies_free(p);
	return rc;
}

const struct hlx_policy *hlx_policies_find(const struct hlx_policies *p,
					   const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(hlx_policy_name(p->v[i]), name) == 0)
			return p->v[i];
	return NULL;
}

/* policies/hold-tags: every tag a policy of this node ever held entries
 * back with, one a line, sorted; the open feed withholds them all. */
static int hold_path(const char *home, char out[PATH_MAX])
{
	return hlx_home_path(out, home, HLX_HOME_HOLD_TAGS, NULL, NULL);
}

static int tag_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append s to the array *v of *n tags, growing it (*cap) as needed. */
static int push_tag(char ***v, size_t *n, size_t *cap, char *s)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		char **x = realloc(*v, c * sizeof(**v));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		*v = x;
		*cap = c;
	}
	(*v)[(*n)++] = s;
	return HLX_OK;
}

int hlx_hold_tags(const char *home, const struct hlx_policy *add,
		  struct hlx_buf *out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX], **v = NULL;
	size_t n = 0, cap = 0;
	int rc = hold_path(home, path), changed = 0;

	hlx_buf_reset(out);
	if (!rc && (rc = hlx_file_read(path, 1 << 20, &b)) == HLX_ENOENT) {
		/* none remembered yet */
		hlx_err_clear();
		hlx_buf_reset(&b);
		changed = add != NULL;
		rc = HLX_OK;
	}
	if (!rc)
		rc = hlx_buf_putc(&b, '\0');
	/* what was remembered, the default, and add's tags */
	for (char *s = rc ? NULL : (char *)b.data, *e; !rc && s && *s; s = e ? e + 1 : NULL) {
		e = strchr(s, '\n');
		if (e)
			*e = '\0';
		if (!*s)
			continue;
		if (hlx_entry_token_check(s, strlen(s), "hold tag") != HLX_OK || n >= 65536) {
			rc = hlx_err(HLX_EINVAL, "'%s': not a list of tags", path);
			break;
		}
		rc = push_tag(&v, &n, &cap, s);
		if (rc)
			break;
	}
	for (size_t i = 0; !rc && i <= (add ? hlx_policy_nhold(add) : 0); i++) {
		const char *t = i == 0 ? "hold" : hlx_policy_hold_at(add, i - 1);
		int have = 0;

		for (size_t j = 0; j < n; j++)
			have |= !strcmp(v[j], t);
		if (have)
			continue;
		rc = push_tag(&v, &n, &cap, (char *)t);
		if (rc)
			break;
		changed = add != NULL;
	}
	if (!rc && n)
		qsort(v, n, sizeof(*v), tag_cmp);
	for (size_t i = 0; !rc && i < n; i++)
		rc = hlx_buf_printf(out, "%s\n", v[i]);
	if (!rc && changed) {
		char dir[PATH_MAX];

		rc = policy_path(home, NULL, dir);
		if (!rc)
			rc = hlx_file_mkdirs(dir, hlx_home_mode(HLX_HOME_POLICIES));
		if (!rc)
			rc = hlx_file_write(path, out->data, out->len,
					    hlx_home_mode(HLX_HOME_HOLD_TAGS));
	}
	free(v);
	hlx_buf_free(&b);
	return rc;
}

int hlx_policies_add(const char *home, const char *json, size_t n, int replace,
		     char name[65])
{
	struct hlx_policy *pol = NULL;
	struct hlx_buf canon = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc;

	rc = hlx_policy_parse(json, n, &pol);
	if (!rc)
		rc = hlx_policy_canonical(pol, &canon);
	if (!rc)
		rc = hlx_buf_putc(&canon, '\n');
	if (!rc)
		snprintf(name, 65, "%s", hlx_policy_name(pol));
	if (!rc)
		rc = policy_path(home, NULL, path);
	if (!rc)
		rc = hlx_file_mkdirs(path, hlx_home_mode(HLX_HOME_POLICIES));
	if (!rc)
		rc = policy_path(home, name, path);
	if (!rc && !replace && access(path, F_OK) == 0)
		rc = hlx_err(HLX_EEXIST, "policy '%s' exists already (use --replace)",
			     name);
	/* its holds outlive it: the open feed keeps them (spec/policy.md 6) */
	if (!rc) {
		struct hlx_buf tags = HLX_BUF_INIT;

		rc = hlx_hold_tags(home, pol, &tags);
		hlx_buf_free(&tags);
	}
	if (!rc)
		rc = hlx_file_write(path, canon.data, canon.len,
				    hlx_home_mode(HLX_HOME_POLICY));
	hlx_policy_free(pol);
	hlx_buf_free(&canon);
	return rc;
}

int hlx_policies_remove(const char *home, const struct hlx_peers *peers,
			const char *name)
{
	char path[PATH_MAX];
	int rc = hlx_name_check(name, strlen(name), "policy");

	if (rc)
		return rc;
	for (size_t i = 0; i < peers->n; i++)
		if (strcmp(peers->v[i].policy, name) == 0)
			return hlx_err(HLX_ESTATE, "policy '%s' applies to peer '%s'",
				       name, peers->v[i].name);
	rc = policy_path(home, name, path);
	if (rc)
		return rc;
	/* a policy stored before hold tags were remembered: remember its own */
	{
		struct hlx_buf b = HLX_BUF_INIT, tags = HLX_BUF_INIT;
		struct hlx_policy *pol = NULL;

		if (hlx_file_read(path, POLICY_FILE_MAX, &b) == HLX_OK &&
		    hlx_policy_parse((const char *)b.data, b.len, &pol) == HLX_OK)
			rc = hlx_hold_tags(home, pol, &tags);
		hlx_err_clear();
		hlx_policy_free(pol);
		hlx_buf_free(&b);
		hlx_buf_free(&tags);
		if (rc)
			return rc;
	}
	if (unlink(path) != 0)
		return errno == ENOENT ?
		       hlx_err(HLX_ENOENT, "no such policy '%s'", name) :
		       hlx_err(HLX_EIO, "cannot remove '%s': %s", path, strerror(errno));
	return HLX_OK;
}

void hlx_audience_id(const uint8_t secret[32], const struct hlx_policy *p,
		     char id[33])
{
	uint8_t view[32], h[32];

	/* spec/policy.md: the first 16 bytes of a 32-byte keyed BLAKE2b */
	hlx_policy_view_id(p, view);
	crypto_generichash(h, sizeof(h), view, sizeof(view), secret, 32);
	sodium_bin2hex(id, 33, h, 16);
}

void hlx_audience_dir(const uint8_t secret[32], const struct hlx_policy *p,
		      const char *peer, const uint8_t root[32], char id[33])
{
	crypto_generichash_state st;
	uint8_t view[32], h[32];

	/* spec/policy.md section 6: the view id, the peer's name, its root */
	hlx_policy_view_id(p, view);
	crypto_generichash_init(&st, secret, 32, sizeof(h));
	crypto_generichash_update(&st, view, sizeof(view));
	crypto_generichash_update(&st, (const uint8_t *)peer, strlen(peer));
	crypto_generichash_update(&st, root, 32);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(id, 33, h, 16);
}

void hlx_audiences_free(struct hlx_audiences *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].members);
		free(a->v[i].dirs);
	}
	free(a->v);
	free(a->skipped);
	free(a);
}

int hlx_peer_policy_check(const struct hlx_policies *pols,
			  const struct hlx_peer *pe)
{
	const struct hlx_policy *pol;

	if (!pe->policy[0])
		return HLX_OK;
	pol = hlx_policies_find(pols, pe->policy);
	if (!pol)
		return hlx_err(HLX_ENOENT, "peer '%s' names policy '%s', which does not exist",
			       pe->name, pe->policy);
	if (hlx_policy_encrypt(pol) && !pe->box[0])
		return hlx_err(HLX_EPOLICY,
			       "policy '%s' encrypts its feed, but peer '%s' has no box key (hlx peer set %s --box KEY)",
			       pe->policy, pe->name, pe->name);
	return HLX_OK;
}

int hlx_policy_check_node(struct hlx_node *n, const struct hlx_policy *p,
			  const struct hlx_peers *peers)
{
	for (size_t i = 0; i < hlx_policy_nlists(p); i++) {
		const char *l = hlx_policy_list_at(p, i), *slash = strchr(l, '/');
		const struct hlx_peer *pe = NULL;
		struct hlx_list_rec rec;
		char peer[65];
		int rc, subscribed = 0;

		if (!strcmp(l, "*") || !strcmp(l, "status") ||
		    !strcmp(l, "cases"))
			continue;
		if (!slash) {
			rc = hlx_store_list_get(hlx_node_store(n), l, &rec);
			if (rc == HLX_ENOENT)
				return hlx_err(HLX_ENOENT,
					       "policy '%s' names list '%s', which does not exist (hlx list ls)",
					       hlx_policy_name(p), l);
			if (rc)
				return rc;
			continue;
		}
		snprintf(peer, sizeof(peer), "%.*s", (int)(slash - l), l);
		for (size_t j = 0; j < peers->n && !pe; j++)
			if (!strcmp(peers->v[j].name, peer))
				pe = &peers->v[j];
		for (size_t j = 0; pe && j < pe->nsubs; j++)
			subscribed |= !strcmp(pe->subs[j], slash + 1);
		if (!subscribed)
			return hlx_err(HLX_ENOENT,
				       "policy '%s' names list '%s', but %s '%s' (hlx subscribe %s %s)",
				       hlx_policy_name(p), l,
				       pe ? "this node does not subscribe to it from peer" :
				       "there is no peer", peer, peer, slash + 1);
	}
	/* the peers bound to it by name, as they would be bound */
	for (size_t i = 0; i < peers->n; i++) {
		const struct hlx_policies one = { 1, (struct hlx_policy **)&p };
		int rc;

		if (strcmp(peers->v[i].policy, hlx_policy_name(p)))
			continue;
		rc = hlx_peer_policy_check(&one, &peers->v[i]);
		if (rc)
			return rc;
	}
	return HLX_OK;
}

static int skip(struct hlx_audiences *a, const struct hlx_peer *pe, int why)
{
	struct hlx_audience_skip *v = realloc(a->skipped,
					      (a->nskipped + 1) * sizeof(*v));

	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	a->skipped = v;
	v[a->nskipped].peer = pe;
	v[a->nskipped].rc = why;
	snprintf(v[a->nskipped].why, sizeof(v->why), "%s", hlx_err_detail());
	a->nskipped++;
	hlx_err_clear();
	return HLX_OK;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct hlx_audience *)a)->id,
		      ((const struct hlx_audience *)b)->id);
}

int hlx_audiences_make(const char *home, const struct hlx_policies *pols,
		       const struct hlx_peers *peers, struct hlx_audiences **out)
{
	struct hlx_audiences *a = calloc(1, sizeof(*a));
	uint8_t *secret = NULL;
	int rc = HLX_OK;

	*out = NULL;
	if (!a)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; i < peers->n && !secret && !rc; i++)
		if (peers->v[i].policy[0])
			rc = hlx_node_secret(home, 1, &secret);
	for (size_t i = 0; i < peers->n && !rc; i++) {
		const struct hlx_peer *pe = &peers->v[i];
		const struct hlx_policy *pol;
		struct hlx_audience *au = NULL;
		const struct hlx_peer **m;
		char id[33];

		if (!pe->policy[0])
			continue;
		rc = hlx_peer_policy_check(pols, pe);
		if (rc && rc != HLX_ENOMEM) {
			/* one peer's broken setting leaves that peer out,
			 * the others' audiences are made all the same */
			rc = skip(a, pe, rc);
			continue;
		}
		if (rc)
			break;
		pol = hlx_policies_find(pols, pe->policy);
		hlx_audience_id(secret, pol, id);
		for (size_t j = 0; j < a->n; j++)
			if (!strcmp(a->v[j].id, id))
				au = &a->v[j];
		if (!au) {
			struct hlx_audience *v = realloc(a->v, (a->n + 1) * sizeof(*v));

			if (!v) {
				rc = hlx_err(HLX_ENOMEM, "out of memory");
				break;
			}
			a->v = v;
			au = &v[a->n++];
			memset(au, 0, sizeof(*au));
			memcpy(au->id, id, sizeof(au->id));
			au->policy = pol;
		} else if (strcmp(hlx_policy_name(pol), hlx_policy_name(au->policy)) < 0) {
			au->policy = pol;
		}
		m = realloc(au->members, (au->n + 1) * sizeof(*m));
		if (!m) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			break;
		}
		au->members = m;
		{
			char (*d)[33] = realloc(au->dirs, (au->n + 1) * sizeof(*d));

			if (!d) {
				rc = hlx_err(HLX_ENOMEM, "out of memory");
				break;
			}
			au->dirs = d;
			/* a plain feed is the member's own: one that leaves
			 * can read nothing that follows (spec/policy.md 6) */
			if (hlx_policy_encrypt(pol))
				memcpy(d[au->n], id, sizeof(d[au->n]));
			else
				hlx_audience_dir(secret, pol, pe->name, pe->root.pk, d[au->n]);
		}
		m[au->n++] = pe;
	}
	hlx_node_secret_free(secret);
	if (rc) {
		hlx_audiences_free(a);
		return rc;
	}
	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), by_id);
	*out = a;
	return HLX_OK;
}

const char *hlx_audiences_dir(const struct hlx_audiences *a, const char *peer)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < a->v[i].n; j++)
			if (!strcmp(a->v[i].members[j]->name, peer))
				return a->v[i].dirs[j];
	return NULL;
}

const struct hlx_audience *hlx_audiences_of(const struct hlx_audiences *a,
					    const char *peer)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < a->v[i].n; j++)
			if (!strcmp(a->v[i].members[j]->name, peer))
				return &a->v[i];
	return NULL;
}
