/* SPDX-License-Identifier: MIT */
/* peers.json (a node's peer configuration): whatever loads, saves and
 * loads again to the same peers. */
#include "node/peers.h"
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
	struct hlx_peers *p = NULL, *q = NULL;
	char path[128];
	FILE *f;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/hlx-fuzz-peers.%ld", (long)getpid());
		mkdir(dir, 0700);
	}
	snprintf(path, sizeof(path), "%s/peers.json", dir);
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (hlx_peers_load(dir, &p) == HLX_OK) {
		if (hlx_peers_save(dir, p) || hlx_peers_load(dir, &q) ||
		    q->n != p->n)
			abort();
		for (size_t i = 0; i < p->n; i++)
			if (strcmp(p->v[i].name, q->v[i].name) ||
			    strcmp(p->v[i].url, q->v[i].url) ||
			    p->v[i].nsubs != q->v[i].nsubs)
				abort();
	}
	hlx_peers_free(p);
	hlx_peers_free(q);
	unlink(path);
	return 0;
}
