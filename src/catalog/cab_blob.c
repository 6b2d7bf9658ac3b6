/* XmlUpdateBlobCompressed cabinets: cab_blob.h. */
#include "catalog/cab_blob.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mspack.h>
#include <zlib.h>

#include "common/sbuf.h"
#include "common/xmlesc.h"

/*
 * MS-CAB layout of what cab_blob_pack writes: CFHEADER (36 bytes, no
 * reserved area), one CFFOLDER (8), one CFFILE (16 + "blob\0"), then the
 * CFDATA blocks (8-byte header + data each). All integers little-endian.
 */
#define CFHEADER_SIZE 36
#define CFFOLDER_SIZE 8
#define CFFILE_SIZE   16
#define CFDATA_SIZE   8
#define BLOB_NAME     "blob"
#define OFF_FOLDER    CFHEADER_SIZE
#define OFF_FILE      (OFF_FOLDER + CFFOLDER_SIZE)
#define OFF_DATA      (OFF_FILE + CFFILE_SIZE + sizeof(BLOB_NAME))
/* CFFOLDER.cCFData is 16 bits. */
#define MAX_BLOCKS 65535u
#define TYPE_MSZIP 1
/* CFFILE date 1980-01-01 (MS-DOS: day 1, month 1, year 0), time 00:00. */
#define DOS_DATE  0x0021
#define ATTR_ARCH 0x20

/* Names the in-memory mspack_system hands out; nothing else opens. */
static const char mem_in_name[] = "wsusd-cab-in";
static const char mem_out_name[] = "wsusd-cab-out";

static void
put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static uint32_t
get16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
get32(const unsigned char *p)
{
	return get16(p) | get16(p + 2) << 16;
}

/*
 * MS-CAB CSUMCompute: the XOR of the little-endian 32-bit words of P,
 * the 1-3 trailing bytes packed with the first of them highest (so
 * "ab" is 0x00006162, not 0x00006261), starting from SEED.
 */
static uint32_t
cab_csum(const unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t sum = seed, ul = 0;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4)
		sum ^= get32(p + i);
	for (; i < n; i++)
		ul = ul << 8 | p[i];
	return sum ^ ul;
}

/* ------------------------------------------------------------------ */
/* UTF-8 <-> UTF-16LE */

/* UTF8 as UTF-16LE into a new buffer (*OUT, *OUTLEN bytes; caller
 * frees). Each UTF-8 byte makes at most two UTF-16 bytes. */
static int
utf8_to_utf16le(const char *utf8, size_t len, unsigned char **out,
    size_t *outlen, struct wsd_err *err)
{
	const unsigned char *s = (const unsigned char *)utf8;
	unsigned char *u;
	size_t i = 0, o = 0, k;
	uint32_t cp;

	if (len > (size_t)MAX_BLOCKS * CAB_BLOB_BLOCK / 2 + 2)
		return wsd_fail(err, WSD_ETOOBIG,
		    "document too large for a cabinet");
	if ((u = malloc(len > 0 ? 2 * len : 1)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	while (i < len) {
		if ((k = xmlesc_utf8(s + i, len - i, &cp)) == 0) {
			free(u);
			return wsd_fail(err, WSD_EINVAL,
			    "document is not valid UTF-8");
		}
		if (cp == 0) {
			free(u);
			return wsd_fail(err, WSD_EINVAL,
			    "document holds a NUL character");
		}
		i += k;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			put16(u + o, 0xd800 | cp >> 10);
			put16(u + o + 2, 0xdc00 | (cp & 0x3ff));
			o += 4;
		} else {
			put16(u + o, cp);
			o += 2;
		}
	}
	*out = u;
	*outlen = o;
	return 0;
}

/* Appends the UTF-8 form of the UTF-16LE text U (N bytes, even). */
static int
utf16le_to_utf8(const unsigned char *u, size_t n, struct sbuf *out,
    struct wsd_err *err)
{
	unsigned char chunk[4096];
	size_t k = 0, i = 0;
	uint32_t c, lo;
	int rc;

	if (n % 2 != 0)
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: odd number of UTF-16 bytes");
	if (n >= 2 && u[0] == 0xff && u[1] == 0xfe)
		i = 2;
	else if (n >= 2 && u[0] == 0xfe && u[1] == 0xff)
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: big-endian UTF-16, not UTF-16LE");
	for (; i < n; i += 2) {
		c = get16(u + i);
		if (c >= 0xdc00 && c <= 0xdfff)
			return wsd_fail(err, WSD_EINVAL,
			    "compressed metadata: unpaired UTF-16 surrogate");
		if (c >= 0xd800 && c <= 0xdbff) {
			if (i + 4 > n || (lo = get16(u + i + 2)) < 0xdc00 ||
			    lo > 0xdfff)
				return wsd_fail(err, WSD_EINVAL,
				    "compressed metadata: unpaired UTF-16 "
				    "surrogate");
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		}
		if (c == 0)
			return wsd_fail(err, WSD_EINVAL,
			    "compressed metadata holds a NUL character");
		if (k > sizeof(chunk) - 4) {
			if ((rc = sbuf_add(out, chunk, k)) < 0)
				return wsd_fail(err, rc,
				    rc == WSD_ETOOBIG
					? "compressed metadata too large"
					: "out of memory");
			k = 0;
		}
		if (c < 0x80) {
			chunk[k++] = (unsigned char)c;
		} else if (c < 0x800) {
			chunk[k++] = (unsigned char)(0xc0 | c >> 6);
			chunk[k++] = (unsigned char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			chunk[k++] = (unsigned char)(0xe0 | c >> 12);
			chunk[k++] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
			chunk[k++] = (unsigned char)(0x80 | (c & 0x3f));
		} else {
			chunk[k++] = (unsigned char)(0xf0 | c >> 18);
			chunk[k++] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
			chunk[k++] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
			chunk[k++] = (unsigned char)(0x80 | (c & 0x3f));
		}
	}
	if (k > 0 && (rc = sbuf_add(out, chunk, k)) < 0)
		return wsd_fail(err, rc,
		    rc == WSD_ETOOBIG ? "compressed metadata too large"
				      : "out of memory");
	return 0;
}

/* Cuts OUT back to MARK after a failure, unless sbuf released it. */
static void
sbuf_cut(struct sbuf *out, size_t mark)
{
	if (out->sb_buf != NULL && out->sb_len >= mark) {
		out->sb_len = mark;
		out->sb_buf[mark] = '\0';
	}
}

/* ------------------------------------------------------------------ */
/* Packing */

int
cab_blob_pack(const char *utf8, size_t len, struct sbuf *out,
    struct wsd_err *err)
{
	unsigned char hdr[OFF_DATA], bh[CFDATA_SIZE], *u16 = NULL, *zb = NULL;
	size_t mark = out->sb_len, ulen = 0, nblk, zcap;
	z_stream z;
	bool zinit = false;
	int rc;

	if ((rc = utf8_to_utf16le(utf8, len, &u16, &ulen, err)) < 0)
		return rc;
	nblk = (ulen + CAB_BLOB_BLOCK - 1) / CAB_BLOB_BLOCK;
	if (nblk > MAX_BLOCKS) {
		rc = wsd_fail(err, WSD_ETOOBIG,
		    "document too large for a cabinet");
		goto fail;
	}
	memset(&z, 0, sizeof(z));
	/* zlib's default level: on metadata XML, level 9 took ~5 times
	 * the CPU for ~10% smaller blobs, and GetUpdateData is where an
	 * upstream spends its time (bench/sync.sh). */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
		Z_DEFAULT_STRATEGY) != Z_OK) {
		rc = wsd_fail(err, WSD_ENOMEM, "deflateInit2 failed");
		goto fail;
	}
	zinit = true;
	/* "CK" plus the worst case of one block; well under CFDATA's
	 * 16-bit cbData. */
	zcap = 2 + deflateBound(&z, CAB_BLOB_BLOCK);
	if ((zb = malloc(zcap)) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, "MSCF", 4);
	/* cbCabinet (offset 8) is patched in when the size is known. */
	put32(hdr + 16, OFF_FILE); /* coffFiles */
	hdr[24] = 3;               /* versionMinor */
	hdr[25] = 1;               /* versionMajor */
	put16(hdr + 26, 1);        /* cFolders */
	put16(hdr + 28, 1);        /* cFiles; flags, setID, iCabinet 0 */
	put32(hdr + OFF_FOLDER, OFF_DATA); /* coffCabStart */
	put16(hdr + OFF_FOLDER + 4, (uint32_t)nblk);
	put16(hdr + OFF_FOLDER + 6, TYPE_MSZIP);
	put32(hdr + OFF_FILE, (uint32_t)ulen); /* cbFile */
	/* uoffFolderStart 0, iFolder 0 */
	put16(hdr + OFF_FILE + 10, DOS_DATE);
	put16(hdr + OFF_FILE + 12, 0);
	put16(hdr + OFF_FILE + 14, ATTR_ARCH);
	memcpy(hdr + OFF_FILE + CFFILE_SIZE, BLOB_NAME, sizeof(BLOB_NAME));
	if ((rc = sbuf_add(out, hdr, sizeof(hdr))) < 0)
		goto sbuf_failed;

	for (size_t b = 0; b < nblk; b++) {
		size_t off = b * CAB_BLOB_BLOCK;
		size_t n =
		    ulen - off < CAB_BLOB_BLOCK ? ulen - off : CAB_BLOB_BLOCK;
		size_t zn;

		if (deflateReset(&z) != Z_OK) {
			rc =
			    wsd_fail(err, WSD_EINTERNAL, "deflateReset failed");
			goto fail;
		}
		zb[0] = 'C';
		zb[1] = 'K';
		z.next_in = u16 + off;
		z.avail_in = (uInt)n;
		z.next_out = zb + 2;
		z.avail_out = (uInt)(zcap - 2);
		/* deflateBound promises one call is enough. */
		if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
			rc = wsd_fail(err, WSD_EINTERNAL, "deflate failed");
			goto fail;
		}
		zn = 2 + z.total_out;
		if (zn > 0xffff) {
			rc = wsd_fail(err, WSD_EINTERNAL,
			    "deflate block too large");
			goto fail;
		}
		put16(bh + 4, (uint32_t)zn); /* cbData */
		put16(bh + 6, (uint32_t)n);  /* cbUncomp */
		put32(bh, cab_csum(bh + 4, 4, cab_csum(zb, zn, 0)));
		if ((rc = sbuf_add(out, bh, sizeof(bh))) < 0 ||
		    (rc = sbuf_add(out, zb, zn)) < 0)
			goto sbuf_failed;
	}
	if (out->sb_len - mark > UINT32_MAX) {
		rc = wsd_fail(err, WSD_ETOOBIG,
		    "document too large for a cabinet");
		goto fail;
	}
	put32((unsigned char *)out->sb_buf + mark + 8,
	    (uint32_t)(out->sb_len - mark));
	deflateEnd(&z);
	free(zb);
	free(u16);
	return 0;
sbuf_failed:
	rc = wsd_fail(err, rc,
	    rc == WSD_ETOOBIG ? "compressed document too large"
			      : "out of memory");
fail:
	if (zinit)
		deflateEnd(&z);
	free(zb);
	free(u16);
	sbuf_cut(out, mark);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Unpacking: libmspack over memory */

struct mem_sys {
	struct mspack_system ms; /* first: libmspack passes &ms as self */
	const unsigned char *in;
	size_t in_len;
	unsigned char *out; /* the file "blob", out_cap bytes */
	size_t out_cap;
	size_t out_len;
	bool out_over; /* a write went past out_cap */
};

struct mem_file {
	struct mem_sys *sys;
	bool is_out;
	size_t pos; /* input only */
};

static struct mspack_file *
mem_open(struct mspack_system *self, const char *filename, int mode)
{
	struct mem_sys *s = (struct mem_sys *)self;
	struct mem_file *f;
	bool is_out;

	/* libmspack opens the cabinet again for each extraction, so every
	 * input handle has a position of its own. */
	if (mode == MSPACK_SYS_OPEN_READ && strcmp(filename, mem_in_name) == 0)
		is_out = false;
	else if (mode == MSPACK_SYS_OPEN_WRITE &&
	    strcmp(filename, mem_out_name) == 0 && s->out != NULL)
		is_out = true;
	else
		return NULL;
	if ((f = malloc(sizeof(*f))) == NULL)
		return NULL;
	f->sys = s;
	f->is_out = is_out;
	f->pos = 0;
	return (struct mspack_file *)f;
}

static void
mem_close(struct mspack_file *file)
{
	free(file);
}

static int
mem_read(struct mspack_file *file, void *buffer, int bytes)
{
	struct mem_file *f = (struct mem_file *)file;
	size_t n;

	if (f->is_out || bytes < 0)
		return -1;
	n = f->sys->in_len - f->pos;
	if (n > (size_t)bytes)
		n = (size_t)bytes;
	memcpy(buffer, f->sys->in + f->pos, n);
	f->pos += n;
	return (int)n;
}

static int
mem_write(struct mspack_file *file, void *buffer, int bytes)
{
	struct mem_file *f = (struct mem_file *)file;
	struct mem_sys *s = f->sys;

	if (!f->is_out || bytes < 0)
		return -1;
	if ((size_t)bytes > s->out_cap - s->out_len) {
		s->out_over = true;
		return -1;
	}
	memcpy(s->out + s->out_len, buffer, (size_t)bytes);
	s->out_len += (size_t)bytes;
	return bytes;
}

static int
mem_seek(struct mspack_file *file, off_t offset, int mode)
{
	struct mem_file *f = (struct mem_file *)file;
	off_t base;

	if (f->is_out)
		return -1;
	switch (mode) {
	case MSPACK_SYS_SEEK_START:
		base = 0;
		break;
	case MSPACK_SYS_SEEK_CUR:
		base = (off_t)f->pos;
		break;
	case MSPACK_SYS_SEEK_END:
		base = (off_t)f->sys->in_len;
		break;
	default:
		return -1;
	}
	/* in_len is at most SIZE_MAX/2-ish and offset comes from 32-bit
	 * header fields, so neither sum overflows an off_t. */
	if (offset < -base || offset > (off_t)f->sys->in_len - base)
		return -1;
	f->pos = (size_t)(base + offset);
	return 0;
}

static off_t
mem_tell(struct mspack_file *file)
{
	const struct mem_file *f = (const struct mem_file *)file;

	return f->is_out ? (off_t)f->sys->out_len : (off_t)f->pos;
}

static void
mem_message(struct mspack_file *file, const char *format, ...)
{
	/* libmspack's warnings are about the hostile cabinet, which is
	 * refused or accepted on our own checks; nothing to log. */
	(void)file;
	(void)format;
}

static void *
mem_alloc(struct mspack_system *self, size_t bytes)
{
	(void)self;
	return malloc(bytes);
}

static void
mem_free(void *ptr)
{
	free(ptr);
}

static void
mem_copy(void *src, void *dest, size_t bytes)
{
	memcpy(dest, src, bytes);
}

/* libmspack's error codes as ours. */
static int
mspack_fail(int code, struct wsd_err *err)
{
	switch (code) {
	case MSPACK_ERR_NOMEMORY:
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	case MSPACK_ERR_SIGNATURE:
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata is not a cabinet file");
	case MSPACK_ERR_CHECKSUM:
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: cabinet checksum mismatch");
	case MSPACK_ERR_DECRUNCH:
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: corrupt compressed data");
	case MSPACK_ERR_READ:
	case MSPACK_ERR_SEEK:
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: truncated cabinet");
	default:
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: malformed cabinet");
	}
}

/*
 * What libmspack would tolerate but we refuse, read from the CFHEADER
 * itself: libmspack skips a CFFILE with a bad folder index with only a
 * warning, so "one file" is counted here too.
 */
static int
check_header(const unsigned char *p, size_t len, struct wsd_err *err)
{
	if (len < CFHEADER_SIZE || memcmp(p, "MSCF", 4) != 0)
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata is not a cabinet file");
	if (get32(p + 8) > len)
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: truncated cabinet");
	if (get32(p + 8) < len)
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: bytes after the cabinet");
	if ((get16(p + 30) & (MSCAB_HDR_PREVCAB | MSCAB_HDR_NEXTCAB)) != 0)
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: part of a cabinet set");
	if (get16(p + 28) != 1)
		return wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: not exactly one file in the cabinet");
	return 0;
}

int
cab_blob_unpack(const void *cab, size_t len, size_t max_out,
    struct sbuf *utf8_out, struct wsd_err *err)
{
	struct mem_sys sys;
	struct mscab_decompressor *cabd = NULL;
	struct mscabd_cabinet *c = NULL;
	const struct mscabd_file *f;
	size_t mark = utf8_out->sb_len;
	int rc, st;

	if ((rc = check_header(cab, len, err)) < 0)
		return rc;
	MSPACK_SYS_SELFTEST(st);
	if (st != MSPACK_ERR_OK)
		return wsd_fail(err, WSD_EINTERNAL,
		    "libmspack was built with another off_t");
	memset(&sys, 0, sizeof(sys));
	sys.ms.open = mem_open;
	sys.ms.close = mem_close;
	sys.ms.read = mem_read;
	sys.ms.write = mem_write;
	sys.ms.seek = mem_seek;
	sys.ms.tell = mem_tell;
	sys.ms.message = mem_message;
	sys.ms.alloc = mem_alloc;
	sys.ms.free = mem_free;
	sys.ms.copy = mem_copy;
	sys.ms.null_ptr = NULL;
	sys.in = cab;
	sys.in_len = len;

	if ((cabd = mspack_create_cab_decompressor(&sys.ms)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	/* The defaults, stated: no MSZIP repair, no salvage mode. */
	if (cabd->set_param(cabd, MSCABD_PARAM_FIXMSZIP, 0) != MSPACK_ERR_OK ||
	    cabd->set_param(cabd, MSCABD_PARAM_SALVAGE, 0) != MSPACK_ERR_OK) {
		rc = wsd_fail(err, WSD_EINTERNAL, "libmspack set_param failed");
		goto out;
	}
	if ((c = cabd->open(cabd, mem_in_name)) == NULL) {
		rc = mspack_fail(cabd->last_error(cabd), err);
		goto out;
	}
	f = c->files;
	if (c->next != NULL || c->prevcab != NULL || c->nextcab != NULL ||
	    (c->flags & (MSCAB_HDR_PREVCAB | MSCAB_HDR_NEXTCAB)) != 0) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: part of a cabinet set");
		goto out;
	}
	if (f == NULL || f->next != NULL || f->folder == NULL) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: not exactly one file in the cabinet");
		goto out;
	}
	if (strcasecmp(f->filename, BLOB_NAME) != 0) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: the file is not named \"blob\"");
		goto out;
	}
	/* A file further into its folder would make libmspack decompress
	 * and discard everything before it: refused, Windows writes 0. */
	if (f->offset != 0) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: the file does not start its folder");
		goto out;
	}
	switch (MSCABD_COMP_METHOD(f->folder->comp_type)) {
	case MSCAB_COMP_NONE:
	case MSCAB_COMP_MSZIP:
	case MSCAB_COMP_QUANTUM:
	case MSCAB_COMP_LZX:
		break;
	default:
		rc = wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: unknown compression method");
		goto out;
	}
	if (f->length > max_out) {
		rc =
		    wsd_fail(err, WSD_ETOOBIG, "compressed metadata too large");
		goto out;
	}
	sys.out_cap = f->length;
	if ((sys.out = malloc(f->length > 0 ? f->length : 1)) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto out;
	}
	/* mscabd_file is const to us, not to libmspack. */
	if ((st = cabd->extract(cabd, c->files, mem_out_name)) !=
	    MSPACK_ERR_OK) {
		rc = sys.out_over ? wsd_fail(err, WSD_ETOOBIG,
					"compressed metadata too large")
				  : mspack_fail(st, err);
		goto out;
	}
	if (sys.out_len != f->length) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "compressed metadata: truncated cabinet");
		goto out;
	}
	rc = utf16le_to_utf8(sys.out, sys.out_len, utf8_out, err);
out:
	if (c != NULL)
		cabd->close(cabd, c);
	mspack_destroy_cab_decompressor(cabd);
	free(sys.out);
	if (rc < 0)
		sbuf_cut(utf8_out, mark);
	return rc;
}
