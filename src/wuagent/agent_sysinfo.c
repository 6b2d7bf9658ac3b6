/*
 * Machine facts for MS-WUSP (agent_sysinfo.h).
 */
#include "wuagent/agent_sysinfo.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* First line of PATH, printable ASCII only, into OUT; "unknown" else. */
static void
read_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t k = 0;
	int ch;

	if (f != NULL) {
		while (k + 1 < n && (ch = fgetc(f)) != EOF && ch != '\n')
			if (ch >= 0x20 && ch < 0x7f)
				out[k++] = (char)ch;
		fclose(f);
	}
	out[k] = '\0';
	while (k > 0 && out[k - 1] == ' ')
		out[--k] = '\0';
	if (k == 0)
		snprintf(out, n, "unknown");
}

static void
os_release(char *out, size_t n)
{
	char line[512];
	FILE *f = fopen("/etc/os-release", "r");

	snprintf(out, n, "Linux");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v, *e;

		if (strncmp(line, "PRETTY_NAME=", 12) != 0)
			continue;
		v = line + 12;
		if (*v == '"')
			v++;
		for (e = v; *e != '\0' && *e != '"' && *e != '\n'; e++)
			if ((unsigned char)*e < 0x20 || *e == 0x7f)
				*e = ' ';
		*e = '\0';
		if (*v != '\0')
			snprintf(out, n, "%.127s", v);
		break;
	}
	fclose(f);
}

/* LANG=en_US.UTF-8 -> en-US. */
static void
locale_of(char *out, size_t n, int32_t *lcid)
{
	const char *l = getenv("LANG");
	size_t k = 0;

	*lcid = 0;
	if (l == NULL || !isalpha((unsigned char)l[0]) || strcmp(l, "C") == 0 ||
	    strncmp(l, "C.", 2) == 0 || strcmp(l, "POSIX") == 0)
		l = "en_US";
	for (; l[k] != '\0' && l[k] != '.' && l[k] != '@' && k + 1 < n; k++)
		out[k] = l[k] == '_' ? '-' :
		    isalnum((unsigned char)l[k]) ? l[k] :
						      '-';
	out[k] = '\0';
	if (strcmp(out, "en-US") == 0)
		*lcid = 1033;
}

/* MM/DD/YYYY (dmi bios_date) -> YYYY-MM-DDT00:00:00Z. */
static void
bios_date(char *out, size_t n)
{
	char d[64];
	unsigned mm, dd, yy;

	read_line("/sys/class/dmi/id/bios_date", d, sizeof(d));
	if (sscanf(d, "%2u/%2u/%4u", &mm, &dd, &yy) == 3 && mm >= 1 &&
	    mm <= 12 && dd >= 1 && dd <= 31 && yy >= 1970 && yy <= 9999)
		snprintf(out, n, "%04u-%02u-%02uT00:00:00Z", yy, mm, dd);
	else
		snprintf(out, n, "2000-01-01T00:00:00Z");
}

void
agent_sysinfo_read(struct agent_sysinfo *si)
{
	struct addrinfo hints, *ai = NULL;
	struct utsname u;

	memset(si, 0, sizeof(*si));
	if (gethostname(si->dns_name, sizeof(si->dns_name) - 1) < 0 ||
	    si->dns_name[0] == '\0')
		snprintf(si->dns_name, sizeof(si->dns_name), "localhost");
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(si->dns_name, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL)
		snprintf(si->dns_name, sizeof(si->dns_name), "%s",
		    ai->ai_canonname);
	if (ai != NULL)
		freeaddrinfo(ai);
	if (uname(&u) == 0) {
		unsigned a = 0, b = 0, c = 0;

		(void)sscanf(u.release, "%u.%u.%u", &a, &b, &c);
		si->os_major = (int32_t)(a & 0xffff);
		si->os_minor = (int32_t)(b & 0xffff);
		si->os_build = (int32_t)(c & 0xffff);
		if (strcmp(u.machine, "x86_64") == 0) {
			snprintf(si->processor, sizeof(si->processor),
			    "AMD64");
			snprintf(si->report_arch, sizeof(si->report_arch),
			    "Amd64Compatible");
		} else if (strcmp(u.machine, "aarch64") == 0) {
			snprintf(si->processor, sizeof(si->processor),
			    "ARM64");
			snprintf(si->report_arch, sizeof(si->report_arch),
			    "Unknown");
		} else {
			snprintf(si->processor, sizeof(si->processor), "X86");
			snprintf(si->report_arch, sizeof(si->report_arch),
			    "X86Compatible");
		}
	}
	os_release(si->os_description, sizeof(si->os_description));
	locale_of(si->os_locale, sizeof(si->os_locale), &si->os_locale_id);
	read_line("/sys/class/dmi/id/sys_vendor", si->manufacturer,
	    sizeof(si->manufacturer));
	read_line("/sys/class/dmi/id/product_name", si->model,
	    sizeof(si->model));
	read_line("/sys/class/dmi/id/bios_version", si->bios_version,
	    sizeof(si->bios_version));
	bios_date(si->bios_date, sizeof(si->bios_date));
}
