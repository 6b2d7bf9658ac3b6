"""Shared machinery for the wsusd end-to-end tests (Python 3 stdlib only).

Binaries come from $WSUSD and $WSUSUTIL (default build/wsusd and
build/wsusutil under the repository root).  Every test starts the real
daemon on loopback, in a fresh data directory, on free ports in
20000-60000, and talks to it over raw sockets so that nothing between the
test and the daemon normalises paths or headers.

Main pieces:
  Wsusd                  one data directory + one daemon process
  free_port_pair()       N such that N and N-1 are both free
  tls_client_context()   trusts DIR/tls/ca.pem, hostname 'localhost'
  connect(), request(), read_response(), HTTPReader
                         raw HTTP/1.1 over plain or TLS sockets
  DaemonTestCase         unittest base class: starts the daemon once per
                         class, checks after every test that it is alive
"""

import hashlib
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
WSUSD = os.environ.get('WSUSD') or os.path.join(REPO, 'build', 'wsusd')
WSUSUTIL = os.environ.get('WSUSUTIL') or os.path.join(REPO, 'build',
                                                      'wsusutil')
OPENSSL = shutil.which('openssl')

HOST = '127.0.0.1'
START_TIMEOUT = float(os.environ.get('WSUSD_START_TIMEOUT', '20'))
IO_TIMEOUT = 10.0

SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/'

TLS_ROOTS = ['SimpleAuthWebService', 'DssAuthWebService',
             'ServerSyncWebService', 'ApiRemoting30', 'ClientWebService']
OPEN_ROOTS = ['Content', 'Inventory', 'ReportingWebService', 'SelfUpdate']
ALL_ROOTS = TLS_ROOTS + OPEN_ROOTS

# A typical endpoint under each root.
ROOT_PATHS = {
    'SimpleAuthWebService': '/SimpleAuthWebService/SimpleAuth.asmx',
    'DssAuthWebService': '/DssAuthWebService/DssAuthWebService.asmx',
    'ServerSyncWebService': '/ServerSyncWebService/ServerSyncWebService.asmx',
    'ApiRemoting30': '/ApiRemoting30/WebService.asmx',
    'ClientWebService': '/ClientWebService/client.asmx',
    'Content': '/Content/',  # tests substitute a real file
    'Inventory': '/Inventory/inventory.asmx',
    'ReportingWebService': '/ReportingWebService/ReportingWebService.asmx',
    'SelfUpdate': '/SelfUpdate/wuident.cab',
}

SOAP_BODY = (b'<?xml version="1.0" encoding="utf-8"?>'
             b'<soap:Envelope xmlns:soap="' + SOAP_NS.encode() + b'">'
             b'<soap:Body><Probe xmlns="urn:wsusd-integ"/></soap:Body>'
             b'</soap:Envelope>')

SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                     'runtime error:', 'ThreadSanitizer', 'SUMMARY: ')


class HarnessError(Exception):
    pass


class NoResponse(Exception):
    """The connection closed (or timed out) before a status line."""


# ---------------------------------------------------------------- ports

def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port_pair(preferred=None):
    """Returns N in 20000-60000 with N and N-1 both bindable on loopback."""
    if preferred is not None and _port_free(preferred) \
            and _port_free(preferred - 1):
        return preferred
    rnd = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(500):
        n = rnd.randrange(20001, 60000)
        if _port_free(n) and _port_free(n - 1):
            return n
    raise HarnessError('no free port pair in 20000-60000')


def port_open(port, timeout=0.5):
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port_closed(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_open(port):
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- TLS

def tls_client_context(cafile, minimum=None, maximum=None):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


def pem_certs(path):
    """DER of each certificate in a PEM file, in file order."""
    with open(path, 'r', encoding='ascii') as f:
        text = f.read()
    blocks = re.findall(r'-----BEGIN CERTIFICATE-----.*?'
                        r'-----END CERTIFICATE-----', text, re.S)
    return [ssl.PEM_cert_to_DER_cert(b + '\n') for b in blocks]


def leaf_der(path):
    certs = pem_certs(path)
    if not certs:
        raise HarnessError('%s: no certificate' % path)
    return certs[0]


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


# ---------------------------------------------------------------- HTTP

class Response:
    """One HTTP response: status, reason, headers (list), h (dict), body."""

    def __init__(self, version, status, reason, headers, body, head_raw):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in order
        self.h = {}
        for k, v in headers:
            self.h[k.lower()] = v
        self.body = body
        self.head_raw = head_raw

    def header(self, name):
        return self.h.get(name.lower())

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __iter__(self):
        return iter((self.status, self.h, self.body))

    def __repr__(self):
        body = self.body[:300]
        return '<%d %s %r body[%d]=%r>' % (self.status, self.reason,
                                           self.headers, len(self.body), body)


class HTTPReader:
    """Reads responses from a socket, keeping leftover bytes between them."""

    def __init__(self, sock, timeout=IO_TIMEOUT):
        self.sock = sock
        self.buf = b''
        self.eof = False
        self.timeout = timeout

    def _fill(self, deadline):
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('read deadline passed')
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            data = b''
        except ssl.SSLError as e:
            # An unexpected EOF without close_notify counts as close.
            if 'EOF' in str(e) or 'UNEXPECTED_EOF' in str(e):
                data = b''
            else:
                raise
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise HarnessError('connection closed after %d of %d body '
                                   'bytes' % (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_line(self, deadline, limit=65536):
        while b'\r\n' not in self.buf:
            if len(self.buf) > limit:
                raise HarnessError('line too long')
            if not self._fill(deadline):
                raise HarnessError('connection closed mid-line')
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line

    def read_head(self, deadline):
        while b'\r\n\r\n' not in self.buf:
            if len(self.buf) > 256 * 1024:
                raise HarnessError('response head too large')
            if not self._fill(deadline):
                if self.buf:
                    raise HarnessError('connection closed mid-head: %r'
                                       % self.buf[:200])
                raise NoResponse('connection closed without a response')
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        lines = head.split(b'\r\n')
        m = re.match(rb'^(HTTP/\d\.\d) (\d{3})(?: (.*))?$', lines[0])
        if not m:
            raise HarnessError('bad status line %r' % lines[0])
        headers = []
        for ln in lines[1:]:
            if b':' not in ln:
                raise HarnessError('bad header line %r' % ln)
            k, v = ln.split(b':', 1)
            headers.append((k.decode('latin-1'),
                            v.strip().decode('latin-1')))
        return (m.group(1).decode(), int(m.group(2)),
                (m.group(3) or b'').decode('latin-1'), headers, head)

    def read_response(self, method='GET', timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        version, status, reason, headers, head = self.read_head(deadline)
        hd = {k.lower(): v for k, v in headers}
        if method == 'HEAD' or status in (204, 304) or 100 <= status < 200:
            body = b''
        elif 'chunked' in hd.get('transfer-encoding', '').lower():
            body = b''
            while True:
                size_line = self._read_line(deadline)
                size = int(size_line.split(b';')[0].strip(), 16)
                if size == 0:
                    while self._read_line(deadline) != b'':
                        pass
                    break
                body += self._read_exact(size, deadline)
                if self._read_exact(2, deadline) != b'\r\n':
                    raise HarnessError('bad chunk terminator')
        elif 'content-length' in hd:
            body = self._read_exact(int(hd['content-length']), deadline)
        else:
            while self._fill(deadline):
                pass
            body, self.buf = self.buf, b''
        return Response(version, status, reason, headers, body, head)

    def at_eof(self, timeout=3.0):
        """True if the peer closes within TIMEOUT with no further bytes."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except socket.timeout:
            return False
        except OSError:
            return True
        return True


def connect(port, tls=None, timeout=IO_TIMEOUT, server_hostname='localhost'):
    """TCP connect to 127.0.0.1:PORT; TLS handshake if TLS is a context."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        try:
            s = tls.wrap_socket(s, server_hostname=server_hostname)
        except Exception:
            s.close()
            raise
    return s


def build_request(method, target, headers=None, body=b'', host='localhost',
                  close=True):
    hdrs = [('Host', host)]
    if headers:
        if isinstance(headers, dict):
            headers = list(headers.items())
        hdrs += headers
    names = {k.lower() for k, _ in hdrs}
    if body and 'content-length' not in names \
            and 'transfer-encoding' not in names:
        hdrs.append(('Content-Length', str(len(body))))
    if close and 'connection' not in names:
        hdrs.append(('Connection', 'close'))
    out = ('%s %s HTTP/1.1\r\n' % (method, target)).encode('latin-1')
    for k, v in hdrs:
        out += ('%s: %s\r\n' % (k, v)).encode('latin-1')
    return out + b'\r\n' + body


def request(port, method, target, headers=None, body=b'', tls=None,
            host='localhost', raw=None, timeout=IO_TIMEOUT):
    """One request on a fresh connection; returns a Response.

    RAW, when given, is sent verbatim instead of a built request.
    """
    data = raw if raw is not None else build_request(
        method, target, headers, body, host)
    with connect(port, tls, timeout) as s:
        s.sendall(data)
        return HTTPReader(s, timeout).read_response(method, timeout)


def send_slowly(sock, data, delay):
    for i in range(len(data)):
        sock.sendall(data[i:i + 1])
        time.sleep(delay)


# ---------------------------------------------------------------- content

def content_path(datadir, name):
    """DIR/content/XX/NAME with XX = last two hex digits of the digest."""
    stem = name.split('.', 1)[0]
    return os.path.join(datadir, 'content', stem[-2:].upper(), name)


def content_url(name):
    stem = name.split('.', 1)[0]
    return '/Content/%s/%s' % (stem[-2:].upper(), name)


def put_content(datadir, data, ext='.cab', algo='sha1'):
    """Stores DATA under its own digest; returns (name, url, path)."""
    digest = hashlib.new(algo, data).hexdigest().upper()
    name = digest + ext
    path = content_path(datadir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    return name, content_url(name), path


def make_sparse(datadir, size, markers, ext='.cab', seed=b'sparse'):
    """A sparse file of SIZE bytes with MARKERS {offset: bytes} written in.

    The name is a fake SHA-1 (hashing gigabytes is pointless here).
    """
    digest = hashlib.sha1(seed + str(size).encode()).hexdigest().upper()
    name = digest + ext
    path = content_path(datadir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.truncate(size)
        for off, data in markers.items():
            f.seek(off)
            f.write(data)
    return name, content_url(name), path


def expected_sparse_bytes(size, markers, first, last):
    """The bytes [first, last] of a sparse file built by make_sparse."""
    out = bytearray(last - first + 1)
    for off, data in markers.items():
        lo = max(off, first)
        hi = min(off + len(data) - 1, last)
        if lo <= hi:
            out[lo - first:hi - first + 1] = data[lo - off:hi - off + 1]
    return bytes(out)


# ---------------------------------------------------------------- daemon

def run_wsusutil(datadir, *args, check=True, timeout=60):
    cmd = [WSUSUTIL, '--data', datadir] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise HarnessError('%s -> exit %d\nstdout: %s\nstderr: %s' % (
            ' '.join(cmd), p.returncode, p.stdout.decode(errors='replace'),
            p.stderr.decode(errors='replace')))
    return p


class Wsusd:
    """A data directory and (at most) one running wsusd on it."""

    def __init__(self, tls=True, conf=None, rsa=False, port=None):
        if not os.access(WSUSD, os.X_OK):
            raise HarnessError('wsusd binary not found: %s (set WSUSD=)'
                               % WSUSD)
        self.base = tempfile.mkdtemp(prefix='wsusd-integ-')
        os.chmod(self.base, 0o700)
        self.dir = os.path.join(self.base, 'data')
        os.mkdir(self.dir, 0o750)
        os.mkdir(os.path.join(self.dir, 'content'), 0o750)
        self.proc = None
        self.stdout_path = os.path.join(self.base, 'stdout.log')
        self.stderr_path = os.path.join(self.base, 'stderr.log')
        self.port = port if port is not None else free_port_pair()
        self.conf = dict(conf or {})
        self.write_conf()
        self.tls = tls
        if tls:
            self.make_tls(rsa=rsa)

    # paths
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def https_port(self):
        return self.port

    @property
    def http_port(self):
        return 80 if self.port == 443 else self.port - 1

    @property
    def ca(self):
        return self.path('tls', 'ca.pem')

    def ctx(self, **kw):
        return tls_client_context(self.ca, **kw)

    def write_conf(self):
        lines = ['# written by tests/integration/harness.py']
        for k, v in self.conf.items():
            lines.append('%s = %s' % (k, v))
        p = self.path('wsusd.conf')
        with open(p, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chmod(p, 0o640)

    def set_conf(self, key, value, raw_line=None):
        """Replaces KEY's line in wsusd.conf (or appends one), keeping the
        lines wsusutil wrote.  VALUE None deletes the key.  RAW_LINE, if
        given, is appended verbatim instead."""
        p = self.path('wsusd.conf')
        with open(p) as f:
            lines = f.read().splitlines()
        out = []
        done = False
        for ln in lines:
            m = re.match(r'\s*([A-Za-z_0-9]+)\s*=', ln)
            if key is not None and m and m.group(1) == key:
                if value is not None and not done:
                    out.append('%s = %s' % (key, value))
                done = True
                continue
            out.append(ln)
        if key is not None and value is not None and not done:
            out.append('%s = %s' % (key, value))
        if raw_line is not None:
            out.append(raw_line)
        tmp = p + '.tmp'
        with open(tmp, 'w') as f:
            f.write('\n'.join(out) + '\n')
        os.chmod(tmp, 0o640)
        os.rename(tmp, p)

    def make_tls(self, rsa=False):
        args = ['testca'] + (['--rsa'] if rsa else []) + \
            ['localhost', '127.0.0.1']
        run_wsusutil(self.dir, *args)
        for f in ('ca.pem', 'testca-server.crt', 'testca-server.key'):
            if not os.path.exists(self.path('tls', f)):
                raise HarnessError('testca did not write tls/%s' % f)
        run_wsusutil(self.dir, 'configuressl', 'localhost',
                     '--cert', self.path('tls', 'testca-server.crt'),
                     '--key', self.path('tls', 'testca-server.key'))
        for f in ('server.crt', 'server.key'):
            if not os.path.exists(self.path('tls', f)):
                raise HarnessError('configuressl did not write tls/%s' % f)

    # process
    def argv(self, port=True, extra=()):
        a = [WSUSD, '--data', self.dir]
        if port:
            a += ['--port', str(self.port)]
        return a + ['--listen', HOST, '--foreground'] + list(extra)

    def start(self, wait=True, port_arg=True, extra=(), expect_https=None):
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError('already running')
        self._close_logs()
        self.stdout_f = open(self.stdout_path, 'ab')
        self.stderr_f = open(self.stderr_path, 'ab')
        self.stderr_offset = self.stderr_f.tell()
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'abort_on_error=0:detect_leaks=1')
        self.proc = subprocess.Popen(self.argv(port_arg, extra),
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.stdout_f,
                                     stderr=self.stderr_f, env=env)
        if wait:
            if expect_https is None:
                expect_https = self.tls
            self.wait_ready(https=expect_https)
        return self

    def wait_ready(self, https=True, timeout=START_TIMEOUT):
        ports = [self.http_port] + ([self.https_port] if https else [])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError('wsusd exited with %d during start-up; '
                                   'stderr:\n%s' % (self.proc.returncode,
                                                    self.stderr()))
            if all(port_open(p) for p in ports):
                return
            time.sleep(0.1)
        raise HarnessError('wsusd not listening on %r after %.0f s; '
                           'stderr:\n%s' % (ports, timeout, self.stderr()))

    def run_to_exit(self, timeout=START_TIMEOUT, port_arg=True):
        """Runs wsusd expecting it to exit by itself; (rc, stderr)."""
        self.start(wait=False, port_arg=port_arg)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, self.stderr()
        self._close_logs()
        return rc, self.stderr()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status (None if killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self._close_logs()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close_logs()

    def _close_logs(self):
        for f in ('stdout_f', 'stderr_f'):
            fp = getattr(self, f, None)
            if fp is not None:
                fp.close()
                setattr(self, f, None)

    def stderr(self, all_runs=False):
        try:
            with open(self.stderr_path, 'rb') as f:
                if not all_runs:
                    f.seek(getattr(self, 'stderr_offset', 0))
                return f.read().decode(errors='replace')
        except OSError:
            return ''

    def sanitizer_report(self):
        text = self.stderr(all_runs=True)
        for m in SANITIZER_MARKERS:
            if m in text:
                i = text.find(m)
                return text[max(0, i - 200):i + 3000]
        return None

    def cleanup(self):
        self.kill()
        if os.environ.get('WSUSD_INTEG_KEEP'):
            sys.stderr.write('kept %s\n' % self.base)
            return
        shutil.rmtree(self.base, ignore_errors=True)

    # requests
    def http(self, method, target, **kw):
        return request(self.http_port, method, target, **kw)

    def https(self, method, target, **kw):
        kw.setdefault('tls', self.ctx())
        return request(self.https_port, method, target, **kw)

    def peer_cert(self, **kw):
        """DER of the leaf the HTTPS port presents now."""
        with connect(self.https_port, self.ctx(**kw)) as s:
            return s.getpeercert(binary_form=True)


def stop_checked(d):
    """Stops D's daemon and removes its files; raises AssertionError when
    it did not exit 0 on SIGTERM or its stderr holds a sanitizer report.
    For tearDownClass of tests that start their own daemon."""
    rc = d.stop()
    report = d.sanitizer_report()
    d.cleanup()
    if report:
        raise AssertionError('sanitizer report in wsusd stderr:\n' + report)
    if rc != 0:
        raise AssertionError('wsusd exit status on SIGTERM: %r' % rc)


def check_alive(test, d):
    """Fails TEST when D's daemon is no longer running (for tearDown)."""
    if not d.alive():
        test.fail('wsusd died during this test (exit %r); stderr:\n%s'
                  % (d.proc.returncode, d.stderr()[-4000:]))


class DaemonTestCase(unittest.TestCase):
    """Starts one daemon per class; after each test checks it still runs.

    Subclasses set TLS (bool), CONF (dict) and may override populate(d)
    to put files in place before start.
    """

    TLS = True
    CONF = {}
    RSA = False

    @classmethod
    def setUpClass(cls):
        cls.d = Wsusd(tls=cls.TLS, conf=cls.CONF, rsa=cls.RSA)
        try:
            cls.populate(cls.d)
            cls.d.start()
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def populate(cls, d):
        pass

    @classmethod
    def tearDownClass(cls):
        stop_checked(cls.d)

    def tearDown(self):
        check_alive(self, self.d)

    # helpers
    def assertNoneOf(self, needles, data, msg=None):
        for n in needles:
            self.assertNotIn(n, data, msg)

    def assertAliveByRequest(self, url, port=None, tls=None):
        """A fresh request is answered: the daemon survived."""
        r = request(port or self.d.http_port, 'GET', url, tls=tls)
        self.assertEqual(r.status, 200, r)


class Download(threading.Thread):
    """Streams one GET in the background, hashing the body.

    While .slow is set it sleeps DELAY after every CHUNK bytes, so the
    transfer stays in flight; clear .slow to finish at full speed.
    """

    def __init__(self, port, url, tls=None, chunk=256 * 1024, delay=0.02,
                 timeout=120):
        super().__init__(daemon=True)
        self.port, self.url, self.tls = port, url, tls
        self.chunk, self.delay, self.timeout = chunk, delay, timeout
        self.slow = threading.Event()
        self.slow.set()
        self.started_body = threading.Event()
        self.received = 0
        self.length = None
        self.status = None
        self.sha256 = hashlib.sha256()
        self.error = None
        self.peer_der = None
        self.done_at = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.done_at = time.monotonic()
            self.started_body.set()

    def _run(self):
        deadline = time.monotonic() + self.timeout
        s = connect(self.port, self.tls, timeout=30)
        with s:
            if self.tls is not None:
                self.peer_der = s.getpeercert(binary_form=True)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
            s.sendall(build_request('GET', self.url))
            rd = HTTPReader(s, 30)
            _, self.status, _, headers, _ = rd.read_head(deadline)
            hd = {k.lower(): v for k, v in headers}
            self.length = int(hd['content-length'])
            body, rd.buf = rd.buf, b''
            self.sha256.update(body)
            self.received = len(body)
            self.started_body.set()
            s.settimeout(30)
            next_pause = self.received + self.chunk
            while self.received < self.length:
                if time.monotonic() > deadline:
                    raise HarnessError('download timed out at %d of %d'
                                       % (self.received, self.length))
                data = s.recv(min(self.chunk, self.length - self.received))
                if not data:
                    raise HarnessError('connection closed at %d of %d bytes'
                                       % (self.received, self.length))
                self.sha256.update(data)
                self.received += len(data)
                if self.received >= next_pause:
                    next_pause = self.received + self.chunk
                    if self.slow.is_set():
                        time.sleep(self.delay)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def main():
    unittest.main(verbosity=2)
