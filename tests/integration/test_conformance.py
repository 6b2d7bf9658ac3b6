#!/usr/bin/env python3
"""MS-WUSP conformance gate: every native captured client request in
../shared/protocol/vectors/native-capture-wsus-rs (Windows 11 WUA against
Windows Server 2025 WSUS: scan/000001-000010, flow/000001, 000003,
000012-000018) is replayed against wsusd in capture order, with the
captured path, SOAPAction and headers, and each answer must have
  1. the captured HTTP status (all are 200);
  2. the real server's shape: the same elements in the same order and
     namespaces as the captured answer, values aside (see shape());
  3. a SOAP Body child that validates against the schema of the official
     WSDL (lxml XMLSchema); the captured answers are validated too, as a
     control.
The daemon must stay up, exit 0 on SIGTERM and leave no sanitizer report
(harness.DaemonTestCase). Requests go over HTTPS (the client roots are
TLS only); answers to the captured Accept-Encoding: xpress are decoded
with xpress_ref.py.

The replay changes in the captured bytes only: the cookies (placeholder
CookieData, the cookie's Expiration and EncryptedData become wsusd's, from
GetAuthorizationCookie, GetCookie and each NewCookie; GetCookie's
lastChange becomes GetConfig's LastChange); the real server's catalog ids
(the filtered scan's category dd78b8a1-... becomes our product; the
InstalledNonLeafUpdateIDs/OtherCachedUpdateIDs lists become what wsusd
returned so far, non-leaf/leaf as the native client files them,
OBSERVED.md 23; GetExtendedUpdateInfo's revisionIDs become returned
categories for scan/000010, returned software with files for
flow/000015); Host and Content-Length.

The catalog (wsusutil publish + approve) makes each exchange meaningful:
before start, product P1 with A (a file) and B (a file, prerequisite A),
approved: a chain company -> product -> A -> B for the filtered scan.
Between the sessions (between_sessions()) the client finishes an
unfiltered pass, then P2 gets FLOW_UPDATES approved leaves, so the flow
pages are 30-update pages with Truncated=true and Install like the
captured ones. wsusutil publish makes no bundles: Bundle is not covered.

Needs lxml, which Debian installs for /usr/bin/python3 only:

    WSUSD=BUILD/wsusd WSUSUTIL=BUILD/wsusutil \\
        /usr/bin/python3 tests/integration/test_conformance.py -v
    meson test -C BUILD integ_test_conformance -v
"""

import copy
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
import xpress_ref  # noqa: E402

try:
    import lxml.etree as LX
    LXML_ERROR = None
except ImportError as e:  # reported as a failure in setUpClass
    LXML_ERROR = e

WSDL_DIR = os.path.join(harness.REPO, '..', 'shared', 'protocol', 'wsdl')
SOAP = 'http://schemas.xmlsoap.org/soap/envelope/'
XS = 'http://www.w3.org/2001/XMLSchema'
WSDL = 'http://schemas.xmlsoap.org/wsdl/'
CLIENT = wc.CLIENT
AUTH = wc.AUTH
REPORTING = wc.REPORTING
C = '{%s}' % CLIENT
NS_PREFIX = {SOAP: 'soap', CLIENT: 'cws', AUTH: 'auth', REPORTING: 'rep'}
REAL_CATEGORY = 'dd78b8a1-0b20-45c1-add6-4da72e9364cf'  # scan/000005-9
FLOW_UPDATES = 62   # P2 leaves: 30 + 30 (Truncated) + 2 on the last page

# Replay order = capture order. (set, number, operation).
EXCHANGES = [
    ('scan', '000001', 'GetConfig'),
    ('scan', '000002', 'GetAuthorizationCookie'),
    ('scan', '000003', 'GetCookie'),
    ('scan', '000004', 'RegisterComputer'),
    ('scan', '000005', 'StartCategoryScan'),
    ('scan', '000006', 'SyncUpdates'),
    ('scan', '000007', 'SyncUpdates'),
    ('scan', '000008', 'SyncUpdates'),
    ('scan', '000009', 'SyncUpdates_driver'),
    ('scan', '000010', 'GetExtendedUpdateInfo'),
    ('flow', '000001', 'SyncUpdates'),
    ('flow', '000003', 'SyncUpdates'),
    ('flow', '000012', 'SyncUpdates'),
    ('flow', '000013', 'SyncUpdates'),
    ('flow', '000014', 'SyncUpdates_driver'),
    ('flow', '000015', 'GetExtendedUpdateInfo'),
    ('flow', '000016', 'ReportEventBatch'),
    ('flow', '000017', 'ReportEventBatch'),
    ('flow', '000018', 'ReportEventBatch'),
]

# Values (not only shape) our catalog is built to reproduce: an element
# path under the Body child -> the captured text must equal ours. These
# prove the scenario is exercised (truncation, registration, reporting).
SAME_VALUES = {
    'scan/000001': ['GetConfigResult/IsRegistrationRequired'],
    'scan/000002': ['GetAuthorizationCookieResult/PlugInId'],
    'flow/000001': ['SyncUpdatesResult/Truncated'],
    'flow/000003': ['SyncUpdatesResult/Truncated'],
    'flow/000012': ['SyncUpdatesResult/Truncated'],
    'flow/000013': ['SyncUpdatesResult/Truncated'],
    'flow/000016': ['ReportEventBatchResult'],
    'flow/000017': ['ReportEventBatchResult'],
    'flow/000018': ['ReportEventBatchResult'],
}

# Captured real-server answers that do NOT validate against the official
# WSDL schema ({'set/number': why}). Empty: all 19 validate (checked by
# each test, so an entry here must really fail to validate).
INVALID_CAPTURES = {}

# The two defects of the official ClientWebService.wsdl, patched in memory
# exactly as test_wsdl_client.py patches its temporary copy: the prefix xs
# is used but never declared, and s1:String is not a type.
WSDL_FILES = {
    CLIENT: ('ClientWebService.wsdl', [
        (lambda t: '"xs:' in t and 'xmlns:xs=' not in t,
         '<wsdl:definitions ',
         '<wsdl:definitions xmlns:xs="%s" ' % XS),
        (lambda t: 'type="s1:String"' in t,
         'type="s1:String"', 'type="s:string"')]),
    AUTH: ('SimpleAuthWebService.wsdl', []),
    REPORTING: ('ReportingWebService.wsdl', []),
}


# ---------------------------------------------------------------- captures

def vec(kind, n, what, binary=True):
    """Capture KIND/N/WHAT (wc.capture), as text unless BINARY."""
    data = wc.capture(kind, n, what)
    return data if binary else data.decode('utf-8')


def request_head(kind, n):
    """(request line, [(name, value)]) of the captured request.headers."""
    lines = vec(kind, n, 'request.headers').decode('latin-1').split('\r\n')
    hdrs = [tuple(s.strip() for s in ln.split(':', 1))
            for ln in lines[1:] if ln]
    return lines[0], hdrs


def parse(xml):
    parser = LX.XMLParser(resolve_entities=False, no_network=True)
    return LX.fromstring(xml, parser)


def body_child(root):
    """The first element child of the SOAP Body."""
    kids = list(root.iterfind('{%s}Body/*' % SOAP))
    if not kids:
        raise AssertionError('no SOAP Body child in %s' % root.tag)
    return kids[0]


# ---------------------------------------------------------------- shape

def shape(e):
    """(tag, children) with clark-notation tags ({namespace}name), in
    document order. A run of consecutive siblings with the same tag (the
    UpdateInfo of a page, the int of an array, the events of a batch) is
    ONE node whose children are the ordered union of the run members'
    children, merged recursively: counts may differ, but the order and
    namespaces of distinct children must match, and an element present in
    any member is present in the merged node. (The order inside each
    member is the schema validation's business.)"""
    runs = []
    for c in e:
        if not isinstance(c.tag, str):
            continue
        if runs and runs[-1][0] == c.tag:
            runs[-1][1].append(shape(c))
        else:
            runs.append((c.tag, [shape(c)]))
    return (e.tag, tuple(merge(members) for _, members in runs))


def merge(shapes):
    """One shape from several with the same tag (see shape())."""
    order, groups = [], {}
    for _, kids in shapes:
        pos = -1
        for k in kids:
            if k[0] not in groups:
                groups[k[0]] = []
                order.insert(pos + 1, k[0])
            groups[k[0]].append(k)
            pos = order.index(k[0])
    return (shapes[0][0], tuple(merge(groups[t]) for t in order))


def shape_text(s, depth=0):
    """SHAPE as indented lines, known namespaces as short prefixes (one
    to one, so namespaces are still compared), for readable diffs."""
    tag = s[0]
    for ns, prefix in NS_PREFIX.items():
        tag = tag.replace('{%s}' % ns, prefix + ':')
    return '  ' * depth + tag + '\n' + ''.join(shape_text(k, depth + 1)
                                             for k in s[1])


# ---------------------------------------------------------------- schema

def wsdl_schema(ns):
    """An lxml XMLSchema of the <wsdl:types> schemas of the WSDL for NS.
    Each schema becomes an in-memory document imported by a wrapper (the
    microsoft.com/wsdl/types/ guid schema first, so the other schema's
    location-less import of it resolves)."""
    name, patches = WSDL_FILES[ns]
    with open(os.path.join(WSDL_DIR, name), encoding='utf-8') as f:
        text = f.read()
    for defect, old, new in patches:
        if defect(text):
            text = text.replace(old, new)
            assert not defect(text), (name, old)
    schemas = parse(text.encode()).findall('{%s}types/{%s}schema'
                                           % (WSDL, XS))
    docs = {'mem:%d' % i: LX.tostring(s) for i, s in enumerate(schemas)}

    class Resolver(LX.Resolver):
        def resolve(self, url, pubid, context):
            if url in docs:
                return self.resolve_string(docs[url], context)
            return None  # nothing from the network or the disk
    order = sorted(range(len(schemas)), key=lambda i: schemas[i].get(
        'targetNamespace') != 'http://microsoft.com/wsdl/types/')
    wrapper = '<xs:schema xmlns:xs="%s">%s</xs:schema>' % (XS, ''.join(
        '<xs:import namespace="%s" schemaLocation="mem:%d"/>' % (
            schemas[i].get('targetNamespace'), i) for i in order))
    parser = LX.XMLParser(no_network=True)
    parser.resolvers.add(Resolver())
    return LX.XMLSchema(LX.fromstring(wrapper.encode(), parser))


def schema_errors(schemas, elem):
    """[] if ELEM validates against the schema of its namespace."""
    ns = LX.QName(elem).namespace
    if ns not in schemas:
        return ['no WSDL schema for namespace %s' % ns]
    s = schemas[ns]
    if s.validate(LX.ElementTree(copy.deepcopy(elem))):
        return []
    return ['line %d: %s' % (e.line, e.message) for e in s.error_log]


# ---------------------------------------------------------------- replay

def sub_once(pattern, repl, text, what):
    out, n = re.subn(pattern, lambda m: repl, text)
    if n != 1:
        raise AssertionError('%s: %d matches of %r' % (what, n, pattern))
    return out


def set_ids(body, name, ids, after):
    """The <NAME> int array of BODY holding IDS: replaced if captured,
    inserted after </AFTER> (the schema position) if not and IDS is not
    empty, dropped when IDS is empty (the native client omits empty
    arrays, WUSP.md 1.4)."""
    arr = '<%s>%s</%s>' % (name, ''.join('<int>%d</int>' % i for i in ids),
                           name) if ids else ''
    if '<%s>' % name in body:
        return sub_once(r'<%s>.*?</%s>' % (name, name), arr, body, name)
    if not arr:
        return body
    return sub_once(r'</%s>' % after, '</%s>%s' % (after, arr), body, name)


class Replay:
    """One exchange: what we sent, wsusd's answer, or why it failed."""

    def __init__(self, kind, n, op):
        self.kind, self.n, self.op = kind, n, op
        self.name = '%s/%s' % (kind, n)
        self.sent = self.response = self.xml = self.error = None


class Conformance(harness.DaemonTestCase):
    """One daemon; all replays run in setUpClass in capture order (each
    depends on cookies and ids from the ones before), then one test per
    exchange checks its answer."""

    maxDiff = None  # show the whole shape diff

    @classmethod
    def setUpClass(cls):
        if LXML_ERROR is not None:
            raise AssertionError('lxml is needed (Debian python3-lxml, run '
                                 'with /usr/bin/python3): %s' % LXML_ERROR)
        cls.schemas = {ns: wsdl_schema(ns) for ns in WSDL_FILES}
        super().setUpClass()
        cls.replays = {}
        cls.state = {'installed': [], 'other': [], 'types': {},
                     'returned': []}
        for kind, n, op in EXCHANGES:
            r = cls.replays['%s/%s' % (kind, n)] = Replay(kind, n, op)
            try:
                if r.name == 'flow/000001':
                    cls.between_sessions()
                cls.replay(r)
            except Exception as e:  # noqa: BLE001 - reported by its test
                r.error = '%s: %s' % (type(e).__name__, e)

    # -- catalog -------------------------------------------------------

    @staticmethod
    def publish(d, title, product, *extra):
        """One approved update with a one-file CAB; returns its id."""
        return wc.publish(d, title, *extra, product=product,
                          payload='payload of %s\n' % title,
                          approve_for='All Computers')

    @classmethod
    def populate(cls, d):
        """Before start: P1 with A (file) and B (file, prerequisite A)."""
        wc.publishing_cert(d)
        a = cls.publish(d, 'ConfA', 'Conformance P1')
        cls.publish(d, 'ConfB', 'Conformance P1', '--prerequisite', a)
        cls.product = wc.categories(d)['Conformance P1']
        assert len(cls.product) == len(REAL_CATEGORY)

    @classmethod
    def between_sessions(cls):
        """What happened between the captured scan and flow sessions (the
        capture has neither): the client finished an unfiltered software
        pass under the same cookie chain (flow/000001 arrives with the
        scan's cookie Expiration and 87 + 1029 cached revisions), then
        the administrator approved more (the flow brings KB2267602 with
        Install). Here: an unfiltered pass made of flow/000001's own
        request, not checked beyond HTTP 200, then P2 with FLOW_UPDATES
        approved leaves, so flow/000001 brings P2 and the next pages are
        full 30-update pages with Truncated=true, like the captured ones."""
        for _ in range(20):
            r = Replay('flow', '000001', 'SyncUpdates')
            cls.replay(r)
            if r.response.status != 200:
                raise AssertionError('unfiltered pass before the flow '
                                     'session: %r' % r.response)
            res = body_child(r.xml).find(C + 'SyncUpdatesResult')
            if res.findtext(C + 'Truncated') == 'false' and 'false' not in [
                    e.text for e in res.iterfind('%sNewUpdates/%sUpdateInfo/'
                                                 '%sIsLeaf' % (C, C, C))]:
                break
        else:
            raise AssertionError('unfiltered pass did not end in 20 pages')
        for i in range(FLOW_UPDATES):
            cls.publish(cls.d, 'ConfFlow%02d' % i, 'Conformance P2')

    # -- one exchange ----------------------------------------------------

    @classmethod
    def replay(cls, r):
        body = cls.substitute(r, vec(r.kind, r.n, 'request.body', False))
        line, hdrs = request_head(r.kind, r.n)
        method, target, _ = line.split(' ')
        data = body.encode('utf-8')
        head = [line]
        for k, v in hdrs:
            if k.lower() == 'host':
                v = 'localhost:%d' % cls.d.https_port
            elif k.lower() == 'content-length':
                v = str(len(data))
            head.append('%s: %s' % (k, v))
        r.sent = ('\r\n'.join(head) + '\r\n\r\n').encode('latin-1') + data
        r.response = harness.request(cls.d.https_port, method, target,
                                     raw=r.sent, tls=cls.d.ctx(),
                                     timeout=60)
        raw = r.response.body
        if (r.response.header('Content-Encoding') or '').lower() == 'xpress':
            raw = xpress_ref.decode_body(raw)
        r.xml = parse(raw)
        if r.response.status == 200:
            cls.learn(r, body_child(r.xml))

    @classmethod
    def substitute(cls, r, body):
        st = cls.state
        if '<cookie>' in body:
            body = sub_once(r'<cookie><Expiration>[^<]*</Expiration>'
                            r'<EncryptedData>[^<]*</EncryptedData></cookie>',
                            '<cookie><Expiration>%s</Expiration><Encrypted'
                            'Data>%s</EncryptedData></cookie>' %
                            st['cookie'], body, 'cookie')
        if r.op == 'GetCookie':
            body = sub_once(r'<CookieData>[^<]*</CookieData>',
                            '<CookieData>%s</CookieData>' % st['auth'],
                            body, 'CookieData')
            body = sub_once(r'<lastChange>[^<]*</lastChange>',
                            '<lastChange>%s</lastChange>' % st['lastchange'],
                            body, 'lastChange')
        body = body.replace(REAL_CATEGORY, cls.product)
        if r.op.startswith('SyncUpdates'):
            body = set_ids(body, 'InstalledNonLeafUpdateIDs',
                           st['installed'], 'ExpressQuery')
            # The driver pass drops the other list (OBSERVED.md 23).
            if r.op == 'SyncUpdates':
                body = set_ids(body, 'OtherCachedUpdateIDs', st['other'],
                               'InstalledNonLeafUpdateIDs' if
                               st['installed'] else 'ExpressQuery')
        if r.op == 'GetExtendedUpdateInfo':
            want = len(re.findall(r'<int>', body))
            if r.kind == 'scan':  # the scan's categories (no files)
                ids = [i for i in st['returned']
                       if st['types'][i] == 'Category']
            else:  # software: Extended with Files, FileLocations
                ids = [i for i in st['returned']
                       if st['types'][i] == 'Software']
            ids = sorted(ids)[:want]
            if not ids:
                raise AssertionError('no revision of the right type was '
                                     'returned by the SyncUpdates replays')
            body = sub_once(r'<revisionIDs>.*?</revisionIDs>',
                            '<revisionIDs>%s</revisionIDs>' % ''.join(
                                '<int>%d</int>' % i for i in ids),
                            body, 'revisionIDs')
        return body

    @classmethod
    def learn(cls, r, res):
        """What a client keeps from answer RES of exchange R."""
        st = cls.state

        text = res.findtext
        if r.op == 'GetConfig':
            st['lastchange'] = text('%sGetConfigResult/%sLastChange' % (C, C))
        elif r.op == 'GetAuthorizationCookie':
            st['auth'] = text('{%s}GetAuthorizationCookieResult/{%s}'
                              'CookieData' % (AUTH, AUTH))
        elif r.op == 'GetCookie':
            st['cookie'] = (text('%sGetCookieResult/%sExpiration' % (C, C)),
                            text('%sGetCookieResult/%sEncryptedData' %
                                 (C, C)))
        elif r.op.startswith('SyncUpdates'):
            res = res.find(C + 'SyncUpdatesResult')
            st['cookie'] = (res.findtext('%sNewCookie/%sExpiration' % (C, C)),
                            res.findtext('%sNewCookie/%sEncryptedData' %
                                         (C, C)))
            for u in res.iterfind('%sNewUpdates/%sUpdateInfo' % (C, C)):
                rid = int(u.findtext(C + 'ID'))
                leaf = u.findtext(C + 'IsLeaf') == 'true'
                st['installed' if not leaf else 'other'].append(rid)
                st['returned'].append(rid)
                m = re.search(r'UpdateType="(\w+)"', u.findtext(C + 'Xml'))
                st['types'][rid] = m.group(1) if m else None
            gone = {int(i.text) for i in res.iterfind(
                '%sOutOfScopeRevisionIDs/%sint' % (C, C))}
            for k in ('installed', 'other'):
                st[k] = [i for i in st[k] if i not in gone]

    # -- the checks --------------------------------------------------------

    def check_exchange(self, name):
        """The checks of the module docstring on exchange NAME.

        The shape comparison has no exceptions: the catalog and the replay
        state make every element of every captured answer meaningful, so
        each must be in ours (NewUpdates on every software page, the
        preferredCategoryIds of our known product, FileLocations for
        software with files, Parameter of the auth plug-in, ...), and
        what the real server left out must be left out (ChangedUpdates,
        OutOfScopeRevisionIDs, DeployedOutOfScopeRevisionIds when the
        client's cache is what wsusd sent; requestedCategoryIdsInError;
        AllowedEventIds)."""
        r = self.replays[name]
        if r.error is not None:
            self.fail('%s %s replay failed: %s' % (name, r.op, r.error))
        real = parse(vec(r.kind, r.n, 'response.body'))
        meta = json.loads(vec(r.kind, r.n, 'meta.json'))
        ctx = '%s %s: wsusd answered %r' % (name, r.op, r.response)
        # 1. Status (the real server answered each with 200).
        self.assertEqual(r.response.status, meta['status'], ctx)
        # 2. Shape.
        self.assertEqual(shape_text(shape(r.xml)), shape_text(shape(real)),
                         '%s: element shape differs from the real server\'s'
                         ' (-: wsusd, +: real)' % name)
        # 3. Schema, ours, then the control on the captured answer.
        ours, theirs = body_child(r.xml), body_child(real)
        self.assertEqual(schema_errors(self.schemas, ours), [],
                         '%s: wsusd\'s answer does not validate' % name)
        errs = schema_errors(self.schemas, theirs)
        if name in INVALID_CAPTURES:
            self.assertNotEqual(errs, [], name)
        else:
            self.assertEqual(errs, [], '%s: the captured answer does not '
                             'validate: add it to INVALID_CAPTURES' % name)
        # Values the catalog is built to reproduce.
        ns = '{%s}' % LX.QName(theirs).namespace
        for path in SAME_VALUES.get(name, []):
            p = '/'.join(ns + s for s in path.split('/'))
            self.assertIsNotNone(theirs.find(p), path)
            self.assertEqual(ours.findtext(p), theirs.findtext(p),
                             '%s: %s' % (name, path))
        return r, ours

    # -- one test per exchange, with what it means beyond the shape -------

    def sync_page(self, name):
        return self.check_exchange(name)[1].find(C + 'SyncUpdatesResult')

    def test_scan_000001_getconfig(self):
        self.check_exchange('scan/000001')

    def test_scan_000002_getauthorizationcookie(self):
        self.check_exchange('scan/000002')

    def test_scan_000003_getcookie(self):
        self.check_exchange('scan/000003')

    def test_scan_000004_registercomputer(self):
        self.check_exchange('scan/000004')

    def test_scan_000005_startcategoryscan(self):
        _, ours = self.check_exchange('scan/000005')
        # Our product is known: preferred, as the real server's category.
        self.assertEqual([g.text for g in ours.iter(C + 'guid')],
                         [self.product])

    def test_scan_000006_syncupdates(self):
        self.sync_page('scan/000006')

    def test_scan_000007_syncupdates(self):
        self.sync_page('scan/000007')

    def test_scan_000008_syncupdates(self):
        self.sync_page('scan/000008')

    def test_scan_000009_syncupdates_driver(self):
        # Driver pass (SkipSoftwareSync, SystemSpec); no driver updates.
        self.sync_page('scan/000009')

    def test_scan_000010_getextendedupdateinfo(self):
        # Categories only: Extended + LocalizedProperties, no files, so no
        # FileLocations (as the real answer).
        self.check_exchange('scan/000010')

    def test_flow_000001_syncupdates(self):
        self.sync_page('flow/000001')

    def test_flow_000003_syncupdates(self):
        res = self.sync_page('flow/000003')
        self.assertEqual(len(res.findall('%sNewUpdates/%sUpdateInfo'
                                         % (C, C))), 30)

    def test_flow_000012_syncupdates(self):
        # The page that brings approved software: Action Install.
        res = self.sync_page('flow/000012')
        self.assertIn('Install', [a.text for a in res.iterfind(
            '%sNewUpdates/%sUpdateInfo/%sDeployment/%sAction' % (C, C, C, C))])

    def test_flow_000013_syncupdates(self):
        self.sync_page('flow/000013')

    def test_flow_000014_syncupdates_driver(self):
        self.sync_page('flow/000014')

    def test_flow_000015_getextendedupdateinfo(self):
        # Software with files: one FileLocation per file digest of the
        # Extended fragments (OBSERVED.md 39), though FileUrl was not asked.
        _, ours = self.check_exchange('flow/000015')
        digests = set(re.findall(r'<File\b[^>]*?\sDigest="([^"]+)"', ''.join(
            ours.itertext())))
        self.assertEqual(len(digests), 18)  # one file per revision
        self.assertEqual(sorted(e.text for e in ours.iter(
            C + 'FileDigest')), sorted(digests))

    def test_flow_000016_reporteventbatch(self):
        self.check_exchange('flow/000016')

    def test_flow_000017_reporteventbatch(self):
        self.check_exchange('flow/000017')

    def test_flow_000018_reporteventbatch(self):
        self.check_exchange('flow/000018')

    def test_replays_cover_every_capture(self):
        """Every exchange of the capture set has a replay and a test."""
        on_disk = sorted('%s/%s' % (k, n) for k in ('scan', 'flow')
                         for n in os.listdir(os.path.join(wc.VEC, k))
                         if os.path.isfile(os.path.join(wc.VEC, k, n,
                                                        'request.body')))
        self.assertEqual(sorted(self.replays), on_disk)
        for kind, n, op in EXCHANGES:
            self.assertTrue(hasattr(self, 'test_%s_%s_%s' % (
                kind, n, op.lower())), (kind, n, op))

    # -- negative controls ---------------------------------------------

    def test_validator_and_shape_reject_swapped_children(self):
        """A wrong element order fails both checks: the validator and the
        shape comparison are live, not vacuous."""
        for kind, n, parent in (('scan', '000001', 'GetConfigResult'),
                                ('scan', '000006', 'SyncUpdatesResult'),
                                ('scan', '000003', 'GetCookieResult')):
            good = body_child(parse(vec(kind, n, 'response.body')))
            self.assertEqual(schema_errors(self.schemas, good), [], n)
            bad = copy.deepcopy(good)
            p = bad.find('.//' + C + parent)
            first, second = p[0], p[1]
            p.remove(first)
            second.addnext(first)
            self.assertNotEqual([c.tag for c in p],
                                [c.tag for c in good.find('.//' + C +
                                                          parent)])
            self.assertNotEqual(schema_errors(self.schemas, bad), [],
                                '%s/%s: swapped %s children validated' %
                                (kind, n, parent))
            self.assertNotEqual(shape(bad), shape(good))
        # An element in a wrong namespace is refused too.
        bad = copy.deepcopy(body_child(parse(vec('scan', '000004',
                                                 'response.body'))))
        LX.SubElement(bad, '{urn:other}Extra')
        self.assertNotEqual(schema_errors(self.schemas, bad), [])

    def test_shape_collapses_runs_but_keeps_order(self):
        """shape(): repeated siblings compare as one, merged; the order of
        distinct children and an element missing from every member still
        make a difference."""
        def s(xml):
            return shape(LX.fromstring(xml))
        self.assertEqual(s('<a><b><x/></b><b><x/><y/></b><c/></a>'),
                         s('<a><b><x/><y/></b><c/></a>'))
        self.assertNotEqual(s('<a><b/><c/></a>'), s('<a><c/><b/></a>'))
        self.assertNotEqual(s('<a><b><x/></b><c/></a>'),
                            s('<a><b><x/><y/></b><c/></a>'))
        self.assertNotEqual(s('<a xmlns="urn:1"><b/></a>'),
                            s('<a xmlns="urn:1"><b xmlns="urn:2"/></a>'))


if __name__ == '__main__':
    harness.main()
