#!/usr/bin/env python3
"""Computer group membership, server-side (default: wsusutil computers
move) or client-side (wsusd.conf client_side_targeting = yes: the
targetGroupName a client sends in GetAuthorizationCookie, ';'-separated
names as the TargetGroup policy writes them; unknown names ignored)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
from harness import Wsusd  # noqa: E402


class Targeting(unittest.TestCase):

    def run_with(self, conf, target):
        d = Wsusd(conf=conf)
        self.addCleanup(d.cleanup)
        for g in ('Servers', 'Web'):
            harness.run_wsusutil(d.dir, 'groups', 'add', g)
        d.start()
        self.addCleanup(d.stop)
        body = wc.capture('scan', '000002').decode()
        if target is not None:
            body = body.replace('<dnsName>', '<targetGroupName>%s'
                                '</targetGroupName><dnsName>' % target)
        r = harness.request(d.https_port, 'POST', wc.AUTH_PATH, {
            'SOAPAction': '"%s/GetAuthorizationCookie"' % wc.AUTH},
            body.encode(), tls=d.ctx())
        self.assertEqual(r.status, 200, r.body)
        cs = json.loads(harness.run_wsusutil(d.dir, 'computers', 'list',
                                             '--json').stdout)
        return cs

    def test_client_side(self):
        cs = self.run_with({'client_side_targeting': 'yes'},
                           'Web; Nonexistent ;Servers')
        self.assertEqual(len(cs), 1)
        self.assertEqual(cs[0]['groups'], 'Servers, Web')
        self.assertEqual(cs[0]['name'], 'REDACTED3')

    def test_client_side_unknown_names(self):
        cs = self.run_with({'client_side_targeting': 'yes'}, 'Nope')
        self.assertEqual(cs[0]['groups'], 'Unassigned Computers')

    def test_server_side_ignores_the_client(self):
        # Default: the client's names are ignored; nothing is created
        # until RegisterComputer.
        cs = self.run_with({}, 'Servers')
        self.assertEqual(cs, [])


if __name__ == '__main__':
    unittest.main(verbosity=2)
