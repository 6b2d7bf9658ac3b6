#!/usr/bin/env python3
"""HTTP/1.1 parser limits, timeouts and framing (SECURITY.md S11, S21).

Config for this file: header_timeout = 2, body_timeout = 3,
idle_timeout = 3, max_body_clientwebservice = 1M.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (SOAP_BODY, DaemonTestCase, HTTPReader,  # noqa: E402
                     build_request, connect)

CONTENT = b'http limits content\n' * 50
CLIENT = '/ClientWebService/client.asmx'
REPORTING = '/ReportingWebService/ReportingWebService.asmx'
SOAP_HDRS = [('Content-Type', 'text/xml; charset=utf-8'),
             ('SOAPAction', '"http://www.microsoft.com/SoftwareDistribution/'
              'Server/ClientWebService/GetConfig"')]


def soap_head(path, length, extra=(), close=True):
    h = 'POST %s HTTP/1.1\r\nHost: localhost\r\n' % path
    for k, v in SOAP_HDRS + list(extra):
        h += '%s: %s\r\n' % (k, v)
    if length is not None:
        h += 'Content-Length: %s\r\n' % length
    if close:
        h += 'Connection: close\r\n'
    return (h + '\r\n').encode()


def chunked(body, size=100, ext=b''):
    out = b''
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b'%x%s\r\n%s\r\n' % (len(piece), ext, piece)
    return out + b'0\r\n\r\n'


class Limits(DaemonTestCase):
    TLS = True
    CONF = {'header_timeout': '2', 'body_timeout': '3', 'idle_timeout': '3',
            'max_body_clientwebservice': '1M'}

    @classmethod
    def populate(cls, d):
        cls.name, cls.url, _ = harness.put_content(d.dir, CONTENT)

    # ------------------------------------------------------------ helpers
    def raw(self, data, tls=False, timeout=10, method='GET'):
        port = self.d.https_port if tls else self.d.http_port
        ctx = self.d.ctx() if tls else None
        with connect(port, ctx, timeout) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return HTTPReader(s, timeout).read_response(method)

    def raw_and_eof(self, data, tls=False):
        """(response, closed_afterwards)."""
        port = self.d.https_port if tls else self.d.http_port
        ctx = self.d.ctx() if tls else None
        with connect(port, ctx) as s:
            s.sendall(data)
            rd = HTTPReader(s)
            r = rd.read_response()
            return r, rd.at_eof(5)

    def get_ok(self, extra_headers, what):
        req = build_request('GET', self.url, extra_headers)
        r = self.raw(req)
        self.assertEqual(r.status, 200, '%s: %r' % (what, r))
        self.assertEqual(r.body, CONTENT, what)

    def time_to_close(self, sock, limit):
        """Seconds until the peer closes SOCK (None if not within LIMIT)."""
        t0 = time.monotonic()
        sock.settimeout(0.5)
        while time.monotonic() - t0 < limit:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - t0
            except OSError as e:
                if 'EOF' in str(e):
                    return time.monotonic() - t0
                raise
            if not data:
                return time.monotonic() - t0
        return None

    # ------------------------------------------------------------ 431
    def test_one_header_over_16k_431(self):
        r = self.raw(build_request('GET', self.url,
                                   [('X-Big', 'a' * 17000)]))
        self.assertEqual(r.status, 431, r)

    def test_header_section_over_16k_431(self):
        hdrs = [('X-H%02d' % i, 'b' * 900) for i in range(20)]  # ~18.6 KiB
        r = self.raw(build_request('GET', self.url, hdrs))
        self.assertEqual(r.status, 431, r)

    def test_one_megabyte_header_431(self):
        r = self.raw(build_request('GET', self.url,
                                   [('X-Huge', 'c' * (1024 * 1024))]))
        self.assertEqual(r.status, 431, r)

    def test_header_under_limit_ok(self):
        self.get_ok([('X-Big', 'd' * 15000)], '15000-byte header')

    def test_101_fields_431(self):
        hdrs = [('X-F%03d' % i, 'v') for i in range(100)]  # + Host = 101
        r = self.raw(build_request('GET', self.url, hdrs))
        self.assertEqual(r.status, 431, r)

    def test_100_fields_ok(self):
        # Host + 98 + Connection (added by build_request) = 100 fields.
        self.get_ok([('X-F%03d' % i, 'v') for i in range(98)], '100 fields')

    def test_long_request_line(self):
        r = self.raw(build_request('GET', '/Content/' + 'A' * 9000))
        self.assertIn(r.status, (400, 414, 431), r)

    # ------------------------------------------------------------ 413
    def test_10gib_content_length_413_immediately_tls(self):
        port, ctx = self.d.https_port, self.d.ctx()
        with connect(port, ctx) as s:
            t0 = time.monotonic()
            s.sendall(soap_head(CLIENT, 10737418240))
            r = HTTPReader(s, 5).read_response()
            dt = time.monotonic() - t0
        self.assertEqual(r.status, 413, r)
        self.assertLess(dt, 2.0, '413 took %.2f s' % dt)

    def test_content_length_just_over_configured_limit_413(self):
        r = self.raw(soap_head(CLIENT, 1024 * 1024 + 1), tls=True, timeout=5)
        self.assertEqual(r.status, 413, r)

    def test_content_length_at_configured_limit_not_413(self):
        body = b' ' * (1024 * 1024 - len(SOAP_BODY)) + SOAP_BODY
        r = self.raw(soap_head(CLIENT, len(body)) + body, tls=True)
        self.assertNotIn(r.status, (400, 413), r)

    def test_reporting_default_limit_413_on_http(self):
        # ReportingWebService: default 16 MiB, plain HTTP allowed.
        r = self.raw(soap_head(REPORTING, 16 * 1024 * 1024 + 1), timeout=5)
        self.assertEqual(r.status, 413, r)

    def test_expect_100_oversize_413_without_continue(self):
        r = self.raw(soap_head(CLIENT, 10737418240,
                               [('Expect', '100-continue')]), tls=True,
                     timeout=5)
        self.assertEqual(r.status, 413, r)

    def test_chunked_over_limit_413(self):
        port, ctx = self.d.https_port, self.d.ctx()
        body = b'x' * (2 * 1024 * 1024)
        with connect(port, ctx) as s:
            s.sendall(soap_head(CLIENT, None,
                                [('Transfer-Encoding', 'chunked')]))
            try:
                s.sendall(chunked(body, 65536))
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            r = HTTPReader(s).read_response()
        self.assertEqual(r.status, 413, r)

    # ------------------------------------------------------------ timeouts
    def test_slow_headers_closed_after_header_timeout(self):
        for tls in (False, True):
            port = self.d.https_port if tls else self.d.http_port
            s = connect(port, self.d.ctx() if tls else None)
            try:
                t0 = time.monotonic()
                line = b'GET ' + self.url.encode() + b' HTTP/1.1\r\nHost: l'
                closed_at = None
                for i in range(8):
                    try:
                        s.sendall(line[i:i + 1] if i < len(line) else b'a')
                    except (BrokenPipeError, ConnectionResetError):
                        closed_at = time.monotonic() - t0
                        break
                    dt = self.time_to_close(s, 1.0)
                    if dt is not None:
                        closed_at = time.monotonic() - t0
                        break
            finally:
                s.close()
            self.assertIsNotNone(closed_at, 'tls=%s: still open after 8 s '
                                 'of one byte per second' % tls)
            self.assertGreaterEqual(closed_at, 1.5, 'tls=%s: closed too '
                                    'early (%.2f s)' % (tls, closed_at))
            self.assertLessEqual(closed_at, 6.5, 'tls=%s: %.2f s' %
                                 (tls, closed_at))

    def test_silent_connection_closed_after_header_timeout(self):
        with connect(self.d.http_port) as s:
            dt = self.time_to_close(s, 12)
        self.assertIsNotNone(dt, 'silent HTTP connection open after 12 s '
                             '(header_timeout = 2)')
        self.assertGreaterEqual(dt, 1.5, 'closed after %.2f s' % dt)
        self.assertLessEqual(dt, 6.5, 'closed after %.2f s' % dt)

    def test_idle_keepalive_closed_after_idle_timeout(self):
        with connect(self.d.http_port) as s:
            s.sendall(build_request('GET', self.url, close=False))
            r = HTTPReader(s).read_response()
            self.assertEqual(r.status, 200, r)
            dt = self.time_to_close(s, 10)
        self.assertIsNotNone(dt, 'idle connection open after 10 s '
                             '(idle_timeout = 3)')
        self.assertGreaterEqual(dt, 2.0, 'closed after %.2f s' % dt)
        self.assertLessEqual(dt, 7.0, 'closed after %.2f s' % dt)

    def test_slow_body_closed_after_body_timeout(self):
        with connect(self.d.http_port) as s:
            s.sendall(soap_head(REPORTING, 1000) + b'<soap:Envelope')
            t0 = time.monotonic()
            data = b''
            s.settimeout(0.5)
            closed = None
            while time.monotonic() - t0 < 12:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    chunk = b''
                if not chunk:
                    closed = time.monotonic() - t0
                    break
                data += chunk
        self.assertIsNotNone(closed, 'stalled body kept open 12 s '
                             '(body_timeout = 3)')
        self.assertLessEqual(closed, 8.0)
        if data:
            self.assertRegex(data[:12], rb'^HTTP/1\.1 (408|400) ',
                             'only a timeout answer may precede close')

    # ------------------------------------------------------------ framing
    def test_cl_and_te_400_and_close(self):
        smuggled = (b'0\r\n\r\nGET /smuggled-integ-xyz HTTP/1.1\r\n'
                    b'Host: localhost\r\n\r\n')
        req = soap_head(REPORTING, len(smuggled),
                        [('Transfer-Encoding', 'chunked')], close=False)
        r, closed = self.raw_and_eof(req + smuggled)
        self.assertEqual(r.status, 400, r)
        self.assertTrue(closed, 'connection must close after CL+TE')
        time.sleep(0.5)
        try:
            with open(self.d.path('access.log'), 'rb') as f:
                self.assertNotIn(b'smuggled-integ-xyz', f.read())
        except FileNotFoundError:
            pass

    def test_te_then_cl_400_and_close(self):
        req = (b'POST ' + REPORTING.encode() + b' HTTP/1.1\r\n'
               b'Host: localhost\r\nTransfer-Encoding: chunked\r\n'
               b'Content-Length: 4\r\n\r\n0\r\n\r\n')
        r, closed = self.raw_and_eof(req)
        self.assertEqual(r.status, 400, r)
        self.assertTrue(closed)

    def test_two_different_content_length_400(self):
        body = b'12345'
        for hdr in ([('Content-Length', '5'), ('Content-Length', '6')],
                    [('Content-Length', '5, 6')]):
            req = b'POST ' + REPORTING.encode() + b' HTTP/1.1\r\n' \
                b'Host: localhost\r\n'
            for k, v in hdr:
                req += ('%s: %s\r\n' % (k, v)).encode()
            r, closed = self.raw_and_eof(req + b'\r\n' + body + b'\r\n')
            self.assertEqual(r.status, 400, '%r: %r' % (hdr, r))
            self.assertTrue(closed, hdr)

    def test_bad_content_length_values_400(self):
        for v in ('-1', '+5', '1e3', '0x10', '5 5', '', 'abc',
                  '99999999999999999999999'):
            req = soap_head(REPORTING, v)
            r = self.raw(req + b'12345', timeout=5)
            self.assertIn(r.status, (400, 413) if v.startswith('9999')
                          else (400,), 'Content-Length %r: %r' % (v, r))

    def test_unknown_transfer_encoding_rejected(self):
        for te in ('gzip, chunked', 'xchunked', 'chunked, chunked',
                   'identity'):
            req = soap_head(REPORTING, None, [('Transfer-Encoding', te)])
            r, closed = self.raw_and_eof(req + chunked(SOAP_BODY))
            self.assertIn(r.status, (400, 501), 'TE %r: %r' % (te, r))
            self.assertTrue(closed, te)

    def test_obs_fold_400(self):
        req = (b'GET ' + self.url.encode() + b' HTTP/1.1\r\nHost: localhost'
               b'\r\nX-Folded: a\r\n  continued\r\nConnection: close\r\n\r\n')
        self.assertEqual(self.raw(req).status, 400)

    def test_space_before_colon_400(self):
        req = (b'GET ' + self.url.encode() + b' HTTP/1.1\r\nHost : localhost'
               b'\r\nConnection: close\r\n\r\n')
        self.assertEqual(self.raw(req).status, 400)

    def test_nul_in_header_400(self):
        req = (b'GET ' + self.url.encode() + b' HTTP/1.1\r\nHost: localhost'
               b'\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n')
        self.assertEqual(self.raw(req).status, 400)

    def test_missing_host_http11_400(self):
        req = b'GET ' + self.url.encode() + b' HTTP/1.1\r\n' \
            b'Connection: close\r\n\r\n'
        self.assertEqual(self.raw(req).status, 400)

    def test_http10_served_and_closed(self):
        req = b'GET ' + self.url.encode() + b' HTTP/1.0\r\n\r\n'
        r, closed = self.raw_and_eof(req)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, CONTENT)
        self.assertTrue(closed, 'HTTP/1.0 without keep-alive must close')

    def test_unsupported_version(self):
        for v in (b'HTTP/2.0', b'HTTP/3.1', b'HTTP/1.10', b'HTTX/1.1'):
            req = b'GET ' + self.url.encode() + b' ' + v + \
                b'\r\nHost: localhost\r\nConnection: close\r\n\r\n'
            r = self.raw(req, timeout=5)
            self.assertIn(r.status, (400, 505), '%r: %r' % (v, r))

    def test_garbage_then_alive(self):
        for junk in (b'\x00\xff\x16junk\r\n\r\n',
                     b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' +
                     b'\x00' * 64,
                     b'\r\n\r\n\r\n',
                     b'GET\r\n\r\n',
                     b'GET / \r\n\r\n',
                     b'G\xc3\xa9T / HTTP/1.1\r\nHost: x\r\n\r\n'):
            try:
                r = self.raw(junk, timeout=5)
                self.assertEqual(r.status, 400, '%r: %r' % (junk, r))
            except harness.NoResponse:
                pass  # closing without an answer is acceptable here
            self.assertAliveByRequest(self.url)

    # ------------------------------------------------------------ bodies
    def _post_status(self, path, body, tls, extra=()):
        return self.raw(soap_head(path, len(body), extra) + body, tls=tls)

    def test_expect_100_continue(self):
        for path, tls in ((REPORTING, False), (CLIENT, True)):
            baseline = self._post_status(path, SOAP_BODY, tls)
            port = self.d.https_port if tls else self.d.http_port
            with connect(port, self.d.ctx() if tls else None) as s:
                s.sendall(soap_head(path, len(SOAP_BODY),
                                    [('Expect', '100-continue')]))
                rd = HTTPReader(s, 5)
                try:
                    interim = rd.read_response()
                except (OSError, harness.NoResponse) as e:
                    self.fail('%s tls=%s: no interim 100 Continue within 5 s '
                              'of a head with Expect: 100-continue and '
                              'Content-Length %d (%r)' % (path, tls,
                                                          len(SOAP_BODY), e))
                self.assertEqual(interim.status, 100, '%s: %r'
                                 % (path, interim))
                self.assertEqual(interim.head_raw.split(b'\r\n')[0],
                                 b'HTTP/1.1 100 Continue')
                s.sendall(SOAP_BODY)
                final = rd.read_response()
            self.assertNotIn(final.status, (100, 400, 417), final)
            self.assertEqual(final.status, baseline.status,
                             '%s: with Expect %r, without %r'
                             % (path, final, baseline))

    def test_chunked_body_accepted(self):
        for path, tls in ((REPORTING, False), (CLIENT, True),
                          ('/Inventory/inventory.asmx', False)):
            baseline = self._post_status(path, SOAP_BODY, tls)
            self.assertNotEqual(baseline.status, 400, baseline)
            for ext in (b'', b';name=value'):
                req = soap_head(path, None, [('Transfer-Encoding',
                                              'chunked')]) + \
                    chunked(SOAP_BODY, 37, ext)
                r = self.raw(req, tls=tls)
                self.assertEqual(r.status, baseline.status,
                                 '%s chunked%r: %r vs Content-Length %r'
                                 % (path, ext, r, baseline))

    def test_bad_chunk_size_400(self):
        for bad in (b'zz\r\nabc\r\n0\r\n\r\n', b'-1\r\n\r\n',
                    b'ffffffffffffffffff\r\n', b'5\r\nabcdefgh\r\n0\r\n\r\n'):
            req = soap_head(REPORTING, None, [('Transfer-Encoding',
                                               'chunked')])
            r, closed = self.raw_and_eof(req + bad)
            self.assertIn(r.status, (400, 413), '%r: %r' % (bad, r))
            self.assertTrue(closed, bad)

    def test_keepalive_after_post_body(self):
        # The body of a POST is consumed: the next request on the same
        # connection is parsed from the right place.
        with connect(self.d.http_port) as s:
            s.sendall(soap_head(REPORTING, len(SOAP_BODY), close=False) +
                      SOAP_BODY + build_request('GET', self.url))
            rd = HTTPReader(s)
            a = rd.read_response()
            if (a.header('Connection') or '').lower() == 'close':
                return  # the server may close after an error answer
            b = rd.read_response()
        self.assertEqual(b.status, 200, b)
        self.assertEqual(b.body, CONTENT)


if __name__ == '__main__':
    harness.main()
