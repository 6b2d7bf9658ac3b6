/* Shared libcurl client settings and messages: curl_tls.h. */
#include "net/curl_tls.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509_vfy.h>

#include "common/wsd_err.h"
#include "net/tls.h"

/* Applied to every handshake's SSL_CTX. */
static CURLcode
apply_policy(CURL *curl, void *ssl_ctx, void *arg)
{
	(void)curl;
	(void)arg;
	return tls_client_policy(ssl_ctx) < 0 ? CURLE_SSL_CIPHER :
						CURLE_OK;
}

CURLcode
curl_tls_setup(CURL *curl, const char *ca_file)
{
	CURLcode c;

	if ((c = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L)) !=
		CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_SSLVERSION,
		 (long)CURL_SSLVERSION_TLSv1_2)) != CURLE_OK ||
	    (c = curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION,
		 apply_policy)) != CURLE_OK)
		return c;
	if (ca_file != NULL && ca_file[0] != '\0' &&
	    ((c = curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file)) !=
		    CURLE_OK ||
		(c = curl_easy_setopt(curl, CURLOPT_CAPATH, NULL)) != CURLE_OK))
		return c;
	return CURLE_OK;
}

int
curl_check_url(const char *url, bool http_ok, const char *why_https, char *host,
    size_t host_size, char *msg, size_t msg_size)
{
	CURLU *u;
	char *scheme = NULL, *hp = NULL;
	int rc = 0;

	host[0] = '\0';
	if ((u = curl_url()) == NULL) {
		snprintf(msg, msg_size, "out of memory");
		return WSD_ENOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &hp, 0) != CURLUE_OK) {
		snprintf(msg, msg_size, "not a valid URL: %.200s", url);
		rc = WSD_EINVAL;
	} else if (strcasecmp(scheme, "https") == 0) {
		snprintf(host, host_size, "%s", hp);
	} else if (strcasecmp(scheme, "http") == 0) {
		if (http_ok)
			snprintf(host, host_size, "%s", hp);
		else {
			snprintf(msg, msg_size, "refusing %.200s: %s", url,
			    why_https);
			rc = WSD_EPERM;
		}
	} else {
		snprintf(msg, msg_size,
		    "refusing %.200s: only http and https URLs are used", url);
		rc = WSD_EPERM;
	}
	curl_free(scheme);
	curl_free(hp);
	curl_url_cleanup(u);
	return rc;
}


static bool
verify_untrusted(long v)
{
	switch (v) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return true;
	default:
		return false;
	}
}

int
curl_transfer_cause(CURL *curl, CURLcode c, const char *errbuf,
    const char *host, char *msg, size_t msg_size)
{
	const char *eb =
	    errbuf != NULL && errbuf[0] != '\0' ? errbuf : curl_easy_strerror(c);
	long v = X509_V_OK;

	switch (c) {
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		snprintf(msg, msg_size,
		    "TLS refused: %s: pin mismatch: its public key is not one "
		    "of the pinned keys (%s)",
		    host, eb);
		return WSD_ETLS;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		if (curl_easy_getinfo(curl, CURLINFO_SSL_VERIFYRESULT,
			&v) != CURLE_OK)
			v = X509_V_OK;
		if (v == X509_V_ERR_CERT_HAS_EXPIRED)
			snprintf(msg, msg_size,
			    "TLS refused: %s: certificate has expired (%s)",
			    host, eb);
		else if (v == X509_V_ERR_CERT_NOT_YET_VALID)
			snprintf(msg, msg_size,
			    "TLS refused: %s: certificate is not yet valid "
			    "(%s)",
			    host, eb);
		else if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
		    v == X509_V_ERR_IP_ADDRESS_MISMATCH)
			snprintf(msg, msg_size,
			    "TLS refused: certificate name does not match %s "
			    "(%s)",
			    host, eb);
		else if (verify_untrusted(v))
			snprintf(msg, msg_size,
			    "TLS refused: %s: certificate is not trusted: %s "
			    "(%s)",
			    host, X509_verify_cert_error_string(v), eb);
		/*
		 * curl 7.88 presets the verify result to 1 (UNSPECIFIED) and
		 * stores OpenSSL's only after its own host name check: a
		 * name mismatch leaves 0 or 1 and says so in the buffer.
		 */
		else if (v != X509_V_OK && v != X509_V_ERR_UNSPECIFIED)
			snprintf(msg, msg_size,
			    "TLS refused: %s: certificate verification failed: "
			    "%s (%s)",
			    host, X509_verify_cert_error_string(v), eb);
		else if (c == CURLE_PEER_FAILED_VERIFICATION &&
		    strstr(eb, "name") != NULL)
			/* curl's host check: "no alternative certificate
			 * subject name matches target host name ..." */
			snprintf(msg, msg_size,
			    "TLS refused: certificate name does not match %s "
			    "(%s)",
			    host, eb);
		else if (c == CURLE_PEER_FAILED_VERIFICATION)
			snprintf(msg, msg_size,
			    "TLS refused: %s: certificate verification failed "
			    "(%s)",
			    host, eb);
		else
			snprintf(msg, msg_size,
			    "TLS refused: handshake with %s failed (%s)", host,
			    eb);
		return WSD_ETLS;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(msg, msg_size,
		    "TLS refused: cannot use the CA file (%s)", eb);
		return WSD_ETLS;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(msg, msg_size, "%s: timed out (%s)", host, eb);
		return WSD_EAGAIN;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		snprintf(msg, msg_size, "%s: cannot connect (%s)", host, eb);
		return WSD_EAGAIN;
	case CURLE_SSL_INVALIDCERTSTATUS:
		snprintf(msg, msg_size, "TLS refused: %s: %s", host, eb);
		return WSD_ETLS;
	default:
		snprintf(msg, msg_size, "%s: %s", host, eb);
		return WSD_EAGAIN;
	}
}
