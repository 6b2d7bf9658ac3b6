#!/usr/bin/env python3
"""SECURITY.md S4: user-proxy interception and key pinning (CVE-2020-1013).

wuagent takes its proxy only from its configuration (Proxy, --proxy),
never from the environment of whoever runs it, and can pin the servers'
public keys (PinnedPublicKey, --pin):

- HTTPS_PROXY/https_proxy/ALL_PROXY set to a CONNECT proxy on loopback:
  the download goes direct and the proxy sees nothing;
- the same proxy configured: the download goes through it (a CONNECT);
- a pin of the server's key: the download works; a pin of another key
  (a certificate from the same trusted CA): "pin mismatch", nothing
  written;
- malformed Proxy and PinnedPublicKey values are refused, naming them.

wsusd's synchronization likewise: through `sync_proxy` (wsusd.conf) when
set, never through a proxy named in the environment of whoever runs
`wsusutil sync`.
"""

import base64
import hashlib
import http.server
import os
import select
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common  # noqa: E402,F401  (puts tests/integration on the path)
import harness  # noqa: E402
import test_wuagent_fetch as wf  # noqa: E402


class ConnectProxy(socketserver.ThreadingTCPServer):
    """A CONNECT-only proxy on 127.0.0.1 that records what it was asked
    for and relays the bytes (no interception)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.seen = []
        super().__init__(('127.0.0.1', 0), ConnectHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]


class ConnectHandler(socketserver.BaseRequestHandler):

    def handle(self):
        head = b''
        while b'\r\n\r\n' not in head and len(head) < 8192:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b'\r\n', 1)[0].decode(errors='replace')
        self.server.seen.append(line)
        parts = line.split()
        if len(parts) < 2 or parts[0] != 'CONNECT':
            self.request.sendall(b'HTTP/1.1 405 Method Not Allowed\r\n'
                                 b'Content-Length: 0\r\n\r\n')
            return
        host, port = parts[1].rsplit(':', 1)
        up = socket.create_connection((host, int(port)), timeout=10)
        self.request.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
        socks = [self.request, up]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 10)
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is self.request else self.request).sendall(data)
        finally:
            up.close()


def spki_pin(cert):
    """sha256//BASE64 of CERT's public key, as curl pins it."""
    pub = subprocess.run([harness.OPENSSL, 'x509', '-in', cert, '-pubkey',
                          '-noout'], check=True,
                         stdout=subprocess.PIPE).stdout
    der = subprocess.run([harness.OPENSSL, 'pkey', '-pubin', '-outform',
                          'der'], input=pub, check=True,
                         stdout=subprocess.PIPE).stdout
    return 'sha256//' + base64.b64encode(hashlib.sha256(der).digest()) \
        .decode()


class ProxyAndPin(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix='wuagent-s4-')
        try:
            cls.www = os.path.join(cls.base, 'www')
            os.mkdir(cls.www)
            cls.payload = os.urandom(4000)
            with open(os.path.join(cls.www, 'file.bin'), 'wb') as f:
                f.write(cls.payload)
            cls.ca_dir = os.path.join(cls.base, 'ca')
            os.mkdir(cls.ca_dir, 0o750)
            # Two leaves from one CA: the server's and another key the
            # CA vouches for just as well.
            harness.run_wsusutil(cls.ca_dir, 'testca', 'localhost',
                                 '127.0.0.1')
            harness.run_wsusutil(cls.ca_dir, 'testca', '--out',
                                 os.path.join(cls.base, 'other'),
                                 'localhost', '127.0.0.1')
            tls = os.path.join(cls.ca_dir, 'tls')
            cls.ca = os.path.join(tls, 'ca.pem')
            cls.cert = os.path.join(tls, 'testca-server.crt')
            cls.key = os.path.join(tls, 'testca-server.key')
            cls.srv = wf.SServer(cls.cert, cls.key, cls.www)
        except BaseException:
            shutil.rmtree(cls.base, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        shutil.rmtree(cls.base, ignore_errors=True)

    def setUp(self):
        self.proxy = ConnectProxy()
        self.out = os.path.join(self.base, 'out.bin')
        for f in (self.out, self.out + '.part'):
            if os.path.exists(f):
                os.unlink(f)

    def tearDown(self):
        self.proxy.shutdown()
        self.proxy.server_close()

    def fetch(self, *flags, env=None):
        url = 'https://127.0.0.1:%d/file.bin' % self.srv.port
        args = ['--ca-file', self.ca] + list(flags) + [
            'fetch', url, self.out, '--size', str(len(self.payload)),
            '--sha1', hashlib.sha1(self.payload).hexdigest(), '--sha256',
            hashlib.sha256(self.payload).hexdigest()]
        saved = dict(os.environ)
        try:
            os.environ.update(env or {})
            return wf.wuagent(*args, timeout=60)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def fetched(self):
        with open(self.out, 'rb') as f:
            return f.read() == self.payload

    def test_environment_proxy_ignored(self):
        env = {k: self.proxy.url for k in (
            'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy',
            'http_proxy')}
        rc, so, se = self.fetch(env=env)
        self.assertEqual(rc, 0, se)
        self.assertTrue(self.fetched())
        self.assertEqual(self.proxy.seen, [])

    def test_configured_proxy_used(self):
        rc, so, se = self.fetch('--proxy', self.proxy.url)
        self.assertEqual(rc, 0, se)
        self.assertTrue(self.fetched())
        self.assertEqual(self.proxy.seen,
                         ['CONNECT 127.0.0.1:%d HTTP/1.1' % self.srv.port])

    def test_pin_matches(self):
        rc, so, se = self.fetch('--pin', spki_pin(self.cert))
        self.assertEqual(rc, 0, se)
        self.assertTrue(self.fetched())
        # Several pins: any one of them is enough.
        rc, so, se = self.fetch('--pin', '%s;%s' % (
            spki_pin(os.path.join(self.base, 'other.crt')),
            spki_pin(self.cert)))
        self.assertEqual(rc, 0, se)

    def test_pin_mismatch(self):
        # Trusted CA, name right, key not the pinned one.
        rc, so, se = self.fetch('--pin', spki_pin(
            os.path.join(self.base, 'other.crt')))
        self.assertNotEqual(rc, 0, se)
        self.assertIn('pin mismatch', se)
        self.assertFalse(os.path.exists(self.out))
        # Through the configured proxy too.
        rc, so, se = self.fetch('--proxy', self.proxy.url, '--pin',
                                spki_pin(os.path.join(self.base,
                                                      'other.crt')))
        self.assertNotEqual(rc, 0, se)
        self.assertIn('pin mismatch', se)

    def test_malformed_values_refused(self):
        for flag, value, text in (
                ('--proxy', 'socks5://127.0.0.1:1080', 'http:// URL'),
                ('--proxy', 'https://127.0.0.1:3128', 'http:// URL'),
                ('--pin', 'md5//AAAA', 'sha256//'),
                ('--pin', 'sha256//short', 'sha256//'),
                ('--pin', spki_pin(self.cert) + ';', 'sha256//')):
            rc, so, se = self.fetch(flag, value)
            self.assertEqual(rc, 2, (flag, value, se))
            self.assertIn('%s: ' % flag, se)
            self.assertIn(text, se, (flag, value))
        self.assertEqual(self.proxy.seen, [])
        self.assertFalse(os.path.exists(self.out))



class SyncProxy(harness.DaemonTestCase):
    """A trusted HTTPS stand-in for an upstream (it answers 503 to
    everything: only where the connection went matters)."""

    def setUp(self):
        self.proxy = ConnectProxy()
        self.hits = []
        hits = self.hits

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get('Content-Length') or 0))
                hits.append(self.path)
                self.send_response(503)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *a):
                pass

        self.stub = sec_common.tls_stub(self.d, 'stub', H)
        harness.run_wsusutil(
            self.d.dir, 'upstream', 'set',
            'https://127.0.0.1:%d' % self.stub.server_address[1], '--ca',
            self.d.path('tls', 'ca.pem'))

    def tearDown(self):
        self.d.set_conf('sync_proxy', None)
        for s in (self.stub, self.proxy):
            s.shutdown()
            s.server_close()
        super().tearDown()

    def sync(self, env=None):
        saved = dict(os.environ)
        try:
            os.environ.update(env or {})
            return harness.run_wsusutil(self.d.dir, 'sync', '--wait',
                                        '--metadata-only', check=False)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def test_environment_proxy_ignored(self):
        p = self.sync(env={k: self.proxy.url for k in (
            'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy')})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn('HTTP 503', p.stderr.decode())
        self.assertEqual(self.proxy.seen, [])
        self.assertEqual(len(self.hits), 1)

    def test_configured_proxy_used(self):
        self.d.set_conf('sync_proxy', self.proxy.url)
        p = self.sync()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn('HTTP 503', p.stderr.decode())
        self.assertEqual(self.proxy.seen, [
            'CONNECT 127.0.0.1:%d HTTP/1.1' % self.stub.server_address[1]])
        self.assertEqual(len(self.hits), 1)

    def test_bad_proxy_refused(self):
        self.d.set_conf('sync_proxy', 'socks5://127.0.0.1:1080')
        p = self.sync()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('sync_proxy must be an http:// URL',
                      p.stderr.decode())
        self.assertEqual(self.proxy.seen, [])
        self.assertEqual(self.hits, [])


if __name__ == '__main__':
    unittest.main(verbosity=2)
