/*
 * wuagent: a Linux update agent speaking MS-WUSP as the Windows Update
 * Agent does (issue #6). Global flags, then a command:
 *
 *   wuagent [--config FILE] [--state DIR] [--server URL] [--ca-file F]
 *           [--allow-insecure-http] COMMAND [ARGS]
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/log.h"
#include "soap/soap_parse.h"
#include "wuagent/agent_cmd.h"

struct command {
	const char *name;
	agent_cmd_fn *fn;
	const char *args;
	const char *help;
};

static const struct command commands[] = {
	{ "scan", agent_cmd_scan, "",
	    "detect: sync with WUServer, evaluate, report the status" },
	{ "status", agent_cmd_status, "",
	    "what this machine knows about each update (no network)" },
	{ "report", agent_cmd_report, "",
	    "send the queued events to WUStatusServer" },
	{ "simulate", agent_cmd_simulate,
	    "--clients N --duration SECONDS [--server URL]",
	    "many agents scanning at once: scans/s, latency, errors" },
	{ "download", agent_cmd_download, "",
	    "fetch and verify the content of the needed updates" },
	{ "install", agent_cmd_install, "[--timeout SECONDS]",
	    "verify again and install the downloaded updates for Linux" },
	{ "fetch", agent_cmd_fetch, "URL OUT --size N --sha1 HEX --sha256 HEX",
	    "download one content file, resumable, and verify it" },
	{ "selfupdate", agent_cmd_selfupdate, "[--install-to PATH] [--check]",
	    "install the newer wuagent the server offers (signed)" },
	{ "run", agent_cmd_run, "[--once]",
	    "the service: scan, download, install, report; repeat" },
};

int
agent_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wuagent: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: wuagent [--config FILE] [--state DIR] [--server URL] "
	    "[--ca-file FILE]\n"
	    "               [--proxy http://HOST:PORT] "
	    "[--pin sha256//BASE64[;...]]\n"
	    "               [--allow-insecure-http] "
	    "[--allow-unsigned-packages] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-10s %s\n  %-10s   %s\n", commands[i].name,
		    commands[i].args, "", commands[i].help);
	return 2;
}

/* Global flags: NAME VALUE pairs mapped to configuration names. */
static const struct {
	const char *flag, *setting;
} flags[] = {
	{ "--state", "StateDir" },
	{ "--server", "WUServer" },
	{ "--status-server", "WUStatusServer" },
	{ "--ca-file", "CAFile" },
	{ "--target-group", "TargetGroup" },
	{ "--trusted-publishers", "TrustedPublishers" },
	{ "--alternate-url", "UpdateServiceUrlAlternate" },
	{ "--proxy", "Proxy" },
	{ "--pin", "PinnedPublicKey" },
};

int
main(int argc, char **argv)
{
	struct agent_config cf;
	const char *config = NULL, *why;
	char msg[1024];
	int i, rc;

	/* libcurl is used with CURLOPT_NOSIGNAL (threads): a peer closing a
	 * TLS connection must not kill the agent with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	log_set_prefix("wuagent");
	agent_config_defaults(&cf);
	/* The file first, so flags override it whatever their order. */
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i++)
		if (strcmp(argv[i], "--config") == 0)
			config = argv[++i];
	if (config != NULL && agent_config_load(config, &cf, msg,
				  sizeof(msg)) < 0) {
		fprintf(stderr, "wuagent: %s\n", msg);
		return 1;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		size_t k;

		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--allow-insecure-http") == 0) {
			cf.allow_insecure_http = true;
			continue;
		}
		if (strcmp(argv[i], "--allow-unsigned-packages") == 0) {
			cf.allow_unsigned_packages = true;
			continue;
		}
		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strcmp(argv[i], flags[k].flag) == 0)
				break;
		if (k == sizeof(flags) / sizeof(flags[0]) || i + 1 >= argc)
			return usage();
		if (agent_config_set(&cf, flags[k].setting, argv[++i], &why) <
		    0) {
			fprintf(stderr, "wuagent: %s: %s\n", argv[i - 1], why);
			return 2;
		}
		if (strcmp(flags[k].setting, "TargetGroup") == 0)
			cf.target_group_enabled = true;
	}
	if (i >= argc)
		return usage();
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0) {
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
				fprintf(stderr, "wuagent: cannot start libcurl\n");
				return 1;
			}
			soap_global_init();
			rc = commands[k].fn(&cf, argc - i - 1, argv + i + 1);
			curl_global_cleanup();
			return rc;
		}
	return usage();
}
