/*
 * Fuzz target for catalog/sign_policy.h: the bytes of a package a server
 * offers, read as a PE file's headers and certificate table, and as the
 * PKCS#7 signature osslsigncode takes out of a package.
 *
 * Input: any bytes (seeds: signed PE, CAB and MSI files, a signature).
 *
 * Promises checked (a broken one traps):
 * - every call returns 0, 1 (the locators and cfb_end only) or a negative
 *   code with err naming the problem;
 * - a located PE table or CAB signature lies inside the file and ends
 *   it, and is at most SIGN_PE_TABLE_MAX bytes;
 * - an accepted certificate table is 8-byte aligned, and one byte less
 *   of it is refused;
 * - a compound file (MSI) accepted as ending with its last sector is
 *   refused with one more byte after it.
 */
#include <stdint.h>
#include <string.h>

#include "catalog/sign_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			__builtin_trap();                                      \
	} while (0)

static void
check_rc(int rc, const struct wsd_err *err, int hi)
{
	CHECK(rc <= hi);
	if (rc < 0)
		CHECK(err->what != NULL && err->what[0] != '\0' &&
		    err->code == rc);
}

struct mem {
	const uint8_t *p;
	size_t n;
};

static int
mem_read(void *ctx, uint64_t off, void *buf, size_t n)
{
	const struct mem *m = ctx;

	if (off > m->n || n > m->n - off)
		return -1;
	memcpy(buf, m->p + off, n);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wsd_err err = { 0, NULL };
	size_t hl = size < SIGN_PE_HEADER_MAX ? size : SIGN_PE_HEADER_MAX;
	uint32_t off = 0, tsize = 0;
	int rc;

	rc = sign_policy_pe_locate(data, hl, size, &off, &tsize, &err);
	check_rc(rc, &err, 1);
	if (rc == 1) {
		CHECK((uint64_t)off + tsize == size);
		CHECK(tsize > 0 && tsize <= SIGN_PE_TABLE_MAX);
		err.what = NULL;
		rc = sign_policy_pe_table(data + off, tsize, &err);
		check_rc(rc, &err, 0);
	}
	err.what = NULL;
	rc = sign_policy_cab_locate(data, hl, size, &off, &tsize, &err);
	check_rc(rc, &err, 1);
	if (rc == 1) {
		CHECK((uint64_t)off + tsize == size);
		CHECK(tsize > 0 && tsize <= SIGN_PE_TABLE_MAX);
		err.what = NULL;
		check_rc(sign_policy_cab_sig(data + off, tsize, &err), &err,
		    0);
	}
	/* The whole input as a table, and as a signature. */
	err.what = NULL;
	rc = sign_policy_pe_table(data, size, &err);
	check_rc(rc, &err, 0);
	if (rc == 0) {
		/* Accepted: 8-byte aligned, so one byte less is refused. */
		CHECK(size % 8 == 0);
		CHECK(sign_policy_pe_table(data, size - 1, &err) < 0);
	}
	err.what = NULL;
	check_rc(sign_policy_digests(data, size, &err), &err, 0);
	{
		struct mem m = { data, size };

		err.what = NULL;
		rc = sign_policy_cfb_end(mem_read, &m, size, &err);
		check_rc(rc, &err, 1);
		/* The reader refuses past the end: a size one byte larger
		 * can never pass as a compound file that ends there. */
		if (rc == 0)
			CHECK(sign_policy_cfb_end(mem_read, &m, size + 1,
				  &err) < 0);
	}
	return 0;
}
