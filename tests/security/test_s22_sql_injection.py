#!/usr/bin/env python3
"""SECURITY.md S22: SQL-injection-shaped names through the client
protocol and wsusutil are stored verbatim (or refused), never executed.

- RegisterComputer with DnsName "x'); DROP TABLE computer;--" (and other
  shapes) -> the computer row holds the literal text;
- `wsusutil groups add` with "\"; ATTACH DATABASE 'p.db' AS p;--" ->
  `groups list --json` shows the literal name;
- ReportEventBatch MiscData with a DELETE statement -> stored as text;
- afterwards the schema (sqlite_master) is unchanged, every table still
  has its rows, and no p.db appeared anywhere.
"""

import json
import os
import sqlite3
import sys
import unittest
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common as sc  # noqa: E402
from sec_common import harness, wc  # noqa: E402

A = 'e1da06a3-5601-43c9-bac3-52d5db701494'
DNS_NAMES = ["x'); DROP TABLE computer;--",
             "a' OR '1'='1",
             'b"; DELETE FROM computer; --',
             "c%' ESCAPE '\\",
             "d'||(SELECT sqlite_version())||'"]
GROUP = "\"; ATTACH DATABASE 'p.db' AS p;--"
GROUP2 = "g'); DROP TABLE target_group;--"


class SqlInjection(harness.DaemonTestCase):

    def db(self, sql, args=()):
        con = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def schema(self):
        return self.db('SELECT type, name, sql FROM sqlite_master '
                       'ORDER BY type, name')

    def p_db_anywhere(self):
        found = []
        for top in (self.d.base, os.getcwd()):
            for root, _, files in os.walk(top):
                found += [os.path.join(root, f) for f in files
                          if f.startswith('p.db')]
        return found

    def register(self, n, dns):
        c = wc.Client(self.d)
        cid = '%08x-5601-43c9-bac3-52d5db701494' % (0x5220 + n)
        body = wc.capture('scan', '000002').replace(A.encode(), cid.encode())
        r = c.call('GetAuthorizationCookie', body)
        self.assertEqual(r.status, 200, r)
        lc = wc.text(c.getconfig().body, 'LastChange')
        r = c.getcookie(wc.text(r.body, 'CookieData'), lc)
        self.assertEqual(r.status, 200, r)
        cookie = wc.text(r.body, 'EncryptedData')
        reg = wc.with_cookie(wc.capture('scan', '000004'), cookie).replace(
            '<DnsName>REDACTED3</DnsName>',
            '<DnsName>%s</DnsName>' % escape(dns))
        return cid, cookie, c.call('RegisterComputer', reg)

    def test_injection_shaped_names(self):
        self.assertFalse(self.p_db_anywhere())
        # A plain computer first, so "computer" has a row to lose.
        cid0, _, r = self.register(0, 'plain-host')
        self.assertEqual(r.status, 200, r)
        schema = self.schema()
        tables = [n for t, n, _ in schema if t == 'table']
        self.assertIn('computer', tables)
        outcomes = {}
        for i, name in enumerate(DNS_NAMES, 1):
            cid, cookie, r = self.register(i, name)
            if r.status == 200:
                rows = self.db('SELECT dns_name FROM computer WHERE '
                               'computer_id = ?', (cid,))
                self.assertEqual(rows, [(name,)], name)
                outcomes[name] = 'stored'
            else:
                self.assertEqual(r.status, 500, r)
                self.assertIsNotNone(sc.fault_of(r.body)[0], r)
                outcomes[name] = 'refused'
        self.assertIn('stored', outcomes.values(), outcomes)
        self.assertEqual(self.db('SELECT dns_name FROM computer WHERE '
                                 'computer_id = ?', (cid0,)),
                         [('plain-host',)])
        # Groups through wsusutil.
        for g in (GROUP, GROUP2):
            harness.run_wsusutil(self.d.dir, 'groups', 'add', g)
        harness.run_wsusutil(self.d.dir, 'groups', 'add', 'child',
                             '--parent', GROUP2)
        groups = json.loads(harness.run_wsusutil(
            self.d.dir, 'groups', 'list', '--json').stdout)
        names = {g['name']: g['parent'] for g in groups}
        self.assertIn(GROUP, names)
        self.assertEqual(names.get('child'), GROUP2)
        self.assertIn('All Computers', names)
        # Reported text with SQL in it.
        inst = 'dddddddd-0000-0000-0000-000000000001'
        misc = "'); DELETE FROM client_event; DROP TABLE computer;--"
        ev = ('<ReportingEvent><BasicData><TargetID><Sid>%s</Sid></TargetID>'
              '<SequenceNumber>0</SequenceNumber><TimeAtTarget>2026-10-04T'
              '15:21:00Z</TimeAtTarget><EventInstanceID>%s</EventInstanceID>'
              '<NamespaceID>1</NamespaceID><EventID>183</EventID><SourceID>'
              '101</SourceID><UpdateID><UpdateID>00000000-0000-0000-0000-'
              '000000000000</UpdateID><RevisionNumber>100</RevisionNumber>'
              '</UpdateID><Win32HResult>0</Win32HResult></BasicData>'
              '<ExtendedData><ReplacementStrings/><MiscData><string>%s'
              '</string></MiscData></ExtendedData><PrivateData/>'
              '</ReportingEvent>' % (cid, inst, escape(misc)))
        r = wc.Client(self.d).call('ReportEventBatch', wc.envelope(
            'ReportEventBatch', wc.REPORTING, wc.cookie_xml(cookie) +
            '<clientTime>2026-10-04T15:20:47Z</clientTime><eventBatch>%s'
            '</eventBatch>' % ev))
        if outcomes[DNS_NAMES[-1]] == 'stored':
            self.assertEqual(r.status, 200, r)
            stored = self.db('SELECT misc_data FROM client_event WHERE '
                             'event_instance_id = ?', (inst,))
            self.assertEqual(len(stored), 1)
            self.assertIn(misc, stored[0][0])
        # Nothing executed: same schema, rows kept, no attached file.
        self.assertEqual(self.schema(), schema)
        n = self.db('SELECT count(*) FROM computer')[0][0]
        self.assertEqual(n, 1 + list(outcomes.values()).count('stored'))
        self.assertEqual(self.p_db_anywhere(), [])
        self.assertEqual(self.db('PRAGMA integrity_check'), [('ok',)])
        sys.stderr.write('S22 outcomes: %r\n' % outcomes)
        sc.assert_alive(self, self.d)


if __name__ == '__main__':
    unittest.main(verbosity=2)
