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
cookies refused where DSS cookies belong and the reverse, unknown and
not-yet-served operations.
"""

import base64
import calendar
import os
import re
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
        # In the WSDL but not served yet: the "not implemented" fault.
        r = self.post(SS_PATH, SD, 'GetRelatedRevisionsForUpdates',
                      envelope('GetRelatedRevisionsForUpdates', SD, ''))
        self.assertEqual(r.status, 501, r.body)
        self.assertIn(b'<ErrorCode>InternalServerError</ErrorCode>', r.body)
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
