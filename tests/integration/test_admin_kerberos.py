"""Administration with a Kerberos ticket (SECURITY.md S6; WSUS's own
console authenticates administrators with Windows authentication on
ApiRemoting30).

A private MIT KDC (krb5kdc.py, realm CORP.EXAMPLE) holds HTTP/localhost,
whose key is the daemon's DIR/tls/http.keytab, and two users, ops1 and
ops2, each with a credentials cache made by `kinit -k`. DIR/admins says

    approver  kerberos:CORP\\ops1
    approver  cert:CORP\\ops2

Cases, each through `wsusutil --server https://localhost:PORT
--negotiate` (a ticket for HTTP/localhost from KRB5CCNAME, the server's
reply verified):
  - ops1 lists groups and approves an update; the audit line names
    kerberos:CORP\\ops1 and the answer carried the mutual-authentication
    token;
  - ops2 has a role only as a certificate identity: denied (exit 77,
    audit "denied" naming kerberos:CORP\\ops2);
  - no credentials cache: wsusutil says so, nothing reaches the server;
  - the 401 challenge offers Negotiate next to the certificate;
  - an Authorization header of another scheme (Basic): 401, even with a
    trusted client certificate.
"""

import os
import sqlite3
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import krb5kdc  # noqa: E402
from test_serversync_auth import KrbWsusd  # noqa: E402
from test_admin_auth import put_update, approvals  # noqa: E402

UPD = '11111111-2222-3333-4444-5555555555c1'
API = '/ApiRemoting30/WebService.asmx'


class AdminKerberos(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        missing = krb5kdc.tools_missing()
        if missing:
            raise RuntimeError('Kerberos tools missing: %s (scripts/deps)'
                               % missing)
        cls.k = krb5kdc.KrbEnv('CORP.EXAMPLE')
        cls.d = None
        try:
            a = cls.k.realm
            cls.cc = {}
            for user in ('ops1', 'ops2'):
                a.add_principal(user)
                kt = a.keytab(cls.k.path(user + '.keytab'), user)
                cc = 'FILE:' + cls.k.path(user + '.ccache')
                subprocess.run([krb5kdc.find_tool('kinit') or 'kinit',
                                '-k', '-t', kt,
                                a.name_of(user)], check=True,
                               env=cls.k.env({'KRB5CCNAME': cc}),
                               capture_output=True, timeout=60)
                cls.cc[user] = cc
            cls.d = KrbWsusd(cls.k, tls=True, conf={
                'kerberos_realm_map': 'CORP.EXAMPLE = CORP'})
            os.makedirs(cls.d.path('tls'), mode=0o700, exist_ok=True)
            a.keytab(cls.d.path('tls', 'http.keytab'), a.http)
            with open(cls.d.path('admins'), 'w') as f:
                f.write('approver kerberos:CORP\\ops1\n'
                        'approver cert:CORP\\ops2\n')
            harness.run_wsusutil(cls.d.dir, 'groups', 'list')
            put_update(cls.d.dir, UPD)
            cls.d.start()
        except BaseException:
            if cls.d is not None:
                cls.d.cleanup()
            cls.k.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            harness.stop_checked(cls.d)
        finally:
            cls.k.close()

    def tearDown(self):
        harness.check_alive(self, self.d)

    def remote(self, ccache, *args, host='localhost'):
        env = self.k.env({'KRB5CCNAME': ccache})
        p = subprocess.run([harness.WSUSUTIL, '--server',
                            'https://%s:%d' % (host, self.d.https_port),
                            '--negotiate', '--ca', self.d.ca, *args],
                           capture_output=True, text=True, timeout=60,
                           env=env)
        return p.returncode, p.stdout, p.stderr

    def audit(self):
        with open(self.d.path('audit.log')) as f:
            return f.read().splitlines()

    def test_ticket_administers(self):
        mark = len(self.audit())
        rc, out, err = self.remote(self.cc['ops1'], 'groups', 'list')
        self.assertEqual(rc, 0, err)
        self.assertIn('All Computers', out)
        rc, out, err = self.remote(self.cc['ops1'], 'approve', UPD,
                                   '--group', 'All Computers')
        self.assertEqual(rc, 0, err)
        self.assertEqual(approvals(self.d.dir, UPD), 1)
        lines = self.audit()[mark:]
        self.assertTrue(any('event=allowed' in ln and
                            'principal="kerberos:CORP\\\\ops1"' in ln and
                            'via=remote' in ln and 'approve' in ln
                            for ln in lines), lines)

    def test_certificate_rule_is_not_a_ticket_rule(self):
        mark = len(self.audit())
        rc, out, err = self.remote(self.cc['ops2'], 'groups', 'list')
        self.assertEqual(rc, 77, out + err)
        self.assertIn('permission denied', err)
        self.assertTrue(any('event=denied' in ln and
                            'principal="kerberos:CORP\\\\ops2"' in ln
                            for ln in self.audit()[mark:]))

    def test_no_credentials(self):
        rc, out, err = self.remote('FILE:' + self.k.path('none.ccache'),
                                   'groups', 'list')
        self.assertEqual(rc, 1, out + err)
        self.assertIn('--negotiate', err)
        self.assertNotIn('All Computers', out)

    def test_challenge_and_other_schemes(self):
        r = harness.request(self.d.https_port, 'POST', API,
                            [('Content-Type', 'application/x-wsusd-admin')],
                            b'WSUSADM1\0\0\0\0', tls=self.d.ctx())
        self.assertEqual(r.status, 401, r)
        offered = ' '.join(r.header_all('WWW-Authenticate'))
        self.assertIn('Negotiate', offered)
        self.assertIn('ClientCertificate', offered)
        r = harness.request(self.d.https_port, 'POST', API,
                            [('Content-Type', 'application/x-wsusd-admin'),
                             ('Authorization', 'Basic b3BzMTpwYXNz')],
                            b'WSUSADM1\0\0\0\0', tls=self.d.ctx())
        self.assertEqual(r.status, 401, r)


if __name__ == '__main__':
    unittest.main()
