#!/usr/bin/env python3
"""Start-up checks: refusals (S3, S17), port rule, pid file, access log.

Each refusal test also shows that fixing the one thing it broke lets the
same data directory start, so a daemon that refuses everything fails.
"""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Wsusd  # noqa: E402

CONTENT = b'startup content\n' * 32


class Startup(unittest.TestCase):

    def make(self, **kw):
        d = Wsusd(**kw)
        self.addCleanup(d.cleanup)
        self.name, self.url, _ = harness.put_content(d.dir, CONTENT)
        return d

    def assertRefuses(self, d, mention=None, what=''):
        rc, err = d.run_to_exit()
        self.assertIsNotNone(rc, '%s: wsusd still running after %.0f s; '
                             'stderr:\n%s' % (what, harness.START_TIMEOUT,
                                              err))
        self.assertNotEqual(rc, 0, '%s: exit status 0' % what)
        self.assertTrue(err.strip(), '%s: refused without a message' % what)
        if mention is not None:
            self.assertIn(mention, err, '%s: message does not name %r:\n%s'
                          % (what, mention, err))
        self.assertIsNone(d.sanitizer_report(), d.sanitizer_report())
        return err

    def assertStarts(self, d, what='', https=True):
        try:
            d.start(expect_https=https)
        except harness.HarnessError as e:
            self.fail('%s: %s' % (what, e))
        r = d.http('GET', self.url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, CONTENT)
        rc = d.stop()
        self.assertEqual(rc, 0, '%s: SIGTERM exit status %r; stderr:\n%s'
                         % (what, rc, d.stderr()))

    # ------------------------------------------------------------ refusals
    def test_no_certificate_refuses(self):
        d = self.make(tls=False)
        err = self.assertRefuses(d, what='no certificate')
        low = err.lower()
        self.assertTrue(any(w in low for w in ('certificate', 'server.crt',
                                               'allow_insecure_http', 'tls')),
                        'message does not say why: %s' % err)
        self.assertFalse(harness.port_open(d.http_port))
        # Control: with allow_insecure_http = yes the same dir starts.
        d.set_conf('allow_insecure_http', 'yes')
        self.assertStarts(d, 'insecure allowed', https=False)

    def test_allow_insecure_http_only_http_and_warns(self):
        d = self.make(tls=False, conf={'allow_insecure_http': 'yes'})
        d.start(expect_https=False)
        try:
            self.assertTrue(harness.port_open(d.http_port))
            time.sleep(0.5)
            self.assertFalse(harness.port_open(d.https_port),
                             'HTTPS port listens without a certificate')
            r = d.http('GET', self.url)
            self.assertEqual(r.status, 200, r)
            err = d.stderr().lower()
            self.assertIn('metadata', err, 'no warning about unprotected '
                          'metadata on stderr:\n%s' % d.stderr())
            self.assertTrue(any(w in err for w in (
                'unprotected', 'not protected', 'insecure', 'plain',
                'without tls', 'unencrypted', 'unauthenticated')),
                d.stderr())
        finally:
            self.assertEqual(d.stop(), 0)

    def test_allow_insecure_http_no_with_no_cert_refuses(self):
        d = self.make(tls=False, conf={'allow_insecure_http': 'no'})
        self.assertRefuses(d, what='allow_insecure_http = no')

    def test_key_readable_by_others_refuses(self):
        d = self.make()
        key = d.path('tls', 'server.key')
        os.chmod(key, 0o644)
        self.assertRefuses(d, 'server.key', 'key 0644')

    def test_key_readable_by_group_refuses(self):
        d = self.make()
        key = d.path('tls', 'server.key')
        os.chmod(key, 0o640)
        self.assertRefuses(d, 'server.key', 'key 0640')
        os.chmod(key, 0o600)
        self.assertStarts(d, 'key 0600')

    def test_datadir_world_writable_refuses(self):
        d = self.make()
        os.chmod(d.dir, 0o757)
        try:
            self.assertRefuses(d, d.dir, 'DIR o+w')
        finally:
            os.chmod(d.dir, 0o750)
        self.assertStarts(d, 'DIR 0750')

    def test_garbage_certificate_refuses(self):
        d = self.make()
        with open(d.path('tls', 'server.crt'), 'wb') as f:
            f.write(b'-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n'
                    b'-----END CERTIFICATE-----\n')
        self.assertRefuses(d, 'server.crt', 'garbage server.crt')

    def test_unknown_config_key_refuses(self):
        d = self.make()
        d.set_conf('no_such_key_integ', '1')
        self.assertRefuses(d, 'wsusd.conf', 'unknown key')
        d.set_conf('no_such_key_integ', None)
        self.assertStarts(d, 'fixed wsusd.conf')

    # ------------------------------------------------------------ ports
    def test_port_rule_non_default(self):
        port = harness.free_port_pair(preferred=24443)
        d = self.make(port=port)
        d.start()
        try:
            self.assertTrue(harness.port_open(port))
            self.assertTrue(harness.port_open(port - 1))
            r = d.https('GET', self.url)
            self.assertEqual(r.status, 200, r)
            r = d.http('GET', self.url)
            self.assertEqual(r.status, 200, r)
        finally:
            self.assertEqual(d.stop(), 0)

    def test_port_from_config_file(self):
        d = self.make()
        d.set_conf('port', str(d.port))
        d.start(port_arg=False)
        try:
            r = d.https('GET', self.url)
            self.assertEqual(r.status, 200, r)
            r = d.http('GET', self.url)
            self.assertEqual(r.status, 200, r)
        finally:
            self.assertEqual(d.stop(), 0)

    def test_listen_only_given_address(self):
        d = self.make()
        d.start()
        try:
            for port in (d.https_port, d.http_port):
                s = socket.socket()
                s.settimeout(2)
                try:
                    with self.assertRaises(OSError,
                                           msg='127.0.0.2:%d accepted' % port):
                        s.connect(('127.0.0.2', port))
                finally:
                    s.close()
        finally:
            self.assertEqual(d.stop(), 0)

    # ------------------------------------------------------------ files
    def test_pid_file_and_access_log(self):
        d = self.make()
        d.start()
        try:
            with open(d.path('wsusd.pid')) as f:
                self.assertEqual(int(f.read().strip()), d.pid)
            marker = self.url
            r = d.http('GET', marker)
            self.assertEqual(r.status, 200)
            r = d.https('GET', '/foo-integ-404')
            self.assertEqual(r.status, 404)
        finally:
            rc = d.stop()
        self.assertEqual(rc, 0)
        with open(d.path('access.log'), 'rb') as f:
            log = f.read()
        self.assertIn(marker.encode(), log, 'GET not in access.log')
        self.assertIn(b'/foo-integ-404', log)
        line = [ln for ln in log.splitlines() if marker.encode() in ln][0]
        self.assertIn(b'200', line)
        self.assertIn(b'GET', line)

    # ------------------------------------------------------------ IPv6
    def test_ipv4_and_ipv6(self):
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            probe.bind(('::1', 0))
            probe.close()
        except OSError:
            self.skipTest('no IPv6 loopback on this host')
        d = self.make()
        d.start(extra=('--listen', '::1'))
        try:
            for port in (d.https_port, d.http_port):
                tls = port == d.https_port
                s = socket.create_connection(('::1', port), 5)
                if tls:
                    s = d.ctx().wrap_socket(s, server_hostname='localhost')
                with s:
                    s.sendall(harness.build_request('GET', self.url))
                    r = harness.HTTPReader(s).read_response()
                self.assertEqual(r.status, 200, 'over [::1]:%d' % port)
                self.assertEqual(r.body, CONTENT)
            self.assertIn('[::1]:%d (https)' % d.https_port, d.stderr())
        finally:
            self.assertEqual(d.stop(), 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
