#!/usr/bin/env python3
"""SECURITY.md S3 (a), S5 (a), S7 on the plain-HTTP port (TLS configured).

S3 (a): the captured GetConfig over http://...:N-1 -> 403, over https -> 200.
S5 (a): nothing on the HTTP port ever answers with WWW-Authenticate (no
        NTLM/Negotiate challenge to relay), whatever the root, method or
        Authorization header sent.
S7:     the five TLS roots answer 403 with no redirect; every URL in the
        GetConfig answer's element text is relative or https:// (the only
        http:// URLs wsusd hands out are /Content ones, checked in
        tests/integration/test_wusp_session.py).
S5:     an upstream (trusted certificate) answering `302 Location:
        http://...` -> the sync fails "refusing downgrade", nothing
        stored, nothing sent to the plain-HTTP address; a redirect to
        another https:// server is not followed either.
S5 (b): an upstream answering `401 WWW-Authenticate: NTLM` (and Basic)
        gets no Authorization header at all and the sync fails, naming
        the 401: NTLM and Basic credentials are never offered.
"""

import http.server
import os
import re
import socket
import ssl
import sys
import threading
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common as sc  # noqa: E402
from sec_common import harness, wc  # noqa: E402

GETCONFIG = [('Content-Type', 'text/xml; charset=utf-8'),
             ('SOAPAction', '"%s/GetConfig"' % wc.CLIENT)]
AUTHS = [None, 'Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==',
         'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==',
         'Basic dXNlcjpwYXNz']


class PlainHttp(harness.DaemonTestCase):

    def test_s3a_getconfig_http_403_https_200(self):
        body = wc.capture('scan', '000001')
        r = self.d.http('POST', wc.CLIENT_PATH, headers=GETCONFIG, body=body)
        self.assertEqual(r.status, 403, r)
        self.assertNotIn(b'GetConfigResult', r.body)
        r = self.d.https('POST', wc.CLIENT_PATH, headers=GETCONFIG,
                         body=body)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b'GetConfigResult', r.body)

    def test_s5a_no_challenge_on_http(self):
        paths = list(harness.ROOT_PATHS.values()) + [
            '/ServerSyncWebService/ServerSyncWebService.asmx',
            '/serversyncwebservice/serversyncwebservice.asmx',
            '/ApiRemoting30/WebService.asmx', '/nosuchroot/x.asmx']
        seen = []
        for path in paths:
            for method in ('GET', 'POST', 'HEAD'):
                for auth in AUTHS:
                    h = list(GETCONFIG) if method == 'POST' else []
                    if auth:
                        h.append(('Authorization', auth))
                    body = harness.SOAP_BODY if method == 'POST' else b''
                    r = self.d.http(method, path, headers=h, body=body)
                    ch = r.header_all('WWW-Authenticate')
                    if ch or r.status == 401:
                        seen.append((method, path, auth and auth[:8],
                                     r.status, ch))
        self.assertEqual(seen, [])
        # Control: the check sees headers at all (ServerSync over HTTPS
        # with the default configuration asks for Negotiate).
        r = self.d.https('POST', harness.ROOT_PATHS['ServerSyncWebService'],
                         headers=GETCONFIG, body=harness.SOAP_BODY)
        self.assertEqual(r.status, 401, r)
        self.assertTrue(any(v.startswith('Negotiate') for v in
                            r.header_all('WWW-Authenticate')), r)
        self.assertFalse(any(v.upper().startswith('NTLM') for v in
                             r.header_all('WWW-Authenticate')), r)

    def test_s7_tls_roots_403_no_redirect(self):
        for root in harness.TLS_ROOTS:
            for method in ('GET', 'POST'):
                r = self.d.http(method, harness.ROOT_PATHS[root],
                                headers=GETCONFIG if method == 'POST' else [],
                                body=harness.SOAP_BODY
                                if method == 'POST' else b'')
                self.assertEqual(r.status, 403, '%s %s: %r'
                                 % (method, root, r))
                self.assertIsNone(r.header('Location'), r)
        for root in harness.OPEN_ROOTS:
            if root == 'Content':
                continue
            r = self.d.http('POST', harness.ROOT_PATHS[root],
                            headers=GETCONFIG, body=harness.SOAP_BODY)
            self.assertNotEqual(r.status, 403, '%s: %r' % (root, r))

    def test_s7_getconfig_has_no_http_url(self):
        r = wc.Client(self.d).getconfig()
        root = ET.fromstring(r.body)
        texts = [(e.tag, (e.text or '').strip()) for e in root.iter()]
        self.assertTrue(any(t.endswith('ServiceUrl') for t, _ in texts),
                        'no ServiceUrl in GetConfig: control failed')
        http = [(t, v) for t, v in texts if re.search(r'(?i)http:', v)]
        self.assertEqual(http, [])
        for t, v in texts:
            if t.endswith('ServiceUrl'):
                self.assertTrue(v.startswith('https://') or '://' not in v,
                                v)
        # Attribute values other than namespace declarations: none http:.
        for e in root.iter():
            for k, v in e.attrib.items():
                self.assertNotRegex(v, r'(?i)^http:', '%s=%s' % (k, v))
        sc.assert_alive(self, self.d)


class RedirectingUpstream(harness.DaemonTestCase):
    """A trusted HTTPS stub that redirects every request."""

    def setUp(self):
        self.hits = []          # requests the stub saw
        self.plain_hits = []    # requests that reached the http:// target
        out = os.path.join(self.d.base, 'stub')
        harness.run_wsusutil(self.d.dir, 'testca', '--out', out,
                             '127.0.0.1')
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(out + '.crt', out + '.key')
        self.plain = self.server(None, self.plain_hits, None)
        self.stub = self.server(ctx, self.hits, 'http://127.0.0.1:%d' %
                                self.plain.server_address[1])

    def tearDown(self):
        for s in (self.stub, self.plain):
            s.shutdown()
            s.server_close()
        super().tearDown()

    def server(self, ctx, log, location):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def answer(self):
                n = int(self.headers.get('Content-Length') or 0)
                self.rfile.read(n)
                log.append(self.path)
                if location is None:
                    self.send_response(500)
                else:
                    self.send_response(302)
                    self.send_header('Location', outer.target(location) +
                                     self.path)
                self.send_header('Content-Length', '0')
                self.end_headers()
            do_GET = do_POST = answer

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        if ctx is not None:
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv

    def rows(self, table):
        import sqlite3
        db = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            return db.execute('SELECT count(*) FROM %s' % table).fetchone()[0]
        finally:
            db.close()

    def target(self, location):
        return getattr(self, 'override', None) or location

    def sync(self):
        url = 'https://127.0.0.1:%d' % self.stub.server_address[1]
        harness.run_wsusutil(self.d.dir, 'upstream', 'set', url, '--ca',
                             self.d.path('tls', 'ca.pem'))
        return harness.run_wsusutil(self.d.dir, 'sync', '--wait',
                                    '--metadata-only', check=False)

    def test_downgrade_refused(self):
        before = wc.stored_events(self.d), self.rows('update_')
        p = self.sync()
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn('refusing downgrade to plain HTTP', err)
        self.assertIn('http://127.0.0.1:%d' % self.plain.server_address[1],
                      err)
        self.assertEqual(len(self.hits), 1)      # asked once, not again
        self.assertEqual(self.plain_hits, [])    # never followed
        self.assertEqual((wc.stored_events(self.d), self.rows('update_')),
                         before)

    def test_other_server_not_followed(self):
        self.override = 'https://other.example'
        before = self.rows('update_')
        p = self.sync()
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn('redirects are not followed', err)
        self.assertIn('https://other.example/', err)
        self.assertEqual(len(self.hits), 1)
        self.assertEqual(self.rows('update_'), before)


class NtlmUpstream(harness.DaemonTestCase):
    """A trusted HTTPS stub that asks for NTLM (and Basic) and records
    every Authorization header it is sent."""

    def setUp(self):
        self.auth = []
        auth = self.auth

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get('Content-Length') or 0))
                auth.append(self.headers.get('Authorization'))
                self.send_response(401)
                self.send_header('WWW-Authenticate', 'NTLM')
                self.send_header('WWW-Authenticate', 'Basic realm="wsus"')
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *a):
                pass

        self.stub = sc.tls_stub(self.d, 'ntlm-stub', H)

    def tearDown(self):
        self.stub.shutdown()
        self.stub.server_close()
        super().tearDown()

    def test_s5b_no_ntlm_offered(self):
        url = 'https://127.0.0.1:%d' % self.stub.server_address[1]
        harness.run_wsusutil(self.d.dir, 'upstream', 'set', url, '--ca',
                             self.d.path('tls', 'ca.pem'))
        p = harness.run_wsusutil(self.d.dir, 'sync', '--wait',
                                 '--metadata-only', check=False)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn('HTTP 401', err)
        self.assertGreaterEqual(len(self.auth), 1)
        self.assertEqual(self.auth, [None] * len(self.auth))


if __name__ == '__main__':
    unittest.main(verbosity=2)
