/*
 * Fuzz target for the export package reader (src/catalog/package.h):
 * `wsusutil import` reads packages made elsewhere, and SECURITY.md S16
 * and S24 treat them as hostile until verified. The input becomes a file
 * (memfd) read by pkg_verify (pass 1: gzip framing, caps, manifest) and
 * pkg_read (pass 2: every record), with small limits so the caps are
 * reached.
 *
 * Input: one mode byte, then the bytes.
 *	bit 0	0: the bytes are the package file as is; 1: they are the
 *		document, gzipped here, so the fuzzer reaches the XML
 *		records instead of stopping at the gzip CRC
 *
 * Checks (a broken one traps): a failure carries a static reason and a
 * NUL-terminated detail; pass 1's manifest is released whatever
 * happens; a document that passes both passes has no more records of
 * each kind than the manifest said and its manifest counts are within
 * the limits.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "catalog/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct counts {
	uint64_t groups, revisions, approvals, contents;
};

static int
on_group(void *arg, const struct pkg_group *g, struct wsd_err *err)
{
	(void)g;
	(void)err;
	((struct counts *)arg)->groups++;
	return 0;
}

static int
on_revision(void *arg, const struct store_revision_in *rv,
    struct wsd_err *err)
{
	(void)rv;
	(void)err;
	((struct counts *)arg)->revisions++;
	return 0;
}

static int
on_approval(void *arg, const struct pkg_approval *a, struct wsd_err *err)
{
	(void)a;
	(void)err;
	((struct counts *)arg)->approvals++;
	return 0;
}

static int
on_content(void *arg, const struct pkg_content *c, struct wsd_err *err)
{
	(void)c;
	(void)err;
	((struct counts *)arg)->contents++;
	return 0;
}

/* DATA gzipped into FD (one member, as the exporter writes). */
static int
gzip_to(int fd, const uint8_t *data, size_t size)
{
	static unsigned char out[1 << 20];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8,
		Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)size;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = deflate(&z, Z_FINISH);
		if (write(fd, out, sizeof(out) - z.avail_out) < 0) {
			deflateEnd(&z);
			return -1;
		}
	} while (rc == Z_OK);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_limits lim;
	struct pkg_manifest m;
	struct pkg_report rep;
	struct wsd_err err = { WSD_OK, NULL };
	struct counts n = { 0, 0, 0, 0 };
	struct pkg_sink sink;
	int fd, rc;

	if (size < 1 || size > (1 << 20))
		return 0;
	if ((fd = memfd_create("pkg", MFD_CLOEXEC)) < 0)
		__builtin_trap();
	if (data[0] & 1) {
		if (gzip_to(fd, data + 1, size - 1) < 0)
			__builtin_trap();
	} else if (size > 1 && write(fd, data + 1, size - 1) !=
		       (ssize_t)(size - 1)) {
		__builtin_trap();
	}
	pkg_limits_default(&lim);
	lim.max_metadata = 4 << 20;
	lim.max_content = 1 << 20;
	lim.max_content_file = 1 << 19;
	lim.max_updates = lim.max_revisions = 64;
	lim.max_groups = lim.max_approvals = lim.max_contents = 32;
	lim.max_files = 32;
	memset(&m, 0, sizeof(m));
	memset(&rep, 0, sizeof(rep));
	rc = pkg_verify(fd, &lim, &m, &rep, &err);
	if (rc < 0 && (err.what == NULL ||
			  memchr(rep.detail, '\0', sizeof(rep.detail)) == NULL))
		__builtin_trap();
	/* Pass 2 runs on its own too: import never reaches it after a
	 * failed pass 1, but its parser must hold either way. */
	memset(&sink, 0, sizeof(sink));
	sink.arg = &n;
	sink.group = on_group;
	sink.revision = on_revision;
	sink.approval = on_approval;
	sink.content_end = on_content;
	err.what = NULL;
	if (pkg_read(fd, &lim, rc == 0 ? &m : NULL, &sink, &rep, &err) < 0) {
		if (err.what == NULL ||
		    memchr(rep.detail, '\0', sizeof(rep.detail)) == NULL)
			__builtin_trap();
	} else if (rc == 0 &&
	    (n.groups > m.groups || n.revisions > m.revisions ||
		n.approvals > m.approvals || n.contents > m.contents ||
		m.revisions > lim.max_revisions)) {
		__builtin_trap();
	}
	pkg_manifest_release(&m);
	close(fd);
	return 0;
}
