/* SPDX-License-Identifier: MIT */
/*
 * The command table at work: resolving "peer add", parsing that row's
 * options (and no other's), checking its operands, opening what it needs,
 * and the texts generated from the table: help, 'hlx help --options' and
 * the bash completion.
 */
#include "node/cli/cmds.h"
#include "node/home.h"
#include "node/lists.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const group_names[CLI_G_N] = {
	"Identity", "Lists", "Matching", "Federation", "Policies",
	"Takedown", NULL,
};

/* ---- rows --------------------------------------------------------------- */

static int has_subs(const char *name)
{
	for (size_t i = 0; i < cli_table_n; i++)
		if (!strcmp(cli_table[i].name, name) && cli_table[i].sub)
			return 1;
	return 0;
}

static const struct hlx_cmd *find_row(const char *name, const char *sub)
{
	for (size_t i = 0; i < cli_table_n; i++) {
		const struct hlx_cmd *r = &cli_table[i];

		if (!strcmp(r->name, name) &&
		    (sub ? r->sub && !strcmp(r->sub, sub) : !r->sub))
			return r;
	}
	return NULL;
}

static int is_command(const char *name)
{
	for (size_t i = 0; i < cli_table_n; i++)
		if (!strcmp(cli_table[i].name, name))
			return 1;
	return 0;
}

/* "peer add" or "match" */
static const char *row_name(const struct hlx_cmd *r, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", r->name, r->sub ? " " : "",
		 r->sub ? r->sub : "");
	return buf;
}

static size_t nopts(const struct hlx_cmd *r)
{
	size_t n = 0;

	while (r->opts && r->opts[n].name)
		n++;
	return n;
}

/* ---- the nearest name ------------------------------------------------- */

/* Optimal string alignment distance: edits, transpositions counted once. */
static size_t osa(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[48][48];

	if (la > 46 || lb > 46)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t c = a[i - 1] != b[j - 1], v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < v)
				v = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cli_nearest(const char *typed, size_t n,
			const char *(*cand)(const void *ctx, size_t i),
			const void *ctx)
{
	size_t len = strlen(typed), best = (size_t)-1;
	size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *c = cand(ctx, i);
		/* a beginning counts as one edit away */
		size_t d = len >= 2 && !strncmp(c, typed, len) ? 1 : osa(typed, c);

		if (c && d <= limit && d < best) {
			best = d;
			pick = c;
		}
	}
	return pick;
}

static const char *cand_command(const void *ctx, size_t i)
{
	(void)ctx;
	return cli_table[i].name;
}

static const char *cand_sub(const void *ctx, size_t i)
{
	const char *name = ctx;

	return !strcmp(cli_table[i].name, name) && cli_table[i].sub ?
	       cli_table[i].sub : "";
}

/* ---- help texts ------------------------------------------------------- */

static void kind_text(const struct cli_opt *o, char *out, size_t n)
{
	switch (o->kind) {
	case CLI_UINT:
		if (o->max == UINT64_MAX) {
			snprintf(out, n, o->min ? "%s from %llu" : "%s", o->expect, (unsigned long long)o->min);
			break;
		}
		snprintf(out, n, "%s %llu..%llu%s%s", o->expect ? o->expect : "a number",
			 (unsigned long long)o->min, (unsigned long long)o->max,
			 o->choices ? " or " : "", o->choices ? o->choices : "");
		break;
	case CLI_CHOICE:
		snprintf(out, n, "%s", o->choices);
		break;
	case CLI_TIME:
		snprintf(out, n, "an RFC 3339 time, as 2026-01-02T03:04:05Z, or a date (its start, UTC)");
		break;
	default:
		out[0] = '\0';
	}
}

int cli_help(const struct hlx_cmd *r)
{
	char name[64], k[128];
	size_t no = nopts(r);

	printf("usage: hlx %s%s%s\n\n%s\n", row_name(r, name, sizeof(name)),
	       r->usage[0] ? " " : "", r->usage, r->summary);
	if (no)
		printf("\nOptions:\n");
	for (size_t i = 0; i < no; i++) {
		const struct cli_opt *o = &r->opts[i];
		char left[64];

		snprintf(left, sizeof(left), "%s%c%s--%s%s%s%s",
			 o->shortname ? "-" : "", o->shortname ? o->shortname : ' ',
			 o->shortname ? ", " : " ", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "",
			 o->kind == CLI_LIST ? "..." : "");
		kind_text(o, k, sizeof(k));
		if (k[0])
			printf("  %-30s %s\n", o->shortname ? left : left + 2, k);
		else
			printf("  %s\n", o->shortname ? left : left + 2);
	}
	return HLX_EXIT_OK;
}

/* Every row of a command with subcommands. */
static int help_command(const char *name)
{
	int first = 1;

	for (size_t i = 0; i < cli_table_n; i++) {
		if (strcmp(cli_table[i].name, name))
			continue;
		if (!first)
			printf("\n");
		cli_help(&cli_table[i]);
		first = 0;
	}
	return HLX_EXIT_OK;
}

void cli_usage_all(FILE *f)
{
	fprintf(f, "usage: hlx [--home DIR] [--passphrase-file FILE] COMMAND [SUBCOMMAND] [ARGS]\n");
	for (int g = 0; g < CLI_G_HIDDEN; g++) {
		int any = 0;

		for (size_t i = 0; i < cli_table_n; i++) {
			const struct hlx_cmd *r = &cli_table[i];
			const char *nl = strchr(r->summary, '\n');
			char name[64];

			if ((int)r->group != g)
				continue;
			if (!any)
				fprintf(f, "\n%s:\n", group_names[g]);
			any = 1;
			fprintf(f, "  %-20s %.*s\n", row_name(r, name, sizeof(name)),
				nl ? (int)(nl - r->summary) : (int)strlen(r->summary),
				r->summary);
		}
	}
	fprintf(f, "\n'hlx COMMAND [SUBCOMMAND] --help' or 'hlx help COMMAND' describes one;\n"
		   "man hlx has it all.  The node home is --home, else $HLX_HOME, else ~/.hlx.\n");
}

int cli_usage(const struct hlx_cmd *r, const char *fmt, ...)
{
	char name[64];
	va_list ap;

	fputs("hlx: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	row_name(r, name, sizeof(name));
	fprintf(stderr, "\nusage: hlx %s%s%s\n(see 'hlx %s --help')\n", name,
		r->usage[0] ? " " : "", r->usage, name);
	return HLX_EXIT_USAGE;
}

/* ---- machine interfaces ------------------------------------------------ */

/* One line a row (and a line for a command with only subcommands):
 * "NAME[ SUB]<TAB>--opt --opt". */
static void print_options(void)
{
	for (size_t i = 0; i < cli_table_n; i++) {
		const struct hlx_cmd *r = &cli_table[i];
		char name[64];

		if (r->sub && (i == 0 || strcmp(cli_table[i - 1].name, r->name)) &&
		    !find_row(r->name, NULL))
			printf("%s\t--help\n", r->name);
		printf("%s\t--help", row_name(r, name, sizeof(name)));
		for (size_t j = 0; j < nopts(r); j++)
			printf(" --%s", r->opts[j].name);
		printf("\n");
	}
}

static void print_completion(void)
{
	printf("# bash completion for hlx, generated by 'hlx completion bash'\n"
	       "_hlx()\n{\n"
	       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} i=1 cmd= sub= subs= opts=\n"
	       "\tCOMPREPLY=()\n"
	       "\twhile [ $i -lt $COMP_CWORD ]; do\n"
	       "\t\tcase ${COMP_WORDS[i]} in\n"
	       "\t\t--home|--passphrase-file) i=$((i + 2)) ;;\n"
	       "\t\t-*) i=$((i + 1)) ;;\n"
	       "\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n"
	       "\t\tesac\n"
	       "\tdone\n"
	       "\tif [ -z \"$cmd\" ]; then\n"
	       "\t\tcase $cur in\n"
	       "\t\t-*) COMPREPLY=($(compgen -W '--home --passphrase-file --help --version' -- \"$cur\")) ;;\n"
	       "\t\t*) COMPREPLY=($(compgen -W '");
	for (size_t i = 0; i < cli_table_n; i++)
		if (i == 0 || strcmp(cli_table[i - 1].name, cli_table[i].name))
			printf("%s%s", i ? " " : "", cli_table[i].name);
	printf("' -- \"$cur\")) ;;\n"
	       "\t\tesac\n"
	       "\t\treturn\n"
	       "\tfi\n"
	       "\tcase $cmd in\n");
	for (size_t i = 0; i < cli_table_n; i++) {
		const struct hlx_cmd *r = &cli_table[i];

		if (!r->sub || (i && !strcmp(cli_table[i - 1].name, r->name) &&
				cli_table[i - 1].sub))
			continue;
		printf("\t%s) subs='", r->name);
		for (size_t j = i; j < cli_table_n && !strcmp(cli_table[j].name, r->name); j++)
			if (cli_table[j].sub)
				printf("%s%s", j > i ? " " : "", cli_table[j].sub);
		printf("' ;;\n");
	}
	printf("\tesac\n"
	       "\tif [ -n \"$subs\" ] && [ $((i + 1)) -lt $COMP_CWORD ]; then\n"
	       "\t\tcase \" $subs \" in *\" ${COMP_WORDS[i + 1]} \"*) sub=${COMP_WORDS[i + 1]} ;; esac\n"
	       "\tfi\n"
	       "\tcase \"$cmd${sub:+ $sub}\" in\n");
	for (size_t i = 0; i < cli_table_n; i++) {
		const struct hlx_cmd *r = &cli_table[i];
		char name[64];

		printf("\t\"%s\") opts='--help", row_name(r, name, sizeof(name)));
		for (size_t j = 0; j < nopts(r); j++)
			printf(" --%s", r->opts[j].name);
		printf("' ;;\n");
	}
	printf("\t*) opts='--help' ;;\n"
	       "\tesac\n"
	       "\tcase $cur in\n"
	       "\t-*) COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")) ;;\n"
	       "\t*) if [ -n \"$subs\" ] && [ -z \"$sub\" ] && [ $((i + 1)) -eq $COMP_CWORD ]; then\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
	       "\t   fi ;;\n"
	       "\tesac\n"
	       "}\n"
	       "complete -o bashdefault -o default -F _hlx hlx\n");
}

int cmd_help(struct hlx_cli *cli, const struct cli_args *a)
{
	const struct hlx_cmd *r;
	const char *near;

	if (cli_given(a, "options")) {
		if (a->argc)
			return cli_usage(cli->cmd, "--options takes no operand");
		print_options();
		return HLX_EXIT_OK;
	}
	if (a->argc == 0) {
		cli_usage_all(stdout);
		return HLX_EXIT_OK;
	}
	if (!is_command(a->argv[0])) {
		near = cli_nearest(a->argv[0], cli_table_n, cand_command, NULL);
		return cli_usage(cli->cmd, "unknown command '%s'%s%s%s", a->argv[0],
				 near ? ": did you mean '" : "", near ? near : "",
				 near ? "'?" : "");
	}
	if (a->argc == 1)
		return (r = find_row(a->argv[0], NULL)) && !has_subs(a->argv[0]) ?
		       cli_help(r) : help_command(a->argv[0]);
	r = find_row(a->argv[0], a->argv[1]);
	if (!r) {
		near = cli_nearest(a->argv[1], cli_table_n, cand_sub, a->argv[0]);
		return cli_usage(cli->cmd, "unknown %s command '%s'%s%s%s", a->argv[0],
				 a->argv[1], near ? ": did you mean '" : "",
				 near ? near : "", near ? "'?" : "");
	}
	return cli_help(r);
}

int cmd_completion(struct hlx_cli *cli, const struct cli_args *a)
{
	if (strcmp(a->argv[0], "bash"))
		return cli_usage(cli->cmd, "shell '%s': only bash is supported",
				 a->argv[0]);
	print_completion();
	return HLX_EXIT_OK;
}

/* ---- option values ----------------------------------------------------- */

static int opt_index(const struct hlx_cmd *r, const char *name)
{
	for (size_t i = 0; i < nopts(r); i++)
		if (!strcmp(r->opts[i].name, name))
			return (int)i;
	return -1;
}

static int idx(const struct cli_args *a, const char *name)
{
	return a->row ? opt_index(a->row, name) : -1;
}

unsigned cli_given(const struct cli_args *a, const char *name)
{
	int i = idx(a, name);

	return i < 0 ? 0 : a->given[i];
}

const char *cli_text(const struct cli_args *a, const char *name)
{
	int i = idx(a, name);

	return i < 0 || !a->given[i] ? NULL : a->text[i];
}

uint64_t cli_num(const struct cli_args *a, const char *name, uint64_t dflt)
{
	int i = idx(a, name);
	const struct cli_opt *o = i < 0 ? NULL : &a->row->opts[i];

	if (i < 0 || !a->given[i])
		return dflt;
	/* a word of a CLI_UINT (threshold 'default') is not a number */
	if (o->choices && (a->text[i][0] < '0' || a->text[i][0] > '9'))
		return dflt;
	return a->num[i];
}

int64_t cli_time(const struct cli_args *a, const char *name, int64_t dflt)
{
	int i = idx(a, name);

	return i < 0 || !a->given[i] ? dflt : a->time[i];
}

const char *const *cli_all(const struct cli_args *a, const char *name,
			   size_t *n)
{
	int i = idx(a, name);

	*n = i < 0 ? 0 : a->given[i];
	return i < 0 || !a->all[i] ? NULL : a->all[i];
}

/* "csv|jsonl" as "csv or jsonl" */
static void choices_text(const char *c, char *out, size_t n)
{
	const char *last = strrchr(c, '|');
	size_t k = 0;

	for (const char *p = c; *p && k + 6 < n; p++) {
		if (*p != '|') {
			out[k++] = *p;
		} else if (p == last) {
			memcpy(out + k, " or ", 4);
			k += 4;
		} else {
			memcpy(out + k, ", ", 2);
			k += 2;
		}
	}
	out[k] = '\0';
}

static int word_in(const char *word, const char *choices)
{
	size_t n = strlen(word);

	for (const char *p = choices; p && *p;) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && !strncmp(p, word, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* Check and keep the argument v of option i. */
static int take_value(const struct hlx_cmd *r, size_t i, const char *v,
		      struct cli_args *a, int argc)
{
	const struct cli_opt *o = &r->opts[i];
	char want[160];

	a->given[i]++;
	/* white space and line ends pasted around a key, URL or word; v
	 * is in argv, the program's own writable strings */
	if (v)
		v = cli_trim((char *)(uintptr_t)v);
	a->text[i] = v;
	switch (o->kind) {
	case CLI_FLAG:
	case CLI_TEXT:
		return 0;
	case CLI_LIST:
		if (!a->all[i] && !(a->all[i] = calloc((size_t)argc + 1,
						       sizeof(*a->all[i]))))
			return cli_fail(HLX_ENOMEM, "out of memory");
		a->all[i][a->given[i] - 1] = v;
		return 0;
	case CLI_UINT:
		if ((o->choices && word_in(v, o->choices)) ||
		    cli_parse_uint(v, o->min, o->max, &a->num[i]) == HLX_OK)
			return 0;
		break;
	case CLI_CHOICE:
		if (word_in(v, o->choices))
			return 0;
		break;
	case CLI_TIME:
		if (cli_parse_time(v, &a->time[i]) == HLX_OK)
			return 0;
		break;
	}
	if (o->kind == CLI_CHOICE) {
		choices_text(o->choices, want, sizeof(want));
	} else if (o->kind == CLI_UINT && o->choices) {
		char w[64];

		choices_text(o->choices, w, sizeof(w));
		snprintf(want, sizeof(want), "%s %llu..%llu or %s", o->expect,
			 (unsigned long long)o->min, (unsigned long long)o->max, w);
	} else {
		kind_text(o, want, sizeof(want));
	}
	return cli_usage(r, "--%s: expected %s, got '%.60s'", o->name, want, v);
}

/* ---- parsing a row's command line ------------------------------------ */

static const char *cand_opt(const void *ctx, size_t i)
{
	const struct hlx_cmd *r = ctx;
	size_t n = nopts(r);

	return i < n ? r->opts[i].name : i == n ? "help" : "passphrase-file";
}

/* '--key' given to 'peer ls': name it, and where it belongs. */
static int bad_option(const struct hlx_cmd *r, const char *given, size_t len)
{
	char name[64], other[64], opt[64];
	const char *near;

	snprintf(opt, sizeof(opt), "%.*s", (int)(len < 60 ? len : 60), given);
	for (size_t i = 0; i < cli_table_n; i++) {
		const struct hlx_cmd *o = &cli_table[i];

		if (o == r || strcmp(o->name, r->name) || opt_index(o, opt) < 0)
			continue;
		return cli_usage(r, "'%s' has no option '--%s': it is an option of '%s'",
				 row_name(r, name, sizeof(name)), opt,
				 row_name(o, other, sizeof(other)));
	}
	near = cli_nearest(opt, nopts(r) + 2, cand_opt, r);
	if (near)
		return cli_usage(r, "unknown option '--%s': did you mean '--%s'?",
				 opt, near);
	return cli_usage(r, "unknown option '--%s' for '%s'", opt,
			 row_name(r, name, sizeof(name)));
}

/* The row's option for "--name" (exact, else a unique beginning, as
 * getopt_long takes it); -2 for --help, -3 for --passphrase-file, -1 for
 * none (the error printed). */
static int long_option(const struct hlx_cmd *r, const char *s, size_t len)
{
	size_t n = nopts(r), hits = 0;
	int pick = -1;

	for (size_t i = 0; i < n + 2; i++) {
		const char *c = cand_opt(r, i);

		if (strlen(c) == len && !strncmp(c, s, len))
			return i < n ? (int)i : i == n ? -2 : -3;
	}
	for (size_t i = 0; i < n + 2; i++) {
		if (!strncmp(cand_opt(r, i), s, len)) {
			hits++;
			pick = i < n ? (int)i : i == n ? -2 : -3;
		}
	}
	if (hits == 1 && len >= 2)
		return pick;
	bad_option(r, s, len);
	return -1;
}

static int short_option(const struct hlx_cmd *r, char c)
{
	if (c == 'h')
		return -2;
	for (size_t i = 0; i < nopts(r); i++)
		if (r->opts[i].shortname == c)
			return (int)i;
	cli_usage(r, "unknown option '-%c'", c);
	return -1;
}

/* Options anywhere among the operands, "--" ending them (GNU getopt's
 * order); operands are kept in a->argv. */
static int parse_row(struct hlx_cli *cli, const struct hlx_cmd *r, int argc,
		     char **argv, struct cli_args *a)
{
	int only_operands = 0;

	for (int i = 0; i < argc; i++) {
		const char *s = argv[i], *v = NULL, *eq;
		int k, has_v = 0;

		if (only_operands || s[0] != '-' || !s[1]) {
			a->argv[a->argc++] = argv[i];
			continue;
		}
		if (!strcmp(s, "--")) {
			only_operands = 1;
			continue;
		}
		if (s[1] == '-') {
			eq = strchr(s + 2, '=');
			k = long_option(r, s + 2, eq ? (size_t)(eq - s - 2) : strlen(s + 2));
			if (eq) {
				v = eq + 1;
				has_v = 1;
			}
		} else {
			k = short_option(r, s[1]);
			if (s[2]) {
				v = s + 2;
				has_v = 1;
			}
		}
		if (k == -1)
			return HLX_EXIT_USAGE;
		if (k == -2) {
			if (has_v)
				return cli_usage(r, "--help takes no argument");
			continue; /* seen by cli_run already */
		}
		if (k >= 0 && r->opts[k].kind == CLI_FLAG) {
			if (has_v)
				return cli_usage(r, "--%s takes no argument, got '%.60s'",
						 r->opts[k].name, v);
			take_value(r, (size_t)k, NULL, a, argc);
			continue;
		}
		if (!has_v) {
			if (i + 1 >= argc)
				return cli_usage(r, "--%s: expected %s, got nothing",
						 k >= 0 ? r->opts[k].name : "passphrase-file",
						 k >= 0 && r->opts[k].arg ? r->opts[k].arg : "FILE");
			v = argv[++i];
		}
		if (k == -3)
			cli->pass_file = v;
		else if (take_value(r, (size_t)k, v, a, argc))
			return HLX_EXIT_USAGE;
	}
	return 0;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/* The row of argv[0] [argv[1]]; *used is how many words named it. */
static int resolve(int argc, char **argv, const struct hlx_cmd **out, int *used)
{
	const char *name = argv[0], *near;
	const struct hlx_cmd *bare = find_row(name, NULL);

	*out = NULL;
	if (!is_command(name)) {
		near = cli_nearest(name, cli_table_n, cand_command, NULL);
		fprintf(stderr, "hlx: unknown command '%s'%s%s%s\n", name,
			near ? ": did you mean '" : "", near ? near : "",
			near ? "'?" : "");
		fprintf(stderr, "(see 'hlx --help')\n");
		return HLX_EXIT_USAGE;
	}
	*used = 1;
	if (!has_subs(name)) {
		*out = bare;
		return 0;
	}
	if (argc > 1 && (*out = find_row(name, argv[1]))) {
		*used = 2;
		return 0;
	}
	/* 'match FILE': a command that is a row itself takes its operands */
	if ((*out = bare) || wants_help(argc - 1, argv + 1))
		return 0;
	if (argc < 2 || argv[1][0] == '-') {
		char subs[256] = "";

		for (size_t i = 0; i < cli_table_n; i++)
			if (!strcmp(cli_table[i].name, name) && cli_table[i].sub)
				snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs),
					 "%s%s", subs[0] ? ", " : "", cli_table[i].sub);
		fprintf(stderr, "hlx: which %s command? (%s)\n(see 'hlx %s --help')\n",
			name, subs, name);
		return HLX_EXIT_USAGE;
	}
	near = cli_nearest(argv[1], cli_table_n, cand_sub, name);
	fprintf(stderr, "hlx: unknown %s command '%s'%s%s%s\n(see 'hlx %s --help')\n",
		name, argv[1], near ? ": did you mean '" : "", near ? near : "",
		near ? "'?" : "", name);
	return HLX_EXIT_USAGE;
}

static int open_needs(struct hlx_cli *cli, const struct hlx_cmd *r,
		      const struct cli_args *a)
{
	int rc = HLX_OK, lock = r->needs == CLI_NODE_RW;

	if (r->needs == CLI_NODE_RW_OPT)
		for (size_t i = 0; i < nopts(r); i++)
			lock |= a->given[i] != 0;
	switch (r->needs) {
	case CLI_NOTHING:
		return 0;
	case CLI_HOME:
		rc = hlx_home_open(cli->home, &cli->homeh);
		break;
	default:
		rc = hlx_node_open(cli->home, lock, &cli->node);
	}
	/* none given and none at ~/.hlx: say how to name one first */
	if (rc == HLX_ENOENT && !cli->home_opt && !cli_home_from_env() &&
	    !cli_home_exists(cli->home))
		return cli_fail(rc, "no node home: give --home DIR or set HLX_HOME");
	return rc ? cli_fail(rc, "cannot open node home '%s'", cli->home) : 0;
}

int cli_compact(struct hlx_cli *cli, uint64_t *before, uint64_t *after)
{
	int rc = hlx_node_compact_free(cli->node, before, after);

	cli->node = NULL;
	return rc;
}

int cli_run(struct hlx_cli *cli, int argc, char **argv)
{
	const struct hlx_cmd *r;
	struct cli_args a;
	char *resolved = NULL, name[64];
	int used, ret;

	memset(&a, 0, sizeof(a));
	ret = resolve(argc, argv, &r, &used);
	if (ret)
		return ret;
	if (wants_help(argc - used, argv + used))
		return r && (used == 2 || !has_subs(r->name)) ? cli_help(r) :
		       help_command(argv[0]);
	cli->cmd = r;
	a.row = r;
	a.argv = calloc((size_t)argc + 1, sizeof(*a.argv));
	if (!a.argv)
		return cli_fail(HLX_ENOMEM, "out of memory");
	ret = parse_row(cli, r, argc - used, argv + used, &a);
	if (!ret && (a.argc < r->min_args ||
		     (r->max_args != CLI_ANY && a.argc > r->max_args))) {
		if (r->min_args == r->max_args)
			ret = cli_usage(r, "'%s' takes %d operand%s, got %d",
					row_name(r, name, sizeof(name)), r->min_args,
					r->min_args == 1 ? "" : "s", a.argc);
		else if (r->max_args == CLI_ANY)
			ret = cli_usage(r, "'%s' takes at least %d operand%s, got %d",
					row_name(r, name, sizeof(name)), r->min_args,
					r->min_args == 1 ? "" : "s", a.argc);
		else
			ret = cli_usage(r, "'%s' takes %d to %d operands, got %d",
					row_name(r, name, sizeof(name)), r->min_args,
					r->max_args, a.argc);
	}
	if (!ret && !cli->home && r->group != CLI_G_HIDDEN) {
		int rc = cli_home_resolve(cli->home_opt, &resolved);

		if (rc)
			ret = cli_fail(rc, "cannot find the node home");
		cli->home = resolved;
	}
	if (!ret)
		ret = open_needs(cli, r, &a);
	if (!ret)
		ret = r->fn(cli, &a);
	hlx_node_free(cli->node);
	hlx_home_free(cli->homeh);
	cli->node = NULL;
	cli->homeh = NULL;
	if (resolved) {
		cli->home = NULL;
		free(resolved);
	}
	for (int i = 0; i < CLI_OPTS_MAX; i++)
		free(a.all[i]);
	free(a.argv);
	return ret;
}
