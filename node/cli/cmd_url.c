/* SPDX-License-Identifier: MIT */
/* hlx url: the raw URLs this node keeps, sealed to its box key. */
#include "node/cli/cmds.h"
#include "node/home.h"
#include "node/urls.h"
#include "keys/seal.h"
#include "protocol/err.h"
#include "protocol/hash.h"

#include <stdio.h>
#include <string.h>

static int print_item(void *ctx, const struct hlx_hash *item)
{
	char t[HLX_HASH_TEXT_MAX];

	(void)ctx;
	if (hlx_hash_format(item, t, sizeof(t)) == HLX_OK)
		printf("%s\n", t);
	return 0;
}

/* ITEM as "url-sha256:HEX", or a URL (anything with "://") to hash. */
static int parse_item(const char *arg, struct hlx_hash *item)
{
	size_t n = strlen(arg);
	char t[HLX_HASH_TEXT_MAX];
	int rc;

	if (strstr(arg, "://"))
		return hlx_urls_item(arg, n, item, NULL);
	rc = hlx_hash_parse(arg, n, item);
	if (!rc && item->type != HLX_HASH_URL_SHA256) {
		hlx_hash_format(item, t, sizeof(t));
		rc = hlx_err(HLX_EINVAL, "'%.60s': want a url-sha256 item or a URL",
			     t);
	}
	return rc;
}

static int url_show(struct hlx_cli *cli, struct hlx_home *h, const char *arg)
{
	struct hlx_boxkey *k = NULL;
	struct hlx_hash item;
	struct hlx_buf url;
	int rc;

	hlx_buf_init_secure(&url);
	rc = parse_item(arg, &item);
	if (rc) {
		rc = cli_fail(rc, "url show: bad ITEM or URL");
		goto out;
	}
	rc = hlx_home_box_key(h, cli_getpass, cli, &k);
	if (!rc)
		rc = hlx_urls_get(h, &item, k, &url);
	if (rc) {
		rc = cli_fail(rc, "cannot show the URL");
		goto out;
	}
	if (fwrite(url.data, 1, url.len, stdout) != url.len ||
	    putchar('\n') == EOF)
		rc = cli_fail(HLX_EIO, "cannot write standard output");
out:
	hlx_boxkey_free(k);
	hlx_buf_free(&url);
	return rc;
}

int cmd_url_show(struct hlx_cli *cli, const struct cli_args *a)
{
	return url_show(cli, cli->homeh, a->argv[0]);
}

int cmd_url_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	int rc = hlx_urls_foreach(cli->homeh, print_item, NULL);

	(void)a;
	return rc ? cli_fail(rc, "cannot list the kept URLs") : 0;
}

