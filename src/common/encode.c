#include "common/encode.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/strparse.h"

void
hex_encode_upper(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_decode(const char *in, size_t inlen, unsigned char *out, size_t n)
{
	if (inlen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit((unsigned char)in[2 * i]);
		int lo = hex_digit((unsigned char)in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
b64_encode(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int
b64_decode_exact(const char *in, size_t inlen, unsigned char *out, size_t n)
{
	unsigned char buf[96];
	size_t pad = 0;
	int got;

	/* Padded base64 of N bytes is exactly 4*ceil(N/3) characters. */
	if (n > 64 || inlen != 4 * ((n + 2) / 3))
		return -1;
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '=') {
			if (i < inlen - 2)
				return -1;
			pad++;
			continue;
		}
		if (pad > 0)
			return -1; /* data after padding */
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)inlen);
	/* EVP_DecodeBlock counts padding bytes as data: take them off. */
	if (got < 0 || (size_t)got - pad != n)
		return -1;
	{
		/* Canonical only: the spare bits of the last character must be
		 * zero, so one digest has exactly one spelling. */
		char again[4 * ((64 + 2) / 3) + 1];

		EVP_EncodeBlock((unsigned char *)again, buf, (int)n);
		if (memcmp(again, in, inlen) != 0)
			return -1;
	}
	memcpy(out, buf, n);
	return 0;
}

int
guid_normalize(const char *in, char out[37])
{
	static const int dash[] = { 8, 13, 18, 23 };

	if (strlen(in) != 36)
		return -1;
	for (int i = 0, d = 0; i < 36; i++) {
		char c = in[i];

		if (d < 4 && i == dash[d]) {
			if (c != '-')
				return -1;
			out[i] = '-';
			d++;
			continue;
		}
		if (hex_digit((unsigned char)c) < 0)
			return -1;
		out[i] = (c >= 'A' && c <= 'F') ? (char)(c + 32) : c;
	}
	out[36] = '\0';
	return 0;
}

void
guid_format(const unsigned char b[16], char out[37])
{
	static const char digits[] = "0123456789abcdef";
	int w = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[w++] = '-';
		out[w++] = digits[b[i] >> 4];
		out[w++] = digits[b[i] & 15];
	}
	out[w] = '\0';
}

int
guid_bytes(const char *guid, unsigned char out[16])
{
	char norm[37], hex[32];
	size_t h = 0;

	if (guid_normalize(guid, norm) < 0)
		return -1;
	for (const char *p = norm; *p; p++)
		if (*p != '-')
			hex[h++] = *p;
	return hex_decode(hex, h, out, 16);
}

int
guid_generate(char out[37], struct wsd_err *err)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return wsd_fail(err, WSD_EINTERNAL, "no random bytes");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	guid_format(b, out);
	return 0;
}
