/* SPDX-License-Identifier: MIT */
/* The subcommands of hlx; each parses its own options (see main.c). */
#ifndef HLX_CMDS_H
#define HLX_CMDS_H

#include "node/cli.h"

int cmd_init(struct hlx_cli *cli, int argc, char **argv);
int cmd_key(struct hlx_cli *cli, int argc, char **argv);
int cmd_sign(struct hlx_cli *cli, int argc, char **argv);
int cmd_verify(struct hlx_cli *cli, int argc, char **argv);

#endif
