#!/usr/bin/env python3
"""wsusutil checkhealth: healthy install passes; each broken part is a
PROBLEM line naming it and a non-zero exit."""

import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Wsusd  # noqa: E402


def checkhealth(d, *extra):
    p = harness.run_wsusutil(d.dir, 'checkhealth', '--port', str(d.port),
                             *extra, check=False)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class CheckHealth(unittest.TestCase):

    def make(self, **kw):
        d = Wsusd(**kw)
        self.addCleanup(d.cleanup)
        return d

    def test_healthy(self):
        d = self.make()
        d.start()
        self.addCleanup(d.stop)
        rc, out, err = checkhealth(d)
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn('PROBLEM', out)
        for want in ('listener 127.0.0.1:%d (https) answers' % d.https_port,
                     'listener 127.0.0.1:%d (http) answers' % d.http_port,
                     'days left', 'database integrity check: ok',
                     'is writable', 'free space'):
            self.assertIn(want, out)

    def test_serversync_authorization(self):
        """SECURITY.md S8: an empty allow list admits every authenticated
        downstream by design, and checkhealth says so; a list is counted;
        a broken list is a problem."""
        d = self.make()
        d.start()
        self.addCleanup(d.stop)
        rc, out, err = checkhealth(d)
        self.assertEqual(rc, 0, out + err)
        self.assertIn('warning ServerSyncWebService: no authorization list',
                      out)
        self.assertIn('no Kerberos keytab and no serversync_client_ca', out)
        harness.run_wsusutil(d.dir, 'downstream', 'allow', 'CORP\\DS1$')
        harness.run_wsusutil(d.dir, 'downstream', 'deny', '*')
        rc, out, err = checkhealth(d)
        self.assertEqual(rc, 0, out + err)
        self.assertIn('ok      ServerSyncWebService: authorization list of '
                      '2 rules', out)
        self.assertNotIn('no authorization list', out)
        with open(d.path('ServerSyncWebService', 'web.config'), 'w') as f:
            f.write('<configuration><system.web><authorization>'
                    '<allow user="x"/></authorization></system.web>'
                    '</configuration>')
        rc, out, _ = checkhealth(d)
        self.assertNotEqual(rc, 0)
        self.assertIn('PROBLEM ServerSyncWebService/web.config: line', out)

    def test_shared_client_ca(self):
        """SECURITY.md S6: administrators' certificates from the downstream
        servers' CAs are worth a warning; admin_client_ca ends it."""
        warn = "ApiRemoting30: administrators' client certificates"
        d = self.make(conf={'serversync_client_ca': 'tls/ca.pem'})
        d.start()
        self.addCleanup(d.stop)
        rc, out, err = checkhealth(d)
        self.assertEqual(rc, 0, out + err)
        self.assertIn('warning ' + warn, out)
        d2 = self.make(conf={'serversync_client_ca': 'tls/ca.pem',
                             'admin_client_ca': 'tls/ca.pem'})
        d2.start()
        self.addCleanup(d2.stop)
        rc, out, err = checkhealth(d2)
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn(warn, out)

    def test_single_computer_approvals_and_local_updates(self):
        """SECURITY.md S6 (SharpWSUS): an update approved for a group
        holding one computer, and updates published here, are listed as
        warnings to review; two computers in the group end the first."""
        upd = '11111111-2222-3333-4444-5555555555aa'
        pcs = ('aaaaaaaa-0000-0000-0000-0000000000b1',
               'aaaaaaaa-0000-0000-0000-0000000000b2')
        d = self.make()
        harness.run_wsusutil(d.dir, 'groups', 'add', 'Target')
        db = sqlite3.connect(d.path('wsusd.db'))
        with db:
            db.execute("INSERT INTO update_ (update_id, update_type, "
                       "origin, created) VALUES (?, 'Software', 'local', "
                       "'now')", (upd,))
            db.execute("INSERT INTO revision (update_pk, revision_number, "
                       "title, xml_core, created, explicitly_deployable) "
                       "SELECT update_pk, 100, 'T', CAST('<x />' AS BLOB), "
                       "'now', 1 FROM update_ WHERE update_id = ?", (upd,))
            for pc in pcs:
                db.execute("INSERT INTO computer (computer_id, dns_name, "
                           "created) VALUES (?, ?, 'now')", (pc, pc[-2:]))
        db.close()
        harness.run_wsusutil(d.dir, 'computers', 'move', pcs[0], 'Target')
        harness.run_wsusutil(d.dir, 'approve', upd, '--group', 'Target')
        d.start()
        self.addCleanup(d.stop)
        rc, out, err = checkhealth(d)
        self.assertEqual(rc, 0, out + err)
        self.assertIn('warning approval: %s is approved for install to '
                      '"Target", a group of one computer' % upd, out)
        self.assertIn('warning 1 update published on this server', out)
        harness.run_wsusutil(d.dir, 'computers', 'move', pcs[1], 'Target')
        rc, out, err = checkhealth(d)
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn('a group of one computer', out)
        self.assertIn('warning 1 update published on this server', out)

    def test_daemon_down(self):
        d = self.make()
        d.start()
        d.stop()
        rc, out, _ = checkhealth(d)
        self.assertNotEqual(rc, 0)
        self.assertIn('PROBLEM listener 127.0.0.1:%d (https) does not '
                      'answer' % d.https_port, out)
        self.assertIn('PROBLEM listener 127.0.0.1:%d (http) does not '
                      'answer' % d.http_port, out)

    def test_no_tls_is_a_problem(self):
        d = self.make(tls=False, conf={'allow_insecure_http': 'yes'})
        d.start()
        self.addCleanup(d.stop)
        rc, out, _ = checkhealth(d)
        self.assertNotEqual(rc, 0)
        self.assertIn('PROBLEM TLS is not configured', out)

    def test_certificate_for_other_name(self):
        d = self.make()
        d.set_conf('server_name', 'other.example')
        rc, out, _ = checkhealth(d)
        self.assertNotEqual(rc, 0)
        self.assertRegex(out, r'PROBLEM certificate .* for other.example: '
                         r'certificate does not cover')

    def test_corrupt_database(self):
        d = self.make()
        d.start()
        d.stop()
        db = d.path('wsusd.db')
        # Corrupt a page of the database file behind SQLite's back.
        with sqlite3.connect(db) as c:
            c.execute('PRAGMA journal_mode = DELETE')
            c.execute('CREATE TABLE filler (x TEXT)')
            c.executemany('INSERT INTO filler VALUES (?)',
                          [('x' * 500,)] * 200)
            c.execute('CREATE INDEX filler_x ON filler (x)')
        with open(db, 'r+b') as f:
            # Smash the b-tree page headers of pages 3-12 (page 1 holds
            # the file header, which would make SQLite refuse to open).
            for page in range(2, 12):
                f.seek(4096 * page)
                f.write(b'\x0d\xff\xff\x00\x05' + b'\xee' * 64)
        rc, out, _ = checkhealth(d)
        self.assertNotEqual(rc, 0)
        self.assertRegex(out, r'PROBLEM database')

    def test_content_not_writable(self):
        if os.geteuid() == 0:
            # root writes anywhere; make content a file instead.
            d = self.make()
            os.rmdir(d.path('content'))
            with open(d.path('content'), 'w') as f:
                f.write('not a directory')
        else:
            d = self.make()
            os.chmod(d.path('content'), 0o500)
        rc, out, _ = checkhealth(d)
        self.assertNotEqual(rc, 0)
        self.assertIn('PROBLEM content directory', out)

    def test_bad_port_argument(self):
        d = self.make()
        p = harness.run_wsusutil(d.dir, 'checkhealth', '--port', 'x',
                                 check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('bad port', p.stderr.decode())


if __name__ == '__main__':
    unittest.main(verbosity=2)
