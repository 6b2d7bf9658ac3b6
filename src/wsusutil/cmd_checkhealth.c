#include "wsusutil/wsusutil.h"

#include <stdio.h>

int
cmd_checkhealth(const char *datadir, int argc, char **argv)
{
	(void)datadir;
	(void)argc;
	(void)argv;
	fprintf(stderr, "wsusutil: checkhealth: not implemented yet\n");
	return 1;
}
