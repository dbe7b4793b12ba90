/* SPDX-License-Identifier: MIT */
/*
 * What every hlx subcommand shares: the global options, error reporting
 * with the exit codes documented in hlx(1), passphrases and file reading.
 */
#ifndef HLX_CLI_H
#define HLX_CLI_H

#include <stddef.h>
#include <stdint.h>

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

struct hlx_cmd;

struct hlx_cli {
	const struct hlx_cmd *cmd; /* the subcommand being run */
	const char *home;       /* --home, HLX_HOME or ~/.hlx */
	const char *pass_file;  /* --passphrase-file or HLX_PASSPHRASE_FILE */
	int no_passphrase;      /* --no-passphrase */
	int64_t now;            /* the time used for validity checks */
	long timeout_s;         /* HLX_TIMEOUT: seconds a whole transfer may
				   take (0: the default) */
};

typedef int (*hlx_cmd_fn)(struct hlx_cli *cli, int argc, char **argv);

struct hlx_cmd {
	const char *name;
	hlx_cmd_fn fn;
	const char *usage;
	const char *summary;
};

/* Print "hlx: <what>: <detail of rc>" on stderr; returns the exit code. */
int cli_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "hlx: <message>" and the usage line; returns HLX_EXIT_USAGE. */
int cli_usage(const struct hlx_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_exit_code(int rc);
/*
 * Parse a subcommand's options from argv[1]: --help (prints the help and
 * returns -1: exit 0), --passphrase-file, and the extra options, each given
 * to handle (non-zero from it is a usage error).  Returns 0 with optind at
 * the first operand, -1 after --help, or HLX_EXIT_USAGE.
 */
struct option;
int cli_getopt(struct hlx_cli *cli, int argc, char **argv,
	       const char *shortopts, const struct option *extra,
	       int (*handle)(void *ctx, int c, const char *arg), void *ctx);

/* For commands with subcommands ("peer add ..."): --help, then the
 * subcommand into *sub, with argc and argv moved so that it is argv[0] for
 * a following cli_getopt.  Returns as cli_getopt. */
int cli_subcommand(struct hlx_cli *cli, int *argc, char ***argv,
		   const char **sub);

/* Print the --help text of a subcommand table entry on stdout. */
int cli_help(const struct hlx_cmd *cmd);

/* Obtain a passphrase for what (e.g. "the root key of 'uk-iwf'") into a
 * secure buffer: from the passphrase file, else from the terminal (asked
 * twice when confirm is set).  Never from an argument. */
int cli_passphrase(const struct hlx_cli *cli, const char *what, int confirm,
		   struct hlx_buf *pass);

/* cli_passphrase as the hlx_pass_fn the node home takes (ctx: the cli). */
int cli_getpass(void *ctx, const char *what, int confirm, struct hlx_buf *pass);
/* Open the node home (with the writer lock if lock); on failure print the
 * error and return the exit code. */
struct hlx_node;
int cli_open_node(struct hlx_cli *cli, int lock, struct hlx_node **n);

/* Read a file, or standard input for "-", at most max bytes. */
int cli_read_file(const char *path, size_t max, struct hlx_buf *out);
/* A public key given as an OpenSSH line or as a file holding one. */
struct hlx_pubkey;
int cli_load_pubkey(const char *arg, struct hlx_pubkey *out);

/* The node home: dir (--home; "" is an error), else $HLX_HOME, else
 * ~/.hlx.  The result is malloc'd. */
int cli_home_resolve(const char *dir, char **out);

/* Write a file atomically (temporary file, fsync, rename) with mode. */
int cli_write_file(const char *path, const void *p, size_t n, unsigned mode);

#endif
