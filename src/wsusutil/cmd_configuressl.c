#include "wsusutil/wsusutil.h"

#include <stdio.h>

int
cmd_configuressl(const char *datadir, int argc, char **argv)
{
	(void)datadir;
	(void)argc;
	(void)argv;
	fprintf(stderr, "wsusutil: configuressl: not implemented yet\n");
	return 1;
}
