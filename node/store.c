/* SPDX-License-Identifier: MIT */
#include "node/store.h"
#include "protocol/err.h"
#include "protocol/head.h"

#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAP_SIZE (64ULL << 30)
#define META_MAX 400
#define KEY_MAX 65
#define FORMAT "hlx-state-1"

struct hlx_store {
	MDB_env *env;
	MDB_dbi entries, lists, ids, meta, received, purged;
	MDB_txn *rtxn; /* reset between calls, renewed on use */
	int in_write;
	uint8_t *secret; /* 32 bytes (sodium_malloc), or NULL: blinds purged */
};

struct hlx_store_txn {
	struct hlx_store *s;
	MDB_txn *txn;
	MDB_cursor *cur; /* on entries, opened on first use */
	/* No key of entries is after tail (tailn 0: none at all), as far as
	 * the puts of this transaction know: a fresh list's entry with a key
	 * after it goes in with MDB_APPEND (tail_known: looked up). */
	int tail_known;
	size_t tailn;
	uint8_t tail[KEY_MAX];
};

static int lmdb_err(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return hlx_err(HLX_ESTORE, "%s: the state database is full (%s)",
			       what, mdb_strerror(rc));
	return hlx_err(rc == ENOMEM ? HLX_ENOMEM : HLX_ESTORE, "%s: %s", what,
		       mdb_strerror(rc));
}

int hlx_list_name_check(const char *name)
{
	const char *slash = strchr(name, '/');
	int rc;

	if (!slash)
		return hlx_name_check(name, strlen(name), "list");
	rc = hlx_name_check(name, (size_t)(slash - name), "peer");
	if (!rc)
		rc = hlx_name_check(slash + 1, strlen(slash + 1), "list");
	return rc;
}

/* Key order follows the text order of "type:hex": types by name. */
static uint8_t type_rank(enum hlx_hash_type t)
{
	switch (t) {
	case HLX_HASH_MD5: return 1;
	case HLX_HASH_PDQ: return 2;
	case HLX_HASH_PHOTODNA: return 3;
	case HLX_HASH_SHA1: return 4;
	case HLX_HASH_SHA256: return 5;
	case HLX_HASH_TMK: return 6;
	case HLX_HASH_URL_SHA256: return 7;
	case HLX_HASH_VPDQ: return 8;
	}
	return 0;
}

/* type rank, then the hash bytes, or their SHA-256 when longer than 64. */
static size_t make_key(const struct hlx_hash *h, uint8_t key[KEY_MAX])
{
	key[0] = type_rank(h->type);
	if (h->len <= 64) {
		memcpy(key + 1, h->bytes, h->len);
		return 1 + h->len;
	}
	crypto_hash_sha256(key + 1, h->bytes, h->len);
	return 1 + 32;
}

int hlx_store_open(const char *dir, struct hlx_store **out)
{
	struct hlx_store *s;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int rc;

	*out = NULL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return hlx_err(HLX_EIO, "cannot create '%s': %s", dir,
			       strerror(errno));
	s = calloc(1, sizeof(*s));
	if (!s)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if ((rc = mdb_env_create(&s->env)) ||
	    (rc = mdb_env_set_maxdbs(s->env, 8)) ||
	    (rc = mdb_env_set_mapsize(s->env, MAP_SIZE)) ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600))) {
		rc = lmdb_err(rc, "cannot open the state database");
		rc = hlx_err_wrap(rc, "'%s'", dir);
		goto fail;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "entries", MDB_CREATE | MDB_DUPSORT,
			       &s->entries)) ||
	    (rc = mdb_dbi_open(txn, "lists", MDB_CREATE, &s->lists)) ||
	    (rc = mdb_dbi_open(txn, "list-ids", MDB_CREATE | MDB_INTEGERKEY,
			       &s->ids)) ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "received", MDB_CREATE, &s->received)) ||
	    (rc = mdb_dbi_open(txn, "purged", MDB_CREATE, &s->purged))) {
		rc = lmdb_err(rc, "cannot open the state tables");
		goto fail;
	}
	k.mv_data = "format";
	k.mv_size = 6;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_data = FORMAT;
		v.mv_size = strlen(FORMAT);
		rc = mdb_put(txn, s->meta, &k, &v, 0);
		if (rc) {
			rc = lmdb_err(rc, "cannot initialise the state database");
			goto fail;
		}
	} else if (rc) {
		rc = lmdb_err(rc, "cannot read the state database");
		goto fail;
	} else if (v.mv_size != strlen(FORMAT) ||
		   memcmp(v.mv_data, FORMAT, v.mv_size) != 0) {
		rc = hlx_err(HLX_EUNSUPPORTED,
			     "state database '%s' has an unknown format", dir);
		goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc) {
		rc = lmdb_err(rc, "cannot initialise the state database");
		goto fail;
	}
	*out = s;
	return HLX_OK;
fail:
	if (txn)
		mdb_txn_abort(txn);
	hlx_store_free(s);
	return rc;
}

void hlx_store_free(struct hlx_store *s)
{
	if (!s)
		return;
	if (s->rtxn)
		mdb_txn_abort(s->rtxn);
	if (s->env)
		mdb_env_close(s->env);
	if (s->secret) {
		sodium_memzero(s->secret, 32);
		sodium_free(s->secret);
	}
	free(s);
}

int hlx_store_set_secret(struct hlx_store *s, const uint8_t key[32],
			 const uint8_t *ctx, size_t n)
{
	if (!s->secret && !(s->secret = sodium_malloc(32)))
		return hlx_err(HLX_ENOMEM, "out of memory");
	/* a key of its own, derived from the node's for this one use */
	crypto_generichash(s->secret, 32, ctx, n, key, 32);
	return HLX_OK;
}

/* A short read transaction: renewed for each call, reset after. */
static int rbegin(struct hlx_store *s, MDB_txn **txn)
{
	int rc;

	if (s->rtxn)
		rc = mdb_txn_renew(s->rtxn);
	else
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	if (rc)
		return lmdb_err(rc, "cannot read the state database");
	*txn = s->rtxn;
	return HLX_OK;
}

static void rend(struct hlx_store *s)
{
	mdb_txn_reset(s->rtxn);
}

/* "id\tversion\thead\tcount\tupdated\towner" */
static int rec_encode(const struct hlx_list_rec *l, char *buf, size_t n)
{
	int w = snprintf(buf, n, "%" PRIu32 "\t%" PRIu64 "\t%s\t%" PRIu64 "\t%" PRId64 "\t%s",
			 l->id, l->version, l->head[0] ? l->head : "-", l->count,
			 l->updated, l->owner);

	return w > 0 && (size_t)w < n ? w : -1;
}

static int rec_decode(const MDB_val *k, const MDB_val *v,
		      struct hlx_list_rec *l)
{
	char buf[512], head[64], owner[128];
	int used = 0;

	if (k->mv_size > HLX_LIST_NAME_MAX || v->mv_size >= sizeof(buf))
		return hlx_err(HLX_ESTORE, "damaged list record");
	memcpy(buf, v->mv_data, v->mv_size);
	buf[v->mv_size] = '\0';
	memset(l, 0, sizeof(*l));
	if (sscanf(buf, "%" SCNu32 "\t%" SCNu64 "\t%63[^\t]\t%" SCNu64 "\t%" SCNd64 "\t%127s%n",
		   &l->id, &l->version, head, &l->count, &l->updated, owner,
		   &used) != 6 || (size_t)used != v->mv_size ||
	    strlen(owner) > HLX_LIST_NAME_MAX ||
	    (strcmp(head, "-") != 0 && strlen(head) != 40))
		return hlx_err(HLX_ESTORE, "damaged list record '%.*s'",
			       (int)k->mv_size, (const char *)k->mv_data);
	memcpy(l->name, k->mv_data, k->mv_size);
	l->name[k->mv_size] = '\0';
	if (strcmp(head, "-") != 0)
		memcpy(l->head, head, 41); /* checked: 40 characters */
	memcpy(l->owner, owner, strlen(owner) + 1); /* checked: fits */
	return HLX_OK;
}

static int list_get(MDB_txn *txn, struct hlx_store *s, const char *name,
		    struct hlx_list_rec *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, s->lists, &k, &v);

	if (rc == MDB_NOTFOUND)
		return hlx_err(HLX_ENOENT, "no such list '%.64s'", name);
	if (rc)
		return lmdb_err(rc, "cannot read a list record");
	return rec_decode(&k, &v, out);
}

int hlx_store_list_get(struct hlx_store *s, const char *name,
		       struct hlx_list_rec *out)
{
	MDB_txn *txn;
	int rc;

	if (strlen(name) > HLX_LIST_NAME_MAX)
		return hlx_err(HLX_ENOENT, "no such list '%.64s...'", name);
	if ((rc = rbegin(s, &txn)))
		return rc;
	rc = list_get(txn, s, name, out);
	rend(s);
	return rc;
}

int hlx_store_list_by_id(struct hlx_store *s, uint32_t id,
			 struct hlx_list_rec *out)
{
	MDB_txn *txn;
	MDB_val k = { sizeof(id), &id }, v;
	char name[HLX_LIST_NAME_MAX + 1];
	int rc;

	if ((rc = rbegin(s, &txn)))
		return rc;
	rc = mdb_get(txn, s->ids, &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = hlx_err(HLX_ENOENT, "no list with id %" PRIu32, id);
	else if (rc)
		rc = lmdb_err(rc, "cannot read a list id");
	else if (v.mv_size > HLX_LIST_NAME_MAX)
		rc = hlx_err(HLX_ESTORE, "damaged list id %" PRIu32, id);
	if (!rc) {
		memcpy(name, v.mv_data, v.mv_size);
		name[v.mv_size] = '\0';
		rc = list_get(txn, s, name, out);
	}
	rend(s);
	return rc;
}

int hlx_store_list_foreach(struct hlx_store *s,
			   int (*cb)(void *ctx, const struct hlx_list_rec *l),
			   void *ctx)
{
	struct hlx_list_rec *all = NULL, *p;
	size_t n = 0, cap = 0;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, m;

	/* Copy out first: cb must not run inside our read transaction. */
	if ((rc = rbegin(s, &txn)))
		return rc;
	rc = mdb_cursor_open(txn, s->lists, &c);
	for (m = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); !m;
	     m = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			p = realloc(all, cap * sizeof(*all));
			if (!p) {
				rc = hlx_err(HLX_ENOMEM, "out of memory");
				break;
			}
			all = p;
		}
		rc = rec_decode(&k, &v, &all[n++]);
		if (rc)
			break;
	}
	if (!rc && m != MDB_NOTFOUND)
		rc = lmdb_err(m, "cannot list the lists");
	if (c)
		mdb_cursor_close(c);
	rend(s);
	for (size_t i = 0; !rc && i < n; i++)
		rc = cb(ctx, &all[i]);
	free(all);
	return rc;
}

int hlx_store_begin(struct hlx_store *s, struct hlx_store_txn **out)
{
	struct hlx_store_txn *t;
	int rc;

	*out = NULL;
	if (s->in_write)
		return hlx_err(HLX_ESTATE, "a write transaction is already open");
	t = calloc(1, sizeof(*t));
	if (!t)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = mdb_txn_begin(s->env, NULL, 0, &t->txn);
	if (rc) {
		free(t);
		return lmdb_err(rc, "cannot start a state transaction");
	}
	t->s = s;
	s->in_write = 1;
	*out = t;
	return HLX_OK;
}

int hlx_store_commit(struct hlx_store_txn *t)
{
	int rc = mdb_txn_commit(t->txn);

	t->s->in_write = 0;
	free(t);
	return rc ? lmdb_err(rc, "cannot commit the state") : HLX_OK;
}

void hlx_store_abort(struct hlx_store_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	t->s->in_write = 0;
	free(t);
}

int hlx_store_list_create_txn(struct hlx_store_txn *t, const char *name,
			      const char *owner, struct hlx_list_rec *out)
{
	struct hlx_store *s = t->s;
	MDB_val k = { 7, "next-id" }, v;
	uint32_t id = 1;
	int rc;

	rc = hlx_list_name_check(name);
	if (rc)
		return rc;
	rc = list_get(t->txn, s, name, out);
	if (rc == HLX_OK)
		return hlx_err(HLX_EEXIST, "list '%s' exists already", name);
	if (rc != HLX_ENOENT)
		return rc;
	rc = mdb_get(t->txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(id))
		memcpy(&id, v.mv_data, sizeof(id));
	else if (rc != MDB_NOTFOUND)
		return lmdb_err(rc ? rc : MDB_CORRUPTED, "cannot read the next list id");
	memset(out, 0, sizeof(*out));
	out->id = id;
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->owner, sizeof(out->owner), "%s", owner);
	id++;
	v.mv_size = sizeof(id);
	v.mv_data = &id;
	rc = mdb_put(t->txn, s->meta, &k, &v, 0);
	if (rc)
		return lmdb_err(rc, "cannot store the next list id");
	k.mv_size = sizeof(out->id);
	k.mv_data = &out->id;
	v.mv_size = strlen(name);
	v.mv_data = (void *)name;
	rc = mdb_put(t->txn, s->ids, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return lmdb_err(rc, "cannot store a list id");
	return hlx_store_set_list(t, out);
}

int hlx_store_list_create(struct hlx_store *s, const char *name,
			  const char *owner, struct hlx_list_rec *out)
{
	struct hlx_store_txn *t;
	int rc;

	rc = hlx_list_name_check(name);
	if (rc)
		return rc;
	rc = hlx_store_begin(s, &t);
	if (rc)
		return rc;
	rc = hlx_store_list_create_txn(t, name, owner, out);
	if (rc) {
		hlx_store_abort(t);
		return rc;
	}
	return hlx_store_commit(t);
}

int hlx_store_set_list(struct hlx_store_txn *t, const struct hlx_list_rec *l)
{
	char buf[512];
	int n = rec_encode(l, buf, sizeof(buf));
	MDB_val k = { strlen(l->name), (void *)l->name }, v = { (size_t)n, buf };
	int rc;

	if (n < 0)
		return hlx_err(HLX_EINVAL, "list record of '%s' too long", l->name);
	rc = mdb_put(t->txn, t->s->lists, &k, &v, 0);
	return rc ? lmdb_err(rc, "cannot store a list record") : HLX_OK;
}

/* Position c on the dup of list in key; returns MDB_NOTFOUND if none. */
static int find_dup(MDB_cursor *c, MDB_val *k, uint32_t list, MDB_val *v)
{
	uint8_t id[4] = { (uint8_t)(list >> 24), (uint8_t)(list >> 16),
			  (uint8_t)(list >> 8), (uint8_t)list };
	int rc;

	v->mv_size = 4;
	v->mv_data = id;
	rc = mdb_cursor_get(c, k, v, MDB_GET_BOTH_RANGE);
	if (rc)
		return rc;
	if (v->mv_size < 4 || memcmp(v->mv_data, id, 4) != 0)
		return MDB_NOTFOUND;
	return 0;
}

/* Position the transaction's cursor on list's value of h (its key built
 * in key[]): 0, MDB_NOTFOUND or an LMDB error.  One cursor serves every
 * put, get and delete of a transaction. */
static int locate_key(struct hlx_store_txn *t, uint32_t list,
		      const uint8_t *key, size_t n, MDB_val *k, MDB_val *v)
{
	int rc;

	if (!t->cur && (rc = mdb_cursor_open(t->txn, t->s->entries, &t->cur)))
		return rc;
	k->mv_size = n;
	k->mv_data = (void *)key;
	return find_dup(t->cur, k, list, v);
}

static int locate(struct hlx_store_txn *t, uint32_t list,
		  const struct hlx_hash *h, uint8_t key[KEY_MAX], MDB_val *k,
		  MDB_val *v)
{
	return locate_key(t, list, key, make_key(h, key), k, v);
}

void hlx_store_digest(const char *meta, size_t n,
		      char out[HLX_STORE_DIGEST_LEN + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const uint8_t *)meta, n);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, 65, h, sizeof(h));
}

int hlx_store_meta_eq(const char *stored, size_t sn, const char *meta,
		      size_t n)
{
	char digest[HLX_STORE_DIGEST_LEN + 1];

	if (n > META_MAX) {
		hlx_store_digest(meta, n, digest);
		meta = digest;
		n = HLX_STORE_DIGEST_LEN;
	}
	return sn == n && memcmp(stored, meta, n) == 0;
}

/* Is key after every key of entries (t->tail, which is at least the
 * greatest)?  LMDB's order of keys: bytes, then the shorter first. */
static int after_tail(const struct hlx_store_txn *t, const uint8_t *key,
		      size_t n)
{
	int c;

	if (!t->tailn)
		return 1;
	c = memcmp(key, t->tail, n < t->tailn ? n : t->tailn);
	return c > 0 || (c == 0 && n > t->tailn);
}

/* t->tail: the greatest key of entries, looked up once. */
static int find_tail(struct hlx_store_txn *t)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(t->cur, &k, &v, MDB_LAST);

	if (rc == MDB_NOTFOUND) {
		t->tailn = 0;
	} else if (rc) {
		return rc;
	} else if (k.mv_size <= KEY_MAX) {
		memcpy(t->tail, k.mv_data, k.mv_size);
		t->tailn = k.mv_size;
	} else {
		/* no key of ours is this long: a bound nothing passes */
		memset(t->tail, 0xff, KEY_MAX);
		t->tailn = KEY_MAX;
	}
	t->tail_known = 1;
	return 0;
}

/*
 * Store key/v at the cursor.  A fresh list's entries come in key order,
 * and on a node that holds nothing after them (a first list, or keys of
 * a later type) each goes at the end of the table with MDB_APPEND: no
 * search for its place, and leaves filled whole instead of split in
 * halves.  LMDB itself refuses an append that is not after its last key
 * (MDB_KEYEXIST, nothing changed): then the usual put.
 */
static int put_at(struct hlx_store_txn *t, MDB_val *k, MDB_val *v, int fresh)
{
	int rc = 0, append;

	if (fresh && !t->tail_known)
		rc = find_tail(t);
	if (rc)
		return rc;
	append = fresh && after_tail(t, k->mv_data, k->mv_size);
	rc = mdb_cursor_put(t->cur, k, v, append ? MDB_APPEND : 0);
	if (rc == MDB_KEYEXIST && append)
		rc = mdb_cursor_put(t->cur, k, v, 0);
	if (!rc && t->tail_known && after_tail(t, k->mv_data, k->mv_size)) {
		memcpy(t->tail, k->mv_data, k->mv_size);
		t->tailn = k->mv_size;
	}
	return rc;
}

static int put_entry(struct hlx_store_txn *t, uint32_t list,
		     const struct hlx_hash *h, const char *meta, size_t metalen,
		     int fresh)
{
	uint8_t key[KEY_MAX], data[4 + META_MAX];
	char digest[HLX_STORE_DIGEST_LEN + 1];
	MDB_val k, v;
	int rc;

	if (metalen > HLX_STORE_LINE_MAX)
		return hlx_err(HLX_ETOOBIG, "entry metadata of %zu bytes", metalen);
	if (metalen > META_MAX) {
		/* a long case line: the state keeps its digest */
		hlx_store_digest(meta, metalen, digest);
		meta = digest;
		metalen = HLX_STORE_DIGEST_LEN;
	}
	if (fresh)
		rc = t->cur ? 0 : mdb_cursor_open(t->txn, t->s->entries, &t->cur);
	else
		rc = locate(t, list, h, key, &k, &v);
	if (rc == 0 && !fresh)
		rc = mdb_cursor_del(t->cur, 0); /* replaced below */
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	if (!rc) {
		data[0] = (uint8_t)(list >> 24);
		data[1] = (uint8_t)(list >> 16);
		data[2] = (uint8_t)(list >> 8);
		data[3] = (uint8_t)list;
		memcpy(data + 4, meta, metalen);
		k.mv_size = make_key(h, key);
		k.mv_data = key;
		v.mv_size = 4 + metalen;
		v.mv_data = data;
		rc = put_at(t, &k, &v, fresh);
	}
	return rc ? lmdb_err(rc, "cannot store an entry") : HLX_OK;
}

int hlx_store_put(struct hlx_store_txn *t, uint32_t list,
		  const struct hlx_hash *h, const char *meta, size_t metalen)
{
	return put_entry(t, list, h, meta, metalen, 0);
}

int hlx_store_put_new(struct hlx_store_txn *t, uint32_t list,
		      const struct hlx_hash *h, const char *meta, size_t metalen)
{
	return put_entry(t, list, h, meta, metalen, 1);
}

int hlx_store_del(struct hlx_store_txn *t, uint32_t list,
		  const struct hlx_hash *h)
{
	uint8_t key[KEY_MAX];
	MDB_val k, v;
	int rc = locate(t, list, h, key, &k, &v);

	if (rc == 0)
		rc = mdb_cursor_del(t->cur, 0);
	if (rc == MDB_NOTFOUND)
		return hlx_err(HLX_ENOENT, "no such entry");
	return rc ? lmdb_err(rc, "cannot delete an entry") : HLX_OK;
}

int hlx_store_get(struct hlx_store_txn *t, uint32_t list,
		  const struct hlx_hash *h, struct hlx_buf *out)
{
	uint8_t key[KEY_MAX];
	MDB_val k, v;
	int rc;

	hlx_buf_reset(out);
	rc = locate(t, list, h, key, &k, &v);
	if (rc == MDB_NOTFOUND)
		return hlx_err(HLX_ENOENT, "no such entry");
	if (rc)
		return lmdb_err(rc, "cannot read an entry");
	return hlx_buf_put(out, (const uint8_t *)v.mv_data + 4, v.mv_size - 4);
}

/* ---- retention ---------------------------------------------------------
 *
 * received: list id, key -> when the entry arrived (8 bytes, big-endian);
 *           kept for the entries a peer's list with a retention period
 *           holds.
 * purged:   list id, BLAKE2b of the key under the node's secret -> when
 *           it was purged.  Blinded: what retention removed is not kept
 *           in a readable form, only what lets the node recognise it.
 */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static size_t rkey(uint32_t list, const struct hlx_hash *h, uint8_t *key)
{
	put_be(key, list, 4);
	return 4 + make_key(h, key + 4);
}

/* The digest the purged table keeps for an entries key. */
static int key_digest(struct hlx_store *s, const uint8_t *key, size_t n,
		      uint8_t out[32])
{
	if (!s->secret)
		return hlx_err(HLX_ESTATE, "no node secret to recognise purged entries");
	crypto_generichash(out, 32, key, n, s->secret, 32);
	return HLX_OK;
}

int hlx_store_purged_digest(struct hlx_store *s, const struct hlx_hash *h,
			    uint8_t out[32])
{
	uint8_t k[KEY_MAX];

	return key_digest(s, k, make_key(h, k), out);
}

/* The purged table's key of h in list. */
static int pkey(struct hlx_store *s, uint32_t list, const struct hlx_hash *h,
		uint8_t key[36])
{
	put_be(key, list, 4);
	return hlx_store_purged_digest(s, h, key + 4);
}

static int64_t rtime_of(const MDB_val *v)
{
	uint64_t u = 0;

	for (int i = 0; i < 8 && v->mv_size >= 8; i++)
		u = u << 8 | ((const uint8_t *)v->mv_data)[i];
	return (int64_t)u;
}

int hlx_store_received_put(struct hlx_store_txn *t, uint32_t list,
			   const struct hlx_hash *h, int64_t when)
{
	uint8_t key[4 + KEY_MAX], val[8];
	MDB_val k, v;
	int rc;

	k.mv_size = rkey(list, h, key);
	k.mv_data = key;
	put_be(val, (uint64_t)when, 8);
	v.mv_size = sizeof(val);
	v.mv_data = val;
	rc = mdb_put(t->txn, t->s->received, &k, &v, MDB_NOOVERWRITE);
	return rc && rc != MDB_KEYEXIST ? lmdb_err(rc, "cannot record an arrival") :
					  HLX_OK;
}

int hlx_store_received_del(struct hlx_store_txn *t, uint32_t list,
			   const struct hlx_hash *h)
{
	uint8_t key[4 + KEY_MAX];
	MDB_val k;
	int rc;

	k.mv_size = rkey(list, h, key);
	k.mv_data = key;
	rc = mdb_del(t->txn, t->s->received, &k, NULL);
	return rc && rc != MDB_NOTFOUND ? lmdb_err(rc, "cannot update retention") :
					  HLX_OK;
}

/* k over key, the purged record's key of h in list: HLX_OK, 1 when the
 * node has no secret (nothing was ever purged), or an error. */
static int purged_key(struct hlx_store_txn *t, uint32_t list,
		      const struct hlx_hash *h, uint8_t key[36], MDB_val *k)
{
	if (!t->s->secret)
		return 1;
	k->mv_size = 36;
	k->mv_data = key;
	return pkey(t->s, list, h, key);
}

int hlx_store_unpurge(struct hlx_store_txn *t, uint32_t list,
		      const struct hlx_hash *h, int *was)
{
	uint8_t key[36];
	MDB_val k;
	int rc;

	if (was)
		*was = 0;
	rc = purged_key(t, list, h, key, &k);
	if (rc)
		return rc == 1 ? HLX_OK : rc;
	rc = mdb_del(t->txn, t->s->purged, &k, NULL);
	if (was)
		*was = rc == 0;
	return rc && rc != MDB_NOTFOUND ? lmdb_err(rc, "cannot update retention") :
					  HLX_OK;
}

int hlx_store_is_purged(struct hlx_store_txn *t, uint32_t list,
			const struct hlx_hash *h, int *yes)
{
	uint8_t key[36];
	MDB_val k, v;
	int rc;

	*yes = 0;
	rc = purged_key(t, list, h, key, &k);
	if (rc)
		return rc == 1 ? HLX_OK : rc;
	rc = mdb_get(t->txn, t->s->purged, &k, &v);
	*yes = rc == 0;
	return rc && rc != MDB_NOTFOUND ? lmdb_err(rc, "cannot read retention") :
					  HLX_OK;
}

int hlx_store_any_purged(struct hlx_store_txn *t, uint32_t list, int *yes)
{
	uint8_t id[4];
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc;

	*yes = 0;
	put_be(id, list, 4);
	k.mv_size = 4;
	k.mv_data = id;
	rc = mdb_cursor_open(t->txn, t->s->purged, &c);
	if (!rc)
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (!rc)
		*yes = k.mv_size >= 4 && memcmp(k.mv_data, id, 4) == 0;
	if (c)
		mdb_cursor_close(c);
	return rc && rc != MDB_NOTFOUND ? lmdb_err(rc, "cannot read retention") :
					  HLX_OK;
}

int hlx_store_purge(struct hlx_store_txn *t, uint32_t list, int64_t cutoff,
		    int64_t now, uint64_t *count)
{
	uint8_t id[4];
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, m;

	*count = 0;
	put_be(id, list, 4);
	rc = mdb_cursor_open(t->txn, t->s->received, &c);
	if (rc)
		return lmdb_err(rc, "cannot open a cursor");
	k.mv_size = 4;
	k.mv_data = id;
	for (m = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !m && !rc;) {
		uint8_t key[KEY_MAX], pk[36], when[8];
		MDB_val ek, ev, pv, kk;
		size_t n;

		if (k.mv_size < 5 || k.mv_size > 4 + KEY_MAX ||
		    memcmp(k.mv_data, id, 4) != 0)
			break;
		if (rtime_of(&v) > cutoff) {
			m = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		/* the entries key follows the list id (copied: the updates
		 * below invalidate what LMDB returned) */
		n = k.mv_size - 4;
		memcpy(key, (const uint8_t *)k.mv_data + 4, n);
		rc = locate_key(t, list, key, n, &ek, &ev);
		if (rc == 0)
			rc = mdb_cursor_del(t->cur, 0);
		else if (rc == MDB_NOTFOUND)
			rc = 0; /* gone already */
		if (rc) {
			rc = lmdb_err(rc, "cannot purge an entry");
			break;
		}
		put_be(pk, list, 4);
		rc = key_digest(t->s, key, n, pk + 4);
		if (rc)
			break;
		put_be(when, (uint64_t)now, 8);
		pv.mv_size = sizeof(when);
		pv.mv_data = when;
		kk.mv_size = sizeof(pk);
		kk.mv_data = pk;
		rc = mdb_put(t->txn, t->s->purged, &kk, &pv, 0);
		if (!rc)
			rc = mdb_cursor_del(c, 0);
		if (rc) {
			rc = lmdb_err(rc, "cannot purge an entry");
			break;
		}
		++*count;
		/* after a delete the cursor stands on the next item */
		m = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(c);
	if (!rc && m && m != MDB_NOTFOUND && m != EINVAL)
		rc = lmdb_err(m, "cannot scan arrivals");
	return rc;
}

/* Every key of dbi that starts with the 4-byte id: deleted (cb NULL),
 * or those of 36 bytes handed to cb (the 32 after the id), whose error
 * comes back as it is. */
static int walk_prefix(MDB_txn *txn, MDB_dbi dbi, const uint8_t id[4],
		       int (*cb)(void *ctx, const uint8_t digest[32]),
		       void *ctx)
{
	MDB_cursor *c;
	MDB_val k = { 4, (void *)id }, v;
	int rc, m;

	rc = mdb_cursor_open(txn, dbi, &c);
	if (rc)
		return lmdb_err(rc, "cannot open a cursor");
	/* after a delete the cursor stands on the next item */
	for (m = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !m && !rc;
	     m = mdb_cursor_get(c, &k, &v, cb ? MDB_NEXT : MDB_GET_CURRENT)) {
		if (k.mv_size < 4 || memcmp(k.mv_data, id, 4) != 0)
			break;
		if (!cb)
			rc = mdb_cursor_del(c, 0);
		else if (k.mv_size == 36)
			rc = cb(ctx, (const uint8_t *)k.mv_data + 4);
	}
	mdb_cursor_close(c);
	if (cb)
		return rc;
	if (rc)
		return lmdb_err(rc, "cannot delete a list's records");
	if (m && m != MDB_NOTFOUND && m != EINVAL)
		return lmdb_err(m, "cannot scan a list's records");
	return HLX_OK;
}

int hlx_store_purged_foreach(struct hlx_store *s, uint32_t list,
			     int (*cb)(void *ctx, const uint8_t digest[32]),
			     void *ctx)
{
	uint8_t id[4];
	MDB_txn *txn;
	int rc;

	put_be(id, list, 4);
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_err(rc, "cannot read the state database");
	rc = walk_prefix(txn, s->purged, id, cb, ctx);
	mdb_txn_abort(txn);
	return rc;
}

/* Visit every entry of list: delete it, or count it. */
static int scan_list(MDB_txn *txn, MDB_dbi dbi, uint32_t list, int del,
		     uint64_t *count)
{
	uint8_t id[4] = { (uint8_t)(list >> 24), (uint8_t)(list >> 16),
			  (uint8_t)(list >> 8), (uint8_t)list };
	MDB_cursor *c;
	MDB_val k, v;
	int rc, m;

	*count = 0;
	rc = mdb_cursor_open(txn, dbi, &c);
	if (rc)
		return lmdb_err(rc, "cannot open a cursor");
	/* After mdb_cursor_del the cursor already stands on the next item,
	 * and MDB_NEXT returns that item rather than skipping it. */
	for (m = mdb_cursor_get(c, &k, &v, MDB_FIRST); !m && !rc;
	     m = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size < 4 || memcmp(v.mv_data, id, 4) != 0)
			continue;
		++*count;
		if (del)
			rc = mdb_cursor_del(c, 0);
	}
	mdb_cursor_close(c);
	if (rc)
		return lmdb_err(rc, "cannot clear a list");
	if (m != MDB_NOTFOUND)
		return lmdb_err(m, "cannot scan a list");
	return HLX_OK;
}

int hlx_store_clear_list(struct hlx_store_txn *t, uint32_t list)
{
	uint64_t n;

	return scan_list(t->txn, t->s->entries, list, 1, &n);
}

int hlx_store_list_delete(struct hlx_store_txn *t, const char *name,
			  uint64_t *entries)
{
	struct hlx_list_rec rec;
	uint8_t id[4];
	MDB_val k;
	uint64_t n = 0;
	int rc, m;

	if (entries)
		*entries = 0;
	if (strlen(name) > HLX_LIST_NAME_MAX)
		return hlx_err(HLX_ENOENT, "no such list '%.64s...'", name);
	rc = list_get(t->txn, t->s, name, &rec);
	if (rc)
		return rc;
	put_be(id, rec.id, 4);
	rc = scan_list(t->txn, t->s->entries, rec.id, 1, &n);
	if (!rc)
		rc = walk_prefix(t->txn, t->s->received, id, NULL, NULL);
	if (!rc)
		rc = walk_prefix(t->txn, t->s->purged, id, NULL, NULL);
	if (rc)
		return rc;
	k.mv_size = strlen(name);
	k.mv_data = (void *)name;
	m = mdb_del(t->txn, t->s->lists, &k, NULL);
	if (!m) {
		k.mv_size = sizeof(rec.id);
		k.mv_data = &rec.id;
		m = mdb_del(t->txn, t->s->ids, &k, NULL);
	}
	if (m && m != MDB_NOTFOUND)
		return lmdb_err(m, "cannot delete a list record");
	if (entries)
		*entries = n;
	return HLX_OK;
}

int hlx_store_count_list(struct hlx_store *s, uint32_t list, uint64_t *count)
{
	MDB_txn *txn;
	int rc;

	if ((rc = rbegin(s, &txn)))
		return rc;
	rc = scan_list(txn, s->entries, list, 0, count);
	rend(s);
	return rc;
}

int hlx_store_lookup(struct hlx_store *s, const struct hlx_hash *const *q,
		     size_t n, hlx_store_hit_fn cb, void *ctx)
{
	uint8_t key[KEY_MAX];
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, m;

	/* its own read transaction: callers may look up from several
	 * threads at once (the environment is opened MDB_NOTLS) */
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_err(rc, "cannot read the state database");
	rc = mdb_cursor_open(txn, s->entries, &c);
	if (rc) {
		rc = lmdb_err(rc, "cannot open a cursor");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		k.mv_size = make_key(q[i], key);
		k.mv_data = key;
		for (m = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); !m && !rc;
		     m = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
			uint32_t list;

			if (v.mv_size < 4) {
				rc = hlx_err(HLX_ESTORE, "damaged entry");
				break;
			}
			list = (uint32_t)((const uint8_t *)v.mv_data)[0] << 24 |
			       (uint32_t)((const uint8_t *)v.mv_data)[1] << 16 |
			       (uint32_t)((const uint8_t *)v.mv_data)[2] << 8 |
			       ((const uint8_t *)v.mv_data)[3];
			rc = cb(ctx, i, list, (const char *)v.mv_data + 4,
				v.mv_size - 4);
		}
		if (!rc && m && m != MDB_NOTFOUND)
			rc = lmdb_err(m, "cannot look up an entry");
	}
out:
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return rc;
}

size_t hlx_store_key(const struct hlx_hash *h, uint8_t key[HLX_STORE_KEY_MAX])
{
	size_t n = make_key(h, key + 1);

	key[0] = (uint8_t)n;
	return n + 1;
}

/* The list id at the head of a stored value. */
static uint32_t value_list(const MDB_val *v)
{
	const uint8_t *p = v->mv_data;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int hlx_store_lookup_keys(struct hlx_store *s, const uint8_t *const *keys,
			  size_t n, hlx_store_hit_fn cb, void *ctx)
{
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, m;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_err(rc, "cannot read the state database");
	rc = mdb_cursor_open(txn, s->entries, &c);
	if (rc) {
		rc = lmdb_err(rc, "cannot open a cursor");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		/*
		 * MDB_SET_RANGE leaves the cursor on the first key at or
		 * after the one asked for, found or not: LMDB then looks for
		 * the next key in the cursor's page first and descends from
		 * the root only when it lies beyond.  (MDB_SET_KEY would
		 * drop the position on a miss.)
		 */
		k.mv_size = keys[i][0];
		k.mv_data = (void *)(keys[i] + 1);
		m = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (!m && (k.mv_size != keys[i][0] ||
			   memcmp(k.mv_data, keys[i] + 1, k.mv_size) != 0))
			continue; /* a later key: not held */
		for (; !m && !rc; m = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
			if (v.mv_size < 4) {
				rc = hlx_err(HLX_ESTORE, "damaged entry");
				break;
			}
			rc = cb(ctx, i, value_list(&v), (const char *)v.mv_data + 4,
				v.mv_size - 4);
		}
		if (!rc && m && m != MDB_NOTFOUND)
			rc = lmdb_err(m, "cannot look up an entry");
	}
out:
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- compaction (for prune) --------------------------------------------- */

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

int hlx_store_compact(const char *dir, uint64_t *before, uint64_t *after)
{
	struct flock lk;
	struct stat st;
	MDB_env *env = NULL;
	char lock[PATH_MAX], data[PATH_MAX], tmp[PATH_MAX];
	int lfd = -1, fd = -1, dfd = -1, rc = HLX_OK, m;

	if (before)
		*before = 0;
	if (after)
		*after = 0;
	if (snprintf(lock, sizeof(lock), "%s/lock.mdb", dir) >= (int)sizeof(lock) ||
	    snprintf(data, sizeof(data), "%s/data.mdb", dir) >= (int)sizeof(data) ||
	    snprintf(tmp, sizeof(tmp), "%s/data.mdb.compact", dir) >= (int)sizeof(tmp))
		return hlx_err(HLX_EINVAL, "path too long in '%.60s'", dir);
	if (stat(data, &st) != 0)
		return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot read '%s': %s", data, strerror(errno));
	if (before)
		*before = (uint64_t)st.st_size;
	/* LMDB keeps a shared lock on byte 0 of lock.mdb while a process
	 * has the environment open, and waits for a shared lock when it
	 * opens it: an exclusive lock means nobody else uses it. */
	lfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lfd < 0)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", lock, strerror(errno));
	memset(&lk, 0, sizeof(lk));
	lk.l_type = F_WRLCK;
	lk.l_whence = SEEK_SET;
	lk.l_start = 0;
	lk.l_len = 1;
	if (fcntl(lfd, F_SETLK, &lk) != 0) {
		rc = hlx_err(HLX_ESTATE,
			     "the state database '%s' is open in another process: stop it (hlx run?) and retry",
			     dir);
		goto out;
	}
	/* MDB_NOLOCK: LMDB must not touch lock.mdb, whose lock we hold */
	unlink(tmp);
	if ((m = mdb_env_create(&env)) || (m = mdb_env_set_maxdbs(env, 64)) ||
	    (m = mdb_env_set_mapsize(env, MAP_SIZE)) ||
	    (m = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600))) {
		rc = lmdb_err(m, "cannot open the state database to compact it");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = hlx_err(HLX_EIO, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	m = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
	if (m) {
		rc = lmdb_err(m, "cannot compact the state database");
		goto out;
	}
	if (fsync(fd) != 0 || fstat(fd, &st) != 0) {
		rc = hlx_err(HLX_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	mdb_env_close(env);
	env = NULL;
	if (after)
		*after = (uint64_t)st.st_size;
	if (rename(tmp, data) != 0) {
		rc = hlx_err(HLX_EIO, "cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		rc = hlx_err(HLX_EIO, "cannot sync '%s': %s", dir, strerror(errno));
		goto out;
	}
	/* The lock file describes the old data file (its last transaction
	 * id): open the environment once, still alone, so that LMDB
	 * initialises it afresh from the new file, as a first opener does.
	 * Our own lock does not stop this process's LMDB. */
	if ((m = mdb_env_create(&env)) || (m = mdb_env_set_maxdbs(env, 64)) ||
	    (m = mdb_env_set_mapsize(env, MAP_SIZE)) ||
	    (m = mdb_env_open(env, dir, MDB_NOTLS, 0600)))
		rc = lmdb_err(m, "cannot reopen the compacted state database");
out:
	if (env)
		mdb_env_close(env); /* closes LMDB's descriptor of lock.mdb:
				       our lock goes with it */
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (lfd >= 0)
		close(lfd);
	if (rc)
		unlink(tmp);
	return rc;
}
