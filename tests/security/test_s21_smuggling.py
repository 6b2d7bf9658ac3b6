#!/usr/bin/env python3
"""SECURITY.md S21: request smuggling (RFC 9112 section 6).

Each payload hides a second request ("GET /Content/HIDDEN-S21-...")
behind ambiguous framing: Content-Length plus Transfer-Encoding in either
order, a Transfer-Encoding other than exactly "chunked", two conflicting
Content-Lengths, an obs-folded framing header, a malformed TE header
name. Every one must get 400 (501 is allowed for an unknown coding),
nothing after it on the connection, the connection closed, and the
hidden request must never reach the access log. Over HTTP and HTTPS.
Control: the same hidden request sent on its own does appear in the
access log, so the check can see it.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common as sc  # noqa: E402
from sec_common import harness  # noqa: E402

PATH = b'/ReportingWebService/ReportingWebService.asmx'


def hidden(tag):
    return (b'GET /Content/HIDDEN-S21-' + tag + b' HTTP/1.1\r\n'
            b'Host: localhost\r\n\r\n')


def head(*lines, method=b'POST', path=PATH):
    out = method + b' ' + path + b' HTTP/1.1\r\nHost: localhost\r\n' \
        b'Content-Type: text/xml\r\n'
    for ln in lines:
        out += ln + b'\r\n'
    return out + b'\r\n'


def payloads():
    h = hidden
    out = {}
    inner = b'0\r\n\r\n' + h(b'clte')
    out[b'clte'] = head(b'Content-Length: %d' % len(inner),
                        b'Transfer-Encoding: chunked') + inner
    inner = b'0\r\n\r\n' + h(b'tecl')
    out[b'tecl'] = head(b'Transfer-Encoding: chunked',
                        b'Content-Length: 4') + inner
    # CL smaller than the chunked body: a CL-honouring front end and a
    # TE-honouring back end disagree; either way 400.
    inner = b'5\r\nhello\r\n0\r\n\r\n' + h(b'clte2')
    out[b'clte2'] = head(b'Content-Length: 3',
                         b'Transfer-Encoding: chunked') + inner
    for i, te in enumerate((b'xchunked', b'chunked, identity',
                            b'identity', b'gzip, chunked', b'chunked;q=1',
                            b'chunked, chunked', b'\x0bchunked')):
        tag = b'te%d' % i
        out[tag] = head(b'Transfer-Encoding: ' + te) + b'0\r\n\r\n' + h(tag)
    out[b'te-two-headers'] = head(b'Transfer-Encoding: chunked',
                                  b'Transfer-Encoding: identity') + \
        b'0\r\n\r\n' + h(b'te-two-headers')
    out[b'te-space-colon'] = head(b'Transfer-Encoding : chunked',
                                  b'Content-Length: 5') + b'0\r\n\r\n' + \
        h(b'te-space-colon')
    body = b'abcde'
    out[b'cl-dup'] = head(b'Content-Length: 5', b'Content-Length: %d'
                          % (5 + len(h(b'cl-dup')))) + body + h(b'cl-dup')
    out[b'cl-list'] = head(b'Content-Length: 5, %d'
                           % (5 + len(h(b'cl-list')))) + body + h(b'cl-list')
    out[b'cl-sign'] = head(b'Content-Length: +5') + body + h(b'cl-sign')
    out[b'fold-cl'] = head(b'Content-Length: 5', b' %d'
                           % len(h(b'fold-cl'))) + body + h(b'fold-cl')
    out[b'fold-te'] = head(b'Content-Length: 5', b'Transfer-Encoding:',
                           b' chunked') + b'0\r\n\r\n' + h(b'fold-te')
    out[b'fold-x'] = head(b'X-A: a', b'\tfolded') + h(b'fold-x')
    # GET with a body framed by TE: same rules.
    out[b'get-clte'] = head(b'Content-Length: 5',
                            b'Transfer-Encoding: chunked', method=b'GET',
                            path=b'/Content/') + b'0\r\n\r\n' + h(b'get-clte')
    return out


class Smuggling(harness.DaemonTestCase):

    def access_log(self):
        return sc.read_text(self.d.path('access.log'))

    def send(self, data, tls):
        port = self.d.https_port if tls else self.d.http_port
        with harness.connect(port, self.d.ctx() if tls else None, 10) as s:
            s.sendall(data)
            rd = harness.HTTPReader(s, 10)
            r = rd.read_response('POST')
            closed = rd.at_eof(5.0)
            return r, closed, rd.buf

    def check(self, tls):
        bad = []
        for tag, data in payloads().items():
            try:
                r, closed, rest = self.send(data, tls)
            except Exception as e:  # noqa: BLE001
                bad.append((tag, 'no answer: %s' % e))
                continue
            # 501 only where a Transfer-Encoding other than "chunked" is
            # seen first (fold-te's first line is an empty coding).
            if r.status not in (400, 501) or (r.status == 501 and not (
                    tag.startswith(b'te') or tag == b'fold-te')):
                bad.append((tag, r.status, r.body[:100]))
            if not closed:
                bad.append((tag, 'connection left open'))
            if rest:
                bad.append((tag, 'a second response: %r' % rest[:80]))
        time.sleep(0.5)
        log = self.access_log()
        self.assertNotIn('HIDDEN-S21', log)
        self.assertEqual(bad, [])
        sc.assert_alive(self, self.d)

    def test_smuggling_http(self):
        self.check(False)

    def test_smuggling_https(self):
        self.check(True)

    def test_zz_control_hidden_request_is_logged(self):
        r, closed, rest = self.send(hidden(b'control'), False)
        self.assertEqual(r.status, 404, r)
        deadline = time.monotonic() + 5
        while 'HIDDEN-S21-control' not in self.access_log():
            self.assertLess(time.monotonic(), deadline,
                            'control request not in the access log')
            time.sleep(0.1)


if __name__ == '__main__':
    unittest.main(verbosity=2)
