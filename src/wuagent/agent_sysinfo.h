/*
 * What wuagent tells the server about this machine (RegisterComputer's
 * computerInfo, ReportEventBatch's ExtendedData), read from Linux
 * sources once: uname, /etc/os-release, /sys/class/dmi/id, LANG. A
 * source that cannot be read gives "unknown", as Windows sends for
 * values it lacks (scan/000004).
 */
#ifndef WSUSD_WUAGENT_AGENT_SYSINFO_H
#define WSUSD_WUAGENT_AGENT_SYSINFO_H

#include <stdint.h>

struct agent_sysinfo {
	char dns_name[256];     /* FQDN when resolvable, else hostname */
	int32_t os_major, os_minor, os_build; /* kernel release numbers */
	char os_description[128];  /* os-release PRETTY_NAME */
	char os_locale[32];        /* "en-US" */
	int32_t os_locale_id;      /* 1033 for en-US, else 0 */
	char manufacturer[128], model[128], bios_version[128];
	char bios_date[40];        /* xs:dateTime, or 2000-01-01 */
	char processor[16];        /* AMD64, ARM64, X86 */
	char report_arch[32];      /* Amd64Compatible, ... */
};

void agent_sysinfo_read(struct agent_sysinfo *si);

#endif
