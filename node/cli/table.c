/* SPDX-License-Identifier: MIT */
/*
 * The command table: every command and subcommand of hlx, once.  A row
 * gives the function, what the table opens for it, its own options, its
 * operands, its usage line, its summary and its group (node/cli/cli.h).
 * Rows of one command stay together; the order here is the order of
 * 'hlx --help' within a group.  doc/hlx.1 documents every option here
 * (tests/t0020-cmdtable.sh holds the two to each other).
 */
#include "node/cli/cmds.h"
#include "node/match.h"

#include <stdint.h>

#define OPTS(...) ((const struct cli_opt[]){ __VA_ARGS__, { 0 } })
#define FLAG(n) { n, 0, CLI_FLAG, NULL, NULL, 0, 0, NULL }
#define TEXT(n, arg) { n, 0, CLI_TEXT, arg, NULL, 0, 0, NULL }
#define STEXT(s, n, arg) { n, s, CLI_TEXT, arg, NULL, 0, 0, NULL }
#define LIST(n, arg) { n, 0, CLI_LIST, arg, NULL, 0, 0, NULL }
#define UINT(n, arg, expect, lo, hi) { n, 0, CLI_UINT, arg, expect, lo, hi, NULL }
#define CHOICE(n, words) { n, 0, CLI_CHOICE, words, NULL, 0, 0, words }
#define TIME(n) { n, 0, CLI_TIME, "T", NULL, 0, 0, NULL }

#define VALID_DAYS UINT("valid-days", "N", "a validity in days", 1, 36500)
#define EXPIRES_DAYS UINT("expires-days", "N", "days", 1, 366)
#define VERSION UINT("version", "V", "a version number", 1, UINT64_MAX)
#define FORMAT CHOICE("format", "csv|jsonl")
#define THREADS UINT("threads", "N", "threads", 1, HLX_MATCH_THREADS_MAX)

const struct hlx_cmd cli_table[] = {
	/* ---- identity ---- */
	{ "init", NULL, cmd_init, CLI_NOTHING, 0, 0,
	  OPTS(STEXT('o', "org", "NAME"), FLAG("no-passphrase"), VALID_DAYS),
	  "--org NAME [--no-passphrase | --passphrase-file FILE] [--valid-days N]",
	  "Create a node home with the organisation's root key.\n"
	  "And a signing key delegated by the root for N days (default 365).",
	  CLI_G_IDENTITY },
	{ "overview", NULL, cmd_overview, CLI_NODE_RO, 0, 0,
	  OPTS(TEXT("publish-dir", "DIR"), FLAG("json")),
	  "[--publish-dir DIR] [--json]",
	  "The node at a glance, and what needs attention.\n"
	  "Organisation and root, keys, lists, peers with their lag and last\n"
	  "error, policies and audiences, the heads published in DIR (default\n"
	  "the publish-dir setting, else publish/ in the node home), and what\n"
	  "needs attention: a signing key expiring within 30 days, a peer\n"
	  "failing for a day, heads about to expire.",
	  CLI_G_IDENTITY },
	{ "key", "show", cmd_key_show, CLI_HOME, 0, 0,
	  OPTS(FLAG("root"), FLAG("box")),
	  "[--root | --box]",
	  "Print the signing key (or the root key, or the box key).\n"
	  "As an OpenSSH public key line; 'show --box' prints the box key peers\n"
	  "encrypt to (hlx-box BASE64).",
	  CLI_G_IDENTITY },
	{ "key", "ls", cmd_key_ls, CLI_HOME, 0, 0, OPTS(FLAG("json")), "[--json]",
	  "List the root and the signing keys with their windows.",
	  CLI_G_IDENTITY },
	{ "key", "allowed-signers", cmd_key_allowed_signers, CLI_HOME, 0, 0, NULL, "",
	  "Print an OpenSSH allowed-signers file for the signing keys.",
	  CLI_G_IDENTITY },
	{ "key", "rotate", cmd_key_rotate, CLI_HOME, 0, 0,
	  OPTS(FLAG("root"), VALID_DAYS),
	  "[--root] [--valid-days N]",
	  "Make a new signing key (or, with --root, a new root key).\n"
	  "The new signing key is delegated for N days (default 365).",
	  CLI_G_IDENTITY },
	{ "key", "revoke", cmd_key_revoke, CLI_HOME, 1, 1,
	  OPTS(TIME("since")),
	  "KEY [--since T]",
	  "Revoke a signing key for good, from T (default now) on.\n"
	  "KEY is an OpenSSH public key, a file holding one, or a fingerprint\n"
	  "(SHA256:...).",
	  CLI_G_IDENTITY },
	{ "key", "box", cmd_key_box, CLI_HOME, 0, 0, NULL, "",
	  "Create keys/box.key for a home made before box keys.",
	  CLI_G_IDENTITY },
	{ "sign", NULL, cmd_sign, CLI_HOME, 1, 1,
	  OPTS(STEXT('n', "namespace", "NAMESPACE"), CHOICE("hash", "sha512|sha256")),
	  "-n NAMESPACE [--hash sha512|sha256] FILE|-",
	  "Sign a file with the signing key, as 'ssh-keygen -Y sign'.\n"
	  "Writes FILE.sig, an SSHSIG signature; with -, signs standard input to\n"
	  "standard output.",
	  CLI_G_IDENTITY },
	{ "verify", NULL, cmd_verify, CLI_NOTHING, 1, 1,
	  OPTS(STEXT('n', "namespace", "NAMESPACE"), STEXT('k', "key", "KEY"),
	       TEXT("allowed-signers", "FILE"), STEXT('I', "principal", "PRINCIPAL"),
	       TEXT("trust", "FILE"), TEXT("root", "KEY"),
	       STEXT('s', "signature", "SIG"), TIME("time")),
	  "-n NAMESPACE (-k KEY | --allowed-signers FILE -I PRINCIPAL |\n"
	  "              --trust FILE --root KEY) -s SIG [--time T] FILE|-",
	  "Verify an SSHSIG signature and that its signer is allowed.\n"
	  "The signature, made by hlx or by ssh-keygen, must be by the key given,\n"
	  "an allowed signer for PRINCIPAL, or a key delegated (and not revoked)\n"
	  "by a trust chain from a pinned root, at time T (default now).",
	  CLI_G_IDENTITY },

	/* ---- lists ---- */
	{ "list", "create", cmd_list_create, CLI_NODE_RW, 1, 1, NULL, "NAME",
	  "Create a list owned by this node's organisation.",
	  CLI_G_LISTS },
	{ "list", "ls", cmd_list_ls, CLI_NODE_RO, 0, 0, OPTS(FLAG("json")), "[--json]",
	  "List the lists with their versions.",
	  CLI_G_LISTS },
	{ "list", "repo", cmd_list_repo, CLI_NODE_RO, 1, 1, NULL, "NAME",
	  "Print the path of a list's git repository.",
	  CLI_G_LISTS },
	{ "list", "rm", cmd_list_rm, CLI_NODE_RW, 1, 1,
	  OPTS(FLAG("force"), TEXT("to", "DIR")),
	  "NAME [--force] [--to DIR]",
	  "Delete an own list and everything made from it.\n"
	  "Its history, state, match index entries, views and feeds (in DIR,\n"
	  "default the publish-dir setting, else publish/ in the node home);\n"
	  "refused while a policy names it, unless --force.",
	  CLI_G_LISTS },
	{ "add", NULL, cmd_add, CLI_NODE_RW, 1, CLI_ANY,
	  OPTS(LIST("url", "URL"), TEXT("category", "C"), LIST("tag", "T"),
	       TIME("first-seen"), UINT("confidence", "N", "a confidence", 0, 100)),
	  "LIST [TYPE:HASH...] [--url URL]... [--category C] [--tag T]...\n"
	  "       [--first-seen T] [--confidence N]",
	  "Add hashes (or replace their metadata) in one new signed version.\n"
	  "Each --url adds the url-sha256 of the normalised URL; the URL itself\n"
	  "stays in this node only, sealed to its box key (see 'hlx url').",
	  CLI_G_LISTS },
	{ "retract", NULL, cmd_retract, CLI_NODE_RW, 2, CLI_ANY,
	  OPTS(CHOICE("reason", "false-positive|duplicate|legal|expired|other")),
	  "LIST TYPE:HASH... [--reason false-positive|duplicate|legal|expired|other]",
	  "Withdraw hashes from a list in one new signed version.\n"
	  "The history keeps them.",
	  CLI_G_LISTS },
	{ "import", NULL, cmd_import, CLI_NODE_RW, 2, 2,
	  OPTS(FORMAT, FLAG("skip-invalid")),
	  "LIST FILE|- [--format csv|jsonl] [--skip-invalid]",
	  "Bulk add from CSV or JSON Lines as one version.\n"
	  "CSV needs a header (columns hash, category, first_seen, confidence,\n"
	  "tags with tags separated by ';').  An invalid row stops the import and\n"
	  "nothing is committed, unless --skip-invalid.  Duplicates are merged.\n"
	  "Each hash has its type: md5:HEX, sha1:, sha256:, pdq:, photodna:, tmk:,\n"
	  "vpdq: or url-sha256:.  A CSV file, then the same row as JSON Lines:\n"
	  "  hash,category,confidence,tags\n"
	  "  md5:00112233445566778899aabbccddeeff,csam-a,90,s1;v\n"
	  "  {\"hash\":\"md5:00112233445566778899aabbccddeeff\",\"category\":\"csam-a\",\"confidence\":90,\"tags\":[\"s1\",\"v\"]}",
	  CLI_G_LISTS },
	{ "export", NULL, cmd_export, CLI_NODE_RO, 1, 1,
	  OPTS(VERSION, FORMAT),
	  "LIST [--version V] [--format csv|jsonl]",
	  "Write a version of a list (default the current) to standard output.",
	  CLI_G_LISTS },
	{ "log", NULL, cmd_log, CLI_NODE_RO, 1, 1, NULL, "LIST",
	  "The versions of a list, newest first.",
	  CLI_G_LISTS },
	{ "show", NULL, cmd_show, CLI_NODE_RO, 1, 1, OPTS(VERSION),
	  "LIST [--version V]",
	  "A version's commit, time, size, summary and signature.",
	  CLI_G_LISTS },
	{ "diff", NULL, cmd_diff, CLI_NODE_RO, 3, 3, NULL, "LIST V1 V2",
	  "Entries removed (-) and added (+) between two versions.",
	  CLI_G_LISTS },
	{ "prune", NULL, cmd_prune, CLI_NODE_RW, 1, 1,
	  OPTS(UINT("before", "VERSION", "a version number", 0, UINT64_MAX)),
	  "LIST --before VERSION",
	  "Rewrite a list's history so that versions before VERSION are gone.\n"
	  "Everywhere (a retracted false positive, say), under a signed\n"
	  "checkpoint that subscribers verify; then compact the state.  Only\n"
	  "the owner prunes.",
	  CLI_G_LISTS },
	{ "fsck", NULL, cmd_fsck, CLI_NODE_RW, 0, CLI_ANY, NULL, "[LIST...]",
	  "Verify the signatures, the histories, and that the state matches.\n"
	  "Every version's signature against the trust chain, the shape of the\n"
	  "history, and that the state matches it.",
	  CLI_G_LISTS },
	{ "reindex", NULL, cmd_reindex, CLI_NODE_RW, 0, CLI_ANY, NULL, "[LIST...]",
	  "Rebuild the state of lists from their history.",
	  CLI_G_LISTS },
	{ "url", "show", cmd_url_show, CLI_HOME, 1, 1, NULL, "ITEM|URL",
	  "Print the raw URL kept for a url-sha256 item.\n"
	  "Needs the passphrase of the box key.",
	  CLI_G_LISTS },
	{ "url", "ls", cmd_url_ls, CLI_HOME, 0, 0, NULL, "",
	  "List the url-sha256 items that have a raw URL kept.",
	  CLI_G_LISTS },

	/* ---- matching ---- */
	{ "lookup", NULL, cmd_lookup, CLI_NODE_RO, 1, CLI_ANY, OPTS(FLAG("json")),
	  "[--json] TYPE:HASH...|-",
	  "The lists and versions that hold each hash, with its metadata.\n"
	  "For each hash (or each line of standard input).  Exit 1 when nothing\n"
	  "matched.",
	  CLI_G_MATCHING },
	{ "match", NULL, cmd_match, CLI_NODE_RO, 0, 1,
	  OPTS(UINT("threshold", "N", "a distance", 0, HLX_MATCH_THRESHOLD_MAX),
	       THREADS, FLAG("skip-invalid"), FLAG("stats")),
	  "[--threshold N] [--threads N] [--skip-invalid] [--stats] [FILE|-]",
	  "Match hashes, exactly and PDQ within a distance, against every list.\n"
	  "One hash a line of FILE or standard input; PDQ within a Hamming\n"
	  "distance (default 31, or each list's own).  One JSON object a line per\n"
	  "match.  Exit 1 when nothing matched.",
	  CLI_G_MATCHING },
	{ "match", "config", cmd_match_config, CLI_NODE_RW_OPT, 1, 1,
	  OPTS({ "threshold", 0, CLI_UINT, "N", "a distance", 0,
		 HLX_MATCH_THRESHOLD_MAX, "default" },
	       FLAG("allow"), FLAG("no-allow")),
	  "LIST [--threshold N|default] [--allow | --no-allow]",
	  "Show or set a list's PDQ threshold, or make it an allow-list.\n"
	  "The entries of an allow-list silence matches.",
	  CLI_G_MATCHING },
	{ "match", "status", cmd_match_status, CLI_NODE_RO, 0, 0,
	  OPTS(THREADS, FLAG("json")),
	  "[--threads N] [--json]",
	  "Bring the match index up to date and describe it.",
	  CLI_G_MATCHING },
	{ "match", "rebuild", cmd_match_rebuild, CLI_NODE_RO, 0, 0, OPTS(THREADS),
	  "[--threads N]",
	  "Build the match index afresh from the histories.",
	  CLI_G_MATCHING },

	/* ---- federation ---- */
	{ "peer", "add", cmd_peer_add, CLI_NODE_RW, 1, 1,
	  OPTS(TEXT("url", "URL"), TEXT("key", "KEY"), TEXT("ca", "FILE"),
	       TEXT("box", "BOXKEY"), TEXT("policy", "P")),
	  "NAME [--url URL] --key KEY [--ca FILE] [--box BOXKEY] [--policy P]",
	  "Pin a peer's root key (exchanged out of band).\n"
	  "With the URL where its publish directory is served (https:// or\n"
	  "file://; none for a peer that only receives), its box key ('hlx key\n"
	  "show --box' on its node) for encrypted feeds, and the sharing policy\n"
	  "that decides what it receives.",
	  CLI_G_FEDERATION },
	{ "peer", "set", cmd_peer_set, CLI_NODE_RW, 1, 1,
	  OPTS(TEXT("url", "URL"), TEXT("ca", "FILE"), TEXT("box", "BOXKEY"),
	       TEXT("policy", "P"), FLAG("no-policy")),
	  "NAME [--url URL] [--ca FILE] [--box BOXKEY] [--policy P | --no-policy]",
	  "Change a peer's URL, CA bundle, box key or sharing policy.\n"
	  "After a new URL, the next sync takes its lists afresh.",
	  CLI_G_FEDERATION },
	{ "peer", "ls", cmd_peer_ls, CLI_NODE_RO, 0, 0, OPTS(FLAG("json")), "[--json]",
	  "List the peers with their roots, URLs, lists and policies.",
	  CLI_G_FEDERATION },
	{ "peer", "rm", cmd_peer_rm, CLI_NODE_RW, 1, 1,
	  OPTS(FLAG("force"), TEXT("to", "DIR")),
	  "NAME [--force] [--to DIR]",
	  "Remove a peer and delete everything of it.\n"
	  "Its lists are purged as by 'unsubscribe --purge'; refused while a\n"
	  "policy names one of its lists, unless --force.",
	  CLI_G_FEDERATION },
	{ "peer", "status", cmd_peer_status, CLI_NODE_RO, 0, 0, OPTS(FLAG("json")),
	  "[--json]",
	  "For each peer and list: versions held and remote, last sync, error.",
	  CLI_G_FEDERATION },
	{ "subscribe", NULL, cmd_subscribe, CLI_NODE_RW, 2, 2, OPTS(FLAG("force")),
	  "PEER LIST [--force]",
	  "Pull LIST (or 'status', its removal-status log) from PEER.\n"
	  "Refused when PEER's feed answers but does not publish LIST, unless\n"
	  "--force.",
	  CLI_G_FEDERATION },
	{ "unsubscribe", NULL, cmd_unsubscribe, CLI_NODE_RW, 2, 2,
	  OPTS(FLAG("purge"), FLAG("force"), TEXT("to", "DIR")),
	  "PEER LIST [--purge [--force] [--to DIR]]",
	  "Stop pulling LIST from PEER.\n"
	  "With --purge, also delete the mirror, its state, match index entries\n"
	  "and sync state, and every view and relayed feed made from it (feeds\n"
	  "in DIR, default the publish-dir setting, else publish/ in the node\n"
	  "home); refused while a policy names PEER/LIST, unless --force.",
	  CLI_G_FEDERATION },
	{ "publish", NULL, cmd_publish, CLI_NODE_RW, 0, 0,
	  OPTS(TEXT("to", "DIR"), EXPIRES_DAYS),
	  "[--to DIR] [--expires-days N]",
	  "Write the feeds of this node's lists for a static web server.\n"
	  "Signed heads valid N days (default the expires-days setting, else 7)\n"
	  "and one git pack per version, into DIR (default the publish-dir\n"
	  "setting, else publish/ in the node home).",
	  CLI_G_FEDERATION },
	{ "sync", NULL, cmd_sync, CLI_NODE_RW, 0, 1, NULL, "[PEER]",
	  "One pull round over every peer (or PEER).\n"
	  "Fetch, verify and apply the subscribed lists.  Exit 1 if any failed.",
	  CLI_G_FEDERATION },
	/* run opens the node afresh each round, the lock for the round only */
	{ "run", NULL, cmd_run, CLI_NOTHING, 0, 0,
	  OPTS(UINT("interval", "SECONDS", "whole seconds", 1, 86400),
	       TEXT("to", "DIR"), EXPIRES_DAYS),
	  "[--interval SECONDS] [--to DIR] [--expires-days N]",
	  "Run the node: publish on change, poll every peer each interval.\n"
	  "Re-sign heads before they expire; poll every interval (default the\n"
	  "poll-interval setting, else 60 s) with jitter and exponential\n"
	  "backoff on failure; one log line per event; one run a home; SIGHUP\n"
	  "re-reads the settings ('hlx config'); stops on SIGTERM.",
	  CLI_G_FEDERATION },
	{ "config", "get", cmd_config_get, CLI_HOME, 1, 1, NULL, "KEY",
	  "Print a setting of the node (hlx.conf in its home).\n"
	  "KEY: publish-dir, poll-interval or expires-days; its default when\n"
	  "it is not set.",
	  CLI_G_FEDERATION },
	{ "config", "set", cmd_config_set, CLI_NODE_RW, 2, 2, NULL, "KEY VALUE",
	  "Set a setting of the node, checked before it is written.\n"
	  "publish and run use it unless an option overrides it; a running\n"
	  "'hlx run' takes it on SIGHUP.",
	  CLI_G_FEDERATION },
	{ "config", "unset", cmd_config_unset, CLI_NODE_RW, 1, 1, NULL, "KEY",
	  "Put a setting back to its default.",
	  CLI_G_FEDERATION },
	{ "config", "ls", cmd_config_ls, CLI_HOME, 0, 0, NULL, "",
	  "Print every setting, defaults commented out (a settings file).",
	  CLI_G_FEDERATION },

	/* ---- policies ---- */
	{ "policy", "add", cmd_policy_add, CLI_NODE_RW, 1, 1, OPTS(FLAG("replace")),
	  "FILE|- [--replace]",
	  "Add a sharing policy (spec/policy.md) from a JSON file.",
	  CLI_G_POLICIES },
	{ "policy", "rm", cmd_policy_rm, CLI_NODE_RW, 1, 1, NULL, "NAME",
	  "Remove a sharing policy no peer uses.",
	  CLI_G_POLICIES },
	{ "policy", "ls", cmd_policy_ls, CLI_NODE_RO, 0, 0, OPTS(FLAG("json")),
	  "[--json]",
	  "List the policies with their audiences.",
	  CLI_G_POLICIES },
	{ "policy", "check", cmd_policy_check, CLI_NODE_RW, 0, 1,
	  OPTS(FLAG("all"), FLAG("entries"), FLAG("digest")),
	  "(PEER | --all) [--entries | --digest]",
	  "Show what a peer receives under its policy, now.\n"
	  "Each list with its entry count and handling rules, every line\n"
	  "(--entries), or a count and digest per list (--digest).",
	  CLI_G_POLICIES },
	{ "purge", NULL, cmd_purge, CLI_NODE_RW, 0, 0, NULL, "",
	  "Remove the peers' entries past the retention their rules set.\n"
	  "Sync, publish and run do it too.",
	  CLI_G_POLICIES },
	{ "audit", NULL, cmd_audit, CLI_HOME, 0, 0,
	  OPTS(TEXT("peer", "P"), TIME("since"), FLAG("json")),
	  "[--peer P] [--since T] [--json]",
	  "The verified audit log of disclosures.\n"
	  "What was published to which peer, under which policy, verified line\n"
	  "by line against the trust chain; only records of peer P, or made at\n"
	  "or after T.  Prints nothing and exits 1 when the log does not verify\n"
	  "(3 for a malformed line).",
	  CLI_G_POLICIES },

	/* ---- takedown ---- */
	{ "status", "set", cmd_status_set, CLI_NODE_RW, 1, 1,
	  OPTS(TEXT("state", "STATE"), TEXT("country", "CC"), TIME("reported")),
	  "ITEM --state STATE [--country CC] [--reported T]",
	  "Record the removal status of an item in the signed status log.\n"
	  "STATE: reported, notice-sent, removed, reappeared or withdrawn; CC\n"
	  "the ISO country of the host.",
	  CLI_G_TAKEDOWN },
	{ "status", "import", cmd_status_import, CLI_NODE_RW, 1, 1, NULL, "FILE|-",
	  "Record removal statuses from JSON Lines as one version.",
	  CLI_G_TAKEDOWN },
	{ "status", "ls", cmd_status_ls, CLI_NODE_RO, 0, 0, NULL, "",
	  "Print this node's status log.",
	  CLI_G_TAKEDOWN },
	{ "status", "show", cmd_status_show, CLI_NODE_RO, 1, 1, OPTS(FLAG("json")),
	  "ITEM [--json]",
	  "What every organisation published about an item's removal.",
	  CLI_G_TAKEDOWN },

	{ "plan", "propose", cmd_plan_propose, CLI_NODE_RW, 1, 1, NULL, "FILE|-",
	  "Propose a response plan (spec/plan.md) and sign it.\n"
	  "Reads the plan in any JSON spelling, checks it, and refuses it when\n"
	  "this node is not a signatory, a signatory is not a peer, or the\n"
	  "version is not above every version held; stores its canonical form\n"
	  "and signs it.",
	  CLI_G_TAKEDOWN },
	{ "plan", "sign", cmd_plan_sign, CLI_NODE_RW, 1, 1,
	  OPTS(UINT("version", "V", "a plan version", 1, 2147483647),
	       TEXT("doc", "HASH")),
	  "NAME [--version V] [--doc HASH]",
	  "Sign the highest pending version of a plan (or version V).\n"
	  "With two documents of V, --doc names one.  Subscribes to the cases\n"
	  "log of every other signatory that is a peer, and names the others.",
	  CLI_G_TAKEDOWN },
	{ "plan", "withdraw", cmd_plan_withdraw, CLI_NODE_RW, 1, 1, NULL, "NAME",
	  "Withdraw from the highest version of a plan, for good.\n"
	  "Prints who takes over the rules that named this organisation.",
	  CLI_G_TAKEDOWN },
	{ "plan", "ls", cmd_plan_ls, CLI_NODE_RO, 0, 0, OPTS(FLAG("json")), "[--json]",
	  "List the plans: version, state and signatures.",
	  CLI_G_TAKEDOWN },
	{ "plan", "show", cmd_plan_show, CLI_NODE_RO, 1, 1,
	  OPTS(UINT("version", "V", "a plan version", 1, 2147483647), FLAG("json")),
	  "NAME [--version V] [--json]",
	  "Show a plan: its signatories, their acts, and its rules.",
	  CLI_G_TAKEDOWN },
	{ "plan", "route", cmd_plan_route, CLI_NODE_RO, 1, CLI_ANY,
	  OPTS(FLAG("json")),
	  "LOCATION...|- [--json]",
	  "Route locations COUNTRY/CATEGORY[/HOST] over the plans in force now.\n"
	  "Prints LOCATION, the responsible organisation, PLAN@VERSION, the rule\n"
	  "and the fallbacks; with -, reads locations from standard input.",
	  CLI_G_TAKEDOWN },
	{ "case", "report", cmd_case_report, CLI_NODE_RW, 1, 1,
	  OPTS(TEXT("item", "HASH"), TEXT("country", "CC"), TEXT("host", "NAME"),
	       TEXT("category", "TOKEN")),
	  "URL|CASE|- [--item HASH] [--country CC] [--host NAME] [--category TOKEN]",
	  "Open a case: a report of the location URL (or url-sha256 CASE).\n"
	  "Prints 'reported CASE: ' and the owner line, or 'known CASE: ' when a\n"
	  "report of it is already held (nothing is recorded).  '-' reads JSON\n"
	  "Lines (url or case, item, country, host, category), one version.",
	  CLI_G_TAKEDOWN },
	{ "case", "claim", cmd_case_claim, CLI_NODE_RW, 1, 1, NULL, "CASE",
	  "Claim (or renew the claim on) a case this organisation owns.",
	  CLI_G_TAKEDOWN },
	{ "case", "release", cmd_case_release, CLI_NODE_RW, 1, 1, NULL, "CASE",
	  "Give up a case this organisation owns.",
	  CLI_G_TAKEDOWN },
	{ "case", "handoff", cmd_case_handoff, CLI_NODE_RW, 2, 2, NULL, "CASE ORG",
	  "Hand a case this organisation owns to another signatory.",
	  CLI_G_TAKEDOWN },
	{ "case", "set", cmd_case_set, CLI_NODE_RW, 2, 2, NULL, "CASE STATE",
	  "Set the state of a case this organisation owns and has claimed.",
	  CLI_G_TAKEDOWN },
	{ "case", "show", cmd_case_show, CLI_NODE_RO, 1, 1, OPTS(FLAG("json")),
	  "CASE|URL|ITEM [--json]",
	  "A case: owner, lease, route, raw URL and history.\n"
	  "For an item hash, every case whose lines name it; exit 1 if none.",
	  CLI_G_TAKEDOWN },
	{ "case", "ls", cmd_case_ls, CLI_NODE_RO, 0, 0,
	  OPTS(FLAG("mine"), TEXT("country", "CC"), TEXT("state", "S"), FLAG("all"),
	       FLAG("json")),
	  "[--mine] [--country CC] [--state S] [--all] [--json]",
	  "The open cases and their owners, one a line, by case id.",
	  CLI_G_TAKEDOWN },

	/* ---- the table itself ---- */
	{ "help", NULL, cmd_help, CLI_NOTHING, 0, 2, OPTS(FLAG("options")),
	  "[COMMAND [SUBCOMMAND]] | --options",
	  "Describe a command, or all of them.\n"
	  "--options prints each command and subcommand with its options, one a\n"
	  "line, for scripts.",
	  CLI_G_HIDDEN },
	{ "completion", NULL, cmd_completion, CLI_NOTHING, 1, 1, NULL, "bash",
	  "Print a bash completion script for hlx.",
	  CLI_G_HIDDEN },
};

const size_t cli_table_n = sizeof(cli_table) / sizeof(cli_table[0]);
