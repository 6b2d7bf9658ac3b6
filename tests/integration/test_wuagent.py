#!/usr/bin/env python3
"""wuagent end to end against the real wsusd over TLS (issue #6).

Each test starts its own daemon (so approvals of one test are not seen by
another's agent), publishes with gcab + `wsusutil publish` and approves
for All Computers, then drives $WUAGENT: scan, download, install, report,
and reads back what the server made of it (`wsusutil report --json` and
the client_event table). A Linux update is a CAB holding install.sh,
published with the rule file "[installable] not windows >= 0.0" (the
Not(b.WindowsVersion) marker of docs/AGENT.md) and --arguments
"install.sh MARKER": Program is the CAB itself, so the first argument
names the entry (docs/AGENT.md, handler contract). IsInstalled is left
at its default (<False />), so the agent's state is what says
"installed" (a `file-exists "/path"` detection rule is covered by
tests/unit/test_applicability.c).

Faults: a content file changed on the server after publishing, a script
that exits 1, a publisher the agent does not trust, an http:// WUServer,
the cookie key rotated out from under a scan (through a TLS proxy that
rotates it when the first SyncUpdates passes), a stale cookie in the
agent's state, and the daemon restarted between scan and download and in
the middle of a scan."""

import glob
import json
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
import xpress_ref  # noqa: E402
from harness import Wsusd  # noqa: E402

WUAGENT = os.environ.get('WUAGENT') or os.path.join(harness.REPO, 'build',
                                                    'wuagent')
GUID = r'[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}'
PRODUCT = 'Agent Product'
AGENT_TIMEOUT = 180

# HRESULTs as the server stores them (signed 32-bit).
HR_INCORRECT_HASH = 0x80246002 - (1 << 32)   # WU_E_DM_INCORRECTFILEHASH
HR_EXIT_1 = 0x80070001 - (1 << 32)           # HRESULT_FROM_WIN32(1)
HR_NOT_TRUSTED = 0x800B0004 - (1 << 32)      # TRUST_E_SUBJECT_NOT_TRUSTED

INSTALL_SH = ('#!/bin/sh\n'
              '# wuagent test installer: records its arguments and cwd\n'
              'echo "install.sh ran with: $*"\n'
              'printf "installed %s\\n" "$*" > "$1"\n'
              'pwd >> "$1"\n')
FAILING_SH = ('#!/bin/sh\n'
              'echo "about to fail" >&2\n'
              'exit 1\n')


def alive(pid):
    """PID exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def signed(v):
    return v - (1 << 32) if v >= 1 << 31 else v


class Agent(unittest.TestCase):

    def setUp(self):
        if not os.access(WUAGENT, os.X_OK):
            self.fail('wuagent binary not found: %s (set WUAGENT=)'
                      % WUAGENT)
        self.d = Wsusd()
        try:
            self.d.start()
            wc.publishing_cert(self.d)
        except BaseException:
            self.d.cleanup()
            raise
        self.state = os.path.join(self.d.base, 'agent-state')
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

    # -- helpers ---------------------------------------------------------

    def server_url(self, port=None):
        return 'https://127.0.0.1:%d' % (port or self.d.https_port)

    def agent(self, *args, server=None, state=None, extra=()):
        """Runs wuagent with the server, CA file and state; returns
        (rc, stdout, stderr) as text."""
        cmd = [WUAGENT, '--server', server or self.server_url(),
               '--ca-file', self.d.ca, '--state', state or self.state]
        # Installing needs a publisher check or the administrator's
        # explicit --allow-unsigned-packages (test_unsigned_refused);
        # tests that are not about signatures say the latter.
        if '--trusted-publishers' not in extra and \
                '--no-unsigned' not in extra:
            cmd.append('--allow-unsigned-packages')
        cmd += [x for x in extra if x != '--no-unsigned'] + list(args)
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'abort_on_error=0:detect_leaks=1')
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env,
                           timeout=AGENT_TIMEOUT)
        out = p.stdout.decode(errors='replace')
        err = p.stderr.decode(errors='replace')
        for m in harness.SANITIZER_MARKERS:
            if m in err and self.sanitizer is None:
                self.sanitizer = err
        return p.returncode, out, err

    def ok(self, *args, **kw):
        rc, out, err = self.agent(*args, **kw)
        self.assertEqual(rc, 0, '%s -> %d\nstdout:\n%s\nstderr:\n%s'
                         % (' '.join(args), rc, out, err))
        return out

    def scan(self, **kw):
        out = self.ok('scan', **kw)
        m = re.search(r'scan: (\d+) needed, (\d+) installed, (\d+) not '
                      r'applicable', out)
        self.assertIsNotNone(m, out)
        return tuple(int(x) for x in m.groups())

    def status(self, **kw):
        """({update id: state}, computer id) from `wuagent status`."""
        out = self.ok('status', **kw)
        comp = re.search(r'^computer (%s)' % GUID, out, re.M).group(1)
        states = {}
        for m in re.finditer(r'^(%s)\s+(\S+)' % GUID, out, re.M):
            states[m.group(1)] = m.group(2)
        return states, comp

    def publish(self, title, payload, args, linux=True, cab_path=None):
        """Publishes a CAB holding install.sh (PAYLOAD) with --arguments
        ARGS (or the ready CAB_PATH); LINUX adds the Linux applicability
        rules. Approved for All Computers. Returns (update id, path of
        the CAB as built)."""
        work = tempfile.mkdtemp(prefix='pub-', dir=self.d.base)
        if cab_path is None:
            cab_path = wc.make_cab(work, 'install.sh', payload,
                                   re.sub(r'\W', '_', title) + '.cab')
        extra = ['--arguments', args]
        if linux:
            rules = os.path.join(work, 'linux.rules')
            with open(rules, 'w') as f:
                f.write('# for Linux agents only\n[installable]\n'
                        'not windows >= 0.0\n')
            extra += ['--applicability', rules]
        out = harness.run_wsusutil(self.d.dir, 'publish', cab_path,
                                   '--title', title, '--product', PRODUCT,
                                   '--classification', 'Updates',
                                   *extra).stdout.decode()
        m = re.search(GUID, out)
        self.assertIsNotNone(m, out)
        wc.approve(self.d, m.group(0))
        return m.group(0), cab_path

    def publish_windows(self, title):
        """A Windows update: the default rules (installable everywhere
        Windows looks), approved too."""
        return wc.publish(self.d, title, product=PRODUCT,
                          approve_for='All Computers')

    def report(self, computer):
        """{update id: status} of `wsusutil report --computer C --json`."""
        out = harness.run_wsusutil(self.d.dir, 'report', '--computer',
                                   computer, '--json').stdout.decode()
        return {r['update_id']: r['status'] for r in json.loads(out)}

    def events(self, computer, update_id=None):
        """[(event id, hresult)] the server stored for COMPUTER, in the
        order received."""
        db = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            q = ('SELECT event_id, hresult, update_id FROM client_event '
                 'WHERE computer_id = ? ORDER BY rowid')
            rows = db.execute(q, (computer,)).fetchall()
        finally:
            db.close()
        return [(e, h) for e, h, u in rows
                if update_id is None or u.lower() == update_id]

    def content_files(self):
        return sorted(glob.glob(self.d.path('content', '*', '*.cab')))

    def marker(self, name='marker'):
        return os.path.join(self.d.base, name)

    # -- the whole path --------------------------------------------------

    def test_end_to_end(self):
        marker = self.marker()
        lid, _ = self.publish('Linux Tool 1.0', INSTALL_SH,
                              'install.sh %s --quiet' % marker)
        wid = self.publish_windows('Windows Only Fix')

        self.assertEqual(self.scan(), (1, 0, 1))
        states, comp = self.status()
        self.assertEqual(states[lid], 'Needed')
        self.assertEqual(states[wid], 'NotApplicable')
        rep = self.report(comp)
        self.assertEqual(rep[lid], 'Needed')
        # The scan's 156 lists only what the agent needs or has: an
        # update it did not list is NotApplicable for the server.
        self.assertEqual(rep[wid], 'NotApplicable')

        out = self.ok('download')
        self.assertIn('downloaded %s' % lid, out)
        self.assertEqual(self.status()[0][lid], 'Downloaded')
        files = glob.glob(os.path.join(self.state, 'downloads', '*'))
        self.assertEqual(len(files), 1, files)
        self.assertRegex(os.path.basename(files[0]), r'^[0-9A-F]{40}$')
        # The verified file is the published content, byte for byte.
        stored = harness.content_path(self.d.dir,
                                      os.path.basename(files[0]) + '.cab')
        with open(files[0], 'rb') as a, open(stored, 'rb') as b:
            self.assertEqual(a.read(), b.read())
        self.assertFalse(os.path.exists(marker))

        # Trusted publishers: the server's publishing certificate.
        pubs = os.path.join(self.d.base, 'publishers')
        os.mkdir(pubs)
        shutil.copy(self.d.path('tls', 'publishing.crt'),
                    os.path.join(pubs, 'wsus-publisher.pem'))
        out = self.ok('install', extra=['--trusted-publishers', pubs])
        self.assertIn('installed %s' % lid, out)
        with open(marker) as f:
            lines = f.read().splitlines()
        # Arguments after the entry, split on spaces; cwd is the fresh
        # private directory under the state, gone afterwards.
        self.assertEqual(lines[0], 'installed %s --quiet' % marker)
        self.assertTrue(lines[1].startswith(self.state + '/install-'),
                        lines)
        self.assertFalse(os.path.exists(lines[1]))
        with open(os.path.join(self.state, 'logs', lid + '.log')) as f:
            log = f.read()
        self.assertIn('install.sh ran with: %s --quiet' % marker, log)
        self.assertEqual(self.status()[0][lid], 'Installed')

        rep = self.report(comp)
        self.assertEqual(rep[lid], 'Installed')
        self.assertEqual(rep[wid], 'NotApplicable')
        ev = [e for e, _ in self.events(comp, lid)]
        for e in (162, 181, 183):
            self.assertIn(e, ev)
        self.assertLess(ev.index(181), ev.index(183))
        self.assertNotIn(182, ev)
        self.assertEqual(self.events(comp, wid), [])

        # The next scan sends the installed list: nothing needed, and the
        # server still shows Installed from the new 156.
        self.assertEqual(self.scan(), (0, 1, 1))
        self.assertEqual(self.report(comp)[lid], 'Installed')
        # Nothing left to do.
        self.assertIn('nothing to download', self.ok('download'))
        self.assertIn('nothing to install', self.ok('install'))

    def test_modified_content_refused(self):
        marker = self.marker()
        lid, _ = self.publish('Linux Tampered', INSTALL_SH,
                              'install.sh %s' % marker)
        self.assertEqual(self.scan(), (1, 0, 0))
        # The server's copy changes after publishing: same size, one
        # byte different (so only the digests can tell).
        [path] = self.content_files()
        with open(path, 'r+b') as f:
            data = bytearray(f.read())
            data[len(data) // 2] ^= 0xFF
            f.seek(0)
            f.write(data)
        rc, out, err = self.agent('download')
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(err, r'SHA-256( and SHA-1)? digest mismatch')
        self.assertIn('.cab', err)  # names the file
        states, comp = self.status()
        self.assertEqual(states[lid], 'Failed')
        self.assertEqual(os.listdir(os.path.join(self.state, 'downloads')),
                         [])
        # Nothing to install, nothing run.
        self.assertIn('nothing to install', self.ok('install'))
        self.assertFalse(os.path.exists(marker))
        # The server stored event 161 with WU_E_DM_INCORRECTFILEHASH; 161
        # does not change the per-update status (WUSP.md 8, status.c):
        # still Needed from the scan's 156, never Installed.
        self.assertIn((161, HR_INCORRECT_HASH), self.events(comp, lid))
        self.assertEqual(self.report(comp)[lid], 'Needed')
        # A retry fails the same way.
        rc, out, err = self.agent('download')
        self.assertEqual(rc, 1, out + err)
        self.assertFalse(os.path.exists(marker))

    def test_failing_script(self):
        lid, _ = self.publish('Linux Broken', FAILING_SH, 'install.sh')
        self.assertEqual(self.scan(), (1, 0, 0))
        self.ok('download')
        rc, out, err = self.agent('install')
        self.assertEqual(rc, 1, out + err)
        self.assertIn('exited with 1', err)
        self.assertIn('0x80070001', out)
        states, comp = self.status()
        self.assertEqual(states[lid], 'Failed')
        ev = self.events(comp, lid)
        self.assertIn((181, 0), ev)
        self.assertIn((182, HR_EXIT_1), ev)
        self.assertNotIn(183, [e for e, _ in ev])
        self.assertEqual(self.report(comp)[lid], 'Failed')
        with open(os.path.join(self.state, 'logs', lid + '.log')) as f:
            self.assertIn('about to fail', f.read())

    def test_config_file(self):
        """The Group Policy names in a config file, and flags over it."""
        conf = os.path.join(self.d.base, 'wuagent.conf')
        with open(conf, 'w') as f:
            f.write('# as HKLM\\...\\WindowsUpdate\n'
                    'WUServer = https://127.0.0.1:1\n'
                    'WUStatusServer = %s\n'
                    'CAFile = %s\n'
                    'StateDir = %s\n'
                    'DetectionFrequency = 4\n'
                    'TargetGroupEnabled = 0\n' % (
                        self.server_url(), self.d.ca, self.state))
        # WUServer from the file is wrong; --server wins.
        p = subprocess.run([WUAGENT, '--config', conf, '--server',
                            self.server_url(), 'scan'],
                           capture_output=True, text=True,
                           timeout=AGENT_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('scan: 0 needed', p.stdout)
        # From the file alone: the wrong WUServer is used, and refused.
        p = subprocess.run([WUAGENT, '--config', conf, 'scan'],
                           capture_output=True, text=True,
                           timeout=AGENT_TIMEOUT)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        # A name Group Policy does not have, with its line.
        with open(conf, 'a') as f:
            f.write('WUServr = https://x\n')
        p = subprocess.run([WUAGENT, '--config', conf, 'status'],
                           capture_output=True, text=True,
                           timeout=AGENT_TIMEOUT)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('%s:8: WUServr: unknown setting' % conf, p.stderr)

    def test_unsigned_refused(self):
        """Without TrustedPublishers an install needs the administrator's
        AllowUnsignedPackages: the digests alone come from the server that
        also chose the command."""
        marker = self.marker('unsigned-marker')
        lid, _ = self.publish('Linux Unsigned', INSTALL_SH,
                              'install.sh %s' % marker)
        self.assertEqual(self.scan(), (1, 0, 0))
        self.ok('download')
        rc, out, err = self.agent('install', extra=['--no-unsigned'])
        self.assertEqual(rc, 1, out + err)
        self.assertIn('no TrustedPublishers configured', err + out)
        self.assertFalse(os.path.exists(marker))
        states, _ = self.status()
        self.assertNotEqual(states[lid], 'Installed')

    def test_untrusted_publisher(self):
        marker = self.marker()
        lid, _ = self.publish('Linux Unknown Publisher', INSTALL_SH,
                              'install.sh %s' % marker)
        self.assertEqual(self.scan(), (1, 0, 0))
        self.ok('download')
        # A directory holding another certificate (the TLS test CA).
        pubs = os.path.join(self.d.base, 'publishers')
        os.mkdir(pubs)
        shutil.copy(self.d.ca, os.path.join(pubs, 'other.pem'))
        rc, out, err = self.agent('install',
                                  extra=['--trusted-publishers', pubs])
        self.assertEqual(rc, 1, out + err)
        self.assertIn('Authenticode signature does not verify', err)
        self.assertFalse(os.path.exists(marker))
        states, comp = self.status()
        self.assertEqual(states[lid], 'Failed')
        ev = self.events(comp, lid)
        self.assertIn((182, HR_NOT_TRUSTED), ev)
        self.assertNotIn(181, [e for e, _ in ev])  # nothing started
        self.assertEqual(self.report(comp)[lid], 'Failed')

    def test_file_changed_after_download(self):
        marker = self.marker()
        lid, _ = self.publish('Linux Changed Locally', INSTALL_SH,
                              'install.sh %s' % marker)
        self.scan()
        self.ok('download')
        [f] = glob.glob(os.path.join(self.state, 'downloads', '*'))
        with open(f, 'r+b') as fp:
            fp.seek(100)
            b = fp.read(1)
            fp.seek(100)
            fp.write(bytes([b[0] ^ 1]))
        rc, out, err = self.agent('install')
        self.assertEqual(rc, 1, out + err)
        self.assertIn('digest mismatch', err)
        self.assertFalse(os.path.exists(marker))
        states, comp = self.status()
        self.assertEqual(states[lid], 'Failed')
        self.assertIn((182, HR_INCORRECT_HASH), self.events(comp, lid))

    def test_install_timeout(self):
        """--timeout: the installer and what it started are killed."""
        pidfile = self.marker('bg.pid')
        script = ('#!/bin/sh\n'
                  'sleep 120 &\n'
                  'echo $! > "$1"\n'
                  'sleep 120\n')
        lid, _ = self.publish('Linux Hangs', script,
                              'install.sh %s' % pidfile)
        self.scan()
        self.ok('download')
        t0 = time.monotonic()
        rc, out, err = self.agent('install', '--timeout', '2')
        took = time.monotonic() - t0
        self.assertEqual(rc, 1, out + err)
        self.assertLess(took, 60)
        self.assertIn('did not finish within 2 seconds', err)
        self.assertIn('0x80242007', out)  # WU_E_UH_INSTALLERHUNG
        with open(pidfile) as f:
            pid = int(f.read())
        # The background sleep went with the group (a zombie waiting
        # for init to reap it counts as gone).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.1)
        self.assertFalse(alive(pid), 'pid %d outlived the install' % pid)
        states, comp = self.status()
        self.assertEqual(states[lid], 'Failed')
        self.assertEqual(self.report(comp)[lid], 'Failed')
        rc, out, err = self.agent('install', '--timeout', '0')
        self.assertEqual(rc, 1)
        self.assertIn('--timeout', err)

    def test_cab_entries_with_paths_refused(self):
        """A CAB entry naming a path ('..\\..\\evil', 'sub\\x') is
        refused before anything is extracted or run."""
        work = tempfile.mkdtemp(prefix='evil-', dir=self.d.base)
        marker = self.marker()
        with open(os.path.join(work, 'install.sh'), 'w') as f:
            f.write(INSTALL_SH)
        with open(os.path.join(work, 'abcdefevil'), 'w') as f:
            f.write('evil\n')
        cab = os.path.join(work, 'evil.cab')
        subprocess.run(['gcab', '-c', '-n', cab, 'install.sh',
                        'abcdefevil'], check=True, cwd=work, timeout=60)
        with open(cab, 'rb') as f:
            data = f.read()
        self.assertEqual(data.count(b'abcdefevil'), 1)
        with open(cab, 'wb') as f:
            f.write(data.replace(b'abcdefevil', b'..\\..\\evil'))
        lid, _ = self.publish('Linux Evil Paths', None,
                              'install.sh %s' % marker, cab_path=cab)
        os.makedirs(os.path.join(work, 'sub'))
        shutil.copy(os.path.join(work, 'install.sh'),
                    os.path.join(work, 'sub', 'x'))
        cab2 = os.path.join(work, 'subdir.cab')
        subprocess.run(['gcab', '-c', cab2, 'install.sh', 'sub/x'],
                       check=True, cwd=work, timeout=60)
        lid2, _ = self.publish('Linux Sub Dir', None,
                               'install.sh %s' % marker, cab_path=cab2)
        self.assertEqual(self.scan(), (2, 0, 0))
        self.ok('download')
        rc, out, err = self.agent('install')
        self.assertEqual(rc, 1, out + err)
        self.assertIn('"..\\..\\evil" is not a plain file name', err)
        self.assertIn('"sub\\x" is not a plain file name', err)
        self.assertFalse(os.path.exists(marker))
        for root in (self.d.base, os.path.dirname(self.d.base)):
            self.assertFalse(os.path.exists(os.path.join(root, 'evil')))
        states, comp = self.status()
        for u in (lid, lid2):
            self.assertEqual(states[u], 'Failed')
            self.assertIn((182, signed(0x80242006)),
                          self.events(comp, u))
        # No work directory is left behind.
        self.assertEqual(glob.glob(os.path.join(self.state, 'install-*')),
                         [])

    def test_cab_bombs_refused(self):
        """SECURITY.md S16: what a CAB declares it unpacks to is checked
        before gcab writes a byte: two entries declaring 4 GiB each (the
        header patched) go over the limit; 64 MiB of zeros (a small
        MSZIP CAB) do not fit a 24 MiB state file system. Both fail with
        nothing run and no work directory left."""
        import struct
        work = tempfile.mkdtemp(prefix='bomb-', dir=self.d.base)
        marker = self.marker()
        with open(os.path.join(work, 'install.sh'), 'w') as f:
            f.write(INSTALL_SH)
        for n in ('padone', 'padtwo'):
            with open(os.path.join(work, n), 'w') as f:
                f.write('x\n')
        big = os.path.join(work, 'big.cab')
        subprocess.run(['gcab', '-c', '-n', big, 'install.sh', 'padone',
                        'padtwo'], check=True, cwd=work, timeout=60)
        with open(big, 'rb') as f:
            data = bytearray(f.read())
        for n in (b'padone\0', b'padtwo\0'):
            i = data.index(n)
            # CFFILE: cbFile u32, uoffFolderStart u32, iFolder, date,
            # time, attribs (u16 each), then the name.
            data[i - 16:i - 12] = struct.pack('<I', 0xFFFFFFFF)
        with open(big, 'wb') as f:
            f.write(data)
        lid, _ = self.publish('Linux Declared Huge', None,
                              'install.sh %s' % marker, cab_path=big)
        with open(os.path.join(work, 'zeros'), 'wb') as f:
            f.truncate(64 * 1024 * 1024)
        zcab = os.path.join(work, 'zeros.cab')
        subprocess.run(['gcab', '-c', '-z', '-n', zcab, 'install.sh',
                        'zeros'], check=True, cwd=work, timeout=120)
        self.assertLess(os.path.getsize(zcab), 4 * 1024 * 1024)
        lid2, _ = self.publish('Linux Zeros', None,
                               'install.sh %s' % marker, cab_path=zcab)
        state = os.path.join(self.d.base, 'small-state')
        os.makedirs(state)
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=24m',
                            'tmpfs', state], capture_output=True, text=True)
        if r.returncode != 0:
            self.fail('cannot mount a tmpfs for the state: %s' % r.stderr)
        try:
            self.assertEqual(self.scan(state=state), (2, 0, 0))
            self.ok('download', state=state)
            rc, out, err = self.agent('install', state=state)
            self.assertEqual(rc, 1, out + err)
            self.assertIn('over the 4294967296-byte limit', err)
            # 64 MiB of zeros and install.sh
            self.assertRegex(err, r'zeros\.cab: refused: it unpacks to '
                             r'671\d{5} bytes and \S+ has \d+ bytes free')
            self.assertFalse(os.path.exists(marker))
            states, comp = self.status(state=state)
            for u in (lid, lid2):
                self.assertEqual(states[u], 'Failed')
            self.assertEqual(glob.glob(os.path.join(state, 'install-*')),
                             [])
        finally:
            subprocess.run(['umount', state])

    def test_alternate_url(self):
        """UpdateServiceUrlAlternate: content comes from the alternate
        scheme://host:port (a plain HTTP cache serving the same paths)."""
        lid, _ = self.publish('Linux Alternate', INSTALL_SH,
                              'install.sh %s' % self.marker())
        self.scan()
        cache = ContentCache(self.d.path())
        try:
            alt = 'http://127.0.0.1:%d/ignored/path' % cache.port
            self.ok('download', extra=['--alternate-url', alt])
        finally:
            cache.close()
        self.assertTrue(cache.paths, 'the alternate server saw no request')
        for p in cache.paths:
            self.assertRegex(p, r'^/Content/[0-9A-F]{2}/[0-9A-F]{40}\.cab$')
        self.assertEqual(self.status()[0][lid], 'Downloaded')
        # A dead alternate: the download fails for the network (161,
        # WU_E_DM_NONETWORK), the state stays as it was.
        lid2, _ = self.publish('Linux Alternate 2', INSTALL_SH,
                               'install.sh %s' % self.marker('m2'))
        self.scan()
        dead = harness.free_port_pair()
        rc, out, err = self.agent(
            'download', extra=['--alternate-url',
                               'http://127.0.0.1:%d' % dead])
        self.assertEqual(rc, 1, out + err)
        self.assertIn('.cab', err)
        states, comp = self.status()
        self.assertEqual(states[lid2], 'Needed')
        self.assertIn((161, signed(0x80246005)), self.events(comp, lid2))

    def test_http_server_refused(self):
        url = 'http://127.0.0.1:%d' % self.d.http_port
        rc, out, err = self.agent('scan', server=url)
        self.assertEqual(rc, 1, out + err)
        self.assertIn('http://', err)
        self.assertIn('unencrypted', err)
        self.assertIn('--allow-insecure-http', err)
        self.assertFalse(os.path.exists(os.path.join(self.state,
                                                     'state.db')))
        for cmd in ('download', 'install', 'report'):
            rc, out, err = self.agent(cmd, server=url)
            self.assertEqual(rc, 1, out + err)
            self.assertIn('--allow-insecure-http', err)
        # With the flag the agent goes on, and wsusd itself refuses SOAP
        # over plain HTTP: a different failure.
        rc, out, err = self.agent('scan', server=url,
                                  extra=['--allow-insecure-http'])
        self.assertEqual(rc, 1, out + err)
        self.assertNotIn('--allow-insecure-http', err)

    # -- faults ------------------------------------------------------------

    def rotate_cookie_key_out(self):
        """Two rotations and SIGHUP: every cookie issued so far is
        invalid (test_wusp_session.test_cookie_key_rotation)."""
        c = wc.Client(self.d)
        probe = c.session(register=False).cookie
        for _ in range(2):
            harness.run_wsusutil(self.d.dir, 'cookiekey', 'rotate')
        self.d.reload()
        # The reload is asynchronous: wait until a cookie issued before
        # the rotations is refused.
        deadline = time.monotonic() + 20
        while True:
            r = c.register(probe)
            if r.status == 500 and wc.fault_code(r) == 'InvalidCookie':
                break
            self.assertLess(time.monotonic(), deadline,
                            'cookie key not rotated out after SIGHUP')
            time.sleep(0.2)

    def test_cookie_expired_mid_scan(self):
        lid, _ = self.publish('Linux Cookie', INSTALL_SH,
                              'install.sh %s' % self.marker())
        proxy = FaultProxy(self.d)
        rotated = []

        def hook(action, n):
            if action.endswith('/SyncUpdates') and not rotated:
                rotated.append(n)
                self.rotate_cookie_key_out()
        proxy.hook = hook
        try:
            self.assertEqual(self.scan(server=proxy.url), (1, 0, 0))
        finally:
            proxy.close()
        self.assertTrue(rotated, proxy.log)
        # The SyncUpdates sent with the rotated-out cookie got
        # InvalidCookie; the agent took a new cookie and went on.
        acts = [(a.rsplit('/', 1)[1], s, f) for a, s, f in proxy.log]
        self.assertIn(('SyncUpdates', 500, 'InvalidCookie'), acts, acts)
        i = acts.index(('SyncUpdates', 500, 'InvalidCookie'))
        after = [a for a, _, _ in acts[i + 1:]]
        self.assertIn('GetAuthorizationCookie', after)
        self.assertIn('GetCookie', after)
        self.assertIn(('SyncUpdates', 200, None), acts[i + 1:])
        self.assertEqual(self.status()[0][lid], 'Needed')

    def test_stale_cookie_in_state(self):
        marker = self.marker()
        lid, _ = self.publish('Linux Stale Cookie', INSTALL_SH,
                              'install.sh %s' % marker)
        self.assertEqual(self.scan(), (1, 0, 0))
        # The cookie the scan left in the state is now rotated out: the
        # report after the download sends it, gets InvalidCookie, renews.
        self.rotate_cookie_key_out()
        self.ok('download')
        states, comp = self.status()
        self.assertEqual(states[lid], 'Downloaded')
        self.assertIn(162, [e for e, _ in self.events(comp, lid)])
        # A cookie the server never issued, written into the state.
        db = sqlite3.connect(os.path.join(self.state, 'state.db'))
        try:
            db.execute("UPDATE identity SET cookie_data = ?",
                       ('A' * 300,))
            db.commit()
        finally:
            db.close()
        self.ok('install')
        self.assertTrue(os.path.exists(marker))
        self.assertEqual(self.report(comp)[lid], 'Installed')

    def test_server_restarted_between_scan_and_download(self):
        marker = self.marker()
        lid, _ = self.publish('Linux Restart', INSTALL_SH,
                              'install.sh %s' % marker)
        self.assertEqual(self.scan(), (1, 0, 0))
        self.assertEqual(self.d.stop(), 0)
        self.d.start()
        self.ok('download')
        self.ok('install')
        self.assertTrue(os.path.exists(marker))
        states, comp = self.status()
        self.assertEqual(states[lid], 'Installed')
        self.assertEqual(self.report(comp)[lid], 'Installed')

    def test_server_restarted_mid_scan(self):
        lid, _ = self.publish('Linux Restart Mid Scan', INSTALL_SH,
                              'install.sh %s' % self.marker())
        proxy = FaultProxy(self.d)
        restarted = []

        def hook(action, n):
            # Before the first GetExtendedUpdateInfo goes through: the
            # daemon goes down and comes back, and the agent's kept-alive
            # connection is closed as a stopping server closes it.
            if action.endswith('/GetExtendedUpdateInfo') and not restarted:
                restarted.append(n)
                self.assertEqual(self.d.stop(), 0)
                self.d.start()
                return 'close'
            return None
        proxy.hook = hook
        try:
            self.assertEqual(self.scan(server=proxy.url), (1, 0, 0))
        finally:
            proxy.close()
        self.assertTrue(restarted, proxy.log)
        # The first GetExtendedUpdateInfo was dropped unanswered: the one
        # logged is the agent's retry on a fresh connection.
        self.assertIn(('GetExtendedUpdateInfo', 200, None),
                      [(a.rsplit('/', 1)[1], st, f)
                       for a, st, f in proxy.log])
        self.ok('download')
        self.assertEqual(self.status()[0][lid], 'Downloaded')


class ContentCache:
    """A plain HTTP server answering GET /Content/XX/NAME from DATADIR's
    content store (no Range support: whole files with 200); PATHS lists
    what was asked."""

    def __init__(self, datadir):
        import http.server
        self.paths = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.paths.append(self.path)
                m = re.match(r'^/Content/([0-9A-F]{2})/([0-9A-F]{40}'
                             r'\.cab)$', self.path)
                f = os.path.join(datadir, 'content', m.group(1),
                                 m.group(2)) if m else None
                if f is None or not os.path.isfile(f):
                    self.send_error(404)
                    return
                with open(f, 'rb') as fp:
                    data = fp.read()
                self.send_response(200)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer((harness.HOST, 0),
                                                     Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={'poll_interval': 0.2},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


class FaultProxy:
    """A TLS-terminating HTTP/1.1 proxy in front of wsusd's HTTPS port,
    with the daemon's own test certificate (so the agent's CA file fits).
    Each request is forwarded on a fresh connection; answers go back with
    a Content-Length on the client's kept-alive connection. HOOK(action,
    n) runs before the Nth request is forwarded; returning 'close' drops
    the client's connection instead of forwarding. LOG holds
    (SOAPAction, HTTP status, fault ErrorCode or None) per answer."""

    def __init__(self, d):
        self.d = d
        self.hook = None
        self.log = []
        self.n = 0
        self.lock = threading.Lock()
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(d.path('tls', 'testca-server.crt'),
                                 d.path('tls', 'testca-server.key'))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((harness.HOST, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.url = 'https://127.0.0.1:%d' % self.port
        self.stop = threading.Event()
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def close(self):
        self.stop.set()
        self.acceptor.join(10)
        for t in self.threads:
            t.join(10)
        self.sock.close()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def _read_request(self, conn, buf):
        deadline = time.monotonic() + 30
        while b'\r\n\r\n' not in buf:
            if self.stop.is_set() or time.monotonic() > deadline:
                return None, buf
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return None, buf
            buf += data
        head, rest = buf.split(b'\r\n\r\n', 1)
        m = re.search(rb'\r\ncontent-length:\s*(\d+)', head, re.I)
        n = int(m.group(1)) if m else 0
        while len(rest) < n:
            if time.monotonic() > deadline:
                return None, b''
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return None, b''
            rest += data
        return head + b'\r\n\r\n' + rest[:n], rest[n:]

    def _serve(self, raw):
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        conn.settimeout(0.5)
        buf = b''
        with conn:
            while not self.stop.is_set():
                try:
                    req, buf = self._read_request(conn, buf)
                except (OSError, ssl.SSLError):
                    return
                if req is None:
                    return
                m = re.search(rb'\r\nsoapaction:\s*"?([^"\r\n]*)"?', req,
                              re.I)
                action = m.group(1).decode() if m else ''
                with self.lock:
                    self.n += 1
                    n = self.n
                if self.hook is not None and \
                        self.hook(action, n) == 'close':
                    return
                r = harness.request(self.d.https_port, None, None,
                                    raw=req, tls=self.d.ctx(),
                                    timeout=60)
                fault = None
                if r.status == 500:
                    body = r.body
                    if (r.header('Content-Encoding') or '').lower() == \
                            'xpress':
                        body = xpress_ref.decode_body(body)
                    fm = re.search(rb'<ErrorCode>([^<]*)</ErrorCode>',
                                   body)
                    fault = fm.group(1).decode() if fm else ''
                self.log.append((action, r.status, fault))
                head = 'HTTP/1.1 %d %s\r\n' % (r.status, r.reason)
                for k, v in r.headers:
                    if k.lower() in ('content-length', 'connection',
                                     'transfer-encoding', 'keep-alive'):
                        continue
                    head += '%s: %s\r\n' % (k, v)
                head += 'Content-Length: %d\r\n\r\n' % len(r.body)
                try:
                    conn.sendall(head.encode('latin-1') + r.body)
                except (OSError, ssl.SSLError):
                    return


if __name__ == '__main__':
    unittest.main(verbosity=2)
