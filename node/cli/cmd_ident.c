/* SPDX-License-Identifier: MIT */
/* hlx init, hlx key: the node's identity. */
#include "node/cli/cmds.h"
#include "node/home.h"
#include "keys/allowed.h"
#include "keys/seal.h"
#include "keys/sshkey.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_days(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 36500 || s[0] == '-')
		return hlx_err(HLX_EINVAL, "validity '%s': want 1 to 36500 days", s);
	*out = (unsigned)v;
	return HLX_OK;
}

int cmd_init(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'o' },
		{ "no-passphrase", no_argument, NULL, 'N' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "valid-days", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *org = NULL;
	unsigned days = 365;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 'N': cli->no_passphrase = 1; break;
		case 'P': cli->pass_file = optarg; break;
		case 'd':
			if (parse_days(optarg, &days))
				return cli_usage(cli->cmd, "%s", hlx_err_detail());
			break;
		case 'h': return cli_help(cli->cmd);
		default: return cli_usage(cli->cmd, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage(cli->cmd, "unexpected argument '%s'", argv[optind]);
	if (!org)
		return cli_usage(cli->cmd, "--org NAME is required");
	if (cli->no_passphrase && cli->pass_file)
		return cli_usage(cli->cmd,
				 "--no-passphrase and a passphrase file exclude each other");
	rc = hlx_home_create(cli->home, org, cli->no_passphrase, cli_getpass, cli,
			     cli->now, days);
	if (rc)
		return cli_fail(rc, "cannot init '%s'", cli->home);
	fprintf(stderr, "hlx: created node home '%s' for '%s'%s\n", cli->home, org,
		cli->no_passphrase ? " (keys NOT encrypted)" : "");
	return HLX_EXIT_OK;
}

static int open_home(struct hlx_cli *cli, struct hlx_home **h)
{
	int rc = hlx_home_open(cli->home, h);

	return rc ? cli_fail(rc, "cannot open node home '%s'", cli->home) : 0;
}

static int print_key(const struct hlx_pubkey *k, const char *comment)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = hlx_sshkey_format(k, comment, &b);

	if (!rc)
		printf("%s\n", (const char *)b.data);
	hlx_buf_free(&b);
	return rc;
}

static int key_show(struct hlx_cli *cli, struct hlx_home *h, int root)
{
	struct hlx_pubkey k;
	char comment[HLX_ORG_MAX + 16];
	int rc;

	rc = root ? hlx_home_root_pub(h, &k) : hlx_home_signing_pub(h, &k);
	snprintf(comment, sizeof(comment), "%s %s", hlx_home_org(h),
		 root ? "root" : "signing");
	if (!rc)
		rc = print_key(&k, comment);
	return rc ? cli_fail(rc, "cannot show the %s key of '%s'",
			     root ? "root" : "signing", cli->home) : 0;
}

static int key_show_box(struct hlx_cli *cli, struct hlx_home *h)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_boxpub k;
	int rc = hlx_home_box_pub(h, &k);

	if (!rc)
		rc = hlx_boxpub_format(&k, &b);
	if (!rc)
		printf("%s\n", (const char *)b.data);
	hlx_buf_free(&b);
	return rc ? cli_fail(rc, "cannot show the box key of '%s'", cli->home) : 0;
}

static int key_box(struct hlx_cli *cli, struct hlx_home *h)
{
	int rc = hlx_home_box_create(h, cli_getpass, cli);

	if (rc)
		return cli_fail(rc, "cannot create a box key for '%s'",
				hlx_home_org(h));
	fprintf(stderr, "hlx: created keys/box.key in '%s'\n", cli->home);
	return 0;
}

static int key_allowed_signers(struct hlx_home *h)
{
	const struct hlx_trust *t = hlx_home_trust(h);
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = HLX_OK;

	for (size_t i = 0; !rc && i < hlx_trust_nkeys(t); i++) {
		const struct hlx_trust_key *k = hlx_trust_key(t, i);

		/* a revoked key's window ends where the revocation starts;
		 * the trust chain's end is exclusive, allowed signers'
		 * valid-before inclusive: the last valid second */
		int64_t vb = k->revoked && k->revoked_since < k->valid_before ?
			     k->revoked_since : k->valid_before;

		if (vb - 1 >= k->valid_after)
			rc = hlx_allowed_format_line(hlx_home_org(h), &k->key,
						     k->valid_after, vb - 1, &b);
	}
	if (!rc)
		fputs((const char *)(b.data ? b.data : (uint8_t *)""), stdout);
	hlx_buf_free(&b);
	return rc ? cli_fail(rc, "cannot write allowed signers") : 0;
}

static int key_ls(struct hlx_cli *cli, struct hlx_home *h)
{
	const struct hlx_trust *t = hlx_home_trust(h);
	struct hlx_pubkey cur;
	char f[HLX_FPR_LEN], a[HLX_TIME_TEXT], b[HLX_TIME_TEXT];
	int have = hlx_home_signing_pub(h, &cur) == HLX_OK;

	hlx_sshkey_fingerprint(hlx_trust_root(t), f);
	printf("root     %s  %s\n", f, hlx_home_org(h));
	for (size_t i = 0; i < hlx_trust_nkeys(t); i++) {
		const struct hlx_trust_key *k = hlx_trust_key(t, i);
		const char *state = k->revoked && cli->now >= k->revoked_since ?
				    "revoked" :
				    cli->now < k->valid_after ? "not-yet-valid" :
				    cli->now >= k->valid_before ? "expired" :
				    "valid";

		hlx_sshkey_fingerprint(&k->key, f);
		hlx_time_format(k->valid_after, a);
		hlx_time_format(k->valid_before, b);
		printf("signing  %s  %s..%s  %s%s\n", f, a, b, state,
		       have && hlx_pubkey_eq(&k->key, &cur) ? " current" : "");
	}
	return 0;
}

/* KEY is an OpenSSH public key line, a file holding one, or a fingerprint
 * of a delegated key. */
static int resolve_key(const struct hlx_trust *t, const char *arg,
		       struct hlx_pubkey *out)
{
	char f[HLX_FPR_LEN];
	int rc;

	if (strncmp(arg, "SHA256:", 7) == 0) {
		for (size_t i = 0; i < hlx_trust_nkeys(t); i++) {
			hlx_sshkey_fingerprint(&hlx_trust_key(t, i)->key, f);
			if (strcmp(f, arg) == 0) {
				*out = hlx_trust_key(t, i)->key;
				return HLX_OK;
			}
		}
		return hlx_err(HLX_ENOENT, "no delegated key has fingerprint '%s'",
			       arg);
	}
	rc = cli_load_pubkey(arg, out);
	return rc;
}

int cmd_key(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", no_argument, NULL, 'r' },
		{ "box", no_argument, NULL, 'b' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "valid-days", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int64_t since = cli->now;
	struct hlx_home *h = NULL;
	struct hlx_pubkey k, cur;
	const char *sub;
	unsigned days = 365;
	int c, rc, root = 0, box = 0, ret = 0;
	char f[HLX_FPR_LEN];

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return cli_help(cli->cmd);
		default: return cli_usage(cli->cmd, "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage(cli->cmd, "which key command?");
	sub = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0; /* GNU getopt: a full reset, ordering mode included */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': root = 1; break;
		case 'b': box = 1; break;
		case 'P': cli->pass_file = optarg; break;
		case 'd':
			if (parse_days(optarg, &days))
				return cli_usage(cli->cmd, "%s", hlx_err_detail());
			break;
		case 's':
			if (hlx_time_parse(optarg, strlen(optarg), &since) ||
			    since > cli->now)
				return cli_usage(cli->cmd,
						 "--since: an RFC 3339 time, not in the future");
			break;
		case 'h': return cli_help(cli->cmd);
		default: return cli_usage(cli->cmd, "unknown option");
		}
	}
	if (strcmp(sub, "revoke") == 0 ? optind + 1 != argc : optind != argc)
		return cli_usage(cli->cmd, "wrong number of arguments for 'key %s'",
				 sub);
	if (strcmp(sub, "show") && strcmp(sub, "allowed-signers") &&
	    strcmp(sub, "rotate") && strcmp(sub, "revoke") && strcmp(sub, "ls") &&
	    strcmp(sub, "box"))
		return cli_usage(cli->cmd, "unknown key command '%s'", sub);
	if (box && (root || strcmp(sub, "show")))
		return cli_usage(cli->cmd, "--box goes with 'key show' alone");
	ret = open_home(cli, &h);
	if (ret)
		return ret;
	if (!strcmp(sub, "show") && box) {
		ret = key_show_box(cli, h);
	} else if (!strcmp(sub, "show")) {
		ret = key_show(cli, h, root);
	} else if (!strcmp(sub, "box")) {
		ret = key_box(cli, h);
	} else if (!strcmp(sub, "allowed-signers")) {
		ret = key_allowed_signers(h);
	} else if (!strcmp(sub, "ls")) {
		ret = key_ls(cli, h);
	} else if (!strcmp(sub, "rotate")) {
		rc = root ? hlx_home_rotate_root(h, cli_getpass, cli, cli->now) :
			    hlx_home_rotate_signing(h, cli_getpass, cli, cli->now,
						    days);
		if (rc) {
			ret = cli_fail(rc, "cannot rotate the %s key of '%s'",
				       root ? "root" : "signing", hlx_home_org(h));
		} else {
			rc = root ? hlx_home_root_pub(h, &k) :
				    hlx_home_signing_pub(h, &k);
			if (!rc) {
				hlx_sshkey_fingerprint(&k, f);
				fprintf(stderr, "hlx: new %s key %s\n",
					root ? "root" : "signing", f);
			}
		}
	} else {
		rc = resolve_key(hlx_home_trust(h), argv[optind], &k);
		if (!rc)
			rc = hlx_home_revoke(h, &k, since, cli_getpass, cli, cli->now);
		if (rc) {
			ret = cli_fail(rc, "cannot revoke '%s'", argv[optind]);
		} else {
			hlx_sshkey_fingerprint(&k, f);
			fprintf(stderr, "hlx: revoked %s\n", f);
			if (hlx_home_signing_pub(h, &cur) == HLX_OK &&
			    hlx_pubkey_eq(&cur, &k) && since <= cli->now)
				cli_warn("the current signing key is revoked: "
					 "run 'hlx key rotate' before signing again");
		}
	}
	hlx_home_free(h);
	return ret;
}
