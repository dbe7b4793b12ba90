/* SPDX-License-Identifier: MIT */
/* What cmd_case.c and cmd_case_show.c share. */
#ifndef HLX_CMD_CASE_H
#define HLX_CMD_CASE_H

#include <stdio.h>

#include "node/cli/cmds.h"
#include "node/cases.h"

/* "handled by ORG since T (STATE)", without a newline. */
void case_owner_line(const struct hlx_case_view *v, FILE *f);
/* A case id given on the command line. */
int case_id_arg(const char *s, struct hlx_hash *id);

#endif
