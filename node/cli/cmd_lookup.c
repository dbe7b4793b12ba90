/* SPDX-License-Identifier: MIT */
/* hlx lookup: which lists hold each hash (the engine: node/lookup.h). */
#include "node/cli/cmds.h"
#include "node/lookup.h"
#include "protocol/err.h"
#include "protocol/hash.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int write_stdout(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	if (fwrite(p, 1, n, stdout) != n)
		return hlx_err(HLX_EIO, "cannot write standard output: %s",
			       strerror(errno));
	return HLX_OK;
}

/* The next query: an operand, or a line of standard input (blank lines
 * skipped); 1, 0 at the end, or an error. */
static int next_query(const struct cli_args *a, struct cli_lines *r, int *ai,
		      const char **q, size_t *ql)
{
	char *line;
	int rc;

	if (!r->in) {
		if (*ai >= a->argc)
			return 0;
		*q = a->argv[(*ai)++];
		*ql = strlen(*q);
		return 1;
	}
	while ((rc = cli_lines_next(r, &line, ql)) > 0 && *ql == 0)
		;
	if (rc > 0)
		*q = line;
	return rc < 0 && rc != HLX_EIO ? hlx_err_wrap(rc, "line %zu", r->lineno) : rc;
}

int cmd_lookup(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_lookup *lk = NULL;
	struct cli_lines r = { 0 };
	const char *q = NULL;
	size_t ql = 0;
	int rc = HLX_OK, ret, ai = 0;

	if (a->argc == 1 && !strcmp(a->argv[0], "-"))
		rc = cli_lines_open(&r, "-", HLX_HASH_TEXT_MAX + 2);
	if (!rc)
		rc = hlx_lookup_new(cli->node, cli_given(a, "json") != 0,
				    write_stdout, NULL, &lk);
	while (!rc && (rc = next_query(a, &r, &ai, &q, &ql)) > 0) {
		rc = hlx_lookup_add(lk, q, ql);
		if (rc == HLX_EINVAL || rc == HLX_EUNSUPPORTED || rc == HLX_ETOOBIG)
			rc = r.in ? hlx_err_wrap(rc, "line %zu", r.lineno) :
				    hlx_err_wrap(rc, "argument %d", ai);
	}
	if (rc == HLX_EINVAL || rc == HLX_EUNSUPPORTED || rc == HLX_ETOOBIG) {
		/* an invalid query stops it, once those before it were
		 * answered (as match does) */
		char keep[512];
		int frc;

		snprintf(keep, sizeof(keep), "%s", hlx_err_detail());
		frc = hlx_lookup_flush(lk);
		if (!frc)
			hlx_err(rc, "%s", keep);
		else
			rc = frc;
	} else if (!rc) {
		rc = hlx_lookup_flush(lk);
	}
	if (!rc && fflush(stdout) != 0)
		rc = hlx_err(HLX_EIO, "cannot write standard output");
	if (rc)
		ret = cli_fail(rc, "cannot look up");
	else
		ret = hlx_lookup_hits(lk) ? 0 : HLX_EXIT_FAILED;
	cli_lines_close(&r);
	hlx_lookup_free(lk);
	return ret;
}
