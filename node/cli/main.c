/* SPDX-License-Identifier: MIT */
/*
 * hlx — federated hash-list exchange node.  The subcommand table, the
 * global options, and nothing else: each command lives in node/cmd_*.c.
 */
#include "node/cli/cmds.h"
#include "node/audit.h"
#include "node/home.h"
#include "node/urls.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef HLX_VERSION
#define HLX_VERSION "0.1.0"
#endif

static const struct hlx_cmd commands[] = {
	{ "init", cmd_init,
	  "--org NAME [--no-passphrase | --passphrase-file FILE] [--valid-days N]",
	  "Create a node home with the organisation's root key and a signing key\n"
	  "delegated by it for N days (default 365)." },
	{ "key", cmd_key,
	  "show [--root | --box] | ls | allowed-signers | rotate [--root] [--valid-days N]\n"
	  "       | revoke KEY | box",
	  "Show, list, rotate or revoke the node's keys; print an OpenSSH\n"
	  "allowed-signers file for its signing keys.  KEY is an OpenSSH public\n"
	  "key, a file holding one, or a fingerprint (SHA256:...).  'show --box'\n"
	  "prints the box key peers encrypt to (hlx-box BASE64); 'box' creates\n"
	  "keys/box.key for a home made before box keys." },
	{ "sign", cmd_sign, "-n NAMESPACE [--hash sha512|sha256] FILE|-",
	  "Write FILE.sig, an SSHSIG signature by the signing key (as\n"
	  "'ssh-keygen -Y sign').  With -, sign standard input to standard output." },
	{ "verify", cmd_verify,
	  "-n NAMESPACE (-k KEY | --allowed-signers FILE -I PRINCIPAL |\n"
	  "              --trust FILE --root KEY) -s SIG [--time T] FILE|-",
	  "Verify an SSHSIG signature of FILE, made by hlx or by ssh-keygen, and\n"
	  "that its signer is the key given, an allowed signer for PRINCIPAL, or a\n"
	  "key delegated (and not revoked) by a trust chain from a pinned root,\n"
	  "at time T (RFC 3339, default now)." },
	{ "list", cmd_list, "create NAME | ls | repo NAME",
	  "Create a list owned by this node's organisation, list the lists with\n"
	  "their versions, or print the path of a list's git repository." },
	{ "add", cmd_add,
	  "LIST [TYPE:HASH...] [--url URL]... [--category C] [--tag T]...\n"
	  "       [--first-seen T] [--confidence N]",
	  "Add hashes (or replace their metadata) in one new signed version.\n"
	  "Each --url adds the url-sha256 of the normalised URL; the URL itself\n"
	  "stays in this node only, sealed to its box key (see 'hlx url')." },
	{ "retract", cmd_retract,
	  "LIST TYPE:HASH... [--reason false-positive|duplicate|legal|expired|other]",
	  "Withdraw hashes from the list in one new signed version; the history\n"
	  "keeps them." },
	{ "import", cmd_import, "LIST FILE|- [--format csv|jsonl] [--skip-invalid]",
	  "Bulk add from CSV (header required; columns hash, category, first_seen,\n"
	  "confidence, tags with tags separated by ';') or JSON Lines, as one\n"
	  "version.  An invalid row stops the import and nothing is committed,\n"
	  "unless --skip-invalid.  Duplicates are merged." },
	{ "export", cmd_export, "LIST [--version V] [--format csv|jsonl]",
	  "Write a version of the list (default the current) to standard output." },
	{ "log", cmd_log, "LIST", "The versions of a list, newest first." },
	{ "show", cmd_show, "LIST [--version V]",
	  "A version's commit, time, size, summary and signature." },
	{ "diff", cmd_diff, "LIST V1 V2",
	  "Entries removed (-) and added (+) between two versions." },
	{ "lookup", cmd_lookup, "[--json] TYPE:HASH...|-",
	  "For each hash (or each line of standard input), the lists and versions\n"
	  "that hold it, with its metadata.  Exit 1 when nothing matched." },
	{ "match", cmd_match,
	  "[--threshold N] [--threads N] [--skip-invalid] [--stats] [FILE|-]\n"
	  "       | config LIST [--threshold N|default] [--allow|--no-allow]\n"
	  "       | status | rebuild",
	  "Match hashes, one a line of FILE or standard input, against every list:\n"
	  "exactly, and PDQ within a Hamming distance (default 31, or each list's\n"
	  "own).  One JSON object a line per match.  Exit 1 when nothing matched.\n"
	  "'config' sets a list's PDQ threshold or makes it an allow-list, whose\n"
	  "entries silence matches; 'status' brings the index up to date and\n"
	  "describes it; 'rebuild' builds it afresh." },
	{ "prune", cmd_prune, "LIST --before VERSION",
	  "Rewrite a list's history so that versions before VERSION no longer\n"
	  "exist anywhere (a retracted false positive, say), under a signed\n"
	  "checkpoint that subscribers verify; then compact the state.  Only\n"
	  "the owner prunes." },
	{ "fsck", cmd_fsck, "[LIST...]",
	  "Verify every version's signature against the trust chain, the shape of\n"
	  "the history, and that the state matches it." },
	{ "reindex", cmd_reindex, "[LIST...]",
	  "Rebuild the state of lists from their history." },
	{ "peer", cmd_peer,
	  "add NAME [--url URL] --key KEY [--ca FILE] [--box KEY] [--policy P]\n"
	  "       | set NAME [--url URL] [--ca FILE] [--box KEY] [--policy P | --no-policy]\n"
	  "       | ls | rm NAME | status",
	  "Pin a peer's root key (exchanged out of band) with the URL where its\n"
	  "publish directory is served (https:// or file://; none for a peer that\n"
	  "only receives), its box key ('hlx key show --box' on its node) for\n"
	  "encrypted feeds, and the sharing policy that decides what it receives;\n"
	  "list or remove peers; show, for each peer and list, the version held,\n"
	  "the peer's version, when it last synced and the last error." },
	{ "policy", cmd_policy,
	  "add FILE|- [--replace] | rm NAME | ls\n"
	  "       | check (PEER | --all) [--entries | --digest]",
	  "Manage sharing policies (spec/policy.md): add one from a JSON file, remove\n"
	  "or list them with their audiences; show what a peer receives under its\n"
	  "policy, now: each list with its entry count and handling rules, every\n"
	  "line (--entries), or a count and digest per list (--digest)." },
	{ "purge", cmd_purge, "",
	  "Remove from the state the entries of peers' lists that are past the\n"
	  "retention their handling rules set (sync, publish and run do it too)." },
	{ "subscribe", cmd_subscribe, "PEER LIST",
	  "Pull LIST (or 'status', its removal-status log) from PEER." },
	{ "unsubscribe", cmd_unsubscribe, "PEER LIST", "Stop pulling LIST from PEER." },
	{ "publish", cmd_publish, "[--to DIR] [--expires-days N]",
	  "Write the feeds of this node's lists (signed heads valid N days, default\n"
	  "7, and one git pack per version) into DIR (default publish/ in the\n"
	  "node home), for any static web server to serve." },
	{ "sync", cmd_sync, "[PEER]",
	  "One pull round: fetch, verify and apply the subscribed lists of every\n"
	  "peer (or of PEER).  Exit 1 if any failed." },
	{ "run", cmd_run, "[--interval SECONDS] [--to DIR] [--expires-days N]",
	  "Run the node: publish on change and re-sign heads before they expire,\n"
	  "poll every peer each interval (default 60 s) with jitter and\n"
	  "exponential backoff on failure; one log line per event; stops on\n"
	  "SIGTERM." },
	{ "url", cmd_url, "show ITEM|URL | ls",
	  "Print the raw URL kept for a url-sha256 item (needs the passphrase\n"
	  "of the box key), or list the items that have one." },
	{ "status", cmd_status,
	  "set ITEM --state STATE [--country CC] [--reported T] | import FILE|-\n"
	  "       | ls | show ITEM",
	  "Record the removal status of an item (reported, notice-sent, removed,\n"
	  "reappeared, withdrawn; ISO country of the host) in this node's signed\n"
	  "status log, one at a time or from JSON Lines as one version; list it;\n"
	  "show what every organisation published about an item." },
	{ "audit", cmd_audit, "[--peer P] [--since T] [--json]",
	  "The audit log of disclosures (what was published to which peer, under\n"
	  "which policy), verified line by line against the trust chain; only\n"
	  "records of peer P, or made at or after T (RFC 3339).  Prints nothing\n"
	  "and exits 1 when the log does not verify." },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hlx [--home DIR] [--passphrase-file FILE] COMMAND [ARGS]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			strchr(commands[i].usage, '\n') ?
			"..." : commands[i].usage);
	fprintf(f, "\n'hlx COMMAND --help' describes a command; man hlx has it all.\n"
		   "The node home is --home, else $HLX_HOME, else ~/.hlx.\n");
}

int main(int argc, char **argv)
{
	struct hlx_cli cli = { 0 };
	const char *home = NULL;
	char *resolved = NULL;
	int i, rc;

	if (sodium_init() < 0) {
		fprintf(stderr, "hlx: cannot initialise libsodium\n");
		return HLX_EXIT_SYSTEM;
	}
	cli.pass_file = getenv("HLX_PASSPHRASE_FILE");
	if (cli.pass_file && !*cli.pass_file)
		cli.pass_file = NULL;
	cli.now = (int64_t)time(NULL);
	{
		/* HLX_NOW: the time to act at (for tests of time rules) */
		const char *t = getenv("HLX_NOW");
		int64_t v;

		if (t && *t && hlx_time_parse(t, strlen(t), &v) == HLX_OK)
			cli.now = v;
		/* HLX_TIMEOUT: seconds a whole transfer may take */
		t = getenv("HLX_TIMEOUT");
		cli.timeout_s = t ? strtol(t, NULL, 10) : 0;
	}

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return HLX_EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			printf("hlx %s\n", HLX_VERSION);
			return HLX_EXIT_OK;
		} else if (!strcmp(a, "--home") && i + 1 < argc) {
			home = argv[++i];
		} else if (!strncmp(a, "--home=", 7)) {
			home = a + 7;
		} else if (!strcmp(a, "--passphrase-file") && i + 1 < argc) {
			cli.pass_file = argv[++i];
		} else if (!strncmp(a, "--passphrase-file=", 18)) {
			cli.pass_file = a + 18;
		} else {
			fprintf(stderr, "hlx: unknown option '%s'\n", a);
			usage(stderr);
			return HLX_EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return HLX_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return HLX_EXIT_OK;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		cli.cmd = &commands[c];
		rc = cli_home_resolve(home, &resolved);
		if (rc)
			return cli_fail(rc, "cannot find the node home");
		cli.home = resolved;
		rc = commands[c].fn(&cli, argc - i, argv + i);
		free(resolved);
		if (fflush(stdout) != 0 && rc == 0) {
			fprintf(stderr, "hlx: cannot write standard output\n");
			rc = HLX_EXIT_SYSTEM;
		}
		return rc;
	}
	fprintf(stderr, "hlx: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return HLX_EXIT_USAGE;
}
