#!/usr/bin/env python3
"""SECURITY.md S1: the CVE-2025-59287 GetCookie path.

(a) A CookieData built the way the public exploit builds it (a .NET
    BinaryFormatter stream, base64 "AAEAAAD/////", about 4 KiB, and the
    same cut to the exact length of a real token) is answered with a SOAP
    fault InvalidAuthorizationCookie on GetCookie, InvalidCookie as a
    client cookie; over plain HTTP the root answers 403; wsusd starts no
    child process and stays alive.
(b) 1,000 random blobs of 0-64 KiB as CookieData / EncryptedData: every
    answer is a fault, no child process, peak RSS (VmHWM) grows < 8 MiB.
(c) Two fresh data directories get different DIR/tls/cookie.key (0600);
    the key WSUS shipped is not in src/ nor in the binaries.
"""

import base64
import os
import random
import re
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common as sc  # noqa: E402
from sec_common import harness, wc  # noqa: E402

# The key WSUS shipped, in two halves so no file holds it whole.
WSUS_KEY_HEX = '877C14E4' + '33638145AD21BD0C17393071'
WSUS_KEY_B64 = 'h3wU5DNjgUWt' + 'Ib0MFzkwcQ=='

# The header of a BinaryFormatter stream (SerializationHeaderRecord):
# record type 0, root id 1, header id -1, major 1, minor 0; then a
# BinaryLibrary record naming an assembly, as ysoserial.net writes.
BF_HEADER = bytes([0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
                   0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
                   0x02, 0x00, 0x00, 0x00])
BF_ASSEMBLY = (b'\x49System.Windows.Forms, Version=4.0.0.0, Culture=neutral, '
               b'PublicKeyToken=b77a5c561934e089')
BF_GADGET = (b'System.Windows.Data.ObjectDataProvider MethodName Start '
             b'ObjectInstance System.Diagnostics.Process cmd.exe /c '
             b'calc.exe ')

AUTH_B64_LEN = 664   # an authorization cookie (CookieData), as WSUS's
CLIENT_B64_LEN = 300  # a client cookie (EncryptedData), as WSUS's


def bf_payload(size):
    blob = bytearray(BF_HEADER + BF_ASSEMBLY)
    while len(blob) < size:
        blob += BF_GADGET
    return bytes(blob[:size])


def sanitized_build():
    # An ASan build links libasan dynamically: the binary itself holds
    # the instrumentation's symbol names, not the runtime's messages.
    with open(harness.WSUSD, 'rb') as f:
        data = f.read()
    return b'__asan_init' in data or b'AddressSanitizer' in data


def getcookie_body(cookie_data, last_change):
    body = wc.getcookie_body(cookie_data, last_change)
    return body.encode() if isinstance(body, str) else body


class KeepAlive:
    """POSTs over one TLS connection, reconnecting when wsusd closes it."""

    def __init__(self, d):
        self.d = d
        self.s = None

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None

    def post(self, op, body):
        path, ns = wc.endpoint(op)
        req = harness.build_request('POST', path, [
            ('Content-Type', 'text/xml; charset=utf-8'),
            ('SOAPAction', '"%s/%s"' % (ns, op))], body, close=False)
        for attempt in (0, 1):
            if self.s is None:
                self.s = harness.connect(self.d.https_port, self.d.ctx())
                self.rd = harness.HTTPReader(self.s)
            try:
                self.s.sendall(req)
                r = self.rd.read_response('POST')
            except (harness.NoResponse, OSError):
                self.close()
                if attempt:
                    raise
                continue
            if (r.header('Connection') or '').lower() == 'close':
                self.close()
            return r


class CookieDeserialization(harness.DaemonTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = wc.Client(cls.d)
        cls.lc = wc.text(cls.c.getconfig().body, 'LastChange')

    def assertNoChildren(self):
        self.assertEqual(sc.children(self.d.pid), [],
                         'wsusd started a child process')

    def test_a_binaryformatter_cookiedata(self):
        self.assertNoChildren()
        for size in (4096, 3000, 2048, 496, 224):
            b64 = base64.b64encode(bf_payload(size)).decode()
            self.assertTrue(b64.startswith('AAEAAAD/////'))
            cuts = [b64] + [b64[:n] for n in (AUTH_B64_LEN, CLIENT_B64_LEN)
                            if len(b64) > n]
            for data in cuts:
                with self.subTest(size=size, b64_len=len(data)):
                    # GetCookie, the CVE's path, over TLS.
                    r = self.c.getcookie(data, self.lc)
                    self.assertEqual(r.status, 500, r)
                    self.assertEqual(sc.fault_of(r.body)[0],
                                     'InvalidAuthorizationCookie', r)
                    self.assertNotIn(b'System.', r.body)
                    # The same bytes as a client cookie.
                    r = self.c.register(data)
                    self.assertEqual(r.status, 500, r)
                    self.assertEqual(sc.fault_of(r.body)[0],
                                     'InvalidCookie', r)
                    # Over plain HTTP (the CVE's port 8530): 403, no SOAP.
                    r = harness.request(self.d.http_port, 'POST',
                                        wc.CLIENT_PATH, [
                                            ('Content-Type', 'text/xml'),
                                            ('SOAPAction', '"%s/GetCookie"'
                                             % wc.CLIENT)],
                                        getcookie_body(data, self.lc))
                    self.assertEqual(r.status, 403, r)
                    self.assertIsNone(sc.fault_of(r.body)[0])
        self.assertNoChildren()
        sc.assert_alive(self, self.d)

    def test_b_random_blobs(self):
        rnd = random.Random(59287)
        conn = KeepAlive(self.d)
        self.addCleanup(conn.close)
        ops = ('GetCookie', 'RegisterComputer')
        alpha = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                 '0123456789+/')

        def blob(i):
            n = rnd.randrange(0, 64 * 1024 + 1)
            kind = i % 4
            if kind == 0:  # base64 of random bytes
                return base64.b64encode(rnd.randbytes(n)).decode()
            if kind == 1:  # random base64 alphabet, any length
                return ''.join(rnd.choice(alpha) for _ in range(n // 4))
            if kind == 2:  # exactly a token's length, random bytes
                ln = AUTH_B64_LEN if i % 8 == 2 else CLIENT_B64_LEN
                raw = bytearray(rnd.randbytes(ln // 4 * 3))
                raw[0] = 1  # version 1, so the token gets to the tag
                return base64.b64encode(bytes(raw)).decode()[:ln]
            # printable junk, XML-escaped
            s = ''.join(chr(rnd.randrange(32, 127)) for _ in range(n // 8))
            return s.replace('&', '&amp;').replace('<', '&lt;').replace(
                '>', '&gt;')

        def send(i):
            data = blob(i)
            op = ops[i % 2]
            if op == 'GetCookie':
                body = getcookie_body(data, self.lc)
            else:
                body = wc.with_cookie(wc.capture('scan', '000004'), data)
            return data, conn.post(op, body.encode()
                                   if isinstance(body, str) else body)

        for i in range(40):  # warm-up: workers, TLS, allocator arenas
            send(i)
        base = sc.status_kib(self.d.pid, 'VmHWM')
        bad = []
        deadline = time.monotonic() + 240
        for i in range(1000):
            self.assertLess(time.monotonic(), deadline, 'too slow')
            data, r = send(i)
            code = sc.fault_of(r.body)[0] if r.status == 500 else None
            if code not in ('InvalidAuthorizationCookie', 'InvalidCookie',
                            'InvalidParameters'):
                bad.append((i, len(data), r.status, r.body[:200]))
        conn.close()
        self.assertEqual(bad, [], 'not a fault: %r' % bad[:5])
        self.assertNoChildren()
        grown = sc.status_kib(self.d.pid, 'VmHWM') - base
        if sanitized_build():
            sys.stderr.write('S1(b): ASan build, VmHWM +%d KiB not bounded '
                             '(allocator quarantine)\n' % grown)
        else:
            self.assertLess(grown, 8 * 1024, 'VmHWM grew %d KiB' % grown)
        sc.assert_alive(self, self.d)


class KeyPerInstall(unittest.TestCase):

    def key_of_fresh_install(self):
        d = harness.Wsusd()
        self.addCleanup(d.cleanup)
        d.start()
        wc.Client(d).session(register=False)  # issue cookies with it
        self.assertEqual(d.stop(), 0)
        p = d.path('tls', 'cookie.key')
        st = os.lstat(p)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, oct(st.st_mode))
        with open(p, 'rb') as f:
            return f.read()

    def test_c_two_installs_two_keys(self):
        a, b = self.key_of_fresh_install(), self.key_of_fresh_install()
        # src/cookie/cookie.c's file: "WSDCKEY1", ids, rotation time,
        # then the current AES-256 key at offset 24.
        for k in (a, b):
            self.assertEqual(len(k), 88)
            self.assertEqual(k[:8], b'WSDCKEY1')
            self.assertNotEqual(k[24:56], bytes(32))
        self.assertNotEqual(a[24:56], b[24:56])
        # No 16-byte window of one key appears in the other file.
        self.assertFalse(any(a[i:i + 16] in b for i in range(24, 41)))
        self.assertNotIn(bytes.fromhex(WSUS_KEY_HEX), a + b)

    def test_c_wsus_key_nowhere(self):
        src = os.path.join(harness.REPO, 'src')
        self.assertTrue(os.path.exists(os.path.join(src, 'cookie',
                                                    'cookie.c')))
        p = subprocess.run(['grep', '-rIil', '-e', WSUS_KEY_HEX[:8], '-e',
                            WSUS_KEY_B64[:12], src],
                           stdout=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout.decode())  # 1: no match
        raw = bytes.fromhex(WSUS_KEY_HEX)
        bins = [harness.WSUSD, harness.WSUSUTIL]
        bins += [os.environ['WUAGENT']] if os.environ.get('WUAGENT') else []
        for path in bins:
            with open(path, 'rb') as f:
                blob = f.read()
            self.assertNotIn(raw, blob, path)
            self.assertIsNone(re.search(WSUS_KEY_HEX.encode(), blob, re.I),
                              path)
            self.assertNotIn(WSUS_KEY_B64.encode(), blob, path)


if __name__ == '__main__':
    unittest.main(verbosity=2)
