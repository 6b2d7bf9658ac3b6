/*
 * wsusutil cookiekey rotate: a new cookie key; the previous one keeps
 * opening cookies for the overlap window (one rotation), so clients in
 * the middle of a scan are not thrown out. A running wsusd picks the new
 * key up on SIGHUP.
 */
#include "wsusutil/wsusutil.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "cookie/cookie.h"

int
cmd_cookiekey(const char *datadir, int argc, char **argv)
{
	struct cookie_keys ck;
	struct config *cf;
	struct wsd_err err;
	int rc;

	if (argc != 2 || strcmp(argv[1], "rotate") != 0) {
		fprintf(stderr, "usage: wsusutil cookiekey rotate\n");
		return 2;
	}
	if (config_load(datadir, NULL, &cf, &err) < 0)
		return wsusutil_fail("cookiekey", err.what);
	cookie_keys_init(&ck);
	rc = cookie_keys_rotate(&ck, cf->cf_datadir, &err);
	if (rc == 0)
		printf("cookie key rotated: new key id %u, previous key id %u "
		       "still accepted; send SIGHUP to a running wsusd\n",
		    ck.ck_cur.ckk_id, ck.ck_prev.ckk_id);
	cookie_keys_release(&ck);
	config_free(cf);
	return rc < 0 ? wsusutil_fail("cookiekey", err.what) : 0;
}
