/* SPDX-License-Identifier: MIT */
/*
 * Cases (spec/cases.md): the case line and its refusals, the transition
 * table, the writers, the owner function with the worked examples of
 * section 11, and the growth check of a received cases log.
 *
 *   test-case              the TAP tests
 *   test-case owner FILE   the owner timeline of a record set, for
 *                          tests/t0910 (format in tests/tools/case_owner.py)
 */
#include "tests/unit/tap.h"
#include "protocol/buf.h"
#include "protocol/case.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/rtime.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CID "url-sha256:5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c"
#define CID2 "url-sha256:6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d"
#define ITEM "md5:9e1a9e1a9e1a9e1a9e1a9e1a9e1a9e1a"

static int64_t T(const char *s)
{
	int64_t t = -1;

	if (hlx_time_parse(s, strlen(s), &t))
		abort();
	return t;
}

static const char *TS(int64_t t)
{
	static char buf[4][HLX_TIME_TEXT];
	static int k;

	k = (k + 1) % 4;
	hlx_time_format(t, buf[k]);
	return buf[k];
}

/* "f1|f2|..." with '|' for TAB, after the case id CID, and a newline. */
static char *text(const char *id, const char *fields)
{
	size_t n = strlen(id) + strlen(fields) + 3;
	char *s = malloc(n), *p;

	if (!s)
		abort();
	snprintf(s, n, "%s\t%s\n", id, fields);
	for (p = s; *p; p++)
		if (*p == '|')
			*p = '\t';
	return s;
}

static int dec(const char *id, const char *fields, struct hlx_case_line *l)
{
	char *s = text(id, fields);
	int rc = hlx_case_decode(s, strlen(s), l);

	free(s);
	return rc;
}

static struct hlx_case_line *L(const char *fields)
{
	struct hlx_case_line *l = malloc(sizeof(*l));

	if (!l)
		abort();
	if (dec(CID, fields, l)) {
		printf("# bad line %s: %s\n", fields, hlx_err_detail());
		abort();
	}
	return l;
}

/* ---- lines ---- */

static void round_trip(const char *fields, const char *desc)
{
	char *s = text(CID, fields);
	struct hlx_case_line l;
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = hlx_case_decode(s, strlen(s), &l);

	is_rc(rc, HLX_OK, "decode %s", desc);
	if (!rc) {
		rc = hlx_case_encode(&l, &b);
		ok(!rc && b.len == strlen(s) && !memcmp(b.data, s, b.len),
		   "encode gives back the same bytes: %s", desc);
	}
	hlx_buf_free(&b);
	free(s);
}

static void refuse(const char *id, const char *fields, int want,
		   const char *field, const char *desc)
{
	struct hlx_case_line l;
	int rc = dec(id, fields, &l);

	is_rc(rc, want, "refused: %s", desc);
	ok(strstr(hlx_err_detail(), field) != NULL,
	   "  the error names '%s': %s", field, hlx_err_detail());
}

#define R0 "2026-12-02T10:00:00Z"
#define R1 "2026-12-02T11:00:00Z"

static void test_lines(void)
{
	struct hlx_case_line l;
	struct hlx_buf b = HLX_BUF_INIT;
	char big[8192], *s;
	int i;

	round_trip(ITEM "|DE|-|a1|" R0 "|-|reported|" R0 "|0",
		   "hl-fr's report (3.4)");
	round_trip("-|-|-|-|-|claim/2026-12-02T10:10:00Z/2026-12-03T08:00:00Z|notice-sent|2026-12-02T11:00:00Z|1",
		   "hl-de's line as owner (3.4)");
	round_trip("-|-|-|-|" R0 "|-|reported|" R0 "|0",
		   "a report without item, country or category");
	round_trip("-|-|host-a.example|-|" R0 "|-|reported|" R0 "|0",
		   "a report with a plan host");
	round_trip("-|-|-|-|-|claim/" R0 "/" R0 ",release/" R0
		   ",claim/" R0 "/" R1 ",handoff/" R1 "/hl-fr|-|-|0",
		   "actions at equal times, no state");
	round_trip("-|-|-|-|-|-|le-hold|" R1 "|0", "a state only (le_by)");
	round_trip("-|-|-|-|-|-|withdrawn|" R1 "|9999", "notices 9999");
	round_trip(ITEM "|XK|-|b2|" R0 "|claim/" R0 "/" R1
		   "|re-notified|" R1 "|3", "reporter that owns");

	/* the line format */
	refuse(CID, "-|-|-|-|-|-|-|-|0", HLX_EINVAL, "says nothing",
	       "a line that says nothing");
	refuse(CID, "-|-|-|-|" R0 "|-|reported|" R0, HLX_EINVAL,
	       "9 tab-separated", "nine fields");
	refuse(CID, "-|-|-|-|" R0 "|-|reported|" R0 "|0|x", HLX_EINVAL,
	       "more than 10", "eleven fields");
	s = text(CID, "-|-|-|-|" R0 "|-|reported|" R0 "|0");
	s[strlen(s) - 1] = '\0';
	is_rc(hlx_case_decode(s, strlen(s), &l), HLX_EINVAL,
	      "refused: no final newline");
	s[strlen(s)] = '\n';
	s[strlen(s) - 2] = '\r';
	is_rc(hlx_case_decode(s, strlen(s), &l), HLX_EINVAL,
	      "refused: a CR");
	free(s);
	is_rc(hlx_case_decode("", 0, &l), HLX_EINVAL, "refused: empty");
	refuse("md5:9e1a9e1a9e1a9e1a9e1a9e1a9e1a9e1a",
	       "-|-|-|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL, "case",
	       "a case id that is not url-sha256");
	refuse("url-sha256:5D0C5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c",
	       "-|-|-|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL, "case",
	       "uppercase hex in the case id");
	refuse(CID, "MD5:9e1a9e1a9e1a9e1a9e1a9e1a9e1a9e1a|-|-|-|" R0
	       "|-|reported|" R0 "|0", HLX_EINVAL, "item", "item not canonical");
	refuse(CID, "-|de|-|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL,
	       "country", "lowercase country");
	refuse(CID, "-|UK|-|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL,
	       "country", "unassigned country UK");
	refuse(CID, "-|-|Host-a.example|-|" R0 "|-|reported|" R0 "|0",
	       HLX_EINVAL, "host", "uppercase host");
	refuse(CID, "-|-|10.0.0.1|-|" R0 "|-|reported|" R0 "|0",
	       HLX_EINVAL, "host", "an IP address as host");
	refuse(CID, "-|-|a..b|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL,
	       "host", "empty label");
	refuse(CID, "-|-|a.b.|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL,
	       "host", "trailing dot");
	refuse(CID, "-|-|-|A1|" R0 "|-|reported|" R0 "|0", HLX_EINVAL,
	       "category", "category not a token");
	refuse(CID, "-|-|-|-|2026-12-02T10:00:00+00:00|-|reported|" R0 "|0",
	       HLX_EINVAL, "reported", "time not RFC 3339 Z");
	refuse(CID, ITEM "|-|-|-|-|-|assessed|" R0 "|0", HLX_EINVAL,
	       "reported", "report fields without a report");
	refuse(CID, "-|DE|-|-|-|-|assessed|" R0 "|0", HLX_EINVAL,
	       "reported", "a country without a report");
	refuse(CID, "-|-|-|-|" R0 "|-|-|-|0", HLX_EINVAL, "state",
	       "a report without a state");
	refuse(CID, "-|-|-|-|-|-|assessed|-|0", HLX_EINVAL, "changed",
	       "a state without changed");
	refuse(CID, "-|-|-|-|-|claim/" R0 "/" R0 "|-|" R0 "|0", HLX_EINVAL,
	       "changed", "changed without a state");
	refuse(CID, "-|-|-|-|" R0 "|-|reported|" R1 "|0", HLX_EINVAL,
	       "state", "reported with changed != reported");
	refuse(CID, "-|-|-|-|-|-|reported|" R0 "|0", HLX_EINVAL, "state",
	       "state reported without a report");
	refuse(CID, "-|-|-|-|" R1 "|-|assessed|" R0 "|0", HLX_EINVAL,
	       "changed", "changed before reported");
	refuse(CID, "-|-|-|-|-|-|claimed|" R0 "|0", HLX_EINVAL, "state",
	       "claimed is not a state");
	refuse(CID, "-|-|-|-|-|-|notice-sent|" R0 "|01", HLX_EINVAL,
	       "notices", "notices with a leading zero");
	refuse(CID, "-|-|-|-|-|-|notice-sent|" R0 "|10000", HLX_EINVAL,
	       "notices", "notices 10000");
	refuse(CID, "-|-|-|-|-|-|notice-sent|" R0 "|0", HLX_EINVAL,
	       "notices", "notice-sent with notices 0");
	refuse(CID, "-|-|-|-|" R0 "|-|reported|" R0 "|1", HLX_EINVAL,
	       "notices", "reported with notices 1");
	refuse(CID, "-|-|-|-|-|claim/" R0 "/" R0 "|-|-|2", HLX_EINVAL,
	       "notices", "no state with notices 2");
	refuse(CID, "-|-|-|-|-|claim/" R1 "/" R0 "|-|-|0", HLX_EINVAL,
	       "own", "a claim period that ends before it starts");
	refuse(CID, "-|-|-|-|-|release/" R1 ",release/" R0 "|-|-|0",
	       HLX_EINVAL, "own", "actions going back in time");
	refuse(CID, "-|-|-|-|-|claim/" R0 "/" R1 ",release/" R0 "|-|-|0",
	       HLX_EINVAL, "own", "a release before the end of the claim");
	refuse(CID, "-|-|-|-|-|handoff/" R0 "/HL-FR|-|-|0", HLX_EINVAL,
	       "own", "handoff to a malformed organisation");
	refuse(CID, "-|-|-|-|-|handoff/" R0 "|-|-|0", HLX_EINVAL, "own",
	       "handoff without an organisation");
	refuse(CID, "-|-|-|-|-|claim/" R0 "|-|-|0", HLX_EINVAL, "own",
	       "claim with one time");
	refuse(CID, "-|-|-|-|-|renew/" R0 "|-|-|0", HLX_EINVAL, "own",
	       "unknown action");
	refuse(CID, "-|-|-|-|-|release/" R0 ",|-|-|0", HLX_EINVAL, "own",
	       "a trailing comma");
	refuse(CID, "-| -|-|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL,
	       "country", "a space");
	/* 32 actions, and a 33rd */
	strcpy(big, "-|-|-|-|-|");
	for (i = 0; i < 33; i++)
		strcat(big, i ? ",release/" R0 : "release/" R0);
	strcat(big, "|-|-|0");
	refuse(CID, big, HLX_EINVAL, "own", "33 ownership actions");
	big[strlen(big) - strlen(",release/" R0 "|-|-|0")] = '\0';
	strcat(big, "|-|-|0");
	is_rc(dec(CID, big, &l), HLX_OK, "32 ownership actions decode");
	/* a line of more than 4096 bytes: a tmk item, 32 long hand-offs */
	strcpy(big, "tmk:");
	for (i = 0; i < 2048; i++)
		strcat(big, "a");
	strcat(big, "|-|-|-|" R0 "|");
	for (i = 0; i < 32; i++) {
		strcat(big, i ? "," : "");
		strcat(big, "handoff/" R0 "/");
		strcat(big, "o123456789o123456789o123456789o123456789o123456789o123456789");
	}
	strcat(big, "|reported|" R0 "|0");
	s = text(CID, big);
	is_rc(hlx_case_decode(s, strlen(s), &l), HLX_ETOOBIG,
	      "refused: a line over 4096 bytes");
	free(s);

	/* JSON form */
	if (!dec(CID, ITEM "|DE|-|a1|" R0 "|claim/" R0 "/" R1 "|assessed|" R1
		 "|0", &l)) {
		hlx_case_to_json(&l, &b);
		is_str((char *)b.data,
		       "{\"case\":\"" CID "\",\"category\":\"a1\",\"changed\":\"" R1
		       "\",\"country\":\"DE\",\"item\":\"" ITEM
		       "\",\"notices\":0,\"own\":[\"claim/" R0 "/" R1
		       "\"],\"reported\":\"" R0 "\",\"state\":\"assessed\"}",
		       "the JSON form (3.3)");
	}
	hlx_buf_free(&b);
}

static void test_ids(void)
{
	struct hlx_hash a, b;
	char t[HLX_HASH_TEXT_MAX];

	is_rc(hlx_case_id_from_url("https://Example.com:443/x", 25, &a),
	      HLX_OK, "a case id from a URL");
	is_rc(hlx_case_id_from_url("https://example.com/x", 21, &b), HLX_OK,
	      "the same URL spelled otherwise");
	ok(hlx_hash_cmp(&a, &b) == 0, "two spellings of one URL: one case");
	hlx_hash_format(&a, t, sizeof(t));
	is_rc(hlx_case_id_parse(t, strlen(t), &b), HLX_OK,
	      "a case id given as url-sha256");
	ok(hlx_hash_cmp(&a, &b) == 0, "the same id");
	is_rc(hlx_case_id_parse(ITEM, strlen(ITEM), &b), HLX_EINVAL,
	      "refused: a case id of another hash type");
}

/* ---- transitions (6.1), from the spec's table, written out again ---- */

static const char *const table[][2] = {
	{ "reported", "assessed removed withdrawn" },
	{ "assessed", "le-hold notice-sent removed withdrawn" },
	{ "le-hold", "le-cleared removed withdrawn" },
	{ "le-cleared", "notice-sent removed withdrawn" },
	{ "notice-sent", "re-notified escalated refused-by-host removed withdrawn" },
	{ "re-notified", "re-notified escalated refused-by-host removed withdrawn" },
	{ "escalated", "re-notified refused-by-host removed withdrawn" },
	{ "refused-by-host", "re-notified escalated removed withdrawn" },
	{ "removed", "reappeared" },
	{ "reappeared", "le-hold notice-sent removed withdrawn" },
	{ "withdrawn", "assessed" },
};

static int allowed(const char *from, const char *to)
{
	unsigned i;
	char list[128], *w, *save = NULL;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i][0], from))
			continue;
		snprintf(list, sizeof(list), "%s", table[i][1]);
		for (w = strtok_r(list, " ", &save); w;
		     w = strtok_r(NULL, " ", &save))
			if (!strcmp(w, to))
				return 1;
	}
	return 0;
}

static void test_transitions(void)
{
	unsigned i, j, nallowed = 0, bad = 0, forbidden = 0;
	enum hlx_case_state a, b;
	char want[128];

	for (i = 0; i < 11; i++) {
		for (j = 0; j < 11; j++) {
			const char *f = table[i][0], *t = table[j][0];
			int rc;

			hlx_case_state_parse(f, strlen(f), &a);
			hlx_case_state_parse(t, strlen(t), &b);
			rc = hlx_case_transition_check(a, b);
			if (allowed(f, t)) {
				nallowed++;
				ok(rc == HLX_OK, "allowed: %s -> %s", f, t);
				continue;
			}
			forbidden++;
			snprintf(want, sizeof(want),
				 "cannot go from '%s' to '%s'", f, t);
			if (rc != HLX_ESTATE ||
			    strcmp(hlx_err_detail(), want))
				bad++;
		}
	}
	ok(nallowed == 37, "the table allows 37 transitions (%u)", nallowed);
	ok(bad == 0 && forbidden == 121 - 37,
	   "all %u other transitions are refused naming both states",
	   forbidden);
	is_rc(hlx_case_transition_check(HLX_CASE_REPORTED,
					HLX_CASE_NOTICE_SENT),
	      HLX_ESTATE, "reported -> notice-sent refused (11.9)");
	is_str(hlx_err_detail(), "cannot go from 'reported' to 'notice-sent'",
	       "  naming both states");
	is_rc(hlx_case_transition_check(HLX_CASE_ASSESSED, HLX_CASE_ASSESSED),
	      HLX_ESTATE, "setting the same state again is refused");
	is_rc(hlx_case_transition_check(HLX_CASE_REMOVED, HLX_CASE_WITHDRAWN),
	      HLX_ESTATE, "removed is final: -> withdrawn refused");
	is_rc(hlx_case_transition_check(HLX_CASE_NONE, HLX_CASE_ASSESSED),
	      HLX_EINVAL, "no state is not a state");
	ok(hlx_case_state_final(HLX_CASE_REMOVED) &&
	   hlx_case_state_final(HLX_CASE_WITHDRAWN) &&
	   !hlx_case_state_final(HLX_CASE_REAPPEARED), "final states");
}

/* ---- writers ---- */

static void test_writers(void)
{
	struct hlx_case_line *l = L("-|-|-|-|" R0 "|-|reported|" R0 "|0");
	struct hlx_buf b = HLX_BUF_INIT;
	int64_t t = T(R0), L1 = 86400;
	int renewed = -1, i, rc;

	is_rc(hlx_case_claim(l, t + 600, L1, &renewed), HLX_OK, "claim");
	ok(renewed == 0 && l->nacts == 1 && l->acts[0].a == t + 600,
	   "  a new claim period");
	is_rc(hlx_case_claim(l, t + 3600, L1, &renewed), HLX_OK, "renew");
	ok(renewed == 1 && l->nacts == 1 && l->acts[0].b == t + 3600,
	   "  the period's B moved");
	is_rc(hlx_case_claim(l, t + 3600 + L1, L1, &renewed), HLX_OK,
	      "claim after the lease lapsed");
	ok(renewed == 0 && l->nacts == 2, "  a new period, not a renewal");
	is_rc(hlx_case_claim(l, t, L1, &renewed), HLX_ESTATE,
	      "refused: a claim dated before the last action");
	is_rc(hlx_case_release(l, t + 3600 + L1 + 5), HLX_OK, "release");
	is_rc(hlx_case_handoff(l, t + 3600 + L1 + 6, "hl-fr"), HLX_OK,
	      "handoff");
	is_rc(hlx_case_handoff(l, t + 3600 + L1 + 7, "HL"), HLX_EINVAL,
	      "refused: handoff to a malformed name");
	is_rc(hlx_case_set_state(l, HLX_CASE_NOTICE_SENT, t + 100000),
	      HLX_OK, "set notice-sent");
	ok(l->notices == 1 && l->changed == t + 100000, "  notices 1");
	is_rc(hlx_case_set_state(l, HLX_CASE_RE_NOTIFIED, t + 100001),
	      HLX_OK, "set re-notified");
	ok(l->notices == 2, "  notices 2");
	is_rc(hlx_case_set_state(l, HLX_CASE_ASSESSED, t + 5), HLX_ESTATE,
	      "refused: a state dated before the last");
	is_rc(hlx_case_encode(l, &b), HLX_OK, "the line still encodes");
	for (i = l->nacts, rc = 0; i < HLX_CASE_ACTS_MAX && !rc; i++)
		rc = hlx_case_release(l, t + 200000 + i);
	ok(rc == 0 && l->nacts == 32, "up to 32 actions");
	is_rc(hlx_case_release(l, t + 300000), HLX_ESTATE,
	      "refused: a 33rd action (exit 4)");
	ok(l->nacts == 32, "  the line is unchanged");
	is_rc(hlx_case_claim(l, t + 300000, L1, &renewed), HLX_ESTATE,
	      "refused: a 33rd action by claim");
	hlx_buf_free(&b);
	free(l);
}

/* ---- the owner: section 11 ---- */

static const char *const eu_de[] = { "hl-de", "hl-nl", "hl-gb", "hl-fr",
				     "host-a", "host-b", "le-nl" };
static const char *const eu_nl[] = { "hl-nl", "hl-de", "hl-gb", "hl-fr",
				     "host-a", "host-b", "le-nl" };

static struct hlx_case_route route_de(void)
{
	struct hlx_case_route r = { 1, eu_de, 7, 3, NULL, 0, 86400, 300,
				    NULL };

	return r;
}

static struct hlx_case_route route_nl(void)
{
	struct hlx_case_route r = { 1, eu_nl, 7, 3, NULL, 0, 86400, 300,
				    "le-nl" };

	return r;
}

#define MAXSRC 8
struct scen {
	struct hlx_case_src s[MAXSRC];
	struct hlx_case_line *l[MAXSRC];
	unsigned n;
};

static void add(struct scen *sc, const char *org, const char *fields)
{
	sc->l[sc->n] = L(fields);
	sc->s[sc->n].org = org;
	sc->s[sc->n].root = "SHA256:x";
	sc->s[sc->n].line = sc->l[sc->n];
	sc->n++;
}

static void scen_free(struct scen *sc)
{
	while (sc->n)
		free(sc->l[--sc->n]);
}

/* The owner line of section 9 and the lease, as one string. */
static const char *owner_at(const struct hlx_case_route *r, struct scen *sc,
			    const char *at)
{
	static char out[256];
	struct hlx_case_owner o;
	int rc = hlx_case_owner(r, sc->s, sc->n, T(at), &o, NULL, NULL);

	if (rc)
		snprintf(out, sizeof(out), "error %d", rc);
	else if (!o.exists)
		snprintf(out, sizeof(out), "none");
	else
		snprintf(out, sizeof(out), "handled by %s since %s (%s) %s %s",
			 o.org, TS(o.since), hlx_case_state_name(o.state),
			 o.explicit_lease ? "claimed until" : "lapses at",
			 TS(o.until));
	return out;
}

static struct hlx_case_owner own(const struct hlx_case_route *r,
				 struct scen *sc, const char *at)
{
	struct hlx_case_owner o;

	if (hlx_case_owner(r, sc->s, sc->n, T(at), &o, NULL, NULL))
		abort();
	return o;
}

#define FR_REPORT ITEM "|DE|-|a1|" R0 "|-|reported|" R0 "|0"
#define DE_WORK "-|-|-|-|-|claim/2026-12-02T10:10:00Z/2026-12-03T08:00:00Z|notice-sent|2026-12-02T11:00:00Z|1"

static void test_examples(void)
{
	struct hlx_case_route de = route_de(), nl = route_nl(),
			      none = { 0, NULL, 0, 0, NULL, 0, 0, 0, NULL };
	struct hlx_case_wd wd[3];
	struct scen sc = { .n = 0 };
	struct hlx_case_owner o;

	/* 1. Report */
	add(&sc, "hl-fr", FR_REPORT);
	is_str(owner_at(&de, &sc, R0),
	       "handled by hl-de since 2026-12-02T10:00:00Z (reported) lapses at 2026-12-03T10:05:00Z",
	       "11.1 report: hl-de owns, unclaimed, lapses at T0 + S + L");
	is_str(owner_at(&de, &sc, "2026-12-02T09:59:59Z"), "none",
	       "before T0 the case does not exist");
	/* 2. Too early */
	o = own(&de, &sc, "2026-12-02T10:02:00Z");
	is_rc(hlx_case_may_claim(&o, "hl-de", &de, T("2026-12-02T10:02:00Z")),
	      HLX_ESTATE, "11.2 a claim at 10:02 is refused");
	is_str(hlx_err_detail(),
	       "before 2026-12-02T10:05:00Z: reports may still arrive",
	       "  naming T0 + S");
	is_rc(hlx_case_may_claim(&o, "hl-de", &de, T("2026-12-02T10:05:00Z")),
	      HLX_OK, "  and allowed from T0 + S");
	add(&sc, "hl-de", "-|-|-|-|-|claim/2026-12-02T10:02:00Z/2026-12-02T10:02:00Z|-|-|0");
	is_str(owner_at(&de, &sc, "2026-12-02T10:06:00Z"),
	       "handled by hl-de since 2026-12-02T10:00:00Z (reported) lapses at 2026-12-03T10:05:00Z",
	       "11.2 a claim period before T0 + S is ignored");
	/* 3. Claim and work */
	free(sc.l[1]);
	sc.l[1] = L(DE_WORK);
	sc.s[1].line = sc.l[1];
	is_str(owner_at(&de, &sc, "2026-12-03T12:00:00Z"),
	       "handled by hl-de since 2026-12-02T10:00:00Z (notice-sent) claimed until 2026-12-04T08:00:00Z",
	       "11.3 claim and work");
	o = own(&de, &sc, "2026-12-03T12:00:00Z");
	is_rc(hlx_case_may_set(&o, "hl-de", NULL, HLX_CASE_RE_NOTIFIED),
	      HLX_OK, "  the owner with a claim may set a state");
	is_rc(hlx_case_may_set(&o, "hl-gb", NULL, HLX_CASE_REMOVED),
	      HLX_ESTATE, "11.9 hl-gb, not the owner, cannot set a state");
	is_str(hlx_err_detail(),
	       "handled by hl-de since 2026-12-02T10:00:00Z (notice-sent)",
	       "  naming the owner");
	/* 4. Owner silence */
	is_str(owner_at(&de, &sc, "2026-12-04T07:59:59Z"),
	       "handled by hl-de since 2026-12-02T10:00:00Z (notice-sent) claimed until 2026-12-04T08:00:00Z",
	       "11.4 hl-de holds until its lease ends");
	is_str(owner_at(&de, &sc, "2026-12-04T08:00:00Z"),
	       "handled by hl-nl since 2026-12-04T08:00:00Z (notice-sent) lapses at 2026-12-05T08:00:00Z",
	       "11.4 at E the lease lapsed to hl-nl");
	is_str(owner_at(&de, &sc, "2026-12-05T08:00:00Z"),
	       "handled by hl-gb since 2026-12-05T08:00:00Z (notice-sent) lapses at 2026-12-06T08:00:00Z",
	       "11.4 unclaimed: to hl-gb a day later");
	is_str(owner_at(&de, &sc, "2026-12-06T08:00:00Z"),
	       "handled by hl-de since 2026-12-06T08:00:00Z (notice-sent) lapses at 2026-12-07T08:00:00Z",
	       "11.4 and back to hl-de");
	is_str(owner_at(&de, &sc, "2027-12-06T08:00:00Z"),
	       "handled by hl-gb since 2027-12-06T08:00:00Z (notice-sent) lapses at 2027-12-07T08:00:00Z",
	       "367 days of lapses later (jumped): a lapse at t counts");
	is_str(owner_at(&de, &sc, "2027-12-06T07:59:59Z"),
	       "handled by hl-nl since 2027-12-05T08:00:00Z (notice-sent) lapses at 2027-12-06T08:00:00Z",
	       "  a second before it");
	add(&sc, "hl-nl", "-|-|-|-|-|claim/2026-12-04T08:01:00Z/2026-12-04T08:01:00Z|-|-|0");
	free(sc.l[1]);
	sc.l[1] = L("-|-|-|-|-|claim/2026-12-02T10:10:00Z/2026-12-03T08:00:00Z,claim/2026-12-04T12:00:00Z/2026-12-04T12:00:00Z|notice-sent|2026-12-02T11:00:00Z|1");
	sc.s[1].line = sc.l[1];
	is_str(owner_at(&de, &sc, "2026-12-04T12:30:00Z"),
	       "handled by hl-nl since 2026-12-04T08:00:00Z (notice-sent) claimed until 2026-12-05T08:01:00Z",
	       "11.4 hl-nl claimed; hl-de's claim on return is ignored");
	o = own(&de, &sc, "2026-12-04T12:00:00Z");
	is_rc(hlx_case_may_claim(&o, "hl-de", &de, T("2026-12-04T12:00:00Z")),
	      HLX_ESTATE, "11.4 hl-de's case claim is refused");
	is_str(hlx_err_detail(),
	       "handled by hl-nl since 2026-12-04T08:00:00Z (notice-sent)",
	       "  naming hl-nl");
	/* 5. Hand-off */
	free(sc.l[2]);
	sc.l[2] = L("-|-|-|-|-|claim/2026-12-04T08:01:00Z/2026-12-04T08:01:00Z,handoff/2026-12-04T09:00:00Z/hl-fr|-|-|0");
	sc.s[2].line = sc.l[2];
	is_str(owner_at(&de, &sc, "2026-12-04T09:00:00Z"),
	       "handled by hl-fr since 2026-12-04T09:00:00Z (notice-sent) lapses at 2026-12-05T09:00:00Z",
	       "11.5 hand-off to hl-fr");
	is_str(owner_at(&de, &sc, "2026-12-05T09:00:00Z"),
	       "handled by hl-de since 2026-12-05T09:00:00Z (notice-sent) lapses at 2026-12-06T09:00:00Z",
	       "11.5 hl-fr's successor is hl-de");
	scen_free(&sc);

	/* 6. Withdrawal */
	add(&sc, "hl-fr", FR_REPORT);
	add(&sc, "hl-de", DE_WORK);
	wd[0].org = "hl-de";
	wd[0].at = T("2026-12-03T09:00:00Z");
	de.wd = wd;
	de.nwd = 1;
	is_str(owner_at(&de, &sc, "2026-12-03T08:59:59Z"),
	       "handled by hl-de since 2026-12-02T10:00:00Z (notice-sent) claimed until 2026-12-04T08:00:00Z",
	       "11.6 before the withdrawal: hl-de");
	is_str(owner_at(&de, &sc, "2026-12-03T09:00:00Z"),
	       "handled by hl-nl since 2026-12-03T09:00:00Z (notice-sent) lapses at 2026-12-04T09:00:00Z",
	       "11.6 from that second hl-nl, state still notice-sent");
	wd[1].org = "hl-nl";
	wd[1].at = T("2026-12-03T10:00:00Z");
	wd[2].org = "hl-gb";
	wd[2].at = T("2026-12-03T10:00:00Z");
	de.nwd = 3;
	is_str(owner_at(&de, &sc, "2026-12-03T10:00:00Z"),
	       "handled by hl-fr since 2026-12-03T10:00:00Z (notice-sent) lapses at 2026-12-04T10:00:00Z",
	       "the whole chain withdrew: the other signatories in name order");
	de.nwd = 0;
	scen_free(&sc);

	/* 7. Concurrent reports */
	add(&sc, "hl-fr", FR_REPORT);
	add(&sc, "hl-gb", ITEM "|NL|-|a1|2026-12-02T09:59:50Z|-|reported|2026-12-02T09:59:50Z|0");
	ok(!hlx_case_opening(sc.s, sc.n, &(unsigned){ 0 }) &&
	   own(&nl, &sc, R0).opening == 1, "11.7 hl-gb's report opens");
	is_str(owner_at(&nl, &sc, R0),
	       "handled by hl-nl since 2026-12-02T09:59:50Z (reported) lapses at 2026-12-03T10:04:50Z",
	       "11.7 route NL/*: hl-nl since 09:59:50");
	o = own(&nl, &sc, R0);
	is_rc(hlx_case_may_claim(&o, "hl-nl", &nl, T("2026-12-02T10:04:49Z")),
	      HLX_ESTATE, "11.7 claims count only from 10:04:50");
	scen_free(&sc);
	add(&sc, "hl-gb", ITEM "|NL|-|a1|" R0 "|-|reported|" R0 "|0");
	add(&sc, "hl-fr", FR_REPORT);
	ok(own(&de, &sc, R0).opening == 1,
	   "11.7 both at 10:00:00: hl-fr's opens (hl-fr < hl-gb)");
	sc.s[1].org = "hl-gb";
	sc.s[1].root = "SHA256:a";
	sc.s[0].root = "SHA256:b";
	ok(own(&de, &sc, R0).opening == 1,
	   "same name and time: the smaller fingerprint opens");
	scen_free(&sc);

	/* 8. No plan */
	add(&sc, "hl-fr", FR_REPORT);
	is_str(owner_at(&none, &sc, "2027-06-01T00:00:00Z"),
	       "handled by hl-fr since 2026-12-02T10:00:00Z (reported) lapses at 2027-06-01T10:00:00Z",
	       "11.8 no plan: the reporter, for good");

	/* 9. who counts */
	add(&sc, "hl-gb", "-|-|-|-|-|-|removed|2026-12-02T12:00:00Z|0");
	add(&sc, "hl-de", DE_WORK);
	is_str(owner_at(&de, &sc, "2026-12-02T13:00:00Z"),
	       "handled by hl-de since 2026-12-02T10:00:00Z (notice-sent) claimed until 2026-12-03T13:00:00Z",
	       "11.9 hl-gb's removed does not count (claim renewed up to t)");
	add(&sc, "le-nl", "-|-|-|-|-|-|le-hold|2026-12-02T12:30:00Z|0");
	ok(own(&de, &sc, "2026-12-02T13:00:00Z").state == HLX_CASE_NOTICE_SENT,
	   "11.9 le-nl's le-hold does not count on C (no le_by)");
	ok(own(&nl, &sc, "2026-12-02T13:00:00Z").state == HLX_CASE_LE_HOLD,
	   "11.9 but does on a case routed by NL/* (le_by le-nl)");
	o = own(&nl, &sc, "2026-12-02T13:00:00Z");
	is_rc(hlx_case_may_set(&o, "le-nl", "le-nl", HLX_CASE_LE_CLEARED),
	      HLX_OK, "le_by may set le-cleared");
	is_rc(hlx_case_may_set(&o, "le-nl", "le-nl", HLX_CASE_REMOVED),
	      HLX_ESTATE, "le_by may not set removed");
	o = own(&de, &sc, "2026-12-02T10:01:00Z");
	is_rc(hlx_case_may_set(&o, "hl-de", NULL, HLX_CASE_ASSESSED),
	      HLX_ESTATE, "an owner that has not claimed may not set a state");
	scen_free(&sc);
}

/* Events at one second: rank order and the half-open lease. */
static void test_ties(void)
{
	struct hlx_case_route de = route_de();
	struct scen sc = { .n = 0 };

	de.settle = 0;
	add(&sc, "hl-fr", FR_REPORT);
	/* hl-de releases at R1 and hl-nl claims at the same second */
	add(&sc, "hl-de", "-|-|-|-|-|claim/" R0 "/" R0 ",release/" R1 "|-|-|0");
	add(&sc, "hl-nl", "-|-|-|-|-|claim/" R1 "/" R1 "|-|-|0");
	is_str(owner_at(&de, &sc, R1),
	       "handled by hl-nl since 2026-12-02T11:00:00Z (reported) claimed until 2026-12-03T11:00:00Z",
	       "release and a claim at the same second: the claim counts");
	scen_free(&sc);
	/* a claim of the old owner starting at E does not count */
	add(&sc, "hl-fr", FR_REPORT);
	add(&sc, "hl-de", "-|-|-|-|-|claim/2026-12-03T10:00:00Z/2026-12-03T10:00:00Z|-|-|0");
	is_str(owner_at(&de, &sc, "2026-12-03T10:00:00Z"),
	       "handled by hl-nl since 2026-12-03T10:00:00Z (reported) lapses at 2026-12-04T10:00:00Z",
	       "at E the lapse comes first");
	/* a running claim period of the successor covers the transfer */
	add(&sc, "hl-nl", "-|-|-|-|-|claim/2026-12-03T09:00:00Z/2026-12-03T11:00:00Z|-|-|0");
	is_str(owner_at(&de, &sc, "2026-12-03T12:00:00Z"),
	       "handled by hl-nl since 2026-12-03T10:00:00Z (reported) claimed until 2026-12-04T11:00:00Z",
	       "the successor's running claim period covers the transfer");
	scen_free(&sc);
	/* hand-offs that are not valid */
	add(&sc, "hl-fr", FR_REPORT);
	add(&sc, "hl-de", "-|-|-|-|-|handoff/" R1 "/nobody|-|-|0");
	is_str(owner_at(&de, &sc, R1),
	       "handled by hl-de since 2026-12-02T10:00:00Z (reported) lapses at 2026-12-03T10:00:00Z",
	       "a hand-off to a non-signatory is ignored");
	free(sc.l[1]);
	sc.l[1] = L("-|-|-|-|-|handoff/" R1 "/hl-de|-|-|0");
	sc.s[1].line = sc.l[1];
	is_str(owner_at(&de, &sc, R1),
	       "handled by hl-de since 2026-12-02T10:00:00Z (reported) lapses at 2026-12-03T10:00:00Z",
	       "a hand-off to oneself is ignored");
	free(sc.l[1]);
	sc.l[1] = L("-|-|-|-|-|handoff/" R1 "/hl-gb|-|-|0");
	sc.s[1].line = sc.l[1];
	sc.s[1].org = "hl-nl";
	is_str(owner_at(&de, &sc, R1),
	       "handled by hl-de since 2026-12-02T10:00:00Z (reported) lapses at 2026-12-03T10:00:00Z",
	       "a hand-off by a non-owner is ignored");
	scen_free(&sc);
	{
		struct hlx_case_route bad = route_de();

		bad.nchain = 8;
		add(&sc, "hl-fr", FR_REPORT);
		is_rc(hlx_case_owner(&bad, sc.s, sc.n, T(R1),
				     &(struct hlx_case_owner){ 0 }, NULL,
				     NULL),
		      HLX_EINVAL, "refused: a malformed route");
		scen_free(&sc);
	}
}

/* ---- the growth check (7.2) ---- */

static void test_log(void)
{
	char *a = text(CID, "-|-|-|-|" R0 "|claim/" R0 "/" R0
		       "|reported|" R0 "|0");
	char *b = text(CID2, "-|-|-|-|" R0 "|-|reported|" R0 "|0");
	char old[16384], nw[16384];
	int64_t now = T("2026-12-03T00:00:00Z");
	int64_t com = now;
	char *x;

#define CHECK(o, n) hlx_case_log_check(o, strlen(o), n, strlen(n), com, now)
	snprintf(old, sizeof(old), "%s%s", a, b);
	is_rc(CHECK("", ""), HLX_OK, "empty to empty");
	is_rc(CHECK("", old), HLX_OK, "two lines added");
	is_rc(CHECK(old, old), HLX_OK, "unchanged");
	snprintf(nw, sizeof(nw), "%s%s", b, a);
	is_rc(CHECK("", nw), HLX_EINVAL, "refused: lines out of order");
	snprintf(nw, sizeof(nw), "%s%s", a, a);
	is_rc(CHECK("", nw), HLX_EINVAL, "refused: a case twice");
	is_rc(CHECK(old, b), HLX_EINVAL, "refused: a line removed");
	ok(strstr(hlx_err_detail(), "removed") != NULL, "  %s",
	   hlx_err_detail());
	is_rc(CHECK(old, a), HLX_EINVAL, "refused: the last line removed");
	snprintf(nw, sizeof(nw), "%s%.*s", a, (int)strlen(b) - 1, b);
	is_rc(CHECK("", nw), HLX_EINVAL, "refused: a truncated last line");
	snprintf(nw, sizeof(nw), "%sgarbage\n", a);
	is_rc(CHECK("", nw), HLX_EINVAL, "refused: a line that does not decode");

#define GROW(fields, want, desc)                                            \
	do {                                                                \
		x = text(CID, fields);                                      \
		snprintf(nw, sizeof(nw), "%s%s", x, b);                     \
		is_rc(CHECK(old, nw), want, desc);                          \
		free(x);                                                    \
	} while (0)
	GROW("-|-|-|-|" R0 "|claim/" R0 "/" R1 "|reported|" R0 "|0", HLX_OK,
	     "a renewed claim");
	GROW("-|-|-|-|" R0 "|claim/" R0 "/" R1 ",release/" R1
	     "|assessed|" R1 "|0", HLX_OK, "a renewal, a release and a state");
	GROW(ITEM "|-|-|-|" R0 "|claim/" R0 "/" R0 "|reported|" R0 "|0",
	     HLX_EINVAL, "refused: an item added to a report");
	GROW("-|DE|-|-|" R0 "|claim/" R0 "/" R0 "|reported|" R0 "|0",
	     HLX_EINVAL, "refused: a country changed");
	GROW("-|-|-|-|" R1 "|claim/" R0 "/" R0 "|reported|" R1 "|0",
	     HLX_EINVAL, "refused: reported changed");
	GROW("-|-|-|-|" R0 "|-|reported|" R0 "|0", HLX_EINVAL,
	     "refused: an action removed");
	GROW("-|-|-|-|" R0 "|claim/2026-12-02T09:00:00Z/" R0 "|reported|" R0
	     "|0", HLX_EINVAL, "refused: a claim's A changed");
	GROW("-|-|-|-|" R0 "|release/" R0 "|reported|" R0 "|0", HLX_EINVAL,
	     "refused: an action replaced");
	GROW("-|-|-|-|" R0 "|claim/" R0 "/2026-12-03T00:05:01Z|reported|" R0
	     "|0", HLX_EINVAL, "refused: a renewal after now + 300");
	com = T("2026-12-02T12:00:00Z");
	GROW("-|-|-|-|" R0 "|claim/" R0 "/2026-12-02T12:00:01Z|reported|" R0
	     "|0", HLX_EINVAL, "refused: a renewal after the commit time");
	com = now;
	free(a);
	a = text(CID, "-|-|-|-|" R0 "|claim/" R0 "/" R1 "|notice-sent|" R1
		 "|2");
	snprintf(old, sizeof(old), "%s%s", a, b);
	GROW("-|-|-|-|" R0 "|claim/" R0 "/" R1 "|re-notified|" R0 "|3",
	     HLX_EINVAL, "refused: changed went back");
	GROW("-|-|-|-|" R0 "|claim/" R0 "/" R1 "|withdrawn|" R1 "|1",
	     HLX_EINVAL, "refused: notices went down");
	GROW("-|-|-|-|" R0 "|claim/" R0 "/" R1 "|withdrawn|" R1 "|2", HLX_OK,
	     "a state changed in the same second");
	x = text(CID2, "-|-|-|-|" R0 "|-|reported|" R0 "|0");
	snprintf(nw, sizeof(nw), "%s", x);
	free(x);
	x = text("url-sha256:0000000000000000000000000000000000000000000000000000000000000000",
		 "-|-|-|-|2026-12-03T00:05:01Z|-|reported|2026-12-03T00:05:01Z|0");
	snprintf(old, sizeof(old), "%s%s", x, nw);
	is_rc(CHECK(nw, old), HLX_EINVAL,
	      "refused: a new line dated after now + 300");
	free(x);
	free(a);
	free(b);
#undef GROW
#undef CHECK
}

/* ---- the driver for t0910 ---- */

struct drv {
	struct hlx_case_route r;
	const char *base[64];
	struct hlx_case_wd wd[64];
	struct hlx_case_src s[64];
	struct hlx_case_line *l[64];
	char *words[1024];
	unsigned nw;
};

static char *keep(struct drv *d, const char *s)
{
	char *c = strdup(s);

	if (!c || d->nw == 1024)
		abort();
	d->words[d->nw++] = c;
	return c;
}

static int drive(const char *path)
{
	FILE *fp = fopen(path, "r");
	static struct drv d;
	char *line = NULL, *tok, *save;
	size_t cap = 0;
	ssize_t len;
	unsigned ns = 0, i;
	int rc = 0;

	if (!fp) {
		fprintf(stderr, "cannot open %s\n", path);
		return 2;
	}
	d.r.base = d.base;
	d.r.wd = d.wd;
	while ((len = getline(&line, &cap, fp)) > 0) {
		char *tab;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(line, "src ", 4)) {
			tab = strchr(line, '\t');
			if (!tab || ns == 64)
				return 2;
			*tab = '\0';
			d.l[ns] = malloc(sizeof(*d.l[ns]));
			if (!d.l[ns])
				return 2;
			line[len - 1] = '\n';
			if (hlx_case_decode(tab + 1, strlen(tab + 1), d.l[ns])) {
				fprintf(stderr, "bad line: %s\n",
					hlx_err_detail());
				return 2;
			}
			tok = strtok_r(line + 4, " ", &save);
			d.s[ns].org = keep(&d, tok);
			d.s[ns].root = keep(&d, strtok_r(NULL, " ", &save));
			d.s[ns].line = d.l[ns];
			ns++;
			continue;
		}
		tok = strtok_r(line, " ", &save);
		if (!strcmp(tok, "route")) {
			d.r.routed = atoi(strtok_r(NULL, " ", &save));
		} else if (!strcmp(tok, "lease")) {
			d.r.lease = atoll(strtok_r(NULL, " ", &save));
		} else if (!strcmp(tok, "settle")) {
			d.r.settle = atoll(strtok_r(NULL, " ", &save));
		} else if (!strcmp(tok, "chain")) {
			d.r.nchain = (unsigned)atoi(strtok_r(NULL, " ", &save));
		} else if (!strcmp(tok, "le_by")) {
			tok = strtok_r(NULL, " ", &save);
			d.r.le_by = strcmp(tok, "-") ? keep(&d, tok) : NULL;
		} else if (!strcmp(tok, "base")) {
			while ((tok = strtok_r(NULL, " ", &save)) &&
			       d.r.nbase < 64)
				d.base[d.r.nbase++] = keep(&d, tok);
		} else if (!strcmp(tok, "wd")) {
			d.wd[d.r.nwd].org = keep(&d, strtok_r(NULL, " ", &save));
			d.wd[d.r.nwd++].at = T(strtok_r(NULL, " ", &save));
		} else if (!strcmp(tok, "at")) {
			struct hlx_case_owner o;
			int64_t t = T(strtok_r(NULL, " ", &save));

			rc = hlx_case_owner(&d.r, d.s, ns, t, &o, NULL, NULL);
			if (rc) {
				printf("%s error %s\n", TS(t), hlx_err_detail());
			} else if (!o.exists) {
				printf("%s none\n", TS(t));
			} else {
				printf("%s %s %s %s %s %s %s\n", TS(t), o.org,
				       TS(o.since), TS(o.until),
				       o.explicit_lease ? "claimed" : "implicit",
				       hlx_case_state_name(o.state),
				       TS(o.state_changed));
			}
		}
	}
	free(line);
	fclose(fp);
	for (i = 0; i < ns; i++)
		free(d.l[i]);
	for (i = 0; i < d.nw; i++)
		free(d.words[i]);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && !strcmp(argv[1], "owner"))
		return drive(argv[2]);
	test_lines();
	test_ids();
	test_transitions();
	test_writers();
	test_examples();
	test_ties();
	test_log();
	return done_testing();
}
