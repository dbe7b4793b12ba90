/* SPDX-License-Identifier: MIT */
/*
 * The --json of the listings, and hlx overview (node/cli/cmd_overview.c):
 * one JSON document on standard output, through jansson, with the field
 * names doc/hlx.1 (JSON OUTPUT) documents.  The listings and the overview
 * share the objects: a list, key, peer or policy has the same fields in
 * both.
 */
#ifndef HLX_CLI_GLANCE_H
#define HLX_CLI_GLANCE_H

#include <stddef.h>

#include "node/cli/cli.h"

/* What a listing prints with --json. */
enum cli_glance {
	CLI_GLANCE_KEYS,        /* key ls: the home's keys (cli->homeh) */
	CLI_GLANCE_LISTS,       /* list ls */
	CLI_GLANCE_PEERS,       /* peer ls */
	CLI_GLANCE_PEER_STATUS, /* peer status: one object per subscription */
	CLI_GLANCE_POLICIES,    /* policy ls */
};

/* Print the JSON array of what, from the node (or home) the table opened;
 * returns the exit code. */
int cli_glance_json(struct hlx_cli *cli, enum cli_glance what);

/* match status --json: the index described by st, and each list's
 * settings. */
struct hlx_match_status;
struct hlx_node;
int cli_glance_match(struct hlx_node *n, const struct hlx_match_status *st);

/* status show --json: an array of the records found (each as status
 * import reads it, with "org", the organisation that published it). */
struct cli_glance_arr;
int cli_glance_status_new(struct cli_glance_arr **out);
int cli_glance_status_add(struct cli_glance_arr *a, const char *org,
			  const char *item, const char *meta, size_t metalen);
/* Print the array and free it (NULL: nothing); returns the exit code. */
int cli_glance_status_print(struct cli_glance_arr *a);
void cli_glance_status_free(struct cli_glance_arr *a);

#endif
