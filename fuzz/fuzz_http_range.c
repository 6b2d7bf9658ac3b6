#include <stdint.h>
#include <string.h>

#include "http/http_range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_range_set rs;
	struct wsd_err e;
	struct sv v = { (const char *)data, size };

	if (http_range_parse(v, 1000, &rs, &e) == 0 && rs.hr_count > WSD_MAX_RANGES)
		__builtin_trap();
	return 0;
}
