#!/usr/bin/env python3
"""Content-Encoding: xpress on SOAP answers (WUSP.md 1.2, OBSERVED.md 5).

The real daemon over TLS answers a request that lists xpress in
Accept-Encoding with an Xpress body, Content-Encoding: xpress and Vary:
Accept-Encoding, and every other request with the identity body (and Vary
too, as IIS does). Bodies are decoded with xpress_ref.py, a decoder written
from MS-XCA 2.4.4 independently of src/common/xpress.c, and must equal the
identity answer to the same request. GetConfig, a multi-block SyncUpdates
page (30 published and approved updates) and a SOAP fault are checked.

Requests that are themselves Content-Encoded must be refused with 415
without their body being parsed (the client never compresses requests);
see test_compressed_request_refused."""

import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
import xpress_ref  # noqa: E402
from wusp_client import text  # noqa: E402

BLOCK = 16352  # uncompressed bytes per block (IIS, and wsusd)


def capture(n):
    """The request of scan/N."""
    return wc.capture('scan', n)


def mask_cookies(xml):
    """Fresh cookies are sealed with a fresh nonce on every call."""
    return re.sub(rb'<EncryptedData>[^<]*</EncryptedData>',
                  b'<EncryptedData/>', xml)


class Xpress(harness.DaemonTestCase):

    def post(self, action, body, headers=()):
        """ACTION to its service with Content-Type, SOAPAction, HEADERS."""
        return wc.Client(self.d).call(action, body, headers)

    def assertIdentity(self, r):
        self.assertIsNone(r.header('Content-Encoding'), r)
        self.assertEqual(r.header('Vary'), 'Accept-Encoding', r)
        self.assertEqual(int(r.header('Content-Length')), len(r.body))
        ET.fromstring(r.body)  # plain XML
        return r.body

    def assertXpress(self, r):
        """Checks the framing and returns the decoded body."""
        self.assertEqual(r.header_all('Content-Encoding'), ['xpress'], r)
        self.assertEqual(r.header('Vary'), 'Accept-Encoding', r)
        self.assertEqual(int(r.header('Content-Length')), len(r.body))
        self.assertIsNone(r.header('Transfer-Encoding'))
        blocks = xpress_ref.blocks(r.body)
        self.assertEqual(sum(c + 8 for _, c in blocks), len(r.body))
        for i, (orig, comp) in enumerate(blocks):
            self.assertLessEqual(comp, orig)
            if i < len(blocks) - 1:
                self.assertEqual(orig, BLOCK)
        dec = xpress_ref.decode_body(r.body)
        self.assertEqual(sum(o for o, _ in blocks), len(dec))
        # XML compresses: LZ77 blocks, not stored ones, were decoded.
        self.assertLess(len(r.body), len(dec))
        self.assertTrue(all(c < o for o, c in blocks), blocks)
        return dec

    # -- GetConfig: a deterministic answer, compared byte for byte -----

    def test_getconfig(self):
        body = capture('000001')
        plain = self.assertIdentity(self.post('GetConfig', body))
        r = self.post('GetConfig', body, [('Accept-Encoding', 'xpress')])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.assertXpress(r), plain)
        # The native request's headers, in order (OBSERVED.md 2).
        r = self.post('GetConfig', body, [
            ('Cache-Control', 'no-cache'), ('Pragma', 'no-cache'),
            ('Accept-Encoding', 'xpress'),
            ('User-Agent', 'Windows-Update-Agent/1507.2601.30012.0 '
             'Client-Protocol/2.90')])
        self.assertEqual(self.assertXpress(r), plain)

    def test_accept_encoding_variants(self):
        body = capture('000001')
        plain = self.assertIdentity(self.post('GetConfig', body))
        xpress = [
            [('Accept-Encoding', 'XPRESS')],
            [('Accept-Encoding', 'gzip, deflate, xpress')],
            [('Accept-Encoding', 'xpress;q=0.5')],
            [('Accept-Encoding', 'gzip ,  xpress ; q=1.000 ')],
            [('Accept-Encoding', 'xpress;q=0.001')],
            [('Accept-Encoding', 'gzip'), ('Accept-Encoding', 'xpress')],
        ]
        identity = [
            [],
            [('Accept-Encoding', 'gzip, deflate')],
            [('Accept-Encoding', 'gzip, deflate, br')],
            [('Accept-Encoding', 'identity')],
            [('Accept-Encoding', '*')],  # only the explicit token counts
            [('Accept-Encoding', '')],
            [('Accept-Encoding', 'xpress;q=0')],
            [('Accept-Encoding', 'xpress; q=0.000, gzip')],
            [('Accept-Encoding', 'xpress;q=0.0, xpress')],
            [('Accept-Encoding', 'xpress;q=2')],  # malformed: not accepted
            [('Accept-Encoding', 'xpress;q=')],
            [('Accept-Encoding', 'xpress;Q = 0')],
            [('Accept-Encoding', 'xpresss, xpres, x-xpress')],
            [('Accept-Encoding', 'xpress'), ('Accept-Encoding',
                                             'xpress;q=0')],
        ]
        for h in xpress:
            with self.subTest(headers=h):
                r = self.post('GetConfig', body, h)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(self.assertXpress(r), plain)
        for h in identity:
            with self.subTest(headers=h):
                r = self.post('GetConfig', body, h)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(self.assertIdentity(r), plain)

    # -- a fault is compressed like any answer -------------------------

    def test_fault(self):
        bad = b'not xml at all'
        plain = self.post('GetConfig', bad)
        self.assertEqual(plain.status, 500)
        self.assertIdentity(plain)
        r = self.post('GetConfig', bad, [('Accept-Encoding', 'xpress')])
        self.assertEqual(r.status, 500)
        dec = self.assertXpress(r)
        self.assertEqual(dec, plain.body)
        self.assertIsNotNone(ET.fromstring(dec).find('.//{*}Fault'))
        # SimpleAuth (ASMX style) fault: missing clientId.
        body = capture('000002').replace(
            b'<clientId>e1da06a3-5601-43c9-bac3-52d5db701494</clientId>',
            b'')
        r = self.post('GetAuthorizationCookie', body,
                      [('Accept-Encoding', 'xpress')])
        self.assertEqual(r.status, 500)
        self.assertEqual(text(self.assertXpress(r), 'ErrorCode'),
                         'InvalidParameters')

    # -- a session and a multi-block SyncUpdates page ------------------

    def session(self, ae):
        """GetConfig .. RegisterComputer with headers AE, all answers
        200 and compressed (each checked by assertXpress)."""
        return wc.Client(self.d, ae, read=self.assertXpress).session().cookie

    def test_sync_updates(self):
        if shutil.which('gcab') is None:
            self.skipTest('gcab not installed')
        wc.publishing_cert(self.d)
        for i in range(30):
            wc.publish(self.d, 'Xpress%02d' % i, product='Xpress Product',
                       approve_for='All Computers')
        ae = [('Accept-Encoding', 'xpress')]
        cookie = self.session(ae)
        installed, other, sizes = [], [], []
        for _ in range(10):  # the client's loop, bounded
            body = wc.sync_body(cookie, installed, other)
            plain = self.post('SyncUpdates', body)
            self.assertEqual(plain.status, 200, plain)
            r = self.post('SyncUpdates', body, ae)
            self.assertEqual(r.status, 200, r)
            dec = self.assertXpress(r)
            self.assertEqual(mask_cookies(dec),
                             mask_cookies(self.assertIdentity(plain)))
            sizes.append((len(dec), len(r.body)))
            root = ET.fromstring(dec)
            cookie = root.find('.//{*}NewCookie/{*}EncryptedData').text
            infos = root.findall('.//{*}NewUpdates/{*}UpdateInfo')
            if not infos:
                break
            for i in infos:
                rid = int(i.find('{*}ID').text)
                if i.find('{*}IsLeaf').text == 'false':
                    installed.append(rid)
                else:
                    other.append(rid)
        else:
            self.fail('no empty page in 10 calls')
        # The page of 30 leaves spans more than one block.
        self.assertGreater(max(s for s, _ in sizes), BLOCK, sizes)

    # -- requests with a Content-Encoding are refused ------------------

    def test_identity_request_encoding_accepted(self):
        r = self.post('GetConfig', capture('000001'),
                      [('Content-Encoding', 'identity')])
        self.assertEqual(r.status, 200, r)

    # WUSP.md 1.2: a Content-Encoding the server cannot decode is
    # refused (415) before the body is read, never parsed as garbage.
    def test_compressed_request_refused(self):
        body = capture('000001')
        from_xpress = bytes(8) + body  # not even valid Xpress
        for enc, data in (('xpress', from_xpress), ('gzip', body),
                          ('deflate', body), ('x-unknown', body)):
            r = self.post('GetConfig', data, [
                ('Content-Encoding', enc), ('Accept-Encoding', 'xpress')])
            self.assertEqual(r.status, 415, '%s: %r' % (enc, r))
            self.assertNotIn(b'GetConfigResponse', r.body)
        self.assertEqual(self.post('GetConfig', body).status, 200)


if __name__ == '__main__':
    harness.main()
