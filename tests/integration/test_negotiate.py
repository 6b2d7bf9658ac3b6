"""HTTP Negotiate (Kerberos through MIT GSSAPI) against a real MIT KDC.

src/auth/negotiate.c driven by the test-only negotiate_probe
($NEGOTIATE_PROBE, built by tests/integration/meson.build) with realms,
principals and keytabs from krb5kdc.py, everything on 127.0.0.1 and in
temporary directories:

  - DS1$@CORP.EXAMPLE's SPNEGO token accepted, mapped to CORP\\DS1$, the
    mutual-authentication reply verified by the client side (and a
    tampered or foreign reply refused by it);
  - a replayed token refused (the replay cache works);
  - tickets for other services refused: HTTP/otherhost without its key,
    HTTP/otherhost when the server name is localhost, host/localhost
    (from an independent ctypes GSSAPI client, which also proves raw
    Kerberos AP-REQs are accepted);
  - garbage, NTLM, a multi-leg SPNEGO offer, oversized tokens refused;
  - keytab policy (mode, missing, no HTTP/ key, "none" replay cache);
  - cross-realm: a client of EAST.CORP.EXAMPLE admitted only while the
    krbtgt trust principals exist, and its identity refused when its
    realm is not in the realm map;
  - principal mapping and realm map parsing, table-driven.

Every probe run's stderr is checked for sanitizer reports.
"""

import base64
import os
import random
import shutil
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import krb5kdc  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
PROBE = os.environ.get('NEGOTIATE_PROBE') or os.path.join(
    REPO, 'build', 'tests', 'integration', 'negotiate_probe')
SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                     'runtime error:', 'SUMMARY: ')
MAP = 'CORP.EXAMPLE = CORP, EAST.CORP.EXAMPLE = EAST'
A = 'CORP.EXAMPLE'
B = 'EAST.CORP.EXAMPLE'


class Run:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr
        self.fields = {}
        for line in self.out.splitlines():
            k, sep, v = line.partition(': ')
            if sep:
                self.fields[k] = v

    def __getitem__(self, k):
        return self.fields.get(k)

    def __repr__(self):
        return f'<rc {self.rc}\n{self.out}\nstderr:\n{self.err[-3000:]}>'


def check_sanitizer(tc, r):
    for m in SANITIZER_MARKERS:
        tc.assertNotIn(m, r.err, f'sanitizer report: {r!r}')


def probe(tc, k, *args, stdin=None):
    p = subprocess.run([PROBE, *args], env=k.env(), input=stdin,
                       capture_output=True, text=True, timeout=120)
    r = Run(p)
    check_sanitizer(tc, r)
    tc.assertIn(r.rc, (0, 1, 2), r)
    return r


def client_token(tc, k, host, keytab, *extra):
    r = probe(tc, k, 'client', host, keytab, *extra)
    tc.assertEqual(r.rc, 0, r)
    tc.assertTrue(r['token'], r)
    return r['token']


def server(tc, k, keytab, token, *extra, rcache=True):
    args = ['server', keytab, '-' if len(token) > 60000 else token]
    if rcache:
        args += ['--rcache', 'file2:' + k.path('http.rcache2')]
    return probe(tc, k, *args, *extra,
                 stdin=token + '\n' if len(token) > 60000 else None)


def mutual_exchange(tc, k, host, client_keytab, server_keytab,
                    server_args=(), reply_filter=None):
    """Client (kept running) -> server -> reply back into the client."""
    p = subprocess.Popen([PROBE, 'client', host, client_keytab, '--verify'],
                         env=k.env(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    # Bounds the blocking readline below: the client is killed after 60 s.
    watchdog = threading.Timer(60, p.kill)
    watchdog.start()
    try:
        line = p.stdout.readline()
        if not line.startswith('token: '):
            p.stdin.close()
            tc.fail(f'client: {line}{p.stderr.read()}')
        token = line[len('token: '):].strip()
        s = server(tc, k, server_keytab, token, *server_args)
        reply = s['reply'] or ''
        if reply_filter is not None:
            reply = reply_filter(reply)
        out, err = p.communicate(reply + '\n', timeout=60)
    finally:
        watchdog.cancel()
        if p.poll() is None:
            p.kill()
            p.wait()
    c = Run(subprocess.CompletedProcess(p.args, p.returncode,
                                        line + out, err))
    check_sanitizer(tc, c)
    return s, c


# ---------------------------------------------------- independent client

def gss_client_main(target, mech):
    """Runs in a child (its own KRB5_* environment): one initial token
    for TARGET ("service@host") with MECH ("krb5" or "spnego") from the
    default ccache, through libgssapi_krb5 via ctypes."""
    import ctypes as C
    import ctypes.util

    lib = C.CDLL(ctypes.util.find_library('gssapi_krb5') or
                 'libgssapi_krb5.so.2')

    class Buf(C.Structure):
        _fields_ = [('length', C.c_size_t), ('value', C.c_void_p)]

    class OID(C.Structure):
        _fields_ = [('length', C.c_uint32), ('elements', C.c_void_p)]

    u32p = C.POINTER(C.c_uint32)
    lib.gss_import_name.argtypes = [u32p, C.POINTER(Buf), C.POINTER(OID),
                                    C.POINTER(C.c_void_p)]
    lib.gss_init_sec_context.argtypes = [
        u32p, C.c_void_p, C.POINTER(C.c_void_p), C.c_void_p,
        C.POINTER(OID), C.c_uint32, C.c_uint32, C.c_void_p, C.c_void_p,
        C.c_void_p, C.POINTER(Buf), u32p, C.c_void_p]
    minor = C.c_uint32()
    tb = C.create_string_buffer(target.encode())
    nb = Buf(len(target), C.cast(tb, C.c_void_p))
    name = C.c_void_p()
    nt = C.POINTER(OID).in_dll(lib, 'GSS_C_NT_HOSTBASED_SERVICE')
    if lib.gss_import_name(C.byref(minor), C.byref(nb), nt,
                           C.byref(name)) & 0xffff0000:
        print('error: import_name')
        return 1
    der = {'krb5': bytes([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 1, 2, 2]),
           'spnego': bytes([0x2b, 6, 1, 5, 5, 2])}[mech]
    db = C.create_string_buffer(der, len(der))
    oid = OID(len(der), C.cast(db, C.c_void_p))
    ctx = C.c_void_p()
    out = Buf()
    flags = C.c_uint32()
    maj = lib.gss_init_sec_context(C.byref(minor), None, C.byref(ctx), name,
                                   C.byref(oid), 2, 0, None, None, None,
                                   C.byref(out), C.byref(flags), None)
    if maj & 0xffff0000:
        print(f'error: init_sec_context major {maj:#x} minor {minor.value}')
        return 2
    print('token: ' + base64.b64encode(C.string_at(out.value, out.length))
          .decode())
    return 0


def gss_token(tc, k, keytab, principal, target, mech):
    env = k.env({'KRB5CCNAME': 'FILE:' + k.path('ctypes.ccache')})
    r = subprocess.run([shutil.which('kinit') or '/usr/bin/kinit', '-k',
                        '-t', keytab, principal], env=env,
                       capture_output=True, text=True, timeout=60)
    tc.assertEqual(r.returncode, 0, r.stderr)
    r = subprocess.run([sys.executable, os.path.abspath(__file__),
                        '--gss-client', target, mech], env=env,
                       capture_output=True, text=True, timeout=60)
    tc.assertEqual(r.returncode, 0, r.stdout + r.stderr)
    return r.stdout.split('token: ', 1)[1].strip()


# ------------------------------------------------------------- DER bits

def der(tag, content):
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + content


OID_SPNEGO = bytes([0x06, 6, 0x2b, 6, 1, 5, 5, 2])
OID_KRB5 = bytes([0x06, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 1, 2, 2])
OID_NTLM = bytes([0x06, 10, 0x2b, 6, 1, 4, 1, 0x82, 0x37, 2, 2, 10])


def spnego_init(mechs, mech_token=None):
    body = der(0xa0, der(0x30, b''.join(mechs)))
    if mech_token is not None:
        body += der(0xa2, der(0x04, mech_token))
    return base64.b64encode(
        der(0x60, OID_SPNEGO + der(0xa0, der(0x30, body)))).decode()


# ---------------------------------------------------------------- tests

class NegotiateBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(PROBE, os.X_OK):
            raise RuntimeError(f'no probe at {PROBE} (build first)')
        cls.k = krb5kdc.KrbEnv(A)
        try:
            a = cls.a = cls.k.realm
            cls.k.map_host('otherhost', a)
            cls.other = a.add_principal('HTTP/otherhost')
            cls.hostp = a.add_principal('host/localhost')
            cls.http_kt = a.keytab(cls.k.path('http.keytab'), a.http)
            cls.both_kt = a.keytab(cls.k.path('both.keytab'), a.http,
                                   cls.other)
            cls.host_kt = a.keytab(cls.k.path('host.keytab'), a.http,
                                   cls.hostp)
            cls.ds1_kt = a.keytab(cls.k.path('ds1.keytab'), a.ds1)
            cls.ds2_kt = a.keytab(cls.k.path('ds2.keytab'), a.ds2)
        except BaseException:
            cls.k.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def token(self, host='localhost', keytab=None, *extra):
        return client_token(self, self.k, host, keytab or self.ds1_kt,
                            *extra)

    def server(self, token, *extra, keytab=None, rcache=True):
        return server(self, self.k, keytab or self.http_kt, token, *extra,
                      rcache=rcache)

    def refused(self, r, why=None):
        self.assertEqual(r.rc, 2, r)
        self.assertIsNone(r['principal'], r)
        if why is not None:
            self.assertIn(why, r['refused'], r)


class Accept(NegotiateBase):
    def test_ds1_accepted_mapped_mutual(self):
        s, c = mutual_exchange(self, self.k, 'localhost', self.ds1_kt,
                               self.http_kt, ('--map', MAP))
        self.assertEqual(s.rc, 0, s)
        self.assertEqual(s['principal'], 'DS1$@CORP.EXAMPLE', s)
        self.assertEqual(s['service'], 'HTTP/localhost@CORP.EXAMPLE', s)
        self.assertEqual(s['identity'], 'CORP\\DS1$', s)
        self.assertEqual(s['mech'], 'spnego', s)
        self.assertEqual(s['mutual'], 'yes', s)
        self.assertTrue(s['reply'], s)
        self.assertEqual(c.rc, 0, c)
        self.assertEqual(c['mutual'], 'ok', c)

    def test_ds2_is_another_identity(self):
        r = self.server(self.token('localhost', self.ds2_kt), '--map', MAP)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r['identity'], 'CORP\\DS2$', r)

    def test_client_refuses_tampered_reply(self):
        def flip(reply):
            raw = bytearray(base64.b64decode(reply))
            raw[-5] ^= 0x01  # inside the encrypted AP-REP part
            return base64.b64encode(bytes(raw)).decode()
        s, c = mutual_exchange(self, self.k, 'localhost', self.ds1_kt,
                               self.http_kt, reply_filter=flip)
        self.assertEqual(s.rc, 0, s)
        self.assertEqual(c.rc, 2, c)
        self.assertNotIn('mutual: ok', c.out)

    def test_client_refuses_missing_or_foreign_reply(self):
        s, c = mutual_exchange(self, self.k, 'localhost', self.ds1_kt,
                               self.http_kt, reply_filter=lambda r: '')
        self.assertEqual(s.rc, 0, s)
        self.assertEqual(c.rc, 2, c)
        self.assertIn('did not authenticate', c['refused'], c)
        # The reply of another exchange (another session key).
        other = self.server(self.token())['reply']
        s, c = mutual_exchange(self, self.k, 'localhost', self.ds1_kt,
                               self.http_kt, reply_filter=lambda r: other)
        self.assertEqual(c.rc, 2, c)

    def test_replay_refused(self):
        tok = self.token()
        first = self.server(tok)
        self.assertEqual(first.rc, 0, first)
        again = self.server(tok)
        self.refused(again, 'Kerberos authentication failed')
        self.assertIn('replay', again.err)
        # The default replay cache (KRB5RCACHEDIR: the test's own
        # directory, never /var/tmp) works the same way.
        tok = self.token()
        self.assertEqual(self.server(tok, rcache=False).rc, 0)
        self.refused(self.server(tok, rcache=False))
        self.assertTrue(os.listdir(self.k.rcache_dir))

    def test_server_name(self):
        tok = self.token()
        r = self.server(tok, '--name', 'localhost')
        self.assertEqual(r.rc, 0, r)
        r = self.server(self.token(), '--name', 'LocalHost')
        self.assertEqual(r.rc, 0, r)

    def test_raw_kerberos_accepted(self):
        tok = gss_token(self, self.k, self.ds1_kt, self.a.ds1,
                        'HTTP@localhost', 'krb5')
        r = self.server(tok, '--map', MAP)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r['mech'], 'krb5', r)
        self.assertEqual(r['identity'], 'CORP\\DS1$', r)
        self.assertEqual(r['mutual'], 'yes', r)
        self.assertTrue(r['reply'], r)
        # The independent client's SPNEGO token too.
        tok = gss_token(self, self.k, self.ds1_kt, self.a.ds1,
                        'HTTP@localhost', 'spnego')
        r = self.server(tok)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r['mech'], 'spnego', r)


class OtherService(NegotiateBase):
    def test_no_key_for_other_http_host(self):
        tok = self.token('otherhost')
        r = self.server(tok)
        self.refused(r, 'Kerberos authentication failed')
        self.assertIn('HTTP/otherhost', r.err)  # MIT: no such key
        # Control: the same kind of token is fine where the key is.
        r = self.server(self.token('otherhost'), keytab=self.both_kt)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r['service'], 'HTTP/otherhost@CORP.EXAMPLE', r)

    def test_other_http_host_with_server_name(self):
        # The key is in the keytab, but the server is HTTP/localhost.
        r = self.server(self.token('otherhost'), '--name', 'localhost',
                        keytab=self.both_kt)
        self.refused(r, 'ticket for another service')
        self.assertIn('ticket for HTTP/otherhost@CORP.EXAMPLE', r.err)
        r = self.server(self.token('localhost'), '--name', 'localhost',
                        keytab=self.both_kt)
        self.assertEqual(r.rc, 0, r)

    def test_host_service_refused(self):
        for mech in ('krb5', 'spnego'):
            tok = gss_token(self, self.k, self.ds1_kt, self.a.ds1,
                            'host@localhost', mech)
            # host/localhost's key is in this keytab: only the HTTP/
            # rule refuses it.
            r = self.server(tok, keytab=self.host_kt)
            self.refused(r, 'ticket for another service')
            self.assertIn('ticket for host/localhost@CORP.EXAMPLE', r.err)
            tok = gss_token(self, self.k, self.ds1_kt, self.a.ds1,
                            'HTTP@localhost', mech)
            r = self.server(tok, keytab=self.host_kt)
            self.assertEqual(r.rc, 0, r)


class Garbage(NegotiateBase):
    def test_garbage_refused(self):
        rnd = random.Random(7)
        cases = {
            '': 'empty',
            'abc': 'not base64',
            '!!!!': 'not base64',
            'YW Jj': 'not base64',
            'YWJj\t': 'not base64',
            'YQ=a': 'not base64',
            'Y===': 'not base64',
            '====': 'not base64',
            'YWJj': 'Kerberos authentication failed',
            base64.b64encode(bytes(rnd.randrange(256) for _ in range(3000)))
            .decode(): 'Kerberos authentication failed',
            base64.b64encode(b'NTLMSSP\x00\x01\x00\x00\x00' + b'\x00' * 24)
            .decode(): 'NTLM is not supported',
            # SPNEGO offering only NTLM, and one preferring NTLM with
            # no optimistic token (would need a second leg).
            spnego_init([OID_NTLM]): 'Kerberos authentication failed',
            spnego_init([OID_NTLM], b'NTLMSSP\x00\x01\x00\x00\x00' +
                        b'\x00' * 24): 'Kerberos authentication failed',
            spnego_init([OID_NTLM, OID_KRB5]): 'more than one leg',
            spnego_init([OID_KRB5]): 'more than one leg',
            spnego_init([OID_KRB5], b'\x60\x03\x06\x01\x00'):
            'Kerberos authentication failed',
        }
        for tok, why in cases.items():
            with self.subTest(tok=tok[:40]):
                r = self.server(tok)
                self.refused(r, why)

    def test_truncated_real_token_refused(self):
        raw = base64.b64decode(self.token())
        for cut in (1, 16, len(raw) // 2, len(raw) - 1):
            with self.subTest(cut=cut):
                self.refused(self.server(
                    base64.b64encode(raw[:cut]).decode()))

    def test_oversized(self):
        rnd = random.Random(8)
        # Exactly the limit: decoded and given to GSSAPI, which refuses.
        at = base64.b64encode(bytes(rnd.randrange(256)
                                    for _ in range(65536 // 4 * 3))).decode()
        self.assertEqual(len(at), 65536)
        self.refused(self.server(at), 'Kerberos authentication failed')
        # One base64 quantum over: refused before decoding.
        over = at + 'AAAA'
        self.refused(self.server(over), 'too long')
        self.refused(self.server('A' * 200000), 'too long')


class Keytab(NegotiateBase):
    def test_keytab_policy(self):
        tok = self.token()
        loose = self.k.path('loose.keytab')
        shutil.copy(self.http_kt, loose)
        os.chmod(loose, 0o640)
        r = self.server(tok, keytab=loose)
        self.assertEqual(r.rc, 1, r)
        self.assertIn('readable by group', r['error'], r)
        r = self.server(tok, keytab=self.k.path('missing.keytab'))
        self.assertEqual(r.rc, 1, r)
        # A keytab with no HTTP/ key at all.
        r = self.server(tok, keytab=self.ds1_kt)
        self.assertEqual(r.rc, 1, r)
        self.assertIn('no usable HTTP/ key', r['error'], r)
        # A server name whose key is not there.
        r = self.server(tok, '--name', 'nosuch.example')
        self.assertEqual(r.rc, 1, r)
        r = probe(self, self.k, 'server', self.http_kt, tok,
                  '--rcache', 'none:')
        self.assertEqual(r.rc, 1, r)
        self.assertIn('none', r['error'], r)
        # Control: the token itself was good all along.
        os.chmod(loose, 0o600)
        self.assertEqual(self.server(tok, keytab=loose).rc, 0)

    def test_client_without_credentials(self):
        empty = self.k.path('empty-client.keytab')
        with open(empty, 'wb'):
            pass
        r = probe(self, self.k, 'client', 'localhost', empty)
        self.assertEqual(r.rc, 2, r)
        r = probe(self, self.k, 'client', 'localhost', self.ds1_kt,
                  '--principal', self.a.ds2)
        self.assertEqual(r.rc, 2, r)
        # A service the KDC does not know.
        r = probe(self, self.k, 'client', 'nosuchhost', self.ds1_kt)
        self.assertEqual(r.rc, 2, r)
        r = probe(self, self.k, 'client', 'bad host', self.ds1_kt)
        self.assertEqual(r.rc, 2, r)


class CrossRealm(unittest.TestCase):
    """Two KDCs; DS3$ lives in EAST.CORP.EXAMPLE, the server in CORP."""

    @classmethod
    def setUpClass(cls):
        if not os.access(PROBE, os.X_OK):
            raise RuntimeError(f'no probe at {PROBE} (build first)')
        cls.k = krb5kdc.KrbEnv(A)
        try:
            cls.a = cls.k.realm
            cls.b = cls.k.add_realm(B)
            cls.ds3 = cls.b.add_principal('DS3$')
            cls.http_kt = cls.a.keytab(cls.k.path('http.keytab'), cls.a.http)
            cls.ds3_kt = cls.b.keytab(cls.k.path('ds3.keytab'), cls.ds3)
        except BaseException:
            cls.k.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def attempt(self, maptext=MAP):
        c = probe(self, self.k, 'client', 'localhost', self.ds3_kt)
        if c.rc != 0:
            return c, None
        s = server(self, self.k, self.http_kt, c['token'], '--map', maptext)
        return c, s

    def test_trust_admits_and_its_absence_refuses(self):
        # No trust: B's KDC has no krbtgt/CORP.EXAMPLE@EAST.CORP.EXAMPLE.
        c, s = self.attempt()
        self.assertEqual(c.rc, 2, c)
        self.assertIn('cannot get a Kerberos ticket', c['refused'], c)
        self.assertIsNone(s)

        princ = self.k.trust(self.b, self.a, both_ways=True)
        self.assertEqual(princ, f'krbtgt/{A}@{B}')
        for r in (self.a, self.b):
            self.assertTrue(r.has_principal(f'krbtgt/{A}@{B}'))
            self.assertTrue(r.has_principal(f'krbtgt/{B}@{A}'))
        try:
            c, s = self.attempt()
            self.assertEqual(c.rc, 0, c)
            self.assertEqual(s.rc, 0, s)
            self.assertEqual(s['principal'], f'DS3$@{B}', s)
            self.assertEqual(s['service'], f'HTTP/localhost@{A}', s)
            self.assertEqual(s['identity'], 'EAST\\DS3$', s)
            # Authenticated, but EAST is not in this server's map.
            c, s = self.attempt('CORP.EXAMPLE = CORP')
            self.assertEqual(s.rc, 0, s)
            self.assertIsNone(s['identity'], s)
            self.assertIn('realm not in the realm map',
                          s['identity-refused'], s)
        finally:
            self.k.untrust(self.b, self.a, both_ways=True)
        self.assertFalse(self.b.has_principal(f'krbtgt/{A}@{B}'))
        # Trust removed again: refused again.
        c, s = self.attempt()
        self.assertEqual(c.rc, 2, c)

    def test_one_sided_trust_refused(self):
        # The principal only in A's database: B cannot issue the
        # cross-realm ticket.
        princ = f'krbtgt/{A}@{B}'
        self.a.add_principal(princ, password='one-sided')
        try:
            c, s = self.attempt()
            self.assertEqual(c.rc, 2, c)
        finally:
            self.a.delete_principal(princ)
        # Different passwords (keys) in the two KDCs: B issues a ticket
        # that A cannot decrypt.
        self.a.add_principal(princ, password='one')
        self.b.add_principal(princ, password='two')
        try:
            c, s = self.attempt()
            self.assertEqual(c.rc, 2, c)
        finally:
            self.a.delete_principal(princ)
            self.b.delete_principal(princ)


class Mapping(unittest.TestCase):
    """negotiate_map_principal and negotiate_realm_map_parse (no KDC)."""

    def map(self, principal, maptext=MAP):
        p = subprocess.run([PROBE, 'map', principal, maptext],
                           capture_output=True, text=True, timeout=60)
        r = Run(p)
        check_sanitizer(self, r)
        return r

    @classmethod
    def setUpClass(cls):
        if not os.access(PROBE, os.X_OK):
            raise RuntimeError(f'no probe at {PROBE} (build first)')

    def test_principals(self):
        ok = {
            'DS1$@CORP.EXAMPLE': 'CORP\\DS1$',
            'ds1$@CORP.EXAMPLE': 'CORP\\ds1$',          # case kept
            'DS3$@EAST.CORP.EXAMPLE': 'EAST\\DS3$',
            'alice@CORP.EXAMPLE': 'CORP\\alice',
            'host/ds1.corp.example@CORP.EXAMPLE': 'CORP\\DS1$',
            'HOST/Ds2@CORP.EXAMPLE': 'CORP\\DS2$',
            'host/a-b.x@EAST.CORP.EXAMPLE': 'EAST\\A-B$',
            'n' * 64 + '@CORP.EXAMPLE': 'CORP\\' + 'n' * 64,
            'host/' + 'h' * 63 + '.x@CORP.EXAMPLE': 'CORP\\' + 'H' * 63 + '$',
        }
        for p, want in ok.items():
            with self.subTest(p=p):
                r = self.map(p)
                self.assertEqual(r.rc, 0, r)
                self.assertEqual(r['identity'], want, r)
        refused = {
            'DS1$@corp.example': 'realm not in',        # realms are exact
            'DS1$@WEST.EXAMPLE': 'realm not in',
            'DS1$@': 'realm not in',
            'DS1$': 'no realm',
            '@CORP.EXAMPLE': 'no realm',
            'a@b@CORP.EXAMPLE': 'no realm',
            'HTTP/ds1.corp.example@CORP.EXAMPLE': 'other than host/',
            'cifs/ds1@CORP.EXAMPLE': 'other than host/',
            'host/a/b@CORP.EXAMPLE': 'other than host/',
            'host/@CORP.EXAMPLE': 'not mappable',
            'host/.x@CORP.EXAMPLE': 'not mappable',
            'host/-a.x@CORP.EXAMPLE': 'not mappable',
            'host/a_b.x@CORP.EXAMPLE': 'not mappable',
            'host/' + 'h' * 64 + '@CORP.EXAMPLE': 'not mappable',
            'a\\@b@CORP.EXAMPLE': 'escaped',
            'a,b@CORP.EXAMPLE': 'not mappable',
            'a b@CORP.EXAMPLE': 'not mappable',
            'a<b@CORP.EXAMPLE': 'not mappable',
            'caf\u00e9@CORP.EXAMPLE': 'not mappable',
            'n' * 65 + '@CORP.EXAMPLE': 'not mappable',
            'x' * 600 + '@CORP.EXAMPLE': 'length',
        }
        for p, why in refused.items():
            with self.subTest(p=p):
                r = self.map(p)
                self.assertEqual(r.rc, 2, r)
                self.assertIsNone(r['identity'], r)
                self.assertIn(why, r['refused'], r)

    def test_realm_map_parse(self):
        good = {
            'CORP.EXAMPLE=CORP': 'CORP\\DS1$',
            ' CORP.EXAMPLE = CORP , ': 'CORP\\DS1$',
            ',,CORP.EXAMPLE = X_Y-Z.W': 'X_Y-Z.W\\DS1$',
            'CORP.EXAMPLE = ABCDEFGHIJKLMNO': 'ABCDEFGHIJKLMNO\\DS1$',
            ', '.join(f'R{i}.EXAMPLE = D{i}' for i in range(31)) +
            ', CORP.EXAMPLE = LAST': 'LAST\\DS1$',
        }
        for text, want in good.items():
            with self.subTest(text=text[:60]):
                r = self.map('DS1$@CORP.EXAMPLE', text)
                self.assertEqual(r.rc, 0, r)
                self.assertEqual(r['identity'], want, r)
        # Parses, but nobody maps.
        for text in ('', '  ', 'EAST.CORP.EXAMPLE = EAST'):
            with self.subTest(text=text):
                r = self.map('DS1$@CORP.EXAMPLE', text)
                self.assertEqual(r.rc, 2, r)
        bad = {
            'CORP.EXAMPLE': 'REALM = DOMAIN',
            'CORP.EXAMPLE = ': 'NetBIOS domain',
            ' = CORP': 'bad realm',
            'CORP.EXAMPLE = ABCDEFGHIJKLMNOP': 'NetBIOS domain',
            'CORP.EXAMPLE = CO RP': 'NetBIOS domain',
            'CORP.EXAMPLE = CO\\RP': 'NetBIOS domain',
            'CORP EXAMPLE = CORP': 'bad realm',
            '.CORP.EXAMPLE = CORP': 'bad realm',
            'CORP.EXAMPLE = A = B': 'NetBIOS domain',
            'CORP.EXAMPLE = A, CORP.EXAMPLE = B': 'twice',
            'R' * 254 + ' = A': 'bad realm',
            ', '.join(f'R{i}.EXAMPLE = D{i}' for i in range(33)): 'too many',
        }
        for text, why in bad.items():
            with self.subTest(text=text[:60]):
                r = self.map('DS1$@CORP.EXAMPLE', text)
                self.assertEqual(r.rc, 1, r)
                self.assertIn(why, r['error'], r)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--gss-client':
        sys.exit(gss_client_main(sys.argv[2], sys.argv[3]))
    unittest.main(verbosity=2)
