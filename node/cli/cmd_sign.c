/* SPDX-License-Identifier: MIT */
/* hlx sign, hlx verify: SSHSIG signatures of files, as ssh-keygen -Y. */
#include "node/cli/cmds.h"
#include "node/home.h"
#include "keys/allowed.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SIG_MAX (16 * 1024)

/* Feed a file (or standard input for "-") to a hasher in chunks. */
static int hash_file(const char *path, const char *alg,
		     struct hlx_sshsig_hasher **out)
{
	struct hlx_sshsig_hasher *h = NULL;
	static uint8_t chunk[1 << 16];
	int fd, rc;
	ssize_t r;

	*out = NULL;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
				       "cannot open '%s': %s", path,
				       strerror(errno));
	}
	rc = hlx_sshsig_hasher_new(alg, &h);
	while (!rc) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = hlx_err(HLX_EIO, "cannot read '%s': %s", path,
				     strerror(errno));
		if (r <= 0)
			break;
		hlx_sshsig_hasher_update(h, chunk, (size_t)r);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc)
		hlx_sshsig_hasher_free(h);
	else
		*out = h;
	return rc;
}

int cmd_sign(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *ns = cli_text(a, "namespace"), *file = a->argv[0];
	const char *alg = cli_text(a, "hash") ? cli_text(a, "hash") : "sha512";
	struct hlx_sshsig_hasher *hs = NULL;
	struct hlx_seckey *k = NULL;
	struct hlx_buf sig = HLX_BUF_INIT;
	char out[PATH_MAX];
	int rc, ret = 0;

	if (!ns || !*ns)
		return cli_usage(cli->cmd, "a non-empty namespace (-n) is required");
	if (strcmp(file, "-") != 0 &&
	    snprintf(out, sizeof(out), "%s.sig", file) >= (int)sizeof(out))
		return cli_usage(cli->cmd, "path too long");
	rc = hash_file(file, alg, &hs);
	if (rc) {
		ret = cli_fail(rc, "cannot sign '%s'", file);
		goto out;
	}
	rc = hlx_home_signing_key(cli->homeh, cli_getpass, cli, cli->now, &k);
	if (!rc)
		rc = hlx_sshsig_sign_hasher(hs, k, ns, &sig);
	if (rc) {
		ret = cli_fail(rc, "cannot sign '%s'", file);
		goto out;
	}
	if (strcmp(file, "-") == 0) {
		fwrite(sig.data, 1, sig.len, stdout);
	} else {
		rc = cli_write_file(out, sig.data, sig.len, 0644);
		if (rc)
			ret = cli_fail(rc, "cannot write '%s'", out);
	}
out:
	hlx_sshsig_hasher_free(hs);
	hlx_seckey_free(k);
	hlx_buf_free(&sig);
	return ret;
}

/* Is the signer allowed?  By -k, by an allowed-signers file, or by a trust
 * chain from a pinned root. */
struct who {
	const char *key, *allowed, *principal, *trust, *root;
};

static int check_signer(const struct hlx_sshsig *sig, const struct who *w,
			const char *ns, int64_t when, const char **label)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_allowed *al = NULL;
	struct hlx_trust *tr = NULL;
	struct hlx_pubkey k;
	int rc;

	*label = NULL;
	if (w->key) {
		rc = cli_load_pubkey(w->key, &k);
		if (!rc)
			rc = hlx_sshsig_check_signer(sig, &k);
	} else if (w->allowed) {
		rc = cli_read_file(w->allowed, 1 << 20, &b);
		if (!rc)
			rc = hlx_allowed_parse((const char *)b.data, b.len, &al);
		if (rc) {
			rc = hlx_err_wrap(rc, "allowed signers '%s'", w->allowed);
		} else {
			rc = hlx_allowed_check(al, w->principal,
					       hlx_sshsig_signer(sig), ns, when);
			*label = w->principal;
		}
	} else {
		rc = cli_load_pubkey(w->root, &k);
		if (!rc)
			rc = cli_read_file(w->trust, HLX_TRUST_MAX, &b);
		if (!rc)
			rc = hlx_trust_load((const char *)b.data, b.len, &k, &tr);
		if (rc) {
			rc = hlx_err_wrap(rc, "trust chain '%s'", w->trust);
		} else {
			rc = hlx_trust_check(tr, hlx_sshsig_signer(sig), when);
			*label = hlx_trust_org(tr);
		}
	}
	if (!rc && *label) {
		static char keep[HLX_ORG_MAX + 1];

		snprintf(keep, sizeof(keep), "%s", *label);
		*label = keep;
	}
	hlx_allowed_free(al);
	hlx_trust_free(tr);
	hlx_buf_free(&b);
	return rc;
}

int cmd_verify(struct hlx_cli *cli, const struct cli_args *a)
{
	struct who w = { cli_text(a, "key"), cli_text(a, "allowed-signers"),
			 cli_text(a, "principal"), cli_text(a, "trust"),
			 cli_text(a, "root") };
	const char *ns = cli_text(a, "namespace"), *file = a->argv[0], *label;
	const char *sigpath = cli_text(a, "signature");
	struct hlx_buf sb = HLX_BUF_INIT;
	struct hlx_sshsig *sig = NULL;
	struct hlx_sshsig_hasher *hs = NULL;
	char f[HLX_FPR_LEN];
	int64_t when = cli_time(a, "time", cli->now);
	int rc, ret = 0;

	if (!ns || !*ns)
		return cli_usage(cli->cmd, "a non-empty namespace (-n) is required");
	if (!sigpath)
		return cli_usage(cli->cmd, "the signature (-s SIG) is required");
	if ((!!w.key + !!w.allowed + !!w.trust) != 1 ||
	    !w.allowed != !w.principal || !w.trust != !w.root)
		return cli_usage(cli->cmd,
				 "give one of -k KEY, --allowed-signers FILE with -I PRINCIPAL, "
				 "or --trust FILE with --root KEY");
	if (strcmp(file, "-") == 0 && strcmp(sigpath, "-") == 0)
		return cli_usage(cli->cmd, "FILE and SIG cannot both be standard input");

	rc = cli_read_file(sigpath, SIG_MAX, &sb);
	if (!rc)
		rc = hlx_sshsig_parse_armor((const char *)sb.data, sb.len, &sig);
	if (rc) {
		ret = cli_fail(rc, "cannot read signature '%s'", sigpath);
		goto out;
	}
	rc = hash_file(file, hlx_sshsig_hashalg(sig), &hs);
	if (rc) {
		ret = cli_fail(rc, "cannot verify '%s'", file);
		goto out;
	}
	rc = hlx_sshsig_verify_hasher(sig, hs, ns);
	if (!rc)
		rc = check_signer(sig, &w, ns, when, &label);
	if (rc) {
		ret = cli_fail(rc, "signature '%s' of '%s' does not verify",
			       sigpath, file);
		goto out;
	}
	hlx_sshkey_fingerprint(hlx_sshsig_signer(sig), f);
	if (label)
		printf("Good \"%s\" signature for %s with ED25519 key %s\n", ns,
		       label, f);
	else
		printf("Good \"%s\" signature with ED25519 key %s\n", ns, f);
out:
	hlx_sshsig_hasher_free(hs);
	hlx_sshsig_free(sig);
	hlx_buf_free(&sb);
	return ret;
}
