#!/usr/bin/env python3
"""MS-WUSP session start against the real daemon over TLS, replaying the
captured Windows 11 requests (vectors/native-capture-wsus-rs scan/000001
to 000004): GetConfig, GetAuthorizationCookie, GetCookie and
RegisterComputer. Each response must have the real server's shape: the
same elements in the same order and namespaces (values may differ).
Then the faults a client acts on: bad and foreign cookies, ConfigChanged,
unknown operations, malformed bodies."""

import base64
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
from harness import Wsusd  # noqa: E402
from wusp_client import capture, shape, text  # noqa: E402

CLIENT = wc.CLIENT
CLIENT_PATH = wc.CLIENT_PATH


class Session(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Wsusd()
        cls.d.start()
        # Posts the captured requests; getconfig() and authcookie()
        # check for a 200, getcookie() and register() do not.
        cls.c = wc.Client(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def session(self):
        """GetConfig, GetAuthorizationCookie, GetCookie (200 each), no
        RegisterComputer: (LastChange, cookie)."""
        s = self.c.session(register=False)
        return s.last_change, s.cookie

    def test_shapes_match_the_real_server(self):
        r = self.c.getconfig()
        self.assertEqual(shape(r.body),
                         shape(capture('scan', '000001', 'response.body')))
        self.assertEqual(r.header('Cache-Control'), 'private')
        self.assertTrue(r.body.startswith(b'<s:Envelope xmlns:s='))
        lc = text(r.body, 'LastChange')
        # LastChange is stable between calls.
        self.assertEqual(text(self.c.getconfig().body, 'LastChange'), lc)

        r = self.c.call('GetAuthorizationCookie', capture('scan', '000002'))
        self.assertEqual(r.status, 200)
        self.assertEqual(shape(r.body),
                         shape(capture('scan', '000002', 'response.body')))
        self.assertTrue(r.body.startswith(b'<?xml version="1.0" '
                                          b'encoding="utf-8"?><soap:'))
        self.assertEqual(r.header('Cache-Control'), 'private, max-age=0')
        auth = text(r.body, 'CookieData')
        real = text(capture('scan', '000002', 'response.body'),
                    'CookieData')
        self.assertEqual(len(auth), len(real))  # 664, as WSUS's

        r = self.c.getcookie(auth, lc)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(shape(r.body),
                         shape(capture('scan', '000003', 'response.body')))
        cookie = text(r.body, 'EncryptedData')
        self.assertEqual(len(cookie), len(text(
            capture('scan', '000003', 'response.body'), 'EncryptedData')))

        r = self.c.register(cookie)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(shape(r.body),
                         shape(capture('scan', '000004', 'response.body')))
        db = sqlite3.connect(self.d.path('wsusd.db'))
        rows = db.execute("SELECT computer_id, dns_name FROM computer "
                          "WHERE computer_id = "
                          "'e1da06a3-5601-43c9-bac3-52d5db701494'").fetchall()
        db.close()
        self.assertEqual(rows, [('e1da06a3-5601-43c9-bac3-52d5db701494',
                                 'REDACTED3')])
        # The hardware and OS the captured client reported.
        db = sqlite3.connect(self.d.path('wsusd.db'))
        det = db.execute("SELECT os_build, os_locale, manufacturer, model, "
                         "processor, client_version FROM computer WHERE "
                         "computer_id = 'e1da06a3-5601-43c9-bac3-"
                         "52d5db701494'").fetchone()
        db.close()
        self.assertEqual(det, (26200, 'en-US', 'QEMU',
                               'Standard PC (Q35 + ICH9, 2009)', 'AMD64',
                               '1507.2601.30012.0'))

    def test_cookie_faults(self):
        lc, cookie = self.session()
        # One bit flipped in the base64 text -> InvalidCookie.
        flipped = cookie[:10] + ('A' if cookie[10] != 'A' else 'B') + \
            cookie[11:]
        self.assertEqual(wc.fault_code(self.c.register(flipped)),
                         'InvalidCookie')
        self.assertEqual(wc.fault_code(self.c.register('AAAA')),
                         'InvalidCookie')
        # An authorization cookie is not a client cookie.
        self.assertEqual(wc.fault_code(self.c.register(self.c.authcookie())),
                         'InvalidCookie')
        # The captured (sanitised) cookie of the real server.
        real = text(capture('scan', '000004'), 'EncryptedData')
        self.assertEqual(wc.fault_code(self.c.register(real)),
                         'InvalidCookie')
        # GetCookie with a stale lastChange -> ConfigChanged.
        r = self.c.getcookie(self.c.authcookie(), '2020-01-01T00:00:00Z')
        self.assertEqual(wc.fault_code(r), 'ConfigChanged')
        # A bad authorization cookie -> InvalidAuthorizationCookie.
        r = self.c.getcookie('AAAA' + self.c.authcookie()[4:], lc)
        self.assertEqual(wc.fault_code(r), 'InvalidAuthorizationCookie')
        # Renewing with the old cookie works; a forged old one does not.
        r = self.c.getcookie(self.c.authcookie(), lc, old=cookie)
        self.assertEqual(r.status, 200, r.body)
        r = self.c.getcookie(self.c.authcookie(), lc, old=flipped)
        self.assertEqual(wc.fault_code(r), 'InvalidCookie')

    def test_cookie_from_another_server(self):
        other = Wsusd()
        self.addCleanup(other.cleanup)
        other.start()
        self.addCleanup(other.stop)
        lc, cookie = self.session()
        body = wc.with_cookie(capture('scan', '000004'), cookie)
        r = harness.request(other.https_port, 'POST', CLIENT_PATH, {
            'SOAPAction': '"%s/RegisterComputer"' % CLIENT}, body.encode(),
            tls=other.ctx())
        self.assertEqual(wc.fault_code(r), 'InvalidCookie')

    def test_bad_requests(self):
        # Unknown operation: the ASMX "did not recognize" fault.
        body = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
                b'envelope/"><s:Body><GetConfig2 xmlns="' +
                CLIENT.encode() + b'"/></s:Body></s:Envelope>')
        r = self.c.post(CLIENT_PATH, CLIENT + '/GetConfig2', body)
        self.assertEqual(r.status, 500)
        self.assertIn(b'did not recognize', r.body)
        # XXE and garbage: a fault, nothing read, daemon alive.
        xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
               b'"file:///etc/passwd">]><s:Envelope xmlns:s="http://'
               b'schemas.xmlsoap.org/soap/envelope/"><s:Body><GetConfig '
               b'xmlns="' + CLIENT.encode() + b'"><protocolVersion>&e;'
               b'</protocolVersion></GetConfig></s:Body></s:Envelope>')
        for b in (xxe, b'not xml at all', b''):
            r = self.c.call('GetConfig', b)
            self.assertEqual(r.status, 500, b)
            self.assertNotIn(b'root:', r.body)
        # Missing clientId -> InvalidParameters naming it.
        body = capture('scan', '000002').replace(
            b'<clientId>e1da06a3-5601-43c9-bac3-52d5db701494</clientId>', b'')
        r = self.c.call('GetAuthorizationCookie', body)
        self.assertEqual(wc.fault_code(r), 'InvalidParameters')
        self.assertEqual(self.c.getconfig().status, 200)

    def category_scan(self, groups):
        items = ''.join('<CategoryRelationship><IndexOfAndGroup>%d'
                        '</IndexOfAndGroup><CategoryId>%s</CategoryId>'
                        '</CategoryRelationship>' % (g, i) for g, i in groups)
        body = capture('scan', '000005').decode()
        body = re.sub(r'<requestedCategories>.*</requestedCategories>',
                      '<requestedCategories>%s</requestedCategories>' %
                      items, body)
        r = self.c.call('StartCategoryScan', body)
        self.assertEqual(r.status, 200, r.body)
        root = ET.fromstring(r.body)
        ids = lambda n: [e.text for e in root.iter() if
                         e.tag.endswith('}' + n) for e in e]
        return r, ids('preferredCategoryIds'), \
            ids('requestedCategoryIdsInError')

    def product(self):
        """Publishes update T (a CAB of a.txt) in product Scan Product;
        returns the product's id."""
        wc.publishing_cert(self.d)
        wc.publish(self.d, 'T', product='Scan Product', member='a.txt',
                   payload='x', cab='p.cab')
        return wc.categories(self.d)['Scan Product']

    def test_start_category_scan(self):
        unknown = 'dd78b8a1-0b20-45c1-add6-4da72e9364cf'
        updates = 'cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83'
        _, pref, err = self.category_scan([(0, unknown)])
        self.assertEqual((pref, err), ([], [unknown]))
        prod = self.product()
        # A known product: the real server's shape exactly.
        r, pref, err = self.category_scan([(0, prod)])
        self.assertEqual((pref, err), ([prod], []))
        self.assertEqual(shape(r.body),
                         shape(capture('scan', '000005', 'response.body')))
        # Product + classification in one group: the product only.
        _, pref, err = self.category_scan([(0, prod), (0, updates)])
        self.assertEqual((pref, err), ([prod], []))
        # An unknown id drops its group; other groups still count.
        _, pref, err = self.category_scan([(0, prod), (0, unknown),
                                           (1, prod)])
        self.assertEqual((pref, err), ([prod], [unknown]))
        # Any other shape empties the answer.
        _, pref, err = self.category_scan([(0, prod), (1, updates)])
        self.assertEqual((pref, err), ([], []))
        body = capture('scan', '000005').replace(
            b'<requestedCategories>', b'<x>').replace(
            b'</requestedCategories>', b'</x>')
        r = self.c.call('StartCategoryScan', body)
        self.assertEqual(wc.fault_code(r), 'InvalidParameters')

    def test_extended_info_and_file_locations(self):
        self.product()  # publishes one update with a CAB
        db = sqlite3.connect(self.d.path('wsusd.db'))
        (rid, sha1, name), = db.execute(
            "SELECT r.revision_id, f.sha1, f.file_name FROM revision r "
            "JOIN revision_file rf USING (revision_id) JOIN file f "
            "ON f.sha1 = rf.sha1 WHERE r.title = 'T' "
            "ORDER BY r.revision_id DESC LIMIT 1").fetchall()
        db.close()
        lc, cookie = self.session()
        body = wc.with_cookie(capture('flow', '000015'), cookie)
        body = re.sub(r'<revisionIDs>.*</revisionIDs>',
                      '<revisionIDs><int>%d</int><int>999999</int>'
                      '</revisionIDs>' % rid, body)
        r = self.c.call('GetExtendedUpdateInfo', body)
        self.assertEqual(r.status, 200, r.body)
        root = ET.fromstring(r.body)
        ups = [u for u in root.iter() if u.tag.endswith('}Update')]
        self.assertEqual(len(ups), 2)  # Extended, then LocalizedProperties
        xmls = [u.find('{*}Xml').text for u in ups]
        self.assertTrue(xmls[0].startswith('<ExtendedProperties'))
        self.assertTrue(xmls[1].startswith('<LocalizedProperties>'))
        # Same element shapes as the real server's, per Update and location.
        real = ET.fromstring(capture('flow', '000015', 'response.body'))
        rup = [u for u in real.iter() if u.tag.endswith('}Update')][0]
        self.assertEqual([c.tag for c in ups[0]], [c.tag for c in rup])
        locs = [e for e in root.iter() if e.tag.endswith('}FileLocation')]
        rloc = [e for e in real.iter() if e.tag.endswith('}FileLocation')][0]
        self.assertEqual(len(locs), 1)
        self.assertEqual([c.tag for c in locs[0]], [c.tag for c in rloc])
        digest = base64.b64decode(locs[0].find('{*}FileDigest').text)
        self.assertEqual(digest, sha1)
        url = locs[0].find('{*}Url').text
        hexd = sha1.hex().upper()
        self.assertEqual(url, 'http://localhost:%d/Content/%s/%s.cab' %
                         (self.d.http_port, hexd[-2:], hexd))
        out = [e.text for e in root.iter()
               if e.tag.endswith('}OutOfScopeRevisionIDs') for e in e]
        self.assertEqual(out, ['999999'])
        # The URL serves the file, and its SHA-1 is the announced digest.
        g = harness.request(self.d.http_port, 'GET',
                            url.split(str(self.d.http_port), 1)[1])
        self.assertEqual(g.status, 200)
        self.assertEqual(hashlib.sha1(g.body).digest(), digest)
        # More revision ids than MaxExtendedUpdatesPerRequest: refused.
        many = ''.join('<int>%d</int>' % i for i in range(1, 52))
        big = re.sub(r'<revisionIDs>.*</revisionIDs>',
                     '<revisionIDs>%s</revisionIDs>' % many, body)
        r = self.c.call('GetExtendedUpdateInfo', big)
        self.assertEqual(wc.fault_code(r), 'InvalidParameters')
        # GetFileLocations: known digest -> location; bad digest refused.
        def gfl(digests):
            items = ''.join('<base64Binary>%s</base64Binary>' % d
                            for d in digests)
            return self.c.call('GetFileLocations', wc.envelope(
                'GetFileLocations', CLIENT, wc.cookie_xml(cookie) +
                '<fileDigests>%s</fileDigests>' % items))
        r = gfl([base64.b64encode(sha1).decode(),
                 base64.b64encode(b'\x01' * 20).decode()])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([e.text for e in ET.fromstring(r.body).iter()
                          if e.tag.endswith('}Url')], [url])
        self.assertIsNotNone(text(r.body, 'EncryptedData'))
        self.assertEqual(wc.fault_code(gfl(['AAAA'])), 'InvalidParameters')

    def report(self, body):
        return self.c.call('ReportEventBatch', body)

    def events(self):
        return wc.stored_events(self.d)

    def test_report_event_batch(self):
        lc, cookie = self.session()
        raw = capture('flow', '000016').decode()
        body = wc.with_cookie(raw, cookie)
        n = body.count('<ReportingEvent>')
        before = self.events()
        r = self.report(body.encode())
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(shape(r.body),
                         shape(capture('flow', '000016', 'response.body')))
        self.assertEqual(text(r.body, 'ReportEventBatchResult'), 'true')
        self.assertEqual(self.events(), before + n)
        # A resend stores nothing twice.
        self.assertEqual(self.report(body.encode()).status, 200)
        self.assertEqual(self.events(), before + n)
        # The WSDL's other path answers too.
        r = self.c.post('/ReportingWebService/WebService.asmx',
                        wc.REPORTING + '/ReportEventBatch', body)
        self.assertEqual(r.status, 200)
        # S2: a SoapFormatter-shaped 200 KiB MiscData without a valid
        # cookie is refused before the batch is read; nothing stored.
        gadget = '<string>SynchronizationUpdateErrorsKey=' + \
            'A' * 200 * 1024 + '</string>'
        evil = re.sub(r'<MiscData>', '<MiscData>' + gadget, raw, count=1)
        evil = re.sub(r'<EventInstanceID>[^<]*', '<EventInstanceID>'
                      '11111111-2222-3333-4444-555555555555', evil, count=1)
        r = self.report(evil.encode())
        self.assertEqual(wc.fault_code(r), 'InvalidCookie')
        # With a valid cookie the oversized event is refused whole.
        evil = wc.with_cookie(evil, cookie)
        self.assertEqual(wc.fault_code(self.report(evil.encode())),
                         'InvalidParameters')
        # Another computer's TargetID with this cookie (S9).
        other = body.replace('e1da06a3-5601-43c9-bac3-52d5db701494',
                             '99999999-5601-43c9-bac3-52d5db701494')
        self.assertEqual(wc.fault_code(self.report(other.encode())),
                         'InvalidParameters')
        self.assertEqual(self.events(), before + n)
        self.assertEqual(self.c.getconfig().status, 200)

    def event(self, cookie, eid, update, misc, inst):
        return ('<ReportingEvent><BasicData><TargetID><Sid>e1da06a3-5601-'
                '43c9-bac3-52d5db701494</Sid></TargetID><SequenceNumber>0'
                '</SequenceNumber><TimeAtTarget>2026-10-04T15:2%d:00Z'
                '</TimeAtTarget><EventInstanceID>%s</EventInstanceID>'
                '<NamespaceID>1</NamespaceID><EventID>%d</EventID><SourceID>'
                '101</SourceID><UpdateID><UpdateID>%s</UpdateID>'
                '<RevisionNumber>100</RevisionNumber></UpdateID>'
                '<Win32HResult>0</Win32HResult></BasicData><ExtendedData>'
                '<ReplacementStrings/><MiscData>%s</MiscData></ExtendedData>'
                '<PrivateData/></ReportingEvent>' % (
                    int(inst[-1], 16) % 10, inst, eid, update,
                    ''.join('<string>%s</string>' % m for m in misc)))

    def test_status_report(self):
        self.product()
        ups = json.loads(harness.run_wsusutil(
            self.d.dir, 'updates', 'list', '--json').stdout)
        uid = [u['update_id'] for u in ups if u['title'] == 'T'][0]
        lc, cookie = self.session()

        def send(events):
            b = wc.envelope('ReportEventBatch', wc.REPORTING,
                            wc.cookie_xml(cookie) + '<clientTime>2026-10-04'
                            'T15:20:47Z</clientTime><eventBatch>%s'
                            '</eventBatch>' % ''.join(events))
            r = self.report(b)
            self.assertEqual(r.status, 200, r.body)

        def status():
            out = json.loads(harness.run_wsusutil(
                self.d.dir, 'report', '--computer', 'REDACTED3', '--update',
                uid, '--json').stdout)
            self.assertEqual(len(out), 1)
            return out[0]['status']

        zero = '00000000-0000-0000-0000-000000000000'
        send([self.event(cookie, 156, zero, ['U=' + uid.upper()],
                         'aaaaaaaa-0000-0000-0000-000000000001')])
        self.assertEqual(status(), 'Needed')
        send([self.event(cookie, 183, uid, [],
                         'aaaaaaaa-0000-0000-0000-000000000002')])
        self.assertEqual(status(), 'Installed')
        cs = json.loads(harness.run_wsusutil(
            self.d.dir, 'computers', 'list', '--json').stdout)
        me = [c for c in cs if c['name'] == 'REDACTED3'][0]
        self.assertGreaterEqual(me['installed'], 1)
        self.assertNotEqual(me['last_sync'], '')
        p = harness.run_wsusutil(self.d.dir, 'report', '--computer',
                                 'nobody', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('unknown computer', p.stderr.decode())

    def test_cookie_key_rotation(self):
        lc, cookie = self.session()

        def rotate():
            p = harness.run_wsusutil(self.d.dir, 'cookiekey', 'rotate')
            self.assertIn('rotated', p.stdout.decode())
            self.d.reload()
            time.sleep(0.5)  # the reload is asynchronous
        rotate()
        # One rotation: the old key still opens cookies (overlap window).
        self.assertEqual(self.c.register(cookie).status, 200)
        rotate()
        # Two: issued under a rotated-out key -> InvalidCookie.
        self.assertEqual(wc.fault_code(self.c.register(cookie)),
                         'InvalidCookie')
        lc, fresh = self.session()
        self.assertEqual(self.c.register(fresh).status, 200)

    def test_not_over_plain_http(self):
        r = harness.request(self.d.http_port, 'POST', CLIENT_PATH,
                            {'SOAPAction': '"%s/GetConfig"' % CLIENT},
                            capture('scan', '000001'))
        self.assertEqual(r.status, 403)


if __name__ == '__main__':
    unittest.main(verbosity=2)
