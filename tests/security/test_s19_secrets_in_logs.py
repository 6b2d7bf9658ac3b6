#!/usr/bin/env python3
"""SECURITY.md S19: no secret in any log, at log_level = debug.

A full MS-WUSP client flow (GetConfig, GetAuthorizationCookie, GetCookie,
RegisterComputer, SyncUpdates, ReportEventBatch, a renewal with
oldCookie, and forged cookies that fault) plus a Negotiate token sent to
ServerSyncWebService. Every cookie seen in the flow (whole, and any
40-character window of its varying part), the Authorization token, and
the cookie key material of DIR/tls/cookie.key (hex either case, base64)
must be absent from stderr, stdout, the access log and any other *.log
file under the data directory.
"""

import base64
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common as sc  # noqa: E402
from sec_common import harness, wc  # noqa: E402

TOKEN = base64.b64encode(b'\x60\x82SECRET-S19-NEGOTIATE-TOKEN' * 8).decode()


class SecretsInLogs(harness.DaemonTestCase):
    CONF = {'log_level': 'debug'}

    def all_logs(self):
        text = self.d.stderr(all_runs=True)
        text += sc.read_text(self.d.stdout_path)
        for top, _, files in os.walk(self.d.dir):
            for f in files:
                if f.endswith('.log') or 'log' in f.lower():
                    text += sc.read_text(os.path.join(top, f))
        return text

    def windows(self, secret):
        # Header bytes are the same in every cookie; look inside the rest.
        body = secret[8:]
        return [secret] + [body[i:i + 40]
                           for i in range(0, max(1, len(body) - 40), 20)]

    def test_secrets_never_logged(self):
        c = wc.Client(self.d)
        secrets = []
        lc = wc.text(c.getconfig().body, 'LastChange')
        auth = c.authcookie()
        secrets.append(auth)
        r = c.getcookie(auth, lc)
        self.assertEqual(r.status, 200, r)
        cookie = wc.text(r.body, 'EncryptedData')
        secrets.append(cookie)
        self.assertEqual(c.register(cookie).status, 200)
        r = c.call('SyncUpdates', wc.sync_body(cookie))
        self.assertEqual(r.status, 200, r)
        nc = wc.text(r.body, 'EncryptedData')
        if nc:
            secrets.append(nc)
        r = c.getcookie(c.authcookie(), lc, old=cookie)
        self.assertEqual(r.status, 200, r)
        secrets.append(wc.text(r.body, 'EncryptedData'))
        ev = wc.envelope('ReportEventBatch', wc.REPORTING,
                         wc.cookie_xml(cookie) + '<clientTime>2026-10-04T'
                         '15:20:47Z</clientTime><eventBatch/>')
        c.call('ReportEventBatch', ev)
        # Forged cookies fault: the fault path must not log them either.
        forged = cookie[:40] + ('B' if cookie[40] == 'A' else 'A') + \
            cookie[41:]
        secrets.append(forged)
        r = c.register(forged)
        self.assertEqual(sc.fault_of(r.body)[0], 'InvalidCookie', r)
        r = c.getcookie(forged + 'x', lc)
        self.assertEqual(r.status, 500, r)
        # A Negotiate token at the ServerSync gate.
        r = self.d.https('POST', harness.ROOT_PATHS['ServerSyncWebService'],
                         headers=[('Authorization', 'Negotiate ' + TOKEN),
                                  ('Content-Type', 'text/xml')],
                         body=harness.SOAP_BODY)
        self.assertIn(r.status, (400, 401, 403), r)
        secrets.append(TOKEN)
        # The cookie key file: every key it holds (current, previous).
        with open(self.d.path('tls', 'cookie.key'), 'rb') as f:
            kf = f.read()
        keys = [kf[24:56]] + ([kf[56:88]] if kf[56:88] != bytes(32) else [])
        for k in keys:
            secrets += [k.hex(), k.hex().upper(),
                        base64.b64encode(k).decode().rstrip('=')]
        # Let the access log catch up, then stop (flushes everything).
        time.sleep(0.5)
        self.assertEqual(self.d.stop(), 0)
        self.addCleanup(self.d.start)  # for tearDownClass
        logs = self.all_logs()
        # Controls: the access log has the flow, debug lines were written
        # (the forged cookie's rejection is logged at debug).
        self.assertIn('/ClientWebService/client.asmx', logs)
        self.assertIn('debug: cookie rejected', logs)
        found = []
        for s in secrets:
            for w in self.windows(s):
                if w and w in logs:
                    found.append(w)
            for k in keys:
                if k in logs.encode('utf-8', 'replace'):
                    found.append('raw key bytes')
        self.assertEqual(found, [])

    def tearDown(self):
        pass  # the daemon is stopped on purpose; cleanups restart it


if __name__ == '__main__':
    unittest.main(verbosity=2)
