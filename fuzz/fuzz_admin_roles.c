/*
 * Fuzz target for admin_roles_parse (src/auth/admin_roles.h): DIR/admins
 * as an administrator might edit it by hand. The input is the file.
 * Promises checked (a broken one traps): failure is WSD_EINVAL,
 * WSD_ETOOBIG or WSD_ENOMEM with ERR set and *out NULL, and a line
 * number within the file (0 only for a file over its size); a parsed
 * list holds at most ADMIN_ROLES_MAX_RULES rules, each with a known role
 * and kind and a name the principal rules take; the rules written back
 * as "ROLE KIND:NAME" lines parse again to the same rules; the edits
 * `wsusutil admins` makes succeed on the text and give the role asked
 * for, and removing a listed name leaves it unlisted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/admin_roles.h"
#include "common/sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = { "user", "group", "cert" };

static bool
same_rules(const struct admin_roles *a, const struct admin_roles *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->rules[i].ar_role != b->rules[i].ar_role ||
		    a->rules[i].ar_kind != b->rules[i].ar_kind ||
		    strcmp(a->rules[i].ar_name, b->rules[i].ar_name) != 0)
			return false;
	return true;
}

static struct admin_roles *
parse_or_trap(const char *text, size_t len)
{
	struct admin_roles *r = NULL;
	unsigned long line = 0;
	struct wsd_err e;

	if (admin_roles_parse(text, len, &r, &line, &e) != 0 || r == NULL)
		__builtin_trap();
	return r;
}

/* The role LIST gives KIND:NAME through the matching it is used with. */
static enum admin_role
role_of(const struct admin_roles *l, enum admin_principal_kind kind,
    const char *name)
{
	const char *g[1] = { name };

	switch (kind) {
	case PRINCIPAL_USER:
		return admin_role_for_local(l, name, NULL, 0);
	case PRINCIPAL_GROUP:
		return admin_role_for_local(l, NULL, g, 1);
	case PRINCIPAL_CERT:
	default:
		return admin_role_for_cert(l, name);
	}
}

static void
check_edits(const char *text, size_t len, const struct admin_rule *first)
{
	struct admin_rule set = *first;
	struct admin_roles *after;
	struct wsd_err e;
	char *out = NULL;
	int rc;

	set.ar_role = first->ar_role == ROLE_ADMINISTRATOR ? ROLE_REPORTER
							   : ROLE_ADMINISTRATOR;
	rc = admin_roles_edit_set(text, len, &set, &out, &e);
	/* A longer line may legitimately push a full file over its cap. */
	if (rc == WSD_ETOOBIG && out == NULL && len + 32 > ADMIN_ROLES_MAX_FILE)
		return;
	if (rc != 0 || out == NULL)
		__builtin_trap();
	after = parse_or_trap(out, strlen(out));
	if (role_of(after, set.ar_kind, set.ar_name) != set.ar_role)
		__builtin_trap();
	admin_roles_free(after);
	free(out);
	out = NULL;
	if (admin_roles_edit_remove(text, len, first->ar_kind, first->ar_name,
		&out, &e) != 0 ||
	    out == NULL)
		__builtin_trap();
	after = parse_or_trap(out, strlen(out));
	if (role_of(after, first->ar_kind, first->ar_name) != ROLE_NONE)
		__builtin_trap();
	admin_roles_free(after);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admin_roles *r = NULL, *again;
	unsigned long line = 12345, lines = 1;
	struct wsd_err e = { WSD_OK, NULL };
	struct sbuf sb;
	int rc;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	rc = admin_roles_parse((const char *)data, size, &r, &line, &e);
	if (rc != 0) {
		if ((rc != WSD_EINVAL && rc != WSD_ETOOBIG &&
			rc != WSD_ENOMEM) ||
		    e.code != rc || e.what == NULL || r != NULL ||
		    line > lines ||
		    (line == 0 && size <= ADMIN_ROLES_MAX_FILE &&
			rc != WSD_ENOMEM))
			__builtin_trap();
		return 0;
	}
	if (r == NULL || r->n > ADMIN_ROLES_MAX_RULES)
		__builtin_trap();
	sbuf_init(&sb, 4 * ADMIN_ROLES_MAX_FILE);
	for (size_t i = 0; i < r->n; i++) {
		const struct admin_rule *x = &r->rules[i];
		struct admin_rule p;
		char full[ADMIN_ROLES_MAX_NAME + 8];

		if (x->ar_role < ROLE_REPORTER ||
		    x->ar_role > ROLE_ADMINISTRATOR ||
		    (unsigned)x->ar_kind > PRINCIPAL_CERT ||
		    strlen(x->ar_name) > ADMIN_ROLES_MAX_NAME)
			__builtin_trap();
		snprintf(full, sizeof(full), "%s:%s", kinds[x->ar_kind],
		    x->ar_name);
		if (admin_principal_parse(full, &p) != 0 ||
		    p.ar_kind != x->ar_kind ||
		    strcmp(p.ar_name, x->ar_name) != 0)
			__builtin_trap();
		/* Every rule gives its caller at least its role. */
		if (role_of(r, x->ar_kind, x->ar_name) < x->ar_role)
			__builtin_trap();
		if (sbuf_addf(&sb, "%s %s\n", admin_role_name(x->ar_role),
			full) < 0)
			__builtin_trap();
	}
	again = parse_or_trap(sbuf_str(&sb), sb.sb_len);
	if (!same_rules(r, again))
		__builtin_trap();
	admin_roles_free(again);
	sbuf_release(&sb);
	if (r->n > 0)
		check_edits((const char *)data, size, &r->rules[0]);
	admin_roles_free(r);
	return 0;
}
