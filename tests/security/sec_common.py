"""Shared pieces of the SECURITY.md tests (tests/security/, not a test).

Reuses tests/integration/harness.py (the real daemon on loopback) and
wusp_client.py (the MS-WUSP client); adds what several security tests
need: the daemon's child processes, its peak RSS, "alive" in the sense of
SECURITY.md (a GetConfig answered 200 within 1 s), and a SOAP fault's
ErrorCode and Message without assertions.
"""

import http.server
import os
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
INTEG = os.path.join(os.path.dirname(HERE), 'integration')
if INTEG not in sys.path:
    sys.path.insert(0, INTEG)

import harness  # noqa: E402,F401
import wusp_client as wc  # noqa: E402,F401


def children(pid):
    """PIDs of the direct children of PID, over all its threads (what
    `pgrep -P PID` reports)."""
    out = set()
    task = '/proc/%d/task' % pid
    for tid in os.listdir(task):
        try:
            with open(os.path.join(task, tid, 'children')) as f:
                out.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return sorted(out)


def status_kib(pid, field):
    """A `kB` field of /proc/PID/status (VmHWM, VmRSS), in KiB."""
    with open('/proc/%d/status' % pid) as f:
        for ln in f:
            if ln.startswith(field + ':'):
                return int(ln.split()[1])
    raise AssertionError('%s not in /proc/%d/status' % (field, pid))


def getconfig_ms(d):
    """Posts the captured GetConfig over TLS; (status, milliseconds)."""
    t = time.monotonic()
    r = wc.Client(d).call('GetConfig', wc.capture('scan', '000001'))
    return r.status, (time.monotonic() - t) * 1000.0


def assert_alive(tc, d):
    """SECURITY.md's "alive": a following GetConfig answers 200 in 1 s."""
    tc.assertTrue(d.alive(), 'wsusd exited: %s' % d.stderr()[-2000:])
    status, ms = getconfig_ms(d)
    tc.assertEqual(status, 200, 'GetConfig after the attack')
    tc.assertLess(ms, 1000.0, 'GetConfig took %.0f ms' % ms)


def fault_of(body):
    """(ErrorCode, Message) of a SOAP fault body; (None, None) if the body
    is no fault or not XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None
    if root.find('.//{*}Fault') is None:
        return None, None
    ec = root.find('.//{*}ErrorCode')
    msg = root.find('.//{*}Message')
    return (None if ec is None else ec.text,
            None if msg is None else msg.text)


def read_text(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except FileNotFoundError:
        return ''


def tls_stub(d, name, handler):
    """An HTTPS server on 127.0.0.1 serving HANDLER (a
    BaseHTTPRequestHandler class) in a thread, with a certificate for
    127.0.0.1 from D's test CA (so D's tls/ca.pem trusts it). The caller
    calls shutdown() and server_close()."""
    out = os.path.join(d.base, name)
    harness.run_wsusutil(d.dir, 'testca', '--out', out, '127.0.0.1')
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(out + '.crt', out + '.key')
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
