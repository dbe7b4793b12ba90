/* SPDX-License-Identifier: MIT */
/* hlx overview, and the --json of the listings (node/cli/glance.h): what
 * node/overview.c gathers, as text or as one JSON document. */
#include "node/cli/cmds.h"
#include "node/cli/glance.h"
#include "node/match.h"
#include "node/overview.h"
#include "protocol/err.h"
#include "protocol/record.h"
#include "protocol/rtime.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON values -------------------------------------------------------- */

/* A string that may hold bytes that are not UTF-8 (a peer's error text):
 * those are written as \xHH, as error messages write control bytes. */
static json_t *jstr(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	json_t *v = json_string(s);
	char *e;
	size_t o = 0;

	if (v)
		return v;
	e = malloc(strlen(s) * 4 + 1);
	if (!e)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80) {
			e[o++] = (char)*p;
			continue;
		}
		e[o++] = '\\';
		e[o++] = 'x';
		e[o++] = hex[*p >> 4];
		e[o++] = hex[*p & 15];
	}
	e[o] = '\0';
	v = json_string(e);
	free(e);
	return v;
}

/* "" and NULL are null. */
static json_t *jopt(const char *s)
{
	return s && s[0] ? jstr(s) : json_null();
}

/* A time as RFC 3339 UTC; 0 (never, none) is null. */
static json_t *jtime(int64_t t)
{
	char s[HLX_TIME_TEXT];

	if (t <= 0)
		return json_null();
	hlx_time_format(t, s);
	return json_string(s);
}

static json_t *jnum(uint64_t n)
{
	return json_integer((json_int_t)n);
}

/* Set o[k] = v, counting a failure (a NULL v: out of memory) in *bad. */
static void put(json_t *o, const char *k, json_t *v, int *bad)
{
	if (!o || !v || json_object_set_new(o, k, v) != 0)
		*bad = 1;
}

static void push(json_t *a, json_t *v, int *bad)
{
	if (!a || !v || json_array_append_new(a, v) != 0)
		*bad = 1;
}

/* Print doc (taken) as one document; returns the exit code. */
static int print_doc(json_t *doc, int bad)
{
	int rc = 0;

	if (bad || !doc)
		rc = cli_fail(HLX_ENOMEM, "cannot write the JSON document");
	else if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0 ||
		 fputc('\n', stdout) == EOF)
		rc = cli_fail(hlx_err(HLX_EIO, "standard output"),
			      "cannot write the JSON document");
	json_decref(doc);
	return rc;
}

/* ---- the objects -------------------------------------------------------- */

static json_t *key_obj(const struct hlx_ov_key *k, int *bad)
{
	json_t *o = json_object();

	put(o, "role", json_string(k->root ? "root" : "signing"), bad);
	put(o, "fingerprint", json_string(k->fpr), bad);
	put(o, "valid_after", k->root ? json_null() : jtime(k->valid_after), bad);
	put(o, "valid_before", k->root ? json_null() : jtime(k->valid_before), bad);
	put(o, "state", json_string(k->state), bad);
	put(o, "current", json_boolean(k->current || k->root), bad);
	put(o, "revoked_since", k->revoked ? jtime(k->revoked_since) : json_null(),
	    bad);
	return o;
}

static json_t *keys_arr(const struct hlx_overview *ov, int *bad)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ov->nkeys; i++)
		push(a, key_obj(&ov->keys[i], bad), bad);
	return a;
}

static json_t *list_obj(const struct hlx_ov_list *l, int *bad)
{
	json_t *o = json_object();

	put(o, "name", json_string(l->rec.name), bad);
	put(o, "owner", json_string(l->rec.owner), bad);
	put(o, "own", json_boolean(l->own), bad);
	put(o, "version", jnum(l->rec.version), bad);
	put(o, "entries", jnum(l->rec.count), bad);
	put(o, "updated", l->rec.version ? jtime(l->rec.updated) : json_null(), bad);
	put(o, "commit", jopt(l->rec.head), bad);
	return o;
}

static json_t *lists_arr(const struct hlx_overview *ov, int *bad)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ov->nlists; i++)
		push(a, list_obj(&ov->lists[i], bad), bad);
	return a;
}

static json_t *rules_obj(const struct hlx_rules *r, int *bad)
{
	json_t *o = json_object();

	put(o, "onward", json_boolean(r->onward), bad);
	put(o, "retention_days", json_integer(r->retention_days), bad);
	put(o, "purpose", jopt(r->purpose), bad);
	return o;
}

static json_t *sub_obj(const struct hlx_ov_sub *s, int with_peer, int *bad)
{
	json_t *o = json_object();

	if (with_peer)
		put(o, "peer", json_string(s->peer), bad);
	put(o, "list", json_string(s->list), bad);
	put(o, "held", jnum(s->held), bad);
	put(o, "remote", jnum(s->remote), bad);
	put(o, "behind", jnum(s->remote > s->held ? s->remote - s->held : 0), bad);
	put(o, "last_ok", jtime(s->last_ok), bad);
	put(o, "last_try", jtime(s->last_try), bad);
	put(o, "error", jopt(s->error), bad);
	put(o, "head_expires", jtime(s->head_expires), bad);
	put(o, "rules", s->has_rules ? rules_obj(&s->rules, bad) : json_null(), bad);
	return o;
}

static json_t *peer_obj(const struct hlx_overview *ov, size_t i, int subs,
			int *bad)
{
	const struct hlx_ov_peer *p = &ov->peer[i];
	json_t *o = json_object(), *l = json_array();

	put(o, "name", json_string(p->p->name), bad);
	put(o, "root", json_string(p->fpr), bad);
	put(o, "url", jopt(p->p->url), bad);
	put(o, "ca", jopt(p->p->ca), bad);
	put(o, "policy", jopt(p->p->policy), bad);
	put(o, "box", json_boolean(p->p->box[0] != '\0'), bad);
	put(o, "feed", jopt(p->feed), bad);
	for (size_t j = 0; j < p->p->nsubs; j++)
		push(l, json_string(p->p->subs[j]), bad);
	put(o, "lists", l, bad);
	if (subs) {
		l = json_array();
		for (size_t j = 0; j < p->nsubs; j++)
			push(l, sub_obj(&ov->subs[p->first + j], 0, bad), bad);
		put(o, "subscriptions", l, bad);
	}
	return o;
}

static json_t *peers_arr(const struct hlx_overview *ov, int subs, int *bad)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ov->npeers; i++)
		push(a, peer_obj(ov, i, subs, bad), bad);
	return a;
}

static json_t *subs_arr(const struct hlx_overview *ov, int *bad)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ov->nsubs; i++)
		push(a, sub_obj(&ov->subs[i], 1, bad), bad);
	return a;
}

static json_t *policy_obj(const struct hlx_overview *ov, size_t i, int *bad)
{
	const struct hlx_ov_policy *p = &ov->pol[i];
	const char *name = hlx_policy_name(p->pol);
	json_t *o = json_object(), *peers = json_array(), *lists = json_array();

	put(o, "name", json_string(name), bad);
	put(o, "sha256", json_string(p->sha256), bad);
	put(o, "encrypt", json_boolean(hlx_policy_encrypt(p->pol)), bad);
	put(o, "audience", jopt(p->audience), bad);
	for (size_t j = 0; j < ov->npeers; j++)
		if (!strcmp(ov->peer[j].p->policy, name))
			push(peers, json_string(ov->peer[j].p->name), bad);
	put(o, "peers", peers, bad);
	for (size_t j = 0; j < hlx_policy_nlists(p->pol); j++)
		push(lists, json_string(hlx_policy_list_at(p->pol, j)), bad);
	put(o, "lists", lists, bad);
	return o;
}

static json_t *policies_arr(const struct hlx_overview *ov, int *bad)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ov->npols; i++)
		push(a, policy_obj(ov, i, bad), bad);
	return a;
}

static json_t *publish_obj(const struct hlx_overview *ov, int *bad)
{
	json_t *o = json_object(), *a = json_array();

	put(o, "dir", jstr(ov->publish_dir), bad);
	put(o, "last_signed", jtime(ov->last_signed), bad);
	put(o, "next_expiry", jtime(ov->next_expiry), bad);
	for (size_t i = 0; i < ov->nheads; i++) {
		const struct hlx_ov_head *h = &ov->heads[i];
		json_t *ho = json_object();

		put(ho, "feed", jstr(h->feed), bad);
		put(ho, "list", jstr(h->list), bad);
		put(ho, "version", jnum(h->version), bad);
		put(ho, "issued", jtime(h->issued), bad);
		put(ho, "expires", jtime(h->expires), bad);
		push(a, ho, bad);
	}
	put(o, "heads", a, bad);
	return o;
}

static json_t *attention_arr(const struct hlx_overview *ov, int *bad)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ov->natt; i++) {
		const struct hlx_ov_attention *t = &ov->att[i];
		json_t *o = json_object();

		put(o, "kind", json_string(t->kind), bad);
		put(o, "subject", jstr(t->subject), bad);
		put(o, "message", jstr(t->message), bad);
		put(o, "time", jtime(t->when), bad);
		push(a, o, bad);
	}
	return a;
}

static int overview_json(const struct hlx_overview *ov)
{
	json_t *o = json_object();
	int bad = 0;

	put(o, "org", json_string(ov->org), &bad);
	put(o, "root", json_string(ov->nkeys ? ov->keys[0].fpr : ""), &bad);
	put(o, "home", jstr(ov->home), &bad);
	put(o, "box_key", json_boolean(ov->box), &bad);
	put(o, "keys", keys_arr(ov, &bad), &bad);
	put(o, "lists", lists_arr(ov, &bad), &bad);
	put(o, "peers", peers_arr(ov, 1, &bad), &bad);
	put(o, "policies", policies_arr(ov, &bad), &bad);
	put(o, "policy_error", jopt(ov->policy_error), &bad);
	put(o, "publish", publish_obj(ov, &bad), &bad);
	put(o, "attention", attention_arr(ov, &bad), &bad);
	return print_doc(o, bad);
}

/* ---- the listings ------------------------------------------------------- */

int cli_glance_json(struct hlx_cli *cli, enum cli_glance what)
{
	struct hlx_overview ov;
	json_t *doc = NULL;
	int rc, bad = 0;

	hlx_overview_init(&ov, cli->now);
	switch (what) {
	case CLI_GLANCE_KEYS:
		rc = hlx_overview_keys(&ov, cli->homeh);
		break;
	case CLI_GLANCE_LISTS:
		rc = hlx_overview_lists(&ov, cli->node);
		break;
	case CLI_GLANCE_PEERS:
	case CLI_GLANCE_POLICIES:
		rc = hlx_overview_peers(&ov, cli->home, NULL);
		if (!rc)
			rc = hlx_overview_policies(&ov, cli->home);
		break;
	default:
		rc = hlx_overview_peers(&ov, cli->home, cli->node);
		break;
	}
	if (rc) {
		hlx_overview_free(&ov);
		return cli_fail(rc, "cannot read the node");
	}
	doc = what == CLI_GLANCE_KEYS ? keys_arr(&ov, &bad) :
	      what == CLI_GLANCE_LISTS ? lists_arr(&ov, &bad) :
	      what == CLI_GLANCE_PEERS ? peers_arr(&ov, 0, &bad) :
	      what == CLI_GLANCE_POLICIES ? policies_arr(&ov, &bad) :
	      subs_arr(&ov, &bad);
	rc = print_doc(doc, bad);
	hlx_overview_free(&ov);
	return rc;
}

static const char *refresh_name(const struct hlx_match_status *st)
{
	return st->rebuilt ? "rebuilt" : st->compacted ? "compacted" :
	       st->lists_changed ? "incremental" : "up-to-date";
}

struct match_lists {
	struct hlx_node *n;
	json_t *a;
	int bad;
};

static int match_list(void *ctx, const struct hlx_list_rec *l)
{
	struct match_lists *m = ctx;
	struct hlx_match_conf c;
	json_t *o;
	int rc = hlx_match_conf_get(m->n, l->name, &c);

	if (rc)
		return rc;
	o = json_object();
	put(o, "name", json_string(l->name), &m->bad);
	put(o, "version", jnum(l->version), &m->bad);
	put(o, "entries", jnum(l->count), &m->bad);
	put(o, "threshold", json_integer(c.threshold), &m->bad);
	put(o, "allow", json_boolean(c.allow), &m->bad);
	push(m->a, o, &m->bad);
	return 0;
}

int cli_glance_match(struct hlx_node *n, const struct hlx_match_status *st)
{
	struct match_lists m = { n, json_array(), 0 };
	json_t *o = json_object();
	int rc;

	put(o, "indexed_lists", jnum(st->lists), &m.bad);
	put(o, "pdq_hashes", jnum(st->base + st->added - st->removed), &m.bad);
	put(o, "base", jnum(st->base), &m.bad);
	put(o, "overlay_added", jnum(st->added), &m.bad);
	put(o, "overlay_removed", jnum(st->removed), &m.bad);
	put(o, "memory_bytes", jnum(st->memory), &m.bad);
	put(o, "search_tables", json_boolean(st->tables), &m.bad);
	put(o, "refresh", json_string(refresh_name(st)), &m.bad);
	put(o, "lists_changed", jnum(st->lists_changed), &m.bad);
	put(o, "lines_read", jnum(st->diff_lines), &m.bad);
	put(o, "pdq_added", jnum(st->pdq_added), &m.bad);
	put(o, "pdq_removed", jnum(st->pdq_removed), &m.bad);
	put(o, "seconds", json_real(st->refresh_seconds), &m.bad);
	put(o, "note", jopt(st->note), &m.bad);
	rc = hlx_store_list_foreach(hlx_node_store(n), match_list, &m);
	if (rc) {
		json_decref(m.a);
		json_decref(o);
		return cli_fail(rc, "cannot list the lists");
	}
	put(o, "lists", m.a, &m.bad);
	return print_doc(o, m.bad);
}

/* ---- status show -------------------------------------------------------- */

struct cli_glance_arr {
	json_t *a;
};

int cli_glance_status_new(struct cli_glance_arr **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out)
		(*out)->a = json_array();
	if (!*out || !(*out)->a) {
		cli_glance_status_free(*out);
		*out = NULL;
		return hlx_err(HLX_ENOMEM, "out of memory");
	}
	return HLX_OK;
}

int cli_glance_status_add(struct cli_glance_arr *a, const char *org,
			  const char *item, const char *meta, size_t metalen)
{
	struct hlx_buf line = HLX_BUF_INIT, js = HLX_BUF_INIT;
	struct hlx_status *st = malloc(sizeof(*st));
	json_t *rec = NULL, *o = NULL;
	int bad = 0, rc = st ? hlx_buf_printf(&line, "%s\t%.*s\n", item,
					       (int)metalen, meta) :
			       hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc)
		rc = hlx_status_decode((const char *)line.data, line.len, st);
	if (!rc)
		rc = hlx_status_to_json(st, &js);
	if (!rc) {
		/* the organisation first, then the record as status import
		 * reads it */
		rec = json_loadb((const char *)js.data, js.len, 0, NULL);
		o = json_object();
		put(o, "org", json_string(org), &bad);
		if (!rec || json_object_update(o, rec) != 0)
			bad = 1;
		if (!bad) {
			push(a->a, o, &bad);
			o = NULL;
		}
		if (bad)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	json_decref(rec);
	json_decref(o);
	hlx_buf_free(&line);
	hlx_buf_free(&js);
	free(st);
	return rc;
}

int cli_glance_status_print(struct cli_glance_arr *a)
{
	int rc = 0;

	if (a) {
		rc = print_doc(a->a, 0);
		a->a = NULL;
	}
	cli_glance_status_free(a);
	return rc;
}

void cli_glance_status_free(struct cli_glance_arr *a)
{
	if (!a)
		return;
	json_decref(a->a);
	free(a);
}

/* ---- hlx overview ------------------------------------------------------- */

static void text_keys(const struct hlx_overview *ov)
{
	char a[HLX_TIME_TEXT], b[HLX_TIME_TEXT];

	printf("organisation  %s\n", ov->org);
	printf("root key      %s\n", ov->nkeys ? ov->keys[0].fpr : "-");
	printf("home          %s\n", ov->home);
	printf("box key       %s\n", ov->box ? "yes" : "none (run 'hlx key box')");
	printf("\nsigning keys\n");
	for (size_t i = 1; i < ov->nkeys; i++) {
		const struct hlx_ov_key *k = &ov->keys[i];

		hlx_time_format(k->valid_after, a);
		hlx_time_format(k->valid_before, b);
		printf("  %s  %s..%s  %s%s\n", k->fpr, a, b, k->state,
		       k->current ? " current" : "");
	}
}

static void text_lists(const struct hlx_overview *ov)
{
	char t[HLX_TIME_TEXT];

	printf("\nlists (%zu)\n", ov->nlists);
	for (size_t i = 0; i < ov->nlists; i++) {
		const struct hlx_list_rec *l = &ov->lists[i].rec;

		snprintf(t, sizeof(t), "-");
		if (l->version)
			hlx_time_format(l->updated, t);
		printf("  %-24s %-16s v%-6" PRIu64 " %10" PRIu64 " %-7s  %s\n",
		       l->name, l->owner, l->version, l->count,
		       cli_noun(l->count, "entry", "entries"), t);
	}
}

static void text_peers(const struct hlx_overview *ov)
{
	char a[32];

	printf("\npeers (%zu)\n", ov->npeers);
	for (size_t i = 0; i < ov->npeers; i++) {
		const struct hlx_ov_peer *p = &ov->peer[i];

		printf("  %-16s %s  %s  policy: %s%s%s\n", p->p->name, p->fpr,
		       p->p->url[0] ? p->p->url : "(no feed)",
		       p->p->policy[0] ? p->p->policy : "(none)",
		       p->feed ? "  feed: a/" : "", p->feed ? p->feed : "");
		for (size_t j = 0; j < p->nsubs; j++) {
			const struct hlx_ov_sub *s = &ov->subs[p->first + j];

			cli_ago(a, sizeof(a), ov->now, s->last_ok, 1);
			printf("    %-20s held %" PRIu64 ", remote %" PRIu64
			       ", behind %" PRIu64 ", synced %s%s%s\n", s->list,
			       s->held, s->remote,
			       s->remote > s->held ? s->remote - s->held : 0, a,
			       s->error[0] ? ", error: " : "", s->error);
		}
	}
}

static void text_policies(const struct hlx_overview *ov)
{
	printf("\npolicies (%zu)\n", ov->npols);
	for (size_t i = 0; i < ov->npols; i++) {
		const struct hlx_ov_policy *p = &ov->pol[i];
		const char *name = hlx_policy_name(p->pol);

		printf("  %-20s %.16s  %s", name, p->sha256,
		       !hlx_policy_encrypt(p->pol) ? "plain, a feed per peer" :
		       p->audience ? "encrypted, audience a/" : "encrypted, no audience");
		if (hlx_policy_encrypt(p->pol) && p->audience)
			printf("%s", p->audience);
		printf("  peers:");
		for (size_t j = 0; j < ov->npeers; j++)
			if (!strcmp(ov->peer[j].p->policy, name))
				printf(" %s", ov->peer[j].p->name);
		printf("%s\n", p->bound ? "" : " (none)");
	}
}

static void text_published(const struct hlx_overview *ov)
{
	char a[32], t[HLX_TIME_TEXT];

	printf("\npublish directory  %s\n", ov->publish_dir);
	if (!ov->nheads) {
		printf("  nothing published there\n");
		return;
	}
	cli_ago(a, sizeof(a), ov->now, ov->last_signed, 1);
	hlx_time_format(ov->next_expiry, t);
	printf("  %zu head%s, the newest signed %s, the first expiring %s\n",
	       ov->nheads, ov->nheads == 1 ? "" : "s", a, t);
}

static void text_attention(const struct hlx_overview *ov)
{
	printf("\nattention%s\n", ov->natt ? "" : ": nothing needs attention");
	for (size_t i = 0; i < ov->natt; i++)
		printf("  %s  %s: %s\n", ov->att[i].kind, ov->att[i].subject,
		       ov->att[i].message);
}

int cmd_overview(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *to = cli_text(a, "publish-dir");
	char dir[PATH_MAX];
	struct hlx_overview ov;
	int rc, ret = 0;

	rc = cli_publish_dir(cli, to, dir);
	if (rc)
		return cli_fail(rc, "cannot find the publish directory");
	hlx_overview_init(&ov, cli->now);
	rc = hlx_overview_gather(&ov, cli->node, dir);
	if (rc)
		ret = cli_fail(rc, "cannot read the node '%s'", cli->home);
	else if (cli_given(a, "json"))
		ret = overview_json(&ov);
	else {
		text_keys(&ov);
		text_lists(&ov);
		text_peers(&ov);
		text_policies(&ov);
		if (ov.policy_error[0])
			printf("  (no audiences: %s)\n", ov.policy_error);
		text_published(&ov);
		text_attention(&ov);
	}
	hlx_overview_free(&ov);
	return ret;
}
