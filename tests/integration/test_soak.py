#!/usr/bin/env python3
"""A bounded soak of the real daemon (issue #8 item 7; SECURITY.md S11,
S23): for SOAK_SECONDS (default 40, 5-1800), all at once,

  - `wuagent simulate` agents scanning over TLS (SOAK_CLIENTS, 50);
  - a probe doing a legitimate client flow every second: GetConfig,
    GetAuthorizationCookie, GetCookie, RegisterComputer, one SyncUpdates
    page over HTTPS, and a /Content GET over HTTP checked against the
    SHA-1 in its name; every request timed;
  - 100 slowloris connections (request heads and a TLS ClientHello sent
    a byte a second, a declared body trickled), re-opened when the server
    closes them;
  - random disconnects: half requests, half ClientHellos, half SOAP
    bodies, closed or reset (SO_LINGER 0), and downloads reset mid-body;
  - SIGHUP to the daemon every second;
  - a full content volume: DIR/content is a fresh 4 MiB tmpfs; a package
    larger than the free space is published, then the volume is filled
    to the last block and a small one is published: both must fail
    naming ENOSPC and leave the catalog and the store as they were; the
    space is freed and a publish succeeds.

Then: the daemon ran the whole time (same process), every probe after
the start succeeded within SOAK_MAX_LATENCY s (2) per request, the
simulated agents had no errors, the slowloris connections were closed by
the server's deadlines, the daemon's descriptors went back to their
count before the soak, PRAGMA integrity_check is ok, every file under
content/ is in the catalog with its digest (and the reverse), `wsusutil
checkhealth --content` finds nothing but the small volume's free space,
and SIGTERM ends the daemon with status 0 and no sanitizer report. The
figures are printed as a table at the end (docs/SECURITY.md quotes them).

Needs root (or CAP_SYS_ADMIN) for the tmpfs mount, made in a private
mount namespace of the test process (nothing is left mounted whatever
ends the test); fails, not skips, without it."""

import errno
import hashlib
import os
import random
import re
import select
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
from harness import HTTPReader, Wsusd, build_request, connect  # noqa: E402

WUAGENT = os.environ.get('WUAGENT', os.path.join(harness.REPO, 'build',
                                                 'wuagent'))


def env_num(name, default, lo, hi, conv=int):
    v = conv(os.environ.get(name, default))
    if not lo <= v <= hi:
        raise SystemExit('%s must be %s-%s' % (name, lo, hi))
    return v


SOAK_SECONDS = env_num('SOAK_SECONDS', 40, 5, 1800)
SOAK_CLIENTS = env_num('SOAK_CLIENTS', 50, 1, 2000)
SLOWLORIS = env_num('SOAK_SLOWLORIS', 100, 0, 400)
MAX_LATENCY = env_num('SOAK_MAX_LATENCY', 2.0, 0.1, 60.0, float)
# Resident set growth allowed over the soak. ASan's quarantine alone may
# hold 256 MiB of freed memory; a release build grows by about 10 MiB.
MAX_RSS_GROWTH = env_num('SOAK_MAX_RSS_GROWTH_MIB', 384, 1, 65536)
TMPFS_SIZE = 4 * 1024 * 1024

# The daemon's sanitizers: report and fail, never go on after an error.
os.environ.setdefault('ASAN_OPTIONS', 'abort_on_error=0:detect_leaks=1')
os.environ.setdefault('UBSAN_OPTIONS', 'halt_on_error=1:print_stacktrace=1')

SOAP_ACTION = wc.CLIENT + '/GetConfig'
# The server's deadlines (wsd_limits.h defaults; the test sets none).
HEADER_TIMEOUT, HANDSHAKE_TIMEOUT, BODY_TIMEOUT = 10, 10, 30
DEADLINE_SLACK = 8.0


def proc_status(pid):
    """{'VmHWM': kB, 'VmRSS': kB} of PID."""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for ln in f:
            k, _, v = ln.partition(':')
            if k in ('VmHWM', 'VmRSS'):
                out[k] = int(v.split()[0])
    return out


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def fd_targets(pid):
    """{fd: what it points at} of PID."""
    out = {}
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            out[int(fd)] = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            pass
    return out


def reset_close(s):
    """Closes S with an RST (SO_LINGER 0), without a TLS close_notify."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
    except OSError:
        pass
    s.close()


def client_hello(ctx):
    """The bytes of a fresh TLS ClientHello CTX would send."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname='localhost')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def private_mounts():
    """Moves this process into a mount namespace of its own, whose
    mounts do not propagate back: the tmpfs goes away with this process
    and its children however they end (even SIGKILL by a test runner's
    timeout), and the host never sees it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise unittest.TestCase.failureException(
            'unshare(CLONE_NEWNS): %s (the soak test needs root or '
            'CAP_SYS_ADMIN for its small content volume)'
            % os.strerror(ctypes.get_errno()))
    p = subprocess.run(['mount', '--make-rprivate', '/'],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise unittest.TestCase.failureException(
            'mount --make-rprivate /: %s' % p.stderr.strip())


def percentile(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Stop(threading.Event):
    pass


# ---------------------------------------------------------------- workers

class Worker(threading.Thread):
    """A thread that records its own crash instead of dying silently."""

    def __init__(self, stop):
        super().__init__(daemon=True)
        self.stop = stop
        self.crash = None

    def run(self):
        try:
            self.work()
        except Exception as e:  # noqa: BLE001 - reported by the test
            import traceback
            self.crash = '%r\n%s' % (e, traceback.format_exc())


class Probe(Worker):
    """A legitimate client flow every second; records each flow's
    outcome and every request's latency."""

    def __init__(self, stop, d, content_url, content_sha1):
        super().__init__(stop)
        self.d, self.url, self.sha1 = d, content_url, content_sha1
        self.ok = 0
        self.failures = []  # (seconds since start, what)
        self.latencies = []
        self.during_full = [0, 0]  # ok, failed while the disk was full
        self.disk_full = threading.Event()
        self.t0 = time.monotonic()

    def timed(self, fn, *a):
        t = time.monotonic()
        r = fn(*a)
        self.latencies.append(time.monotonic() - t)
        return r

    def flow(self):
        cl = wc.Client(self.d)
        r = self.timed(cl.getconfig)
        last_change = wc.text(r.body, 'LastChange')
        auth = self.timed(cl.authcookie)
        r = self.timed(cl.getcookie, auth, last_change)
        wc.expect_status(r)
        cookie = wc.text(r.body, 'EncryptedData')
        expiration = wc.text(r.body, 'Expiration')
        r = self.timed(cl.register, cookie)
        wc.expect_status(r)
        r = self.timed(cl.call, 'SyncUpdates', wc.sync_body(cookie))
        page = wc.sync_page(r, expiration)
        if not page.infos and not page.changed:
            raise AssertionError('SyncUpdates returned no update')
        r = self.timed(harness.request, self.d.http_port, 'GET', self.url)
        if r.status != 200:
            raise AssertionError('content GET: %r' % r)
        got = hashlib.sha1(r.body).hexdigest().upper()
        if got != self.sha1:
            raise AssertionError('content GET: SHA-1 %s, expected %s'
                                 % (got, self.sha1))

    def work(self):
        while not self.stop.is_set():
            start = time.monotonic()
            full = self.disk_full.is_set()
            try:
                self.flow()
                self.ok += 1
                self.during_full[0] += full
            except Exception as e:  # noqa: BLE001 - counted
                self.failures.append((round(start - self.t0, 1),
                                      repr(e)[:300]))
                self.during_full[1] += full
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - start)))


class Slowloris(Worker):
    """N connections that never finish a request: a byte a second of a
    request head (HTTP and HTTPS), of a ClientHello, or of a declared
    body. Re-opened when closed; records how long each one lived."""

    KINDS = ('http-head', 'https-head', 'tls-hello', 'https-body')

    def __init__(self, stop, d, n, url):
        super().__init__(stop)
        self.d, self.n, self.url = d, n, url
        self.opened = {k: 0 for k in self.KINDS}
        self.closed_by_server = {k: 0 for k in self.KINDS}
        self.answered = {}  # status line -> count
        self.lifetimes = {k: [] for k in self.KINDS}
        self.open_errors = 0
        self.conns = []
        self.seq = 0

    def head(self):
        self.seq += 1
        return ('GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\n'
                % self.url).encode() + b''.join(
                    b'X-Slow-%d: %d\r\n' % (i, self.seq) for i in range(90))

    def open_one(self, kind):
        ctx = self.d.ctx()
        if kind == 'http-head':
            s = connect(self.d.http_port, timeout=10)
            data = self.head()
        elif kind == 'https-head':
            s = connect(self.d.https_port, ctx, timeout=10)
            data = self.head()
        elif kind == 'tls-hello':
            s = connect(self.d.https_port, timeout=10)
            data = client_hello(ctx)
        else:
            s = connect(self.d.https_port, ctx, timeout=10)
            body = wc.envelope('GetConfig', wc.CLIENT, 'x' * 200)
            s.sendall(build_request(
                'POST', wc.CLIENT_PATH,
                [('Content-Type', 'text/xml; charset=utf-8'),
                 ('SOAPAction', '"%s"' % SOAP_ACTION),
                 ('Content-Length', str(len(body) + 100000))], close=False))
            data = body + b' ' * 100000
        # The TLS handshake is done (blocking): from here on nothing
        # waits, so one round over all of them stays short.
        s.setblocking(False)
        self.opened[kind] += 1
        return {'s': s, 'kind': kind, 'data': data, 'pos': 0,
                'born': time.monotonic()}

    def drop(self, c, by_server):
        if by_server:
            self.closed_by_server[c['kind']] += 1
            self.lifetimes[c['kind']].append(time.monotonic() - c['born'])
        try:
            c['s'].close()
        except OSError:
            pass
        self.conns.remove(c)

    def work(self):
        i = 0
        try:
            while not self.stop.is_set():
                # Top up, a few per round so the round stays short.
                for _ in range(min(20, self.n - len(self.conns))):
                    kind = self.KINDS[i % len(self.KINDS)]
                    i += 1
                    try:
                        self.conns.append(self.open_one(kind))
                    except (OSError, ssl.SSLError):
                        self.open_errors += 1
                # What the server closed (or answered).
                if self.conns:
                    rd, _, _ = select.select([c['s'] for c in self.conns],
                                             [], [], 0)
                    for c in [c for c in self.conns if c['s'] in rd]:
                        try:
                            data = c['s'].recv(4096)
                        except (ssl.SSLWantReadError, BlockingIOError):
                            continue
                        except (OSError, ssl.SSLError):
                            data = b''
                        if data:
                            line = data.split(b'\r\n', 1)[0][:40]
                            self.answered[line] = \
                                self.answered.get(line, 0) + 1
                        self.drop(c, True)
                # One more byte to each.
                for c in list(self.conns):
                    if c['pos'] >= len(c['data']):
                        continue
                    try:
                        c['s'].send(c['data'][c['pos']:c['pos'] + 1])
                        c['pos'] += 1
                    except (BlockingIOError, ssl.SSLWantWriteError,
                            ssl.SSLWantReadError):
                        pass
                    except (OSError, ssl.SSLError):
                        self.drop(c, True)
                self.stop.wait(1.0)
        finally:
            for c in list(self.conns):
                self.drop(c, False)


class Disconnects(Worker):
    """Connections cut at a random point, one after another."""

    KINDS = ('http-half-request-close', 'http-half-request-reset',
             'tls-half-hello-close', 'tls-half-hello-reset',
             'tls-half-body-reset', 'tls-request-then-reset',
             'content-mid-body-reset')

    def __init__(self, stop, d, big_url, seed):
        super().__init__(stop)
        self.d, self.big_url = d, big_url
        self.rnd = random.Random(seed)
        self.done = {k: 0 for k in self.KINDS}
        self.errors = {}  # our side could not even set it up

    def one(self, kind):
        self.sock = None
        try:
            self.cut(kind)
        finally:
            if self.sock is not None:  # set-up failed half-way
                self.sock.close()

    def cut(self, kind):
        d = self.d
        req = build_request('GET', self.big_url)
        body = wc.capture('scan', '000001')
        soap = build_request('POST', wc.CLIENT_PATH,
                             [('Content-Type', 'text/xml; charset=utf-8'),
                              ('SOAPAction', '"%s"' % SOAP_ACTION)], body)
        if kind.startswith('http-half-request'):
            s = self.sock = connect(d.http_port, timeout=10)
            s.sendall(req[:self.rnd.randrange(1, len(req) - 4)])
        elif kind.startswith('tls-half-hello'):
            s = self.sock = connect(d.https_port, timeout=10)
            hello = client_hello(d.ctx())
            s.sendall(hello[:self.rnd.randrange(1, len(hello))])
        elif kind == 'tls-half-body-reset':
            s = self.sock = connect(d.https_port, d.ctx(), timeout=10)
            s.sendall(soap[:self.rnd.randrange(len(soap) - len(body),
                                               len(soap) - 1)])
        elif kind == 'tls-request-then-reset':
            s = self.sock = connect(d.https_port, d.ctx(), timeout=10)
            s.sendall(soap)
        else:
            s = self.sock = socket.socket(socket.AF_INET,
                                          socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(10)
            s.connect((harness.HOST, d.http_port))
            s.sendall(req)
            rd = HTTPReader(s, 10)
            rd.read_head(time.monotonic() + 10)
            s.recv(self.rnd.randrange(1, 4096))
        self.sock = None
        if kind.endswith('-close'):
            s.close()
        else:
            reset_close(s)

    def work(self):
        while not self.stop.is_set():
            kind = self.rnd.choice(self.KINDS)
            try:
                self.one(kind)
                self.done[kind] += 1
            except (OSError, ssl.SSLError, harness.HarnessError,
                    harness.NoResponse) as e:
                k = '%s: %s' % (kind, type(e).__name__)
                self.errors[k] = self.errors.get(k, 0) + 1
            self.stop.wait(self.rnd.uniform(0.02, 0.1))


class Hup(Worker):
    def __init__(self, stop, d):
        super().__init__(stop)
        self.d = d
        self.sent = 0

    def work(self):
        while not self.stop.wait(1.0):
            if self.d.alive():  # never a signal to a reused pid
                self.d.reload()
                self.sent += 1


class Simulate(Worker):
    def __init__(self, stop, d):
        super().__init__(stop)
        self.d = d
        self.proc = None

    def work(self):
        cmd = [WUAGENT, '--server', 'https://127.0.0.1:%d' %
               self.d.https_port, '--ca-file', self.d.ca, 'simulate',
               '--clients', str(SOAK_CLIENTS), '--duration',
               str(SOAK_SECONDS)]
        self.proc = subprocess.run(cmd, capture_output=True, text=True,
                                   timeout=SOAK_SECONDS + 120)


# ---------------------------------------------------------------- the test

class Soak(unittest.TestCase):

    def setUp(self):
        if not os.access(WUAGENT, os.X_OK):
            self.fail('wuagent not found: %s (set WUAGENT=)' % WUAGENT)
        self.d = Wsusd()
        self.addCleanup(self.d.cleanup)
        self.content = self.d.path('content')
        private_mounts()
        p = subprocess.run(['mount', '-t', 'tmpfs', '-o',
                            'size=%d,mode=0750' % TMPFS_SIZE, 'tmpfs',
                            self.content], capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            self.fail('cannot mount a %d KiB tmpfs on %s (the soak test '
                      'needs root or CAP_SYS_ADMIN for its small content '
                      'volume): %s' % (TMPFS_SIZE >> 10, self.content,
                                       p.stderr.strip()))
        self.addCleanup(self.unmount)
        self.addCleanup(self.d.kill)
        self.work = tempfile.mkdtemp(prefix='soak-', dir=self.d.base)

    def unmount(self):
        for args in (['umount', self.content],
                     ['umount', '-l', self.content]):
            p = subprocess.run(args, capture_output=True, text=True,
                               timeout=30)
            if p.returncode == 0:
                return
            sys.stderr.write('%s: %s\n' % (' '.join(args), p.stderr))

    # -- helpers ---------------------------------------------------------

    def wsusutil(self, *args, timeout=120):
        return subprocess.run([harness.WSUSUTIL, '--data', self.d.dir] +
                              list(args), capture_output=True, text=True,
                              timeout=timeout)

    def cab(self, name, payload):
        return wc.make_cab(os.path.join(self.work, name), name + '.bin',
                           payload, name + '.cab')

    def publish(self, name, payload):
        return self.wsusutil('publish', self.cab(name, payload), '--title',
                             'Soak ' + name, '--product', 'Soak Product',
                             '--classification', 'Updates')

    def db(self, sql):
        c = sqlite3.connect(self.d.path('wsusd.db'), timeout=30)
        try:
            return c.execute(sql).fetchall()
        finally:
            c.close()

    def catalog(self):
        """Row counts of the catalog tables, and the files under
        content/ with their sizes."""
        rows = {t: self.db('SELECT count(*) FROM %s' % t)[0][0] for t in
                ('update_', 'revision', 'file', 'revision_file', 'event')}
        return rows, self.content_files()

    def content_files(self):
        out = {}
        for r, dirs, fs in os.walk(self.content):
            for f in fs:
                p = os.path.join(r, f)
                out[os.path.relpath(p, self.content)] = os.path.getsize(p)
        return out

    def free_bytes(self):
        v = os.statvfs(self.content)
        return v.f_bavail * v.f_frsize

    def check_enospc(self, p, what):
        self.assertNotEqual(p.returncode, 0, '%s succeeded: %s'
                            % (what, p.stdout))
        self.assertIn('No space left on device', p.stderr, what)
        self.assertNotIn('AddressSanitizer', p.stderr, what)
        self.assertNotIn('runtime error', p.stderr, what)

    # -- the soak --------------------------------------------------------

    def test_soak(self):
        d = self.d
        harness.run_wsusutil(d.dir, 'publishingcert', 'create')
        rnd = random.Random(8007)
        # Three small updates and one of 512 KiB (the mid-body resets),
        # all approved for All Computers.
        for name, size in (('a', 2000), ('b', 3000), ('c', 4000),
                           ('big', 512 * 1024)):
            p = self.publish(name, rnd.randbytes(size))
            self.assertEqual(p.returncode, 0, p.stderr)
            uid = re.search(r'[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}',
                            p.stdout).group(0)
            harness.run_wsusutil(d.dir, 'approve', uid, '--group',
                                 'All Computers')
        files = sorted(self.content_files().items(), key=lambda kv: kv[1])
        small_rel, big_rel = files[0][0], files[-1][0]
        self.assertGreater(files[-1][1], 512 * 1024)
        small_url = '/Content/' + small_rel
        small_sha1 = os.path.basename(small_rel).split('.')[0].upper()

        d.start()
        pid = d.pid
        # A first flow must work before anything else starts.
        stop = Stop()
        probe = Probe(stop, d, small_url, small_sha1)
        probe.flow()
        probe.latencies.clear()
        rss_before = proc_status(pid)
        fds_before = fd_count(pid)
        fd_map_before = fd_targets(pid)

        sim = Simulate(stop, d)
        loris = Slowloris(stop, d, SLOWLORIS, small_url)
        cuts = Disconnects(stop, d, '/Content/' + big_rel, 8007)
        hup = Hup(stop, d)
        workers = [sim, probe, loris, cuts, hup]
        t0 = time.monotonic()
        for w in workers:
            w.start()
        alive_all_along = True
        disk = {}
        try:
            disk = self.full_disk(t0, probe)
            while time.monotonic() - t0 < SOAK_SECONDS:
                alive_all_along &= d.alive()
                time.sleep(0.5)
        finally:
            # The simulator stops by itself at its duration.
            sim.join(timeout=SOAK_SECONDS + 150)
            stop.set()
            for w in workers:
                w.join(timeout=60)
        elapsed = time.monotonic() - t0
        alive_all_along &= d.alive()
        if not alive_all_along:
            d.stop()
            self.fail('wsusd died during the soak (exit %r); sanitizer '
                      'report: %s\nstderr:\n%s' % (
                          d.proc.returncode, d.sanitizer_report(),
                          d.stderr()[-4000:]))
        for w in workers:
            self.assertFalse(w.is_alive(), '%s did not stop' % w)
            self.assertIsNone(w.crash, '%s crashed' % type(w).__name__)

        # The daemon gave back every connection's descriptor.
        def sockets(m):
            return sum(t.startswith('socket:') for t in m.values())
        deadline = time.monotonic() + 15
        while sockets(fd_targets(pid)) > sockets(fd_map_before) and \
                time.monotonic() < deadline:
            time.sleep(0.25)
        fds_after = fd_count(pid)
        fd_map_after = fd_targets(pid)
        rss_after = proc_status(pid)

        # checkhealth while it runs: the only finding is the small volume.
        ch = self.wsusutil('checkhealth', '--port', str(d.port), '--content')
        problems = [ln for ln in ch.stdout.splitlines()
                    if ln.startswith('PROBLEM')]
        stderr_text = d.stderr()
        reloads = stderr_text.count('reloaded')
        rc = d.stop()
        report = d.sanitizer_report()

        sim_out = sim.proc.stdout if sim.proc else ''
        figures = self.figures(elapsed, sim, probe, loris, cuts, hup,
                               reloads, disk, rss_before, rss_after,
                               fds_before, fds_after)
        sys.stderr.write('\n' + figures + '\n')

        # -- what must hold ----------------------------------------------
        self.assertIsNone(report, 'sanitizer report in wsusd stderr:\n%s'
                          % report)
        self.assertEqual(d.proc.pid, pid)
        self.assertEqual(rc, 0, 'wsusd exit status on SIGTERM')
        # Legitimate traffic kept working.
        self.assertEqual(probe.failures, [], 'probe failures')
        self.assertGreaterEqual(probe.ok, SOAK_SECONDS * 0.5, figures)
        self.assertGreater(probe.during_full[0], 0,
                           'no probe ran while the disk was full')
        self.assertLessEqual(max(probe.latencies), MAX_LATENCY, figures)
        self.assertIsNotNone(sim.proc, 'wuagent simulate did not run')
        self.assertEqual(sim.proc.returncode, 0, sim.proc.stderr + sim_out)
        m = re.search(r'scans: (\d+) \(cold (\d+), warm (\d+)\)', sim_out)
        self.assertIsNotNone(m, sim_out)
        self.assertEqual(int(m.group(2)), SOAK_CLIENTS, sim_out)
        self.assertIn('errors: 0\n', sim_out)
        # Slowloris: opened, and closed by the server's deadlines.
        if SLOWLORIS:
            self.assertGreaterEqual(sum(loris.opened.values()), SLOWLORIS)
            for kind, limit in (('http-head', HEADER_TIMEOUT),
                                ('https-head', HEADER_TIMEOUT),
                                ('tls-hello', HANDSHAKE_TIMEOUT),
                                ('https-body', BODY_TIMEOUT)):
                lt = loris.lifetimes[kind]
                if SOAK_SECONDS > limit + DEADLINE_SLACK:
                    self.assertTrue(lt, '%s: none closed by the server'
                                    % kind)
                if lt:
                    self.assertLessEqual(max(lt), limit + DEADLINE_SLACK,
                                         '%s outlived its deadline' % kind)
        self.assertGreater(sum(cuts.done.values()), 0)
        # Our side of each attack was set up: connects and handshakes
        # worked all along.
        self.assertEqual(cuts.errors, {}, figures)
        self.assertEqual(loris.open_errors, 0, figures)
        self.assertGreaterEqual(reloads, hup.sent - 1,
                                'SIGHUPs not all acted on')
        self.assertNotIn('reload failed', stderr_text)
        # No descriptor kept for a connection that went away, nor for a
        # served file. Each worker opens its own database connection on
        # its first SOAP request and a reload reopens the content
        # directory and the access log: a path may be open up to once
        # per worker (one per CPU by default).
        fd_diag = 'before %r, after %r' % (fd_map_before, fd_map_after)

        def kinds(m):
            out = {}
            for t in m.values():
                k = t.split(':')[0] if t.startswith(('socket:', 'pipe:',
                                                     'anon_inode:')) else t
                out[k] = out.get(k, 0) + 1
            return out
        kb, ka = kinds(fd_map_before), kinds(fd_map_after)
        for k, n in ka.items():
            self.assertLessEqual(n, max(kb.get(k, 0), os.cpu_count() or 1),
                                 'wsusd holds more descriptors on %s than '
                                 'before: %s' % (k, fd_diag))
            self.assertNotRegex(k, r'/content/[0-9A-F]{2}/',
                                'a served file is still open: %s' % fd_diag)

        growth = (rss_after['VmRSS'] - rss_before['VmRSS']) >> 10
        self.assertLessEqual(growth, MAX_RSS_GROWTH, 'wsusd RSS grew by '
                             '%d MiB' % growth)

        # -- the store ------------------------------------------------------
        self.assertEqual(self.db('PRAGMA integrity_check'), [('ok',)])
        self.assertEqual(ch.returncode, 1, ch.stdout)
        self.assertEqual(len(problems), 1, ch.stdout)
        self.assertRegex(problems[0], r'content directory free space: '
                         r'\d+ MiB \(below 1024 MiB\)')
        self.assertRegex(ch.stdout, r'ok +content files: 5 verified')
        self.check_store()

    def full_disk(self, t0, probe):
        """Runs during the soak: a publish bigger than the free space, a
        full volume and a small publish, then the space freed and a
        publish that works. Returns the figures."""
        out = {}
        time.sleep(min(5.0, SOAK_SECONDS / 8.0))
        before = self.catalog()
        free = self.free_bytes()
        probe.disk_full.set()
        # 1. Bigger than the whole free space.
        p = self.publish('huge', random.Random(1).randbytes(
            free + 1024 * 1024))
        self.check_enospc(p, 'publish of %d bytes' % (free + 1024 * 1024))
        out['huge'] = ' / '.join(p.stderr.strip().splitlines()[-2:])
        self.assertEqual(self.catalog(), before, 'failed publish changed '
                         'the catalog or the store')
        # 2. The volume filled to the last block, then a small package.
        filler = os.path.join(self.content, 'soak-filler.bin')
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for chunk in (b'\0' * 65536, b'\0'):
                # Bounded: the volume holds TMPFS_SIZE bytes.
                for _ in range(TMPFS_SIZE // len(chunk) + 1):
                    try:
                        os.write(fd, chunk)
                    except OSError as e:
                        self.assertEqual(e.errno, errno.ENOSPC, e)
                        break
        finally:
            os.close(fd)
        out['filler'] = os.path.getsize(filler)
        self.assertEqual(self.free_bytes(), 0)
        full_since = time.monotonic()
        p = self.publish('small', random.Random(2).randbytes(64 * 1024))
        self.check_enospc(p, 'publish on a full volume')
        out['small'] = ' / '.join(p.stderr.strip().splitlines()[-2:])
        rows, files = self.catalog()
        del files['soak-filler.bin']
        self.assertEqual((rows, files), before, 'failed publish changed '
                         'the catalog or the store')
        # Serve from the full volume for a while.
        while time.monotonic() - full_since < max(3.0, SOAK_SECONDS / 4.0) \
                and self.d.alive():
            time.sleep(0.5)
        out['full_seconds'] = round(time.monotonic() - full_since, 1)
        # 3. Space again: publishing works again.
        os.unlink(filler)
        probe.disk_full.clear()
        p = self.publish('after', random.Random(3).randbytes(64 * 1024))
        self.assertEqual(p.returncode, 0, p.stderr)
        out['after'] = 'published %s' % p.stdout.strip()
        rows, _ = self.catalog()
        self.assertEqual(rows['update_'], before[0]['update_'] + 1)
        return out

    def check_store(self):
        """Every file under content/XX/ is a 'present' catalog file with
        its SHA-1 as its name, every 'present' file is there, nothing is
        left in content/.tmp, and no update lacks its file."""
        present = {bytes(r[0]).hex().upper(): r[1] for r in
                   self.db("SELECT sha1, size FROM file WHERE state = "
                           "'present'")}
        self.assertEqual(self.db("SELECT count(*) FROM file WHERE state "
                                 "!= 'present'"), [(0,)])
        seen = set()
        for rel, size in self.content_files().items():
            parts = rel.split('/')
            self.assertEqual(len(parts), 2, 'stray file content/%s' % rel)
            self.assertNotEqual(parts[0], '.tmp',
                                'left in content/.tmp: %s' % rel)
            stem = parts[1].split('.')[0].upper()
            self.assertIn(stem, present, 'content/%s not in the catalog'
                          % rel)
            self.assertEqual(parts[0], stem[-2:])
            with open(os.path.join(self.content, rel), 'rb') as f:
                self.assertEqual(hashlib.sha1(f.read()).hexdigest().upper(),
                                 stem, rel)
            self.assertEqual(size, present[stem], rel)
            seen.add(stem)
        self.assertEqual(seen, set(present))
        self.assertEqual(self.db(
            'SELECT count(*) FROM revision r WHERE NOT EXISTS (SELECT 1 '
            'FROM revision_file rf WHERE rf.revision_id = r.revision_id) '
            "AND r.update_pk IN (SELECT update_pk FROM update_ WHERE "
            "origin = 'local' AND update_type = 'Software')"), [(0,)])
        titles = sorted(t for (t,) in self.db(
            "SELECT title FROM revision JOIN update_ USING (update_pk) "
            "WHERE update_type = 'Software'"))
        self.assertEqual(titles, ['Soak a', 'Soak after', 'Soak b',
                                  'Soak big', 'Soak c'])

    def figures(self, elapsed, sim, probe, loris, cuts, hup, reloads, disk,
                rss_before, rss_after, fds_before, fds_after):
        so = sim.proc.stdout if sim.proc else '(did not run)'

        def grab(pat, default='?'):
            m = re.search(pat, so)
            return m.group(1) if m else default
        err_kinds = re.findall(r'^ {4}(\d+)  (.*)$', so, re.M)
        lat = probe.latencies
        rows = [
            ('duration', '%.1f s (SOAK_SECONDS=%d)' % (elapsed,
                                                      SOAK_SECONDS)),
            ('simulated agents', '%d (wuagent simulate)' % SOAK_CLIENTS),
            ('simulator requests', grab(r'requests: (\d+ \(SyncUpdates '
                                        r'\d+\))')),
            ('simulator scans', grab(r'scans: (\d+ \(cold \d+, warm '
                                     r'\d+\))')),
            ('simulator SyncUpdates ms', grab(r'latency ms: (p50 [^\n]*)')),
            ('simulator errors', grab(r'errors: (\d+)') + ''.join(
                '; %s x %s' % (n, k) for n, k in err_kinds)),
            ('probe flows ok / failed', '%d / %d (%d / %d while the disk '
             'was full)' % (probe.ok, len(probe.failures),
                            probe.during_full[0], probe.during_full[1])),
            ('probe requests', '%d, p50 %.0f ms, p99 %.0f ms, max %.0f ms'
             % (len(lat), percentile(lat, 50) * 1000,
                percentile(lat, 99) * 1000, max(lat or [0]) * 1000)),
            ('slowloris connections', '%d concurrent, %d opened (%s), %d '
             'closed by the server, %d open errors'
             % (loris.n, sum(loris.opened.values()),
                ', '.join('%s %d' % kv for kv in loris.opened.items()),
                sum(loris.closed_by_server.values()), loris.open_errors)),
            ('slowloris lifetime max', ', '.join(
                '%s %.1f s' % (k, max(v)) for k, v in
                loris.lifetimes.items() if v)),
            ('slowloris answers', ', '.join(
                '%s x %d' % (k.decode(errors='replace'), v)
                for k, v in loris.answered.items()) or 'none'),
            ('random disconnects', '%d (%s)' % (
                sum(cuts.done.values()),
                ', '.join('%s %d' % kv for kv in cuts.done.items()))),
            ('disconnect set-up errors', ', '.join(
                '%s %d' % kv for kv in cuts.errors.items()) or 'none'),
            ('SIGHUPs sent / reloads logged', '%d / %d' % (hup.sent,
                                                           reloads)),
            ('disk full: huge publish', disk.get('huge', '?')),
            ('disk full: filler', '%s bytes; volume full %s s' % (
                disk.get('filler', '?'), disk.get('full_seconds', '?'))),
            ('disk full: small publish', disk.get('small', '?')),
            ('space freed: publish', disk.get('after', '?')),
            ('wsusd VmHWM before / after', '%d / %d KiB' % (
                rss_before['VmHWM'], rss_after['VmHWM'])),
            ('wsusd VmRSS before / after', '%d / %d KiB' % (
                rss_before['VmRSS'], rss_after['VmRSS'])),
            ('wsusd descriptors before / after', '%d / %d' % (fds_before,
                                                              fds_after)),
        ]
        if probe.failures:
            rows.append(('probe failures', '; '.join(
                '%s s: %s' % f for f in probe.failures[:5])))
        w = max(len(k) for k, _ in rows)
        return 'soak figures\n' + '\n'.join('  %-*s  %s' % (w, k, v)
                                            for k, v in rows)


if __name__ == '__main__':
    unittest.main(verbosity=2)
