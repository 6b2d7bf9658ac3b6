#!/usr/bin/env python3
"""Logs (issue item 11, S19): one access-log line per request in the
documented format; no cookie, Authorization value, query string or body
in any log, even at log_level debug; peers cannot forge log lines."""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HTTPReader, Wsusd, build_request, connect  # noqa: E402

SECRETS = ['SECRETCOOKIE4242', 'SECRETTOKEN4242', 'SECRETQUERY4242',
           'SECRETBODY4242']
LINE = re.compile(
    r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (https?) (\S+) (\S+) '
    r'(\S+) (\d{3}) (\d+) (\d+) "([^"]*)"$')


class Logs(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Wsusd(conf={'log_level': 'debug'})
        cls.name, cls.url, _ = harness.put_content(cls.d.dir, b'x' * 100)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def send(self, req, tls=False):
        port = self.d.https_port if tls else self.d.http_port
        with connect(port, self.d.ctx() if tls else None) as s:
            s.sendall(req)
            return HTTPReader(s).read_response()

    def access_lines(self):
        with open(self.d.path('access.log')) as f:
            return f.read().splitlines()

    def wait_lines(self, n):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = self.access_lines()
            if len(lines) >= n:
                return lines
            time.sleep(0.05)
        return self.access_lines()

    def test_secrets_never_logged(self):
        before = len(self.access_lines())
        hdrs = {'Cookie': 'session=SECRETCOOKIE4242',
                'Authorization': 'Negotiate SECRETTOKEN4242',
                'Content-Type': 'text/xml; charset=utf-8'}
        body = b'<x>SECRETBODY4242</x>'
        r = self.send(build_request(
            'POST', '/ClientWebService/client.asmx?a=SECRETQUERY4242', hdrs,
            body), tls=True)
        self.assertEqual(r.status, 500)  # a SOAP fault: not an envelope
        r = self.send(build_request('GET', self.url + '?t=SECRETQUERY4242',
                                    hdrs))
        self.assertEqual(r.status, 200)
        lines = self.wait_lines(before + 2)
        self.assertGreaterEqual(len(lines), before + 2)
        text = '\n'.join(lines) + self.d.stderr(all_runs=True)
        for s in SECRETS:
            self.assertNotIn(s, text)

    def test_line_format(self):
        before = len(self.access_lines())
        r = self.send(build_request('GET', self.url, {
            'User-Agent': 'Windows-Update-Agent/1507.2601.30012.0 '
                          'Client-Protocol/2.90'}), tls=True)
        self.assertEqual(r.status, 200)
        lines = self.wait_lines(before + 1)
        m = LINE.match(lines[-1])
        self.assertIsNotNone(m, lines[-1])
        (_, peer, scheme, vroot, method, path, status, nbytes, micros,
         agent) = m.groups()
        self.assertEqual(peer, '127.0.0.1')
        self.assertEqual(scheme, 'https')
        self.assertEqual(vroot, 'Content')
        self.assertEqual(method, 'GET')
        self.assertEqual(path, self.url)
        self.assertEqual(status, '200')
        self.assertEqual(nbytes, '100')
        self.assertGreater(int(micros), 0)
        self.assertTrue(agent.startswith('Windows-Update-Agent/'))

    def test_no_forged_lines(self):
        before = len(self.access_lines())
        evil = 'x" 200 1 1 "y\r\nX: z'  # CR LF is refused by the parser
        r = self.send(build_request('GET', self.url, {
            'User-Agent': 'a"b\\c\u00e9d'}))
        self.assertEqual(r.status, 200)
        r = self.send(('GET /Content/%%0d%%0a1999 HTTP/1.1\r\nHost: x\r\n'
                       'User-Agent: %s\r\n\r\n' % evil.split('\r')[0])
                      .encode())
        self.assertEqual(r.status, 400)
        lines = self.wait_lines(before + 2)
        new = lines[before:]
        self.assertEqual(len(new), 2, new)
        for ln in new:
            self.assertIsNotNone(LINE.match(ln), ln)
        self.assertIn('"a\\x22b\\x5cc\\xe9d"', new[0])  # latin-1 byte
        self.assertNotIn('1999', new[1])  # the refused path is not logged


if __name__ == '__main__':
    unittest.main(verbosity=2)
