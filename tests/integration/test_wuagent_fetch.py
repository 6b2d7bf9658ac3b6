#!/usr/bin/env python3
"""wuagent's downloads (issue #6 items 3 and 4) through `wuagent fetch`:
a content file published with wsusutil comes over the HTTP content port
and over HTTPS with the server's CA, verified against the SHA-1 and
SHA-256 of the catalog; a file changed on the server after publishing is
refused and deleted; servers whose certificate comes from another CA,
names another host or has expired are refused with the cause named; a
download killed midway resumes with a Range past zero (the access log
shows a 206 carrying only the missing bytes); 1 MiB ranges are used when
asked for.  wuagent comes from $WUAGENT (default build/wuagent)."""

import hashlib
import os
import re
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
from harness import DaemonTestCase  # noqa: E402

WUAGENT = os.environ.get('WUAGENT') or os.path.join(harness.REPO, 'build',
                                                    'wuagent')
MIB = 1024 * 1024
BIG = 32 * MIB
LOG_LINE = re.compile(
    r'^(\S+) (\S+) (https?) (\S+) (\S+) (\S+) (\d{3}) (\d+) (\d+) '
    r'"([^"]*)"$')


def wuagent(*args, timeout=120):
    env = dict(os.environ)
    env.setdefault('ASAN_OPTIONS', 'abort_on_error=0:detect_leaks=1')
    p = subprocess.run([WUAGENT] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors='replace'), \
        p.stderr.decode(errors='replace')


def openssl(*args, cwd=None):
    p = subprocess.run([harness.OPENSSL] + list(args), cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    if p.returncode != 0:
        raise harness.HarnessError('openssl %s: %s' % (
            ' '.join(args), p.stdout.decode(errors='replace')))


class OddCA:
    """A CA made with openssl that signs leaves with any name and any
    validity period (`openssl ca -startdate/-enddate`), so one property
    of a certificate can be wrong at a time."""

    CA_CNF = '''[ ca ]
default_ca = odd
[ odd ]
dir = %(dir)s
database = %(dir)s/index.txt
new_certs_dir = %(dir)s/new
serial = %(dir)s/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
email_in_dn = no
x509_extensions = leaf
[ any ]
commonName = supplied
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = wuagent test odd CA
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
'''

    def __init__(self, base):
        self.dir = os.path.join(base, 'oddca')
        os.mkdir(self.dir, 0o700)
        os.mkdir(os.path.join(self.dir, 'new'), 0o700)
        open(os.path.join(self.dir, 'index.txt'), 'w').close()
        with open(os.path.join(self.dir, 'serial'), 'w') as f:
            f.write('1000\n')
        self.cnf = os.path.join(self.dir, 'ca.cnf')
        with open(self.cnf, 'w') as f:
            f.write(self.CA_CNF % {'dir': self.dir})
        self.cert = os.path.join(self.dir, 'ca.pem')
        self.key = os.path.join(self.dir, 'ca.key')
        openssl('req', '-x509', '-config', self.cnf, '-extensions', 'v3_ca',
                '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                '-nodes', '-keyout', self.key, '-days', '30', '-out',
                self.cert)

    def leaf(self, name, san, start=None, end=None):
        """(cert, key) for CN=localhost with SAN; dates as YYYYMMDDhhmmssZ
        (default: valid from yesterday for 30 days)."""
        key = os.path.join(self.dir, name + '.key')
        csr = os.path.join(self.dir, name + '.csr')
        crt = os.path.join(self.dir, name + '.pem')
        openssl('req', '-new', '-newkey', 'ec', '-pkeyopt',
                'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
                '-subj', '/CN=localhost', '-addext',
                'subjectAltName=' + san, '-out', csr)
        now = time.time()
        start = start or time.strftime('%Y%m%d%H%M%SZ',
                                       time.gmtime(now - 86400))
        end = end or time.strftime('%Y%m%d%H%M%SZ',
                                   time.gmtime(now + 30 * 86400))
        openssl('ca', '-batch', '-config', self.cnf, '-cert', self.cert,
                '-keyfile', self.key, '-in', csr, '-out', crt, '-notext',
                '-startdate', start, '-enddate', end)
        return crt, key


class SServer:
    """`openssl s_server -WWW` on 127.0.0.1 serving the files of DIR with
    CERT: the handshake is all that matters for the refusals, and a
    trusted one serves a file for the control case."""

    def __init__(self, cert, key, docroot, extra=()):
        self.port = harness.free_port_pair()
        self.log = open(os.path.join(docroot, '.s_server.log'), 'wb')
        self.proc = subprocess.Popen(
            [harness.OPENSSL, 's_server', '-accept',
             '127.0.0.1:%d' % self.port, '-cert', cert, '-key', key,
             '-WWW', '-quiet', *extra], cwd=docroot,
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not harness.port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise harness.HarnessError('s_server did not start')
            time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()


class WuagentFetch(DaemonTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.access(WUAGENT, os.X_OK):
            raise harness.HarnessError('wuagent not found: %s (set '
                                       'WUAGENT=)' % WUAGENT)
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix='wuagent-fetch-')
        try:
            harness.run_wsusutil(cls.d.dir, 'publishingcert', 'create')
            cls.small = cls.publish('Small', os.urandom(300 * 1024))
            cls.big = cls.publish('Big', os.urandom(BIG))
        except BaseException:
            cls.d.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def publish(cls, title, payload):
        """Publishes a CAB holding PAYLOAD; returns the catalog's file
        record: dict(sha1, sha256 (hex), size, url, path)."""
        src = os.path.join(cls.tmp, title + '.bin')
        with open(src, 'wb') as f:
            f.write(payload)
        cab = os.path.join(cls.tmp, title + '.cab')
        subprocess.run(['gcab', '-c', '-n', cab, src], check=True,
                       cwd=cls.tmp, timeout=120)
        out = harness.run_wsusutil(
            cls.d.dir, 'publish', cab, '--title', title, '--product',
            'Fetch Product', '--classification', 'Updates',
            timeout=300).stdout.decode()
        uid = re.search(r'[0-9a-f]{8}-[0-9a-f-]{27}', out).group(0)
        c = sqlite3.connect(cls.d.path('wsusd.db'))
        try:
            (sha1, sha256, size), = c.execute(
                'SELECT f.sha1, f.sha256, f.size FROM file f JOIN '
                'revision_file rf ON rf.sha1 = f.sha1 JOIN revision r ON '
                'r.revision_id = rf.revision_id JOIN update_ u ON '
                'u.update_pk = r.update_pk WHERE u.update_id = ?',
                (uid,)).fetchall()
        finally:
            c.close()
        name = sha1.hex().upper() + '.cab'
        rec = {'sha1': sha1.hex(), 'sha256': sha256.hex(), 'size': size,
               'url': harness.content_url(name),
               'path': harness.content_path(cls.d.dir, name)}
        with open(rec['path'], 'rb') as f:
            data = f.read()
        # The catalog describes the stored file (else nothing here holds).
        assert hashlib.sha256(data).hexdigest() == rec['sha256']
        assert len(data) == size
        return rec

    # -- helpers --------------------------------------------------------

    def out(self, name):
        p = os.path.join(self.tmp, name)
        for f in (p, p + '.part'):
            if os.path.exists(f):
                os.unlink(f)
        return p

    def fetch(self, url, out, rec, *extra, pre=()):
        args = list(pre) + ['fetch', url, out, '--size', str(rec['size']),
                            '--sha1', rec['sha1'], '--sha256',
                            rec['sha256']] + list(extra)
        rc, so, se = wuagent(*args)
        self.assertNoSanitizer(se)
        return rc, so, se

    def assertNoSanitizer(self, text):
        for m in harness.SANITIZER_MARKERS:
            self.assertNotIn(m, text, 'sanitizer report from wuagent:\n'
                             + text[-4000:])

    def http_url(self, rec):
        return 'http://127.0.0.1:%d%s' % (self.d.http_port, rec['url'])

    def https_url(self, rec, host='127.0.0.1'):
        return 'https://%s:%d%s' % (host, self.d.https_port, rec['url'])

    def assertVerified(self, rc, so, se, out, rec):
        self.assertEqual(rc, 0, se)
        self.assertEqual(so.strip(), 'verified %s (%d bytes)'
                         % (out, rec['size']))
        self.assertFalse(os.path.exists(out + '.part'))
        with open(out, 'rb') as f, open(rec['path'], 'rb') as g:
            self.assertEqual(f.read(), g.read())

    def log_lines(self):
        with open(self.d.path('access.log')) as f:
            return f.read().splitlines()

    def content_gets(self, since, rec, wait_for=0, until=None):
        """Access-log lines after line SINCE for REC's URL:
        [(scheme, status, bytes, user agent)]; waits up to 5 s for
        WAIT_FOR of them, and for UNTIL(lines) to hold if given (a line
        is written when its response ends, maybe after the client is
        done)."""
        deadline = time.monotonic() + 5
        while True:
            out = []
            for ln in self.log_lines()[since:]:
                m = LOG_LINE.match(ln)
                self.assertIsNotNone(m, 'access log line %r' % ln)
                if m.group(5) == 'GET' and m.group(6) == rec['url']:
                    out.append((m.group(3), int(m.group(7)),
                                int(m.group(8)), m.group(10)))
            if (len(out) >= wait_for and (until is None or until(out))) \
                    or time.monotonic() > deadline:
                return out
            time.sleep(0.05)

    # -- downloads ------------------------------------------------------

    def test_http_content_port(self):
        since = len(self.log_lines())
        out = self.out('small-http.cab')
        rc, so, se = self.fetch(self.http_url(self.small), out, self.small)
        self.assertVerified(rc, so, se, out, self.small)
        gets = self.content_gets(since, self.small, 1)
        # One plain GET as Delivery Optimization sends it.
        self.assertEqual(gets, [('http', 200, self.small['size'],
                                 'Microsoft-Delivery-Optimization/10.1')])

    def test_https_with_server_ca(self):
        since = len(self.log_lines())
        out = self.out('small-https.cab')
        rc, so, se = self.fetch(self.https_url(self.small), out, self.small,
                                pre=['--ca-file', self.d.ca])
        self.assertVerified(rc, so, se, out, self.small)
        gets = self.content_gets(since, self.small, 1)
        self.assertEqual([g[:3] for g in gets],
                         [('https', 200, self.small['size'])])
        # By name too (the certificate carries localhost and 127.0.0.1).
        out = self.out('small-https-name.cab')
        rc, so, se = self.fetch(self.https_url(self.small, 'localhost'),
                                out, self.small, pre=['--ca-file',
                                                      self.d.ca])
        self.assertVerified(rc, so, se, out, self.small)

    def test_https_without_ca_file_untrusted(self):
        # The system store does not hold the test CA.
        out = self.out('small-sys.cab')
        rc, so, se = self.fetch(self.https_url(self.small), out, self.small)
        self.assertEqual(rc, 1, so + se)
        self.assertIn('certificate is not trusted', se)
        self.assertFalse(os.path.exists(out))

    def test_modified_on_server_refused_and_deleted(self):
        rec = self.publish('Changed', os.urandom(200 * 1024))
        # The file as published verifies ...
        out = self.out('changed-before.cab')
        self.assertVerified(*self.fetch(self.http_url(rec), out, rec), out,
                            rec)
        # ... then one byte changes on the server, size unchanged.
        with open(rec['path'], 'rb') as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0x55
        os.chmod(rec['path'], 0o640)
        with open(rec['path'], 'wb') as f:
            f.write(data)
        for url, pre in ((self.http_url(rec), []),
                         (self.https_url(rec), ['--ca-file', self.d.ca])):
            out = self.out('changed.cab')
            rc, so, se = self.fetch(url, out, rec, pre=pre)
            self.assertEqual(rc, 1, so + se)
            self.assertIn('SHA-256', se)
            self.assertIn('digest mismatch', se)
            self.assertIn(hashlib.sha256(data).hexdigest().upper(), se)
            self.assertNotIn('verified', so)
            self.assertFalse(os.path.exists(out), 'OUT kept')
            self.assertFalse(os.path.exists(out + '.part'), 'OUT.part kept')
        # A shorter file on the server: refused by size, deleted too.
        with open(rec['path'], 'wb') as f:
            f.write(data[:-1000])
        out = self.out('shorter.cab')
        rc, so, se = self.fetch(self.http_url(rec), out, rec)
        self.assertEqual(rc, 1, so + se)
        self.assertIn('metadata says %d' % rec['size'], se)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + '.part'))

    def test_kill_then_resume_past_zero(self):
        rec = self.big
        out = self.out('big-resume.cab')
        since = len(self.log_lines())
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'abort_on_error=0:detect_leaks=1')
        p = subprocess.Popen(
            [WUAGENT, 'fetch', self.http_url(rec), out, '--size',
             str(rec['size']), '--sha1', rec['sha1'], '--sha256',
             rec['sha256'], '--max-rate', '4000000'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        t0 = time.monotonic()
        try:
            time.sleep(1.0)
            # A second downloader of the same file waits its turn rather
            # than interleaving bytes (the .part is locked).
            rc, so, se = self.fetch(self.http_url(rec), out, rec)
            self.assertEqual(rc, 1, so + se)
            self.assertIn('another download of this file is in progress',
                          se)
            time.sleep(max(0.0, 2.0 - (time.monotonic() - t0)))
            early = p.poll()
            p.send_signal(signal.SIGKILL)
        finally:
            so, se = p.communicate(timeout=30)
        self.assertIsNone(early, 'throttled fetch ended early: %r %r'
                          % (so, se))
        self.assertEqual(p.returncode, -signal.SIGKILL)
        have = os.path.getsize(out + '.part')
        self.assertGreater(have, 0)
        self.assertLess(have, rec['size'])
        self.assertFalse(os.path.exists(out))
        # What it has is a prefix of the file.
        with open(out + '.part', 'rb') as f, open(rec['path'], 'rb') as g:
            self.assertEqual(f.read(), g.read(have))
        rc, so, se = self.fetch(self.http_url(rec), out, rec)
        self.assertVerified(rc, so, se, out, rec)
        # The access log has no Range field: the second GET shows as a
        # 206 that carried exactly the missing bytes, so its range
        # started at HAVE > 0.
        # (wsusd may not log the GET aborted by the kill; if it does,
        # it is a 200 cut short.)
        gets = self.content_gets(since, rec, 1,
                                 until=lambda g: g[-1][1] == 206)
        self.assertIn(len(gets), (1, 2), gets)
        self.assertEqual(gets[-1][1:3], (206, rec['size'] - have), gets)
        for g in gets[:-1]:
            self.assertEqual(g[1], 200, gets)
            self.assertLess(g[2], rec['size'], gets)

    def test_one_mib_ranges(self):
        rec = self.big
        out = self.out('big-ranges.cab')
        since = len(self.log_lines())
        rc, so, se = self.fetch(self.https_url(rec), out, rec,
                                '--range-size', str(MIB),
                                pre=['--ca-file', self.d.ca])
        self.assertVerified(rc, so, se, out, rec)
        n = (rec['size'] + MIB - 1) // MIB
        gets = self.content_gets(since, rec, n)
        self.assertEqual(len(gets), n, gets)
        self.assertTrue(all(g[1] == 206 for g in gets), gets)
        self.assertTrue(all(g[2] == MIB for g in gets[:-1]), gets)
        self.assertEqual(gets[-1][2], rec['size'] - (n - 1) * MIB)
        self.assertEqual(sum(g[2] for g in gets), rec['size'])

    def test_resume_after_ranges_with_part_present(self):
        # A .part holding a prefix (as a killed ranged download leaves
        # it) is resumed from its length, in ranges.
        rec = self.small
        out = self.out('small-prefix.cab')
        with open(rec['path'], 'rb') as f:
            data = f.read()
        with open(out + '.part', 'wb') as f:
            f.write(data[:100000])
        since = len(self.log_lines())
        rc, so, se = self.fetch(self.http_url(rec), out, rec,
                                '--range-size', '65536')
        self.assertVerified(rc, so, se, out, rec)
        gets = self.content_gets(since, rec, 1)
        self.assertTrue(all(g[1] == 206 for g in gets), gets)
        self.assertEqual(sum(g[2] for g in gets), rec['size'] - 100000)


class WuagentTLSRefusals(unittest.TestCase):
    """Servers with one thing wrong in their certificate."""

    @classmethod
    def setUpClass(cls):
        if not os.access(WUAGENT, os.X_OK):
            raise harness.HarnessError('wuagent not found: %s' % WUAGENT)
        cls.base = tempfile.mkdtemp(prefix='wuagent-tls-')
        try:
            cls.www = os.path.join(cls.base, 'www')
            os.mkdir(cls.www)
            cls.payload = os.urandom(5000)
            with open(os.path.join(cls.www, 'file.bin'), 'wb') as f:
                f.write(cls.payload)
            cls.ca = OddCA(cls.base)
            # Two wsusutil test CAs: the one trusted and another one.
            cls.trusted = os.path.join(cls.base, 'trusted')
            cls.other = os.path.join(cls.base, 'other')
            for d in (cls.trusted, cls.other):
                os.mkdir(d, 0o750)
                harness.run_wsusutil(d, 'testca', 'localhost', '127.0.0.1')
        except BaseException:
            shutil.rmtree(cls.base, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base, ignore_errors=True)

    def fetch(self, cert, key, cafile, host='127.0.0.1', server=()):
        srv = SServer(cert, key, self.www, server)
        out = os.path.join(self.base, 'out.bin')
        for f in (out, out + '.part'):
            if os.path.exists(f):
                os.unlink(f)
        try:
            rc, so, se = wuagent(
                '--ca-file', cafile, 'fetch',
                'https://%s:%d/file.bin' % (host, srv.port), out, '--size',
                str(len(self.payload)), '--sha1',
                hashlib.sha1(self.payload).hexdigest(), '--sha256',
                hashlib.sha256(self.payload).hexdigest(), timeout=60)
        finally:
            srv.close()
        for m in harness.SANITIZER_MARKERS:
            self.assertNotIn(m, se, se)
        if rc == 0:
            with open(out, 'rb') as f:
                self.assertEqual(f.read(), self.payload)
        else:
            self.assertFalse(os.path.exists(out))
            self.assertFalse(os.path.exists(out + '.part'))
        return rc, so, se

    def tls(self, d, name):
        return os.path.join(d, 'tls', name)

    def test_control_trusted_valid_certificates_accepted(self):
        # Each refusal below differs from one of these in one thing.
        crt, key = self.ca.leaf('good', 'DNS:localhost,IP:127.0.0.1')
        rc, so, se = self.fetch(crt, key, self.ca.cert)
        self.assertEqual(rc, 0, se)
        self.assertIn('verified', so)
        rc, so, se = self.fetch(crt, key, self.ca.cert, host='localhost')
        self.assertEqual(rc, 0, se)
        rc, so, se = self.fetch(self.tls(self.trusted, 'testca-server.crt'),
                                self.tls(self.trusted, 'testca-server.key'),
                                self.tls(self.trusted, 'ca.pem'))
        self.assertEqual(rc, 0, se)

    def test_wsusd_cipher_policy(self):
        """wsusd's own TLS policy (net/tls.c) is applied to libcurl's
        context: a server offering only a CBC suite on TLS 1.2, which
        libcurl's defaults would accept, is refused; the same server with
        an AEAD suite is accepted (the control)."""
        crt, key = self.ca.leaf('policy', 'DNS:localhost,IP:127.0.0.1')
        rc, so, se = self.fetch(crt, key, self.ca.cert, server=(
            '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA'))
        self.assertEqual(rc, 1, so + se)
        rc, so, se = self.fetch(crt, key, self.ca.cert, server=(
            '-tls1_2', '-cipher',
            'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256'))
        self.assertEqual(rc, 0, se)

    def test_certificate_from_another_ca(self):
        rc, so, se = self.fetch(self.tls(self.other, 'testca-server.crt'),
                                self.tls(self.other, 'testca-server.key'),
                                self.tls(self.trusted, 'ca.pem'))
        self.assertEqual(rc, 1, so + se)
        self.assertIn('TLS refused', se)
        self.assertIn('certificate is not trusted', se)
        self.assertNotIn('verified', so)

    def test_certificate_with_wrong_name(self):
        crt, key = self.ca.leaf('wrongname', 'DNS:wrong.example')
        for host in ('127.0.0.1', 'localhost'):
            rc, so, se = self.fetch(crt, key, self.ca.cert, host=host)
            self.assertEqual(rc, 1, so + se)
            self.assertIn('TLS refused', se)
            self.assertIn('certificate name does not match %s' % host, se)
            self.assertNotIn('not trusted', se)

    def test_expired_certificate(self):
        crt, key = self.ca.leaf('expired', 'DNS:localhost,IP:127.0.0.1',
                                start='20200101000000Z',
                                end='20210101000000Z')
        rc, so, se = self.fetch(crt, key, self.ca.cert)
        self.assertEqual(rc, 1, so + se)
        self.assertIn('TLS refused', se)
        self.assertIn('certificate has expired', se)
        self.assertNotIn('not trusted', se)

    def test_unreadable_ca_file(self):
        rc, so, se = wuagent('--ca-file', os.path.join(self.base, 'none'),
                             'fetch', 'https://127.0.0.1:1/x',
                             os.path.join(self.base, 'o'), '--size', '1',
                             '--sha1', '00' * 20, '--sha256', '00' * 32)
        self.assertEqual(rc, 1, so + se)
        self.assertIn('CA file', se)


if __name__ == '__main__':
    harness.main()
