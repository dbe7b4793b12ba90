/* SPDX-License-Identifier: MIT */
/* hlx init, hlx key: the node's identity. */
#include "node/cli/cmds.h"
#include "node/cli/glance.h"
#include "node/home.h"
#include "keys/allowed.h"
#include "keys/seal.h"
#include "keys/sshkey.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After init: the root fingerprint peers pin, and what to do next. */
static void init_next_steps(struct hlx_cli *cli)
{
	static const char *const steps[][2] = {
		{ "create a list", "list create NAME" },
		{ "add its hashes", "import NAME FILE" },
		{ "pin a peer's root key", "peer add PEER --url URL --key KEY" },
		{ "take one of its lists", "subscribe PEER LIST" },
		{ "publish the feeds", "publish" },
		{ "see the node at a glance", "overview" },
	};
	const char *hx = cli->home_opt ? " --home " : "";
	const char *hd = cli->home_opt ? cli->home_opt : "";
	struct hlx_home *h = NULL;
	struct hlx_pubkey k;
	char f[HLX_FPR_LEN];

	if (hlx_home_open(cli->home, &h) == HLX_OK &&
	    hlx_home_root_pub(h, &k) == HLX_OK) {
		hlx_sshkey_fingerprint(&k, f);
		fprintf(stderr, "hlx: root key %s: give this fingerprint to your peers\n"
			"     out of band, with the key itself ('hlx key show --root')\n", f);
	}
	hlx_home_free(h);
	hlx_err_clear();
	fprintf(stderr, "next steps:\n");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		fprintf(stderr, "  %-26s hlx%s%s %s\n", steps[i][0], hx, hd,
			steps[i][1]);
}

int cmd_init(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *org = cli_text(a, "org");
	unsigned days = (unsigned)cli_num(a, "valid-days", 365);
	int rc;

	cli->no_passphrase = cli_given(a, "no-passphrase") != 0;
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
	init_next_steps(cli);
	return HLX_EXIT_OK;
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

int cmd_key_show(struct hlx_cli *cli, const struct cli_args *a)
{
	if (cli_given(a, "box") && cli_given(a, "root"))
		return cli_usage(cli->cmd, "--box goes with 'key show' alone");
	return cli_given(a, "box") ? key_show_box(cli, cli->homeh) :
	       key_show(cli, cli->homeh, cli_given(a, "root") != 0);
}

int cmd_key_box(struct hlx_cli *cli, const struct cli_args *a)
{
	(void)a;
	return key_box(cli, cli->homeh);
}

int cmd_key_allowed_signers(struct hlx_cli *cli, const struct cli_args *a)
{
	(void)a;
	return key_allowed_signers(cli->homeh);
}

int cmd_key_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	if (cli_given(a, "json"))
		return cli_glance_json(cli, CLI_GLANCE_KEYS);
	return key_ls(cli, cli->homeh);
}

int cmd_key_rotate(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_home *h = cli->homeh;
	int root = cli_given(a, "root") != 0, rc;
	struct hlx_pubkey k;
	char f[HLX_FPR_LEN];

	rc = root ? hlx_home_rotate_root(h, cli_getpass, cli, cli->now) :
		    hlx_home_rotate_signing(h, cli_getpass, cli, cli->now,
					    (unsigned)cli_num(a, "valid-days", 365));
	if (rc)
		return cli_fail(rc, "cannot rotate the %s key of '%s'",
				root ? "root" : "signing", hlx_home_org(h));
	rc = root ? hlx_home_root_pub(h, &k) : hlx_home_signing_pub(h, &k);
	if (!rc) {
		hlx_sshkey_fingerprint(&k, f);
		fprintf(stderr, "hlx: new %s key %s\n", root ? "root" : "signing", f);
	}
	return 0;
}

int cmd_key_revoke(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_home *h = cli->homeh;
	int64_t since = cli_time(a, "since", cli->now);
	struct hlx_pubkey k, cur;
	char f[HLX_FPR_LEN];
	int rc;

	if (since > cli->now)
		return cli_usage(cli->cmd, "--since: an RFC 3339 time, not in the future");
	rc = resolve_key(hlx_home_trust(h), a->argv[0], &k);
	if (!rc)
		rc = hlx_home_revoke(h, &k, since, cli_getpass, cli, cli->now);
	if (rc)
		return cli_fail(rc, "cannot revoke '%s'", a->argv[0]);
	hlx_sshkey_fingerprint(&k, f);
	fprintf(stderr, "hlx: revoked %s\n", f);
	if (hlx_home_signing_pub(h, &cur) == HLX_OK && hlx_pubkey_eq(&cur, &k) &&
	    since <= cli->now)
		cli_warn("the current signing key is revoked: "
			 "run 'hlx key rotate' before signing again");
	return 0;
}
