"""Authenticated administration (issue #8 item 3; SECURITY.md S6: whoever
can approve updates owns every client).

One wsusd on loopback, run as root as the tests are. Its admin socket is
put in a directory every local user can reach (admin_socket = ...), and
DIR/admins gives roles to system accounts that exist on every Debian
machine:

    reporter       user:daemon
    approver       group:bin          (bin's primary group)
    administrator  user:sys
    approver       cert:CORP\\ops1

`nobody` has no rule. Client certificates come from the CA in
serversync_client_ca (the realm map is CORP.EXAMPLE = CORP); another CA
issues a look-alike. Cases:
  - through the socket, as each account (subprocess run with that uid and
    only its own groups): nobody is refused everything (exit 77, audit
    "denied" naming the role it lacks); the reporter lists but may not
    approve; the approver (through its group) approves, and the
    approval is in the database with an audit line allowed+result
    naming the principal before the result; the administrator adds a
    group; a command naming files (publish, export) is refused even to
    the administrator; nothing a refused caller asked for happened;
  - a garbled request on the socket gets an error, the daemon lives;
  - the data directory's owner (root here) works directly, and each
    change is in the audit log first; with audit_log on a full file
    system (a 64 KiB tmpfs filled up) a change is refused, the database
    unchanged, for the owner and through the socket;
  - ApiRemoting30: no certificate -> 401 with a challenge, before any
    body is read; over the plain HTTP port -> 403; the other CA's
    certificate -> 401; a trusted certificate whose identity has no
    rule -> 403 and audit "denied"; cert:CORP\\ops1 approves through
    `wsusutil --server` and the audit line names cert:CORP\\ops1; a
    body that is no request -> 400; a GET -> not served.
AdminSeparateCA: with admin_client_ca set, ApiRemoting30 trusts it alone
and ServerSyncWebService serversync_client_ca alone.
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from test_serversync_cert import CA, UPN_OID  # noqa: E402

UPD = '11111111-2222-3333-4444-5555555555aa'
UPD2 = '11111111-2222-3333-4444-5555555555ab'
UPD3 = '11111111-2222-3333-4444-5555555555ac'
API = '/ApiRemoting30/WebService.asmx'
ROLES = ('# roles for the tests\n'
         'reporter user:daemon\n'
         'approver group:bin\n'
         'administrator user:sys\n'
         'approver cert:CORP\\ops1\n')


def put_update(datadir, uid):
    db = sqlite3.connect(os.path.join(datadir, 'wsusd.db'))
    with db:
        db.execute("INSERT INTO update_ (update_id, update_type, origin, "
                   "created) VALUES (?, 'Software', 'local', 'now')",
                   (uid,))
        db.execute("INSERT INTO revision (update_pk, revision_number, "
                   "title, kb_article, xml_core, created, "
                   "explicitly_deployable) SELECT update_pk, 100, 'T', "
                   "'5000001', CAST('<x />' AS BLOB), 'now', 1 FROM "
                   "update_ WHERE update_id = ?", (uid,))
    db.close()


def approvals(datadir, uid):
    db = sqlite3.connect(os.path.join(datadir, 'wsusd.db'))
    try:
        return db.execute(
            "SELECT count(*) FROM approval a JOIN update_ u ON "
            "u.update_pk = a.update_pk WHERE u.update_id = ?",
            (uid,)).fetchone()[0]
    finally:
        db.close()


def remote_wsusutil(d, cert, *args):
    """wsusutil --server against D's HTTPS port with client cert CERT."""
    p = subprocess.run([harness.WSUSUTIL, '--server',
                        'https://localhost:%d' % d.https_port,
                        '--cert', cert[0], '--key', cert[1], '--ca',
                        d.ca, *args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def groups(datadir):
    db = sqlite3.connect(os.path.join(datadir, 'wsusd.db'))
    try:
        return sorted(r[0] for r in db.execute(
            'SELECT name FROM target_group'))
    finally:
        db.close()


class AdminAuth(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sockdir = tempfile.mkdtemp(prefix='wsusd-adminsock-')
        os.chmod(cls.sockdir, 0o755)
        cls.sock = os.path.join(cls.sockdir, 'admin.sock')
        cls.d = harness.Wsusd(tls=True, conf={
            'kerberos_realm_map': 'CORP.EXAMPLE = CORP',
            'serversync_client_ca': 'tls/client-ca.pem',
            'admin_socket': cls.sock})
        try:
            base = cls.d.base
            cls.good = CA(base, 'good', 'Admin Client CA')
            cls.other = CA(base, 'other', 'Admin Client CA')
            with open(cls.good.cert) as f, \
                    open(cls.d.path('tls', 'client-ca.pem'), 'w') as g:
                g.write(f.read())
            cls.ops1 = cls.good.issue(
                '/CN=ops1', 'otherName:%s;UTF8:ops1@corp.example' % UPN_OID)
            cls.ops2 = cls.good.issue(
                '/CN=ops2', 'otherName:%s;UTF8:ops2@corp.example' % UPN_OID)
            cls.fake1 = cls.other.issue(
                '/CN=ops1', 'otherName:%s;UTF8:ops1@corp.example' % UPN_OID)
            with open(cls.d.path('admins'), 'w') as f:
                f.write(ROLES)
            harness.run_wsusutil(cls.d.dir, 'groups', 'list')
            put_update(cls.d.dir, UPD)
            put_update(cls.d.dir, UPD2)
            put_update(cls.d.dir, UPD3)
            cls.d.start()
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        import shutil
        try:
            harness.stop_checked(cls.d)
            if os.path.exists(cls.sock):
                raise AssertionError('admin socket left behind')
        finally:
            shutil.rmtree(cls.sockdir, ignore_errors=True)

    def tearDown(self):
        harness.check_alive(self, self.d)

    # ------------------------------------------------------- helpers

    def as_user(self, user, *args, timeout=60):
        """wsusutil run as USER (its uid and primary group only) with
        --data pointing at the server's directory, which USER cannot
        read: it must go through the socket."""
        import pwd
        pw = pwd.getpwnam(user)
        env = dict(os.environ, WSUSD_ADMIN_SOCKET=self.sock)
        p = subprocess.run([os.path.abspath(harness.WSUSUTIL), '--data',
                            self.d.dir, *args],
                           capture_output=True, text=True, timeout=timeout,
                           user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
                           env=env, cwd='/')
        return p.returncode, p.stdout, p.stderr

    def audit(self):
        with open(self.d.path('audit.log')) as f:
            return f.read().splitlines()

    def audit_after(self, mark):
        return self.audit()[mark:]

    # ------------------------------------------------------- socket

    def test_socket_unknown_user_refused(self):
        mark = len(self.audit())
        before = groups(self.d.dir)
        rc, out, err = self.as_user('nobody', 'groups', 'list')
        self.assertEqual(rc, 77, err)
        self.assertIn('permission denied', err)
        self.assertIn('needs the reporter role', err)
        rc, out, err = self.as_user('nobody', 'groups', 'add', 'Evil')
        self.assertEqual(rc, 77, err)
        self.assertEqual(groups(self.d.dir), before)
        lines = self.audit_after(mark)
        self.assertEqual(len(lines), 2, lines)
        for line in lines:
            self.assertIn('event=denied', line)
            self.assertIn('principal=nobody', line)
            self.assertIn('via=socket', line)
            self.assertIn('peer="uid:65534', line)

    def test_socket_reporter(self):
        mark = len(self.audit())
        rc, out, err = self.as_user('daemon', 'groups', 'list')
        self.assertEqual(rc, 0, err)
        self.assertIn('All Computers', out)
        rc, out, err = self.as_user('daemon', 'approve', UPD3, '--group',
                                    'All Computers')
        self.assertEqual(rc, 77, err)
        self.assertIn('needs the approver role', err)
        self.assertEqual(approvals(self.d.dir, UPD3), 0)
        lines = self.audit_after(mark)
        self.assertTrue(any('event=denied' in ln and 'principal=daemon' in ln
                            and 'role=reporter' in ln for ln in lines),
                        lines)

    def test_socket_approver_through_group(self):
        mark = len(self.audit())
        rc, out, err = self.as_user('bin', 'approve', UPD, '--group',
                                    'All Computers')
        self.assertEqual(rc, 0, err)
        self.assertEqual(approvals(self.d.dir, UPD), 1)
        lines = self.audit_after(mark)
        allowed = [i for i, ln in enumerate(lines)
                   if 'event=allowed' in ln and 'principal=bin' in ln]
        result = [i for i, ln in enumerate(lines)
                  if 'event=result' in ln and 'principal=bin' in ln
                  and 'exit=0' in ln]
        self.assertTrue(allowed and result, lines)
        self.assertLess(allowed[0], result[0])
        self.assertIn('role=approver', lines[allowed[0]])
        self.assertIn('approve ' + UPD, lines[allowed[0]])
        # but not an administrator's command
        rc, out, err = self.as_user('bin', 'groups', 'add', 'ByBin')
        self.assertEqual(rc, 77, err)
        self.assertNotIn('ByBin', groups(self.d.dir))

    def test_socket_administrator(self):
        rc, out, err = self.as_user('sys', 'groups', 'add', 'BySys')
        self.assertEqual(rc, 0, err)
        self.assertIn('BySys', groups(self.d.dir))
        # files are read and written by the server with its own rights:
        # never on behalf of a caller, whatever the role
        mark = len(self.audit())
        for args in (('publish', '/etc/passwd', '--title', 't',
                      '--product', 'p', '--classification', 'c'),
                     ('export', '/tmp/x.xml.gz', '/tmp/x.log')):
            rc, out, err = self.as_user('sys', *args)
            self.assertEqual(rc, 77, (args, err))
            self.assertIn('names files', err)
        self.assertFalse(os.path.exists('/tmp/x.xml.gz'))
        self.assertEqual(len(self.audit_after(mark)), 2)

    def test_socket_garbage(self):
        import socket
        for payload in (b'', b'WSUSADM1', b'WSUSADM1\xff\xff\xff\xff',
                        b'GET / HTTP/1.1\r\n\r\n',
                        b'WSUSADM1\x00\x00\x00\x01\x00\x00\x00\x05ab'):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(15)
            s.connect(self.sock)
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            data = b''
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            s.close()
            # an error frame and a non-zero exit frame
            self.assertTrue(data.startswith(b'e'), (payload, data))
            self.assertEqual(data[-9:-4], b'x\0\0\0\x04')
            self.assertNotEqual(data[-4:], b'\0\0\0\0')
        rc, out, err = self.as_user('daemon', 'groups', 'list')
        self.assertEqual(rc, 0, err)

    # ------------------------------------------------------- owner, audit

    def test_owner_direct_is_audited(self):
        mark = len(self.audit())
        harness.run_wsusutil(self.d.dir, 'groups', 'add', 'ByOwner')
        lines = self.audit_after(mark)
        self.assertEqual(len(lines), 2, lines)
        self.assertIn('event=allowed', lines[0])
        self.assertIn('event=result', lines[1])
        self.assertIn('exit=0', lines[1])
        for line in lines:
            self.assertIn('principal=root', line)
            self.assertIn('via=local', line)
            self.assertIn('cmd="groups add ByOwner"', line)
        # reading is not audited
        harness.run_wsusutil(self.d.dir, 'groups', 'list')
        self.assertEqual(len(self.audit_after(mark)), 2)

    def test_audit_log_full_refuses_changes(self):
        mnt = tempfile.mkdtemp(prefix='wsusd-auditfull-')
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k',
                            'tmpfs', mnt], capture_output=True, text=True)
        if r.returncode != 0:
            self.fail('cannot mount a tmpfs for the full-disk case: %s'
                      % r.stderr)
        try:
            fd = os.open(os.path.join(mnt, 'fill'), os.O_WRONLY | os.O_CREAT)
            try:
                for _ in range(1024):  # 4 MiB at most: the tmpfs is 64 KiB
                    os.write(fd, b'\0' * 4096)
            except OSError:
                pass
            finally:
                os.close(fd)
            self.d.set_conf('audit_log', os.path.join(mnt, 'audit.log'))
            mark = self.d.stderr(all_runs=True)
            self.d.reload()
            harness_wait_for(lambda: 'reloaded' in
                             self.d.stderr(all_runs=True)[len(mark):])
            before = groups(self.d.dir)
            p = harness.run_wsusutil(self.d.dir, 'groups', 'add', 'Full1',
                                     check=False)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(b'audit log', p.stderr)
            rc, out, err = self.as_user('sys', 'groups', 'add', 'Full2')
            self.assertEqual(rc, 75, err)
            self.assertIn('audit log', err)
            self.assertEqual(groups(self.d.dir), before)
        finally:
            self.d.set_conf('audit_log', None)
            mark = self.d.stderr(all_runs=True)
            self.d.reload()
            harness_wait_for(lambda: 'reloaded' in
                             self.d.stderr(all_runs=True)[len(mark):])
            subprocess.run(['umount', mnt])
            os.rmdir(mnt)

    # ------------------------------------------------------- ApiRemoting30

    def post(self, cert=None, body=b'WSUSADM1\0\0\0\0', tls=True):
        ctx = self.d.ctx()
        if cert is not None:
            ctx.load_cert_chain(*cert)
        port = self.d.https_port if tls else self.d.http_port
        return harness.request(port, 'POST', API,
                               [('Content-Type',
                                 'application/x-wsusd-admin')],
                               body, tls=ctx if tls else None)

    def remote(self, cert, *args):
        return remote_wsusutil(self.d, cert, *args)

    def test_remote_needs_certificate(self):
        r = self.post()
        self.assertEqual(r.status, 401, r)
        self.assertTrue(r.header('WWW-Authenticate'), r)
        r = self.post(cert=self.fake1)
        self.assertEqual(r.status, 401, r)
        r = self.post(tls=False)
        self.assertEqual(r.status, 403, r)
        r = harness.request(self.d.https_port, 'GET', API,
                            tls=self.d.ctx())
        self.assertIn(r.status, (401, 405), r)

    def test_remote_bad_body(self):
        r = self.post(cert=self.ops1, body=b'not a request')
        self.assertEqual(r.status, 400, r)

    def test_remote_roles(self):
        mark = len(self.audit())
        rc, out, err = self.remote(self.ops2, 'groups', 'list')
        self.assertEqual(rc, 77, err)
        self.assertIn('permission denied', err)
        rc, out, err = self.remote(self.ops1, 'groups', 'list')
        self.assertEqual(rc, 0, err)
        self.assertIn('All Computers', out)
        rc, out, err = self.remote(self.ops1, 'approve', UPD2, '--group',
                                   'All Computers')
        self.assertEqual(rc, 0, err)
        self.assertEqual(approvals(self.d.dir, UPD2), 1)
        rc, out, err = self.remote(self.ops1, 'groups', 'add', 'Remote')
        self.assertEqual(rc, 77, err)
        self.assertNotIn('Remote', groups(self.d.dir))
        lines = self.audit_after(mark)
        self.assertTrue(any('event=denied' in ln and
                            'principal="cert:CORP\\\\ops2"' in ln
                            for ln in lines), lines)
        self.assertTrue(any('event=allowed' in ln and
                            'principal="cert:CORP\\\\ops1"' in ln and
                            'via=remote' in ln and 'approve' in ln
                            for ln in lines), lines)
        # the other CA's certificate never reaches the roles
        rc, out, err = self.remote(self.fake1, 'groups', 'list')
        self.assertNotEqual(rc, 0)
        self.assertIn('401', err)


class AdminSeparateCA(unittest.TestCase):
    """admin_client_ca apart from serversync_client_ca (SECURITY.md S6):
    each root trusts its own CAs only. The admin CA and the sync CA both
    issue a certificate for CORP\\ops1 (an approver in DIR/admins) and
    one for CORP\\DS1$; the authorization list is absent (admits every
    authenticated server)."""

    @classmethod
    def setUpClass(cls):
        from test_serversync_cert import GAC_BODY, GAC_HEADERS, SS
        cls.gac = (SS, GAC_HEADERS, GAC_BODY)
        cls.d = harness.Wsusd(tls=True, conf={
            'kerberos_realm_map': 'CORP.EXAMPLE = CORP',
            'serversync_client_ca': 'tls/sync-ca.pem',
            'admin_client_ca': 'tls/admin-ca.pem'})
        try:
            base = cls.d.base
            cls.admin_ca = CA(base, 'admin', 'Administrators CA')
            cls.sync_ca = CA(base, 'sync', 'Downstream Servers CA')
            for ca, name in ((cls.admin_ca, 'admin-ca.pem'),
                             (cls.sync_ca, 'sync-ca.pem')):
                with open(ca.cert) as f, \
                        open(cls.d.path('tls', name), 'w') as g:
                    g.write(f.read())
            upn = 'otherName:%s;UTF8:%s@corp.example'
            cls.admin_ops1 = cls.admin_ca.issue('/CN=ops1',
                                                upn % (UPN_OID, 'ops1'))
            cls.sync_ops1 = cls.sync_ca.issue('/CN=ops1',
                                              upn % (UPN_OID, 'ops1'))
            cls.admin_ds1 = cls.admin_ca.issue('/CN=DS1$',
                                               upn % (UPN_OID, 'DS1$'))
            cls.sync_ds1 = cls.sync_ca.issue('/CN=DS1$',
                                             upn % (UPN_OID, 'DS1$'))
            with open(cls.d.path('admins'), 'w') as f:
                f.write('approver cert:CORP\\ops1\n')
            harness.run_wsusutil(cls.d.dir, 'groups', 'list')
            cls.d.start()
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        harness.stop_checked(cls.d)

    def tearDown(self):
        harness.check_alive(self, self.d)

    def remote(self, cert, *args):
        return remote_wsusutil(self.d, cert, *args)

    def sync(self, cert):
        ctx = self.d.ctx()
        ctx.load_cert_chain(*cert)
        path, headers, body = self.gac
        return harness.request(self.d.https_port, 'POST', path, headers,
                               body, tls=ctx)

    def test_admin_ca_administers(self):
        rc, out, err = self.remote(self.admin_ops1, 'groups', 'list')
        self.assertEqual(rc, 0, err)
        self.assertIn('All Computers', out)

    def test_sync_ca_does_not_administer(self):
        """The same identity, from the downstream servers' CA: 401."""
        rc, out, err = self.remote(self.sync_ops1, 'groups', 'list')
        self.assertNotEqual(rc, 0, out)
        self.assertIn('401', err)

    def test_zz_missing_ca_file(self):
        """A reload naming an admin_client_ca that is not there fails
        and keeps the running CAs (CONFIG.md)."""
        import re
        import time
        text = lambda: self.d.stderr(all_runs=True)
        failed = len(re.findall(r'reload failed', text()))
        self.d.set_conf('admin_client_ca', 'tls/missing.pem')
        try:
            self.d.reload()
            deadline = time.monotonic() + 20
            while len(re.findall(r'reload failed', text())) == failed:
                self.assertLess(time.monotonic(), deadline, text()[-2000:])
                time.sleep(0.05)
            self.assertIn('admin_client_ca', text())
            rc, out, err = self.remote(self.admin_ops1, 'groups', 'list')
            self.assertEqual(rc, 0, err)
        finally:
            self.d.set_conf('admin_client_ca', 'tls/admin-ca.pem')

    def test_admin_ca_does_not_sync(self):
        r = self.sync(self.sync_ds1)
        self.assertEqual(r.status, 200, r)
        r = self.sync(self.admin_ds1)
        self.assertEqual(r.status, 401, r)


def harness_wait_for(cond, timeout=20.0):
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError('condition not met within %.0f s' % timeout)


if __name__ == '__main__':
    unittest.main()
