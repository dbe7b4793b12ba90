/* SPDX-License-Identifier: MIT */
/*
 * hlx — federated hash-list exchange node.  The subcommand table, the
 * global options, and nothing else: each command lives in node/cmd_*.c.
 */
#include "node/cmds.h"
#include "node/home.h"
#include "protocol/err.h"

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
	  "show [--root] | ls | allowed-signers | rotate [--root] [--valid-days N] | revoke KEY",
	  "Show, list, rotate or revoke the node's keys; print an OpenSSH\n"
	  "allowed-signers file for its signing keys.  KEY is an OpenSSH public\n"
	  "key, a file holding one, or a fingerprint (SHA256:...)." },
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
		rc = hlx_home_resolve(home, &resolved);
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
