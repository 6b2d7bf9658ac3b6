#!/usr/bin/env python3
"""MS-WSUSSS upstream, the authorization handshake (issue #7;
WSUSSS.md 5.1-5.3, 7.1): GetAuthConfig (ServerSync) ->
GetAuthorizationCookie (DssAuthWebService) -> GetCookie (ServerSync), as a
Windows WSUS downstream sends them, over TLS to the real daemon.

ServerSyncWebService needs Kerberos by default; the daemon here runs with
`serversync_anonymous = yes` so no KDC is needed (the gate itself is
test_serversync_auth.py's). One more daemon with the default proves
DssAuthWebService stays anonymous while ServerSync answers 401.

Checked: element order (schema/ORDER.md) and namespaces of the three
answers (DssAuth's own namespace for PlugInId/CookieData in its answer,
SoftwareDistribution in GetCookie's request), Cookie Expiration <= now +
240 min, the ASMX fault shape (soap:Client, detail ErrorCode, Message, ID,
Method), the faults (bad accountName -> InvalidParameters naming
machineName, bad GUID, wrong PlugInId, tampered CookieData ->
InvalidAuthorizationCookie, protocolVersion 2.0 ->
IncompatibleProtocolVersion, 'x' -> InvalidParameters), MS-WUSP client
cookies refused where DSS cookies belong and the reverse, unknown
operations. ServerSyncData: the sync operations (5.5-5.11) over a catalog
made with wsusutil publish/approve/decline: anchors, filters, documents,
digests, deployments and dead deployments, every fault, and each answer
validated against the ServerSync WSDL's types when lxml is there
(/usr/bin/python3 on Debian).
"""

import base64
import calendar
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SD = 'http://www.microsoft.com/SoftwareDistribution'
DSS = 'http://www.microsoft.com/SoftwareDistribution/Server/DssAuthWebService'
CLIENT = 'http://www.microsoft.com/SoftwareDistribution/Server/' \
         'ClientWebService'
SIMPLE = 'http://www.microsoft.com/SoftwareDistribution/Server/' \
         'SimpleAuthWebService'
ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
SS_PATH = '/ServerSyncWebService/ServerSyncWebService.asmx'
DSS_PATH = '/DssAuthWebService/DssAuthWebService.asmx'
CLIENT_PATH = '/ClientWebService/client.asmx'
SIMPLE_PATH = '/SimpleAuthWebService/SimpleAuth.asmx'
DSS_GUID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301'
COOKIE_MINUTES = 240


def envelope(op, ns, inner):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<soap:Envelope xmlns:soap="%s" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
            '<soap:Body><%s xmlns="%s">%s</%s></soap:Body></soap:Envelope>'
            % (ENV, op, ns, inner, op)).encode()


def auth_body(name='ds1.corp.example', guid=DSS_GUID, keys=''):
    inner = ''
    if name is not None:
        inner += '<accountName>%s</accountName>' % name
    if guid is not None:
        inner += '<accountGuid>%s</accountGuid>' % guid
    inner += keys
    return envelope('GetAuthorizationCookie', DSS, inner)


def auth_cookie_xml(data, plugin='DssTargeting'):
    return ('<AuthorizationCookie><PlugInId>%s</PlugInId><CookieData>%s'
            '</CookieData></AuthorizationCookie>' % (plugin, data))


def getcookie_body(data, plugin='DssTargeting', version='1.20', old=None,
                   cookies=None):
    """GetCookie as a Windows DSS writes it: the DssAuth values copied
    into SoftwareDistribution-namespaced elements."""
    inner = '<authCookies>%s</authCookies>' % (
        cookies if cookies is not None else auth_cookie_xml(data, plugin))
    if old is not None:
        inner += ('<oldCookie><Expiration>2026-01-01T00:00:00Z</Expiration>'
                  '<EncryptedData>%s</EncryptedData></oldCookie>' % old)
    if version is not None:
        inner += '<protocolVersion>%s</protocolVersion>' % version
    return envelope('GetCookie', SD, inner)


def tags(xml):
    """[(depth, {ns}tag)] of XML in document order."""
    out = []

    def walk(e, depth):
        out.append((depth, e.tag))
        for c in e:
            walk(c, depth + 1)
    walk(ET.fromstring(xml), 0)
    return out


def parse_dt(s):
    """xs:dateTime as wsusd writes it (UTC, 'Z') -> Unix seconds."""
    m = re.fullmatch(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,7})?Z', s)
    if m is None:
        raise AssertionError('not a UTC xs:dateTime: %r' % s)
    return calendar.timegm(time.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S'))


def flip(b64):
    """B64 with one byte of its ciphertext changed, still canonical."""
    raw = bytearray(base64.b64decode(b64))
    raw[40] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


class _Base(harness.DaemonTestCase):
    CONF = {'serversync_anonymous': 'yes'}

    def post(self, path, ns, op, body):
        """A Windows DSS lists xpress; wsusd answers the WSUSSS roots
        uncompressed (ok() checks), so the MS-WUSP calls here do not ask
        for it."""
        h = [('Content-Type', 'text/xml; charset=utf-8'),
             ('SOAPAction', '"%s/%s"' % (ns, op))]
        if path in (SS_PATH, DSS_PATH):
            h.append(('Accept-Encoding', 'xpress'))
        return self.d.https('POST', path, headers=h, body=body)

    def ok(self, r):
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.header('Content-Type'),
                         'text/xml; charset=utf-8')
        self.assertIsNone(r.header('Content-Encoding'))
        return r.body

    def fault(self, r, code, message=None, op=None, ns=SD):
        """R is the ASMX fault CODE (Message MESSAGE if given)."""
        self.assertEqual(r.status, 500, r.body)
        root = ET.fromstring(r.body)
        f = root.find('{%s}Body/{%s}Fault' % (ENV, ENV))
        self.assertIsNotNone(f, r.body)
        want_fc = 'soap:Server' if code == 'InternalServerError' \
            else 'soap:Client'
        self.assertEqual(f.findtext('faultcode'), want_fc, r.body)
        self.assertEqual(f.findtext('faultstring'), 'Fault occurred')
        det = f.find('detail')
        self.assertEqual([c.tag for c in det],
                         ['ErrorCode', 'Message', 'ID', 'Method'], r.body)
        self.assertEqual(det.findtext('ErrorCode'), code, r.body)
        if message is not None:
            self.assertEqual(det.findtext('Message'), message, r.body)
        self.assertRegex(det.findtext('ID'), r'^[0-9a-f]{8}-[0-9a-f]{4}-'
                         r'[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
        if op is not None:
            self.assertEqual(det.findtext('Method'), '"%s/%s"' % (ns, op))

    # the three steps
    def auth(self, **kw):
        r = self.post(DSS_PATH, DSS, 'GetAuthorizationCookie',
                      auth_body(**kw))
        x = ET.fromstring(self.ok(r))
        return x.findtext('.//{%s}CookieData' % DSS)

    def getcookie(self, data, **kw):
        return self.post(SS_PATH, SD, 'GetCookie', getcookie_body(data, **kw))


class Handshake(_Base):
    def test_get_auth_config(self):
        r = self.post(SS_PATH, SD, 'GetAuthConfig',
                      envelope('GetAuthConfig', SD, ''))
        body = self.ok(r)
        self.assertTrue(body.startswith(b'<?xml version="1.0" '
                                        b'encoding="utf-8"?>'), body)
        self.assertEqual(tags(body), [
            (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
            (2, '{%s}GetAuthConfigResponse' % SD),
            (3, '{%s}GetAuthConfigResult' % SD),
            (4, '{%s}LastChange' % SD), (4, '{%s}AuthInfo' % SD),
            (5, '{%s}AuthPlugInInfo' % SD), (6, '{%s}PlugInID' % SD),
            (6, '{%s}ServiceUrl' % SD)])
        x = ET.fromstring(body)
        self.assertEqual(x.findtext('.//{%s}PlugInID' % SD), 'DssTargeting')
        self.assertEqual(x.findtext('.//{%s}ServiceUrl' % SD),
                         'DssAuthWebService/DssAuthWebService.asmx')
        lc = parse_dt(x.findtext('.//{%s}LastChange' % SD))
        self.assertLessEqual(lc, time.time() + 5)
        # Stable between calls (the database's creation time).
        r2 = self.post(SS_PATH, SD, 'GetAuthConfig',
                       envelope('GetAuthConfig', SD, ''))
        self.assertEqual(self.ok(r2), body)

    def test_get_authorization_cookie(self):
        for path in (DSS_PATH, '/' + DSS_PATH,
                     DSS_PATH.lower()):
            r = self.post(path, DSS, 'GetAuthorizationCookie', auth_body())
            body = self.ok(r)
            self.assertEqual(tags(body), [
                (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
                (2, '{%s}GetAuthorizationCookieResponse' % DSS),
                (3, '{%s}GetAuthorizationCookieResult' % DSS),
                (4, '{%s}PlugInId' % DSS), (4, '{%s}CookieData' % DSS)],
                path)
            x = ET.fromstring(body)
            self.assertEqual(x.findtext('.//{%s}PlugInId' % DSS),
                             'DssTargeting')
            data = x.findtext('.//{%s}CookieData' % DSS)
            self.assertRegex(data, r'^[A-Za-z0-9+/]{662}==$')
        # programKeys (reserved) is read and ignored; MU-style names too.
        keys = '<programKeys><guid>%s</guid></programKeys>' % DSS_GUID
        self.assertTrue(self.auth(keys=keys))
        zero = '00000000-0000-0000-0000-000000000000'
        self.assertTrue(self.auth(name=zero, guid=zero))
        self.assertTrue(self.auth(name='DS1', guid=DSS_GUID.upper()))

    def test_get_cookie(self):
        data = self.auth()
        before = time.time()
        r = self.getcookie(data)
        body = self.ok(r)
        after = time.time()
        self.assertEqual(tags(body), [
            (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
            (2, '{%s}GetCookieResponse' % SD),
            (3, '{%s}GetCookieResult' % SD),
            (4, '{%s}Expiration' % SD), (4, '{%s}EncryptedData' % SD)])
        x = ET.fromstring(body)
        exp = parse_dt(x.findtext('.//{%s}Expiration' % SD))
        self.assertLessEqual(exp, after + COOKIE_MINUTES * 60)
        self.assertGreaterEqual(exp, int(before) + COOKIE_MINUTES * 60 - 1)
        enc = x.findtext('.//{%s}EncryptedData' % SD)
        self.assertRegex(enc, r'^[A-Za-z0-9+/]{299}=$')
        # Renewal with the old cookie, and protocol versions 1.n.
        for v in ('1.1', '1.3', '1.8', '1.20', '1.7'):
            r = self.getcookie(data, old=enc, version=v)
            self.ok(r)
        # The DssAuth namespace in GetCookie's request is not where the
        # SoftwareDistribution schema puts them: not found.
        wrong = ('<AuthorizationCookie><PlugInId xmlns="%s">DssTargeting'
                 '</PlugInId><CookieData xmlns="%s">%s</CookieData>'
                 '</AuthorizationCookie>' % (DSS, DSS, data))
        self.fault(self.getcookie(None, cookies=wrong),
                   'InvalidAuthorizationCookie')

    def test_bad_account_name(self):
        for name in ('', 'bad name', 'ds1_corp.example', '-ds1.example',
                     'ds1..example', 'ds1.example.', 'a' * 64 + '.example',
                     ('abcdefgh.' * 30)[:260], 'ds1.ex&amp;ample',
                     'd\u00e9s1.example', '<x/>'):
            with self.subTest(name=name):
                r = self.post(DSS_PATH, DSS, 'GetAuthorizationCookie',
                              auth_body(name=name))
                self.fault(r, 'InvalidParameters', 'machineName',
                           'GetAuthorizationCookie', DSS)
        self.fault(self.post(DSS_PATH, DSS, 'GetAuthorizationCookie',
                             auth_body(name=None)),
                   'InvalidParameters', 'machineName')

    def test_bad_account_guid(self):
        for guid in (None, '', 'x', DSS_GUID[:-1], DSS_GUID + '0',
                     '{%s}' % DSS_GUID, DSS_GUID.replace('-', ''),
                     DSS_GUID.replace('3f', 'zz')):
            with self.subTest(guid=guid):
                self.fault(self.post(DSS_PATH, DSS, 'GetAuthorizationCookie',
                                     auth_body(guid=guid)),
                           'InvalidParameters', 'accountGuid')

    def test_program_keys_bounded(self):
        keys = '<programKeys>%s</programKeys>' % (
            '<guid>%s</guid>' % DSS_GUID * 65)
        self.fault(self.post(DSS_PATH, DSS, 'GetAuthorizationCookie',
                             auth_body(keys=keys)),
                   'InvalidParameters', 'programKeys')

    def test_get_cookie_auth_faults(self):
        data = self.auth()
        self.ok(self.getcookie(data))  # the control
        cases = {
            'plugin': dict(data=data, plugin='SimpleTargeting'),
            'plugin-empty': dict(data=data, plugin=''),
            'tampered': dict(data=flip(data)),
            'truncated': dict(data=data[:-4]),
            'garbage': dict(data='AAAA'),
            'empty': dict(data=''),
        }
        for what, kw in cases.items():
            with self.subTest(what=what):
                d = kw.pop('data')
                self.fault(self.getcookie(d, **kw),
                           'InvalidAuthorizationCookie', None, 'GetCookie')
        for what, cookies in (
                ('none', ''),
                ('two', auth_cookie_xml(data) * 2)):
            with self.subTest(what=what):
                self.fault(self.getcookie(None, cookies=cookies),
                           'InvalidParameters', 'authCookies')
        body = envelope('GetCookie', SD, '<protocolVersion>1.20'
                        '</protocolVersion>')
        self.fault(self.post(SS_PATH, SD, 'GetCookie', body),
                   'InvalidParameters', 'authCookies')

    def test_protocol_version(self):
        data = self.auth()
        for v in ('2.0', '0.9', '3.20'):
            with self.subTest(v=v):
                self.fault(self.getcookie(data, version=v),
                           'IncompatibleProtocolVersion', 'protocolVersion',
                           'GetCookie')
        for v in ('x', '', '1', '1.', '.1', '1.2.3', ' 1.20', '1.20 ',
                  '-1.0', '1.x', '99999999.1', None):
            with self.subTest(v=v):
                self.fault(self.getcookie(data, version=v),
                           'InvalidParameters', 'protocolVersion',
                           'GetCookie')

    def test_old_cookie(self):
        data = self.auth()
        enc = ET.fromstring(self.ok(self.getcookie(data))).findtext(
            './/{%s}EncryptedData' % SD)
        self.ok(self.getcookie(data, old=enc))
        self.ok(self.getcookie(data, old=''))  # none, as on first contact
        for bad in (flip(enc), 'AAAA', data):
            self.fault(self.getcookie(data, old=bad), 'InvalidCookie')

    def test_client_cookies_not_dss_cookies(self):
        """MS-WUSP client cookies are refused where DSS cookies belong,
        and DSS cookies where client cookies belong (cookie kinds)."""
        # An MS-WUSP client's session start.
        r = self.post(CLIENT_PATH, CLIENT, 'GetConfig',
                      envelope('GetConfig', CLIENT, '<protocolVersion>1.20'
                               '</protocolVersion>'))
        last_change = ET.fromstring(self.ok(r)).findtext(
            './/{%s}LastChange' % CLIENT)
        r = self.post(SIMPLE_PATH, SIMPLE, 'GetAuthorizationCookie',
                      envelope('GetAuthorizationCookie', SIMPLE,
                               '<clientId>%s</clientId><targetGroupName/>'
                               '<dnsName>pc1.corp.example</dnsName>'
                               % DSS_GUID))
        client_auth = ET.fromstring(self.ok(r)).findtext(
            './/{%s}CookieData' % SIMPLE)

        def client_getcookie(auth):
            inner = ('<authCookies><AuthorizationCookie><PlugInId>'
                     'SimpleTargeting</PlugInId><CookieData>%s</CookieData>'
                     '</AuthorizationCookie></authCookies>'
                     '<lastChange>%s</lastChange><currentTime>%s'
                     '</currentTime><protocolVersion>1.20</protocolVersion>'
                     % (auth, last_change, last_change))
            return self.post(CLIENT_PATH, CLIENT, 'GetCookie',
                             envelope('GetCookie', CLIENT, inner))

        r = client_getcookie(client_auth)  # the client-side control
        client_cookie = ET.fromstring(self.ok(r)).findtext(
            './/{%s}EncryptedData' % CLIENT)
        dss_auth = self.auth()
        dss_cookie = ET.fromstring(self.ok(self.getcookie(dss_auth))).findtext(
            './/{%s}EncryptedData' % SD)
        # Same lengths, other kinds.
        self.assertEqual(len(client_auth), len(dss_auth))
        self.assertEqual(len(client_cookie), len(dss_cookie))

        # Client authorization cookie -> ServerSync GetCookie.
        self.fault(self.getcookie(client_auth),
                   'InvalidAuthorizationCookie')
        # Client cookie as the old DSS cookie.
        self.fault(self.getcookie(dss_auth, old=client_cookie),
                   'InvalidCookie')
        # DSS authorization cookie -> ClientWebService GetCookie.
        r = client_getcookie(dss_auth)  # a WCF-style fault there
        self.assertEqual(r.status, 500, r.body)
        self.assertIn(b'<ErrorCode>InvalidAuthorizationCookie</ErrorCode>',
                      r.body)

        # DSS cookie as a client's cookie (RegisterComputer reads the
        # cookie first; the control with the client cookie gets past it
        # to the missing computerInfo).
        def register(cookie):
            inner = ('<cookie><Expiration>2026-10-04T16:03:35Z</Expiration>'
                     '<EncryptedData>%s</EncryptedData></cookie>' % cookie)
            return self.post(CLIENT_PATH, CLIENT, 'RegisterComputer',
                             envelope('RegisterComputer', CLIENT, inner))
        r = register(client_cookie)
        self.assertEqual(r.status, 500, r.body)
        self.assertIn(b'<ErrorCode>InvalidParameters</ErrorCode>', r.body)
        r = register(dss_cookie)
        self.assertIn(b'<ErrorCode>InvalidCookie</ErrorCode>', r.body)

    def test_unknown_and_pending_operations(self):
        # Unknown: ASMX's protocol fault, no ErrorCode.
        for path, ns, op in ((SS_PATH, SD, 'GetNothing'),
                             (DSS_PATH, DSS, 'GetNothing'),
                             (SS_PATH, DSS, 'GetAuthorizationCookie'),
                             (DSS_PATH, SD, 'GetCookie')):
            with self.subTest(path=path, op=op):
                r = self.post(path, ns, op, envelope(op, ns, ''))
                self.assertEqual(r.status, 500, r.body)
                self.assertIn(b'Server did not recognize the value of HTTP '
                              b'Header SOAPAction: "%s/%s".'
                              % (ns.encode(), op.encode()), r.body)
                self.assertNotIn(b'ErrorCode', r.body)
        # Every operation of the WSDL is served now: without a cookie,
        # the application fault, not "not implemented".
        r = self.post(SS_PATH, SD, 'GetRelatedRevisionsForUpdates',
                      envelope('GetRelatedRevisionsForUpdates', SD, ''))
        self.fault(r, 'InvalidCookie', None,
                   'GetRelatedRevisionsForUpdates')
        r = self.d.https('GET', SS_PATH)
        self.assertEqual(r.status, 501, r.body)
        # Malformed and SOAP 1.2: protocol faults.
        r = self.post(SS_PATH, SD, 'GetCookie', b'<not-xml')
        self.assertEqual(r.status, 500, r.body)
        self.assertIn(b'Server was unable to read request', r.body)

    def test_no_plain_http(self):
        # TLS-only roots: the handshake never runs over plain HTTP.
        r = self.d.http('POST', DSS_PATH, body=auth_body(),
                        headers=[('Content-Type', 'text/xml')])
        self.assertEqual(r.status, 403, r.body)


MON = 'http://www.microsoft.com/SoftwareDistribution/Server/IMonitorable'
ANCHOR_RE = r'^\d+,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$'


def dss_cookie_xml(enc, expiration='2026-01-01T00:00:00Z'):
    return ('<cookie><Expiration>%s</Expiration><EncryptedData>%s'
            '</EncryptedData></cookie>' % (expiration, enc))


def configdata_body(cookie, anchor=None):
    inner = cookie
    if anchor is not None:
        inner += '<configAnchor>%s</configAnchor>' % anchor
    return envelope('GetConfigData', SD, inner)


class ConfigData(_Base):
    """GetConfigData (WSUSSS.md 5.4) and Ping (5.10)."""

    def dss_cookie(self):
        body = self.ok(self.getcookie(self.auth()))
        return ET.fromstring(body).findtext('.//{%s}EncryptedData' % SD)

    def configdata(self, cookie, anchor=None):
        return self.post(SS_PATH, SD, 'GetConfigData',
                         configdata_body(cookie, anchor))

    def languages(self, x):
        out = []
        for item in x.iter('{%s}ServerSyncLanguageData' % SD):
            self.assertEqual([c.tag for c in item], [
                '{%s}%s' % (SD, n) for n in ('LanguageID', 'ShortLanguage',
                                             'LongLanguage', 'Enabled')])
            out.append((int(item.findtext('{%s}LanguageID' % SD)),
                        item.findtext('{%s}ShortLanguage' % SD),
                        item.findtext('{%s}LongLanguage' % SD),
                        item.findtext('{%s}Enabled' % SD)))
        return out

    def test_get_config_data(self):
        enc = self.dss_cookie()
        body = self.ok(self.configdata(dss_cookie_xml(enc)))
        head = [(0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
                (2, '{%s}GetConfigDataResponse' % SD),
                (3, '{%s}GetConfigDataResult' % SD)] + [
            (4, '{%s}%s' % (SD, n)) for n in (
                'CatalogOnlySync', 'LazySync', 'ServerHostsPsfFiles',
                'MaxNumberOfUpdatesPerRequest',
                'MaxNumberOfDriverSetsPerRequest',
                'MaxNumberOfComputerIdsInRequest',
                'MaxNumberOfPnpHardwareIdsInRequest', 'NewConfigAnchor',
                'ProtocolVersion', 'LanguageUpdateList')]
        item = [(5, '{%s}ServerSyncLanguageData' % SD)] + [
            (6, '{%s}%s' % (SD, n)) for n in (
                'LanguageID', 'ShortLanguage', 'LongLanguage', 'Enabled')]
        tail = [(4, '{%s}MaxUpdatesPerRequestInGetUpdateDecryptionData'
                 % SD)]
        t = tags(body)
        self.assertEqual(t[:len(head)], head, body)
        self.assertEqual(t[-1:], tail, body)
        n_items = (len(t) - len(head) - len(tail)) // len(item)
        self.assertGreaterEqual(n_items, 2, body)
        self.assertEqual(t, head + item * n_items + tail, body)
        x = ET.fromstring(body)
        r = x.find('.//{%s}GetConfigDataResult' % SD)

        def txt(n):
            return r.findtext('{%s}%s' % (SD, n))
        self.assertEqual(txt('CatalogOnlySync'), 'false')
        self.assertEqual(txt('LazySync'), 'false')
        self.assertEqual(txt('ServerHostsPsfFiles'), 'false')
        for n in ('MaxNumberOfUpdatesPerRequest',
                  'MaxNumberOfDriverSetsPerRequest',
                  'MaxNumberOfComputerIdsInRequest',
                  'MaxNumberOfPnpHardwareIdsInRequest',
                  'MaxUpdatesPerRequestInGetUpdateDecryptionData'):
            self.assertEqual(txt(n), '100', n)
        self.assertEqual(txt('ProtocolVersion'), '1.20')
        anchor = txt('NewConfigAnchor')
        self.assertRegex(anchor, ANCHOR_RE)
        langs = self.languages(x)
        self.assertEqual(langs[0], (0, 'all', 'all', 'true'))
        self.assertIn((1033, 'en', 'English', 'true'), langs)

        # Same anchor, nothing changed: only the "all" entry.
        body2 = self.ok(self.configdata(dss_cookie_xml(enc), anchor))
        x2 = ET.fromstring(body2)
        self.assertEqual(self.languages(x2), [(0, 'all', 'all', 'true')])
        self.assertEqual(x2.findtext('.//{%s}NewConfigAnchor' % SD), anchor)
        # A stale or foreign anchor: the whole list again.
        for other in ('0,2006-05-26 18:59:26.192', 'x', ''):
            with self.subTest(anchor=other):
                b = self.ok(self.configdata(dss_cookie_xml(enc), other))
                self.assertEqual(self.languages(ET.fromstring(b)), langs)
        # A nil anchor is "none", as on the first call.
        b = self.ok(self.post(SS_PATH, SD, 'GetConfigData', envelope(
            'GetConfigData', SD, dss_cookie_xml(enc) +
            '<configAnchor xsi:nil="true"/>')))
        self.assertEqual(self.languages(ET.fromstring(b)), langs)
        # Bounded.
        self.fault(self.configdata(dss_cookie_xml(enc), 'a' * 4096),
                   'InvalidParameters', 'configAnchor', 'GetConfigData')

    def test_get_config_data_cookie_faults(self):
        enc = self.dss_cookie()
        self.ok(self.configdata(dss_cookie_xml(enc)))  # the control
        dss_auth = self.auth()
        r = self.post(SIMPLE_PATH, SIMPLE, 'GetAuthorizationCookie',
                      envelope('GetAuthorizationCookie', SIMPLE,
                               '<clientId>%s</clientId><targetGroupName/>'
                               '<dnsName>pc1.corp.example</dnsName>'
                               % DSS_GUID))
        client_auth = ET.fromstring(self.ok(r)).findtext(
            './/{%s}CookieData' % SIMPLE)
        cases = {
            'tampered': dss_cookie_xml(flip(enc)),
            'truncated': dss_cookie_xml(enc[:-4]),
            'garbage': dss_cookie_xml('AAAA'),
            'empty': dss_cookie_xml(''),
            'dss-authorization-kind': dss_cookie_xml(dss_auth),
            'client-authorization-kind': dss_cookie_xml(client_auth),
            'no-encrypted-data': '<cookie><Expiration>2026-01-01T00:00:00Z'
                                 '</Expiration></cookie>',
            'nil': '<cookie xsi:nil="true"/>',
            'absent': '',
        }
        for what, cookie in cases.items():
            with self.subTest(what=what):
                self.fault(self.configdata(cookie), 'InvalidCookie', None,
                           'GetConfigData')

    def test_client_cookie_refused(self):
        """An MS-WUSP client's Cookie is not a DSS cookie."""
        r = self.post(CLIENT_PATH, CLIENT, 'GetConfig',
                      envelope('GetConfig', CLIENT, '<protocolVersion>1.20'
                               '</protocolVersion>'))
        last_change = ET.fromstring(self.ok(r)).findtext(
            './/{%s}LastChange' % CLIENT)
        r = self.post(SIMPLE_PATH, SIMPLE, 'GetAuthorizationCookie',
                      envelope('GetAuthorizationCookie', SIMPLE,
                               '<clientId>%s</clientId><targetGroupName/>'
                               '<dnsName>pc1.corp.example</dnsName>'
                               % DSS_GUID))
        auth = ET.fromstring(self.ok(r)).findtext('.//{%s}CookieData'
                                                  % SIMPLE)
        inner = ('<authCookies><AuthorizationCookie><PlugInId>'
                 'SimpleTargeting</PlugInId><CookieData>%s</CookieData>'
                 '</AuthorizationCookie></authCookies>'
                 '<lastChange>%s</lastChange><currentTime>%s'
                 '</currentTime><protocolVersion>1.20</protocolVersion>'
                 % (auth, last_change, last_change))
        r = self.post(CLIENT_PATH, CLIENT, 'GetCookie',
                      envelope('GetCookie', CLIENT, inner))
        client_cookie = ET.fromstring(self.ok(r)).findtext(
            './/{%s}EncryptedData' % CLIENT)
        self.assertTrue(client_cookie)
        self.fault(self.configdata(dss_cookie_xml(client_cookie)),
                   'InvalidCookie', None, 'GetConfigData')

    def ping(self, path, level='1'):
        inner = '' if level is None else '<pingLevel>%s</pingLevel>' % level
        return self.post(path, MON, 'Ping', envelope('Ping', MON, inner))

    def test_ping(self):
        for path in (SS_PATH, DSS_PATH):
            with self.subTest(path=path):
                before = int(time.time())
                body = self.ok(self.ping(path))
                after = time.time()
                self.assertEqual(tags(body), [
                    (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
                    (2, '{%s}PingResponse' % MON),
                    (3, '{%s}PingResult' % MON)] + [
                    (4, '{%s}%s' % (MON, n)) for n in (
                        'SuccessFlag', 'ServicesTime', 'IsHttps',
                        'ConfigFileLastModifiedTime',
                        'ConfigFileNextExpirationTime',
                        'ConfigFileExpirationModuloInMinutes')], body)
                r = ET.fromstring(body).find('.//{%s}PingResult' % MON)

                def txt(n):
                    return r.findtext('{%s}%s' % (MON, n))
                self.assertEqual(txt('SuccessFlag'), 'true')
                self.assertEqual(txt('IsHttps'), 'true')
                st = parse_dt(txt('ServicesTime'))
                self.assertGreaterEqual(st, before - 1)
                self.assertLessEqual(st, after + 1)
                self.assertLessEqual(
                    parse_dt(txt('ConfigFileLastModifiedTime')), after + 5)
                parse_dt(txt('ConfigFileNextExpirationTime'))
                int(txt('ConfigFileExpirationModuloInMinutes'))
                # Other levels too; a missing or non-int level is refused.
                self.ok(self.ping(path, '0'))
                self.ok(self.ping(path, '-5'))
                for bad in (None, 'x', '', '99999999999'):
                    self.fault(self.ping(path, bad), 'InvalidParameters',
                               'pingLevel', 'Ping', MON)


UPD = 'http://schemas.microsoft.com/msus/2002/12/Update'
WSDL_DIR = os.path.join(harness.REPO, '..', 'shared', 'protocol', 'wsdl')
XS = 'http://www.w3.org/2001/XMLSchema'
ZERO = '00000000-0000-0000-0000-000000000000'
ALL_COMPUTERS = 'a0a08746-4dbe-4a37-9adf-9e7652c0b421'
UNASSIGNED = 'b73ca6ed-5727-47f3-84de-015e03f6a88a'
MICROSOFT = '56309036-4c77-4dd9-951a-99ee9c246a94'
SECURITY = '0fa1201d-4330-4fa8-8ae9-b877473b6441'
CRITICAL = 'e6cf1350-c01b-414d-a61f-263d14d133b4'
UNKNOWN = '11111111-2222-3333-4444-555555555555'


def serversync_schema():
    """The ServerSync WSDL's types as an lxml XMLSchema (None without
    lxml: the checks that need it are skipped, the others still run)."""
    try:
        import lxml.etree as LX
    except ImportError:
        return None
    with open(os.path.join(WSDL_DIR, 'ServerSyncWebService.wsdl'),
              'rb') as f:
        root = LX.fromstring(f.read(), LX.XMLParser(no_network=True))
    schemas = root.findall('{http://schemas.xmlsoap.org/wsdl/}types/'
                           '{%s}schema' % XS)
    docs = {'mem:%d' % i: LX.tostring(x) for i, x in enumerate(schemas)}

    class Resolver(LX.Resolver):
        def resolve(self, url, pubid, context):
            if url in docs:
                return self.resolve_string(docs[url], context)
            return None
    order = sorted(range(len(schemas)), key=lambda i: schemas[i].get(
        'targetNamespace') != 'http://microsoft.com/wsdl/types/')
    wrapper = '<xs:schema xmlns:xs="%s">%s</xs:schema>' % (XS, ''.join(
        '<xs:import namespace="%s" schemaLocation="mem:%d"/>' % (
            schemas[i].get('targetNamespace'), i) for i in order))
    parser = LX.XMLParser(no_network=True)
    parser.resolvers.add(Resolver())
    return LX.XMLSchema(LX.fromstring(wrapper.encode(), parser))


def ids_xml(pairs, wrapper='updateIds'):
    return '<%s>%s</%s>' % (wrapper, ''.join(
        '<UpdateIdentity><UpdateID>%s</UpdateID><RevisionNumber>%d'
        '</RevisionNumber></UpdateIdentity>' % p for p in pairs), wrapper)


def idd_xml(name, items):
    return '<%s>%s</%s>' % (name, ''.join(
        '<IdAndDelta><Id>%s</Id><Delta>%s</Delta></IdAndDelta>'
        % (i, 'true' if d else 'false') for i, d in items), name)


class ServerSyncData(_Base):
    """The sync operations (WSUSSS.md 5.5-5.11) over a catalog built with
    `wsusutil publish`, `approve`, `decline`: anchors, filters, element
    order (schema/ORDER.md) and the ServerSync WSDL's types, faults."""

    @classmethod
    def populate(cls, d):
        harness.run_wsusutil(d.dir, 'publishingcert', 'create')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = serversync_schema()
        cls.n_cab = 0

    # helpers
    def enc(self):
        body = self.ok(self.getcookie(self.auth()))
        return ET.fromstring(body).findtext('.//{%s}EncryptedData' % SD)

    def call(self, op, inner, enc=None, cookie=True):
        if cookie:
            inner = dss_cookie_xml(enc or self.enc()) + inner
        return self.post(SS_PATH, SD, op, envelope(op, SD, inner))

    def valid(self, body, op):
        """BODY's response element validates against the WSDL."""
        if self.schema is None:
            return
        import lxml.etree as LX
        el = LX.fromstring(body).find('.//{%s}%sResponse' % (SD, op))
        self.assertIsNotNone(el, body)
        ok = self.schema.validate(LX.ElementTree(el))
        self.assertTrue(ok, '%s: %s' % (
            [e.message for e in self.schema.error_log], body[:2000]))

    def db(self, sql, *args):
        c = sqlite3.connect(os.path.join(self.d.dir, 'wsusd.db'),
                            timeout=30)
        try:
            return c.execute(sql, args).fetchall()
        finally:
            c.close()

    def publish(self, title, product='Contoso Tool',
                classification='Security Updates', *extra):
        type(self).n_cab += 1
        base = os.path.join(self.d.dir, 'pub%d' % self.n_cab)
        os.mkdir(base)
        src = os.path.join(base, 'payload.txt')
        with open(src, 'wb') as f:
            f.write(('payload %s\n' % title).encode())
        cab = os.path.join(base, 'pkg.cab')
        subprocess.run(['gcab', '-c', '-n', cab, src], check=True,
                       timeout=60)
        p = harness.run_wsusutil(self.d.dir, 'publish', cab, '--title',
                                 title, '--product', product,
                                 '--classification', classification,
                                 *extra)
        uid = p.stdout.decode().strip()
        self.assertRegex(uid, r'^[0-9a-f-]{36}$')
        return uid

    def rev(self, uid):
        (n,), = self.db('SELECT r.revision_number FROM revision r JOIN '
                        'update_ u USING (update_pk) WHERE u.update_id = ? '
                        'AND r.is_latest = 1', uid)
        return n

    def category(self, title):
        (cid,), = self.db('SELECT u.update_id FROM update_ u JOIN revision '
                          'r USING (update_pk) WHERE u.update_type = '
                          "'Category' AND r.title = ? AND r.is_latest = 1",
                          title)
        return cid

    def revisions(self, config=False, anchor=None, cats=None, classes=None,
                  enc=None, extra=''):
        """(anchor, [(update id, revision)], body) of GetRevisionIdList."""
        f = ''
        if anchor is not None:
            f += '<Anchor>%s</Anchor>' % anchor
        f += '<GetConfig>%s</GetConfig>' % ('true' if config else 'false')
        f += '<Get63LanguageOnly>false</Get63LanguageOnly>'
        if cats is not None:
            f += idd_xml('Categories', cats)
        if classes is not None:
            f += idd_xml('Classifications', classes)
        f += extra
        body = self.ok(self.call('GetRevisionIdList',
                                 '<filter>%s</filter>' % f, enc))
        self.valid(body, 'GetRevisionIdList')
        t = tags(body)
        self.assertEqual(t[:6], [
            (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
            (2, '{%s}GetRevisionIdListResponse' % SD),
            (3, '{%s}GetRevisionIdListResult' % SD),
            (4, '{%s}Anchor' % SD), (4, '{%s}NewRevisions' % SD)], body)
        item = [(5, '{%s}UpdateIdentity' % SD), (6, '{%s}UpdateID' % SD),
                (6, '{%s}RevisionNumber' % SD)]
        n = (len(t) - 6) // 3
        self.assertEqual(t[6:], item * n, body)
        x = ET.fromstring(body)
        a = x.findtext('.//{%s}Anchor' % SD)
        self.assertRegex(a, ANCHOR_RE)
        out = [(i.findtext('{%s}UpdateID' % SD),
                int(i.findtext('{%s}RevisionNumber' % SD)))
               for i in x.iter('{%s}UpdateIdentity' % SD)]
        if not out:
            self.assertIn(b'<NewRevisions />', body)
        self.assertEqual(len(out), len(set(u for u, _ in out)), body)
        return a, out, body

    # GetRevisionIdList
    def test_config_pass_and_anchor(self):
        a, revs, _ = self.revisions(config=True)
        ids = dict(revs)
        self.assertIn(MICROSOFT, ids)
        self.assertIn(SECURITY, ids)
        a2, revs2, _ = self.revisions(config=True, anchor=a)
        self.assertEqual(revs2, [])
        # A new product is a new category: only it (and nothing else)
        # comes with the old anchor; updates are not in the config pass.
        uid = self.publish('Config pass probe', product='Config Product')
        pid = self.category('Config Product')
        _, revs3, _ = self.revisions(config=True, anchor=a2)
        got = [u for u, _ in revs3]
        self.assertIn(pid, got)
        self.assertNotIn(uid, got)
        for u in got:  # only the categories publishing made
            (typ, origin), = self.db('SELECT update_type, origin FROM '
                                     'update_ WHERE update_id = ?', u)
            self.assertEqual((typ, origin), ('Category', 'local'), u)
        self.assertNotIn(uid, dict(self.revisions(config=True)[1]))

    def test_update_pass_anchor(self):
        a, revs, _ = self.revisions()
        for u, _ in revs:
            self.assertNotIn(u, (MICROSOFT, SECURITY))
        a1, revs1, _ = self.revisions(anchor=a)
        self.assertEqual(revs1, [])
        uid = self.publish('Anchor probe')
        a2, revs2, _ = self.revisions(anchor=a1)
        self.assertEqual(revs2, [(uid, self.rev(uid))])
        n1, n2 = int(a1.split(',')[0]), int(a2.split(',')[0])
        self.assertGreater(n2, n1)  # monotonic
        self.assertEqual(self.revisions(anchor=a2)[1], [])
        # The full list has it; an anchor from a newer database (n above
        # ours) is not trusted: the full list too.
        full = self.revisions()[1]
        self.assertIn((uid, self.rev(uid)), full)
        future = '%d,2030-01-01 00:00:00.000' % (n2 + 1000000)
        self.assertEqual(sorted(self.revisions(anchor=future)[1]),
                         sorted(full))
        # Empty and nil anchors are "none".
        self.assertEqual(sorted(self.revisions(anchor='')[1]), sorted(full))
        # Declined: not offered any more.
        harness.run_wsusutil(self.d.dir, 'decline', uid)
        self.assertNotIn(uid, dict(self.revisions()[1]))

    def test_filters(self):
        a, _, _ = self.revisions()
        u1 = self.publish('Filter one', product='Filter Product A',
                          classification='Security Updates')
        u2 = self.publish('Filter two', product='Filter Product B',
                          classification='Critical Updates')
        pa = self.category('Filter Product A')
        pb = self.category('Filter Product B')

        def got(**kw):
            return set(u for u, _ in self.revisions(anchor=a, **kw)[1])
        self.assertEqual(got(cats=[(pa, True)], classes=[(SECURITY, True)]),
                         {u1})
        self.assertEqual(got(cats=[(pb, True)], classes=[(CRITICAL, True)]),
                         {u2})
        self.assertEqual(got(cats=[(pa, True), (pb, True)],
                             classes=[(SECURITY, True), (CRITICAL, True)]),
                         {u1, u2})
        # Both must match: product A is not a Critical Update.
        self.assertEqual(got(cats=[(pa, True)], classes=[(CRITICAL, True)]),
                         set())
        self.assertEqual(got(cats=[(UNKNOWN, True)],
                             classes=[(SECURITY, True)]), set())
        # Absent filters: everything new.
        self.assertLessEqual({u1, u2}, got())
        # Nothing new since, unless an item asks for all (Delta false).
        a2 = self.revisions()[0]
        self.assertEqual(self.revisions(anchor=a2, cats=[(pa, True)],
                                        classes=[(SECURITY, True)])[1], [])
        self.assertEqual(self.revisions(anchor=a2, cats=[(pa, False)],
                                        classes=[(SECURITY, True)])[1],
                         [(u1, self.rev(u1))])
        self.assertEqual(self.revisions(anchor=a2, cats=[(pb, True)],
                                        classes=[(CRITICAL, False)])[1],
                         [(u2, self.rev(u2))])
        # Prerequisites of a match come along, whatever their filter.
        u3 = self.publish('Filter three', 'Filter Product A',
                          'Security Updates', '--prerequisite', u2)
        got3 = set(u for u, _ in self.revisions(
            anchor=a2, cats=[(pa, True)], classes=[(SECURITY, True)])[1])
        self.assertEqual(got3, {u3, u2})

    def test_revision_id_list_faults(self):
        enc = self.enc()
        for bad in ('x', '1', '1,2006-13-01 00:00:00.000',
                    '1,2006-05-26 18:59:26', '-1,2006-05-26 18:59:26.192',
                    ' 1,2006-05-26 18:59:26.192', 'a' * 100):
            with self.subTest(anchor=bad):
                r = self.call('GetRevisionIdList', '<filter><Anchor>%s'
                              '</Anchor><GetConfig>false</GetConfig>'
                              '<Get63LanguageOnly>false</Get63LanguageOnly>'
                              '</filter>' % bad, enc)
                self.fault(r, 'InvalidParameters', 'Anchor',
                           'GetRevisionIdList')
        self.fault(self.call('GetRevisionIdList', '', enc),
                   'InvalidParameters', 'filter')
        self.fault(self.call('GetRevisionIdList', '<filter><GetConfig>x'
                             '</GetConfig></filter>', enc),
                   'InvalidParameters', 'GetConfig')
        self.fault(self.call('GetRevisionIdList', '<filter><GetConfig>false'
                             '</GetConfig>%s</filter>'
                             % idd_xml('Categories', [('nope', True)]), enc),
                   'InvalidParameters', 'Categories')
        self.fault(self.call('GetRevisionIdList', '<filter><GetConfig>false'
                             '</GetConfig>%s</filter>' % idd_xml(
                                 'Classifications',
                                 [(SECURITY, True)] * 1001), enc),
                   'InvalidParameters', 'Classifications')
        # Languages are accepted (and ignored), but must be well-formed.
        self.revisions(enc=enc, extra='<Languages><LanguageAndDelta><Id>1033'
                       '</Id><Delta>true</Delta></LanguageAndDelta>'
                       '</Languages>')
        self.fault(self.call('GetRevisionIdList', '<filter><GetConfig>false'
                             '</GetConfig><Languages><LanguageAndDelta><Id>x'
                             '</Id><Delta>true</Delta></LanguageAndDelta>'
                             '</Languages></filter>', enc),
                   'InvalidParameters', 'Languages')

    def test_cookie_faults_every_operation(self):
        dss_auth = self.auth()
        ops = ('GetRevisionIdList', 'GetUpdateData',
               'GetUpdateDecryptionData', 'GetDeployments', 'DownloadFiles',
               'GetRelatedRevisionsForUpdates', 'GetDriverIdList',
               'GetDriverSetData')
        for op in ops:
            for what, cookie in (('absent', ''),
                                 ('garbage', dss_cookie_xml('AAAA')),
                                 ('tampered', dss_cookie_xml(
                                     flip(self.enc()))),
                                 ('authorization-kind',
                                  dss_cookie_xml(dss_auth))):
                with self.subTest(op=op, what=what):
                    r = self.call(op, cookie + '<x/>', cookie=False)
                    self.fault(r, 'InvalidCookie', None, op)

    # GetUpdateData
    def update_data(self, pairs, enc=None):
        return self.call('GetUpdateData', ids_xml(pairs), enc)

    def test_update_data(self):
        uid = self.publish('Data probe')
        (sha1,), = self.db('SELECT f.sha1 FROM file f JOIN revision_file rf '
                           'ON rf.sha1 = f.sha1 JOIN revision r ON '
                           'r.revision_id = rf.revision_id JOIN update_ u '
                           'ON u.update_pk = r.update_pk WHERE u.update_id '
                           '= ?', uid)
        digest = base64.b64encode(sha1).decode()
        # The file on disk has that SHA-1 (content/XY/<HEX>.cab).
        hexd = sha1.hex().upper()
        with open(os.path.join(self.d.dir, 'content', hexd[-2:],
                               hexd + '.cab'), 'rb') as f:
            self.assertEqual(hashlib.sha1(f.read()).digest(), sha1)
        enc = self.enc()
        rn = self.rev(uid)
        body = self.ok(self.update_data([(uid, rn), (UNKNOWN, 1),
                                         (SECURITY, 1)], enc))
        self.valid(body, 'GetUpdateData')
        t = tags(body)
        item = lambda files: [  # noqa: E731
            (5, '{%s}ServerSyncUpdateData' % SD), (6, '{%s}Id' % SD),
            (7, '{%s}UpdateID' % SD), (7, '{%s}RevisionNumber' % SD),
            (6, '{%s}XmlUpdateBlob' % SD)] + ([
                (6, '{%s}FileDigestList' % SD)] + [
                (7, '{%s}base64Binary' % SD)] * files if files else [])
        self.assertEqual(t, [
            (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
            (2, '{%s}GetUpdateDataResponse' % SD),
            (3, '{%s}GetUpdateDataResult' % SD),
            (4, '{%s}updates' % SD)] + item(1) + item(0) + [
            (4, '{%s}fileUrls' % SD), (5, '{%s}ServerSyncUrlData' % SD),
            (6, '{%s}FileDigest' % SD)], body)
        x = ET.fromstring(body)
        got = {}
        for u in x.iter('{%s}ServerSyncUpdateData' % SD):
            i = u.find('{%s}Id' % SD)
            blob = u.findtext('{%s}XmlUpdateBlob' % SD)
            doc = ET.fromstring(blob)
            self.assertEqual(doc.tag, '{%s}Update' % UPD)
            ident = doc.find('{%s}UpdateIdentity' % UPD)
            self.assertEqual(ident.get('UpdateID'),
                             i.findtext('{%s}UpdateID' % SD))
            self.assertEqual(ident.get('RevisionNumber'),
                             i.findtext('{%s}RevisionNumber' % SD))
            got[ident.get('UpdateID')] = [
                e.text for e in u.iter('{%s}base64Binary' % SD)]
        self.assertEqual(got, {uid: [digest], SECURITY: []})
        self.assertEqual([e.text for e in x.iter('{%s}FileDigest' % SD)],
                         [digest])
        # Only unknown ids: empty lists, no fault.
        body = self.ok(self.update_data([(UNKNOWN, 1), (uid, rn + 1)],
                                        enc))
        self.valid(body, 'GetUpdateData')
        self.assertIn(b'<updates />', body)
        self.assertIn(b'<fileUrls />', body)
        # 100 is the limit; 0, 101, null and bad items are refused.
        body = self.ok(self.update_data([(uid, rn)] * 100, enc))
        self.assertEqual(body.count(b'<ServerSyncUpdateData>'), 100)
        for bad in ([(uid, 1)] * 101, []):
            with self.subTest(n=len(bad)):
                self.fault(self.update_data(bad, enc), 'InvalidParameters',
                           'updateIds', 'GetUpdateData')
        self.fault(self.call('GetUpdateData', '', enc), 'InvalidParameters',
                   'updateIds')
        self.fault(self.update_data([('x', 1)], enc), 'InvalidParameters',
                   'updateIds')

    def test_update_data_compressed(self):
        """A document over 5,120 bytes goes as XmlUpdateBlobCompressed
        (WSUSSS.md 5.6): the base64 of a cabinet that gcab, not wsusd,
        extracts to one file "blob" holding the document in UTF-16LE; a
        small one still goes as XmlUpdateBlob, in the same shape."""
        import tempfile
        desc = ('Gr\u00fc\u00dfe \u65e5\u672c\u8a9e \U0001F600 & <b> '
                * 300)[:6000]
        big = self.publish('Compressed probe', 'Contoso Tool',
                           'Security Updates', '--description', desc)
        small = self.publish('Uncompressed probe')
        enc = self.enc()
        rb, rs = self.rev(big), self.rev(small)
        body = self.ok(self.update_data([(big, rb), (small, rs)], enc))
        self.valid(body, 'GetUpdateData')
        t = tags(body)
        head = [(5, '{%s}ServerSyncUpdateData' % SD), (6, '{%s}Id' % SD),
                (7, '{%s}UpdateID' % SD), (7, '{%s}RevisionNumber' % SD)]
        files = [(6, '{%s}FileDigestList' % SD),
                 (7, '{%s}base64Binary' % SD)]
        self.assertEqual(t[4:], [(4, '{%s}updates' % SD)] + head + files + [
            (6, '{%s}XmlUpdateBlobCompressed' % SD)] + head + [
            (6, '{%s}XmlUpdateBlob' % SD)] + files + [
            (4, '{%s}fileUrls' % SD)] + [
            (5, '{%s}ServerSyncUrlData' % SD),
            (6, '{%s}FileDigest' % SD)] * 2, body)
        x = ET.fromstring(body)
        u_big, u_small = x.iter('{%s}ServerSyncUpdateData' % SD)
        cab = base64.b64decode(
            u_big.findtext('{%s}XmlUpdateBlobCompressed' % SD),
            validate=True)
        self.assertEqual(cab[:4], b'MSCF')
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'meta.cab')
            with open(path, 'wb') as f:
                f.write(cab)
            out = os.path.join(tmp, 'out')
            os.mkdir(out)
            subprocess.run(['gcab', '-x', '-C', out, path], check=True,
                           timeout=60, stdout=subprocess.DEVNULL)
            self.assertEqual(os.listdir(out), ['blob'])
            with open(os.path.join(out, 'blob'), 'rb') as f:
                raw = f.read()
        if raw[:2] == b'\xff\xfe':
            raw = raw[2:]
        text = raw.decode('utf-16-le')
        self.assertGreater(len(text.encode('utf-8')), 5120)
        doc = ET.fromstring(text)
        sdoc = ET.fromstring(u_small.findtext('{%s}XmlUpdateBlob' % SD))
        for d, u, r in ((doc, big, rb), (sdoc, small, rs)):
            self.assertEqual(d.tag, '{%s}Update' % UPD)
            ident = d.find('{%s}UpdateIdentity' % UPD)
            self.assertEqual((ident.get('UpdateID'),
                              int(ident.get('RevisionNumber'))), (u, r))
        # The same document shape as the uncompressed path, and the
        # description intact (astral characters included).
        self.assertEqual([c.tag for c in doc], [c.tag for c in sdoc])
        self.assertIn(desc, [e.text for e in doc.iter(
            '{%s}Description' % UPD)])
        self.assertIsNone(u_big.find('{%s}XmlUpdateBlob' % SD))
        self.assertIsNone(u_small.find('{%s}XmlUpdateBlobCompressed' % SD))

    def test_update_decryption_data(self):
        uid = self.publish('Decryption probe')
        enc = self.enc()
        body = self.ok(self.call('GetUpdateDecryptionData',
                                 ids_xml([(uid, 1)]), enc))
        self.valid(body, 'GetUpdateDecryptionData')
        self.assertEqual(tags(body), [
            (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
            (2, '{%s}GetUpdateDecryptionDataResponse' % SD),
            (3, '{%s}GetUpdateDecryptionDataResult' % SD),
            (4, '{%s}UpdateFileDecryptionData' % SD)])
        for bad in ([(uid, 1)] * 101, []):
            self.fault(self.call('GetUpdateDecryptionData', ids_xml(bad),
                                 enc), 'InvalidParameters', 'updateIds')

    def test_related_revisions(self):
        enc = self.enc()
        body = self.ok(self.call('GetRelatedRevisionsForUpdates',
                                 '<updateIDs><guid>%s</guid></updateIDs>'
                                 % SECURITY, enc))
        self.valid(body, 'GetRelatedRevisionsForUpdates')
        self.assertEqual(tags(body)[2:], [
            (2, '{%s}GetRelatedRevisionsForUpdatesResponse' % SD),
            (3, '{%s}GetRelatedRevisionsForUpdatesResult' % SD)])
        self.fault(self.call('GetRelatedRevisionsForUpdates',
                             '<updateIDs><guid>x</guid></updateIDs>', enc),
                   'InvalidParameters', 'updateIDs')

    # DownloadFiles
    def download(self, digests, enc):
        return self.call('DownloadFiles', '<fileDigestList>%s'
                         '</fileDigestList>' % ''.join(
                             '<base64Binary>%s</base64Binary>' % d
                             for d in digests), enc)

    def test_download_files(self):
        uid = self.publish('Download probe')
        (sha1,), = self.db('SELECT f.sha1 FROM file f JOIN revision_file rf '
                           'ON rf.sha1 = f.sha1 JOIN revision r ON '
                           'r.revision_id = rf.revision_id JOIN update_ u '
                           'ON u.update_pk = r.update_pk WHERE u.update_id '
                           '= ?', uid)
        known = base64.b64encode(sha1).decode()
        enc = self.enc()
        body = self.ok(self.download([known], enc))
        self.valid(body, 'DownloadFiles')
        self.assertEqual(tags(body)[2:],
                         [(2, '{%s}DownloadFilesResponse' % SD)])
        u1 = base64.b64encode(b'\x01' * 20).decode()
        u2 = base64.b64encode(b'\xfe' * 20).decode()
        self.fault(self.download([u1, known, u2], enc), 'FileDigestsMissing',
                   '%s|%s' % (u1, u2), 'DownloadFiles')
        self.fault(self.download([u1], enc), 'FileDigestsMissing', u1)
        self.ok(self.download([known] * 100, enc))
        for bad in ([known] * 101, [], ['AAAA'], ['not base64']):
            with self.subTest(bad=bad[:2]):
                self.fault(self.download(bad, enc), 'InvalidParameters',
                           'fileDigestList', 'DownloadFiles')

    def test_drivers(self):
        enc = self.enc()
        body = self.ok(self.call('GetDriverIdList', '<filter>'
                                 '<DssProtocolVersion/><Anchor/></filter>',
                                 enc))
        self.assertEqual(tags(body)[2:], [
            (2, '{%s}GetDriverIdListResponse' % SD),
            (3, '{%s}GetDriverIdListResult' % SD),
            (4, '{%s}Anchor' % SD), (4, '{%s}NewRevisions' % SD),
            (4, '{%s}NewDriverSets' % SD), (4, '{%s}RemovedDriverSets' % SD)])
        self.assertRegex(ET.fromstring(body).findtext('.//{%s}Anchor' % SD),
                         ANCHOR_RE)
        self.fault(self.call('GetDriverIdList', '<filter><Anchor>x</Anchor>'
                             '</filter>', enc), 'InvalidParameters', 'Anchor')
        body = self.ok(self.call('GetDriverSetData', '<driverSets><guid>%s'
                                 '</guid></driverSets>' % UNKNOWN, enc))
        self.assertEqual(tags(body)[2:], [
            (2, '{%s}GetDriverSetDataResponse' % SD),
            (3, '{%s}GetDriverSetDataResult' % SD),
            (4, '{%s}DriverSets' % SD)])
        self.fault(self.call('GetDriverSetData', '<driverSets>%s'
                             '</driverSets>' % ('<guid>%s</guid>' % UNKNOWN
                                                * 101), enc),
                   'InvalidParameters', 'driverSets')

    # GetDeployments
    def deployments(self, sync, dep=None, enc=None):
        inner = ''
        if dep is not None:
            inner += '<deploymentAnchor>%s</deploymentAnchor>' % dep
        if sync is not None:
            inner += '<syncAnchor>%s</syncAnchor>' % sync
        body = self.ok(self.call('GetDeployments', inner, enc))
        self.valid(body, 'GetDeployments')
        x = ET.fromstring(body)
        res = x.find('.//{%s}GetDeploymentsResult' % SD)
        self.assertEqual([c.tag for c in res], ['{%s}%s' % (SD, n) for n in (
            'Anchor', 'Groups', 'Deployments', 'DeadDeployments',
            'HiddenUpdates', 'AcceptedEulas')], body)
        for g in res.find('{%s}Groups' % SD):
            self.assertEqual([c.tag for c in g], ['{%s}%s' % (SD, n) for n in (
                'TargetGroupID', 'ParentGroupId', 'Name', 'IsBuiltin')])
        deps = []
        for dp in res.find('{%s}Deployments' % SD):
            names = ('UpdateId', 'RevisionNumber', 'Action', 'AdminName',
                     'Deadline', 'IsAssigned', 'GoLiveTime', 'DeploymentGuid',
                     'TargetGroupId', 'DownloadPriority')
            self.assertEqual([c.tag for c in dp],
                             ['{%s}%s' % (SD, n) for n in names], body)
            deps.append({n: dp.findtext('{%s}%s' % (SD, n)) for n in names})
        out = {
            'anchor': res.findtext('{%s}Anchor' % SD),
            'groups': {g.findtext('{%s}TargetGroupID' % SD): (
                g.findtext('{%s}ParentGroupId' % SD),
                g.findtext('{%s}Name' % SD),
                g.findtext('{%s}IsBuiltin' % SD))
                for g in res.find('{%s}Groups' % SD)},
            'deployments': deps,
        }
        for n in ('DeadDeployments', 'HiddenUpdates', 'AcceptedEulas'):
            out[n] = [g.text for g in res.find('{%s}%s' % (SD, n))]
        self.assertRegex(out['anchor'], ANCHOR_RE)
        return out

    def test_deployments(self):
        enc = self.enc()
        uid = self.publish('Deployment probe')
        harness.run_wsusutil(self.d.dir, 'groups', 'add', 'Ring 1')
        harness.run_wsusutil(self.d.dir, 'approve', uid, '--group',
                             'All Computers', '--action', 'install')
        harness.run_wsusutil(self.d.dir, 'approve', uid, '--group',
                             'Ring 1', '--action', 'uninstall',
                             '--deadline', '2031-02-03T04:05:06Z')
        sync = self.revisions(enc=enc)[0]
        first = self.deployments(sync, enc=enc)
        g = first['groups']
        self.assertEqual(g[ALL_COMPUTERS], (ZERO, 'All Computers', 'true'))
        self.assertEqual(g[UNASSIGNED],
                         (ALL_COMPUTERS, 'Unassigned Computers', 'true'))
        ring = [k for k, v in g.items() if v[1] == 'Ring 1']
        self.assertEqual(len(ring), 1)
        self.assertEqual(g[ring[0]], (ALL_COMPUTERS, 'Ring 1', 'false'))
        mine = {d['TargetGroupId']: d for d in first['deployments']
                if d['UpdateId'] == uid}
        self.assertEqual(set(mine), {ALL_COMPUTERS, ring[0]})
        inst, uninst = mine[ALL_COMPUTERS], mine[ring[0]]
        self.assertEqual((int(inst['RevisionNumber']), inst['Action'],
                          inst['Deadline'], inst['IsAssigned'],
                          inst['DownloadPriority']),
                         (self.rev(uid), '0', '9999-12-31T23:59:59.9999999',
                          'true', '1'))
        self.assertEqual((uninst['Action'], uninst['Deadline']),
                         ('1', '2031-02-03T04:05:06Z'))
        parse_dt(inst['GoLiveTime'])
        self.assertNotEqual(inst['DeploymentGuid'], uninst['DeploymentGuid'])
        self.assertEqual(first['DeadDeployments'], [])
        self.assertEqual(first['AcceptedEulas'], [])
        dep = first['anchor']
        # Nothing changed: nothing again, and the same GUIDs are stable.
        again = self.deployments(self.revisions(enc=enc)[0], dep, enc)
        self.assertEqual([d for d in again['deployments']
                          if d['UpdateId'] == uid], [])
        self.assertEqual(again['DeadDeployments'], [])
        # Approved after the updates pass: waits for the next one.
        harness.run_wsusutil(self.d.dir, 'approve', uid, '--group',
                             'All Computers', '--action', 'notapproved')
        late = self.deployments(sync, dep, enc)
        self.assertEqual(late['DeadDeployments'], [])
        # Un-approved: its deployment is dead; NotApproved on the root is
        # no deployment.
        sync2 = self.revisions(enc=enc)[0]
        after = self.deployments(sync2, again['anchor'], enc)
        self.assertEqual(after['DeadDeployments'], [inst['DeploymentGuid']])
        self.assertEqual([d for d in after['deployments']
                          if d['UpdateId'] == uid], [])
        self.assertNotIn(uid, after['HiddenUpdates'])
        # NotApproved on a child group blocks (Action 3), a new GUID.
        harness.run_wsusutil(self.d.dir, 'approve', uid, '--group',
                             'Ring 1', '--action', 'notapproved')
        blk = self.deployments(self.revisions(enc=enc)[0], after['anchor'],
                               enc)
        self.assertEqual(blk['DeadDeployments'], [uninst['DeploymentGuid']])
        (b,) = [d for d in blk['deployments'] if d['UpdateId'] == uid]
        self.assertEqual((b['Action'], b['TargetGroupId']), ('3', ring[0]))
        # Declined: hidden (full list every time), approvals dead.
        harness.run_wsusutil(self.d.dir, 'decline', uid)
        dec = self.deployments(self.revisions(enc=enc)[0], blk['anchor'],
                               enc)
        self.assertIn(uid, dec['HiddenUpdates'])
        self.assertEqual(dec['DeadDeployments'], [b['DeploymentGuid']])
        self.assertIn(uid, self.deployments(sync2, enc=enc)['HiddenUpdates'])

    def test_deployments_faults(self):
        enc = self.enc()
        sync = self.revisions(enc=enc)[0]
        for inner in ('', '<syncAnchor/>', '<syncAnchor></syncAnchor>',
                      '<syncAnchor xsi:nil="true"/>',
                      '<deploymentAnchor>%s</deploymentAnchor>' % sync,
                      '<syncAnchor>x</syncAnchor>'):
            with self.subTest(inner=inner):
                self.fault(self.call('GetDeployments', inner, enc),
                           'InvalidParameters', 'syncAnchor',
                           'GetDeployments')
        self.fault(self.call('GetDeployments', '<deploymentAnchor>1,x'
                             '</deploymentAnchor><syncAnchor>%s</syncAnchor>'
                             % sync, enc),
                   'InvalidParameters', 'deploymentAnchor')
        # Replica without approvals still gets the built-in groups.
        out = self.deployments(sync, enc=enc)
        self.assertIn(ALL_COMPUTERS, out['groups'])

    def test_dss_recorded(self):
        guid = '0badc0de-0000-4000-8000-000000000001'
        self.auth(name='dss7.corp.example', guid=guid.upper())
        rows = self.db('SELECT fqdn, first_seen, last_seen FROM '
                       'downstream_server WHERE server_id = ?', guid)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], 'dss7.corp.example')
        first = rows[0][1]
        self.auth(name='dss7-renamed.corp.example', guid=guid)
        (fqdn, first2, last2), = self.db(
            'SELECT fqdn, first_seen, last_seen FROM downstream_server '
            'WHERE server_id = ?', guid)
        self.assertEqual((fqdn, first2), ('dss7-renamed.corp.example', first))
        self.assertGreaterEqual(last2, first2)


class AnonymousOff(_Base):
    """The default: ServerSync needs Negotiate, DssAuth stays open."""
    CONF = {}

    def test_dssauth_anonymous_serversync_not(self):
        self.assertTrue(self.auth())
        r = self.post(SS_PATH, SD, 'GetAuthConfig',
                      envelope('GetAuthConfig', SD, ''))
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.header('WWW-Authenticate'), 'Negotiate')


if __name__ == '__main__':
    harness.main()
