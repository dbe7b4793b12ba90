/* SPDX-License-Identifier: MIT */
/* hlx import: a bulk add from CSV or JSON Lines, as one version. */
#include "node/cli/cmds.h"
#include "node/lists.h"
#include "protocol/csv.h"
#include "protocol/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_IN (256 * 1024)

enum { F_AUTO, F_CSV, F_JSONL };

struct import {
	const char *path;
	int format, skip_invalid, header, progress;
	int cols[HLX_CSV_COLS_MAX], ncols;
	struct hlx_changeset *cs;
	struct hlx_entry *e;
	size_t rows, skipped;
};

/* The format from --format, else from the file's name, else (F_AUTO)
 * from its first line. */
static int import_format(const char *fmt, const char *path)
{
	size_t pl = strlen(path);

	if (fmt)
		return !strcmp(fmt, "csv") ? F_CSV : F_JSONL;
	if (pl > 4 && !strcmp(path + pl - 4, ".csv"))
		return F_CSV;
	if ((pl > 6 && !strcmp(path + pl - 6, ".jsonl")) ||
	    (pl > 7 && !strcmp(path + pl - 7, ".ndjson")))
		return F_JSONL;
	return F_AUTO;
}

/* One row into the changeset; 1 for the CSV header (whose error stops
 * the import even with --skip-invalid). */
static int import_row(struct import *im, char *line, size_t len)
{
	int rc;

	if (im->format == F_CSV && !im->header) {
		rc = hlx_csv_header(line, im->cols, &im->ncols);
		im->header = 1;
		return rc ? rc : 1;
	}
	im->rows++;
	rc = im->format == F_CSV ? hlx_csv_entry(line, im->cols, im->ncols, im->e) :
	     hlx_entry_from_json(line, len, im->e);
	return rc ? rc : hlx_changeset_put(im->cs, im->e);
}

/* Every line of the input; an exit code, the error printed. */
static int import_read(struct import *im, struct cli_lines *r)
{
	char *line;
	size_t len;
	int rc;

	while ((rc = cli_lines_next(r, &line, &len)) != 0) {
		if (rc == HLX_EIO)
			return cli_fail(rc, "cannot read '%s'", im->path);
		if (rc > 0 && len == 0)
			continue;
		if (rc > 0) {
			int header;

			if (im->format == F_AUTO)
				im->format = line[0] == '{' ? F_JSONL : F_CSV;
			header = im->format == F_CSV && !im->header;

			rc = import_row(im, line, len);
			if (rc == 1)
				continue;
			if (rc && header)
				return cli_fail(rc, "cannot import '%s' line %zu",
						im->path, r->lineno);
		}
		if (rc && (!im->skip_invalid || rc == HLX_ENOMEM)) {
			cli_fail(rc, "cannot import '%s' line %zu", im->path, r->lineno);
			fprintf(stderr, "hlx: nothing was imported (use --skip-invalid to import the valid rows)\n");
			return cli_exit_code(rc);
		}
		if (rc) {
			fprintf(stderr, "hlx: skipped '%s' line %zu: %s\n", im->path,
				r->lineno, hlx_err_detail());
			im->skipped++;
		}
		if (im->progress && (r->lineno & 0xffff) == 0)
			fprintf(stderr, "\rhlx: import: %zu lines read", r->lineno);
	}
	if (im->progress && r->lineno > 0xffff)
		fprintf(stderr, "\rhlx: import: %zu lines read, writing the version\n",
			r->lineno);
	if (im->format == F_CSV && !im->header) {
		cli_fail(hlx_err(HLX_EINVAL, "no header"), "cannot import '%s'", im->path);
		fprintf(stderr, "hlx: a CSV file needs a header line\n");
		return HLX_EXIT_INVALID;
	}
	return 0;
}

static int import_apply(struct hlx_cli *cli, const char *list, struct import *im)
{
	struct hlx_apply_result r;
	char summary[64];
	int rc;

	snprintf(summary, sizeof(summary), "import of %zu rows", im->rows - im->skipped);
	rc = hlx_list_apply(cli->node, list, im->cs, summary, cli_getpass, cli,
			    cli->now, &r);
	if (rc)
		return cli_fail(rc, "cannot import into list '%s'", list);
	fprintf(stderr, "hlx: read %zu %s, %zu skipped\n", im->rows,
		cli_noun(im->rows, "row", "rows"), im->skipped);
	if (!r.changed)
		fprintf(stderr, "hlx: list '%s' unchanged at version %" PRIu64
			" (%" PRIu64 " %s)\n", list, r.version, r.count,
			cli_noun(r.count, "entry", "entries"));
	else
		fprintf(stderr, "hlx: list '%s' version %" PRIu64 ": %" PRIu64
			" added, %" PRIu64 " updated, %" PRIu64 " unchanged, %" PRIu64
			" duplicates merged; %" PRIu64 " %s\n", list,
			r.version, r.added, r.updated, r.unchanged, r.merged,
			r.count, cli_noun(r.count, "entry", "entries"));
	return 0;
}

int cmd_import(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *list = a->argv[0];
	struct import im = { 0 };
	struct cli_lines r = { 0 };
	struct hlx_list_rec rec;
	int rc, ret;

	im.path = a->argv[1];
	im.format = import_format(cli_text(a, "format"), im.path);
	im.skip_invalid = cli_given(a, "skip-invalid") != 0;
	im.progress = isatty(STDERR_FILENO);
	/* Check the list before reading a large input. */
	rc = hlx_list_get(cli->node, list, &rec);
	if (rc)
		return cli_fail(rc, "cannot import into list '%s'", list);
	cli_bulk_memory(1);
	rc = cli_lines_open(&r, im.path, LINE_MAX_IN);
	if (!rc && !(im.e = malloc(sizeof(*im.e))))
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	if (!rc)
		rc = hlx_changeset_new(&im.cs);
	ret = rc ? cli_fail(rc, "cannot import") : import_read(&im, &r);
	if (!ret)
		ret = import_apply(cli, list, &im);
	cli_lines_close(&r);
	free(im.e);
	hlx_changeset_free(im.cs);
	return ret;
}
