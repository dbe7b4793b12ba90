/* SPDX-License-Identifier: MIT */
/*
 * What every hlx command shares: the command table's row, the options it
 * parses, error reporting with the exit codes documented in hlx(1),
 * passphrases and file reading.
 *
 * One row of the table (node/cli/table.c) is a command or a subcommand
 * ("peer add"): its function, what it needs opened, its own options, its
 * operands, its usage line, its summary and its group in 'hlx --help'.
 * cli_run (node/cli/dispatch.c) resolves the row, parses that row's
 * options and nothing else, checks the operands, opens what the row needs
 * (the node read-only, or with the writer lock) and calls the function
 * with it.  A command never parses argv nor opens the node itself.
 */
#ifndef HLX_CLI_H
#define HLX_CLI_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol/buf.h"

/* Exit codes (hlx(1), EXIT STATUS). */
enum {
	HLX_EXIT_OK = 0,
	HLX_EXIT_FAILED = 1,  /* a verification or check did not hold */
	HLX_EXIT_USAGE = 2,   /* bad command line */
	HLX_EXIT_INVALID = 3, /* malformed or unsupported input */
	HLX_EXIT_NOENT = 4,   /* not found, already exists, wrong state */
	HLX_EXIT_KEY = 5,     /* passphrase or key-file permission problem */
	HLX_EXIT_SYSTEM = 6,  /* I/O, memory, library failure */
	HLX_EXIT_POLICY = 7,  /* refused by a sharing policy */
};

/* ---- the command table -------------------------------------------------- */

/* What an option's argument is; a value outside it is a usage error that
 * names the option and what it accepts. */
enum cli_kind {
	CLI_FLAG,     /* no argument */
	CLI_TEXT,     /* any text; the last one given counts */
	CLI_LIST,     /* any text, repeatable: every one is kept */
	CLI_UINT,     /* a whole number from min to max (or a word of choices) */
	CLI_CHOICE,   /* one of the words of choices */
	CLI_TIME,     /* an RFC 3339 time */
};

struct cli_opt {
	const char *name;     /* long name, without "--"; NULL ends a row's */
	char shortname;       /* -x, or 0 */
	enum cli_kind kind;
	const char *arg;      /* the argument in usage texts: "N", "FILE" */
	const char *expect;   /* CLI_UINT: "whole seconds" in "expected whole
				 seconds 1..86400" */
	uint64_t min, max;    /* CLI_UINT */
	const char *choices;  /* CLI_CHOICE, or CLI_UINT's words: "csv|jsonl" */
};

/* What a row needs opened before its function runs; the table opens it
 * (cli->node, cli->homeh) and closes it after. */
enum cli_needs {
	CLI_NOTHING,     /* nothing: the command opens nothing of the node
			    (init, verify) or a node per round (run) */
	CLI_HOME,        /* the home's identity and trust (hlx_home_open) */
	CLI_NODE_RO,     /* the node, read-only */
	CLI_NODE_RW,     /* the node with the writer lock */
	CLI_NODE_RW_OPT, /* read-only, with the writer lock when any of the
			    row's own options is given (match config) */
};

/* The sections of 'hlx --help'. */
enum cli_group {
	CLI_G_IDENTITY,
	CLI_G_LISTS,
	CLI_G_MATCHING,
	CLI_G_FEDERATION,
	CLI_G_POLICIES,
	CLI_G_TAKEDOWN,
	CLI_G_HIDDEN,    /* help, completion: not listed */
	CLI_G_N,
};

#define CLI_OPTS_MAX 16
#define CLI_ANY (-1)   /* max_args: no limit */

struct hlx_cli;
struct cli_args;

struct hlx_cmd {
	const char *name;
	const char *sub;      /* subcommand, or NULL: the command itself (a
				 command may have both: 'match FILE' and
				 'match config') */
	int (*fn)(struct hlx_cli *cli, const struct cli_args *a);
	enum cli_needs needs;
	int min_args, max_args;      /* operands */
	const struct cli_opt *opts;  /* its own options, or NULL */
	const char *usage;    /* what follows "hlx NAME [SUB] " */
	const char *summary;  /* first line: the one 'hlx --help' shows */
	enum cli_group group;
};

extern const struct hlx_cmd cli_table[];
extern const size_t cli_table_n;

/* A row's parsed command line, given to its function. */
struct cli_args {
	const struct hlx_cmd *row;
	int argc;             /* operands, options removed */
	char **argv;
	unsigned given[CLI_OPTS_MAX];      /* times each option was given */
	const char *text[CLI_OPTS_MAX];    /* its last argument */
	uint64_t num[CLI_OPTS_MAX];        /* CLI_UINT, when a number */
	int64_t time[CLI_OPTS_MAX];        /* CLI_TIME */
	const char **all[CLI_OPTS_MAX];    /* CLI_LIST: every argument */
};

/* By the option's long name (one of the row's own): how often it was
 * given; its argument (or NULL); as a number or a time, or dflt if it was
 * not given (or, for a CLI_UINT, was one of its words); every argument of
 * a CLI_LIST (count in *n). */
unsigned cli_given(const struct cli_args *a, const char *name);
const char *cli_text(const struct cli_args *a, const char *name);
uint64_t cli_num(const struct cli_args *a, const char *name, uint64_t dflt);
int64_t cli_time(const struct cli_args *a, const char *name, int64_t dflt);
const char *const *cli_all(const struct cli_args *a, const char *name,
			   size_t *n);

/* ---- running a command -------------------------------------------------- */

struct hlx_node;
struct hlx_home;

struct hlx_cli {
	const struct hlx_cmd *cmd; /* the row being run */
	const char *home;       /* --home, HLX_HOME or ~/.hlx (resolved by
				   cli_run when NULL) */
	const char *home_opt;   /* --home as given, or NULL */
	const char *pass_file;  /* --passphrase-file or HLX_PASSPHRASE_FILE */
	int no_passphrase;      /* --no-passphrase */
	int64_t now;            /* the time used for validity checks */
	int now_fixed;          /* now is HLX_NOW, not the clock */
	long timeout_s;         /* HLX_TIMEOUT: seconds a whole transfer may
				   take, 0 for the default */
	struct hlx_node *node;  /* CLI_NODE_*: opened by the table */
	struct hlx_home *homeh; /* CLI_HOME: opened by the table */
};

/* Run argv[0] (a command name) with the rest of argv: resolve the row,
 * parse its options, open what it needs, call it; returns the exit code.
 * Prints the help of a row for --help, without a node home. */
int cli_run(struct hlx_cli *cli, int argc, char **argv);

/* The general help (hlx --help) on f. */
void cli_usage_all(FILE *f);

/* Compact the state of the node the table opened and close it, under the
 * writer lock (after a prune or purge); cli->node is NULL afterwards. */
int cli_compact(struct hlx_cli *cli, uint64_t *before, uint64_t *after);

/* Suggest the nearest of n candidates (cand(ctx, i)) to what was typed,
 * or NULL when none is near: optimal string alignment distance. */
const char *cli_nearest(const char *typed, size_t n,
			const char *(*cand)(const void *ctx, size_t i),
			const void *ctx);

/* ---- messages ----------------------------------------------------------- */

/* "entry" or "entries" after a count: one when n is 1, else many. */
static inline const char *cli_noun(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Print "hlx: <what>: <detail of rc>" on stderr; returns the exit code. */
int cli_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "hlx: <message>" and the usage line; returns HLX_EXIT_USAGE. */
int cli_usage(const struct hlx_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_exit_code(int rc);

/* Print the --help text of a row on stdout. */
int cli_help(const struct hlx_cmd *cmd);

/* ---- output ------------------------------------------------------------- */

/* Write b to standard output once it holds 64 KiB, or whatever it holds
 * when force is set, and empty it: HLX_OK, or HLX_EIO. */
int cli_flush_out(struct hlx_buf *b, int force);
/* How long before now t was, in words ("never" for t <= 0, "42s ago",
 * "5m ago", "3h ago"; past two days "4 days ago" when days is set, hours
 * otherwise). */
void cli_ago(char *out, size_t n, int64_t now, int64_t t, int days);

/* ---- input -------------------------------------------------------------- */

/* Without the white space and line ends around it, as pasted keys, URLs
 * and words come: s itself, cut at the end, or a pointer into it. */
char *cli_trim(char *s);
/* The same in place for what a file held (a key file); b stays
 * NUL-terminated when it was. */
void cli_trim_buf(struct hlx_buf *b);

/* An RFC 3339 time, or a date alone (2026-12-03) for the start of that
 * day, UTC: HLX_OK, or an error of hlx_time_parse. */
int cli_parse_time(const char *s, int64_t *out);

/* A whole number from min to max, digits only (no sign, no space):
 * HLX_OK, or HLX_EINVAL with no detail set. */
int cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A UTF-8 byte order mark: skipped at the start of every input read. */
#define CLI_BOM "\xef\xbb\xbf"

/* Lines of a file or standard input, for import, lookup and match: at
 * most max bytes a line (the memory it takes), without its "\n" or
 * "\r\n", nor a byte order mark before the first. */
struct cli_lines {
	FILE *in;
	size_t max, lineno;   /* lineno: of the line last read */
	char *buf;            /* max + 1 bytes */
};

/* Open path ("-": standard input) for reading lines of at most max bytes.
 * On failure the error says what could not be opened. */
int cli_lines_open(struct cli_lines *r, const char *path, size_t max);
/* The next line into *line (NUL-terminated, valid until the next call)
 * and *len: 1; 0 at the end; or a negative error for this line only (too
 * long: HLX_ETOOBIG, a NUL byte: HLX_EINVAL; reading goes on with the
 * next) or for the input (HLX_EIO). */
int cli_lines_next(struct cli_lines *r, char **line, size_t *len);
void cli_lines_close(struct cli_lines *r);

/* Set the C library's allocator up for a command that holds a few
 * hundred MiB in many blocks (import, publish): large blocks from the
 * heap, the main heap in huge pages where the system gives them, nothing
 * given back before the process ends; with one_heap, every thread
 * allocates from the main heap (import: what one thread allocates another
 * frees), else each keeps its own (publish: views are made on two
 * threads, which would wait on each other for one).  A choice of speed:
 * without it, or where it cannot be made, everything works the same; but
 * where the system commits no memory ahead (vm.overcommit_memory=2) each
 * heap's growth by 512 MiB is counted in full. */
void cli_bulk_memory(int one_heap);

/* Obtain a passphrase for what (e.g. "the root key of 'uk-iwf'") into a
 * secure buffer: from the passphrase file, else from the terminal (asked
 * twice when confirm is set).  Never from an argument. */
int cli_passphrase(const struct hlx_cli *cli, const char *what, int confirm,
		   struct hlx_buf *pass);

/* cli_passphrase as the hlx_pass_fn the node home takes (ctx: the cli). */
int cli_getpass(void *ctx, const char *what, int confirm, struct hlx_buf *pass);

/* Read a file, or standard input for "-", at most max bytes. */
int cli_read_file(const char *path, size_t max, struct hlx_buf *out);
/* A public key given as an OpenSSH line or as a file holding one. */
struct hlx_pubkey;
int cli_load_pubkey(const char *arg, struct hlx_pubkey *out);

/* The node home: dir (--home; "" is an error), else $HLX_HOME, else
 * ~/.hlx.  The result is malloc'd; the engines take the path resolved. */
int cli_home_resolve(const char *dir, char **out);
/* HLX_HOME is set (and not empty). */
int cli_home_from_env(void);
/* dir holds a node home's config.json (or cannot tell: not ENOENT). */
int cli_home_exists(const char *dir);

/* The publish directory: the option's value (opt, may be NULL) if given,
 * else the one the node's settings (hlx.conf) name, else HOME/publish. */
int cli_publish_dir(const struct hlx_cli *cli, const char *opt,
		    char out[PATH_MAX]);

/* Write a file atomically (temporary file, fsync, rename) with mode. */
int cli_write_file(const char *path, const void *p, size_t n, unsigned mode);

#endif
