#!/usr/bin/env python3
"""wuagent selfupdate and wuagent run against the real wsusd over TLS
(docs/AGENT.md, "Self-update" and "Running as a service").

selfupdate: the server offers DATADIR/selfupdate/wuagent/wuagent.cab (a
CAB of VERSION and the wuagent binary), signed with osslsigncode by the
server's publishing certificate (DATADIR/tls/publishing.{crt,key}, made
by `wsusutil publishingcert create`). The "new" binary is a copy of
$WUAGENT with a marker appended (still a working ELF file). Always
installed with --install-to a copy, or by a copy of the agent run from
a temporary directory: the binary under test is never replaced.

run: `run --once` does scan, download, install and report of an
approved Linux update; `run` without --once stops on SIGTERM, in its
sleep or after the step it is in (an installer that is running is let
finish); a failed scan skips download and install.
"""

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
from harness import Wsusd  # noqa: E402

WUAGENT = os.environ.get('WUAGENT') or os.path.join(harness.REPO, 'build',
                                                    'wuagent')
GUID = r'[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}'
AGENT_TIMEOUT = 180
MARKER = b'\n#wuagent-selfupdate-test-marker 9.9.9#\n'


def project_version():
    """The agent's own version (WSUSD_VERSION): meson's project
    version."""
    with open(os.path.join(harness.REPO, 'meson.build')) as f:
        m = re.search(r"version\s*:\s*'(\d+\.\d+\.\d+)'", f.read())
    assert m is not None, 'no project version in meson.build'
    return m.group(1)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


class AgentCase(unittest.TestCase):
    """A daemon with a publishing certificate, a state directory, and
    wuagent run against it."""

    def setUp(self):
        if not os.access(WUAGENT, os.X_OK):
            self.fail('wuagent binary not found: %s (set WUAGENT=)'
                      % WUAGENT)
        self.d = Wsusd()
        try:
            # wsusd opens DATADIR/selfupdate when it starts (or reloads).
            os.mkdir(self.d.path('selfupdate'), 0o750)
            self.d.start()
            wc.publishing_cert(self.d)
        except BaseException:
            self.d.cleanup()
            raise
        self.state = os.path.join(self.d.base, 'agent-state')
        self.pubs = os.path.join(self.d.base, 'publishers')
        os.mkdir(self.pubs)
        shutil.copy(self.d.path('tls', 'publishing.crt'),
                    os.path.join(self.pubs, 'wsus-publisher.pem'))
        self.sanitizer = None

    def tearDown(self):
        d = self.d
        rc = d.stop()
        report = d.sanitizer_report()
        d.cleanup()
        if self.sanitizer:
            self.fail('sanitizer report in wuagent stderr:\n'
                      + self.sanitizer)
        if report:
            self.fail('sanitizer report in wsusd stderr:\n' + report)
        if rc != 0:
            self.fail('wsusd exit status on SIGTERM: %r' % rc)

    def server_url(self):
        return 'https://127.0.0.1:%d' % self.d.https_port

    def cmd(self, *args, binary=None, server=None, trusted=True, extra=()):
        c = [binary or WUAGENT, '--server', server or self.server_url(),
             '--ca-file', self.d.ca, '--state', self.state]
        if trusted:
            c += ['--trusted-publishers', self.pubs]
        return c + list(extra) + list(args)

    @staticmethod
    def env():
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'abort_on_error=0:detect_leaks=1')
        return env

    def check_sanitizer(self, err):
        for m in harness.SANITIZER_MARKERS:
            if m in err and self.sanitizer is None:
                self.sanitizer = err

    def agent(self, *args, **kw):
        """Runs wuagent; (rc, stdout, stderr) as text."""
        p = subprocess.run(self.cmd(*args, **kw), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env(),
                           timeout=AGENT_TIMEOUT)
        out = p.stdout.decode(errors='replace')
        err = p.stderr.decode(errors='replace')
        self.check_sanitizer(err)
        return p.returncode, out, err

    def ok(self, *args, **kw):
        rc, out, err = self.agent(*args, **kw)
        self.assertEqual(rc, 0, '%s -> %d\nstdout:\n%s\nstderr:\n%s'
                         % (' '.join(args), rc, out, err))
        return out

    def status(self):
        """{update id: state} from `wuagent status`."""
        out = self.ok('status')
        return {m.group(1): m.group(2) for m in
                re.finditer(r'^(%s)\s+(\S+)' % GUID, out, re.M)}


# ------------------------------------------------------------ selfupdate

class SelfUpdate(AgentCase):

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='su-', dir=self.d.base)
        self.new_binary = read(WUAGENT) + MARKER
        # Where the tests install: a copy of the agent.
        self.target = os.path.join(self.work, 'installed', 'wuagent')
        os.mkdir(os.path.dirname(self.target))
        shutil.copy2(WUAGENT, self.target)
        self.original = read(self.target)

    # -- helpers --------------------------------------------------------

    def make_cab(self, version, binary=None, entries=None, name='agent'):
        """An unsigned CAB of VERSION and wuagent (or ENTRIES: {name:
        bytes}, names may hold a path) under self.work; its path."""
        src = tempfile.mkdtemp(prefix='cab-', dir=self.work)
        if entries is None:
            entries = {'VERSION': ('%s\n' % version).encode(),
                       'wuagent': (self.new_binary if binary is None
                                   else binary)}
        for n, data in entries.items():
            p = os.path.join(src, n)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'wb') as f:
                f.write(data)
        cab = os.path.join(self.work, name + '.cab')
        # Without -n: an entry keeps the path it is given (sub/x).
        subprocess.run(['gcab', '-c', cab] + sorted(entries), check=True,
                       cwd=src, timeout=120)
        return cab

    def sign(self, cab, cert=None, key=None, digest='sha256'):
        """CAB signed (osslsigncode, DIGEST) with CERT/KEY, by default
        the server's publishing certificate; the signed file's path."""
        cert = cert or self.d.path('tls', 'publishing.crt')
        key = key or self.d.path('tls', 'publishing.key')
        out = cab[:-4] + '-signed.cab'
        subprocess.run(['osslsigncode', 'sign', '-certs', cert, '-key', key,
                        '-h', digest, '-n', 'wuagent', '-in', cab,
                        '-out', out], check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
        return out

    def offer(self, cab):
        """Puts CAB where wsusd serves it: DATADIR/selfupdate/wuagent/."""
        d = self.d.path('selfupdate', 'wuagent')
        os.makedirs(d, exist_ok=True)
        shutil.copy(cab, os.path.join(d, 'wuagent.cab'))

    def signed_offer(self, version, **kw):
        cab = self.sign(self.make_cab(version, **kw))
        self.offer(cab)
        return cab

    def other_publisher(self):
        """A self-signed certificate and key the agent does not trust."""
        cert = os.path.join(self.work, 'other.crt')
        key = os.path.join(self.work, 'other.key')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                        '-nodes', '-keyout', key, '-out', cert, '-days', '2',
                        '-subj', '/CN=Other Publisher'], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
        return cert, key

    def assertUnchanged(self):
        self.assertEqual(read(self.target), self.original,
                         'the installed agent was replaced')
        self.assertFalse(os.path.exists(self.target + '.new'))

    def assertNoLeftovers(self):
        left = [n for n in os.listdir(self.state)
                if n.startswith('selfupdate-')]
        self.assertEqual(left, [], 'work directory left in the state')

    def refused(self, *args, **kw):
        rc, out, err = self.agent('selfupdate', '--install-to', self.target,
                                  *args, **kw)
        self.assertEqual(rc, 1, 'not refused\nstdout:\n%s\nstderr:\n%s'
                         % (out, err))
        self.assertUnchanged()
        return err

    # -- tests ----------------------------------------------------------

    def test_newer_version_installed(self):
        cab = self.signed_offer('9.9.9')
        # The CAB really is the signed one the server serves.
        self.assertEqual(read(self.d.path('selfupdate', 'wuagent',
                                          'wuagent.cab')), read(cab))
        out = self.ok('selfupdate', '--check')
        self.assertIn('update available: 9.9.9', out)
        self.assertIn('this agent is %s' % project_version(), out)
        self.assertUnchanged()

        mode = stat.S_IMODE(os.stat(self.target).st_mode)
        out = self.ok('selfupdate', '--install-to', self.target)
        self.assertIn('installed wuagent 9.9.9 at %s' % self.target, out)
        self.assertEqual(read(self.target), self.new_binary)
        self.assertEqual(stat.S_IMODE(os.stat(self.target).st_mode), mode)
        self.assertFalse(os.path.exists(self.target + '.new'))
        self.assertNoLeftovers()
        # The installed binary works.
        p = subprocess.run([self.target, '--state', self.state, 'status'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env(), timeout=AGENT_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)

        # A new file: created 0755 (over plain HTTP through
        # UpdateServiceUrlAlternate: the signature protects it).
        fresh = os.path.join(self.work, 'installed', 'fresh')
        alt = 'http://127.0.0.1:%d/ignored' % self.d.http_port
        self.ok('selfupdate', '--install-to', fresh,
                extra=['--alternate-url', alt])
        self.assertEqual(read(fresh), self.new_binary)
        self.assertEqual(stat.S_IMODE(os.stat(fresh).st_mode), 0o755)

    def test_default_target_is_the_running_binary(self):
        """Without --install-to the binary that runs is replaced
        (/proc/self/exe): a copy run from a temporary directory."""
        self.signed_offer('9.9.9')
        copy = os.path.join(self.work, 'bin', 'wuagent')
        os.mkdir(os.path.dirname(copy))
        shutil.copy2(WUAGENT, copy)
        out = self.ok('selfupdate', binary=copy)
        self.assertIn('installed wuagent 9.9.9 at %s' % copy, out)
        self.assertEqual(read(copy), self.new_binary)
        self.assertEqual(read(WUAGENT) + MARKER, self.new_binary)

    def test_same_or_older_version_changes_nothing(self):
        for v in (project_version(), '0.0.1'):
            self.signed_offer(v, name='agent-' + v)
            before = os.stat(self.target)
            out = self.ok('selfupdate', '--install-to', self.target)
            self.assertIn('up to date', out)
            self.assertIn('the server offers %s' % v, out)
            out = self.ok('selfupdate', '--check')
            self.assertIn('up to date', out)
            self.assertNotIn('update available', out)
            self.assertUnchanged()
            after = os.stat(self.target)
            self.assertEqual((before.st_ino, before.st_mtime_ns),
                             (after.st_ino, after.st_mtime_ns))
        self.assertNoLeftovers()

    def test_other_publisher_refused(self):
        cert, key = self.other_publisher()
        self.offer(self.sign(self.make_cab('9.9.9'), cert, key))
        err = self.refused()
        self.assertIn('signature not trusted', err)
        rc, out, err = self.agent('selfupdate', '--check')
        self.assertEqual(rc, 1, out + err)
        self.assertIn('signature not trusted', err)
        self.assertNotIn('update available', out)
        # Trusting that publisher instead makes the same CAB acceptable
        # (so the refusal above was the signer, not the CAB).
        for n in os.listdir(self.pubs):
            os.unlink(os.path.join(self.pubs, n))
        shutil.copy(cert, os.path.join(self.pubs, 'other.crt'))
        self.assertIn('update available: 9.9.9',
                      self.ok('selfupdate', '--check'))
        self.assertNoLeftovers()

    def test_unsigned_refused(self):
        self.offer(self.make_cab('9.9.9'))
        err = self.refused()
        self.assertIn('signature not trusted', err)
        self.assertNoLeftovers()

    def test_tampered_after_signing_refused(self):
        cab = self.sign(self.make_cab('9.9.9'))
        data = bytearray(read(cab))
        i = data.find(MARKER)
        self.assertGreater(i, 0)
        data[i + 5] ^= 0x01
        with open(cab, 'wb') as f:
            f.write(data)
        self.offer(cab)
        err = self.refused()
        self.assertIn('signature not trusted', err)

    def test_appended_data_refused(self):
        """SECURITY.md S15 (CVE-2013-3900): bytes appended after a valid
        Authenticode signature are covered by nothing: refused, as a
        signature that does not verify."""
        cab = self.sign(self.make_cab('9.9.9'))
        with open(cab, 'ab') as f:
            f.write(b'MSCF\0\0\0\0' + b'appended, unauthenticated' * 8)
        self.offer(cab)
        err = self.refused()
        self.assertIn('signature not trusted', err)

    def test_sha1_signature_refused(self):
        """SECURITY.md S15: a SHA-1 signature by a trusted publisher,
        which osslsigncode verify accepts, is refused (SHA-256+)."""
        cab = self.sign(self.make_cab('9.9.9'), digest='sha1')
        v = subprocess.run(['osslsigncode', 'verify', '-CAfile',
                            self.d.path('tls', 'publishing.crt'), '-in', cab],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(v.returncode, 0, v.stdout)
        self.offer(cab)
        err = self.refused()
        self.assertIn('signature not trusted', err)
        self.assertIn('weaker than SHA-256', err)

    def test_no_trusted_publishers(self):
        self.signed_offer('9.9.9')
        for args in (('--install-to', self.target), ('--check',)):
            rc, out, err = self.agent('selfupdate', *args, trusted=False)
            self.assertEqual(rc, 1, out + err)
            self.assertIn('selfupdate needs TrustedPublishers', err)
            self.assertNotIn('update available', out)
        self.assertUnchanged()
        # A TrustedPublishers directory without any certificate.
        for n in os.listdir(self.pubs):
            os.unlink(os.path.join(self.pubs, n))
        err = self.refused()
        self.assertIn('signature not trusted', err)
        self.assertIn('holds no certificate', err)

    def test_nothing_offered(self):
        rc, out, err = self.agent('selfupdate', '--install-to', self.target)
        self.assertEqual(rc, 0, out + err)
        self.assertIn('no agent update offered', out)
        self.assertIn('404', out)
        self.assertUnchanged()
        self.assertNoLeftovers()

    def test_bad_contents_refused(self):
        """Signed, but not what an agent update holds: a path in an
        entry, another entry, no VERSION, a VERSION that is not
        MAJOR.MINOR.PATCH, a wuagent that is not an ELF file."""
        ver = b'9.9.9\n'
        cases = [
            ({'VERSION': ver, 'sub/wuagent': self.new_binary},
             'sub\\wuagent'),
            ({'VERSION': ver, 'wuagent': self.new_binary, 'evil': b'x'},
             '"evil"'),
            ({'wuagent': self.new_binary}, 'must hold VERSION and wuagent'),
            ({'VERSION': b'9.9\n', 'wuagent': self.new_binary},
             'MAJOR.MINOR.PATCH'),
            ({'VERSION': b'9.9.9\n1.0.0\n', 'wuagent': self.new_binary},
             'MAJOR.MINOR.PATCH'),
            ({'VERSION': ver, 'wuagent': b'#!/bin/sh\necho pwned\n'},
             'not an ELF'),
        ]
        for i, (entries, why) in enumerate(cases):
            with self.subTest(why=why):
                cab = self.make_cab(None, entries=entries, name='bad%d' % i)
                self.offer(self.sign(cab))
                err = self.refused()
                self.assertIn(why, err)
                self.assertNotIn('signature not trusted', err)
        self.assertNoLeftovers()

    def test_bad_arguments(self):
        for args in (('--install-to',), ('--bogus',), ('extra',)):
            rc, out, err = self.agent('selfupdate', *args)
            self.assertEqual(rc, 2, '%r: %s' % (args, out + err))
            self.assertIn('usage: wuagent selfupdate', err)


# ------------------------------------------------------------------- run

INSTALL_SH = ('#!/bin/sh\n'
              'echo "install.sh ran with: $*"\n'
              'printf "installed\\n" > "$1"\n')

# Tells the test it started, takes a few seconds, then says it finished.
SLOW_SH = ('#!/bin/sh\n'
           ': > "$1.started"\n'
           'sleep 4\n'
           'printf "finished\\n" > "$1"\n')


class Reader(threading.Thread):
    """Collects a pipe's text as it comes (so a test can wait for a
    line without blocking)."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.buf = b''
        self.lock = threading.Lock()
        self.start()

    def run(self):
        for chunk in iter(lambda: self.pipe.read1(4096), b''):
            with self.lock:
                self.buf += chunk

    def text(self):
        with self.lock:
            return self.buf.decode(errors='replace')


class Run(AgentCase):

    def publish_linux(self, title, script, args):
        """A Linux update (rule word `linux`): a CAB of install.sh run
        with ARGS, approved for All Computers; its update id."""
        work = tempfile.mkdtemp(prefix='pub-', dir=self.d.base)
        cab = wc.make_cab(work, 'install.sh', script,
                          re.sub(r'\W', '_', title) + '.cab')
        rules = os.path.join(work, 'linux.rules')
        with open(rules, 'w') as f:
            f.write('[installable]\nlinux\n')
        out = harness.run_wsusutil(
            self.d.dir, 'publish', cab, '--title', title, '--product',
            'Agent Product', '--classification', 'Updates',
            '--applicability', rules, '--arguments', args).stdout.decode()
        m = re.search(GUID, out)
        self.assertIsNotNone(m, out)
        wc.approve(self.d, m.group(0))
        return m.group(0)

    def start_run(self, *args):
        p = subprocess.Popen(self.cmd('run', *args),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env())
        return p, Reader(p.stdout), Reader(p.stderr)

    def wait_for(self, what, timeout, p, out, err):
        deadline = time.monotonic() + timeout
        while not what():
            if p.poll() is not None or time.monotonic() > deadline:
                self.finish(p, out, err, timeout=10)
                self.fail('waited %d s in vain; rc %r\nstdout:\n%s\n'
                          'stderr:\n%s' % (timeout, p.returncode,
                                           out.text(), err.text()))
            time.sleep(0.1)

    def finish(self, p, out, err, timeout):
        """Waits at most TIMEOUT s for P (then kills it); (rc, stdout,
        stderr, seconds waited)."""
        t0 = time.monotonic()
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
            rc = None
        took = time.monotonic() - t0
        out.join(10)
        err.join(10)
        p.stdout.close()
        p.stderr.close()
        self.check_sanitizer(err.text())
        return rc, out.text(), err.text(), took

    def test_run_once_installs(self):
        marker = os.path.join(self.d.base, 'marker')
        uid = self.publish_linux('Linux Run Once', INSTALL_SH,
                                 'install.sh %s' % marker)
        rc, out, err = self.agent('run', '--once')
        self.assertEqual(rc, 0, out + err)
        for step in ('scan', 'download', 'install', 'report'):
            self.assertRegex(out, r'(?m)^run: %s$' % step)
        self.assertIn('scan: 1 needed', out)
        self.assertIn('installed %s' % uid, out)
        self.assertIn('run: cycle 1 finished (worst exit status 0)', out)
        self.assertNotIn('next cycle', out)
        with open(marker) as f:
            self.assertEqual(f.read(), 'installed\n')
        self.assertEqual(self.status()[uid], 'Installed')
        # The server saw the install (events reported).
        comp = re.search(r'^computer (%s)' % GUID, self.ok('status'),
                         re.M).group(1)
        out = harness.run_wsusutil(self.d.dir, 'report', '--computer',
                                   comp, '--json').stdout.decode()
        self.assertRegex(out, r'"update_id":\s*"%s"[^}]*"status":\s*'
                         r'"Installed"' % uid)
        # A second cycle has nothing left to do.
        rc, out, err = self.agent('run', '--once')
        self.assertEqual(rc, 0, out + err)
        self.assertIn('scan: 0 needed, 1 installed', out)
        self.assertIn('nothing to install', out)

    def test_run_once_failed_scan(self):
        """A server that is down: the scan fails, download and install
        are skipped, the report is still tried; exit 1."""
        dead = 'https://127.0.0.1:%d' % harness.free_port_pair()
        rc, out, err = self.agent('run', '--once', server=dead)
        self.assertEqual(rc, 1, out + err)
        self.assertIn('run: scan failed (exit status 1)', err)
        self.assertIn('run: download skipped: the scan failed', out)
        self.assertIn('run: install skipped: the scan failed', out)
        self.assertRegex(out, r'(?m)^run: report$')
        self.assertIn('run: cycle 1 finished (worst exit status 1)', out)

    def test_sigterm_while_sleeping(self):
        p, out, err = self.start_run()
        try:
            self.wait_for(lambda: 'next cycle in' in out.text(),
                          AGENT_TIMEOUT, p, out, err)
            self.assertRegex(out.text(), r'next cycle in (1[7-9]|2[0-2])h')
            # One run per state directory.
            rc, o2, e2 = self.agent('run', '--once')
            self.assertEqual(rc, 1, o2 + e2)
            self.assertIn('another wuagent run is running', e2)
            time.sleep(1)
            p.send_signal(signal.SIGTERM)
        finally:
            rc, o, e, took = self.finish(p, out, err, timeout=20)
        self.assertEqual(rc, 0, o + e)
        self.assertLess(took, 10)
        self.assertIn('run: SIGTERM received: stopped', o)
        self.assertEqual(o.count('run: cycle'), 2, o)  # started, finished

    def test_sigterm_during_install_finishes_it(self):
        marker = os.path.join(self.d.base, 'slow')
        uid = self.publish_linux('Linux Slow', SLOW_SH,
                                 'install.sh %s' % marker)
        p, out, err = self.start_run()
        try:
            self.wait_for(lambda: os.path.exists(marker + '.started'),
                          AGENT_TIMEOUT, p, out, err)
            self.assertFalse(os.path.exists(marker))
            p.send_signal(signal.SIGTERM)
        finally:
            rc, o, e, took = self.finish(p, out, err, timeout=60)
        self.assertEqual(rc, 0, o + e)
        # The installer ran to its end; nothing after the step.
        with open(marker) as f:
            self.assertEqual(f.read(), 'finished\n')
        self.assertIn('installed %s' % uid, o)
        self.assertIn('SIGTERM received: report and the rest of cycle 1 '
                      'skipped', o)
        self.assertNotIn('next cycle', o)
        self.assertIn('run: SIGTERM received: stopped', o)
        self.assertEqual(self.status()[uid], 'Installed')

    def test_bad_arguments(self):
        rc, out, err = self.agent('run', '--forever')
        self.assertEqual(rc, 2, out + err)
        self.assertIn('usage: wuagent run', err)


if __name__ == '__main__':
    unittest.main()
