/* SPDX-License-Identifier: MIT */
/* hlx.conf (a node's settings): whatever parses saves and loads again to
 * the same settings; whatever is refused has a detail. */
#include "node/config.h"
#include "protocol/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	struct hlx_config c, d;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/hlx-fuzz-config.%ld", (long)getpid());
		mkdir(dir, 0700);
	}
	if (hlx_config_parse((const char *)data, size, &c) != HLX_OK) {
		if (!hlx_err_detail()[0])
			abort();
		return 0;
	}
	if (hlx_config_save(dir, &c) || hlx_config_load(dir, &d) ||
	    c.set != d.set || c.poll_interval != d.poll_interval ||
	    c.expires_days != d.expires_days ||
	    strcmp(c.publish_dir, d.publish_dir))
		abort();
	return 0;
}
