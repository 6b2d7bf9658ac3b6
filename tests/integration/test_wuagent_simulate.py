#!/usr/bin/env python3
"""wuagent simulate (issue #6 item 7) against the real daemon over TLS:
many agents from one process, each registering with its own computer id
and scanning with its own cookie and cache, bounded in time."""

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Wsusd  # noqa: E402

WUAGENT = os.environ.get('WUAGENT', os.path.join(harness.REPO, 'build',
                                                 'wuagent'))


class Simulate(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Wsusd()
        cls.d.start()
        cls.tmp = tempfile.mkdtemp()
        harness.run_wsusutil(cls.d.dir, 'publishingcert', 'create',
                             check=False)
        # Three approved updates, one requiring another: a cold pass
        # takes more than one page.
        prev = None
        for i in range(3):
            name = 'sim%d.txt' % i
            with open(os.path.join(cls.tmp, name), 'w') as f:
                f.write(name)
            cab = os.path.join(cls.tmp, 'sim%d.cab' % i)
            subprocess.run(['gcab', '-c', '-n', cab, name], check=True,
                           cwd=cls.tmp)
            extra = ['--prerequisite', prev] if prev else []
            out = harness.run_wsusutil(
                cls.d.dir, 'publish', cab, '--title', 'Sim %d' % i,
                '--product', 'Sim Product', '--classification', 'Updates',
                *extra).stdout.decode()
            prev = re.search(r'[0-9a-f]{8}-[0-9a-f-]{27}', out).group(0)
            harness.run_wsusutil(cls.d.dir, 'approve', prev, '--group',
                                 'All Computers')

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def simulate(self, *args, ca=None):
        cmd = [WUAGENT, '--server', 'https://127.0.0.1:%d' %
               self.d.https_port, '--ca-file',
               ca or self.d.path('tls/ca.pem'), 'simulate', *args]
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=120)

    def test_many_clients(self):
        # Long enough for all 200 cold passes on a loaded machine (ASan:
        # about 3 s when the machine is otherwise idle, 64 done in 3 s
        # when it was not); the run stops at the duration either way.
        r = self.simulate('--clients', '200', '--duration', '10')
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        m = re.search(r'scans: (\d+) \(cold (\d+), warm (\d+)\)', r.stdout)
        self.assertIsNotNone(m, r.stdout)
        scans, cold, warm = map(int, m.groups())
        self.assertEqual(cold, 200, r.stdout)  # every client, once
        self.assertGreater(warm, 0, r.stdout)
        self.assertIn('errors: 0', r.stdout)
        self.assertRegex(r.stdout, r'p50 [0-9.]+, p99 [0-9.]+')
        self.assertRegex(r.stdout, r'client CPU: [0-9.]+ s')
        # Each simulated agent registered as its own computer.
        db = sqlite3.connect(self.d.path('wsusd.db'))
        n = db.execute("SELECT count(*) FROM computer WHERE dns_name LIKE "
                       "'sim-%.wuagent.test'").fetchone()[0]
        db.close()
        self.assertGreaterEqual(n, 200)

    def test_untrusted_server(self):
        # Another CA: the server's certificate is not trusted.
        other = tempfile.mkdtemp()
        harness.run_wsusutil(other, 'testca', 'localhost', '127.0.0.1')
        ca = os.path.join(other, 'tls', 'ca.pem')
        r = self.simulate('--clients', '5', '--duration', '1', ca=ca)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('no scan completed', r.stderr)
        self.assertRegex(r.stdout, r'GetConfig: network: .*(SSL|certif)')

    def test_bad_arguments(self):
        for args in (['--clients', '0', '--duration', '1'],
                     ['--clients', '5', '--duration', '0'],
                     ['--clients', '5', '--duration', 'x'],
                     ['--clients']):
            r = self.simulate(*args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn('simulate', r.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
