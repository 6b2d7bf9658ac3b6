/*
 * applicability: compiles the rule file of `wsusutil publish
 * --applicability FILE` (docs/APPLICABILITY.md) into the two boolean
 * expressions of a core fragment's ApplicabilityRules (WUSP.md 6.1): the
 * child of IsInstalled and the child of IsInstallable.
 *
 * Output is in the form real WSUS sends and Windows Update Agents
 * evaluate: one line, BaseApplicabilityRules elements with the fixed "b."
 * prefix (b.WindowsVersion, b.RegDword, ...), unprefixed And / Or / Not /
 * True / False, attributes in double quotes in the order the captures
 * show, empty elements written " />", attribute values escaped (& < > ").
 * No namespace declaration and no colon ever appears in an element name.
 * Only rule elements whose attribute shape was seen in the native
 * captures or is stated by the public BaseApplicabilityRules/BaseTypes
 * schema pages are produced; docs/APPLICABILITY.md lists the source of
 * each. Two uses are wsusd's own conventions for Linux updates, read by
 * wuagent (docs/AGENT.md): `linux` as Not(b.WindowsVersion >= 0), and
 * b.FileExists with an absolute POSIX Path and no Csidl.
 *
 * The rule file is untrusted text: it is size-checked first, must be
 * UTF-8 without control characters, and every line is parsed once into
 * typed fields before anything is written.
 */
#ifndef WSUSD_CATALOG_APPLICABILITY_H
#define WSUSD_CATALOG_APPLICABILITY_H

#include <stddef.h>

#include "common/wsd_err.h"

struct sbuf;

/*
 * Limits. They live here rather than in wsd_limits.h because only this
 * module and its one caller (cmd_publish) see them.
 */
/* The whole rule file. Real rule sets are a few dozen lines; SCUP
 * catalogs carry a few KiB of rules per update. */
#define WSD_MAX_APPL_FILE (64 * 1024)
/* Rules in one file, both sections together. The largest captured
 * IsInstallable (Defender, flow/000003) has under 100 rule elements. */
#define WSD_MAX_APPL_RULES 256
/* One path, subkey, value name or data string, in bytes after the
 * escapes are undone. Windows paths (MAX_PATH 260, long paths 32767)
 * and registry key names (255 per component) fit in practice. */
#define WSD_MAX_APPL_STRING 1024
/*
 * A cap for each output sbuf that no accepted file can exceed: 64 KiB of
 * input escapes to at most 5 x 64 KiB ("&" becomes "&amp;") and 256
 * rules add at most a few hundred bytes of markup each.
 */
#define WSD_APPL_XML_CAP (1024 * 1024)

/*
 * Compiles TEXT (LEN bytes, need not be NUL-terminated) and appends one
 * expression element to each of INSTALLED_XML and INSTALLABLE_XML, both
 * initialised by the caller (sbuf_init). An empty or missing [installed]
 * section gives <False />, an empty or missing [installable] <True /> (the
 * WSUS defaults for a locally published update, WUSP.md 6.1).
 *
 * Returns 0, or a negative wsd_errc with ERR->what a static message and
 * *ERRLINE the 1-based line it concerns (0 when it concerns the whole
 * file, as "file too large" does): WSD_EINVAL for a syntax error,
 * WSD_ETOOBIG when a limit above is exceeded, WSD_ENOMEM. ERRLINE may be
 * NULL. On failure nothing has been appended to either buffer; if an
 * output sbuf itself overflows its cap it is released, as sbuf.h says.
 */
int applicability_compile(const char *text, size_t len,
    struct sbuf *installed_xml, struct sbuf *installable_xml, size_t *errline,
    struct wsd_err *err) WSD_MUST_CHECK;

#endif
