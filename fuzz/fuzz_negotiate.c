/*
 * Fuzz target for the text parsers of src/auth/negotiate.h that sit
 * next to Kerberos (the token bytes themselves are MIT GSSAPI's to
 * parse): the realm map of wsusd.conf (kerberos_realm_map) and the
 * mapping of an authenticated principal's display name to DOMAIN\name,
 * which a KDC of another realm (a trust) chooses.
 *
 * Input: one mode byte, then NUL-free text (a NUL ends it).
 *	bit 0	0: negotiate_realm_map_parse; 1: negotiate_map_principal
 *		with the map "CORP.EXAMPLE = CORP, EAST.CORP.EXAMPLE = EAST"
 *
 * Checks (a broken one traps): a refused map is empty, with a static
 * reason; a parsed one has at most NEGOTIATE_MAX_REALMS entries, each
 * NUL-terminated within its bounds, and every realm of it maps
 * "x@REALM" to "DOMAIN\x"; a refused principal leaves OUT empty, a
 * mapped one is "DOMAIN\name" with a domain of the map, no second
 * backslash, within NEGOTIATE_MAX_IDENTITY.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "auth/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
realm_map(const char *text)
{
	struct negotiate_realm_map m;
	struct wsd_err err = { WSD_OK, NULL };
	char p[NEGOTIATE_MAX_PRINCIPAL + 8], id[NEGOTIATE_MAX_IDENTITY];

	if (negotiate_realm_map_parse(text, &m, &err) < 0) {
		if (err.what == NULL || m.rm_n != 0)
			__builtin_trap();
		return;
	}
	if (m.rm_n > NEGOTIATE_MAX_REALMS)
		__builtin_trap();
	for (size_t i = 0; i < m.rm_n; i++) {
		size_t dl;

		if (memchr(m.rm_ent[i].realm, '\0',
			sizeof(m.rm_ent[i].realm)) == NULL ||
		    memchr(m.rm_ent[i].domain, '\0',
			sizeof(m.rm_ent[i].domain)) == NULL)
			__builtin_trap();
		snprintf(p, sizeof(p), "x@%s", m.rm_ent[i].realm);
		if (negotiate_map_principal(p, &m, id, &err) < 0)
			__builtin_trap();
		dl = strlen(m.rm_ent[i].domain);
		if (strncmp(id, m.rm_ent[i].domain, dl) != 0 ||
		    strcmp(id + dl, "\\x") != 0)
			__builtin_trap();
	}
}

static void
principal(const char *text)
{
	static struct negotiate_realm_map m;
	static int have;
	struct wsd_err err = { WSD_OK, NULL };
	char id[NEGOTIATE_MAX_IDENTITY];
	const char *bs;

	if (!have) {
		if (negotiate_realm_map_parse(
			"CORP.EXAMPLE = CORP, EAST.CORP.EXAMPLE = EAST", &m,
			&err) < 0)
			__builtin_trap();
		have = 1;
	}
	memset(id, 'Z', sizeof(id));
	if (negotiate_map_principal(text, &m, id, &err) < 0) {
		if (err.what == NULL || id[0] != '\0')
			__builtin_trap();
		return;
	}
	if (memchr(id, '\0', sizeof(id)) == NULL ||
	    (bs = strchr(id, '\\')) == NULL || strchr(bs + 1, '\\') != NULL ||
	    bs[1] == '\0')
		__builtin_trap();
	if (!((bs - id == 4 && strncmp(id, "CORP", 4) == 0) ||
		(bs - id == 4 && strncmp(id, "EAST", 4) == 0)))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[4096];
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	if ((data[0] & 1) == 0)
		realm_map(text);
	else
		principal(text);
	return 0;
}
