/*
 * wsusutil subcommands, one file each (git builtin/ style). Each returns the
 * process exit status: 0 on success, 1 when it refused or failed (with a
 * message naming the problem on stderr), 2 on a usage error.
 */
#ifndef WSUSD_WSUSUTIL_WSUSUTIL_H
#define WSUSD_WSUSUTIL_WSUSUTIL_H

struct wsusutil_cmd {
	const char *name;
	int (*run)(const char *datadir, int argc, char **argv);
	const char *usage; /* arguments after the command name */
	const char *help;  /* one line */
};

/* argv[0] is the command name; options follow. */
int cmd_testca(const char *datadir, int argc, char **argv);
int cmd_configuressl(const char *datadir, int argc, char **argv);
int cmd_checkhealth(const char *datadir, int argc, char **argv);

#endif
