/* SPDX-License-Identifier: MIT */
/* hlx config: the node's settings, HOME/hlx.conf (the engine:
 * node/config.h), what publish and run agree on. */
#include "node/cli/cmds.h"
#include "node/config.h"
#include "protocol/err.h"

#include <limits.h>
#include <stdio.h>

/* The key named by the first operand, or a usage error. */
static int key_arg(const struct cli_args *a, unsigned *key)
{
	int rc = hlx_config_lookup(a->argv[0], key);

	return rc ? cli_usage(a->row, "%s", hlx_err_detail()) : 0;
}

static int load(struct hlx_cli *cli, struct hlx_config *c)
{
	int rc = hlx_config_load(cli->home, c);

	return rc ? cli_fail(rc, "cannot read the settings") : 0;
}

/* The key the first operand names, the settings, room for a value. */
struct keyed {
	struct hlx_config c;
	char v[PATH_MAX];
	unsigned key;
};

/* k filled from the first operand and the file, or the exit code. */
static int key_and_load(struct hlx_cli *cli, const struct cli_args *a,
			struct keyed *k)
{
	int ret = key_arg(a, &k->key);

	return ret ? ret : load(cli, &k->c);
}

int cmd_config_get(struct hlx_cli *cli, const struct cli_args *a)
{
	struct keyed k;
	int ret = key_and_load(cli, a, &k), rc;

	if (ret)
		return ret;
	rc = hlx_config_get(&k.c, cli->home, k.key, k.v);
	if (rc)
		return cli_fail(rc, "cannot get '%s'", hlx_config_name(k.key));
	printf("%s\n", k.v);
	return 0;
}

/* Every key: set ones as the file has them, the others commented out
 * with their defaults (the output is a settings file). */
int cmd_config_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_config c;
	char v[PATH_MAX];
	unsigned i;
	int ret = load(cli, &c), rc;

	(void)a;
	for (i = 0; !ret && i < HLX_CONF_N; i++) {
		rc = hlx_config_get(&c, cli->home, i, v);
		if (rc)
			return cli_fail(rc, "cannot get '%s'", hlx_config_name(i));
		if (c.set & (1u << i))
			printf("%s = %s\n", hlx_config_name(i), v);
		else
			printf("# %s = %s (default)\n", hlx_config_name(i), v);
	}
	return ret;
}

/* set and unset: under the writer lock the table took, the file read
 * under it, checked whole, then replaced atomically; refused, it stays
 * as it was. */
static int change(struct hlx_cli *cli, const struct cli_args *a, int unset)
{
	struct keyed k;
	int ret = key_and_load(cli, a, &k), rc;

	if (ret)
		return ret;
	if (unset) {
		hlx_config_unset(&k.c, k.key);
		rc = HLX_OK;
	} else {
		rc = hlx_config_set(&k.c, k.key, a->argv[1]);
		if (!rc && k.key == HLX_CONF_PUBLISH_DIR)
			rc = hlx_config_publish_dir_check(cli->home, a->argv[1]);
		if (rc)
			return cli_fail(rc, "cannot change the settings");
	}
	rc = hlx_config_save(cli->home, &k.c);
	if (!rc)
		rc = hlx_config_get(&k.c, cli->home, k.key, k.v);
	if (rc)
		return cli_fail(rc, "cannot save the settings");
	fprintf(stderr, "hlx: %s %s%s; a running 'hlx run' takes it on SIGHUP\n",
		hlx_config_name(k.key),
		unset ? "back to its default " : "set to ", k.v);
	return 0;
}

int cmd_config_set(struct hlx_cli *cli, const struct cli_args *a)
{
	return change(cli, a, 0);
}

int cmd_config_unset(struct hlx_cli *cli, const struct cli_args *a)
{
	return change(cli, a, 1);
}
