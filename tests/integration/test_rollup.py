#!/usr/bin/env python3
"""MS-WSUSSS reporting rollup end to end (WSUSSS.md 9).

Two daemons: an upstream and a downstream that holds the upstream's
updates (wsusutil export/import, as a replica sync would leave them). A
computer registers with the downstream and reports status over real
MS-WUSP traffic (GetConfig, GetAuthorizationCookie, GetCookie,
RegisterComputer, ReportEventBatch). $ROLLUP_PROBE then runs the
downstream's rollup (src/sync/sync_rollup.c) against the upstream over
TLS, and the upstream's `wsusutil computers list` and `wsusutil report`
must show the computer, the downstream it reports through and its
per-update status. A second rollup sends no status again; a new report
is rolled up.

Faults: malformed rollup requests straight to the upstream (state 7, a
bad GUID, one item over a batch size, a peer claiming the upstream's own
ServerId, elements out of order) each get a SOAP fault, and the
upstream's rollup tables stay as they were."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
from harness import Wsusd  # noqa: E402

PROBE = os.environ.get('ROLLUP_PROBE') or os.path.join(
    harness.REPO, 'build', 'tests', 'integration', 'rollup_probe')
NS = 'http://www.microsoft.com/SoftwareDistribution'
COMPUTER = 'e1da06a3-5601-43c9-bac3-52d5db701494'  # scan/000004's
ZERO = '00000000-0000-0000-0000-000000000000'
DUMMY = ('<cookie><Expiration>9999-12-31T23:59:59.9999999</Expiration>'
         '<EncryptedData /></cookie>')


def meta(d, key):
    db = sqlite3.connect(d.path('wsusd.db'))
    try:
        row = db.execute('SELECT value FROM meta WHERE key = ?',
                         (key,)).fetchone()
        return row[0] if row else None
    finally:
        db.close()


def rollup_tables(d):
    """Everything the upstream keeps of rollups, for 'unchanged' checks."""
    db = sqlite3.connect(d.path('wsusd.db'))
    try:
        return [db.execute('SELECT * FROM %s ORDER BY 1, 2' % t).fetchall()
                for t in ('rollup_server', 'rollup_computer',
                          'rollup_status')]
    finally:
        db.close()


class Rollup(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # The roll-up operations take the ServerSync gate (SECURITY.md
        # S8); these tests are about the protocol, so the upstream admits
        # anonymous callers. RollupGate below checks the gate itself.
        cls.up = Wsusd(conf={'serversync_anonymous': 'yes'})
        cls.down = Wsusd()
        try:
            wc.publishing_cert(cls.up)
            cls.a = wc.publish(cls.up, 'RollA', product='Rollup Product',
                               member='a.txt', payload='a', cab='a.cab')
            cls.b = wc.publish(cls.up, 'RollB', product='Rollup Product',
                               member='b.txt', payload='b', cab='b.cab')
            cls.c = wc.publish(cls.up, 'RollC', product='Rollup Product',
                               member='c.txt', payload='c', cab='c.cab')
            pkg = os.path.join(cls.up.base, 'export.xml.gz')
            harness.run_wsusutil(cls.up.dir, 'export', pkg,
                                 pkg + '.log')
            harness.run_wsusutil(cls.down.dir, 'import', pkg,
                                 os.path.join(cls.down.base, 'import.log'))
            cls.up.start()
            cls.down.start()
        except Exception:
            cls.up.cleanup()
            cls.down.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        for d in (cls.up, cls.down):
            d.stop()
            d.cleanup()

    # -- helpers ---------------------------------------------------------

    def report_events(self, cookie, events):
        body = wc.envelope('ReportEventBatch', wc.REPORTING,
                           wc.cookie_xml(cookie) + '<clientTime>2026-10-04'
                           'T15:20:47Z</clientTime><eventBatch>%s'
                           '</eventBatch>' % ''.join(events))
        r = wc.Client(self.down).call('ReportEventBatch', body)
        self.assertEqual(r.status, 200, r.body)

    def event(self, eid, update, misc, inst, minute):
        return ('<ReportingEvent><BasicData><TargetID><Sid>%s</Sid>'
                '</TargetID><SequenceNumber>0</SequenceNumber>'
                '<TimeAtTarget>2026-10-04T15:%02d:00Z</TimeAtTarget>'
                '<EventInstanceID>%s</EventInstanceID><NamespaceID>1'
                '</NamespaceID><EventID>%d</EventID><SourceID>101</SourceID>'
                '<UpdateID><UpdateID>%s</UpdateID><RevisionNumber>100'
                '</RevisionNumber></UpdateID><Win32HResult>0</Win32HResult>'
                '</BasicData><ExtendedData><ReplacementStrings/><MiscData>'
                '%s</MiscData></ExtendedData><PrivateData/></ReportingEvent>'
                % (COMPUTER, minute, inst, eid, update,
                   ''.join('<string>%s</string>' % m for m in misc)))

    def probe(self, expect_rc=0):
        p = subprocess.run([PROBE, self.down.dir,
                            'https://localhost:%d' % self.up.https_port,
                            self.up.ca], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(p.returncode, expect_rc, p.stderr.decode())
        return json.loads(p.stdout)

    def post(self, op, inner):
        return wc.Client(self.up).post(
            wc.REPORT_PATH, '%s/%s' % (NS, op),
            wc.envelope(op, NS, inner))

    def upstream_report(self):
        out = json.loads(harness.run_wsusutil(
            self.up.dir, 'report', '--computer', COMPUTER,
            '--json').stdout)
        return {r['update_id']: r for r in out}

    # -- the tests (run in name order) -----------------------------------

    def test_1_configuration(self):
        r = self.post('GetRollupConfiguration', DUMMY)
        self.assertEqual(r.status, 200, r.body)
        body = r.body.decode()
        self.assertEqual(wc.text(r.body, 'ServerId'),
                         meta(self.up, 'server_id'))
        self.assertEqual(wc.text(r.body, 'DoDetailedRollup'), 'true')
        self.assertRegex(wc.text(r.body, 'RollupResetGuid'),
                         r'^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$')
        # Element order of RollupConfiguration (schema/ORDER.md).
        names = re.findall(r'<(\w+)>[^<]*</\1>', body)
        self.assertEqual(names, [
            'DoDetailedRollup', 'RollupResetGuid', 'ServerId',
            'RollupDownstreamServersMaxBatchSize',
            'RollupComputersMaxBatchSize',
            'GetOutOfSyncComputersMaxBatchSize',
            'RollupComputerStatusMaxBatchSize'])
        self.assertIn('<RollupComputersMaxBatchSize>1500<', body)
        # Stable: the same ids again.
        r2 = self.post('GetRollupConfiguration', '')
        self.assertEqual(wc.text(r2.body, 'RollupResetGuid'),
                         wc.text(r.body, 'RollupResetGuid'))

    def test_2_end_to_end(self):
        s = wc.Client(self.down).session(register=True)
        self.report_events(s.cookie, [self.event(
            156, ZERO, ['U=' + self.a.upper(), 'V=' + self.b],
            'bbbbbbbb-0000-0000-0000-000000000001', 21)])
        down = {r['update_id']: r['status'] for r in json.loads(
            harness.run_wsusutil(self.down.dir, 'report', '--json').stdout)}
        self.assertEqual(down[self.a], 'Needed')
        self.assertEqual(down[self.b], 'Installed')

        st = self.probe()
        self.assertTrue(st['full'])
        self.assertTrue(st['detailed'])
        self.assertEqual(st['servers'], 1)
        self.assertEqual(st['computers'], 1)
        self.assertEqual(st['details'], 1)
        self.assertEqual(st['status_computers'], 1)
        self.assertEqual(st['status_rows'], 2)

        down_id = meta(self.down, 'server_id')
        cs = json.loads(harness.run_wsusutil(self.up.dir, 'computers',
                                             'list', '--json').stdout)
        me = [c for c in cs if c['id'] == COMPUTER]
        self.assertEqual(len(me), 1, cs)
        self.assertEqual(me[0]['via_server_id'], down_id)
        self.assertNotEqual(me[0]['via'], '')
        self.assertEqual(me[0]['name'], 'REDACTED3')
        self.assertEqual((me[0]['installed'], me[0]['needed']), (1, 1))
        text = harness.run_wsusutil(self.up.dir, 'computers',
                                    'list').stdout.decode()
        self.assertIn('via: ', text)
        self.assertIn(COMPUTER, text)

        rep = self.upstream_report()
        self.assertEqual(rep[self.a]['status'], 'Needed')
        self.assertEqual(rep[self.b]['status'], 'Installed')
        # Reported, not named: NotApplicable.
        self.assertEqual(rep[self.c]['status'], 'NotApplicable')
        self.assertEqual(rep[self.a]['via_server_id'], down_id)

        # Nothing changed: the computer again, no details, no status.
        st = self.probe()
        self.assertFalse(st['full'])
        self.assertEqual(st['computers'], 1)
        self.assertEqual(st['details'], 0)
        self.assertEqual(st['status_computers'], 0)

        # The client installs A and fails C: rolled up on the next run.
        self.report_events(s.cookie, [
            self.event(183, self.a, [],
                       'bbbbbbbb-0000-0000-0000-000000000002', 22),
            self.event(182, self.c, [],
                       'bbbbbbbb-0000-0000-0000-000000000003', 23)])
        st = self.probe()
        self.assertEqual(st['status_computers'], 1)
        self.assertEqual(st['status_rows'], 3)
        rep = self.upstream_report()
        self.assertEqual(rep[self.a]['status'], 'Installed')
        self.assertEqual(rep[self.c]['status'], 'Failed')

        # The upstream loses its rollup data (its reset guid changes):
        # everything is sent again.
        db = sqlite3.connect(self.up.path('wsusd.db'))
        with db:
            db.execute("UPDATE meta SET value = "
                       "'12345678-1234-4234-8234-123456789abc' "
                       "WHERE key = 'rollup_reset_guid'")
        db.close()
        st = self.probe()
        self.assertTrue(st['full'])
        self.assertEqual((st['details'], st['status_computers']), (1, 1))

    def test_3_faults(self):
        before = rollup_tables(self.up)
        now = '2026-10-04T15:20:47Z'
        ds = ('<downstreamServers><DownstreamServerRollupInfo>'
              '<ServerId>%s</ServerId><LastSyncTime>%s</LastSyncTime>'
              '<ParentServerId>%s</ParentServerId><IsReplica>true'
              '</IsReplica><LastRollupTime>%s</LastRollupTime>'
              '</DownstreamServerRollupInfo></downstreamServers>')
        other = 'aaaaaaaa-1111-4111-8111-111111111111'
        status = ('<parentServerId>%s</parentServerId><computers>'
                  '<ComputerStatusRollupInfo><InstanceId>%s</InstanceId>'
                  '<ComputerId>%s</ComputerId><EffectiveLastDetectionTime>'
                  '%s</EffectiveLastDetectionTime><RollupNumber>99'
                  '</RollupNumber><IsFullRollup>true</IsFullRollup>'
                  '<UpdateStatus><ComputerStatusRollupUpdateStatus>'
                  '<UpdateId>%s</UpdateId><SummarizationState>%s'
                  '</SummarizationState><LastChangeTime>%s</LastChangeTime>'
                  '</ComputerStatusRollupUpdateStatus></UpdateStatus>'
                  '</ComputerStatusRollupInfo></computers>')
        comp = ('<computers><ComputerRollupInfo ComputerId="%s" '
                'LastSyncTime="%s" LastSyncResult="0" '
                'LastReportedRebootTime="%s" LastReportedStatusTime="%s" '
                'LastInventoryTime="%s" ParentServerId="%s" />'
                '</computers>')
        cases = [
            ('RollupComputerStatus', DUMMY + '<clientTime>%s</clientTime>'
             % now + status % (other, other, COMPUTER, now, self.a, '7',
                               now)),
            ('RollupComputerStatus', DUMMY + '<clientTime>%s</clientTime>'
             % now + status % (other, other, COMPUTER, now, self.a, '-1',
                               now)),
            ('RollupComputerStatus', DUMMY + '<clientTime>%s</clientTime>'
             % now + status % (other, other, COMPUTER, now, 'not-a-guid',
                               '4', now)),
            ('RollupComputerStatus', DUMMY + status % (
                other, other, COMPUTER, now, self.a, '4', now)),
            ('RollupComputers', DUMMY + '<clientTime>%s</clientTime>' % now
             + comp % ('zz' + COMPUTER[2:], now, now, now, now, other)),
            ('RollupComputers', DUMMY + '<clientTime>%s</clientTime>' % now
             + comp % (COMPUTER, now, now, now, now, ZERO)),
            ('RollupDownstreamServers', DUMMY + '<clientTime>%s'
             '</clientTime>' % now + ds % (meta(self.up, 'server_id'), now,
                                           ZERO, now)),
            ('RollupDownstreamServers', DUMMY + '<clientTime>%s'
             '</clientTime>' % now + ds % (other, 'yesterday', ZERO, now)),
            # Out of order: ParentServerId before ServerId.
            ('RollupDownstreamServers', DUMMY + '<clientTime>%s'
             '</clientTime><downstreamServers><DownstreamServerRollupInfo>'
             '<ParentServerId>%s</ParentServerId><ServerId>%s</ServerId>'
             '<LastSyncTime>%s</LastSyncTime><IsReplica>true</IsReplica>'
             '<LastRollupTime>%s</LastRollupTime>'
             '</DownstreamServerRollupInfo></downstreamServers>'
             % (now, ZERO, other, now, now)),
            ('GetOutOfSyncComputers', DUMMY + '<lastRollupNumbers>'
             '</lastRollupNumbers>'),
            ('GetOutOfSyncComputers', DUMMY + '<parentServerId>%s'
             '</parentServerId><lastRollupNumbers>%s</lastRollupNumbers>'
             % (other, '<ComputerLastRollupNumber><ComputerId>%s'
                '</ComputerId><RollupNumber>1</RollupNumber>'
                '</ComputerLastRollupNumber>' % COMPUTER * 20001)),
        ]
        # One over RollupComputerStatusMaxBatchSize (500).
        one = ('<ComputerStatusRollupInfo><InstanceId>%s</InstanceId>'
               '<ComputerId>%s</ComputerId><EffectiveLastDetectionTime>%s'
               '</EffectiveLastDetectionTime><RollupNumber>1</RollupNumber>'
               '<IsFullRollup>true</IsFullRollup>'
               '</ComputerStatusRollupInfo>' % (other, COMPUTER, now))
        cases.append(('RollupComputerStatus', DUMMY + '<clientTime>%s'
                      '</clientTime><parentServerId>%s</parentServerId>'
                      '<computers>%s</computers>' % (now, other, one * 501)))
        for op, inner in cases:
            with self.subTest(op=op, body=inner[:160]):
                r = self.post(op, inner)
                self.assertEqual(r.status, 500, r.body[:400])
                self.assertEqual(wc.text(r.body, 'ErrorCode'),
                                 'InvalidParameters')
        self.assertEqual(rollup_tables(self.up), before)
        # Still serving.
        self.assertEqual(self.post('GetRollupConfiguration', DUMMY).status,
                         200)

    def test_4_upstream_fault_stops_the_rollup(self):
        # A descendant the downstream knows claims the upstream's own
        # ServerId: the upstream faults RollupDownstreamServers and the
        # rollup stops with an error naming the operation.
        up_id = meta(self.up, 'server_id')
        db = sqlite3.connect(self.down.path('wsusd.db'))
        with db:
            db.execute("INSERT INTO rollup_server (server_id, "
                       "parent_server_id, is_replica, received) VALUES "
                       "(?, ?, 0, 'now')", (up_id, ZERO))
        db.close()
        try:
            before = rollup_tables(self.up)
            p = subprocess.run([PROBE, self.down.dir, 'https://localhost:%d'
                                % self.up.https_port, self.up.ca],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
            self.assertEqual(p.returncode, 1)
            self.assertIn('RollupDownstreamServers: the upstream answered '
                          'a SOAP fault', p.stderr.decode())
            self.assertEqual(rollup_tables(self.up), before)
        finally:
            db = sqlite3.connect(self.down.path('wsusd.db'))
            with db:
                db.execute('DELETE FROM rollup_server WHERE server_id = ?',
                           (up_id,))
            db.close()


class RollupGate(unittest.TestCase):
    """With the default configuration (anonymous ServerSync access off),
    the roll-up operations need an authenticated downstream like
    ServerSyncWebService: 401 with the Negotiate challenge, nothing
    stored; a roll-up body sent under another SOAPAction (which would
    skip the gate) is refused; client reporting stays anonymous."""

    @classmethod
    def setUpClass(cls):
        cls.up = Wsusd()
        try:
            cls.up.start()
        except Exception:
            cls.up.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.up.stop()
        cls.up.cleanup()

    def test_rollup_needs_authentication(self):
        before = rollup_tables(self.up)
        for op in ('GetRollupConfiguration', 'RollupDownstreamServers',
                   'RollupComputers', 'GetOutOfSyncComputers',
                   'RollupComputerStatus'):
            r = wc.Client(self.up).post(wc.REPORT_PATH, '%s/%s' % (NS, op),
                                        wc.envelope(op, NS, DUMMY))
            self.assertEqual(r.status, 401, (op, r.body))
            self.assertEqual(r.header('WWW-Authenticate'), 'Negotiate')
        self.assertEqual(rollup_tables(self.up), before)

    def test_rollup_body_under_other_action_refused(self):
        r = wc.Client(self.up).post(
            wc.REPORT_PATH, '%s/ReportEventBatch' % NS,
            wc.envelope('GetRollupConfiguration', NS, DUMMY))
        self.assertEqual(r.status, 500, r.body)
        self.assertEqual(wc.text(r.body, 'ErrorCode'), 'InvalidParameters')
        self.assertIn(b'SOAPAction must name the roll-up operation', r.body)
        self.assertIsNone(wc.text(r.body, 'ServerId'))


if __name__ == '__main__':
    unittest.main(verbosity=2)
