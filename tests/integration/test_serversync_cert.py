"""TLS client certificates on ServerSyncWebService (issue #7: the way to
prove a downstream server's identity where there is no KDC).

wsusd on loopback with serversync_client_ca naming a client CA made here
with the openssl command; a second, unrelated CA issues look-alike
certificates. No Kerberos at all (no keytab): a certificate is the only
way in. The realm map is CORP.EXAMPLE = CORP, and the authorization list

    <deny users="CORP\\DS4$"/>
    <allow users="CORP\\DS1$, CORP\\DS2$, CORP\\DS3$, CORP\\DS4$,
                  CORP\\ds5$"/>
    <deny users="*"/>

Cases (GetAuthConfig over HTTPS, "admitted" = 200 with its result):
  - trusted CA, names from a UPN SAN, a dNSName SAN, a bare commonName,
    a UPN in the commonName -> 200, and the log names the identity, the
    subject and the issuer;
  - trusted CA, a name not on the list -> 403; CORP\\DS4$, on the list
    after a deny for it -> 403 (first match wins);
  - the same names from the other CA, an expired certificate, one whose
    extended key usage is serverAuth only, no certificate, a realm not
    in the map, names that map to two identities -> 401;
  - a resumed TLS session is judged as its first handshake was;
  - a Negotiate header decides alone: a bad token with a good
    certificate -> 401;
  - ClientWebService GetConfig with no certificate, and with the other
    CA's, still answers 200 (clients never have one);
  - SIGHUP: a keep-alive connection opened under the old generation
    is judged by the new one on its next request (admitted again with
    the same CA file; refused once the file holds the other CA, whose
    certificates are then admitted);
  - a CA file that does not exist: the reload fails and the old one
    stays.
"""

import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

SD = 'http://www.microsoft.com/SoftwareDistribution'
ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
SS = '/ServerSyncWebService/ServerSyncWebService.asmx'
UPN_OID = '1.3.6.1.4.1.311.20.2.3'
RELOAD_TIMEOUT = 20.0
RULES = ('<deny users="CORP\\DS4$"/>'
         '<allow users="CORP\\DS1$, CORP\\DS2$, CORP\\DS3$, CORP\\DS4$, '
         'CORP\\ds5$"/>'
         '<deny users="*"/>')


def envelope(op, ns, inner=''):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<soap:Envelope xmlns:soap="%s"><soap:Body>'
            '<%s xmlns="%s">%s</%s></soap:Body></soap:Envelope>'
            % (ENV, op, ns, inner, op)).encode()


GAC_HEADERS = [('Content-Type', 'text/xml; charset=utf-8'),
               ('SOAPAction', '"%s/GetAuthConfig"' % SD)]
GAC_BODY = envelope('GetAuthConfig', SD)


def web_config(rules):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n'
            '  <system.web>\n    <authorization>\n      %s\n'
            '    </authorization>\n  </system.web>\n</configuration>\n'
            % rules)


def openssl(*args, cwd=None):
    p = subprocess.run([harness.OPENSSL or 'openssl', *args], cwd=cwd,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise harness.HarnessError('openssl %s -> %d\n%s%s' % (
            ' '.join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


class CA:
    """A CA made with `openssl req -x509`, issuing with `openssl ca` (so
    validity dates can lie in the past)."""

    def __init__(self, base, name, cn):
        self.dir = os.path.join(base, name)
        os.makedirs(os.path.join(self.dir, 'new'), mode=0o700)
        self.cert = os.path.join(self.dir, 'ca.pem')
        self.key = os.path.join(self.dir, 'ca.key')
        with open(os.path.join(self.dir, 'index.txt'), 'w'):
            pass
        with open(os.path.join(self.dir, 'serial'), 'w') as f:
            f.write('1000\n')
        self.conf = os.path.join(self.dir, 'ca.cnf')
        with open(self.conf, 'w') as f:
            f.write('[ca]\ndefault_ca = d\n'
                    '[d]\ndir = %s\ndatabase = $dir/index.txt\n'
                    'new_certs_dir = $dir/new\nserial = $dir/serial\n'
                    'default_md = sha256\npolicy = any\n'
                    'unique_subject = no\ncopy_extensions = none\n'
                    '[any]\ncommonName = optional\n'
                    'organizationName = optional\n' % self.dir)
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt',
                'ec_paramgen_curve:P-256', '-nodes', '-keyout', self.key,
                '-out', self.cert, '-subj', '/O=wsusd tests/CN=' + cn,
                '-days', '30', '-addext',
                'basicConstraints=critical,CA:TRUE', '-addext',
                'keyUsage=critical,keyCertSign,cRLSign')
        self.n = 0

    def issue(self, subject, san=None, eku='clientAuth', expired=False):
        """A client certificate and key; returns (cert path, key path)."""
        self.n += 1
        base = os.path.join(self.dir, 'leaf%d' % self.n)
        ext = base + '.ext'
        lines = ['[v3]', 'basicConstraints = CA:FALSE',
                 'keyUsage = critical, digitalSignature']
        if eku:
            lines.append('extendedKeyUsage = ' + eku)
        if san:
            # '$' starts a variable in openssl.cnf; "\$" is a dollar.
            lines.append('subjectAltName = ' + san.replace('$', '\\$'))
        with open(ext, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        openssl('req', '-new', '-newkey', 'ec', '-pkeyopt',
                'ec_paramgen_curve:P-256', '-nodes', '-keyout',
                base + '.key', '-out', base + '.csr', '-subj', subject)
        dates = (['-startdate', '20200101000000Z', '-enddate',
                  '20200201000000Z'] if expired else ['-days', '30'])
        openssl('ca', '-batch', '-config', self.conf, '-cert', self.cert,
                '-keyfile', self.key, '-in', base + '.csr', '-out',
                base + '.crt', '-notext', '-extfile', ext, '-extensions',
                'v3', *dates)
        return base + '.crt', base + '.key'


class CertGate(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = harness.Wsusd(tls=True, conf={
            'kerberos_realm_map': 'CORP.EXAMPLE = CORP',
            'serversync_client_ca': 'tls/client-ca.pem'})
        try:
            base = cls.d.base
            cls.good = CA(base, 'good', 'Downstream Client CA')
            cls.other = CA(base, 'other', 'Downstream Client CA')
            with open(cls.good.cert) as f:
                pem = f.read()
            p = cls.d.path('tls', 'client-ca.pem')
            with open(p, 'w') as f:
                f.write(pem)
            with open(cls.d.path('tls', 'other-ca.pem'), 'w') as f, \
                    open(cls.other.cert) as g:
                f.write(g.read())
            d = cls.d.path('ServerSyncWebService')
            os.makedirs(d, mode=0o750, exist_ok=True)
            with open(os.path.join(d, 'web.config'), 'w') as f:
                f.write(web_config(RULES))
            g, o = cls.good, cls.other
            cls.c = {
                'ds1_upn': g.issue('/CN=Downstream 1',
                                   'otherName:%s;UTF8:ds1$@corp.example'
                                   % UPN_OID),
                'ds2_dns': g.issue('/CN=whatever',
                                   'DNS:ds2.corp.example, IP:127.0.0.1'),
                'ds3_cn': g.issue('/O=corp/CN=ds3.corp.example'),
                'ds5_cn_upn': g.issue('/CN=ds5$@CORP.EXAMPLE'),
                'ds4_dns': g.issue('/CN=ds4', 'DNS:ds4.corp.example'),
                'ds9_dns': g.issue('/CN=ds9', 'DNS:ds9.corp.example'),
                'east': g.issue('/CN=ds1', 'DNS:ds1.east.example'),
                'sub': g.issue('/CN=ds1', 'DNS:ds1.sub.corp.example'),
                'two': g.issue('/CN=two', 'DNS:ds1.corp.example, '
                               'DNS:ds2.corp.example'),
                'alias': g.issue('/CN=alias', 'DNS:ds1, DNS:*.corp.example,'
                                 ' DNS:ds1.corp.example, '
                                 'DNS:DS1.CORP.EXAMPLE'),
                'expired': g.issue('/CN=ds1', 'DNS:ds1.corp.example',
                                   expired=True),
                'server_eku': g.issue('/CN=ds1', 'DNS:ds1.corp.example',
                                      eku='serverAuth'),
                'other_ds1': o.issue('/CN=Downstream 1',
                                     'otherName:%s;UTF8:ds1$@corp.example'
                                     % UPN_OID),
                'other_ds2': o.issue('/CN=ds2', 'DNS:ds2.corp.example'),
            }
            cls.d.start()
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        d = cls.d
        rc = d.stop()
        report = d.sanitizer_report()
        d.cleanup()
        if report:
            raise AssertionError('sanitizer report in wsusd stderr:\n' +
                                 report)
        if rc != 0:
            raise AssertionError('wsusd exit status on SIGTERM: %r' % rc)

    def tearDown(self):
        if not self.d.alive():
            self.fail('wsusd died during this test (exit %r); stderr:\n%s'
                      % (self.d.proc.returncode, self.d.stderr()[-4000:]))

    # ------------------------------------------------------- helpers

    def ctx(self, cert=None):
        ctx = self.d.ctx()
        if cert is not None:
            ctx.load_cert_chain(*self.c[cert])
        return ctx

    def gac(self, cert=None, extra=()):
        return harness.request(self.d.https_port, 'POST', SS,
                               GAC_HEADERS + list(extra), GAC_BODY,
                               tls=self.ctx(cert))

    def log_after(self, mark):
        return self.d.stderr(all_runs=True)[mark:]

    def mark(self):
        return len(self.d.stderr(all_runs=True))

    def wait_log(self, mark, pattern, timeout=5.0):
        """The log past MARK once PATTERN is in it (log lines may trail
        the response by a moment)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_after(mark)
            if re.search(pattern, text) or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    def assertAdmitted(self, r, what):
        self.assertEqual(r.status, 200, '%s: %r' % (what, r))
        self.assertIn(b'GetAuthConfigResult', r.body, what)

    def assertChallenge(self, r, what):
        self.assertEqual(r.status, 401, '%s: %r' % (what, r))
        self.assertEqual(r.header_all('WWW-Authenticate'), ['Negotiate'],
                         what)
        self.assertNotIn(b'GetAuthConfigResult', r.body, what)

    def assertForbidden(self, r, what):
        self.assertEqual(r.status, 403, '%s: %r' % (what, r))
        self.assertNotIn(b'GetAuthConfigResult', r.body, what)
        self.assertNotIn(b'SSL is required', r.body, what)

    def reload_wait(self):
        text = self.d.stderr(all_runs=True)
        ok0 = len(re.findall(r'(?m)\breloaded$', text))
        bad0 = len(re.findall(r'(?m)\breload failed\b', text))
        self.d.reload()
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while time.monotonic() < deadline:
            text = self.d.stderr(all_runs=True)
            if len(re.findall(r'(?m)\breloaded$', text)) > ok0:
                return True
            if len(re.findall(r'(?m)\breload failed\b', text)) > bad0:
                return False
            time.sleep(0.05)
        self.fail('no reload verdict after SIGHUP:\n' +
                  self.d.stderr()[-3000:])

    # ------------------------------------------------------- cases

    def test_trusted_listed_names_admitted(self):
        for cert, ident in (('ds1_upn', r'CORP\ds1$'),
                            ('ds2_dns', r'CORP\DS2$'),
                            ('ds3_cn', r'CORP\DS3$'),
                            ('ds5_cn_upn', r'CORP\ds5$'),
                            ('alias', r'CORP\DS1$')):
            m = self.mark()
            r = self.gac(cert)
            self.assertAdmitted(r, cert)
            pat = (re.escape('identity %s from client certificate ' % ident)
                   + r'.* issued by .*CN=Downstream Client CA')
            self.assertRegex(self.wait_log(m, pat), pat, cert)

    def test_trusted_unlisted_forbidden(self):
        self.assertForbidden(self.gac('ds9_dns'), 'CORP\\DS9$')

    def test_deny_before_allow(self):
        m = self.mark()
        self.assertForbidden(self.gac('ds4_dns'), 'CORP\\DS4$')
        self.assertIn('identity CORP\\DS4$ from client certificate',
                      self.wait_log(m, r'DS4\$ from'))
        # The allow after it still admits the others.
        self.assertAdmitted(self.gac('ds1_upn'), 'CORP\\DS1$')

    def test_other_ca_refused(self):
        for cert in ('other_ds1', 'other_ds2'):
            m = self.mark()
            self.assertChallenge(self.gac(cert), cert)
            self.assertRegex(self.wait_log(m, 'not accepted'),
                             r'client certificate .* not accepted: '
                             r'unable to get local issuer', cert)

    def test_no_certificate_refused(self):
        self.assertChallenge(self.gac(None), 'no certificate')

    def test_expired_refused(self):
        m = self.mark()
        self.assertChallenge(self.gac('expired'), 'expired')
        self.assertIn('certificate has expired',
                      self.wait_log(m, 'has expired'))

    def test_server_eku_only_refused(self):
        m = self.mark()
        self.assertChallenge(self.gac('server_eku'), 'serverAuth only')
        self.assertIn('unsuitable certificate purpose',
                      self.wait_log(m, 'purpose'))

    def test_unmappable_names_refused(self):
        for cert, why in (('east', 'no name maps'),
                          ('sub', 'no name maps'),
                          ('two', 'different identities')):
            m = self.mark()
            self.assertChallenge(self.gac(cert), cert)
            self.assertIn(why, self.wait_log(m, re.escape(why)), cert)

    def test_negotiate_header_decides_alone(self):
        r = self.gac('ds1_upn', extra=[('Authorization',
                                        'Negotiate AAAA')])
        self.assertChallenge(r, 'bad token with a good certificate')

    def test_client_roots_without_certificate(self):
        for cert in (None, 'other_ds1', 'expired'):
            r = harness.request(
                self.d.https_port, 'POST', '/ClientWebService/client.asmx',
                [('Content-Type', 'text/xml; charset=utf-8'),
                 ('SOAPAction', '"%s/Server/ClientWebService/GetConfig"'
                  % SD)],
                envelope('GetConfig', SD + '/Server/ClientWebService',
                         '<protocolVersion>1.20</protocolVersion>'),
                tls=self.ctx(cert))
            self.assertEqual(r.status, 200, '%s: %r' % (cert, r))
            self.assertIn(b'GetConfigResult', r.body, cert)

    def test_resumed_session_keeps_verdict(self):
        # The verdict travels in the session: a resumed connection (no
        # certificate exchanged) is judged as the first one was.
        for cert, admitted in (('ds1_upn', True), ('other_ds1', False)):
            ctx = self.ctx(cert)
            session = None
            for attempt in range(2):
                raw = harness.socket.create_connection(
                    (harness.HOST, self.d.https_port),
                    timeout=harness.IO_TIMEOUT)
                with ctx.wrap_socket(raw, server_hostname='localhost',
                                     session=session) as s:
                    s.sendall(harness.build_request('POST', SS,
                                                    GAC_HEADERS, GAC_BODY))
                    r = harness.HTTPReader(s).read_response('POST')
                    if attempt == 1:
                        self.assertTrue(s.session_reused, cert)
                    session = s.session
                if admitted:
                    self.assertAdmitted(r, '%s #%d' % (cert, attempt))
                else:
                    self.assertChallenge(r, '%s #%d' % (cert, attempt))

    def test_zz_reload_changes_ca(self):
        # A connection made under the first CA file, kept open.
        s = harness.connect(self.d.https_port, self.ctx('ds1_upn'))
        try:
            reader = harness.HTTPReader(s)
            s.sendall(harness.build_request('POST', SS, GAC_HEADERS,
                                            GAC_BODY, close=False))
            self.assertAdmitted(reader.read_response('POST'),
                                'before the reload')
            # A new generation with the same CA file: the old
            # connection's certificate is verified again and still
            # admitted.
            self.assertTrue(self.reload_wait(), self.d.stderr()[-3000:])
            s.sendall(harness.build_request('POST', SS, GAC_HEADERS,
                                            GAC_BODY, close=False))
            self.assertAdmitted(reader.read_response('POST'),
                                'old connection, same CA file')
            # A CA file that is not there: the reload fails, the
            # running generation (and its CA) stays.
            self.d.set_conf('serversync_client_ca', 'tls/missing.pem')
            self.assertFalse(self.reload_wait())
            self.assertAdmitted(self.gac('ds1_upn'), 'after a failed reload')
            self.assertChallenge(self.gac('other_ds1'),
                                 'after a failed reload')
            self.d.set_conf('serversync_client_ca', 'tls/other-ca.pem')
            self.assertTrue(self.reload_wait(), self.d.stderr()[-3000:])
            s.sendall(harness.build_request('POST', SS, GAC_HEADERS,
                                            GAC_BODY, close=False))
            self.assertChallenge(reader.read_response('POST'),
                                 'old connection after the reload')
        finally:
            s.close()
        self.assertChallenge(self.gac('ds1_upn'), 'new CA file')
        self.assertAdmitted(self.gac('other_ds1'), 'new CA file')
        self.assertAdmitted(self.gac('other_ds2'), 'new CA file')


if __name__ == '__main__':
    harness.main()
