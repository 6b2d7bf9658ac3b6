/*
 * The CommandLineInstallation handler's data of an extended fragment
 * (fragment.h, fragment_parse_cmdline): what an agent needs to run an
 * update's installer. Read with the same safe reader as every other
 * fragment; only the InstallCommand element is interpreted.
 */
#include "catalog/fragment.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/fragment_int.h"
#include "common/strparse.h"

#define CMDLINE_TYPE "cmd:CommandLineInstallation"

void
fragment_cmdline_info_release(struct fragment_cmdline_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->program);
	free(ci->arguments);
	free(ci->codes);
	memset(ci, 0, sizeof(*ci));
}

static const xmlNode *
next_elem(const xmlNode *n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

/* "true"/"1", "false"/"0"; absent is UNSET. */
static int
tristate(const char *v, enum fragment_tristate *out, const char *what,
    struct wsd_err *err)
{
	if (v == NULL)
		*out = FRAGMENT_UNSET;
	else if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = FRAGMENT_TRUE;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = FRAGMENT_FALSE;
	else
		return wsd_fail(err, WSD_EINVAL, what);
	return 0;
}

static int
result(const char *v, enum fragment_result *out, const char *what,
    struct wsd_err *err)
{
	if (v == NULL)
		*out = FRAGMENT_RESULT_UNSET;
	else if (strcmp(v, "Succeeded") == 0)
		*out = FRAGMENT_RESULT_SUCCEEDED;
	else if (strcmp(v, "Failed") == 0)
		*out = FRAGMENT_RESULT_FAILED;
	else if (strcmp(v, "Cancelled") == 0)
		*out = FRAGMENT_RESULT_CANCELLED;
	else
		return wsd_fail(err, WSD_EINVAL, what);
	return 0;
}

/* A decimal int32, optionally negative (Windows writes HRESULTs so). */
static int
code_of(const char *v, int32_t *out, struct wsd_err *err)
{
	bool neg = v != NULL && v[0] == '-';
	uint64_t u;

	if (v == NULL ||
	    strparse_u64_all(v + neg, 0, neg ? 2147483648u : 2147483647u, &u) <
		0)
		return wsd_fail(err, WSD_EINVAL,
		    "ReturnCode Code is not a 32-bit decimal number");
	*out = neg ? (int32_t)(-(int64_t)u) : (int32_t)u;
	return 0;
}

static int
parse_install_command(const xmlNode *ic, struct fragment_cmdline_info *out,
    struct wsd_err *err)
{
	const char *prog = frag_attr_get(ic, "Program");
	const char *args = frag_attr_get(ic, "Arguments");
	size_t n = 0;
	int rc;

	if (prog == NULL || prog[0] == '\0')
		return wsd_fail(err, WSD_EINVAL,
		    "InstallCommand without Program");
	if ((rc = tristate(frag_attr_get(ic, "RebootByDefault"),
		 &out->reboot_by_default, "bad RebootByDefault", err)) < 0 ||
	    (rc = result(frag_attr_get(ic, "DefaultResult"),
		 &out->default_result, "bad DefaultResult", err)) < 0)
		return rc;
	if ((out->program = strdup(prog)) == NULL ||
	    (args != NULL && (out->arguments = strdup(args)) == NULL))
		return wsd_fail(err, WSD_ENOMEM, "fragment: out of memory");
	for (const xmlNode *c = next_elem(ic->children); c != NULL;
	     c = next_elem(c->next))
		if (frag_is_name(c, "ReturnCode"))
			n++;
	if (n > WSD_MAX_FRAGMENT_RETURN_CODES)
		return wsd_fail(err, WSD_ETOOBIG,
		    "more than 256 ReturnCode elements "
		    "(WSD_MAX_FRAGMENT_RETURN_CODES)");
	if (n == 0)
		return 0;
	if ((out->codes = calloc(n, sizeof(*out->codes))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "fragment: out of memory");
	for (const xmlNode *c = next_elem(ic->children); c != NULL;
	     c = next_elem(c->next)) {
		struct fragment_return_code *r;

		if (!frag_is_name(c, "ReturnCode"))
			continue; /* unknown children are skipped */
		r = &out->codes[out->n_codes];
		if ((rc = code_of(frag_attr_get(c, "Code"), &r->code, err)) <
			0 ||
		    (rc = result(frag_attr_get(c, "Result"), &r->result,
			 "bad ReturnCode Result", err)) < 0 ||
		    (rc = tristate(frag_attr_get(c, "Reboot"), &r->reboot,
			 "bad ReturnCode Reboot", err)) < 0)
			return rc;
		if (r->result == FRAGMENT_RESULT_UNSET)
			return wsd_fail(err, WSD_EINVAL,
			    "ReturnCode without Result");
		out->n_codes++;
	}
	return 0;
}

int
fragment_parse_cmdline(const char *xml, size_t len,
    struct fragment_cmdline_info *out, struct wsd_err *err)
{
	struct fragment_extended_info ei;
	const xmlNode *hsd = NULL, *ic = NULL;
	xmlDoc *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	/* The whole fragment must be a valid extended fragment first. */
	if ((rc = fragment_parse_extended(xml, len, &ei, err)) < 0)
		return rc;
	fragment_extended_info_release(&ei);
	if ((rc = frag_read(xml, len, WSD_MAX_FRAGMENT_DEPTH, false, &doc,
		 err)) < 0)
		return rc;
	for (const xmlNode *c = next_elem(xmlDocGetRootElement(doc)->children);
	     c != NULL; c = next_elem(c->next))
		if (frag_is_name(c, "HandlerSpecificData")) {
			const char *t = frag_attr_get(c, "type");

			if (t != NULL && strcmp(t, CMDLINE_TYPE) == 0)
				hsd = c;
		}
	for (const xmlNode *c = hsd != NULL ? next_elem(hsd->children) : NULL;
	     c != NULL; c = next_elem(c->next))
		if (frag_is_name(c, "InstallCommand")) {
			if (ic != NULL) {
				rc = wsd_fail(err, WSD_EINVAL,
				    "more than one InstallCommand");
				goto fail;
			}
			ic = c;
		}
	if (ic == NULL) {
		rc = wsd_fail(err, WSD_ENOTFOUND,
		    "no CommandLineInstallation InstallCommand");
		goto fail;
	}
	if ((rc = parse_install_command(ic, out, err)) < 0)
		goto fail;
	xmlFreeDoc(doc);
	return 0;
fail:
	xmlFreeDoc(doc);
	fragment_cmdline_info_release(out);
	return rc;
}
