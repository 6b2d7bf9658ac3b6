#!/usr/bin/env python3
"""SIGHUP (certificate, config, ports) and SIGTERM behaviour.

SIGHUP reloads without dropping in-flight requests and keeps the old
state when the new one is unusable; SIGTERM lets in-flight transfers
finish within shutdown_timeout and exits 0.
"""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (DaemonTestCase, Download, HTTPReader, connect,  # noqa
                     fingerprint, leaf_der, run_wsusutil)

MiB = 1024 * 1024
SMALL = b'reload test small file\n' * 40
REPORTING = '/ReportingWebService/ReportingWebService.asmx'


def markers(size, step):
    return {off: (b'<%012d>' % off) * 4 for off in range(0, size - 64, step)}


def wait_for(pred, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


class CertRotation(DaemonTestCase):
    """A 200 MiB HTTPS download survives a certificate rotation."""

    @classmethod
    def populate(cls, d):
        size = 200 * MiB + 777
        cls.big_name, cls.big_url, cls.big_path = harness.make_sparse(
            d.dir, size, markers(size, 7 * MiB + 13), seed=b'rotation')
        cls.big_sha = harness.file_sha256(cls.big_path)
        cls.big_size = size
        cls.name, cls.url, _ = harness.put_content(d.dir, SMALL)

    def test_rotation_during_download(self):
        d = self.d
        old = leaf_der(d.path('tls', 'server.crt'))
        self.assertEqual(d.peer_cert(), old)

        dl = Download(d.https_port, self.big_url, tls=d.ctx(), delay=0.05)
        dl.start()
        self.assertTrue(dl.started_body.wait(20), 'download did not start')
        self.assertIsNone(dl.error, dl.error)
        self.assertEqual(dl.status, 200)

        run_wsusutil(d.dir, 'testca', '--out', d.path('tls', 'second'),
                     'localhost', '127.0.0.1')
        new = leaf_der(d.path('tls', 'second.crt'))
        self.assertNotEqual(fingerprint(new), fingerprint(old))
        p = run_wsusutil(d.dir, 'configuressl', 'localhost',
                         '--cert', d.path('tls', 'second.crt'),
                         '--key', d.path('tls', 'second.key'))
        self.assertEqual(leaf_der(d.path('tls', 'server.crt')), new,
                         'configuressl did not install the new cert')
        d.reload()

        presented = wait_for(lambda: d.peer_cert() == new, 15)
        in_flight = dl.is_alive() and dl.received < dl.length
        self.assertTrue(presented, 'new handshakes still present the old '
                        'certificate 15 s after SIGHUP (%s)' % fingerprint(
                            d.peer_cert()))
        self.assertTrue(in_flight, 'download finished before the reload '
                        'was observed (%d of %r bytes): test inconclusive, '
                        'slow the reader' % (dl.received, dl.length))
        dl.slow.clear()
        dl.join(120)
        self.assertFalse(dl.is_alive(), 'download still running after 120 s')
        self.assertIsNone(dl.error, 'in-flight download broken by reload: %r'
                          % (dl.error,))
        self.assertEqual(dl.received, self.big_size)
        self.assertEqual(dl.sha256.hexdigest(), self.big_sha,
                         'downloaded bytes differ from the file')
        self.assertEqual(dl.peer_der, old, 'download ran on the old cert')
        # And the server still answers normally over the new cert.
        r = d.https('GET', self.url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, SMALL)
        del p


class RefusedConfigureSSL(DaemonTestCase):
    """A refused configuressl changes nothing; SIGHUP keeps serving."""

    @classmethod
    def populate(cls, d):
        cls.name, cls.url, _ = harness.put_content(d.dir, SMALL)

    def snapshot(self):
        return {f: read_bytes(self.d.path(*f.split('/')))
                for f in ('tls/server.crt', 'tls/server.key', 'wsusd.conf')}

    def assert_still_serving(self, cert):
        self.d.reload()
        time.sleep(1.5)
        self.assertTrue(self.d.alive(), 'wsusd died on SIGHUP:\n'
                        + self.d.stderr()[-3000:])
        self.assertEqual(fingerprint(self.d.peer_cert()), fingerprint(cert))
        r = self.d.https('GET', self.url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, SMALL)
        r = self.d.http('GET', self.url)
        self.assertEqual(r.status, 200, r)

    def refuse(self, *args):
        before = self.snapshot()
        p = run_wsusutil(self.d.dir, 'configuressl', *args, check=False)
        err = p.stderr.decode(errors='replace')
        self.assertEqual(p.returncode, 1, 'configuressl %r: exit %d, %s'
                         % (args, p.returncode, err))
        self.assertRegex(err, r'(?m)^wsusutil: configuressl: \S', err)
        self.assertEqual(self.snapshot(), before,
                         'refused configuressl changed files')
        return err

    def test_wrong_name_refused(self):
        d = self.d
        cur = leaf_der(d.path('tls', 'server.crt'))
        run_wsusutil(d.dir, 'testca', '--out', d.path('tls', 'other'),
                     'localhost', '127.0.0.1')
        self.refuse('wrong-name.example', '--cert', d.path('tls', 'other.crt'),
                    '--key', d.path('tls', 'other.key'))
        self.assert_still_serving(cur)

    def test_mismatched_key_refused(self):
        d = self.d
        cur = leaf_der(d.path('tls', 'server.crt'))
        run_wsusutil(d.dir, 'testca', '--out', d.path('tls', 'third'),
                     'localhost', '127.0.0.1')
        self.refuse('localhost', '--cert', d.path('tls', 'third.crt'),
                    '--key', d.path('tls', 'testca-server.key'))
        self.assert_still_serving(cur)

    def test_missing_files_refused(self):
        d = self.d
        cur = leaf_der(d.path('tls', 'server.crt'))
        self.refuse('localhost', '--cert', d.path('tls', 'absent.crt'),
                    '--key', d.path('tls', 'absent.key'))
        self.assert_still_serving(cur)

    def test_broken_installed_cert_reload_keeps_old(self):
        # Someone writes garbage over server.crt and sends SIGHUP: the
        # reload fails and the daemon keeps the certificate it has.
        d = self.d
        path = d.path('tls', 'server.crt')
        saved = read_bytes(path)
        cur = leaf_der(path)
        try:
            with open(path, 'wb') as f:
                f.write(b'-----BEGIN CERTIFICATE-----\ngarbage\n'
                        b'-----END CERTIFICATE-----\n')
            self.assert_still_serving(cur)
        finally:
            with open(path, 'wb') as f:
                f.write(saved)
        self.assert_still_serving(cur)


class ConfigReload(DaemonTestCase):
    """wsusd.conf changes take effect on SIGHUP; a bad file is ignored."""

    @classmethod
    def populate(cls, d):
        cls.name, cls.url, _ = harness.put_content(d.dir, SMALL)

    def reporting_2mib(self):
        """413 if a 2 MiB POST is refused on its head, else 'accepted'
        (the server waits for the body).  Independent of 100-continue."""
        head = ('POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: '
                'text/xml\r\nContent-Length: %d\r\nConnection: close\r\n'
                '\r\n' % (REPORTING, 2 * MiB)).encode()
        with connect(self.d.http_port) as s:
            s.sendall(head)
            try:
                return HTTPReader(s, 2).read_response().status
            except (OSError, harness.NoResponse):  # timeout: waiting
                return 'accepted'

    def test_body_limit_reload_and_bad_file(self):
        d = self.d
        self.assertEqual(self.reporting_2mib(), 'accepted',
                         'default 16 MiB limit should accept 2 MiB')
        d.set_conf('max_body_reportingwebservice', '1M')
        d.reload()
        self.assertTrue(wait_for(lambda: self.reporting_2mib() == 413, 10),
                        'max_body_reportingwebservice = 1M not applied by '
                        'SIGHUP')
        # An invalid file: reload fails, the 1M limit stays, still serving.
        d.set_conf('max_body_reportingwebservice', '8M',
                   raw_line='this_key_does_not_exist = 1')
        d.reload()
        time.sleep(1.5)
        self.assertTrue(d.alive(), d.stderr()[-3000:])
        self.assertEqual(self.reporting_2mib(), 413,
                         'invalid wsusd.conf was partly applied')
        r = d.https('GET', self.url)
        self.assertEqual(r.status, 200, r)
        # Fix the file: the 8M limit now applies.
        d.set_conf('this_key_does_not_exist', None)
        d.reload()
        self.assertTrue(wait_for(lambda: self.reporting_2mib() == 'accepted',
                                 10),
                        'fixed wsusd.conf not applied by SIGHUP')


class PortReload(DaemonTestCase):
    """The port comes from wsusd.conf (no --port); SIGHUP moves it."""

    @classmethod
    def setUpClass(cls):
        cls.d = harness.Wsusd(tls=True)
        try:
            cls.d.set_conf('port', str(cls.d.port))
            cls.name, cls.url, _ = harness.put_content(cls.d.dir, SMALL)
            cls.d.start(port_arg=False)
        except BaseException:
            cls.d.cleanup()
            raise

    def test_port_change(self):
        d = self.d
        old_https, old_http = d.https_port, d.http_port
        self.assertEqual(d.http('GET', self.url).status, 200)
        new = harness.free_port_pair()
        d.set_conf('port', str(new))
        d.reload()
        d.port = new
        ok = wait_for(lambda: harness.port_open(new) and
                      harness.port_open(new - 1), 15)
        self.assertTrue(ok, 'ports %d/%d not listening 15 s after SIGHUP'
                        % (new, new - 1))
        self.assertEqual(d.http('GET', self.url).status, 200)
        r = d.https('GET', self.url)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(harness.wait_port_closed(old_https, 10),
                        'old HTTPS port %d still listening' % old_https)
        self.assertTrue(harness.wait_port_closed(old_http, 10),
                        'old HTTP port %d still listening' % old_http)


class Shutdown(DaemonTestCase):
    """SIGTERM: in-flight download completes, exit status 0."""

    CONF = {'shutdown_timeout': '10'}

    @classmethod
    def populate(cls, d):
        size = 48 * MiB + 5
        cls.big_name, cls.big_url, cls.big_path = harness.make_sparse(
            d.dir, size, markers(size, 3 * MiB + 1), seed=b'shutdown')
        cls.big_sha = harness.file_sha256(cls.big_path)
        cls.big_size = size

    def tearDown(self):
        pass  # the daemon is meant to exit here

    def test_sigterm_lets_download_finish(self):
        d = self.d
        pidfile = d.path('wsusd.pid')
        self.assertTrue(os.path.exists(pidfile), 'no DIR/wsusd.pid')
        with open(pidfile) as f:
            self.assertEqual(int(f.read().strip()), d.pid)
        dls = [Download(d.http_port, self.big_url, delay=0.03),
               Download(d.https_port, self.big_url, tls=d.ctx(), delay=0.03)]
        for dl in dls:
            dl.start()
        for dl in dls:
            self.assertTrue(dl.started_body.wait(20))
            self.assertIsNone(dl.error, dl.error)
        t0 = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        in_flight = [dl.is_alive() for dl in dls]
        # New connections stop being accepted promptly.
        closed_promptly = harness.wait_port_closed(d.http_port, 5)
        for dl in dls:
            dl.join(30)
        try:
            rc = d.proc.wait(timeout=20)
        except Exception:  # noqa: BLE001
            rc = None
        elapsed = time.monotonic() - t0
        self.assertTrue(all(in_flight), 'a download finished before SIGTERM '
                        'took effect: inconclusive')
        for dl, name in zip(dls, ('http', 'https')):
            self.assertIsNone(dl.error, '%s download cut by SIGTERM: %r'
                              % (name, dl.error))
            self.assertEqual(dl.received, self.big_size, name)
            self.assertEqual(dl.sha256.hexdigest(), self.big_sha, name)
        self.assertEqual(rc, 0, 'exit status after SIGTERM: %r; stderr:\n%s'
                         % (rc, d.stderr()[-3000:]))
        self.assertLess(elapsed, 10 + 5, 'exit took %.1f s' % elapsed)
        self.assertTrue(closed_promptly, 'HTTP port still accepting 5 s '
                        'after SIGTERM')


if __name__ == '__main__':
    unittest.main(verbosity=2)
