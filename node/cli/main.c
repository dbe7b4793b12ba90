/* SPDX-License-Identifier: MIT */
/*
 * hlx — federated hash-list exchange node.  The global options and the
 * environment, then the command table (node/cli/table.c) does the rest.
 */
#include "node/cli/cli.h"
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

static const char *global_name(const void *ctx, size_t i)
{
	static const char *const g[] = { "home", "passphrase-file", "help",
					 "version" };

	(void)ctx;
	return g[i];
}

/* What the environment sets: HLX_PASSPHRASE_FILE, HLX_NOW (the time to act
 * at, for tests of time rules), HLX_TIMEOUT (seconds a whole transfer may
 * take).  Nothing below node/cli/ reads the environment. */
static void from_environment(struct hlx_cli *cli)
{
	const char *t;
	int64_t v;
	uint64_t u;

	cli->pass_file = getenv("HLX_PASSPHRASE_FILE");
	if (cli->pass_file && !*cli->pass_file)
		cli->pass_file = NULL;
	cli->now = (int64_t)time(NULL);
	t = getenv("HLX_NOW");
	if (t && *t && hlx_time_parse(t, strlen(t), &v) == HLX_OK) {
		cli->now = v;
		cli->now_fixed = 1;
	}
	t = getenv("HLX_TIMEOUT");
	if (t && cli_parse_uint(t, 1, 86400, &u) == HLX_OK)
		cli->timeout_s = (long)u;
}

int main(int argc, char **argv)
{
	struct hlx_cli cli = { 0 };
	int i, rc;

	if (sodium_init() < 0) {
		fprintf(stderr, "hlx: cannot initialise libsodium\n");
		return HLX_EXIT_SYSTEM;
	}
	from_environment(&cli);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *near;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_usage_all(stdout);
			return HLX_EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			printf("hlx %s\n", HLX_VERSION);
			return HLX_EXIT_OK;
		} else if (!strcmp(a, "--home") && i + 1 < argc) {
			cli.home_opt = argv[++i];
		} else if (!strncmp(a, "--home=", 7)) {
			cli.home_opt = a + 7;
		} else if (!strcmp(a, "--passphrase-file") && i + 1 < argc) {
			cli.pass_file = argv[++i];
		} else if (!strncmp(a, "--passphrase-file=", 18)) {
			cli.pass_file = a + 18;
		} else {
			near = a[1] == '-' ? cli_nearest(a + 2, 4, global_name, NULL) :
			       NULL;
			fprintf(stderr, "hlx: unknown option '%s'%s%s%s\n", a,
				near ? ": did you mean '--" : "", near ? near : "",
				near ? "'?" : "");
			fprintf(stderr, "(see 'hlx --help')\n");
			return HLX_EXIT_USAGE;
		}
	}
	if (cli.home_opt && !*cli.home_opt) {
		fprintf(stderr, "hlx: --home: expected a directory, got ''\n");
		return HLX_EXIT_USAGE;
	}
	if (i == argc) {
		cli_usage_all(stderr);
		return HLX_EXIT_USAGE;
	}
	rc = cli_run(&cli, argc - i, argv + i);
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "hlx: cannot write standard output\n");
		rc = HLX_EXIT_SYSTEM;
	}
	return rc;
}
