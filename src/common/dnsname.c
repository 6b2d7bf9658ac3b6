#include "common/dnsname.h"

#include <stddef.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* RFC 1035 2.3.4: 255 octets on the wire, 253 characters as text. */
#define DNSNAME_MAX_LEN   253
#define DNSNAME_MAX_LABEL 63

/*
 * Checks the N bytes at S label by label (see dnsname.h). Sets *NUMERIC to
 * whether the last label is all digits.
 */
static bool
ldh_labels(const char *s, size_t n, bool *numeric)
{
	size_t label = 0;
	bool digits = true;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (c == '-') {
			if (label == 0)
				return false;
			digits = false;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			digits = false;
		} else if (c < '0' || c > '9') {
			return false;
		}
		if (++label > DNSNAME_MAX_LABEL)
			return false;
	}
	if (label == 0 || s[n - 1] == '-')
		return false;
	*numeric = digits;
	return true;
}

bool
dnsname_valid(const char *s)
{
	size_t n = strnlen(s, DNSNAME_MAX_LEN + 1);
	bool numeric;

	return n <= DNSNAME_MAX_LEN && ldh_labels(s, n, &numeric);
}

bool
dnsname_valid_san(const char *s)
{
	size_t n = strnlen(s, DNSNAME_MAX_LEN + 1);
	bool numeric;

	if (n > DNSNAME_MAX_LEN)
		return false;
	if (s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	return ldh_labels(s, n, &numeric) && !numeric;
}

bool
ipaddr_literal(const char *s)
{
	unsigned char b[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}
