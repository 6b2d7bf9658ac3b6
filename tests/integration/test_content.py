#!/usr/bin/env python3
"""/Content: static files, Range, conditionals, keep-alive, traversal.

SECURITY.md S12 (traversal), S13 (Range), S17 (symlinks); RFC 9110
sections 13 (conditionals) and 14 (ranges).  Content is served on both
ports once TLS is configured.
"""

import email.utils
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DaemonTestCase, HTTPReader, build_request, connect  # noqa

MTIME = 1704164645  # Tue, 02 Jan 2024 03:04:05 GMT
MTIME_HTTP = 'Tue, 02 Jan 2024 03:04:05 GMT'
BIG_SIZE = 5 * 1024 ** 3 + 12345  # sparse, over 4 GiB
BIG_MARKERS = {
    4 * 1024 ** 3 - 8: b'ACROSS-4GiB-BOUNDARY',
    BIG_SIZE - 4096: b'near the end of a five gigabyte file',
    BIG_SIZE - 16: b'LAST-SIXTEEN-BYT',
}
FORBIDDEN = (b'root:', b'server_name', b'PRIVATE KEY', b'written by tests',
             b'SECRET-OUTSIDE-CONTENT')


def parse_content_range(v):
    m = re.match(r'^bytes (\d+)-(\d+)/(\d+)$', v or '')
    if not m:
        raise AssertionError('bad Content-Range %r' % v)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def parse_multipart(tc, r):
    ct = r.header('Content-Type') or ''
    m = re.match(r'^multipart/byteranges;\s*boundary=("?)([^";]+)\1\s*$',
                 ct, re.I)
    tc.assertIsNotNone(m, 'multipart Content-Type %r' % ct)
    delim = b'--' + m.group(2).encode()
    body = r.body
    pos = body.find(delim)
    tc.assertGreaterEqual(pos, 0, 'no boundary in body')
    tc.assertLessEqual(pos, 2, 'junk before the first boundary: %r'
                       % body[:pos])
    parts = []
    for _ in range(64):
        pos += len(delim)
        if body[pos:pos + 2] == b'--':
            break
        tc.assertEqual(body[pos:pos + 2], b'\r\n', 'after boundary')
        pos += 2
        hend = body.find(b'\r\n\r\n', pos)
        tc.assertGreater(hend, 0, 'part head')
        hdrs = {}
        for ln in body[pos:hend].split(b'\r\n'):
            k, v = ln.split(b':', 1)
            hdrs[k.strip().lower().decode()] = v.strip().decode()
        tc.assertIn('content-type', hdrs, 'part without Content-Type')
        tc.assertEqual(hdrs['content-type'], 'application/octet-stream')
        a, b, size = parse_content_range(hdrs.get('content-range'))
        start = hend + 4
        parts.append((a, b, size, body[start:start + b - a + 1]))
        pos = start + b - a + 1
        tc.assertEqual(body[pos:pos + 2], b'\r\n', 'CRLF after part data')
        pos += 2
        tc.assertTrue(body.startswith(delim, pos), 'next boundary')
    else:
        tc.fail('too many parts')
    return parts


class Content(DaemonTestCase):
    TLS = True

    @classmethod
    def populate(cls, d):
        rnd = hashlib.sha256(b'seed').digest()
        blocks = []
        h = rnd
        for _ in range(1024 * 1024 // 32):
            h = hashlib.sha256(h).digest()
            blocks.append(h)
        cls.data = b''.join(blocks)  # 1 MiB, deterministic
        cls.size = len(cls.data)
        cls.name, cls.url, cls.fpath = harness.put_content(d.dir, cls.data)
        os.utime(cls.fpath, (MTIME, MTIME))
        cls.data256 = b'sha-256 named content, no extension\n' * 77
        cls.name256, cls.url256, _ = harness.put_content(
            d.dir, cls.data256, ext='', algo='sha256')
        cls.big_name, cls.big_url, _ = harness.make_sparse(
            d.dir, BIG_SIZE, BIG_MARKERS)

        # Traversal fixtures.
        c = d.path('content')
        os.makedirs(os.path.join(c, 'AB'), exist_ok=True)
        os.makedirs(os.path.join(c, 'CD'), exist_ok=True)
        cls.sym_passwd = ('1' * 38 + 'AB') + '.cab'
        cls.sym_conf = ('2' * 38 + 'AB') + '.cab'
        os.symlink('/etc/passwd', os.path.join(c, 'AB', cls.sym_passwd))
        os.symlink('../../wsusd.conf', os.path.join(c, 'AB', cls.sym_conf))
        os.mkdir(d.path('secret'))
        cls.secret_name = '3' * 38 + 'EF.cab'
        with open(d.path('secret', cls.secret_name), 'wb') as f:
            f.write(b'SECRET-OUTSIDE-CONTENT\n')
        os.symlink('../secret', os.path.join(c, 'EF'))
        with open(os.path.join(c, 'AB', 'readme.txt'), 'wb') as f:
            f.write(b'SECRET-OUTSIDE-CONTENT not a canonical name\n')
        cls.cd_name = '4' * 38 + 'CD.cab'
        with open(os.path.join(c, 'CD', cls.cd_name), 'wb') as f:
            f.write(b'SECRET-OUTSIDE-CONTENT reached via dot-dot\n')
        cls.dir_name = '5' * 38 + 'AB.cab'
        os.mkdir(os.path.join(c, 'AB', cls.dir_name))
        cls.fifo_name = '6' * 38 + 'AB.cab'
        os.mkfifo(os.path.join(c, 'AB', cls.fifo_name))

        # SelfUpdate: DATADIR/selfupdate, as an administrator fills it.
        su = d.path('selfupdate')
        os.makedirs(os.path.join(su, 'au', 'x86'))
        cls.wuident = b'MSCF wuident stand-in\n' * 100
        with open(os.path.join(su, 'wuident.cab'), 'wb') as f:
            f.write(cls.wuident)
        with open(os.path.join(su, 'au', 'x86', 'wuaueng.cab'), 'wb') as f:
            f.write(b'au x86\n')
        os.symlink('/etc/passwd', os.path.join(su, 'passwd.cab'))

    # ------------------------------------------------------------ helpers
    def get(self, url, headers=None, method='GET', tls=False):
        if tls:
            return self.d.https(method, url, headers=headers)
        return self.d.http(method, url, headers=headers)

    def etag(self):
        return self.get(self.url, method='HEAD').header('ETag')

    def assertWhole(self, r, what=''):
        self.assertEqual(r.status, 200, '%s: %r' % (what, r))
        self.assertEqual(len(r.body), self.size, what)
        self.assertEqual(r.body, self.data, what)
        self.assertIsNone(r.header('Content-Range'), what)

    def assertPartial(self, r, first, last, what=''):
        self.assertEqual(r.status, 206, '%s: %r' % (what, r))
        self.assertEqual(parse_content_range(r.header('Content-Range')),
                         (first, last, self.size), what)
        self.assertEqual(r.header('Content-Length'), str(last - first + 1),
                         what)
        self.assertEqual(r.body, self.data[first:last + 1], what)

    # ------------------------------------------------------------ basics
    def check_headers(self, r, size, what):
        self.assertEqual(r.header('Content-Type'), 'application/octet-stream',
                         what)
        self.assertEqual((r.header('Accept-Ranges') or '').lower(), 'bytes',
                         what)
        self.assertEqual(r.header('Content-Length'), str(size), what)
        et = r.header('ETag')
        self.assertIsNotNone(et, what)
        self.assertRegex(et, r'^"[\x21\x23-\x7e]+"$', '%s: strong ETag' % what)
        lm = r.header('Last-Modified')
        self.assertIsNotNone(lm, what)
        self.assertIsNotNone(email.utils.parsedate_to_datetime(lm), what)

    def test_selfupdate(self):
        """SelfUpdate serves DATADIR/selfupdate on both ports, any case,
        with ranges; nothing outside it, no symlinks, no dot names."""
        for tls in (False, True):
            for url in ('/selfupdate/wuident.cab', '/SelfUpdate/WUIDENT.CAB',
                        '/SELFUPDATE//wuident.cab'):
                r = self.get(url, tls=tls)
                self.assertEqual(r.status, 200, '%s %r' % (url, r))
                self.assertEqual(r.body, self.wuident, url)
            r = self.get('/selfupdate/au/x86/wuaueng.cab', tls=tls)
            self.assertEqual((r.status, r.body), (200, b'au x86\n'))
        r = self.get('/selfupdate/wuident.cab', {'Range': 'bytes=0-3'})
        self.assertEqual((r.status, r.body), (206, self.wuident[:4]))
        r = self.get('/selfupdate/wuident.cab', method='HEAD')
        self.assertEqual((r.status, r.body), (200, b''))
        self.assertEqual(r.header('Content-Length'), str(len(self.wuident)))
        for url in ('/selfupdate/missing.cab', '/selfupdate/passwd.cab',
                    '/selfupdate/', '/selfupdate/au', '/selfupdate/.hidden',
                    '/selfupdate/..%2fwsusd.conf', '/selfupdate/a/b/c/d/e',
                    '/selfupdate/wu%00ident.cab', '/selfupdate/wu ident.cab',
                    '/selfupdate/../wsusd.conf'):
            r = self.get(url)
            self.assertIn(r.status, (400, 404), '%s: %r' % (url, r))
            self.assertNotIn(b'root:', r.body)
            self.assertNotIn(b'port', r.body)
        r = self.d.http('POST', '/selfupdate/wuident.cab', body=b'x')
        self.assertEqual(r.status, 405)

    def test_get_whole_http(self):
        r = self.get(self.url)
        self.assertWhole(r)
        self.check_headers(r, self.size, 'GET http')
        self.assertEqual(r.header('Last-Modified'), MTIME_HTTP)

    def test_get_whole_https(self):
        r = self.get(self.url, tls=True)
        self.assertWhole(r)
        self.check_headers(r, self.size, 'GET https')

    def test_sha256_name_no_ext(self):
        r = self.get(self.url256)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.data256)
        self.check_headers(r, len(self.data256), 'sha256')

    def test_head_matches_get_and_has_no_body(self):
        # HEAD then GET pipelined on one connection: a HEAD that leaked a
        # body would corrupt the second response.
        with connect(self.d.http_port) as s:
            s.sendall(build_request('HEAD', self.url, close=False) +
                      build_request('GET', self.url256))
            rd = HTTPReader(s)
            h = rd.read_response('HEAD')
            g = rd.read_response('GET')
        self.assertEqual(h.status, 200, h)
        self.check_headers(h, self.size, 'HEAD')
        self.assertEqual(h.header('Last-Modified'), MTIME_HTTP)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.body, self.data256)
        full = self.get(self.url)
        self.assertEqual(h.header('ETag'), full.header('ETag'))

    def test_url_case_maps_to_canonical(self):
        stem, ext = self.name.split('.')
        for url in ('/content/%s/%s.%s' % (stem[-2:].lower(), stem.lower(),
                                           ext),
                    '/CONTENT/%s/%s.%s' % (stem[-2:], stem, ext.upper()),
                    '/cOnTeNt/%s/%s.%s' % (stem[-2:].lower(), stem.lower(),
                                           ext.upper())):
            r = self.get(url)
            self.assertEqual(r.status, 200, '%s: %r' % (url, r))
            self.assertEqual(r.body, self.data, url)

    def test_double_slash_collapses(self):
        r = self.get('/' + self.url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.data)

    def test_noncanonical_names_404(self):
        stem, ext = self.name.split('.')
        xx = stem[-2:]
        for url in ('/Content/', '/Content', '/Content/%s' % xx,
                    '/Content/%s/' % xx,
                    '/Content/%s/%s' % (xx, stem[:-1]),  # 39 hex
                    '/Content/%s/%s0.%s' % (xx, stem, ext),  # 41 hex
                    '/Content/%s/%s.%s' % (xx, stem[:-1] + 'G', ext),
                    '/Content/%s/%s.toolongext' % (xx, stem),  # 10 > 8
                    '/Content/%s/%s.' % (xx, stem),
                    '/Content/%s/%s.c-b' % (xx, stem),
                    '/Content/%s/%s.%s/' % (xx, stem, ext),
                    '/Content/%s/%s.%s.cab' % (xx, stem, ext),
                    '/Content/0%s/%s.%s' % (xx, stem, ext),
                    '/Content/AB/readme.txt',
                    '/Content/AB/' + 'A' * 40 + '.cab',  # absent
                    '/Content/AB/' + self.dir_name,  # a directory
                    '/Content/%s/%s/x' % (xx, self.name)):
            r = self.get(url)
            self.assertIn(r.status, (400, 404), '%s: %r' % (url, r))
            self.assertNoneOf(FORBIDDEN, r.body, url)

    def test_fifo_does_not_hang(self):
        fifo = self.d.path('content', 'AB', self.fifo_name)
        t0 = time.monotonic()
        try:
            r = harness.request(self.d.http_port, 'GET',
                                '/Content/AB/' + self.fifo_name, timeout=5)
        except (OSError, harness.NoResponse) as e:
            self.fail('GET of a FIFO with a valid content name: no answer '
                      'in 5 s (%r); a worker blocked in open(2)?' % (e,))
        finally:
            # Release a worker stuck in open(2) on the FIFO, if any.
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        self.assertLess(time.monotonic() - t0, 5)
        self.assertNotEqual(r.status, 200, r)
        self.assertIn(r.status, (403, 404, 500), r)
        self.assertAliveByRequest(self.url)

    # ------------------------------------------------------------ Range
    def test_range_single(self):
        self.assertPartial(self.get(self.url, {'Range': 'bytes=100-199'}),
                           100, 199)
        self.assertPartial(self.get(self.url, {'Range': 'bytes=0-0'}), 0, 0)
        self.assertPartial(self.get(self.url, tls=True,
                                    headers={'Range': 'bytes=1000-65535'}),
                           1000, 65535)

    def test_range_suffix(self):
        self.assertPartial(self.get(self.url, {'Range': 'bytes=-500'}),
                           self.size - 500, self.size - 1)
        # Suffix longer than the file: the whole file as a 206.
        self.assertPartial(self.get(self.url,
                                    {'Range': 'bytes=-%d' % (self.size * 2)}),
                           0, self.size - 1)

    def test_range_open(self):
        self.assertPartial(self.get(self.url, {'Range': 'bytes=1000000-'}),
                           1000000, self.size - 1)
        self.assertPartial(self.get(self.url,
                                    {'Range': 'bytes=%d-' % (self.size - 1)}),
                           self.size - 1, self.size - 1)

    def test_range_clipped_to_size(self):
        self.assertPartial(self.get(self.url, {'Range': 'bytes=100-99999999'}),
                           100, self.size - 1)
        self.assertPartial(self.get(
            self.url, {'Range': 'bytes=0-18446744073709551615'}),
            0, self.size - 1)

    def test_range_unsatisfiable_416(self):
        for spec in ('bytes=%d-' % self.size, 'bytes=%d-%d' % (self.size,
                                                               self.size + 9),
                     'bytes=-0', 'bytes=99999999-'):
            r = self.get(self.url, {'Range': spec})
            self.assertEqual(r.status, 416, '%s: %r' % (spec, r))
            self.assertEqual(r.header('Content-Range'),
                             'bytes */%d' % self.size, spec)
            self.assertNotIn(self.data[:64], r.body, spec)

    def test_range_invalid_gives_200(self):
        for spec in ('bytes=5-1', 'items=0-10', 'bytes=abc', 'bytes=--5',
                     'bytes=1-2-3', 'bytes=', 'bytes 0-1',
                     'bytes=0x10-0x20', 'bytes=+1-2'):
            self.assertWhole(self.get(self.url, {'Range': spec}), spec)

    def test_range_overflowing_numbers(self):
        for spec in ('bytes=18446744073709551616-',
                     'bytes=0-99999999999999999999999999',
                     'bytes=-18446744073709551616'):
            r = self.get(self.url, {'Range': spec})
            self.assertIn(r.status, (200, 206, 416), '%s: %r' % (spec, r))
            if r.status == 200:
                self.assertWhole(r, spec)
            elif r.status == 206:
                self.assertPartial(r, 0, self.size - 1, spec)

    def test_range_multi(self):
        r = self.get(self.url, {'Range': 'bytes=0-9,100-109,-5'})
        self.assertEqual(r.status, 206, r)
        self.assertIsNone(r.header('Content-Range'), 'multipart has no '
                          'top-level Content-Range')
        parts = parse_multipart(self, r)
        self.assertEqual([(a, b) for a, b, _, _ in parts],
                         [(0, 9), (100, 109), (self.size - 5, self.size - 1)])
        for a, b, size, data in parts:
            self.assertEqual(size, self.size)
            self.assertEqual(data, self.data[a:b + 1])

    def test_range_multi_https_unsorted(self):
        r = self.get(self.url, {'Range': 'bytes=5000-5099,10-19'}, tls=True)
        self.assertEqual(r.status, 206, r)
        parts = parse_multipart(self, r)
        got = sorted((a, b) for a, b, _, _ in parts)
        self.assertEqual(got, [(10, 19), (5000, 5099)])
        for a, b, _, data in parts:
            self.assertEqual(data, self.data[a:b + 1])

    def _single_span(self, r, first, last, what):
        """After merging there is one span: accept a plain 206 or a
        multipart with exactly one part."""
        self.assertEqual(r.status, 206, '%s: %r' % (what, r))
        if (r.header('Content-Type') or '').startswith('multipart/'):
            parts = parse_multipart(self, r)
            self.assertEqual([(a, b) for a, b, _, _ in parts],
                             [(first, last)], what)
            self.assertEqual(parts[0][3], self.data[first:last + 1], what)
        else:
            self.assertPartial(r, first, last, what)

    def test_range_overlapping_merged(self):
        self._single_span(self.get(self.url, {'Range': 'bytes=0-99,50-149'}),
                          0, 149, 'overlap')
        self._single_span(self.get(self.url,
                                   {'Range': 'bytes=200-299,0-50,40-250'}),
                          0, 299, 'overlap unsorted')

    def test_range_adjacent_merged(self):
        self._single_span(self.get(self.url, {'Range': 'bytes=0-9,10-19'}),
                          0, 19, 'adjacent')

    def test_range_more_than_16_whole(self):
        spec = 'bytes=' + ','.join('%d-%d' % (i * 100, i * 100 + 9)
                                   for i in range(17))
        self.assertWhole(self.get(self.url, {'Range': spec}), '17 ranges')
        spec16 = 'bytes=' + ','.join('%d-%d' % (i * 100, i * 100 + 9)
                                     for i in range(16))
        r = self.get(self.url, {'Range': spec16})
        self.assertEqual(r.status, 206, '16 ranges: %r' % r)
        self.assertEqual(len(parse_multipart(self, r)), 16)

    def test_range_apache_killer_bounded(self):
        # S13: many overlapping ranges never send more than 2 x size.
        for spec in ('bytes=' + ','.join(['0-'] * 10000),
                     'bytes=' + ','.join(['0-'] * 5000),
                     'bytes=' + ','.join(['0-'] * 16),
                     'bytes=' + ','.join('0-%d' % (self.size - 1 - i)
                                         for i in range(16))):
            r = self.get(self.url, {'Range': spec})
            self.assertIn(r.status, (200, 206, 431), '%s...: %r'
                          % (spec[:40], r))
            self.assertLessEqual(len(r.body), 2 * self.size)
            if r.status == 200:
                self.assertEqual(r.body, self.data)

    # ------------------------------------------------------------ If-Range
    def test_if_range_etag(self):
        et = self.etag()
        self.assertPartial(self.get(self.url, {'Range': 'bytes=10-20',
                                               'If-Range': et}), 10, 20)
        self.assertWhole(self.get(self.url, {'Range': 'bytes=10-20',
                                             'If-Range': '"not-the-etag"'}),
                         'If-Range other etag')
        self.assertWhole(self.get(self.url, {'Range': 'bytes=10-20',
                                             'If-Range': 'W/' + et}),
                         'If-Range weak etag never matches')

    def test_if_range_date(self):
        self.assertPartial(self.get(self.url, {'Range': 'bytes=10-20',
                                               'If-Range': MTIME_HTTP}),
                           10, 20)
        older = email.utils.formatdate(MTIME - 3600, usegmt=True)
        self.assertWhole(self.get(self.url, {'Range': 'bytes=10-20',
                                             'If-Range': older}),
                         'If-Range old date')

    # ------------------------------------------------------------ 304
    def assert304(self, r, what):
        self.assertEqual(r.status, 304, '%s: %r' % (what, r))
        self.assertEqual(r.body, b'', what)
        self.assertIsNotNone(r.header('ETag'), '%s: 304 carries ETag' % what)

    def test_if_none_match(self):
        et = self.etag()
        self.assert304(self.get(self.url, {'If-None-Match': et}), 'INM')
        self.assert304(self.get(self.url, {'If-None-Match':
                                           '"zzz", %s' % et}), 'INM list')
        self.assert304(self.get(self.url, {'If-None-Match': '*'}), 'INM *')
        self.assertWhole(self.get(self.url, {'If-None-Match': '"zzz"'}),
                         'INM other')

    def test_if_none_match_304_keeps_connection_framing(self):
        et = self.etag()
        with connect(self.d.http_port) as s:
            s.sendall(build_request('GET', self.url, {'If-None-Match': et},
                                    close=False) +
                      build_request('GET', self.url256))
            rd = HTTPReader(s)
            a = rd.read_response()
            b = rd.read_response()
        self.assert304(a, 'pipelined 304')
        self.assertEqual(b.status, 200, b)
        self.assertEqual(b.body, self.data256)

    def test_if_modified_since(self):
        later = email.utils.formatdate(MTIME + 86400, usegmt=True)
        earlier = email.utils.formatdate(MTIME - 1, usegmt=True)
        self.assert304(self.get(self.url, {'If-Modified-Since': MTIME_HTTP}),
                       'IMS equal')
        self.assert304(self.get(self.url, {'If-Modified-Since': later}),
                       'IMS later')
        self.assertWhole(self.get(self.url, {'If-Modified-Since': earlier}),
                         'IMS earlier')
        self.assertWhole(self.get(self.url, {'If-Modified-Since': 'garbage'}),
                         'IMS invalid')
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
        self.assertWhole(self.get(self.url, {'If-None-Match': '"zzz"',
                                             'If-Modified-Since': later}),
                         'INM beats IMS')

    # ------------------------------------------------------------ keep-alive
    def test_keep_alive_sequential(self):
        for tls in (None, self.d.ctx()):
            port = self.d.https_port if tls else self.d.http_port
            with connect(port, tls) as s:
                rd = HTTPReader(s)
                for i, url in enumerate((self.url, self.url256, self.url)):
                    s.sendall(build_request('GET', url, close=False))
                    r = rd.read_response()
                    self.assertEqual(r.status, 200, 'request %d: %r' % (i, r))
                    want = self.data if url == self.url else self.data256
                    self.assertEqual(r.body, want, 'request %d' % i)
                    self.assertNotEqual((r.header('Connection') or '').lower(),
                                        'close', 'keep-alive refused')

    def test_pipelining_three_in_one_write(self):
        for tls in (None, self.d.ctx()):
            port = self.d.https_port if tls else self.d.http_port
            with connect(port, tls) as s:
                s.sendall(build_request('GET', self.url, close=False) +
                          build_request('GET', self.url,
                                        {'Range': 'bytes=7-70'}, close=False) +
                          build_request('GET', self.url256))
                rd = HTTPReader(s)
                a = rd.read_response()
                b = rd.read_response()
                c = rd.read_response()
                self.assertTrue(rd.at_eof(5), 'Connection: close honoured')
            self.assertWhole(a, 'pipelined 1')
            self.assertPartial(b, 7, 70, 'pipelined 2')
            self.assertEqual(c.status, 200, c)
            self.assertEqual(c.body, self.data256)

    # ------------------------------------------------------------ > 4 GiB
    def test_large_sparse_file(self):
        r = self.get(self.big_url, method='HEAD')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Content-Length'), str(BIG_SIZE))
        for first, last in ((BIG_SIZE - 4096, BIG_SIZE - 4096 + 99),
                            (4 * 1024 ** 3 - 16, 4 * 1024 ** 3 + 15),
                            (BIG_SIZE - 16, BIG_SIZE - 1)):
            for tls in (False, True):
                r = self.get(self.big_url, {'Range': 'bytes=%d-%d'
                                            % (first, last)}, tls=tls)
                self.assertEqual(r.status, 206, r)
                self.assertEqual(parse_content_range(
                    r.header('Content-Range')), (first, last, BIG_SIZE))
                self.assertEqual(r.body, harness.expected_sparse_bytes(
                    BIG_SIZE, BIG_MARKERS, first, last),
                    'bytes %d-%d tls=%s' % (first, last, tls))
        r = self.get(self.big_url, {'Range': 'bytes=-16'})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, b'LAST-SIXTEEN-BYT')
        r = self.get(self.big_url, {'Range': 'bytes=%d-' % BIG_SIZE})
        self.assertEqual(r.status, 416, r)
        self.assertEqual(r.header('Content-Range'), 'bytes */%d' % BIG_SIZE)

    # ------------------------------------------------------------ traversal
    def traversal_targets(self):
        sha = self.name.split('.')[0]
        return [
            b'/Content/../wsusd.conf',
            b'/Content/%2e%2e/wsusd.conf',
            b'/Content/%2E%2E/wsusd.conf',
            b'/Content/..%2fwsusd.conf',
            b'/Content/..%2Fwsusd.conf',
            b'/Content/%252e%252e/wsusd.conf',
            b'/Content/AB/..%5c..%5cwsusd.conf',
            b'/Content/AB/%00',
            b'/Content/AB/' + sha.encode() + b'.cab%00.txt',
            b'/Content/%c0%ae%c0%ae/wsusd.conf',
            b'/Content/%c0%af../wsusd.conf',
            b'/Content//etc/passwd',
            b'/Content/AB/../../tls/server.key',
            b'/Content/AB/../../wsusd.conf',
            b'/Content/./../wsusd.conf',
            b'/Content/AB/%2e%2e/%2e%2e/tls/server.key',
            b'/Content/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
            b'/Content/....//wsusd.conf',
            b'/Content/AB/..\\..\\wsusd.conf',
            b'\\Content\\..\\wsusd.conf',
            b'/Content/AB/%zz',
            b'/Content/AB/%',
            b'/Content/' + b'../' * 20 + b'etc/passwd',
            b'/Content/AB/' + self.sym_passwd.encode(),
            b'/Content/AB/' + self.sym_conf.encode(),
            b'/Content/EF/' + self.secret_name.encode(),
            b'/Content/AB/../CD/' + self.cd_name.encode(),
            b'/Content/AB/%2e%2e/CD/' + self.cd_name.encode(),
            b'http://x/Content/../wsusd.conf',
            b'http://localhost/Content/%2e%2e/wsusd.conf',
        ]

    def _traversal(self, tls):
        port = self.d.https_port if tls else self.d.http_port
        ctx = self.d.ctx() if tls else None
        failures = []
        for target in self.traversal_targets():
            raw = (b'GET ' + target + b' HTTP/1.1\r\nHost: localhost\r\n'
                   b'Connection: close\r\n\r\n')
            try:
                r = harness.request(port, 'GET', None, raw=raw, tls=ctx,
                                    timeout=5)
            except Exception as e:  # noqa: BLE001
                failures.append('%r: no HTTP answer (%s)' % (target, e))
                continue
            if r.status not in (400, 404):
                failures.append('%r: status %d %r' % (target, r.status,
                                                      r.body[:200]))
            for bad in FORBIDDEN:
                if bad in r.body:
                    failures.append('%r: leaked %r' % (target, bad))
        self.assertEqual(failures, [], '\n'.join(failures))
        self.assertAliveByRequest(self.url)

    def test_traversal_http(self):
        self._traversal(False)

    def test_traversal_https(self):
        self._traversal(True)

    def test_symlink_to_valid_name_404(self):
        r = self.get('/Content/AB/' + self.sym_passwd)
        self.assertEqual(r.status, 404, r)
        self.assertNotIn(b'root:', r.body)


if __name__ == '__main__':
    harness.main()
