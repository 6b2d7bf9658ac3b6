#include "net/tls_cert.h"

int
tls_cert_check(const char *cert_path, const char *key_path,
    const char *chain_path, const char *extra_ca_path, const char *name,
    time_t now, struct tls_cert_info *info, struct wsd_err *err)
{
	(void)cert_path; (void)key_path; (void)chain_path; (void)extra_ca_path;
	(void)name; (void)now; (void)info;
	return wsd_fail(err, WSD_EINTERNAL, "not implemented");
}

int
tls_testca_issue(const char *ca_cert_path, const char *ca_key_path,
    const char *cert_path, const char *key_path, const char *const *names,
    unsigned nnames, unsigned days, bool ec, struct wsd_err *err)
{
	(void)ca_cert_path; (void)ca_key_path; (void)cert_path; (void)key_path;
	(void)names; (void)nnames; (void)days; (void)ec;
	return wsd_fail(err, WSD_EINTERNAL, "not implemented");
}
