/* SPDX-License-Identifier: MIT */
/* The subcommands of hlx; each parses its own options (see main.c). */
#ifndef HLX_CMDS_H
#define HLX_CMDS_H

#include "node/cli/cli.h"

int cmd_init(struct hlx_cli *cli, int argc, char **argv);
int cmd_key(struct hlx_cli *cli, int argc, char **argv);
int cmd_sign(struct hlx_cli *cli, int argc, char **argv);
int cmd_verify(struct hlx_cli *cli, int argc, char **argv);
int cmd_list(struct hlx_cli *cli, int argc, char **argv);
int cmd_add(struct hlx_cli *cli, int argc, char **argv);
int cmd_retract(struct hlx_cli *cli, int argc, char **argv);
int cmd_import(struct hlx_cli *cli, int argc, char **argv);
int cmd_export(struct hlx_cli *cli, int argc, char **argv);
int cmd_log(struct hlx_cli *cli, int argc, char **argv);
int cmd_show(struct hlx_cli *cli, int argc, char **argv);
int cmd_diff(struct hlx_cli *cli, int argc, char **argv);
int cmd_lookup(struct hlx_cli *cli, int argc, char **argv);
int cmd_match(struct hlx_cli *cli, int argc, char **argv);
int cmd_fsck(struct hlx_cli *cli, int argc, char **argv);
int cmd_reindex(struct hlx_cli *cli, int argc, char **argv);
int cmd_prune(struct hlx_cli *cli, int argc, char **argv);

int cmd_peer(struct hlx_cli *cli, int argc, char **argv);
int cmd_subscribe(struct hlx_cli *cli, int argc, char **argv);
int cmd_unsubscribe(struct hlx_cli *cli, int argc, char **argv);
int cmd_publish(struct hlx_cli *cli, int argc, char **argv);
int cmd_sync(struct hlx_cli *cli, int argc, char **argv);
int cmd_run(struct hlx_cli *cli, int argc, char **argv);
int cmd_status(struct hlx_cli *cli, int argc, char **argv);
int cmd_policy(struct hlx_cli *cli, int argc, char **argv);
int cmd_purge(struct hlx_cli *cli, int argc, char **argv);
int cmd_url(struct hlx_cli *cli, int argc, char **argv);
int cmd_audit(struct hlx_cli *cli, int argc, char **argv);

#endif
