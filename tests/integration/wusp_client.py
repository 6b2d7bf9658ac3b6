"""The MS-WUSP client side shared by the integration tests (Python 3
standard library only: imported by the pyenv python3 and /usr/bin/python3
alike). Not a test itself.

The requests are the captured Windows 11 ones (../shared/protocol/vectors/
native-capture-wsus-rs) with wsusd's own cookies substituted, posted over
raw TLS sockets with harness.request() so nothing normalises them.

  capture(), text(), shape()      captured bytes; one element's text; the
                                  element shape of an answer
  with_cookie(), getcookie_body(), sync_body(), driver_sync_body(),
  envelope(), cookie_xml()        request bodies
  Client                          POST to one daemon; the session start
                                  GetConfig -> GetAuthorizationCookie ->
                                  GetCookie -> RegisterComputer
  fault(), fault_code()           a SOAP fault's ErrorCode (and Message)
  Page, sync_page(), full_pass(), software_pass(), updates_of()
                                  SyncUpdates answers and the client's
                                  iterative software pass
  publish(), approve(), categories(), publishing_cert(), make_cab()
                                  the catalog, through wsusutil and gcab
  stored_events()                 how many reported events wsusd stored

Helpers that check something raise AssertionError (unittest's messages),
so a test that calls them fails, not errors, on a wrong answer.
"""

import collections
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import harness

VEC = os.path.join(harness.REPO, '..', 'shared', 'protocol', 'vectors',
                   'native-capture-wsus-rs')
CLIENT = 'http://www.microsoft.com/SoftwareDistribution/Server/' \
         'ClientWebService'
AUTH = 'http://www.microsoft.com/SoftwareDistribution/Server/' \
       'SimpleAuthWebService'
REPORTING = 'http://www.microsoft.com/SoftwareDistribution'
NS = '{%s}' % CLIENT
CLIENT_PATH = '/ClientWebService/client.asmx'
AUTH_PATH = '/SimpleAuthWebService/SimpleAuth.asmx'
REPORT_PATH = '/ReportingWebService/ReportingWebService.asmx'
REPORTING_OPS = ('ReportEventBatch', 'ReportEventBatch2',
                 'GetRequiredInventoryType', 'ReportInventory')

# The children of SyncInfo in schema order (WUSP.md 3.6).
SYNC_INFO = ['NewUpdates', 'OutOfScopeRevisionIDs', 'ChangedUpdates',
             'Truncated', 'NewCookie', 'DeployedOutOfScopeRevisionIds',
             'DriverSyncNotNeeded']

# unittest's assertions (and messages) outside a test method.
_check = unittest.TestCase()


# ---------------------------------------------------------------- XML

def capture(kind, n, what='request.body'):
    """The bytes of capture KIND/N/WHAT, e.g. ('scan', '000001'); the
    test is skipped when ../shared is not beside the repository."""
    p = os.path.join(VEC, kind, n, what)
    if not os.path.exists(p):
        raise unittest.SkipTest('capture not found: %s (../shared must '
                                'sit beside the repository)' % p)
    with open(p, 'rb') as f:
        return f.read()


def text(xml, tag):
    """The text of the first TAG element (any namespace) of XML; None
    when there is none."""
    e = ET.fromstring(xml).find('.//{*}' + tag)
    return None if e is None else (e.text or '')


def shape(x, depth=0):
    """Element paths of X (XML text or an element) in document order:
    [(depth, {ns}tag)]. Two answers with equal shapes have the same
    elements in the same order and namespaces; values may differ."""
    e = ET.fromstring(x) if isinstance(x, (bytes, str)) else x
    out = [(depth, e.tag)]
    for c in e:
        out += shape(c, depth + 1)
    return out


# ---------------------------------------------------------------- bodies

def _str(body):
    return body.decode() if isinstance(body, bytes) else body


def set_text(body, tag, value):
    """BODY with the text of every <TAG>...</TAG> replaced by VALUE."""
    return re.sub(r'<%s>[^<]*</%s>' % (tag, tag),
                  lambda m: '<%s>%s</%s>' % (tag, value, tag), _str(body))


def with_cookie(body, cookie):
    """BODY (a captured request) with our cookie's EncryptedData."""
    return set_text(body, 'EncryptedData', cookie)


def getcookie_body(auth, last_change, old=None, expiration=None):
    """GetCookie (scan/000003) with authorization cookie AUTH and
    GetConfig's LAST_CHANGE. OLD, when given, is the EncryptedData of the
    old cookie (a renewal), with the captured Expiration or EXPIRATION."""
    body = capture('scan', '000003').decode()
    body = set_text(body, 'CookieData', auth)
    body = set_text(body, 'lastChange', last_change)
    if old is not None:
        body, n = re.subn(
            r'<oldCookie><Expiration>([^<]*)</Expiration></oldCookie>',
            lambda m: '<oldCookie><Expiration>%s</Expiration><EncryptedData>'
            '%s</EncryptedData></oldCookie>' % (expiration or m.group(1),
                                                old), body)
        _check.assertEqual(n, 1, 'no oldCookie in scan/000003')
    return body


def ints(ids):
    return ''.join('<int>%d</int>' % i for i in ids)


def with_cache(body, installed, other):
    """BODY (a SyncUpdates request) with the client's cache lists."""
    ids = ''
    if installed:
        ids += '<InstalledNonLeafUpdateIDs>%s</InstalledNonLeafUpdateIDs>' \
            % ints(installed)
    if other:
        ids += '<OtherCachedUpdateIDs>%s</OtherCachedUpdateIDs>' % \
            ints(other)
    return body.replace('</ExpressQuery>', '</ExpressQuery>' + ids, 1)


def sync_body(cookie, installed=(), other=(), categories=None,
              two_groups=None):
    """SyncUpdates of the software pass (scan/000006) with COOKIE and the
    client's cache lists. CATEGORIES None drops FilterCategoryIds (the
    unfiltered scan, flow/000001, sends none); a list of category ids
    filters the scan to them. TWO_GROUPS, when not None, sets
    NeedTwoGroupOutOfScopeUpdates."""
    body = with_cookie(capture('scan', '000006'), cookie)
    if categories is None:
        filt = ''
    else:
        filt = '<FilterCategoryIds>%s</FilterCategoryIds>' % ''.join(
            '<CategoryIdentifier><Id>%s</Id></CategoryIdentifier>' % c
            for c in categories)
    body = re.sub(r'<FilterCategoryIds>.*</FilterCategoryIds>',
                  lambda m: filt, body)
    if two_groups is not None:
        body = re.sub(r'<NeedTwoGroupOutOfScopeUpdates>[a-z]*<',
                      '<NeedTwoGroupOutOfScopeUpdates>%s<' %
                      ('true' if two_groups else 'false'), body)
    return with_cache(body, installed, other)


def driver_sync_body(cookie, installed=None, cached=None, devices=None):
    """SyncUpdates of the driver pass (flow/000014: 75 devices) with
    COOKIE; INSTALLED replaces InstalledNonLeafUpdateIDs, DEVICES the
    SystemSpec, CACHED adds CachedDriverIDs (each when given)."""
    body = with_cookie(capture('flow', '000014'), cookie)
    if installed is not None:
        body = re.sub(
            r'<InstalledNonLeafUpdateIDs>.*</InstalledNonLeafUpdateIDs>',
            lambda m: '<InstalledNonLeafUpdateIDs>%s'
            '</InstalledNonLeafUpdateIDs>' % ints(installed), body)
    if devices is not None:
        body = re.sub(r'<SystemSpec>.*</SystemSpec>',
                      lambda m: '<SystemSpec>%s</SystemSpec>' % devices,
                      body)
    if cached is not None:
        body = body.replace('</SystemSpec>', '</SystemSpec><CachedDriverIDs>'
                            '%s</CachedDriverIDs>' % ints(cached), 1)
    return body


def envelope(op, ns, inner):
    """A SOAP 1.1 request for OP in namespace NS around INNER."""
    return ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
            '<s:Body><%s xmlns="%s">%s</%s></s:Body></s:Envelope>'
            % (op, ns, inner, op)).encode()


def cookie_xml(cookie):
    """A <cookie> argument with EncryptedData COOKIE."""
    return ('<cookie><Expiration>2026-10-04T16:03:35Z</Expiration>'
            '<EncryptedData>%s</EncryptedData></cookie>' % cookie)


# ---------------------------------------------------------------- client

def endpoint(op):
    """(path, namespace) of operation OP: its service's."""
    if op == 'GetAuthorizationCookie':
        return AUTH_PATH, AUTH
    if op in REPORTING_OPS:
        return REPORT_PATH, REPORTING
    return CLIENT_PATH, CLIENT


def expect_status(r, status=200):
    _check.assertEqual(r.status, status, r.body)


def fault(r):
    """(ErrorCode, Message) of SOAP fault R, which must be a 500."""
    expect_status(r, 500)
    return text(r.body, 'ErrorCode'), text(r.body, 'Message')


def fault_code(r):
    return fault(r)[0]


Session = collections.namedtuple('Session',
                                 'last_change cookie expiration')


class Client:
    """POSTs SOAP requests to the HTTPS port of daemon D (a harness.Wsusd)
    with Content-Type, SOAPAction, then HEADERS. READ(response) gives an
    answer's XML (the body by default; test_xpress decodes it)."""

    def __init__(self, d, headers=(), read=None):
        self.d = d
        self.headers = list(headers)
        self.read = read or (lambda r: r.body)

    def post(self, path, action, body, headers=()):
        """POST BODY to PATH with SOAPAction ACTION (a full URI)."""
        if isinstance(body, str):
            body = body.encode()
        h = [('Content-Type', 'text/xml; charset=utf-8'),
             ('SOAPAction', '"%s"' % action)] + self.headers + list(headers)
        return harness.request(self.d.https_port, 'POST', path, h, body,
                               tls=self.d.ctx())

    def call(self, op, body, headers=()):
        """POST BODY as operation OP to its service (endpoint())."""
        path, ns = endpoint(op)
        return self.post(path, '%s/%s' % (ns, op), body, headers)

    # -- the session start, scan/000001-4 -------------------------------

    def getconfig(self):
        """GetConfig (scan/000001); the answer must be a 200."""
        r = self.call('GetConfig', capture('scan', '000001'))
        expect_status(r)
        return r

    def authcookie(self):
        """GetAuthorizationCookie (scan/000002), which must be a 200;
        returns its CookieData."""
        r = self.call('GetAuthorizationCookie', capture('scan', '000002'))
        expect_status(r)
        return text(self.read(r), 'CookieData')

    def getcookie(self, auth, last_change, old=None, expiration=None):
        """GetCookie (see getcookie_body()); the answer unchecked."""
        return self.call('GetCookie', getcookie_body(auth, last_change, old,
                                                     expiration))

    def register(self, cookie):
        """RegisterComputer (scan/000004) with COOKIE; unchecked."""
        return self.call('RegisterComputer',
                         with_cookie(capture('scan', '000004'), cookie))

    def session(self, register=True):
        """GetConfig -> GetAuthorizationCookie -> GetCookie ->
        RegisterComputer (unless not REGISTER), each answered 200.
        Returns Session(last_change, cookie, expiration)."""
        last_change = text(self.read(self.getconfig()), 'LastChange')
        r = self.getcookie(self.authcookie(), last_change)
        expect_status(r)
        xml = self.read(r)
        s = Session(last_change, text(xml, 'EncryptedData'),
                    text(xml, 'Expiration'))
        if register:
            r = self.register(s.cookie)
            expect_status(r)
            self.read(r)
        return s


# ---------------------------------------------------------------- SyncUpdates

class Page:
    """A parsed SyncUpdatesResult."""

    def __init__(self, body):
        self.root = ET.fromstring(body)
        self.result = self.root.find('.//' + NS + 'SyncUpdatesResult')
        _check.assertIsNotNone(self.result, body)
        self.children = [c.tag[len(NS):] for c in self.result]
        self.infos = self.result.findall(NS + 'NewUpdates/' + NS +
                                         'UpdateInfo')
        self.truncated = self.result.find(NS + 'Truncated').text
        oos = self.result.find(NS + 'OutOfScopeRevisionIDs')
        self.out_of_scope = [] if oos is None else \
            [int(i.text) for i in oos]
        dep = self.result.find(NS + 'DeployedOutOfScopeRevisionIds')
        self.deployed_oos = [] if dep is None else [int(i.text) for i in dep]
        self.cookie = self.result.find(NS + 'NewCookie/' + NS +
                                       'EncryptedData').text
        # ChangedUpdates: {revision id: (action, IsLeaf)}; no Xml there.
        self.changed = {}
        for i in self.result.findall(NS + 'ChangedUpdates/' + NS +
                                     'UpdateInfo'):
            _check.assertIsNone(i.find(NS + 'Xml'), body)
            self.changed[int(i.find(NS + 'ID').text)] = (
                i.find(NS + 'Deployment/' + NS + 'Action').text,
                i.find(NS + 'IsLeaf').text)
        self.expiration = self.result.find(NS + 'NewCookie/' + NS +
                                           'Expiration').text

    def updates(self):
        """{UpdateID: (revision id, action, IsLeaf, deployment id)}."""
        out = {}
        for i in self.infos:
            xml = i.find(NS + 'Xml').text
            uid = re.search(r'UpdateID="([^"]+)"', xml).group(1).lower()
            out[uid] = (int(i.find(NS + 'ID').text),
                        i.find(NS + 'Deployment/' + NS + 'Action').text,
                        i.find(NS + 'IsLeaf').text,
                        int(i.find(NS + 'Deployment/' + NS + 'ID').text))
        return out


def sync_page(r, expiration):
    """The Page of answer R to a software-pass SyncUpdates, checked: 200,
    SyncInfo's children in schema order with DriverSyncNotNeeded last,
    and the NewCookie keeps GetCookie's EXPIRATION (WUSP.md 3.6, 5.2)."""
    expect_status(r)
    p = Page(r.body)
    _check.assertEqual(p.children, [c for c in SYNC_INFO
                                    if c in p.children])
    _check.assertEqual(p.children[-1], 'DriverSyncNotNeeded')
    _check.assertEqual(p.expiration, expiration)
    return p


def full_pass(sync, cookie, installed=(), other=(), max_pages=20):
    """The client's software pass (WUSP.md 4.1 item 1), bounded: pages
    from SYNC(cookie, installed, other) -> Page, each with the NewCookie
    of the one before; the revisions a page returns with IsLeaf=false are
    reported back as installed non-leaf, the others as other cached, and
    out-of-scope ones are dropped; the pass ends on an untruncated page
    with no non-leaf revision. Returns (pages, installed, other, cookie)."""
    installed, other, pages = list(installed), list(other), []
    for _ in range(max_pages):
        p = sync(cookie, installed, other)
        cookie = p.cookie
        pages.append(p)
        nonleaf = False
        for rid, _, leaf, _ in p.updates().values():
            if leaf == 'false':
                installed.append(rid)
                nonleaf = True
            else:
                other.append(rid)
        gone = set(p.out_of_scope)
        installed = [i for i in installed if i not in gone]
        other = [i for i in other if i not in gone]
        if p.truncated == 'false' and not nonleaf:
            return pages, installed, other, cookie
    _check.fail('software pass did not end in %d pages' % max_pages)


def software_pass(client, cookie, expiration, installed=(), other=()):
    """full_pass() of unfiltered software scans (sync_body()) posted by
    CLIENT, each page checked by sync_page() against EXPIRATION."""
    def sync(ck, inst, oth):
        r = client.call('SyncUpdates', sync_body(ck, inst, oth))
        return sync_page(r, expiration)
    return full_pass(sync, cookie, installed, other)


def updates_of(pages):
    """The updates of all PAGES: {UpdateID: Page.updates() value}."""
    seen = {}
    for p in pages:
        seen.update(p.updates())
    return seen


# ---------------------------------------------------------------- catalog

def make_cab(directory, member, payload, cab='update.cab'):
    """DIRECTORY/CAB, built with gcab, holding one file MEMBER with
    PAYLOAD (str or bytes); returns its path."""
    os.makedirs(directory, exist_ok=True)
    src = os.path.join(directory, member)
    with open(src, 'wb') as f:
        f.write(payload.encode() if isinstance(payload, str) else payload)
    path = os.path.join(directory, cab)
    subprocess.run(['gcab', '-c', '-n', path, src], check=True,
                   cwd=directory, timeout=60)
    return path


def publishing_cert(d):
    """Creates D's publishing certificate (a second call changes
    nothing)."""
    harness.run_wsusutil(d.dir, 'publishingcert', 'create', check=False)


def approve(d, update_id, group='All Computers', *extra):
    harness.run_wsusutil(d.dir, 'approve', update_id, '--group', group,
                         *extra)


def publish(d, title, *extra, product, classification='Updates',
            member=None, payload=None, cab=None, approve_for=None):
    """`wsusutil publish` on daemon D's data directory of CAB (TITLE.cab)
    with one file MEMBER (TITLE.txt) holding PAYLOAD (TITLE), built in a
    fresh directory under D.base; EXTRA are more publish options.
    Approved for group APPROVE_FOR when given. Returns the update id."""
    work = tempfile.mkdtemp(prefix='cab-', dir=d.base)
    cab = make_cab(work, member or title + '.txt',
                   title if payload is None else payload,
                   cab or title + '.cab')
    out = harness.run_wsusutil(d.dir, 'publish', cab, '--title', title,
                               '--product', product, '--classification',
                               classification, *extra).stdout.decode()
    m = re.search(r'[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', out)
    _check.assertIsNotNone(m, out)
    if approve_for is not None:
        approve(d, m.group(0), approve_for)
    return m.group(0)


def categories(d):
    """{title: update id} of `wsusutil updates list --categories`."""
    out = harness.run_wsusutil(d.dir, 'updates', 'list', '--categories',
                               '--json').stdout.decode()
    return {u['title']: u['update_id'] for u in json.loads(out)}


def stored_events(d):
    """How many client events (ReportEventBatch) D's database holds."""
    db = sqlite3.connect(d.path('wsusd.db'))
    try:
        return db.execute('SELECT count(*) FROM client_event').fetchone()[0]
    finally:
        db.close()
