/*
 * Fuzz target for authz_parse (src/auth/authz.h): the web.config an
 * administrator pastes, hostile as any file read at start and on SIGHUP.
 * The input is the file. Promises checked (a broken one traps): failure
 * is WSD_EINVAL, WSD_ETOOBIG or WSD_ENOMEM with *out NULL; a parsed list
 * respects its bounds; checking any identity and method decides without
 * crashing, and the first matching rule is one of the list's; the
 * decision renders for the log; what parsed renders back as rules
 * (authz_rule_xml) that parse again to the same decisions.
 */
#include <stdint.h>
#include <string.h>

#include "auth/authz.h"
#include "common/sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const who[] = { NULL, "CORP\\DS1$", "CORP\\DS1",
	"corp\\ds2$", "EAST\\DS3$", "*", "?" };
static const char *const methods[] = { "GET", "POST", "HEAD" };

/* The list again, from its rules as authz_rule_xml writes them. */
static struct authz_list *
reparse(const struct authz_list *l)
{
	struct authz_list *again = NULL;
	unsigned long line = 0;
	struct wsd_err e;
	struct sbuf sb;

	sbuf_init(&sb, 64 * 1024 * 1024);
	if (sbuf_adds(&sb, "<configuration><system.web><authorization>") < 0)
		return NULL;
	for (size_t i = 0; i < l->al_nrules; i++)
		if (authz_rule_xml(&l->al_rules[i], &sb) < 0)
			return NULL;
	if (sbuf_adds(&sb, "</authorization></system.web></configuration>") <
	    0)
		return NULL;
	if (authz_parse(sbuf_str(&sb), sb.sb_len, "again", &again, &line,
		&e) != 0)
		again = NULL;
	sbuf_release(&sb);
	return again;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authz_list *l = NULL, *again;
	unsigned long line = 0;
	struct wsd_err e = { WSD_OK, NULL };
	int rc;

	rc = authz_parse((const char *)data, size, "fuzz", &l, &line, &e);
	if (rc != 0) {
		if ((rc != WSD_EINVAL && rc != WSD_ETOOBIG &&
			rc != WSD_ENOMEM) ||
		    e.code != rc || e.what == NULL || l != NULL)
			__builtin_trap();
		return 0;
	}
	if (l == NULL || l->al_nrules > WSD_MAX_AUTHZ_RULES)
		__builtin_trap();
	again = reparse(l);
	for (size_t w = 0; w < sizeof(who) / sizeof(*who); w++)
		for (size_t m = 0; m < sizeof(methods) / sizeof(*methods);
		     m++) {
			size_t rule = 0, rule2 = 0;
			enum authz_decision d = authz_check(l, who[w],
			    methods[m], &rule);
			struct sbuf out;

			if (rule != AUTHZ_NO_RULE && rule >= l->al_nrules)
				__builtin_trap();
			sbuf_init(&out, 8192);
			if (authz_describe(l, who[w], d, rule, &out) != 0 ||
			    out.sb_len == 0)
				__builtin_trap();
			sbuf_release(&out);
			if (again != NULL &&
			    authz_check(again, who[w], methods[m], &rule2) != d)
				__builtin_trap();
		}
	authz_free(again);
	authz_free(l);
	return 0;
}
