#!/usr/bin/env python3
"""Privileges (SECURITY.md S17, S18): wsusd started as root with
--user nobody binds privileged ports, then serves as nobody with no
capabilities, no_new_privs and no core dumps; everything it creates in
the data directory belongs to nobody; wsusutil run as root works as the
directory's owner; refusals name the fix.

Runs as root (CI does); skipped otherwise. Refusals already covered by
test_startup.py are not repeated here: server.key 0640/0644 and DIR o+w.
"""

import os
import pwd
import signal
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Wsusd  # noqa: E402
import wusp_client  # noqa: E402

CONTENT = b'privilege content\n' * 32
USER = 'nobody'
LOW_PORTS = (443, 1001, 999, 997, 989, 881, 851, 777, 701, 667)


def nobody():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        return None


def low_ports(n, avoid=()):
    """N HTTPS ports below 1024 whose HTTP port (80 for 443, else N-1)
    is free too."""
    out = []
    for p in LOW_PORTS:
        http = 80 if p == 443 else p - 1
        if p in avoid or http in avoid:
            continue
        if harness._port_free(p) and harness._port_free(http):
            out.append(p)
            if len(out) == n:
                return out
    raise unittest.SkipTest('no free privileged port pair among %r'
                            % (LOW_PORTS,))


def proc_status(pid, task=None):
    path = '/proc/%d/status' % pid if task is None else \
        '/proc/%d/task/%s/status' % (pid, task)
    out = {}
    with open(path) as f:
        for ln in f:
            k, _, v = ln.partition(':')
            out[k] = v.strip()
    return out


def give_to_nobody(d):
    """chown -R nobody: DIR, and let nobody reach it (the harness makes
    its parent 0700)."""
    pw = nobody()
    os.chmod(d.base, 0o711)
    for root, dirs, files in os.walk(d.dir):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.lchown(n, pw.pw_uid, pw.pw_gid)


def set_conf(d, key, value):
    """d.set_conf, then give the new file back to nobody (root's edit
    replaced it with a root-owned one nobody cannot read)."""
    d.set_conf(key, value)
    pw = nobody()
    os.lchown(d.path('wsusd.conf'), pw.pw_uid, pw.pw_gid)


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def not_owned_by(top, uid):
    bad = []
    for root, dirs, files in os.walk(top):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            st = os.lstat(n)
            if st.st_uid != uid:
                bad.append('%s (uid %d)' % (n, st.st_uid))
    return bad


@unittest.skipUnless(os.geteuid() == 0, 'needs root (CI runs as root)')
@unittest.skipIf(nobody() is None, 'no user %s' % USER)
class Dropped(unittest.TestCase):
    """One daemon started as root on privileged ports with --user."""

    @classmethod
    def setUpClass(cls):
        cls.pw = nobody()
        port = low_ports(1)[0]
        cls.d = Wsusd(port=port)
        try:
            cls.name, cls.url, _ = harness.put_content(cls.d.dir, CONTENT)
            give_to_nobody(cls.d)
            cls.d.start(extra=('--user', USER))
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        harness.stop_checked(cls.d)

    def tearDown(self):
        harness.check_alive(self, self.d)

    def assertDropped(self):
        pid = self.d.pid
        # Every thread: capabilities are per thread.
        tasks = os.listdir('/proc/%d/task' % pid)
        self.assertTrue(tasks)
        for t in tasks:
            s = proc_status(pid, t)
            what = 'task %s: %r' % (t, s)
            self.assertEqual(s['Uid'].split(), [str(self.pw.pw_uid)] * 4,
                             what)
            self.assertEqual(s['Gid'].split(), [str(self.pw.pw_gid)] * 4,
                             what)
            self.assertEqual(s['Groups'], '', what)
            for cap in ('CapEff', 'CapPrm', 'CapInh', 'CapAmb', 'CapBnd'):
                self.assertEqual(int(s[cap], 16), 0, '%s %s' % (cap, what))
            self.assertEqual(s['NoNewPrivs'], '1', what)
        self.assertEqual(self.pw.pw_uid, 65534)

    def test_status_after_start(self):
        self.assertDropped()
        with open('/proc/%d/limits' % self.d.pid) as f:
            core = [ln for ln in f if ln.startswith('Max core file size')]
        self.assertEqual(len(core), 1)
        self.assertEqual(core[0].split()[4:6], ['0', '0'], core[0])
        self.assertIn('serving as %s' % USER, self.d.stderr())
        self.assertNotIn('running as root', self.d.stderr())

    def test_serves_on_privileged_ports(self):
        self.assertLess(self.d.https_port, 1024)
        self.assertLess(self.d.http_port, 1024)
        r = wusp_client.Client(self.d).getconfig()
        self.assertEqual(r.status, 200, r)
        self.assertIn(b'LastChange', r.body)
        r = self.d.http('GET', self.url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, CONTENT)

    def test_files_belong_to_user(self):
        wusp_client.Client(self.d).getconfig()  # touches the database
        for f in ('wsusd.db', 'wsusd.pid', 'access.log',
                  os.path.join('tls', 'cookie.key'), 'content'):
            self.assertTrue(os.path.exists(self.d.path(f)), f)
        self.assertEqual(not_owned_by(self.d.dir, self.pw.pw_uid), [])
        for key in (os.path.join('tls', 'cookie.key'),
                    os.path.join('tls', 'server.key'), 'wsusd.db'):
            mode = stat.S_IMODE(os.stat(self.d.path(key)).st_mode)
            self.assertEqual(mode, 0o600, '%s mode %04o' % (key, mode))

    def test_wsusutil_as_root_works_as_owner(self):
        p = harness.run_wsusutil(self.d.dir, 'groups', 'add', 'PrivIntegX')
        self.assertEqual(p.returncode, 0)
        p = harness.run_wsusutil(self.d.dir, 'groups', 'list')
        self.assertIn(b'PrivIntegX', p.stdout)
        self.assertEqual(not_owned_by(self.d.dir, self.pw.pw_uid), [])

    def test_wsusutil_as_root_creates_files_as_owner(self):
        # No database yet: wsusutil creates it, and it must be nobody's.
        d = Wsusd(tls=False)
        self.addCleanup(d.cleanup)
        give_to_nobody(d)
        harness.run_wsusutil(d.dir, 'groups', 'add', 'NewDb')
        self.assertTrue(os.path.exists(d.path('wsusd.db')))
        self.assertEqual(not_owned_by(d.dir, self.pw.pw_uid), [])

    def test_wsusutil_as_root_on_root_dir_no_switch(self):
        # Control for the test above: the same command as root on a
        # root-owned directory writes root-owned files (no switch).
        d = Wsusd(tls=False)
        self.addCleanup(d.cleanup)
        harness.run_wsusutil(d.dir, 'groups', 'add', 'RootOwned')
        self.assertEqual(os.stat(d.path('wsusd.db')).st_uid, 0)

    def test_sighup_reloads_and_stays_dropped(self):
        before = self.d.stderr().count('reloaded')
        self.d.reload()
        self.assertTrue(wait_for(lambda: self.d.stderr().count('reloaded')
                                 > before),
                        'no "reloaded" after SIGHUP:\n%s' % self.d.stderr())
        self.assertDropped()
        r = self.d.https('GET', self.url)
        self.assertEqual(r.status, 200, r)


@unittest.skipUnless(os.geteuid() == 0, 'needs root (CI runs as root)')
@unittest.skipIf(nobody() is None, 'no user %s' % USER)
class Refusals(unittest.TestCase):
    """Each refusal names what to fix; fixing it lets the same data
    directory start, so a daemon that refuses everything fails."""

    def make(self, **kw):
        d = Wsusd(**kw)
        self.addCleanup(d.cleanup)
        self.name, self.url, _ = harness.put_content(d.dir, CONTENT)
        return d

    def assertRefuses(self, d, mention, what):
        rc, err = d.run_to_exit()
        self.assertIsNotNone(rc, '%s: still running; stderr:\n%s'
                             % (what, err))
        self.assertNotEqual(rc, 0, '%s: exit status 0' % what)
        self.assertIn(mention, err, '%s: message does not name %r:\n%s'
                      % (what, mention, err))
        self.assertFalse(harness.port_open(d.http_port))
        self.assertIsNone(d.sanitizer_report(), d.sanitizer_report())
        return err

    def assertStarts(self, d, what):
        try:
            d.start()
        except harness.HarnessError as e:
            self.fail('%s: %s' % (what, e))
        try:
            r = d.http('GET', self.url)
            self.assertEqual(r.status, 200, r)
        finally:
            self.assertEqual(d.stop(), 0, d.stderr())

    def test_datadir_owned_by_root(self):
        d = self.make(conf={'user': USER})
        os.chmod(d.base, 0o711)
        err = self.assertRefuses(d, 'chown -R %s: %s' % (USER, d.dir),
                                 'root-owned DIR, user = nobody')
        # Nothing was created as root (no database, no cookie key).
        self.assertFalse(os.path.exists(d.path('wsusd.db')), err)
        self.assertFalse(os.path.exists(d.path('tls', 'cookie.key')), err)
        give_to_nobody(d)
        self.assertStarts(d, 'after chown')
        self.assertEqual(not_owned_by(d.dir, nobody().pw_uid), [])

    def test_no_such_user(self):
        d = self.make(conf={'user': 'no-such-user-integ'})
        self.assertRefuses(d, 'no-such-user-integ', 'user = unknown')
        d.set_conf('user', None)
        self.assertStarts(d, 'no user')

    def test_datadir_group_writable(self):
        d = self.make()
        os.chmod(d.dir, 0o770)
        self.assertRefuses(d, 'chmod g-w %s' % d.dir, 'DIR g+w')
        os.chmod(d.dir, 0o750)
        self.assertStarts(d, 'DIR 0750')

    def test_tls_dir_group_writable(self):
        d = self.make()
        os.chmod(d.path('tls'), 0o770)
        self.assertRefuses(d, d.path('tls'), 'DIR/tls g+w')
        os.chmod(d.path('tls'), 0o700)
        self.assertStarts(d, 'DIR/tls 0700')

    def test_cookie_key_readable(self):
        d = self.make()
        self.assertStarts(d, 'first start makes the cookie key')
        key = d.path('tls', 'cookie.key')
        os.chmod(key, 0o644)
        self.assertRefuses(d, key, 'cookie.key 0644')
        os.chmod(key, 0o600)
        self.assertStarts(d, 'cookie.key 0600')

    def test_root_without_user_warns(self):
        d = self.make()
        d.start()
        try:
            self.assertIn('running as root', d.stderr())
            self.assertIn('--user', d.stderr())
            s = proc_status(d.pid)
            self.assertEqual(s['Uid'].split()[1], '0')
            self.assertEqual(s['NoNewPrivs'], '1')
            with open('/proc/%d/limits' % d.pid) as f:
                core = [ln for ln in f if ln.startswith('Max core')][0]
            self.assertEqual(core.split()[4:6], ['0', '0'], core)
        finally:
            self.assertEqual(d.stop(), 0)


@unittest.skipUnless(os.geteuid() == 0, 'needs root (CI runs as root)')
@unittest.skipIf(nobody() is None, 'no user %s' % USER)
class Reloads(unittest.TestCase):
    """A reload cannot switch users or bind a new privileged port; it is
    refused with the reason, and the running generation stays."""

    def start(self, port):
        d = Wsusd(port=port)
        self.addCleanup(d.cleanup)
        self.name, self.url, _ = harness.put_content(d.dir, CONTENT)
        d.set_conf('port', str(port))
        d.set_conf('user', USER)  # the file's key, not --user (wins)
        give_to_nobody(d)
        d.start(port_arg=False)
        self.addCleanup(d.stop)
        return d

    def reload_and_wait(self, d, marker):
        before = d.stderr().count(marker)
        d.reload()
        self.assertTrue(wait_for(lambda: d.stderr().count(marker) > before),
                        'no %r after SIGHUP:\n%s' % (marker, d.stderr()))

    def assertStillServing(self, d):
        self.assertTrue(d.alive(), d.stderr())
        s = proc_status(d.pid)
        self.assertEqual(s['Uid'].split(), ['65534'] * 4, s)
        self.assertEqual(int(s['CapEff'], 16), 0, s)
        r = d.https('GET', self.url)
        self.assertEqual(r.status, 200, r)

    def test_reload_naming_another_user_refused(self):
        d = self.start(harness.free_port_pair())
        set_conf(d, 'user', 'root')
        self.reload_and_wait(d, 'keeping the running')
        self.assertIn('reload refused', d.stderr())
        self.assertIn('user = root', d.stderr())
        self.assertStillServing(d)
        # The same user again reloads.
        set_conf(d, 'user', USER)
        self.reload_and_wait(d, 'reloaded')
        self.assertStillServing(d)

    def test_reload_new_privileged_port_refused(self):
        first, second = low_ports(2)
        d = self.start(first)
        set_conf(d, 'port', str(second))
        self.reload_and_wait(d, 'keeping the running')
        err = d.stderr()
        self.assertIn('port %d' % second, err)  # bind ... port N: why
        self.assertIn('below 1024', err)
        self.assertIn('restart wsusd', err)
        self.assertFalse(harness.port_open(second))
        self.assertStillServing(d)
        # Back to the bound port: reloads.
        set_conf(d, 'port', str(first))
        self.reload_and_wait(d, 'reloaded')
        self.assertStillServing(d)


if __name__ == '__main__':
    unittest.main(verbosity=2)
