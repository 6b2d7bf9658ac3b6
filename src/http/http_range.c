#include "http/http_range.h"

int
http_range_parse(struct sv value, uint64_t size, struct http_range_set *out,
    struct wsd_err *err)
{
	(void)value;
	(void)size;
	out->hr_count = 0;
	return wsd_fail(err, WSD_EINTERNAL, "not implemented");
}
