/* SPDX-License-Identifier: MIT */
/* CSV import: the first line is a header, the rest records; every entry
 * that parses is valid and survives its canonical encoding. */
#include "protocol/csv.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hlx_entry e, back;
	struct hlx_buf line = HLX_BUF_INIT;
	int cols[HLX_CSV_COLS_MAX], ncols = 0, header = 0;
	char *text, *p, *nl;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (!header) {
			if (hlx_csv_header(p, cols, &ncols) != HLX_OK)
				break;
			header = 1;
			continue;
		}
		if (hlx_csv_entry(p, cols, ncols, &e) != HLX_OK)
			continue;
		hlx_buf_reset(&line);
		if (hlx_entry_validate(&e) == HLX_OK &&
		    (hlx_entry_encode(&e, &line) ||
		     hlx_entry_decode((char *)line.data, line.len, &back)))
			abort();
	}
	hlx_buf_free(&line);
	free(text);
	return 0;
}
