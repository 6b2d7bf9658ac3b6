#!/usr/bin/env python3
"""Connection caps (S11): max_connections and max_connections_per_ip.

Connections over a cap are closed at once, before a byte is read; a slot
freed by a closing client is usable again; the daemon keeps serving."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HTTPReader, Wsusd, build_request, connect  # noqa: E402

CONTENT = b'limits\n' * 10


def closed_at_once(sock, timeout=3.0):
    """True if the server closes SOCK (EOF or reset) within TIMEOUT
    without sending anything."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(1)
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    return data == b''


class Caps(unittest.TestCase):

    def start(self, conf):
        d = Wsusd(conf=conf)
        self.addCleanup(d.cleanup)
        self.name, self.url, _ = harness.put_content(d.dir, CONTENT)
        d.start()
        self.addCleanup(d.stop)
        # The harness's readiness probes held slots until the server saw
        # them close: wait until that has happened.
        time.sleep(0.5)
        return d

    def get(self, sock):
        sock.sendall(build_request('GET', self.url))
        return HTTPReader(sock).read_response()

    def hold(self, d, n):
        socks = []
        for _ in range(n):
            # Each one proves it was accepted by getting an answer. A
            # refusal here can only be a slot the server has not yet seen
            # freed (readiness probes on a loaded machine): retry briefly.
            deadline = time.monotonic() + 10
            while True:
                s = connect(d.http_port)
                self.addCleanup(s.close)
                try:
                    self.assertEqual(self.get(s).status, 200)
                    break
                except (harness.HarnessError, harness.NoResponse, OSError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            socks.append(s)
        return socks

    def check_cap(self, d, cap):
        held = self.hold(d, cap)
        extra = connect(d.http_port)
        self.addCleanup(extra.close)
        try:
            extra.sendall(build_request('GET', self.url))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertTrue(closed_at_once(extra),
                        'connection %d was not refused' % (cap + 1))
        # Free one slot: a new connection is served again.
        held[0].close()
        deadline = time.monotonic() + 5
        while True:
            s = connect(d.http_port)
            self.addCleanup(s.close)
            try:
                r = self.get(s)
                self.assertEqual(r.status, 200)
                break
            except (harness.HarnessError, harness.NoResponse, OSError,
                    AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def test_global_cap(self):
        d = self.start({'max_connections': '4'})
        self.check_cap(d, 4)

    def test_per_ip_cap(self):
        d = self.start({'max_connections_per_ip': '3'})
        self.check_cap(d, 3)
        # The cap is per address: 127.0.0.2 is another peer.
        s = socket.create_connection((harness.HOST, d.http_port), 5,
                                     source_address=('127.0.0.2', 0))
        self.addCleanup(s.close)
        self.assertEqual(self.get(s).status, 200)

    def test_cap_counts_tls_too(self):
        d = self.start({'max_connections': '2'})
        a = connect(d.https_port, d.ctx())
        b = connect(d.https_port, d.ctx())
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        for s in (a, b):
            self.assertEqual(self.get(s).status, 200)
        c = socket.create_connection((harness.HOST, d.http_port), 5)
        self.addCleanup(c.close)
        c.sendall(build_request('GET', self.url))
        self.assertTrue(closed_at_once(c))


if __name__ == '__main__':
    unittest.main(verbosity=2)
