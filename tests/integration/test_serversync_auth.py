"""The ServerSyncWebService gate through the real daemon (issue #7).

wsusd on loopback with a private MIT KDC (krb5kdc.py) and client tokens
from negotiate_probe ($NEGOTIATE_PROBE); everything on 127.0.0.1 and in
temporary directories, the Kerberos variables passed to each child only.
Requests go over HTTPS (ServerSyncWebService is TLS-only once TLS is
configured):

  - anonymous off (the default): no Authorization header, garbage,
    NTLM, Basic, a ticket for another service, a replayed token, a
    principal that maps to no identity, a realm not in the realm map
    -> 401 with exactly `WWW-Authenticate: Negotiate`, the body not
    looked at; a valid ticket of DS1$@CORP.EXAMPLE -> past the gate, with
    a `WWW-Authenticate: Negotiate <AP-REP>` that the client verifies
    (mutual authentication);
  - the authorization list DIR/ServerSyncWebService/web.config decides
    for authenticated callers: allow-then-deny and deny-then-allow,
    an empty allow, verbs, `wsusutil downstream` edits, SIGHUP applying
    a new list and a broken list on SIGHUP keeping the old one;
  - serversync_anonymous = yes: no header proceeds unless `?` is denied;
  - DssAuthWebService, ClientWebService and SimpleAuthWebService stay
    anonymous;
  - kerberos_keytab and kerberos_rcache honoured;
  - cross-realm: DS3$@EAST.EXAMPLE admitted through a krbtgt trust and
    the realm map, no ticket at all without the trust.

Nothing here knows what the SOAP layer answers past the gate: "admitted"
means neither 401 nor 403, plus the mutual-authentication header.
"""

import base64
import os
import re
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import krb5kdc  # noqa: E402

PROBE = os.environ.get('NEGOTIATE_PROBE') or os.path.join(
    harness.REPO, 'build', 'tests', 'integration', 'negotiate_probe')
SS = '/ServerSyncWebService/ServerSyncWebService.asmx'
SS_PATHS = [SS, '/ServerSyncWebService/ServerSyncWebService.asmx?wsdl',
            '/ServerSyncWebService/']
A = 'CORP.EXAMPLE'
B = 'EAST.EXAMPLE'
MAP = 'CORP.EXAMPLE = CORP, EAST.EXAMPLE = EAST'
SOAP_HEADERS = [('Content-Type', 'text/xml; charset=utf-8'),
                ('SOAPAction', '"http://www.microsoft.com/SoftwareDistribution'
                 '/Server/ServerSyncWebService/GetAuthConfig"')]
RELOAD_TIMEOUT = 20.0
B64_TOKEN = re.compile(r'^Negotiate ([A-Za-z0-9+/]+={0,2})$')


def web_config(rules):
    """A web.config holding the <authorization> RULES (XML text)."""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n'
            '  <system.web>\n    <authorization>\n      %s\n'
            '    </authorization>\n  </system.web>\n</configuration>\n'
            % rules)


# ------------------------------------------------------------ Kerberos

class Probe:
    """One negotiate_probe run: rc, stdout fields, stderr."""

    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err
        self.fields = {}
        for line in out.splitlines():
            k, sep, v = line.partition(': ')
            if sep:
                self.fields[k] = v

    def __getitem__(self, k):
        return self.fields.get(k)

    def __repr__(self):
        return '<probe rc %r\n%s\nstderr:\n%s>' % (self.rc, self.out,
                                                   self.err[-3000:])


def run_probe(k, *args):
    p = subprocess.run([PROBE, *args], env=k.env(), capture_output=True,
                       text=True, timeout=120)
    return Probe(p.returncode, p.stdout, p.stderr)


class KrbWsusd(harness.Wsusd):
    """A Wsusd whose daemon gets the KrbEnv's Kerberos variables
    (KRB5_CONFIG, KRB5RCACHEDIR, ...) and nothing from /etc/krb5.conf."""

    def __init__(self, krb, **kw):
        self.krb = krb
        super().__init__(**kw)

    def start(self, *args, **kw):
        # harness.Wsusd.start copies os.environ into the child's
        # environment; swap it for the Kerberos one for that one call
        # (single-threaded here), then put it back.
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.krb.env())
        try:
            return super().start(*args, **kw)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def reloads(self):
        text = self.stderr(all_runs=True)
        return (len(re.findall(r'(?m)\breloaded$', text)),
                len(re.findall(r'(?m)\breload failed\b', text)))

    def reload_wait(self, timeout=RELOAD_TIMEOUT):
        """SIGHUP, then waits for the daemon's "reloaded" or "reload
        failed" line; returns True for reloaded, False for failed."""
        ok0, bad0 = self.reloads()
        self.reload()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok, bad = self.reloads()
            if ok > ok0:
                return True
            if bad > bad0:
                return False
            if not self.alive():
                raise harness.HarnessError('wsusd died on SIGHUP:\n' +
                                           self.stderr()[-3000:])
            time.sleep(0.05)
        raise harness.HarnessError('no "reloaded"/"reload failed" %.0f s '
                                   'after SIGHUP; stderr:\n%s'
                                   % (timeout, self.stderr()[-3000:]))

    def write_list(self, rules):
        d = self.path('ServerSyncWebService')
        os.makedirs(d, mode=0o750, exist_ok=True)
        p = os.path.join(d, 'web.config')
        with open(p + '.tmp', 'w', encoding='utf-8') as f:
            f.write(rules if rules.startswith('<?xml') or
                    rules.startswith('<configuration') else web_config(rules))
        os.chmod(p + '.tmp', 0o640)
        os.replace(p + '.tmp', p)

    def remove_list(self):
        try:
            os.unlink(self.path('ServerSyncWebService', 'web.config'))
        except FileNotFoundError:
            pass


class GateCase(unittest.TestCase):
    """One KDC (CORP.EXAMPLE; extra_realms() adds more) and one wsusd
    per class. The daemon's keytab holds HTTP/localhost (the harness's
    server_name) unless KEYTAB_IN_DATADIR is false."""

    CONF = {'kerberos_realm_map': MAP}
    TLS = True
    WEB_CONFIG = None
    KEYTAB_IN_DATADIR = True

    @classmethod
    def setUpClass(cls):
        if not os.access(PROBE, os.X_OK):
            raise RuntimeError('no probe at %s (build first, or set '
                               'NEGOTIATE_PROBE)' % PROBE)
        cls.k = krb5kdc.KrbEnv(A)
        cls.d = None
        try:
            cls.a = cls.k.realm
            cls.k.map_host('otherhost', cls.a)
            cls.other = cls.a.add_principal('HTTP/otherhost')
            cls.ds1_kt = cls.a.keytab(cls.k.path('ds1.keytab'), cls.a.ds1)
            cls.ds2_kt = cls.a.keytab(cls.k.path('ds2.keytab'), cls.a.ds2)
            cls.extra_realms()
            cls.d = KrbWsusd(cls.k, tls=cls.TLS, conf=cls.CONF)
            with open(cls.d.path('wsusd.conf')) as f:
                m = re.search(r'(?m)^\s*server_name\s*=\s*(\S+)', f.read())
            # The SPN below is HTTP/localhost; the harness's
            # configuressl names the server localhost (also the default
            # without it).
            if m is not None and m.group(1) != 'localhost':
                raise harness.HarnessError(
                    'expected server_name = localhost in wsusd.conf, got %r'
                    % m.group(1))
            os.makedirs(cls.d.path('tls'), mode=0o700, exist_ok=True)
            if cls.KEYTAB_IN_DATADIR:
                cls.a.keytab(cls.d.path('tls', 'http.keytab'), cls.a.http)
            if cls.WEB_CONFIG is not None:
                cls.d.write_list(cls.WEB_CONFIG)
            cls.populate()
            cls.d.start()
        except BaseException:
            if cls.d is not None:
                cls.d.cleanup()
            cls.k.close()
            raise

    @classmethod
    def extra_realms(cls):
        pass

    @classmethod
    def populate(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        d = cls.d
        try:
            rc = d.stop()
            report = d.sanitizer_report()
        finally:
            d.cleanup()
            cls.k.close()
        if report:
            raise AssertionError('sanitizer report in wsusd stderr:\n' +
                                 report)
        if rc != 0:
            raise AssertionError('wsusd exit status on SIGTERM: %r' % rc)

    def tearDown(self):
        if not self.d.alive():
            self.fail('wsusd died during this test (exit %r); stderr:\n%s'
                      % (self.d.proc.returncode, self.d.stderr()[-4000:]))

    # ------------------------------------------------------- requests

    def token(self, keytab=None, host='localhost', k=None):
        r = run_probe(k or self.k, 'client', host, keytab or self.ds1_kt)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r['token'], r)
        return r['token']

    def ss(self, method='POST', auth=None, path=SS, body=None, port=None,
           tls=True, extra=()):
        """One request to ServerSyncWebService (HTTPS unless TLS is
        false); AUTH is the whole Authorization value, or None."""
        headers = list(extra)
        if method == 'POST':
            headers += SOAP_HEADERS
            if body is None:
                body = harness.SOAP_BODY
        if auth is not None:
            headers.append(('Authorization', auth))
        if tls:
            return self.d.https(method, path, headers=headers,
                                body=body or b'')
        return self.d.http(method, path, headers=headers, body=body or b'')

    def neg(self, method='POST', keytab=None, **kw):
        return self.ss(method, auth='Negotiate ' + self.token(keytab), **kw)

    def mutual(self, method='POST', keytab=None, k=None, path=SS):
        """A client that verifies the server's answer: token -> request ->
        the answer's WWW-Authenticate token back into the client.
        Returns (response, client probe)."""
        k = k or self.k
        p = subprocess.Popen([PROBE, 'client', 'localhost',
                              keytab or self.ds1_kt, '--verify'],
                             env=k.env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        watchdog = threading.Timer(60, p.kill)  # bounds readline()
        watchdog.start()
        try:
            line = p.stdout.readline()
            if not line.startswith('token: '):
                p.stdin.close()
                self.fail('client: %s%s' % (line, p.stderr.read()))
            token = line[len('token: '):].strip()
            resp = self.ss(method, auth='Negotiate ' + token, path=path)
            reply = ''
            vals = resp.header_all('WWW-Authenticate')
            if len(vals) == 1:
                m = B64_TOKEN.match(vals[0])
                if m:
                    reply = m.group(1)
            out, err = p.communicate(reply + '\n', timeout=60)
        finally:
            watchdog.cancel()
            if p.poll() is None:
                p.kill()
                p.wait()
        return resp, Probe(p.returncode, line + out, err)

    # ----------------------------------------------------- assertions

    def assertChallenge(self, r, what=''):
        self.assertEqual(r.status, 401, '%s: %r' % (what, r))
        self.assertEqual(r.header_all('WWW-Authenticate'), ['Negotiate'],
                         '%s: %r' % (what, r))

    def assertMutualHeader(self, r, what=''):
        vals = r.header_all('WWW-Authenticate')
        self.assertEqual(len(vals), 1, '%s: %r' % (what, r))
        self.assertRegex(vals[0], B64_TOKEN, '%s: %r' % (what, r))

    def assertPastGate(self, r, what=''):
        self.assertNotIn(r.status, (401, 403), '%s: %r' % (what, r))

    def assertAdmitted(self, method='POST', keytab=None, k=None, what='',
                       path=SS):
        """A Kerberos caller gets past the gate and the answer
        authenticates the server to it."""
        r, c = self.mutual(method, keytab, k, path)
        self.assertPastGate(r, what)
        self.assertMutualHeader(r, what)
        self.assertEqual(c.rc, 0, '%s: client %r; server %r' % (what, c, r))
        self.assertEqual(c['mutual'], 'ok', '%s: %r' % (what, c))
        return r

    def assertForbidden(self, r, what=''):
        self.assertEqual(r.status, 403, '%s: %r' % (what, r))
        # Not the "SSL is required" page: this is HTTPS.
        self.assertNotIn(b'SSL is required', r.body, '%s: %r' % (what, r))

    def set_list(self, rules):
        """Writes the list, SIGHUPs and waits for "reloaded"."""
        self.d.write_list(rules)
        self.assertTrue(self.d.reload_wait(),
                        'reload with a valid web.config failed:\n' +
                        self.d.stderr()[-3000:])


# ------------------------------------------------------------ anonymous off

class AnonymousOff(GateCase):
    """Defaults: serversync_anonymous off, keytab DIR/tls/http.keytab, no
    authorization list."""

    def test_no_header_401(self):
        for path in SS_PATHS:
            for method in ('POST', 'GET'):
                with self.subTest(method=method, path=path):
                    r = self.ss(method, path=path)
                    self.assertChallenge(r, '%s %s' % (method, path))

    def test_no_header_body_not_processed(self):
        # Bodies the SOAP layer would answer with a fault (or a 400)
        # if it saw them: the gate answers first.
        bodies = {
            'garbage': b'\x00\x01this is not XML <<<',
            'xxe': (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                    b'"file:///etc/passwd">]><soap:Envelope xmlns:soap="' +
                    harness.SOAP_NS.encode() + b'"><soap:Body>&e;'
                    b'</soap:Body></soap:Envelope>'),
            'empty-ish': b' ',
        }
        for name, body in bodies.items():
            with self.subTest(body=name):
                r = self.ss('POST', body=body)
                self.assertChallenge(r, name)
                self.assertNotIn(b'Fault', r.body, r)

    def test_no_header_answered_before_body(self):
        # Only the head of a 64 KiB POST is sent: the challenge comes at
        # once, not after the body (or the 30 s body timeout).
        head = harness.build_request(
            'POST', SS, SOAP_HEADERS + [('Content-Length', '65536')])
        t0 = time.monotonic()
        with harness.connect(self.d.https_port, self.d.ctx()) as s:
            s.sendall(head)
            r = harness.HTTPReader(s, 5).read_response('POST')
        self.assertChallenge(r, 'head only')
        self.assertLess(time.monotonic() - t0, 5.0)

    def test_bad_authorization_401(self):
        ntlm = base64.b64encode(b'NTLMSSP\x00\x01\x00\x00\x00' +
                                b'\x00' * 24).decode()
        junk = base64.b64encode(bytes(range(256)) * 12).decode()
        cases = [
            'Negotiate',
            'Negotiate ',
            'Negotiate abc',
            'Negotiate !!!!',
            'Negotiate YWJj',
            'Negotiate ' + junk,
            'Negotiate ' + ntlm,
            'NTLM ' + ntlm,
            'Basic ' + base64.b64encode(b'CORP\\DS1$:secret').decode(),
            'Bearer abc.def.ghi',
            'Kerberos ' + junk,
        ]
        for auth in cases:
            with self.subTest(auth=auth[:40]):
                self.assertChallenge(self.ss('POST', auth=auth), auth[:40])
        # Control: the same request with a real ticket gets through.
        self.assertAdmitted(what='control')

    def test_truncated_token_401(self):
        raw = base64.b64decode(self.token())
        for cut in (16, len(raw) // 2, len(raw) - 1):
            with self.subTest(cut=cut):
                r = self.ss('POST', auth='Negotiate ' +
                            base64.b64encode(raw[:cut]).decode())
                self.assertChallenge(r, 'cut %d' % cut)

    def test_ticket_for_other_service_401(self):
        # HTTP/otherhost@CORP.EXAMPLE: a real ticket, not for this server.
        tok = self.token(host='otherhost')
        self.assertChallenge(self.ss('POST', auth='Negotiate ' + tok),
                             'ticket for HTTP/otherhost')

    def test_valid_ticket_admitted_mutual(self):
        for method in ('POST', 'GET'):
            with self.subTest(method=method):
                self.assertAdmitted(method, what=method)
        with self.subTest(path='?wsdl'):
            self.assertAdmitted('GET', path=SS_PATHS[1], what='?wsdl')
        self.assertIn('CORP\\DS1$', self.d.stderr(),
                      'the decision is not logged with the identity')

    def test_ds2_admitted_without_list(self):
        self.assertAdmitted(keytab=self.ds2_kt, what='DS2 with no list')
        self.assertIn('CORP\\DS2$', self.d.stderr(),
                      'the decision is not logged with the identity')

    def test_replayed_token_401(self):
        tok = self.token()
        first = self.ss('POST', auth='Negotiate ' + tok)
        self.assertPastGate(first, 'first use')
        self.assertMutualHeader(first, 'first use')
        again = self.ss('POST', auth='Negotiate ' + tok)
        self.assertChallenge(again, 'replayed token')
        # The default replay cache is DIR/tls/krb5.rcache.
        self.assertTrue(os.path.exists(self.d.path('tls', 'krb5.rcache')),
                        os.listdir(self.d.path('tls')))

    def test_service_principal_as_client_401(self):
        # HTTP/otherhost as a *client*: authenticated, but a service
        # principal maps to no DOMAIN\name identity.
        kt = self.k.path('other-client.keytab')
        if not os.path.exists(kt):
            self.a.keytab(kt, self.other)
        tok = self.token(kt)
        self.assertChallenge(self.ss('POST', auth='Negotiate ' + tok),
                             'HTTP/otherhost as client')

    def test_plain_http_port_refused(self):
        # ServerSync is TLS-only once TLS is configured: 403.4 before any
        # authentication, and a token sent in clear is not accepted.
        r = self.ss('POST', tls=False)
        self.assertEqual(r.status, 403, r)
        tok = self.token()
        r = self.ss('POST', auth='Negotiate ' + tok, tls=False)
        self.assertEqual(r.status, 403, r)
        for v in r.header_all('WWW-Authenticate'):
            self.assertNotRegex(v, B64_TOKEN, r)

    def test_client_roots_stay_anonymous(self):
        for root in ('DssAuthWebService', 'ClientWebService',
                     'SimpleAuthWebService'):
            path = harness.ROOT_PATHS[root]
            for method in ('POST', 'GET'):
                with self.subTest(root=root, method=method):
                    hdrs = SOAP_HEADERS if method == 'POST' else []
                    r = self.d.https(method, path, headers=hdrs,
                                     body=harness.SOAP_BODY
                                     if method == 'POST' else b'')
                    self.assertNotIn(r.status, (401, 403), r)
                    self.assertEqual(r.header_all('WWW-Authenticate'), [],
                                     r)
        # Control: ServerSync on the same daemon does ask.
        self.assertChallenge(self.ss('POST'), 'control')


class AnonymousOffListAllowsAnonymous(GateCase):
    """`?` and `*` in the list do not open ServerSync while anonymous
    access is off: anonymous callers are refused before the list."""

    WEB_CONFIG = '<allow users="?"/><allow users="*"/>'

    def test_no_header_still_401(self):
        for method in ('POST', 'GET'):
            with self.subTest(method=method):
                self.assertChallenge(self.ss(method), method)
        self.assertAdmitted(what='control: DS1 with a ticket')


class NoTls(GateCase):
    """No certificate, allow_insecure_http = yes: ServerSync is on the
    HTTP port, anonymous access is still off there, and the port never
    asks for credentials (SECURITY.md S5: a challenge would have tickets
    or NTLM hashes sent in clear): 403, no WWW-Authenticate."""

    TLS = False
    CONF = {'kerberos_realm_map': MAP, 'allow_insecure_http': 'yes'}

    def test_plain_port_refuses_without_challenge(self):
        for method in ('POST', 'GET'):
            with self.subTest(method=method):
                r = self.ss(method, tls=False)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.header_all('WWW-Authenticate'), [], r)
        r = self.ss('POST', tls=False, auth='Negotiate YWJj')
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.header_all('WWW-Authenticate'), [], r)
        # Control: the client roots are served on this port.
        r = self.d.http('POST', harness.ROOT_PATHS['ClientWebService'],
                        headers=SOAP_HEADERS, body=harness.SOAP_BODY)
        self.assertNotIn(r.status, (401, 403), r)


# ------------------------------------------------------------ realm map

class RealmMap(GateCase):
    """A realm not in kerberos_realm_map gives no identity: 401."""

    CONF = {'kerberos_realm_map': 'WEST.EXAMPLE = WEST'}

    def test_realm_not_in_map_401(self):
        d = self.d
        self.assertChallenge(self.neg('POST'), 'CORP not in the map')
        self.assertChallenge(self.neg('GET'), 'CORP not in the map')
        # No realm map at all: nobody has an identity.
        d.set_conf('kerberos_realm_map', None)
        self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
        self.assertChallenge(self.neg('POST'), 'no realm map')
        # Control: the same client with CORP in the map is admitted,
        # and a list naming CORP\DS1$ sees that identity.
        d.set_conf('kerberos_realm_map', 'WEST.EXAMPLE = WEST, '
                   'CORP.EXAMPLE = CORP')
        d.write_list('<allow users="CORP\\DS1$"/><deny users="*"/>')
        self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
        self.assertAdmitted(what='CORP in the map')
        self.assertForbidden(self.neg('POST', self.ds2_kt), 'DS2 denied')


# ------------------------------------------------------------ the list

class ListOrder(GateCase):
    """The authorization list through the real server, changed with
    SIGHUP between cases."""

    def test_allow_then_deny_all(self):
        self.set_list('<allow users="CORP\\DS1$"/><deny users="*"/>')
        self.assertAdmitted(what='DS1 allowed by rule 1')
        self.assertForbidden(self.neg('POST', self.ds2_kt), 'DS2 by rule 2')
        self.assertForbidden(self.neg('GET', self.ds2_kt), 'DS2 GET')
        self.assertIn('CORP\\DS2$ denied', self.d.stderr(),
                      'the denial is not logged with the identity')

    def test_deny_then_allow_all(self):
        self.set_list('<deny users="CORP\\DS2$"/><allow users="*"/>')
        self.assertForbidden(self.neg('POST', self.ds2_kt), 'DS2 by rule 1')
        self.assertAdmitted(what='DS1 allowed by rule 2')

    def test_deny_all_first_blocks_everybody(self):
        self.set_list('<deny users="*"/><allow users="CORP\\DS1$"/>')
        self.assertForbidden(self.neg('POST'), 'DS1 behind deny *')
        self.assertForbidden(self.neg('POST', self.ds2_kt), 'DS2')

    def test_empty_allow_admits_authenticated(self):
        self.set_list('<allow users=""/>')
        self.assertAdmitted(what='DS1, empty allow')
        self.assertAdmitted(keytab=self.ds2_kt, what='DS2, empty allow')
        # ... but not the anonymous caller (anonymous access is off).
        self.assertChallenge(self.ss('POST'), 'anonymous, empty allow')

    def test_machine_name_without_dollar(self):
        # The guide's spelling, without '$', names the machine account.
        self.set_list('<allow users="CORP\\ds1"/><deny users="*"/>')
        self.assertAdmitted(what='CORP\\ds1 admits DS1$')
        self.assertForbidden(self.neg('POST', self.ds2_kt), 'DS2')

    def test_verbs(self):
        self.set_list('<deny verbs="GET" users="*"/>')
        self.assertForbidden(self.neg('GET'), 'GET denied by verbs')
        self.assertAdmitted('POST', what='POST not matched by verbs=GET')

    def test_wsusutil_edits_then_sighup(self):
        d = self.d
        d.remove_list()
        self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
        self.assertAdmitted(keytab=self.ds2_kt, what='DS2, no list')
        harness.run_wsusutil(d.dir, 'downstream', 'deny', '*')
        harness.run_wsusutil(d.dir, 'downstream', 'allow', 'CORP\\DS1$')
        lst = harness.run_wsusutil(d.dir, 'downstream', 'list')
        self.assertIn(b'allow users=CORP\\DS1$', lst.stdout, lst)
        # Not applied before SIGHUP.
        self.assertAdmitted(keytab=self.ds2_kt, what='DS2 before SIGHUP')
        self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
        self.assertAdmitted(what='DS1 after allow')
        self.assertForbidden(self.neg('POST', self.ds2_kt),
                             'DS2 after deny *')
        # deny without '$' denies the machine too.
        harness.run_wsusutil(d.dir, 'downstream', 'deny', 'CORP\\DS1')
        self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
        self.assertForbidden(self.neg('POST'), 'DS1 after deny CORP\\DS1')
        harness.run_wsusutil(d.dir, 'downstream', 'remove', 'CORP\\DS1')
        self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
        self.assertAdmitted(what='DS1 after remove CORP\\DS1')

    def test_broken_list_on_reload_keeps_old(self):
        d = self.d
        self.set_list('<allow users="CORP\\DS1$"/><deny users="*"/>')
        self.assertAdmitted(what='DS1 before')
        self.assertForbidden(self.neg('POST', self.ds2_kt), 'DS2 before')
        # Each broken file, read leniently, would swap DS1 and DS2.
        broken = {
            'clear': '<allow users="CORP\\DS2$"/><deny users="*"/><clear/>',
            'typo': '<allow user="CORP\\DS2$"/><deny users="*"/>',
            'malformed': '<allow users="CORP\\DS2$"/><deny users="*">',
            'doctype': ('<?xml version="1.0"?>\n<!DOCTYPE configuration '
                        '[<!ENTITY d "CORP\\DS2$">]>\n<configuration>'
                        '<system.web><authorization><allow users="&d;"/>'
                        '<deny users="*"/></authorization></system.web>'
                        '</configuration>\n'),
        }
        for name, text in broken.items():
            with self.subTest(broken=name):
                d.write_list(text)
                # Whether the rest of the reload goes through is not the
                # point; the running list must stay, and the log say why.
                d.reload_wait()
                self.assertIn('web.config', d.stderr()[-4000:], name)
                self.assertAdmitted(what='%s: DS1 still allowed' % name)
                self.assertForbidden(self.neg('POST', self.ds2_kt),
                                     '%s: DS2 still denied' % name)
        # Fixed: the new list applies.
        self.set_list('<allow users="CORP\\DS2$"/><deny users="*"/>')
        self.assertAdmitted(keytab=self.ds2_kt, what='DS2 after the fix')
        self.assertForbidden(self.neg('POST'), 'DS1 after the fix')


# ------------------------------------------------------------ anonymous on

class AnonymousOn(GateCase):
    CONF = {'kerberos_realm_map': MAP, 'serversync_anonymous': 'yes'}

    def test_no_header_proceeds_without_list(self):
        self.d.remove_list()
        self.assertTrue(self.d.reload_wait(), self.d.stderr()[-3000:])
        for method in ('POST', 'GET'):
            with self.subTest(method=method):
                r = self.ss(method)
                self.assertPastGate(r, method)
        # A Kerberos caller still authenticates (and the server proves
        # itself).
        self.assertAdmitted(what='DS1 with a ticket')

    def test_deny_anonymous(self):
        self.set_list('<deny users="?"/>')
        self.assertForbidden(self.ss('POST'), 'anonymous denied by ?')
        self.assertForbidden(self.ss('GET'), 'anonymous GET denied by ?')
        self.assertAdmitted(what='DS1 is not ?')

    def test_allow_anonymous_deny_rest(self):
        self.set_list('<allow users="?"/><deny users="*"/>')
        self.assertPastGate(self.ss('POST'), 'anonymous allowed by ?')
        self.assertForbidden(self.neg('POST'), 'DS1 denied by *')

    def test_deny_all_covers_anonymous(self):
        self.set_list('<allow users="CORP\\DS1$"/><deny users="*"/>')
        self.assertForbidden(self.ss('POST'), 'anonymous denied by *')
        self.assertAdmitted(what='DS1 allowed')


# ------------------------------------------------------------ keytab paths

class ExplicitKeytabAndRcache(GateCase):
    """kerberos_keytab outside DIR/tls (holding HTTP/localhost and
    HTTP/otherhost) and kerberos_rcache; nothing at the defaults."""

    KEYTAB_IN_DATADIR = False

    @classmethod
    def populate(cls):
        kt_dir = os.path.join(cls.d.base, 'krb')
        os.mkdir(kt_dir, 0o700)
        cls.kt = cls.a.keytab(os.path.join(kt_dir, 'service.keytab'),
                              cls.a.http, cls.other)
        cls.rcache = os.path.join(kt_dir, 'replay.rcache')
        cls.d.set_conf('kerberos_keytab', cls.kt)
        cls.d.set_conf('kerberos_rcache', cls.rcache)

    def test_keytab_and_rcache_used(self):
        self.assertFalse(os.path.exists(self.d.path('tls', 'http.keytab')))
        tok = self.token()
        r = self.ss('POST', auth='Negotiate ' + tok)
        self.assertPastGate(r, 'DS1 via kerberos_keytab')
        self.assertMutualHeader(r, 'DS1 via kerberos_keytab')
        self.assertTrue(os.path.exists(self.rcache),
                        'kerberos_rcache %s not written' % self.rcache)
        self.assertFalse(os.path.exists(self.d.path('tls', 'krb5.rcache')),
                         'the default replay cache was used instead')
        self.assertChallenge(self.ss('POST', auth='Negotiate ' + tok),
                             'replay through kerberos_rcache')

    def test_other_host_key_not_this_server(self):
        # The keytab has HTTP/otherhost's key, but the server is
        # HTTP/localhost: refused.
        tok = self.token(host='otherhost')
        self.assertChallenge(self.ss('POST', auth='Negotiate ' + tok),
                             'HTTP/otherhost ticket')
        self.assertAdmitted(what='control: HTTP/localhost ticket')


# ------------------------------------------------------------ cross-realm

class CrossRealm(GateCase):
    """DS3$@EAST.EXAMPLE reaching HTTP/localhost@CORP.EXAMPLE."""

    WEB_CONFIG = '<allow users="EAST\\DS3$"/><deny users="*"/>'

    @classmethod
    def extra_realms(cls):
        cls.b = cls.k.add_realm(B)
        cls.ds3 = cls.b.add_principal('DS3$')
        cls.ds3_kt = cls.b.keytab(cls.k.path('ds3.keytab'), cls.ds3)

    def ds3_client(self):
        return run_probe(self.k, 'client', 'localhost', self.ds3_kt)

    def test_trust_admits_its_absence_refuses(self):
        d = self.d
        # No trust: EAST's KDC has no krbtgt/CORP.EXAMPLE@EAST.EXAMPLE,
        # so DS3 has no ticket to send.
        c = self.ds3_client()
        self.assertEqual(c.rc, 2, c)
        self.assertIsNone(c['token'], c)
        self.assertChallenge(self.ss('POST'), 'DS3 with nothing to send')

        self.k.trust(self.b, self.a)
        try:
            self.assertAdmitted(keytab=self.ds3_kt,
                                what='EAST\\DS3$ through the trust')
            self.assertIn('EAST\\DS3$', d.stderr())
            self.assertForbidden(self.neg('POST'), 'CORP\\DS1$ by deny *')
            # Authenticated, but EAST is not in the realm map: 401.
            d.set_conf('kerberos_realm_map', 'CORP.EXAMPLE = CORP')
            self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
            tok = self.token(self.ds3_kt)
            self.assertChallenge(self.ss('POST', auth='Negotiate ' + tok),
                                 'EAST not in the realm map')
            d.set_conf('kerberos_realm_map', MAP)
            self.assertTrue(d.reload_wait(), d.stderr()[-3000:])
            self.assertAdmitted(keytab=self.ds3_kt, what='EAST mapped again')
        finally:
            self.k.untrust(self.b, self.a)
        self.assertFalse(self.b.has_principal('krbtgt/%s@%s' % (A, B)))
        c = self.ds3_client()
        self.assertEqual(c.rc, 2, 'a ticket without the trust: %r' % c)


if __name__ == '__main__':
    harness.main()
