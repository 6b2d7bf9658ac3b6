#!/usr/bin/env python3
"""The remaining MS-WUSP operations against the real daemon over TLS:
RefreshCache, GetExtendedUpdateInfo2, SyncPrinterCatalog,
ReportEventBatch2, GetRequiredInventoryType and ReportInventory. Each
answer must have the element order of the WSDL (schema/ORDER.md); each
cookie-taking operation refuses a bad cookie; caps answer
InvalidParameters. The session start is wusp_client's, as in
test_wusp_session (without RegisterComputer)."""

import os
import sys
import sqlite3
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wusp_client as wc  # noqa: E402
from harness import Wsusd  # noqa: E402
from wusp_client import cookie_xml, envelope, fault_code  # noqa: E402

CLIENT = wc.CLIENT
SD = wc.REPORTING
CLIENT_PATH = wc.CLIENT_PATH
REPORT_PATH = wc.REPORT_PATH
UNKNOWN = 'dd78b8a1-0b20-45c1-add6-4da72e9364cf'


def identities(ids):
    return ''.join('<UpdateIdentity><UpdateID>%s</UpdateID><RevisionNumber>'
                   '%d</RevisionNumber></UpdateIdentity>' % i for i in ids)


def local(tag):
    return tag.rsplit('}', 1)[-1]


def children(e):
    return [local(c.tag) for c in e]


def response(body, name):
    """The operation's response element, checked to be the only one."""
    root = ET.fromstring(body)
    bodies = [e for e in root if local(e.tag) == 'Body']
    assert len(bodies) == 1, body
    ops = list(bodies[0])
    assert len(ops) == 1 and local(ops[0].tag) == name, body
    return ops[0]


class More(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Wsusd()
        cls.d.start()
        cls.c = wc.Client(cls.d)
        cls.published = None

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def session(self):
        """A cookie from GetConfig, GetAuthorizationCookie and GetCookie
        (200 each), without RegisterComputer."""
        return self.c.session(register=False).cookie

    def publish(self, title, *extra):
        """A CAB of a.txt holding TITLE, in More Product."""
        return wc.publish(self.d, title, *extra, product='More Product',
                          member='a.txt', cab='p.cab')

    def catalog(self):
        """A (base) and B (with A as prerequisite), published once:
        {title: (update_id, revision_number, revision_id)}."""
        if More.published is None:
            wc.publishing_cert(self.d)
            a = self.publish('MoreA')
            self.publish('MoreB', '--prerequisite', a)
            db = sqlite3.connect(self.d.path('wsusd.db'))
            try:
                rows = db.execute(
                    "SELECT r.title, u.update_id, r.revision_number, "
                    "r.revision_id FROM revision r JOIN update_ u USING "
                    "(update_pk) WHERE r.title IN ('MoreA', 'MoreB') AND "
                    "r.is_latest = 1").fetchall()
            finally:
                db.close()
            More.published = {t: (u, n, i) for t, u, n, i in rows}
        self.assertEqual(sorted(More.published), ['MoreA', 'MoreB'])
        return More.published

    def client(self, op, inner):
        return self.c.post(CLIENT_PATH, CLIENT + '/' + op,
                           envelope(op, CLIENT, inner))

    def reporting(self, op, inner):
        return self.c.post(REPORT_PATH, SD + '/' + op,
                           envelope(op, SD, inner))

    def refresh(self, cookie, ids):
        return self.client('RefreshCache', cookie_xml(cookie) +
                           '<globalIDs>%s</globalIDs>' % identities(ids))

    # -- RefreshCache ---------------------------------------------------

    def test_refresh_cache(self):
        cat = self.catalog()
        cookie = self.session()
        a, b = cat['MoreA'], cat['MoreB']
        r = self.refresh(cookie, [(b[0].upper(), b[1]), (a[0], a[1]),
                                  (UNKNOWN, 1), (a[0], a[1] + 7)])
        self.assertEqual(r.status, 200, r.body)
        resp = response(r.body, 'RefreshCacheResponse')
        self.assertEqual(resp.tag, '{%s}RefreshCacheResponse' % CLIENT)
        self.assertEqual(children(resp), ['RefreshCacheResult'])
        got = {}
        for res in resp[0]:
            self.assertEqual(local(res.tag), 'RefreshCacheResult')
            self.assertEqual(children(res),
                             ['RevisionID', 'GlobalID', 'IsLeaf'])
            gid = res.find('{*}GlobalID')
            self.assertEqual(children(gid), ['UpdateID', 'RevisionNumber'])
            key = (gid.find('{*}UpdateID').text,
                   int(gid.find('{*}RevisionNumber').text))
            got[key] = (int(res.find('{*}RevisionID').text),
                        res.find('{*}IsLeaf').text)
        # Known identities mapped (any case in, lower case out); A is B's
        # prerequisite so not a leaf; unknown ones and unknown revisions
        # of a known update are left out.
        self.assertEqual(got, {(a[0], a[1]): (a[2], 'false'),
                               (b[0], b[1]): (b[2], 'true')})

    def test_refresh_cache_empty_and_cap(self):
        cookie = self.session()
        r = self.refresh(cookie, [(UNKNOWN, 1)])
        self.assertEqual(r.status, 200, r.body)
        resp = response(r.body, 'RefreshCacheResponse')
        self.assertEqual(children(resp), ['RefreshCacheResult'])
        self.assertEqual(children(resp[0]), [])
        # 10,000 identities pass the count, 10,001 do not (counted
        # before any is read, so empty items keep the body small; the
        # empty items are then refused as malformed, not as too many).
        many = lambda n: self.client(
            'RefreshCache', cookie_xml(cookie) + '<globalIDs>%s</globalIDs>'
            % ('<UpdateIdentity/>' * n))
        r = many(10000)
        self.assertEqual(fault_code(r), 'InvalidParameters')
        self.assertNotIn(b'too many', r.body)
        r = many(10001)
        self.assertEqual(fault_code(r), 'InvalidParameters')
        self.assertIn(b'too many', r.body)
        # Many real identities, none known. (Kept at ~125 KB: larger TLS
        # bodies can stall in the HTTP layer, reported separately.)
        r = self.refresh(cookie, [(UNKNOWN, i) for i in range(1000)])
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(children(response(
            r.body, 'RefreshCacheResponse')[0]), [])

    # -- GetExtendedUpdateInfo2 -----------------------------------------

    def extinfo2(self, cookie, ids, types=('Extended',
                                           'LocalizedProperties')):
        return self.client(
            'GetExtendedUpdateInfo2', cookie_xml(cookie) +
            '<updateIDs>%s</updateIDs><infoTypes>%s</infoTypes>'
            '<locales><string>en-US</string><string>en</string></locales>'
            % (identities(ids), ''.join(
                '<XmlUpdateFragmentType>%s</XmlUpdateFragmentType>' % t
                for t in types)))

    def test_extended_update_info2(self):
        cat = self.catalog()
        cookie = self.session()
        b = cat['MoreB']
        r = self.extinfo2(cookie, [(b[0], b[1]), (UNKNOWN, 3)])
        self.assertEqual(r.status, 200, r.body)
        resp = response(r.body, 'GetExtendedUpdateInfo2Response')
        self.assertEqual(children(resp), ['GetExtendedUpdateInfo2Result'])
        res = resp[0]
        # WSDL order; no OutOfScopeRevisionIDs in ExtendedUpdateInfo2 and
        # no decryption data.
        self.assertEqual(children(res), ['Updates', 'FileLocations'])
        ups = list(res[0])
        self.assertEqual(len(ups), 2)  # Extended, then LocalizedProperties
        for u in ups:
            self.assertEqual(children(u), ['ID', 'Xml'])
            self.assertEqual(int(u.find('{*}ID').text), b[2])
        self.assertTrue(ups[0].find('{*}Xml').text.startswith(
            '<ExtendedProperties'))
        self.assertTrue(ups[1].find('{*}Xml').text.startswith(
            '<LocalizedProperties>'))
        locs = list(res[1])
        self.assertEqual(len(locs), 1)
        self.assertEqual(children(locs[0]), ['FileDigest', 'Url'])
        # The same fragments as GetExtendedUpdateInfo for its RevisionID.
        r1 = self.client(
            'GetExtendedUpdateInfo', cookie_xml(cookie) +
            '<revisionIDs><int>%d</int></revisionIDs><infoTypes>'
            '<XmlUpdateFragmentType>Extended</XmlUpdateFragmentType>'
            '<XmlUpdateFragmentType>LocalizedProperties'
            '</XmlUpdateFragmentType></infoTypes><locales><string>en'
            '</string></locales>' % b[2])
        self.assertEqual(r1.status, 200, r1.body)
        self.assertEqual([e.text for e in ET.fromstring(r1.body).iter()
                          if local(e.tag) == 'Xml'],
                         [u.find('{*}Xml').text for u in ups])
        # Only unknown identities: an empty result.
        r = self.extinfo2(cookie, [(UNKNOWN, 3)])
        self.assertEqual(r.status, 200, r.body)
        resp = response(r.body, 'GetExtendedUpdateInfo2Response')
        self.assertEqual(children(resp[0]), [])
        # Over MaxExtendedUpdatesPerRequest (50): refused.
        r = self.extinfo2(cookie, [(UNKNOWN, i) for i in range(51)])
        self.assertEqual(fault_code(r), 'InvalidParameters')
        r = self.extinfo2(cookie, [(UNKNOWN, i) for i in range(50)])
        self.assertEqual(r.status, 200, r.body)
        # Missing infoTypes: refused.
        r = self.extinfo2(cookie, [(b[0], b[1])], types=())
        self.assertEqual(fault_code(r), 'InvalidParameters')

    # -- SyncPrinterCatalog ---------------------------------------------

    def test_sync_printer_catalog(self):
        cookie = self.session()
        r = self.client('SyncPrinterCatalog', cookie_xml(cookie) +
                        '<installedNonLeafUpdateIDs><int>1</int>'
                        '</installedNonLeafUpdateIDs><printerUpdateIDs/>')
        self.assertEqual(r.status, 200, r.body)
        resp = response(r.body, 'SyncPrinterCatalogResponse')
        self.assertEqual(resp.tag, '{%s}SyncPrinterCatalogResponse' % CLIENT)
        self.assertEqual(children(resp), ['SyncPrinterCatalogResult'])
        res = resp[0]
        self.assertEqual(children(res), ['Truncated', 'NewCookie'])
        self.assertEqual(res[0].text, 'false')
        self.assertEqual(children(res[1]), ['Expiration', 'EncryptedData'])
        # The new cookie is a working cookie.
        newc = res[1][1].text
        r = self.client('SyncPrinterCatalog', cookie_xml(newc))
        self.assertEqual(r.status, 200, r.body)

    # -- Reporting ------------------------------------------------------

    def test_required_inventory_type(self):
        cookie = self.session()
        r = self.reporting('GetRequiredInventoryType', cookie_xml(cookie) +
                           '<rulesId>%s</rulesId><rulesVersion>1'
                           '</rulesVersion>' % UNKNOWN)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.body.startswith(b'<?xml version="1.0" '
                                          b'encoding="utf-8"?><soap:'))
        resp = response(r.body, 'GetRequiredInventoryTypeResponse')
        self.assertEqual(resp.tag, '{%s}GetRequiredInventoryTypeResponse'
                         % SD)
        self.assertEqual(children(resp), ['GetRequiredInventoryTypeResult'])
        self.assertEqual(resp[0].text, '0')
        # rulesId is required.
        r = self.reporting('GetRequiredInventoryType', cookie_xml(cookie))
        self.assertEqual(fault_code(r), 'InvalidParameters')

    def test_report_inventory(self):
        cookie = self.session()
        r = self.reporting('ReportInventory', cookie_xml(cookie) +
                           '<clientTime>2026-10-04T15:20:47Z</clientTime>'
                           '<inventory><IsCompressed>false</IsCompressed>'
                           '<RawXml>&lt;x/&gt;</RawXml></inventory>')
        self.assertEqual(r.status, 200, r.body)
        resp = response(r.body, 'ReportInventoryResponse')
        self.assertEqual(resp.tag, '{%s}ReportInventoryResponse' % SD)
        self.assertEqual(children(resp), ['ReportInventoryResult'])
        self.assertEqual(resp[0].text, 'true')

    def events(self):
        return wc.stored_events(self.d)

    def test_report_event_batch2(self):
        ev = ('<ReportingEvent><BasicData><TargetID><Sid>e1da06a3-5601-'
              '43c9-bac3-52d5db701494</Sid></TargetID><SequenceNumber>0'
              '</SequenceNumber><TimeAtTarget>2026-10-04T15:20:00Z'
              '</TimeAtTarget><EventInstanceID>%s</EventInstanceID>'
              '<NamespaceID>1</NamespaceID><EventID>147</EventID><SourceID>'
              '101</SourceID><UpdateID><UpdateID>%s</UpdateID>'
              '<RevisionNumber>0</RevisionNumber></UpdateID><Win32HResult>0'
              '</Win32HResult></BasicData><PrivateData/></ReportingEvent>'
              % ('11111111-2222-3333-4444-555555555555', UNKNOWN))
        before = self.events()
        r = self.reporting('ReportEventBatch2',
                           '<computerId>e1da06a3-5601-43c9-bac3-52d5db701494'
                           '</computerId><clientTime>2026-10-04T15:20:47Z'
                           '</clientTime><eventBatch>%s</eventBatch>' % ev)
        self.assertEqual(r.status, 200, r.body)
        resp = response(r.body, 'ReportEventBatch2Response')
        self.assertEqual(resp.tag, '{%s}ReportEventBatch2Response' % SD)
        self.assertEqual(children(resp), ['ReportEventBatch2Result'])
        self.assertEqual(resp[0].text, 'true')
        # Unauthenticated: accepted but nothing stored (SECURITY.md S9).
        self.assertEqual(self.events(), before)
        # Over the event cap, or without clientTime: refused.
        r = self.reporting('ReportEventBatch2',
                           '<clientTime>2026-10-04T15:20:47Z</clientTime>'
                           '<eventBatch>%s</eventBatch>' %
                           ('<ReportingEvent/>' * 1001))
        self.assertEqual(fault_code(r), 'InvalidParameters')
        r = self.reporting('ReportEventBatch2', '<eventBatch/>')
        self.assertEqual(fault_code(r), 'InvalidParameters')

    # -- Cookies --------------------------------------------------------

    def test_bad_cookies(self):
        cookie = self.session()
        flipped = cookie[:10] + ('A' if cookie[10] != 'A' else 'B') + \
            cookie[11:]
        calls = [
            lambda c: self.refresh(c, [(UNKNOWN, 1)]),
            lambda c: self.extinfo2(c, [(UNKNOWN, 1)]),
            lambda c: self.client('SyncPrinterCatalog', cookie_xml(c)),
            lambda c: self.reporting(
                'GetRequiredInventoryType', cookie_xml(c) +
                '<rulesId>%s</rulesId>' % UNKNOWN),
            lambda c: self.reporting(
                'ReportInventory', cookie_xml(c) +
                '<clientTime>2026-10-04T15:20:47Z</clientTime>'),
        ]
        for i, call in enumerate(calls):
            with self.subTest(op=i):
                self.assertEqual(call(cookie).status, 200)
                self.assertEqual(fault_code(call(flipped)),
                                 'InvalidCookie')
                self.assertEqual(fault_code(call('AAAA')),
                                 'InvalidCookie')
        # No cookie element at all.
        r = self.client('RefreshCache', '<globalIDs/>')
        self.assertEqual(fault_code(r), 'InvalidCookie')
        # Unknown operations still answer as before.
        r = self.client('RefreshCache2', cookie_xml(cookie))
        self.assertEqual(r.status, 500)
        self.assertIn(b'did not recognize', r.body)


if __name__ == '__main__':
    unittest.main(verbosity=2)
