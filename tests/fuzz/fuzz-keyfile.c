/* SPDX-License-Identifier: MIT */
/* Key files: inspect and decode (without a passphrase, so that Argon2id
 * never runs: an encrypted file must stop before it). */
#include "keys/keyfile.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_keyfile_info info;
	struct hlx_seckey *k = NULL;
	struct hlx_pubkey pub;
	int ri, rd;

	ri = hlx_keyfile_inspect((const char *)data, size, &info);
	rd = hlx_keyfile_decode((const char *)data, size, NULL, 0, &k);
	if (rd == HLX_OK) {
		/* decoded: inspect agreed, the file was unencrypted and the
		 * public key is the one derived from the seed */
		hlx_seckey_public(k, &pub);
		if (ri != HLX_OK || info.encrypted || !hlx_pubkey_eq(&pub, &info.pub))
			abort();
		hlx_seckey_free(k);
	} else if (k) {
		abort();
	}
	if (ri != HLX_OK && rd == HLX_OK)
		abort();
	return 0;
}
