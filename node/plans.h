/* SPDX-License-Identifier: MIT */
/*
 * The node's response plans (spec/plan.md sections 7.4 and 8): the store
 * of plan documents and the acts that sign them or withdraw from them,
 * kept under plans/ in the home, loaded as a book (protocol/plan.h) of
 * the documents and the acts that are valid now.
 *
 * The store: plans/NAME/HEX.json, one file a document (HEX: its hash),
 * the bundle of spec/plan.md section 7.2 (protocol/plan_feed.h) with the
 * acts held for it, mode 0644, written whole (temporary file and rename)
 * after every act in it was verified.  Acts only accumulate: a crash
 * leaves the old or the new file of a document.
 *
 * hlx_plans_load() reads the store and re-checks every act against the
 * trust chains the node holds now (its own, its peers' verified ones), so
 * an act whose key was revoked since it was stored no longer counts.  A
 * document this node is not a signatory of, or whose own sign act it does
 * not hold valid, is never in force here (hlx_plan_book_exclude): a node
 * routes only with plans it agreed to.  The book answers which plans are
 * in force at a time and routes locations; the cases engine
 * (node/cases.h) routes a case at its opening time with it.
 *
 * propose, sign and withdraw change the store: the caller holds the node
 * opened as a writer (the lock), and they read the store under it.
 */
#ifndef HLX_PLANS_H
#define HLX_PLANS_H

#include "node/node.h"
#include "protocol/head.h"
#include "protocol/plan.h"

struct hlx_plans;

/* Load the node's plans; an empty book when it holds none. */
int hlx_plans_load(struct hlx_node *n, struct hlx_plans **out);
void hlx_plans_free(struct hlx_plans *p);
/* The book: documents held with their valid acts.  Owned by p. */
const struct hlx_plan_book *hlx_plans_book(const struct hlx_plans *p);

/* The documents held, sorted by name, then version, then hash; owned by
 * the book. */
size_t hlx_plans_ndocs(const struct hlx_plans *p);
const struct hlx_plan *hlx_plans_doc(const struct hlx_plans *p, size_t i);
/* 1 if the node holds a trust chain for signatory i of doc (its own, or a
 * peer's with that organisation and root), else 0. */
int hlx_plans_chain_held(const struct hlx_plans *p, const struct hlx_plan *doc,
			 size_t i);
/* 1 if doc counts here (hlx_plan_book_exclude was not applied to it). */
int hlx_plans_counts(const struct hlx_plans *p, const struct hlx_plan *doc);
/* The version of doc's name that is pending (section 5.4): held, not
 * complete, above the highest complete version.  Highest first: the
 * index of the highest pending document of name (-1: none). */
long hlx_plans_pending(const struct hlx_plans *p, const char *name);

/* What propose, sign and withdraw did. */
struct hlx_plans_done {
	char name[HLX_TOKEN_MAX + 1];
	int64_t version;
	char hash[65];
	size_t nsigned, of;  /* signatories whose sign act counts, of all */
	int in_force;        /* in force now (after the act) */
	/* sign: signatories that are not peers of this node */
	size_t nnotpeer;
	char notpeer[HLX_PLAN_SIGNATORIES_MAX][HLX_NAME_MAX + 1];
};

/*
 * hlx plan propose: parse json (any spelling, section 3.7: HLX_EINVAL ...
 * naming the plan, rule and member), check that this node's organisation
 * and root are a signatory's, that every other signatory is a peer whose
 * verified chain has that name and root, that the version is above every
 * version of its name held and that no more than 16 would be pending
 * (HLX_ESTATE otherwise); store it and sign it at now.
 */
int hlx_plans_propose(struct hlx_node *n, const char *json, size_t len,
		      hlx_pass_fn getpass, void *ctx, int64_t now,
		      struct hlx_plans_done *r);
/*
 * hlx plan sign: sign the highest pending version of name (or version,
 * when not 0; with two documents of it, doc_hex names one, else
 * HLX_ESTATE naming both).  HLX_ENOENT without such a plan or version;
 * HLX_ESTATE when this node is not a signatory, signed it already or
 * withdrew from it.  Subscribes to the list 'cases' of every other
 * signatory that is a peer; r->notpeer names the others.
 */
int hlx_plans_sign(struct hlx_node *n, const char *name, int64_t version,
		   const char *doc_hex, hlx_pass_fn getpass, void *ctx,
		   int64_t now, struct hlx_plans_done *r);
/* hlx plan withdraw: a withdraw act at now for the highest version of name
 * this node is a signatory of.  HLX_ENOENT / HLX_ESTATE as above. */
int hlx_plans_withdraw(struct hlx_node *n, const char *name,
		       hlx_pass_fn getpass, void *ctx, int64_t now,
		       struct hlx_plans_done *r);

/* ---- plans in feeds (spec/plan.md section 7) --------------------------- */

#include "protocol/plan_feed.h"

/* A bundle this node publishes: its head entry and its bytes. */
struct hlx_plans_pub {
	struct hlx_plans_entry e;
	struct hlx_buf text;
};
/*
 * What the plans head lists (section 7.1): every complete document held
 * and every pending one, sorted by name, version and hash, each as its
 * bundle (7.2) with the acts valid now: its sign acts and the withdrawals
 * of its signatories from it or a higher version.  Of more than
 * HLX_PLANS_HEAD_PLANS_MAX, those this node signed first, then those
 * naming it, then the rest, while room is left (still sorted; no peer
 * can crowd the node's own plans out).  *out is malloc'd
 * (hlx_plans_pub_free); NULL when *n is 0.
 */
int hlx_plans_publishable(const struct hlx_plans *p, struct hlx_plans_pub **out,
			  size_t *n);
void hlx_plans_pub_free(struct hlx_plans_pub *v, size_t n);

/* A chain the node is taking in with a pull (a peer's, longer than the one
 * stored): consulted first.  Borrowed: it must outlive p. */
int hlx_plans_add_chain(struct hlx_plans *p, const struct hlx_trust *t);
/*
 * Documents this node did not sign that it keeps per organisation
 * (section 5.4).  A document is charged to every organisation with an
 * act naming it held (each verified when it was taken, so a key revoked
 * since frees nothing); a new one is kept only while one of the
 * organisations it would be charged to has fewer than this.
 */
#define HLX_PLANS_ORG_DOCS_MAX 64

/*
 * Take in a bundle a peer serves for entry e (section 7.3, step 3): its
 * document must be the one e names, every act is checked (section 5.2).
 * A bad act, or a document this node may not keep (incomplete and not
 * above the highest complete version of its name), is an error and p
 * must then be dropped unsaved.  Otherwise the valid acts not held are
 * added to p in memory (*added of them), and *whole says whether every
 * act was valid or void (none deferred).  A new document over a limit of
 * section 5.4 (16 pending versions of its name; the quota above, unless
 * this node's own valid sign act is in the bundle) is dropped: HLX_OK,
 * nothing added, and *whole 1, so that the pull records the bundle as
 * taken and does not fetch it again while the peer lists the same bytes.
 * Nothing is written before hlx_plans_save.
 */
int hlx_plans_take(struct hlx_plans *p, const char *text, size_t n,
		   const struct hlx_plans_entry *e, int64_t now, int *whole,
		   size_t *added);
/* Write every document hlx_plans_take changed (each file whole). */
int hlx_plans_save(struct hlx_plans *p);

#endif
