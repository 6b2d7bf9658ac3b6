#!/usr/bin/env python3
"""SECURITY.md S9: cookie forgery and report spoofing against the daemon.

- 64 single-bit flips spread over a real client cookie (decoded bytes,
  re-encoded) -> InvalidCookie every time, on RegisterComputer and
  SyncUpdates; the same for the authorization cookie on GetCookie
  (InvalidAuthorizationCookie);
- every invalid cause (bit flip, truncation, wrong kind, another
  server's cookie, garbage) gives the identical fault text;
- A's cookie with B's TargetID in ReportEventBatch -> fault, B's stored
  events unchanged; with A's own TargetID the same batch is stored
  (control);
- cookie_lifetime = 2: a cookie used 3 s after GetCookie -> CookieExpired
  (the client then asks for a new one), and a fresh one works;
- after `wsusutil computers delete` (or cleanup of inactive computers)
  the computer's cookies -> InvalidCookie with the forged-cookie text, its
  events gone; it registers again under a new cookie while the old one
  stays refused; a name two computers share is refused, not guessed;
- a flood of RegisterComputer for made-up computers from one address ->
  ServerBusy once its budget (registration_burst, refilled at
  registrations_per_minute) is spent, the computer table bounded; known
  computers still register; the budget comes back with time.
"""

import base64
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common as sc  # noqa: E402
from sec_common import harness, wc  # noqa: E402

A = 'e1da06a3-5601-43c9-bac3-52d5db701494'  # scan/000002-4's client
B = '0b0b0b0b-5601-43c9-bac3-52d5db701494'


def flips(b64, n=64):
    raw = base64.b64decode(b64)
    bits = len(raw) * 8
    for i in range(n):
        pos = (i * bits) // n + (i % 8)
        b = bytearray(raw)
        b[pos // 8] ^= 1 << (pos % 8)
        yield base64.b64encode(bytes(b)).decode()


class CookieForgery(harness.DaemonTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = wc.Client(cls.d)
        cls.lc = wc.text(cls.c.getconfig().body, 'LastChange')
        cls.a_cookie = cls.session_for(A, 'host-a')
        cls.b_cookie = cls.session_for(B, 'host-b')

    @classmethod
    def session_for(cls, client_id, dns):
        body = wc.capture('scan', '000002').replace(A.encode(),
                                                    client_id.encode())
        r = cls.c.call('GetAuthorizationCookie', body)
        assert r.status == 200, r
        r = cls.c.getcookie(wc.text(r.body, 'CookieData'), cls.lc)
        assert r.status == 200, r
        cookie = wc.text(r.body, 'EncryptedData')
        reg = wc.with_cookie(wc.capture('scan', '000004'), cookie)
        reg = reg.replace('<DnsName>REDACTED3</DnsName>',
                          '<DnsName>%s</DnsName>' % dns)
        r = cls.c.call('RegisterComputer', reg)
        assert r.status == 200, r
        return cookie

    def fault(self, r):
        self.assertEqual(r.status, 500, r)
        f = sc.fault_of(r.body)
        self.assertIsNotNone(f[0], r)
        return f

    def test_bit_flips_client_cookie(self):
        self.assertEqual(self.c.register(self.a_cookie).status, 200)
        seen = set()
        for i, forged in enumerate(flips(self.a_cookie)):
            self.assertNotEqual(forged, self.a_cookie)
            f = self.fault(self.c.register(forged))
            self.assertEqual(f[0], 'InvalidCookie', i)
            seen.add(f)
            if i % 8 == 0:
                r = self.c.call('SyncUpdates', wc.sync_body(forged))
                self.assertEqual(self.fault(r)[0], 'InvalidCookie', i)
        self.assertEqual(len(seen), 1, seen)
        sc.assert_alive(self, self.d)

    def test_bit_flips_authorization_cookie(self):
        r = self.c.call('GetAuthorizationCookie', wc.capture('scan',
                                                             '000002'))
        auth = wc.text(r.body, 'CookieData')
        self.assertEqual(self.c.getcookie(auth, self.lc).status, 200)
        for i, forged in enumerate(flips(auth)):
            f = self.fault(self.c.getcookie(forged, self.lc))
            self.assertEqual(f[0], 'InvalidAuthorizationCookie', i)

    def test_identical_text_for_every_invalid_cause(self):
        other = harness.Wsusd()
        self.addCleanup(other.cleanup)
        other.start()
        self.addCleanup(other.stop)
        foreign = wc.Client(other).session(register=False).cookie
        auth = self.c.authcookie()
        raw = base64.b64decode(self.a_cookie)
        causes = {
            'flip': next(flips(self.a_cookie)),
            'truncated': base64.b64encode(raw[:-1]).decode(),
            'extended': base64.b64encode(raw + b'\0').decode(),
            'authorization cookie': auth,
            'other server': foreign,
            'garbage': 'A' * len(self.a_cookie),
            'not base64': '!' * 12,
        }
        answers = {}
        for why, ck in causes.items():
            answers[why] = self.fault(self.c.register(ck))
        self.assertEqual(set(answers.values()),
                         {answers['flip']}, answers)
        self.assertEqual(answers['flip'][0], 'InvalidCookie')

    def events_of(self, cid):
        import sqlite3
        db = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            return db.execute('SELECT count(*) FROM client_event WHERE '
                              'lower(computer_id) = ?', (cid,)).fetchone()[0]
        finally:
            db.close()

    def batch(self, cookie, target, inst):
        ev = ('<ReportingEvent><BasicData><TargetID><Sid>%s</Sid>'
              '</TargetID><SequenceNumber>0</SequenceNumber><TimeAtTarget>'
              '2026-10-04T15:21:00Z</TimeAtTarget><EventInstanceID>%s'
              '</EventInstanceID><NamespaceID>1</NamespaceID><EventID>183'
              '</EventID><SourceID>101</SourceID><UpdateID><UpdateID>'
              '00000000-0000-0000-0000-000000000000</UpdateID>'
              '<RevisionNumber>100</RevisionNumber></UpdateID>'
              '<Win32HResult>0</Win32HResult></BasicData><ExtendedData>'
              '<ReplacementStrings/><MiscData/></ExtendedData>'
              '<PrivateData/></ReportingEvent>' % (target, inst))
        return self.c.call('ReportEventBatch', wc.envelope(
            'ReportEventBatch', wc.REPORTING, wc.cookie_xml(cookie) +
            '<clientTime>2026-10-04T15:20:47Z</clientTime><eventBatch>%s'
            '</eventBatch>' % ev))

    def test_a_cookie_b_target(self):
        a0, b0 = self.events_of(A), self.events_of(B)
        r = self.batch(self.a_cookie, B,
                       'cccccccc-0000-0000-0000-000000000001')
        self.fault(r)
        self.assertEqual((self.events_of(A), self.events_of(B)), (a0, b0))
        # Control: A's cookie with A's own TargetID is stored.
        r = self.batch(self.a_cookie, A,
                       'cccccccc-0000-0000-0000-000000000002')
        self.assertEqual(r.status, 200, r)
        self.assertEqual((self.events_of(A), self.events_of(B)),
                         (a0 + 1, b0))
        sc.assert_alive(self, self.d)


class CookieLifetime(harness.DaemonTestCase):

    CONF = {'cookie_lifetime': '2'}

    def test_expired_cookie(self):
        import time
        c = wc.Client(self.d)
        s = c.session()
        r = c.call('SyncUpdates', wc.sync_body(s.cookie))
        self.assertEqual(r.status, 200, r)
        time.sleep(3.2)
        r = c.call('SyncUpdates', wc.sync_body(s.cookie))
        self.assertEqual(r.status, 500, r)
        self.assertEqual(sc.fault_of(r.body)[0], 'CookieExpired', r)
        fresh = c.session()
        r = c.call('SyncUpdates', wc.sync_body(fresh.cookie))
        self.assertEqual(r.status, 200, r)


class DeletedComputer(harness.DaemonTestCase):

    def setUp(self):
        self.c = wc.Client(self.d)
        self.lc = wc.text(self.c.getconfig().body, 'LastChange')

    def auth_for(self, client_id):
        body = wc.capture('scan', '000002').replace(A.encode(),
                                                    client_id.encode())
        r = self.c.call('GetAuthorizationCookie', body)
        self.assertEqual(r.status, 200, r)
        return wc.text(r.body, 'CookieData')

    def register(self, client_id, dns, old=None):
        r = self.c.getcookie(self.auth_for(client_id), self.lc, old)
        self.assertEqual(r.status, 200, r)
        cookie = wc.text(r.body, 'EncryptedData')
        reg = wc.with_cookie(wc.capture('scan', '000004'), cookie)
        reg = reg.replace('<DnsName>REDACTED3</DnsName>',
                          '<DnsName>%s</DnsName>' % dns)
        r = self.c.call('RegisterComputer', reg)
        self.assertEqual(r.status, 200, r)
        return cookie

    def computers(self):
        import json
        p = harness.run_wsusutil(self.d.dir, 'computers', 'list', '--json')
        return {c['id']: c['name'] for c in json.loads(p.stdout)}

    def events_of(self, cid):
        return CookieForgery.events_of(self, cid)

    def batch(self, cookie, target, inst):
        return CookieForgery.batch(self, cookie, target, inst)

    def code(self, r):
        self.assertEqual(r.status, 500, r)
        return sc.fault_of(r.body)

    def test_deleted_computer_cookie(self):
        import time
        cid = 'dddddddd-5601-43c9-bac3-52d5db701494'
        cookie = self.register(cid, 'host-d')
        sync = lambda ck: self.c.call('SyncUpdates', wc.sync_body(ck))
        self.assertEqual(sync(cookie).status, 200)
        self.assertEqual(self.batch(cookie, cid, 'dddddddd-0000-0000-0000-'
                                    '000000000001').status, 200)
        self.assertEqual(self.events_of(cid), 1)
        forged = self.code(sync(next(flips(cookie))))

        p = harness.run_wsusutil(self.d.dir, 'computers', 'delete', 'HOST-D')
        self.assertIn(cid, p.stdout.decode())
        self.assertNotIn(cid, self.computers())
        self.assertEqual(self.events_of(cid), 0)
        # Every operation refuses it, with a forged cookie's very text.
        self.assertEqual(self.code(sync(cookie)), forged)
        self.assertEqual(self.code(self.c.register(cookie)), forged)
        self.assertEqual(self.code(self.batch(
            cookie, cid, 'dddddddd-0000-0000-0000-000000000002')), forged)
        self.assertEqual(self.events_of(cid), 0)

        # The client starts over (a second later: a cookie issued in the
        # second of the deletion is refused too) and is a computer again.
        time.sleep(1.1)
        r = self.c.getcookie(self.auth_for(cid), self.lc, old=cookie)
        self.assertEqual(r.status, 200, r)
        fresh = wc.text(r.body, 'EncryptedData')
        self.assertEqual(self.code(sync(fresh))[0], 'RegistrationRequired')
        self.assertEqual(self.c.register(fresh).status, 200)
        self.assertEqual(sync(fresh).status, 200)
        self.assertIn(cid, self.computers())
        # Registering again does not bring the old cookie back.
        self.assertEqual(self.code(sync(cookie)), forged)
        sc.assert_alive(self, self.d)

    def test_cleanup_revokes(self):
        import sqlite3
        import time
        cid = 'eeeeeeee-5601-43c9-bac3-52d5db701494'
        cookie = self.register(cid, 'host-e')
        db = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            db.execute("UPDATE computer SET last_sync = "
                       "'2020-01-01T00:00:00Z' WHERE computer_id = ?", (cid,))
            db.commit()
        finally:
            db.close()
        harness.run_wsusutil(self.d.dir, 'cleanup', '--computers-inactive',
                             '30')
        self.assertNotIn(cid, self.computers())
        r = self.c.call('SyncUpdates', wc.sync_body(cookie))
        self.assertEqual(self.code(r)[0], 'InvalidCookie')
        # A computer that never was deleted is untouched.
        time.sleep(1.1)
        other = self.register('ffffffff-5601-43c9-bac3-52d5db701494',
                              'host-f')
        r = self.c.call('SyncUpdates', wc.sync_body(other))
        self.assertEqual(r.status, 200, r)

    def test_refusals(self):
        one = self.register('abababab-5601-43c9-bac3-52d5db701494', 'twin')
        two = self.register('cdcdcdcd-5601-43c9-bac3-52d5db701494', 'twin')
        p = harness.run_wsusutil(self.d.dir, 'computers', 'delete', 'twin',
                                 check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('several computers have that name', p.stderr.decode())
        p = harness.run_wsusutil(self.d.dir, 'computers', 'delete',
                                 'no-such-host', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('no-such-host: unknown computer', p.stderr.decode())
        p = harness.run_wsusutil(self.d.dir, 'computers', 'delete',
                                 check=False)
        self.assertEqual(p.returncode, 2)
        # Nothing was deleted or revoked.
        for ck in (one, two):
            r = self.c.call('SyncUpdates', wc.sync_body(ck))
            self.assertEqual(r.status, 200, r)
        # By ID, the one named goes and the other stays.
        harness.run_wsusutil(self.d.dir, 'computers', 'delete',
                             'ABABABAB-5601-43C9-BAC3-52D5DB701494')
        self.assertEqual(self.code(self.c.call(
            'SyncUpdates', wc.sync_body(one)))[0], 'InvalidCookie')
        self.assertEqual(self.c.call('SyncUpdates',
                                     wc.sync_body(two)).status, 200)


class RegistrationFlood(harness.DaemonTestCase):

    CONF = {'registration_burst': '20', 'registrations_per_minute': '60'}

    def count(self):
        import sqlite3
        db = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            return db.execute('SELECT count(*) FROM computer').fetchone()[0]
        finally:
            db.close()

    def new_computer(self, c, lc, i):
        cid = '%08x-0000-4000-8000-00000000f100' % i
        body = wc.capture('scan', '000002').replace(A.encode(), cid.encode())
        r = c.call('GetAuthorizationCookie', body)
        self.assertEqual(r.status, 200, r)
        r = c.getcookie(wc.text(r.body, 'CookieData'), lc)
        self.assertEqual(r.status, 200, r)
        cookie = wc.text(r.body, 'EncryptedData')
        return cookie, c.register(cookie)

    def test_flood_is_throttled(self):
        import time
        c = wc.Client(self.d)
        lc = wc.text(c.getconfig().body, 'LastChange')
        before = self.count()
        ok, busy, first = 0, 0, None
        t0 = time.monotonic()
        # 200 made-up computers, as fast as one client goes (bounded: at
        # most 60 s).
        for i in range(200):
            if time.monotonic() - t0 > 60:
                break
            cookie, r = self.new_computer(c, lc, i)
            if r.status == 200:
                ok += 1
                first = first or cookie
                continue
            self.assertEqual(r.status, 500, r)
            self.assertEqual(sc.fault_of(r.body)[0], 'ServerBusy', r)
            busy += 1
        elapsed = time.monotonic() - t0
        self.assertGreater(busy, 0)
        # The burst, plus one a second of refill, plus one for rounding.
        self.assertGreaterEqual(ok, 20)
        self.assertLessEqual(ok, 20 + int(elapsed) + 1)
        self.assertEqual(self.count(), before + ok)
        # A computer already registered still registers (its details).
        self.assertEqual(c.register(first).status, 200)
        # And the budget comes back: one a second.
        time.sleep(2.2)
        cookie, r = self.new_computer(c, lc, 1000)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.count(), before + ok + 1)
        sc.assert_alive(self, self.d)


class RegistrationUnlimited(harness.DaemonTestCase):

    CONF = {'registrations_per_minute': '0', 'registration_burst': '1'}

    def test_zero_turns_it_off(self):
        c = wc.Client(self.d)
        lc = wc.text(c.getconfig().body, 'LastChange')
        for i in range(10):
            cookie, r = RegistrationFlood.new_computer(self, c, lc, i)
            self.assertEqual(r.status, 200, r)


if __name__ == '__main__':
    unittest.main(verbosity=2)
