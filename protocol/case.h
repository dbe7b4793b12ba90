/* SPDX-License-Identifier: MIT */
/*
 * Cases: the case line, ownership actions, the state machine, the single
 * owner of a case at a time, and the growth rule of a cases log
 * (spec/cases.md, sections 1 to 7).  Pure: no I/O, no clock, no routing.
 *
 * The route of a case (plan.md section 4) is computed elsewhere and given
 * to hlx_case_owner() as a struct hlx_case_route: the base order B of the
 * routing plan, how much of it is the rule's and default rule's chain, the
 * withdrawals from the routing version, the lease, the settle time and
 * the rule's le_by.
 *
 * The case line has one spelling: hlx_case_decode() accepts only what
 * hlx_case_encode() writes.  Functions return HLX_OK or a negative HLX_E*
 * code with an hlx_err() detail naming the field.
 */
#ifndef HLX_CASE_H
#define HLX_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/hash.h"
#include "protocol/record.h"
#include "protocol/rtime.h"

#define HLX_CASE_LINE_MAX 4096   /* bytes, '\n' included */
#define HLX_CASE_ACTS_MAX 32     /* ownership actions per line */
#define HLX_CASE_NOTICES_MAX 9999
#define HLX_CASE_ORG_MAX 64      /* [a-z0-9][a-z0-9._-]{0,63} */
#define HLX_CASE_HOST_MAX 253
#define HLX_CASE_SKEW 300        /* seconds a line may be ahead (7.2) */
#define HLX_CASE_NOROUTE_LEASE 86400

enum hlx_case_state {
	HLX_CASE_NONE = 0,       /* "-": no state set */
	HLX_CASE_REPORTED,       /* "reported" */
	HLX_CASE_ASSESSED,       /* "assessed" */
	HLX_CASE_LE_HOLD,        /* "le-hold" */
	HLX_CASE_LE_CLEARED,     /* "le-cleared" */
	HLX_CASE_NOTICE_SENT,    /* "notice-sent" */
	HLX_CASE_RE_NOTIFIED,    /* "re-notified" */
	HLX_CASE_ESCALATED,      /* "escalated" */
	HLX_CASE_REFUSED,        /* "refused-by-host" */
	HLX_CASE_REMOVED,        /* "removed" */
	HLX_CASE_REAPPEARED,     /* "reappeared" */
	HLX_CASE_WITHDRAWN,      /* "withdrawn" */
};
#define HLX_CASE_NSTATES 12

enum hlx_case_act_kind {
	HLX_CASE_CLAIM = 1,      /* claim/A/B */
	HLX_CASE_RELEASE,        /* release/T */
	HLX_CASE_HANDOFF,        /* handoff/T/ORG */
};

struct hlx_case_act {
	enum hlx_case_act_kind kind;
	int64_t a;               /* claim: A; release, handoff: T */
	int64_t b;               /* claim: B (>= A); otherwise == a */
	char org[HLX_CASE_ORG_MAX + 1]; /* handoff: the target; else "" */
};

/* One organisation's line about one case (cases.md section 3). */
struct hlx_case_line {
	struct hlx_hash id;      /* url-sha256 */
	struct hlx_hash item;    /* type 0: absent */
	char country[3];         /* "" absent */
	char host[HLX_CASE_HOST_MAX + 1];   /* "" absent */
	char category[HLX_TOKEN_MAX + 1];   /* "" absent */
	int64_t reported;        /* -1 absent */
	unsigned nacts;
	struct hlx_case_act acts[HLX_CASE_ACTS_MAX];
	enum hlx_case_state state;  /* HLX_CASE_NONE absent */
	int64_t changed;         /* -1 absent */
	unsigned notices;
};

/* Static state name, or NULL outside the enum (and for HLX_CASE_NONE). */
const char *hlx_case_state_name(enum hlx_case_state s);
int hlx_case_state_parse(const char *s, size_t n, enum hlx_case_state *st);
/* 1 for removed and withdrawn. */
int hlx_case_state_final(enum hlx_case_state s);

/* HLX_OK if s[0, n) is an organisation name. */
int hlx_case_org_check(const char *s, size_t n);
/* HLX_OK if s[0, n) is a host name of plan.md section 3.3. */
int hlx_case_host_check(const char *s, size_t n);

/* Everything absent: id type 0, times -1. */
void hlx_case_init(struct hlx_case_line *c);
int hlx_case_validate(const struct hlx_case_line *c);
/* Append the canonical line; HLX_ETOOBIG over HLX_CASE_LINE_MAX. */
int hlx_case_encode(const struct hlx_case_line *c, struct hlx_buf *out);
/* One canonical line, n including its required '\n'. */
int hlx_case_decode(const char *line, size_t n, struct hlx_case_line *c);
/* The case id's text, "url-sha256:HEX". */
void hlx_case_id_text(const struct hlx_case_line *c,
		      char out[HLX_HASH_TEXT_MAX]);
/* Case id of a raw URL (normalised) or of a url-sha256 text. */
int hlx_case_id_from_url(const char *url, size_t n, struct hlx_hash *id);
int hlx_case_id_parse(const char *s, size_t n, struct hlx_hash *id);
/* Append the JSON object of section 3.3. */
int hlx_case_to_json(const struct hlx_case_line *c, struct hlx_buf *out);

/* ---- the state machine (section 6) ---- */

/* HLX_OK if the table allows from -> to; else HLX_ESTATE naming both. */
int hlx_case_transition_check(enum hlx_case_state from,
			      enum hlx_case_state to);

/* ---- writing one's own line (sections 3.1, 9) ---- */

/* Claim at now: renew the last action if it is a claim whose lease
 * (B + lease) still runs at now, else append claim/now/now.  *renewed
 * says which.  HLX_ESTATE when a 33rd action would be needed or time
 * would go back; c unchanged on failure. */
int hlx_case_claim(struct hlx_case_line *c, int64_t now, int64_t lease,
		   int *renewed);
int hlx_case_release(struct hlx_case_line *c, int64_t now);
int hlx_case_handoff(struct hlx_case_line *c, int64_t now, const char *org);
/* Record a state set at now (after the checks of section 6.2): state,
 * changed and, for notice-sent and re-notified, notices + 1. */
int hlx_case_set_state(struct hlx_case_line *c, enum hlx_case_state st,
		       int64_t now);

/* ---- the owner (sections 4 and 5) ---- */

struct hlx_case_wd {
	const char *org;
	int64_t at;        /* earliest withdrawal from the routing version */
};

/*
 * The route of the opening report's location at T0 (plan.md section 4),
 * given by the caller.  With routed == 0 (no plan in force at T0) the rest
 * is ignored: B = (r0), L = 86400, S = 0.
 */
struct hlx_case_route {
	int routed;
	const char *const *base;  /* B of plan.md 4.1: each signatory once */
	unsigned nbase;
	unsigned nchain;          /* base[0, nchain): rule's and default's part */
	const struct hlx_case_wd *wd;  /* at most one per org, in base */
	unsigned nwd;
	int64_t lease;            /* lease_seconds */
	int64_t settle;           /* settle_seconds */
	const char *le_by;        /* the rule's le_by, or NULL */
};

/* One line held, with the organisation whose log holds it. */
struct hlx_case_src {
	const char *org;          /* organisation name */
	const char *root;         /* first root fingerprint text (ties) */
	const struct hlx_case_line *line;
};

struct hlx_case_owner {
	int exists;               /* 0: no report at or before t */
	unsigned opening;         /* index of the opening report in srcs */
	int64_t t0;
	const char *org;          /* owner (points into route or srcs) */
	int64_t since;
	int64_t until;            /* E: the lease ends (half-open) */
	int explicit_lease;       /* 1: claimed */
	enum hlx_case_state state;
	int64_t state_changed;
	int state_src;            /* index in srcs, or -1 for the baseline */
};

/* What the replay did, for `case show` (optional). */
enum hlx_case_ev_kind {
	HLX_CASE_EV_LAPSE = 1,    /* org -> to at time (count lapses) */
	HLX_CASE_EV_WITHDRAW,
	HLX_CASE_EV_RELEASE,
	HLX_CASE_EV_HANDOFF,
	HLX_CASE_EV_CLAIM,
};
struct hlx_case_ev {
	enum hlx_case_ev_kind kind;
	int64_t time;
	const char *org;          /* who acted (lapse: the old owner) */
	const char *to;           /* new owner, or NULL when nothing changed */
	int counted;              /* 0: ignored (not the owner, invalid) */
	uint64_t count;           /* lapses jumped over (lapse only) */
};
typedef void (*hlx_case_ev_fn)(void *ctx, const struct hlx_case_ev *ev);

/* The opening report among srcs: HLX_ENOENT when none has a report. */
int hlx_case_opening(const struct hlx_case_src *srcs, unsigned n,
		     unsigned *idx);

/*
 * owner(C, t) of section 5.2 and the state of section 6.2, from the lines
 * held (all of one case) and the route of the opening report.  cb, if not
 * NULL, sees every event of the replay up to t.  out->exists == 0 when no
 * report is dated at or before t.  HLX_EINVAL for a malformed route.
 */
int hlx_case_owner(const struct hlx_case_route *r,
		   const struct hlx_case_src *srcs, unsigned n, int64_t t,
		   struct hlx_case_owner *out, hlx_case_ev_fn cb, void *ctx);

/*
 * Who may act now (sections 6.2 and 9), given the owner at now:
 * set state `to` (the owner holding an explicit lease, or le_by for
 * le-hold and le-cleared), and claim (the owner, from T0 + S on).
 * HLX_ESTATE with a detail naming the owner or the time.
 */
int hlx_case_may_set(const struct hlx_case_owner *o, const char *org,
		     const char *le_by, enum hlx_case_state to);
int hlx_case_may_claim(const struct hlx_case_owner *o, const char *org,
		       const struct hlx_case_route *r, int64_t now);

/* ---- receiving (section 7.2) ---- */

/*
 * The growth of a peer's cases log from old to new (each the whole log:
 * canonical lines sorted by case id, one per case): every line decodes,
 * is in order, none is removed, a reported line keeps its report, own
 * only grows (the last claim may be renewed), changed and notices do not
 * go back, and every new time is at most committed and at most now + 300.
 */
int hlx_case_log_check(const char *old, size_t oldn, const char *new_,
		       size_t newn, int64_t committed, int64_t now);

#endif
