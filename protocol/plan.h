/* SPDX-License-Identifier: MIT */
/*
 * Response plans (spec/plan.md): the plan document, its canonical form
 * and hash, locations, the acts that sign a version or withdraw from a
 * plan, which versions are in force at a time, and routing.
 *
 * Everything here is pure: no I/O, no clock.  What a time means is said by
 * the caller, who passes it.  A parsed plan is an opaque handle made by
 * hlx_plan_parse() and released by hlx_plan_free(); strings and rules it
 * returns live as long as the handle.  Organisations are named inside a
 * plan by their index among its signatories (in canonical order, sorted by
 * org); hlx_plan_signatory() gives the name.
 *
 * Acts are parsed and encoded here (their body is what is signed); their
 * signatures are verified by the caller (keys/: SSHSIG, namespace
 * HLX_PLAN_ACT_NAMESPACE, a key its trust chain delegates at the act's
 * time).  A book (struct hlx_plan_book) collects documents and valid acts
 * and answers which plans are in force at a time (spec/plan.md sections
 * 5.3 and 6); hlx_plan_route() routes a location over them (section 4).
 * protocol/plan.c holds the document, locations and routing;
 * protocol/plan_act.c the acts and the book.
 */
#ifndef HLX_PLAN_H
#define HLX_PLAN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/head.h"
#include "protocol/record.h"

#define HLX_PLAN_FORMAT "hlx-plan-1"
#define HLX_PLAN_ACT_FORMAT "hlx-plan-act-1"
#define HLX_PLAN_ACT_NAMESPACE "hlx-plan"
/* Largest canonical form, and largest input in any spelling (propose). */
#define HLX_PLAN_MAX 262144
#define HLX_PLAN_INPUT_MAX 1048576
#define HLX_PLAN_SIGNATORIES_MAX 64
#define HLX_PLAN_RULES_MAX 1024
#define HLX_PLAN_FALLBACKS_MAX 8
#define HLX_PLAN_LANGUAGES_MAX 8
#define HLX_PLAN_VERSION_MAX 2147483647LL
/* A host name of section 3.3, without its NUL. */
#define HLX_PLAN_HOST_MAX 253
/* "SHA256:" and 43 base64 characters. */
#define HLX_PLAN_ROOT_LEN 50
/* Rule id COUNTRY/CATEGORY/HOST and location text, NUL included. */
#define HLX_PLAN_ID_MAX (2 + 1 + HLX_TOKEN_MAX + 1 + HLX_PLAN_HOST_MAX + 1)
/* An act file {"body","signature"}, and its body. */
#define HLX_PLAN_ACT_MAX 16384
#define HLX_PLAN_ACT_BODY_MAX 1024

enum hlx_plan_channel {
	HLX_PLAN_SELF,
	HLX_PLAN_POLICE,
	HLX_PLAN_HOST_NODE,
	HLX_PLAN_FLAGGER,
};

/* Signatory indices; -1 where the member is absent. */
struct hlx_plan_deadlines {
	int le_hold_hours;  /* 0..720 */
	int le_by;          /* only with le_hold_hours > 0 */
	int notice_hours;   /* 1..8760 */
	int renotice_hours; /* 0..8760 */
	int escalate_after; /* 0..100 */
	int escalate_to;    /* exactly when escalate_after > 0 */
};

struct hlx_plan_rule {
	char id[HLX_PLAN_ID_MAX];        /* COUNTRY/CATEGORY[/HOST] */
	char country[3];                 /* "" for "*" */
	char category[HLX_TOKEN_MAX + 1]; /* "" for "*" */
	char host[HLX_PLAN_HOST_MAX + 1]; /* "" when absent */
	int host_labels;                 /* 0 when absent */
	int org;
	int fallbacks[HLX_PLAN_FALLBACKS_MAX];
	size_t nfallbacks;
	enum hlx_plan_channel channel;
	int via;
	char languages[HLX_PLAN_LANGUAGES_MAX][4]; /* sorted */
	size_t nlanguages;
	struct hlx_plan_deadlines deadlines;
};

struct hlx_plan; /* opaque */

/* Flags of hlx_plan_parse. */
enum {
	/* The input must be the canonical form itself, byte for byte (feeds,
	 * stores, signatures).  Without it any JSON spelling of at most
	 * HLX_PLAN_INPUT_MAX bytes is read (hlx plan propose). */
	HLX_PLAN_CANONICAL = 1,
};

/*
 * Parse a plan document strictly (spec/plan.md sections 2 and 3): unknown,
 * duplicate, missing or mistyped members, values out of range, empty or
 * repeated array items, organisations that are not signatories, two rules
 * with one id, no default rule and a canonical form over HLX_PLAN_MAX
 * bytes are refused with a detail naming the plan ("plan eu@2", once
 * its name and version are read), the rule (its id, or "rule N" before
 * the id is known) and the member.  HLX_EINVAL, HLX_ETOOBIG, or
 * HLX_EUNSUPPORTED for another format.  *out is set on success only.
 */
int hlx_plan_parse(const char *json, size_t n, unsigned flags,
		   struct hlx_plan **out);
void hlx_plan_free(struct hlx_plan *p);

const char *hlx_plan_name(const struct hlx_plan *p);
int64_t hlx_plan_version(const struct hlx_plan *p);
int64_t hlx_plan_lease_seconds(const struct hlx_plan *p);
int64_t hlx_plan_settle_seconds(const struct hlx_plan *p);
/* The canonical form, appended to out (no newline). */
int hlx_plan_canonical(const struct hlx_plan *p, struct hlx_buf *out);
/* SHA-256 of the canonical form; and as 64 lowercase hex digits. */
void hlx_plan_hash(const struct hlx_plan *p, uint8_t out[32]);
void hlx_plan_hash_hex(const struct hlx_plan *p, char out[65]);

/* Signatories, sorted by org. */
size_t hlx_plan_nsignatories(const struct hlx_plan *p);
const char *hlx_plan_signatory(const struct hlx_plan *p, size_t i);
const char *hlx_plan_signatory_root(const struct hlx_plan *p, size_t i);
/* Index of org among the signatories, or -1. */
int hlx_plan_signatory_find(const struct hlx_plan *p, const char *org);

/* Rules, sorted by id; the default rule (*\/\*) is always there. */
size_t hlx_plan_nrules(const struct hlx_plan *p);
const struct hlx_plan_rule *hlx_plan_rule_at(const struct hlx_plan *p,
					     size_t i);
const struct hlx_plan_rule *hlx_plan_default_rule(const struct hlx_plan *p);
/* "self", "police", "host-node", "flagger". */
const char *hlx_plan_channel_name(enum hlx_plan_channel c);

/* ---- hosts and locations ------------------------------------------------ */

/* HLX_OK if s[0, n) is a host name of section 3.3 (lowercase). */
int hlx_plan_host_check(const char *s, size_t n);
/* 1 if the rule host matches the host h: equal, or h ends with "." host. */
int hlx_plan_host_matches(const char *rule_host, const char *h);

/* A location: country "" (unknown), category "" (none), host "" (none). */
struct hlx_plan_loc {
	char country[3];
	char category[HLX_TOKEN_MAX + 1];
	char host[HLX_PLAN_HOST_MAX + 1];
};

/*
 * Parse COUNTRY/CATEGORY[/HOST] (spec/plan.md section 8, plan route):
 * COUNTRY an assigned code in either case or "-", CATEGORY a token or "-",
 * HOST a host name in either case.  Country and host are folded.
 */
int hlx_plan_loc_parse(const char *s, size_t n, struct hlx_plan_loc *loc);
/* The normalised text ("-" for absent parts), NUL-terminated. */
void hlx_plan_loc_format(const struct hlx_plan_loc *loc,
			 char out[HLX_PLAN_ID_MAX]);

/* ---- acts --------------------------------------------------------------- */

enum hlx_plan_act_kind {
	HLX_PLAN_SIGN = 1,
	HLX_PLAN_WITHDRAW = 2,
};

struct hlx_plan_act {
	enum hlx_plan_act_kind act;
	char org[HLX_NAME_MAX + 1];
	char plan[HLX_TOKEN_MAX + 1];
	int64_t version;
	uint8_t doc[32];
	int64_t time;
};

/* The canonical body of an act (what is signed), appended to out. */
int hlx_plan_act_body(const struct hlx_plan_act *a, struct hlx_buf *out);
/* Parse a body: canonical JSON of at most HLX_PLAN_ACT_BODY_MAX bytes with
 * exactly the members of section 5.1. */
int hlx_plan_act_parse_body(const char *body, size_t n,
			    struct hlx_plan_act *a);
/* Parse an act file of at most HLX_PLAN_ACT_MAX bytes: exactly "body" and
 * "signature" (a non-empty string, checked by the caller); body and
 * signature texts are copied into body and sig (which may be NULL). */
int hlx_plan_act_parse(const char *text, size_t n, struct hlx_plan_act *a,
		       struct hlx_buf *body, struct hlx_buf *sig);
/* The same for an act given as a JSON object (inside a bundle). */
int hlx_plan_act_from_json(const json_t *o, struct hlx_plan_act *a,
			   struct hlx_buf *body, struct hlx_buf *sig);
/* The act file, canonical JSON {"body":...,"signature":...}, appended. */
int hlx_plan_act_file(const char *body, size_t bodylen, const char *sig,
		      size_t siglen, struct hlx_buf *out);
/* Conditions 1 and 2 of section 5.2: the act names p (its name, version
 * and hash) and its org is one of p's signatories.  HLX_OK or HLX_EINVAL. */
int hlx_plan_act_for(const struct hlx_plan_act *a, const struct hlx_plan *p);

/* ---- in force ----------------------------------------------------------- */

struct hlx_plan_book; /* documents and valid acts */

int hlx_plan_book_new(struct hlx_plan_book **out);
void hlx_plan_book_free(struct hlx_plan_book *b);
/*
 * Add a document; the book takes p in every case (on failure it is freed).
 * A document already held (same hash) is dropped and HLX_OK returned.
 */
int hlx_plan_book_add(struct hlx_plan_book *b, struct hlx_plan *p);
/*
 * Add an act the caller found valid (section 5.2, conditions 3 to 6).
 * HLX_ENOENT when the book holds no document with its hash, HLX_EINVAL
 * when it does not name that document or its org is not a signatory.
 * Of several sign acts of one org for one document the earliest counts;
 * a withdrawal counts for every version up to its own.
 */
int hlx_plan_book_act(struct hlx_plan_book *b, const struct hlx_plan_act *a);
/*
 * Keep the document with this hash out of everything in force: it is never
 * in force, and neither supersedes nor outranks another document (a node
 * that is not its signatory, or does not hold its own valid sign act,
 * routes nothing with it).  HLX_ENOENT when the book does not hold it.
 */
int hlx_plan_book_exclude(struct hlx_plan_book *b, const uint8_t hash[32]);
/* The document of the book with this hash, or NULL. */
const struct hlx_plan *hlx_plan_book_find(const struct hlx_plan_book *b,
					  const uint8_t hash[32]);
/*
 * What the book knows about a document it holds: the time of the sign act
 * of signatory i that counts (-1: none), the time from which i has
 * withdrawn from p (-1: never), and whether p is complete (1, with its
 * start in *start) or not (0).
 */
int64_t hlx_plan_book_signed(const struct hlx_plan_book *b,
			     const struct hlx_plan *p, size_t i);
int64_t hlx_plan_book_withdrawn(const struct hlx_plan_book *b,
				const struct hlx_plan *p, size_t i);
int hlx_plan_book_complete(const struct hlx_plan_book *b,
			   const struct hlx_plan *p, int64_t *start);

/* A plan version in force, with the withdrawals of its signatories. */
struct hlx_plan_force {
	const struct hlx_plan *plan; /* owned by the book */
	int64_t start;
	int64_t withdrawn[HLX_PLAN_SIGNATORIES_MAX]; /* -1: never */
};

/*
 * The plans in force at t (section 6), at most one per name, sorted by
 * name: a malloc'd array in *out (free() it; NULL when *n is 0).  Valid
 * while the book is unchanged.
 */
int hlx_plan_book_in_force(const struct hlx_plan_book *b, int64_t t,
			   struct hlx_plan_force **out, size_t *n);

/* ---- routing ------------------------------------------------------------ */

struct hlx_plan_route {
	const struct hlx_plan *plan;      /* NULL: no plan routes it */
	const struct hlx_plan_rule *rule; /* the most specific match */
	/* The base order B (section 4.1), signatory indices: its first
	 * nprimary members are the rule's and default rule's part. */
	int base[HLX_PLAN_SIGNATORIES_MAX];
	size_t nbase, nprimary;
	/* The active chain at t: chain[0] is responsible, then its
	 * fallbacks.  Empty (0) only when every signatory has withdrawn at t
	 * (possible when the plans were in force at an earlier time). */
	int chain[HLX_PLAN_SIGNATORIES_MAX];
	size_t nchain;
};

/*
 * Route loc over the plans in force f[0, n) (as hlx_plan_book_in_force
 * gives them, for the time the route is taken at), with the active chain
 * at time t: the most specific matching rule of any plan, ties between
 * plans to the name first in byte order.  Always HLX_OK; r->plan is NULL
 * when n is 0.
 */
int hlx_plan_route(const struct hlx_plan_force *f, size_t n,
		   const struct hlx_plan_loc *loc, int64_t t,
		   struct hlx_plan_route *r);

#endif
