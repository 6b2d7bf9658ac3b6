#!/usr/bin/env python3
"""Local publishing, reset and cleanup (issue #4): a CAB built with gcab is
signed with the publishing certificate (osslsigncode verifies it), stored
at content/XX/<SHA-1>.cab with both digests in the catalog, served by
wsusd; a flipped byte is caught by reset and quarantined; supersedence,
prerequisites, bad input, and kill -9 at named points."""

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Wsusd  # noqa: E402

SECURITY = '0fa1201d-4330-4fa8-8ae9-b877473b6441'


def wsusutil(d, *args, env=None):
    cmd = [harness.WSUSUTIL, '--data', d] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class Publish(unittest.TestCase):

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix='wsusd-pub-')
        self.d = os.path.join(self.base, 'data')
        os.mkdir(self.d, 0o750)
        rc, out, err = wsusutil(self.d, 'publishingcert', 'create')
        self.assertEqual(rc, 0, err)

    def tearDown(self):
        shutil.rmtree(self.base)

    def cab(self, name='pkg.cab', text=b'payload\n'):
        src = os.path.join(self.base, 'payload-%s.txt' % name)
        with open(src, 'wb') as f:
            f.write(text)
        out = os.path.join(self.base, name)
        subprocess.run(['gcab', '-c', '-n', out, src], check=True)
        return out

    def publish(self, *extra, pkg=None, title='Contoso Tool'):
        rc, out, err = wsusutil(self.d, 'publish', pkg or self.cab(),
                                '--title', title, '--product',
                                'Contoso Tool', '--classification',
                                'Security Updates', '--kb', '5000123',
                                '--severity', 'Important', *extra)
        self.assertEqual(rc, 0, err)
        uid = out.strip()
        self.assertRegex(uid, r'^[0-9a-f-]{36}$')
        return uid

    def db(self, sql, *args):
        c = sqlite3.connect(os.path.join(self.d, 'wsusd.db'))
        try:
            return c.execute(sql, args).fetchall()
        finally:
            c.close()

    def updates(self):
        rc, out, err = wsusutil(self.d, 'updates', 'list', '--json')
        self.assertEqual(rc, 0, err)
        return {u['update_id']: u for u in json.loads(out)}

    def stored_path(self, uid):
        (sha1, sha256, size, name), = self.db(
            'SELECT f.sha1, f.sha256, f.size, f.file_name FROM file f '
            'JOIN revision_file rf ON rf.sha1 = f.sha1 JOIN revision r ON '
            'r.revision_id = rf.revision_id JOIN update_ u ON u.update_pk '
            '= r.update_pk WHERE u.update_id = ?', uid)
        hexd = sha1.hex().upper()
        path = os.path.join(self.d, 'content', hexd[-2:], hexd + '.cab')
        return path, sha1, sha256, size

    def test_publish_sign_store_serve_reset(self):
        uid = self.publish()
        path, sha1, sha256, size = self.stored_path(uid)
        with open(path, 'rb') as f:
            data = f.read()
        self.assertEqual(hashlib.sha1(data).digest(), sha1)
        self.assertEqual(hashlib.sha256(data).digest(), sha256)
        self.assertEqual(len(data), size)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o440)
        # The signature verifies against the exported certificate.
        pem = os.path.join(self.base, 'pub.pem')
        self.assertEqual(wsusutil(self.d, 'publishingcert', 'export',
                                  pem)[0], 0)
        v = subprocess.run(['osslsigncode', 'verify', '-CAfile', pem, '-in',
                            path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        self.assertEqual(v.returncode, 0, v.stdout.decode())
        # Another certificate does not verify it (the check can fail).
        other = os.path.join(self.base, 'other')
        os.mkdir(other, 0o750)
        wsusutil(other, 'publishingcert', 'create')
        v = subprocess.run(['osslsigncode', 'verify', '-CAfile',
                            os.path.join(other, 'tls', 'publishing.crt'),
                            '-in', path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        self.assertNotEqual(v.returncode, 0)
        u = self.updates()[uid]
        self.assertEqual(u['classification'], 'Security Updates')
        self.assertEqual(u['product'], 'Contoso Tool')
        self.assertEqual(u['kb'], '5000123')
        self.assertEqual(u['files'], 1)
        # The fragments name the file by its digests, as WSUS does.
        (core, ext), = self.db('SELECT xml_core, xml_extended FROM revision '
                               'r JOIN update_ u USING (update_pk) WHERE '
                               'u.update_id = ?', uid)
        import base64
        ext = bytes(ext).decode()
        self.assertIn('Digest="%s"' % base64.b64encode(sha1).decode(), ext)
        self.assertIn('<AdditionalDigest Algorithm="SHA256">%s<' %
                      base64.b64encode(sha256).decode(), ext)
        self.assertIn('UpdateID="%s"' % SECURITY, bytes(core).decode())

        # Served by wsusd over plain HTTP.
        w = Wsusd.__new__(Wsusd)
        srv = Wsusd()
        self.addCleanup(srv.cleanup)
        shutil.rmtree(srv.dir)
        shutil.copytree(self.d, srv.dir, symlinks=True)
        srv.make_tls()
        srv.start()
        self.addCleanup(srv.stop)
        rel = '/Content/' + os.path.relpath(path, os.path.join(self.d,
                                                               'content'))
        r = harness.request(srv.http_port, 'GET', rel)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, data)
        del w

        # A flipped byte: reset quarantines it; it is no longer served.
        spath = os.path.join(srv.dir, os.path.relpath(path, self.d))
        os.chmod(spath, 0o640)
        with open(spath, 'r+b') as f:
            f.seek(size // 2)
            b = f.read(1)
            f.seek(size // 2)
            f.write(bytes([b[0] ^ 1]))
        # checkhealth --content names it (read-only), reset repairs.
        rc, out, err = wsusutil(srv.dir, 'checkhealth', '--port',
                                str(srv.port), '--content')
        self.assertNotEqual(rc, 0)
        self.assertRegex(out, r'PROBLEM content file content/%s .*SHA-1 '
                         r'digest mismatch' % rel[len('/Content/'):])
        self.assertTrue(os.path.exists(spath))
        rc, out, err = wsusutil(srv.dir, 'reset')
        self.assertEqual(rc, 0, err)
        self.assertIn('quarantined', out)
        self.assertIn('SHA-1 digest mismatch', out)
        self.assertFalse(os.path.exists(spath))
        self.assertEqual(len(os.listdir(os.path.join(srv.dir,
                                                     'quarantine'))), 1)
        r = harness.request(srv.http_port, 'GET', rel)
        self.assertEqual(r.status, 404)
        c = sqlite3.connect(os.path.join(srv.dir, 'wsusd.db'))
        self.assertEqual(c.execute("SELECT state FROM file").fetchall(),
                         [('missing',)])
        self.assertEqual(c.execute("SELECT count(*) FROM event WHERE kind "
                                   "= 'quarantine'").fetchone()[0], 1)
        c.close()

    def test_supersedence_and_prerequisites(self):
        a = self.publish(pkg=self.cab('a.cab', b'a'), title='A')
        b = self.publish('--supersedes', a.upper(),
                         pkg=self.cab('b.cab', b'b'), title='B')
        c = self.publish('--prerequisite', b, pkg=self.cab('c.cab', b'c'),
                         title='C')
        ups = self.updates()
        self.assertEqual(ups[a]['superseded_by'], 1)
        self.assertEqual(ups[b]['superseded_by'], 0)
        (core,), = self.db('SELECT xml_core FROM revision r JOIN update_ u '
                           'USING (update_pk) WHERE u.update_id = ?', b)
        self.assertIn('<SupersededUpdates><UpdateIdentity UpdateID="%s" />'
                      % a, bytes(core).decode())
        (core,), = self.db('SELECT xml_core FROM revision r JOIN update_ u '
                           'USING (update_pk) WHERE u.update_id = ?', c)
        self.assertIn('<Prerequisites><UpdateIdentity UpdateID="%s" />' % b,
                      bytes(core).decode())
        # An approved superseded update survives cleanup; else declined.
        self.assertEqual(wsusutil(self.d, 'approve', a, '--group',
                                  'All Computers')[0], 0)
        rc, out, _ = wsusutil(self.d, 'cleanup', '--superseded')
        self.assertIn('superseded updates declined: 0', out)
        wsusutil(self.d, 'approve', a, '--group', 'All Computers',
                 '--action', 'notapproved')
        rc, out, _ = wsusutil(self.d, 'cleanup', '--superseded')
        self.assertIn('superseded updates declined: 1', out)
        self.assertNotIn(a, self.updates())
        # Its file is not needed any more: unneeded-content removes it.
        path = self.stored_path(a)[0]
        self.assertTrue(os.path.exists(path))
        rc, out, _ = wsusutil(self.d, 'cleanup', '--unneeded-content')
        self.assertIn('unneeded content files:      1', out)
        self.assertFalse(os.path.exists(path))

    def test_applicability_rules(self):
        rules = os.path.join(self.base, 'rules.txt')
        with open(rules, 'w') as f:
            f.write('[installed]\nregistry-key HKLM "SOFTWARE\\\\Contoso"\n'
                    '[installable]\nwindows >= 10.0\n')
        uid = self.publish('--applicability', rules)
        (core,), = self.db('SELECT xml_core FROM revision r JOIN update_ u '
                           'USING (update_pk) WHERE u.update_id = ?', uid)
        core = bytes(core).decode()
        self.assertIn('<IsInstalled><b.RegKeyExists Key="HKEY_LOCAL_MACHINE" '
                      'Subkey="SOFTWARE\\Contoso" /></IsInstalled>', core)
        self.assertIn('<IsInstallable><b.WindowsVersion', core)
        with open(rules, 'w') as f:
            f.write('[installed]\nregistry-key HKCU "X"\n')
        rc, _, err = wsusutil(self.d, 'publish', self.cab('r.cab', b'r'),
                              '--title', 'R', '--product', 'P',
                              '--classification', 'Updates',
                              '--applicability', rules)
        self.assertEqual(rc, 1)
        self.assertIn('rules.txt:2:', err)

    def snapshot(self):
        rows = [self.db('SELECT * FROM %s ORDER BY 1' % t) for t in
                ('update_', 'revision', 'file', 'target_group')]
        files = sorted(os.path.relpath(os.path.join(r, f), self.d)
                       for r, _, fs in os.walk(os.path.join(self.d,
                                                            'content'))
                       for f in fs)
        return rows, files

    def test_bad_input_changes_nothing(self):
        self.publish()
        before = self.snapshot()
        txt = os.path.join(self.base, 'notes.txt')
        with open(txt, 'w') as f:
            f.write('not a package\n')
        cab = self.cab('ok.cab', b'ok')
        base = ['--title', 'T', '--product', 'P']
        cases = [
            ((cab, *base, '--classification', 'Nonsense'),
             'unknown classification'),
            ((cab, *base, '--classification', 'Updates', '--supersedes',
              'not-a-uuid'), 'unknown update in --supersedes'),
            ((cab, *base, '--classification', 'Updates', '--prerequisite',
              '11111111-2222-3333-4444-000000000000'),
             'unknown update in --prerequisite'),
            ((os.path.join(self.base, 'missing.cab'), *base,
              '--classification', 'Updates'), 'cannot read package file'),
            ((txt, *base, '--classification', 'Updates'),
             'cannot sign the package'),
            ((self.base, *base, '--classification', 'Updates'),
             'not a regular file'),
            ((cab, *base, '--classification', 'Updates', '--severity',
              'Huge'), '--severity must be'),
            ((cab, *base, '--classification', 'Updates', '--kb', 'KB12'),
             '--kb must be'),
        ]
        for args, msg in cases:
            rc, out, err = wsusutil(self.d, 'publish', *args)
            self.assertEqual(rc, 1, '%r: %s' % (args, err))
            self.assertIn(msg, err, args)
        rc, _, err = wsusutil(self.d, 'publish', cab, '--title', 'T')
        self.assertEqual(rc, 2)
        self.assertEqual(self.snapshot(), before)
        # A broken publishing certificate: refused, named, nothing stored.
        crt = os.path.join(self.d, 'tls', 'publishing.crt')
        with open(crt) as f:
            good = f.read()
        with open(crt, 'w') as f:
            f.write('-----BEGIN CERTIFICATE-----\ngarbage\n'
                    '-----END CERTIFICATE-----\n')
        rc, _, err = wsusutil(self.d, 'publish', cab, *base,
                              '--classification', 'Updates')
        self.assertEqual(rc, 1)
        self.assertIn('publishing certificate does not parse', err)
        self.assertEqual(self.snapshot(), before)
        # Another key than the certificate's.
        with open(crt, 'w') as f:
            f.write(good)
        other = os.path.join(self.base, 'o')
        os.mkdir(other, 0o750)
        wsusutil(other, 'publishingcert', 'create')
        shutil.copy(os.path.join(other, 'tls', 'publishing.key'),
                    os.path.join(self.d, 'tls', 'publishing.key.other'))
        os.rename(os.path.join(self.d, 'tls', 'publishing.key'),
                  os.path.join(self.d, 'tls', 'publishing.key.good'))
        os.rename(os.path.join(self.d, 'tls', 'publishing.key.other'),
                  os.path.join(self.d, 'tls', 'publishing.key'))
        rc, _, err = wsusutil(self.d, 'publish', cab, *base,
                              '--classification', 'Updates')
        self.assertEqual(rc, 1)
        self.assertIn('publishing key does not match', err)
        self.assertEqual(self.snapshot(), before)
        os.rename(os.path.join(self.d, 'tls', 'publishing.key.good'),
                  os.path.join(self.d, 'tls', 'publishing.key'))
        # Without a publishing certificate, nothing is published.
        os.unlink(os.path.join(self.d, 'tls', 'publishing.key'))
        rc, _, err = wsusutil(self.d, 'publish', cab, *base,
                              '--classification', 'Updates')
        self.assertEqual(rc, 1)
        self.assertIn('no publishing certificate', err)
        self.assertEqual(self.snapshot(), before)

    def kill_at(self, point):
        env = dict(os.environ, WSUSD_TEST_PAUSE=point)
        cmd = [harness.WSUSUTIL, '--data', self.d, 'publish',
               self.cab('k.cab', b'kill'), '--title', 'Killed', '--product',
               'Contoso Tool', '--classification', 'Updates']
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 60
        line = b''
        while time.monotonic() < deadline and b'paused at' not in line:
            line = p.stderr.readline()
            if not line and p.poll() is not None:
                break
        self.assertIn(('paused at ' + point).encode(), line)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()

    def test_kill_during_publish(self):
        self.publish()
        before = self.snapshot()[0]
        for point in ('publish:after-content', 'publish:before-commit'):
            self.kill_at(point)
            self.assertEqual(self.db('PRAGMA integrity_check'), [('ok',)])
            self.assertEqual(self.snapshot()[0], before, point)
            self.assertNotIn('Killed', [u['title'] for u in
                                        self.updates().values()])
            # No half-written file is visible under content/XX.
            for r, _, fs in os.walk(os.path.join(self.d, 'content')):
                if os.path.basename(r) == '.tmp':
                    continue
                for f in fs:
                    p = os.path.join(r, f)
                    with open(p, 'rb') as fh:
                        h = hashlib.sha1(fh.read()).hexdigest().upper()
                    self.assertEqual(h, f.split('.')[0], p)
        # The orphaned (complete) file goes with cleanup; publishing works.
        rc, out, _ = wsusutil(self.d, 'cleanup', '--unneeded-content')
        self.assertEqual(rc, 0)
        # One orphan per distinct signed package: the two killed
        # publishes sign the same CAB, identical bytes within one second
        # (the signature holds the signing time), two files across one.
        self.assertRegex(out, r'\(\+[12] unreferenced')
        self.publish(title='After')


if __name__ == '__main__':
    unittest.main(verbosity=2)
