#!/usr/bin/env python3
"""MS-WSUSSS section 4 ("Protocol Examples") and the digest's minimal wire
example (WSUSSS.md 13) replayed against the real upstream (issue #7).

The request messages are in data/wsusss-spec/ (see SOURCES.md there for
where each comes from and what was repaired). Each is sent as the spec
writes it; only values the spec could not know are substituted, and each
test says which: the DSS cookie and the DssAuth authorization cookie (the
spec's are another server's, trimmed), and update, product and
classification ids that must exist here (the spec's are Microsoft
Update's). The answers are checked for HTTP 200, the response element
with schema/ORDER.md's element order and concrete values; the examples
replayed with the spec's own (foreign) cookies must be the faults a
Windows USS answers, sample 4's InvalidCookie with its detail.

The daemon runs with `serversync_anonymous = yes` so the ServerSync gate
lets this anonymous client through (the gate is test_serversync_auth.py's).
Sample 3 (reporting rollup) goes to ReportingWebService, the same upstream.
"""

import base64
import calendar
import os
import re
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data',
                    'wsusss-spec')
SD = 'http://www.microsoft.com/SoftwareDistribution'
DSS = 'http://www.microsoft.com/SoftwareDistribution/Server/DssAuthWebService'
ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
UPD = 'http://schemas.microsoft.com/msus/2002/12/Update'
SS_PATH = '/ServerSyncWebService/ServerSyncWebService.asmx'
DSS_PATH = '/DssAuthWebService/DssAuthWebService.asmx'
REPORT_PATH = '/ReportingWebService/ReportingWebService.asmx'
ANCHOR_RE = r'^\d+,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$'
SPEC_ANCHOR_N = 4742  # "4742,2006-05-26 18:59:26.192"
COOKIE_MINUTES = 240
ALL_COMPUTERS = 'a0a08746-4dbe-4a37-9adf-9e7652c0b421'
UNASSIGNED = 'b73ca6ed-5727-47f3-84de-015e03f6a88a'
MICROSOFT = '56309036-4c77-4dd9-951a-99ee9c246a94'
SECURITY = '0fa1201d-4330-4fa8-8ae9-b877473b6441'
CRITICAL = 'e6cf1350-c01b-414d-a61f-263d14d133b4'
# Sample 1's DSS, sample 3's downstream server and computer.
SPEC_DSS_NAME = 'HemantTest.redmond.microsoft.com'
SPEC_DSS_GUID = 'adb2fe48-0b2e-451e-8fc8-44b29845b0c6'
SPEC_SERVER = '050cee4a-aaff-470c-8fc3-7a94cb3a4293'
SPEC_COMPUTER = 'd07a4d51-7cb2-46d1-ad86-91195cb4325a'

# The envelope sample 1 writes around GetAuthConfig (section 4: "All
# protocol messages are wrapped inside the <soap:Envelope> and
# <soap:Body> elements"); sample 2's messages are bodies only.
ENV_OPEN = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
            'envelope/"\nxmlns:xsi="http://www.w3.org/2001/XMLSchema-'
            'instance"\nxmlns:xsd="http://www.w3.org/2001/XMLSchema">\n'
            '<soap:Body>\n')
ENV_CLOSE = '</soap:Body>\n</soap:Envelope>\n'
XML_DECL = '<?xml version="1.0" encoding="utf-8"?>'


def spec(name):
    with open(os.path.join(DATA, name), encoding='utf-8') as f:
        return f.read()


def wrapped(text):
    """TEXT as a whole SOAP 1.1 message: envelopes as they are, a bare
    body inside sample 1's envelope (its XML declaration moved first)."""
    if '<soap:Envelope' in text:
        return text.encode()
    body = text.replace(XML_DECL, '', 1).lstrip('\n')
    return (XML_DECL + '\n' + ENV_OPEN + body + ENV_CLOSE).encode()


def subst(test, text, old_re, new, count=1):
    """TEXT with the COUNT matches of OLD_RE (DOTALL) replaced by NEW;
    fails when the example does not have exactly COUNT of them, so a
    substitution can never silently not happen."""
    out, n = re.subn(old_re, lambda m: new, text, flags=re.S)
    test.assertEqual(n, count, 'substitution %r' % old_re)
    return out


def with_enc(test, text, enc):
    """The spec's DSS cookie replaced by ours: only EncryptedData (wsusd
    reads the expiry inside it; the spec's Expiration stays)."""
    return subst(test, text, r'<EncryptedData>.*?</EncryptedData>',
                 '<EncryptedData>%s</EncryptedData>' % enc)


def tags(xml):
    out = []

    def walk(e, depth):
        out.append((depth, e.tag))
        for c in e:
            walk(c, depth + 1)
    walk(ET.fromstring(xml), 0)
    return out


def q(*names, ns=SD):
    return ['{%s}%s' % (ns, n) for n in names]


def parse_utc(s):
    m = re.fullmatch(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,7})?Z', s)
    if m is None:
        raise AssertionError('not a UTC xs:dateTime: %r' % s)
    return calendar.timegm(time.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S'))


class SpecExamples(harness.DaemonTestCase):
    CONF = {'serversync_anonymous': 'yes'}

    @classmethod
    def populate(cls, d):
        harness.run_wsusutil(d.dir, 'publishingcert', 'create')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.n_cab = 0
            # Two updates in the product the digest example filters on,
            # one elsewhere; the first approved for All Computers.
            cls.u1 = cls.publish('Spec example one', 'Spec Product',
                                 'Security Updates')
            cls.u2 = cls.publish('Spec example two', 'Spec Product',
                                 'Security Updates')
            cls.u3 = cls.publish('Spec example other', 'Other Product',
                                 'Critical Updates')
            harness.run_wsusutil(cls.d.dir, 'approve', cls.u1, '--group',
                                 'All Computers', '--action', 'install')
        except BaseException:
            cls.d.stop()
            cls.d.cleanup()
            raise

    @classmethod
    def publish(cls, title, product, classification):
        cls.n_cab += 1
        base = os.path.join(cls.d.dir, 'pub%d' % cls.n_cab)
        os.mkdir(base)
        src = os.path.join(base, 'payload.txt')
        with open(src, 'wb') as f:
            f.write(('payload %s\n' % title).encode())
        cab = os.path.join(base, 'pkg.cab')
        subprocess.run(['gcab', '-c', '-n', cab, src], check=True,
                       timeout=60)
        p = harness.run_wsusutil(cls.d.dir, 'publish', cab, '--title', title,
                                 '--product', product, '--classification',
                                 classification)
        uid = p.stdout.decode().strip()
        if not re.fullmatch(r'[0-9a-f-]{36}', uid):
            raise AssertionError('publish printed %r' % uid)
        return uid

    # -- helpers ---------------------------------------------------------

    def db(self, sql, *args):
        c = sqlite3.connect(os.path.join(self.d.dir, 'wsusd.db'),
                            timeout=30)
        try:
            return c.execute(sql, args).fetchall()
        finally:
            c.close()

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

    def post(self, path, action, body):
        h = [('Content-Type', 'text/xml; charset=utf-8'),
             ('SOAPAction', '"%s"' % action)]
        return self.d.https('POST', path, headers=h, body=body)

    def ss(self, op, text):
        return self.post(SS_PATH, '%s/%s' % (SD, op), wrapped(text))

    def ok(self, r):
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.header('Content-Type'),
                         'text/xml; charset=utf-8')
        return r.body

    def fault(self, r, code, op, ns=SD):
        """R is the ASMX fault with ErrorCode CODE for OP; returns the
        detail element."""
        self.assertEqual(r.status, 500, r.body)
        f = ET.fromstring(r.body).find('{%s}Body/{%s}Fault' % (ENV, ENV))
        self.assertIsNotNone(f, r.body)
        self.assertEqual(f.findtext('faultcode'), 'soap:Client', r.body)
        det = f.find('detail')
        self.assertEqual(det.findtext('ErrorCode'), code, r.body)
        self.assertEqual(det.findtext('Method'), '"%s/%s"' % (ns, op),
                         r.body)
        return det

    def authorization_cookie(self):
        """CookieData of sample 1's GetAuthorizationCookie, sent as is."""
        r = self.post(DSS_PATH, '%s/GetAuthorizationCookie' % DSS,
                      wrapped(spec('02-GetAuthorizationCookie.xml')))
        return ET.fromstring(self.ok(r)).findtext('.//{%s}CookieData' % DSS)

    def enc(self):
        """A DSS cookie of ours, from sample 1's GetCookie with our
        authorization cookie substituted."""
        text = subst(self, spec('03-GetCookie.xml'),
                     r'<CookieData>.*?</CookieData>',
                     '<CookieData>%s</CookieData>'
                     % self.authorization_cookie())
        body = self.ok(self.ss('GetCookie', text))
        return ET.fromstring(body).findtext('.//{%s}EncryptedData' % SD)

    def revision_ids(self, body):
        t = tags(body)
        self.assertEqual(t[:6], [(0, '{%s}Envelope' % ENV),
                                 (1, '{%s}Body' % ENV)] + [
            (2, q('GetRevisionIdListResponse')[0]),
            (3, q('GetRevisionIdListResult')[0]),
            (4, q('Anchor')[0]), (4, q('NewRevisions')[0])], body)
        item = [(5, q('UpdateIdentity')[0]), (6, q('UpdateID')[0]),
                (6, q('RevisionNumber')[0])]
        self.assertEqual(t[6:], item * ((len(t) - 6) // 3), body)
        x = ET.fromstring(body)
        anchor = x.findtext('.//{%s}Anchor' % SD)
        self.assertRegex(anchor, ANCHOR_RE)
        return anchor, [(i.findtext('{%s}UpdateID' % SD),
                         int(i.findtext('{%s}RevisionNumber' % SD)))
                        for i in x.iter('{%s}UpdateIdentity' % SD)]

    def current_anchor(self, enc):
        """Our anchor now, from an updates pass (sample 2's
        GetRevisionIdList with GetConfig false)."""
        text = spec('05-GetRevisionIdList.xml').replace(
            '<GetConfig>true</GetConfig>', '<GetConfig>false</GetConfig>')
        return self.revision_ids(self.ok(self.ss(
            'GetRevisionIdList', with_enc(self, text, enc))))[0]

    # -- sample 1: authorization ----------------------------------------

    def test_01_get_auth_config(self):
        # Verbatim: nothing to substitute.
        r = self.ss('GetAuthConfig', spec('01-GetAuthConfig.xml'))
        body = self.ok(r)
        self.assertEqual(tags(body), [
            (0, '{%s}Envelope' % ENV), (1, '{%s}Body' % ENV),
            (2, q('GetAuthConfigResponse')[0]),
            (3, q('GetAuthConfigResult')[0]),
            (4, q('LastChange')[0]), (4, q('AuthInfo')[0]),
            (5, q('AuthPlugInInfo')[0]), (6, q('PlugInID')[0]),
            (6, q('ServiceUrl')[0])], body)
        x = ET.fromstring(body)
        # The values of the spec's GetAuthConfig response.
        self.assertEqual(x.findtext('.//{%s}PlugInID' % SD), 'DssTargeting')
        self.assertEqual(x.findtext('.//{%s}ServiceUrl' % SD),
                         'DssAuthWebService/DssAuthWebService.asmx')
        self.assertLessEqual(parse_utc(x.findtext('.//{%s}LastChange' % SD)),
                             time.time() + 5)

    def test_02_get_authorization_cookie(self):
        # Verbatim: the spec's accountName and (mixed-case) accountGuid.
        r = self.post(DSS_PATH, '%s/GetAuthorizationCookie' % DSS,
                      wrapped(spec('02-GetAuthorizationCookie.xml')))
        body = self.ok(r)
        self.assertEqual(tags(body)[2:], [
            (2, '{%s}GetAuthorizationCookieResponse' % DSS),
            (3, '{%s}GetAuthorizationCookieResult' % DSS),
            (4, '{%s}PlugInId' % DSS), (4, '{%s}CookieData' % DSS)], body)
        x = ET.fromstring(body)
        self.assertEqual(x.findtext('.//{%s}PlugInId' % DSS), 'DssTargeting')
        self.assertGreater(len(base64.b64decode(
            x.findtext('.//{%s}CookieData' % DSS), validate=True)), 100)
        # The DSS is recorded under the spec's name and GUID.
        rows = self.db('SELECT fqdn FROM downstream_server WHERE server_id '
                       '= ?', SPEC_DSS_GUID)
        self.assertEqual(rows, [(SPEC_DSS_NAME,)])

    def test_03_get_cookie(self):
        text = spec('03-GetCookie.xml')
        # Verbatim, the spec's trimmed CookieData (another server's) is no
        # authorization cookie of ours.
        self.fault(self.ss('GetCookie', text), 'InvalidAuthorizationCookie',
                   'GetCookie')
        # Substituted: CookieData (with the TRIMMED comments) by ours; the
        # spec's protocolVersion 1.2 and everything else as written.
        data = self.authorization_cookie()
        text = subst(self, text, r'<CookieData>.*?</CookieData>',
                     '<CookieData>%s</CookieData>' % data)
        before = time.time()
        body = self.ok(self.ss('GetCookie', text))
        self.assertEqual(tags(body)[2:], [
            (2, q('GetCookieResponse')[0]), (3, q('GetCookieResult')[0]),
            (4, q('Expiration')[0]), (4, q('EncryptedData')[0])], body)
        x = ET.fromstring(body)
        exp = parse_utc(x.findtext('.//{%s}Expiration' % SD))
        self.assertGreaterEqual(exp, int(before) + COOKIE_MINUTES * 60 - 1)
        self.assertLessEqual(exp, time.time() + COOKIE_MINUTES * 60)
        self.assertGreater(len(base64.b64decode(
            x.findtext('.//{%s}EncryptedData' % SD), validate=True)), 100)

    # -- sample 2: metadata and deployments -----------------------------

    def test_04_get_config_data(self):
        text = spec('04-GetConfigData.xml')
        self.fault(self.ss('GetConfigData', text), 'InvalidCookie',
                   'GetConfigData')
        # Substituted: EncryptedData. No configAnchor, as in the spec.
        body = self.ok(self.ss('GetConfigData',
                               with_enc(self, text, self.enc())))
        head = [(2, q('GetConfigDataResponse')[0]),
                (3, q('GetConfigDataResult')[0])] + [
            (4, n) for n in q(
                'CatalogOnlySync', 'LazySync', 'ServerHostsPsfFiles',
                'MaxNumberOfUpdatesPerRequest',
                'MaxNumberOfDriverSetsPerRequest',
                'MaxNumberOfComputerIdsInRequest',
                'MaxNumberOfPnpHardwareIdsInRequest', 'NewConfigAnchor',
                'ProtocolVersion', 'LanguageUpdateList')]
        item = [(5, q('ServerSyncLanguageData')[0])] + [
            (6, n) for n in q('LanguageID', 'ShortLanguage', 'LongLanguage',
                              'Enabled')]
        tail = [(4, q('MaxUpdatesPerRequestInGetUpdateDecryptionData')[0])]
        t = tags(body)[2:]
        n = (len(t) - len(head) - len(tail)) // len(item)
        self.assertEqual(t, head + item * n + tail, body)
        res = ET.fromstring(body).find('.//{%s}GetConfigDataResult' % SD)

        def txt(name):
            return res.findtext('{%s}%s' % (SD, name))
        # As the spec's answer: MaxNumberOfUpdatesPerRequest 100, the
        # first language the "all" entry, English 1033 listed.
        self.assertEqual(txt('MaxNumberOfUpdatesPerRequest'), '100')
        self.assertRegex(txt('NewConfigAnchor'), ANCHOR_RE)
        langs = [tuple(e.findtext('{%s}%s' % (SD, c)) for c in (
            'LanguageID', 'ShortLanguage', 'LongLanguage'))
            for e in res.iter('{%s}ServerSyncLanguageData' % SD)]
        self.assertEqual(langs[0], ('0', 'all', 'all'))
        self.assertIn(('1033', 'en', 'English'), langs)

    def test_05_get_revision_id_list_config(self):
        text = spec('05-GetRevisionIdList.xml')
        self.fault(self.ss('GetRevisionIdList', text), 'InvalidCookie',
                   'GetRevisionIdList')
        # Substituted: EncryptedData. GetConfig true, no Anchor: the whole
        # config pass.
        anchor, revs = self.revision_ids(self.ok(self.ss(
            'GetRevisionIdList', with_enc(self, text, self.enc()))))
        ids = dict(revs)
        for cid in (MICROSOFT, SECURITY, CRITICAL,
                    self.category('Spec Product'),
                    self.category('Other Product')):
            self.assertIn(cid, ids)
        for uid in (self.u1, self.u2, self.u3):  # updates: not config
            self.assertNotIn(uid, ids)
        self.assertLess(int(anchor.split(',')[0]), SPEC_ANCHOR_N)

    def test_06_get_update_data(self):
        text = spec('06-GetUpdateData.xml')
        self.fault(self.ss('GetUpdateData', text), 'InvalidCookie',
                   'GetUpdateData')
        enc = self.enc()
        text = with_enc(self, text, enc)
        # Cookie substituted, the spec's ids (Microsoft Update's, unknown
        # here): empty lists, no fault.
        body = self.ok(self.ss('GetUpdateData', text))
        self.assertEqual(tags(body)[2:], [
            (2, q('GetUpdateDataResponse')[0]),
            (3, q('GetUpdateDataResult')[0]),
            (4, q('updates')[0]), (4, q('fileUrls')[0])], body)
        # And the two ids substituted by our published updates.
        r1, r2 = self.rev(self.u1), self.rev(self.u2)
        text = subst(self, text, r'<UpdateID>0287014e-6772-4b4d-81f7-'
                     r'42063ac26e8a</UpdateID>\s*<RevisionNumber>100<',
                     '<UpdateID>%s</UpdateID>\n<RevisionNumber>%d<'
                     % (self.u1, r1))
        text = subst(self, text, r'<UpdateID>36b1c48e-c741-4047-9b09-'
                     r'd38698ed34b3</UpdateID>\s*<RevisionNumber>101<',
                     '<UpdateID>%s</UpdateID>\n<RevisionNumber>%d<'
                     % (self.u2, r2))
        body = self.ok(self.ss('GetUpdateData', text))
        item = [(5, q('ServerSyncUpdateData')[0]), (6, q('Id')[0]),
                (7, q('UpdateID')[0]), (7, q('RevisionNumber')[0]),
                (6, q('XmlUpdateBlob')[0]), (6, q('FileDigestList')[0]),
                (7, q('base64Binary')[0])]
        url = [(5, q('ServerSyncUrlData')[0]), (6, q('FileDigest')[0])]
        self.assertEqual(tags(body)[2:], [
            (2, q('GetUpdateDataResponse')[0]),
            (3, q('GetUpdateDataResult')[0]), (4, q('updates')[0])] +
            item * 2 + [(4, q('fileUrls')[0])] + url * 2, body)
        x = ET.fromstring(body)
        got = []
        for u in x.iter('{%s}ServerSyncUpdateData' % SD):
            doc = ET.fromstring(u.findtext('{%s}XmlUpdateBlob' % SD))
            self.assertEqual(doc.tag, '{%s}Update' % UPD)
            ident = doc.find('{%s}UpdateIdentity' % UPD)
            self.assertEqual(ident.get('UpdateID'),
                             u.findtext('{%s}Id/{%s}UpdateID' % (SD, SD)))
            got.append((ident.get('UpdateID'),
                        int(ident.get('RevisionNumber'))))
            digest = u.findtext('.//{%s}base64Binary' % SD)
            self.assertEqual(len(base64.b64decode(digest)), 20)
        self.assertEqual(sorted(got), sorted([(self.u1, r1), (self.u2, r2)]))

    def test_07_get_deployments(self):
        text = spec('07-GetDeployments.xml')
        enc = self.enc()
        ours = int(self.current_anchor(enc).split(',')[0])
        self.assertLess(ours, SPEC_ANCHOR_N)
        # Substituted: EncryptedData. The spec's syncAnchor (n 4742, above
        # ours: another database's) counts as our current generation, and
        # no deploymentAnchor: every approval.
        body = self.ok(self.ss('GetDeployments', with_enc(self, text, enc)))
        res = ET.fromstring(body).find('.//{%s}GetDeploymentsResult' % SD)
        self.assertEqual([c.tag for c in res], q(
            'Anchor', 'Groups', 'Deployments', 'DeadDeployments',
            'HiddenUpdates', 'AcceptedEulas'), body)
        anchor = res.findtext('{%s}Anchor' % SD)
        self.assertRegex(anchor, ANCHOR_RE)
        self.assertEqual(int(anchor.split(',')[0]), ours)
        groups = {}
        for g in res.find('{%s}Groups' % SD):
            self.assertEqual([c.tag for c in g], q(
                'TargetGroupID', 'ParentGroupId', 'Name', 'IsBuiltin'))
            groups[g.findtext('{%s}TargetGroupID' % SD)] = (
                g.findtext('{%s}Name' % SD), g.findtext('{%s}IsBuiltin' % SD))
        # The built-in groups of the spec's answer, same ids.
        self.assertEqual(groups[ALL_COMPUTERS], ('All Computers', 'true'))
        self.assertEqual(groups[UNASSIGNED], ('Unassigned Computers', 'true'))
        deps = []
        for dp in res.find('{%s}Deployments' % SD):
            names = ('UpdateId', 'RevisionNumber', 'Action', 'AdminName',
                     'Deadline', 'IsAssigned', 'GoLiveTime', 'DeploymentGuid',
                     'TargetGroupId', 'DownloadPriority')
            self.assertEqual([c.tag for c in dp], q(*names), body)
            deps.append({n: dp.findtext('{%s}%s' % (SD, n)) for n in names})
        self.assertEqual([(d['UpdateId'], int(d['RevisionNumber']),
                           d['Action'], d['Deadline'], d['TargetGroupId'])
                          for d in deps],
                         [(self.u1, self.rev(self.u1), '0',
                           '9999-12-31T23:59:59.9999999', ALL_COMPUTERS)])
        for n in ('DeadDeployments', 'HiddenUpdates', 'AcceptedEulas'):
            self.assertEqual(list(res.find('{%s}%s' % (SD, n))), [], n)

    def test_08_soap_fault_sample(self):
        """Sample 4: GetDeployments with an invalid cookie. Sample 2's
        GetDeployments sent verbatim (its cookie is another server's)
        must get the spec's fault: faultcode, ErrorCode and Method as
        there, detail children in its order."""
        want = ET.fromstring(spec('14-fault-GetDeployments-InvalidCookie.xml')
                             ).find('{%s}Body/{%s}Fault' % (ENV, ENV))
        wdet = want.find('detail')
        r = self.ss('GetDeployments', spec('07-GetDeployments.xml'))
        self.assertEqual(r.status, 500, r.body)
        f = ET.fromstring(r.body).find('{%s}Body/{%s}Fault' % (ENV, ENV))
        self.assertIsNotNone(f, r.body)
        self.assertEqual(f.findtext('faultcode'), want.findtext('faultcode'))
        det = f.find('detail')
        self.assertEqual([c.tag for c in det], [c.tag for c in wdet])
        for n in ('ErrorCode', 'Method'):
            self.assertEqual(det.findtext(n), wdet.findtext(n), r.body)
        self.assertEqual(det.findtext('ErrorCode'), 'InvalidCookie')
        self.assertRegex(det.findtext('ID'), r'^[0-9a-f]{8}-[0-9a-f]{4}-'
                         r'[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
        self.assertNotEqual(det.findtext('ID'), wdet.findtext('ID'))

    # -- WSUSSS.md 13: the digest's GetRevisionIdList -------------------

    def test_09_digest_revision_id_list(self):
        enc = self.enc()
        ours = self.current_anchor(enc)
        self.assertLess(int(ours.split(',')[0]), SPEC_ANCHOR_N)
        product = self.category('Spec Product')
        text = spec('13-GetRevisionIdList-digest.xml')
        # Substituted: the placeholders "base64…" (our cookie),
        # "product-guid" and "classification-guid" (Spec Product and
        # Security Updates). Anchor, Delta flags and Languages as written.
        text = subst(self, text, r'<EncryptedData>base64…</EncryptedData>',
                     '<EncryptedData>%s</EncryptedData>' % enc)
        text = subst(self, text, r'<Id>product-guid</Id>',
                     '<Id>%s</Id>' % product)
        text = subst(self, text, r'<Id>classification-guid</Id>',
                     '<Id>%s</Id>' % SECURITY)
        # The foreign anchor (n above ours) is not trusted: the full list
        # of what matches product and classification.
        anchor, revs = self.revision_ids(self.ok(self.ss('GetRevisionIdList',
                                                         text)))
        self.assertEqual(sorted(revs), sorted([(self.u1, self.rev(self.u1)),
                                               (self.u2, self.rev(self.u2))]))
        self.assertEqual(int(anchor.split(',')[0]), int(ours.split(',')[0]))
        # Control: the same request with our own current anchor instead
        # of the spec's has nothing new (Delta true).
        mine = subst(self, text, r'<Anchor>4742,2006-05-26 18:59:26\.192'
                     r'</Anchor>', '<Anchor>%s</Anchor>' % anchor)
        self.assertEqual(self.revision_ids(self.ok(self.ss(
            'GetRevisionIdList', mine)))[1], [])

    # -- sample 3: reporting data synchronization -----------------------

    def rollup(self, op, name):
        r = self.post(REPORT_PATH, '%s/%s' % (SD, op), wrapped(spec(name)))
        return self.ok(r)

    def test_10_reporting_sample(self):
        """The five messages of sample 3, verbatim (the dummy cookie
        needs no substitution), in the spec's order."""
        body = self.rollup('GetRollupConfiguration',
                           '08-GetRollupConfiguration.xml')
        res = ET.fromstring(body).find(
            './/{%s}GetRollupConfigurationResult' % SD)
        self.assertIsNotNone(res, body)
        names = ('DoDetailedRollup', 'RollupResetGuid', 'ServerId',
                 'RollupDownstreamServersMaxBatchSize',
                 'RollupComputersMaxBatchSize',
                 'GetOutOfSyncComputersMaxBatchSize',
                 'RollupComputerStatusMaxBatchSize')
        self.assertEqual([c.tag for c in res], q(*names), body)
        got = {n: res.findtext('{%s}%s' % (SD, n)) for n in names}
        # The batch sizes of the spec's answer.
        self.assertEqual([got[n] for n in names[3:]],
                         ['5000', '1500', '20000', '500'])
        self.assertEqual(got['DoDetailedRollup'], 'true')

        body = self.rollup('RollupDownstreamServers',
                           '09-RollupDownstreamServers.xml')
        self.assertEqual(tags(body)[2:], [
            (2, q('RollupDownstreamServersResponse')[0])], body)
        (fqdn, version, replica, parent, summary), = self.db(
            'SELECT full_domain_name, version, is_replica, '
            'parent_server_id, summary FROM rollup_server WHERE server_id '
            '= ?', SPEC_SERVER)
        self.assertEqual((fqdn, version, replica, parent),
                         ('yasufs64.ntdev.corp.microsoft.com',
                          '3.0.6000.354', 1,
                          '00000000-0000-0000-0000-000000000000'))
        self.assertEqual(summary.split(',')[:4], ['1002', '29', '2', '971'])

        body = self.rollup('RollupComputers', '10-RollupComputers.xml')
        self.assertEqual(tags(body)[2:], [
            (2, q('RollupComputersResponse')[0]),
            (3, q('RollupComputersResult')[0])], body)
        (parent, fqdn, model, ip), = self.db(
            'SELECT parent_server_id, full_domain_name, model, ip_address '
            'FROM rollup_computer WHERE computer_id = ?', SPEC_COMPUTER)
        self.assertEqual((parent, fqdn, model, ip), (
            SPEC_SERVER, 'yasufs64.ntdev.corp.microsoft.com',
            'HP Compaq dc7600 Convertible Minitower', '127.0.0.1'))

        body = self.rollup('GetOutOfSyncComputers',
                           '11-GetOutOfSyncComputers.xml')
        t = tags(body)[2:]
        self.assertEqual(t[:2], [(2, q('GetOutOfSyncComputersResponse')[0]),
                                 (3, q('GetOutOfSyncComputersResult')[0])],
                         body)
        self.assertEqual(t[2:], [(4, q('string')[0])] * (len(t) - 2), body)
        # The spec's last RollupNumber (2) is not ours (no status rolled
        # up yet): the computer is out of sync, to be sent in full.
        self.assertEqual([e.text for e in ET.fromstring(body).iter(
            '{%s}string' % SD)], [SPEC_COMPUTER])

        self.assertEqual(self.db('SELECT count(*) FROM rollup_status WHERE '
                                 'computer_id = ?', SPEC_COMPUTER), [(0,)])
        body = self.rollup('RollupComputerStatus',
                           '12-RollupComputerStatus.xml')
        self.assertEqual(tags(body)[2:], [
            (2, q('RollupComputerStatusResponse')[0]),
            (3, q('RollupComputerStatusResult')[0])], body)
        self.assertEqual(ET.fromstring(body).findtext(
            './/{%s}RollupComputerStatusResult' % SD), 'true')
        self.assertEqual(sorted(self.db(
            'SELECT update_id, state FROM rollup_status WHERE computer_id '
            '= ?', SPEC_COMPUTER)), [
            ('09de7a79-5c09-4f3a-972e-cc1bbb7ca7e4', 4),
            ('5eb6225f-5d33-4213-a6b4-fcdd9f672d75', 5)])
        # Control: with the RollupNumber just sent (3) substituted for the
        # spec's 2, nothing is out of sync any more.
        text = subst(self, spec('11-GetOutOfSyncComputers.xml'),
                     r'<RollupNumber>2</RollupNumber>',
                     '<RollupNumber>3</RollupNumber>')
        body = self.ok(self.post(REPORT_PATH, '%s/GetOutOfSyncComputers'
                                 % SD, wrapped(text)))
        self.assertEqual(tags(body)[2:], [
            (2, q('GetOutOfSyncComputersResponse')[0]),
            (3, q('GetOutOfSyncComputersResult')[0])], body)


if __name__ == '__main__':
    harness.main()
