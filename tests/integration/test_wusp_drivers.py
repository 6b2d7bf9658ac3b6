#!/usr/bin/env python3
"""SyncUpdates driver pass against the real daemon over TLS (MS-WUSP
3.1.5.7; WUSP.md 3.6, 4.2).

Driver updates are published for real (`wsusutil publish --driver`),
approved with wsusutil, and matched against the devices of the captured
Windows 11 driver-pass request (flow/000014: 75 devices, their installed
drivers, the computer's CHIDs). The session and the software pass are
the ones test_wusp_sync.py models, from wusp_client."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
from harness import Wsusd  # noqa: E402
from wusp_client import NS, capture, shape  # noqa: E402

# Devices of flow/000014 (ids as the client sends them).
ICH9_USB = r'PCI\VEN_8086&DEV_2935&SUBSYS_11001AF4&REV_03'  # has *DEV_2935
ICH9_USB2_COMPAT = r'PCI\VEN_8086&DEV_2936'  # compatible id of another
VOLMGR = r'ROOT\VOLMGR'  # installed: 2006-06-21, 10.0.26100.1264
PRINTER = '{6d170653-5280-44c2-ba44-2c04bc9d46da}'  # Microsoft printer
CHID_OF_CLIENT = '3673e5af-4b17-57f3-b9a4-7de906abf68b'  # 5th of 6
CHID_OTHER = '11111111-2222-3333-4444-555555555555'


class DriverPage(wc.Page):
    """A SyncUpdatesResult with the driver pass's extras."""

    def drivers(self):
        """{UpdateID: (revision id, action, [HardwareIds], Xml)}."""
        out = {}
        for i in self.infos:
            xml = i.find(NS + 'Xml').text
            uid = re.search(r'UpdateID="([^"]+)"', xml).group(1).lower()
            hw = i.find(NS + 'Deployment/' + NS + 'HardwareIds')
            out[uid] = (int(i.find(NS + 'ID').text),
                        i.find(NS + 'Deployment/' + NS + 'Action').text,
                        [] if hw is None else [s.text for s in hw], xml)
        return out

    def not_needed(self):
        return self.result.find(NS + 'DriverSyncNotNeeded').text


class Drivers(unittest.TestCase):
    # One daemon with a publishing certificate, as test_wusp_sync's.

    @classmethod
    def setUpClass(cls):
        cls.d = Wsusd()
        cls.d.start()
        wc.publishing_cert(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    # -- session and software pass, as test_wusp_sync.py ---------------

    def session(self, d=None):
        """GetConfig .. RegisterComputer, 200 each; keeps the cookie's
        Expiration, which every NewCookie must repeat."""
        s = wc.Client(d or self.d).session()
        self.expiration = s.expiration
        return s.cookie

    def full_pass(self, cookie, d=None):
        """The unfiltered software pass (wc.full_pass), each page checked
        by wc.sync_page: 200, SyncInfo's order, the Expiration kept."""
        return wc.software_pass(wc.Client(d or self.d), cookie,
                                self.expiration)

    # -- drivers ---------------------------------------------------------

    def publish_driver(self, title, hwids, date, version, *extra,
                       approve=True):
        """A driver update (a CAB of TITLE.inf) for the HWIDS, approved
        for All Computers unless not APPROVE."""
        args = ['--driver-date', date, '--driver-version', version]
        for h in hwids:
            args += ['--driver', h]
        return wc.publish(self.d, title, *args, *extra,
                          product='Driver Product', classification='Drivers',
                          member=title + '.inf', payload='; %s\n' % title,
                          approve_for='All Computers' if approve else None)

    def driver_pass(self, cookie, installed, cached=None, devices=None,
                    d=None):
        """The captured driver pass (flow/000014) with our cookie and
        installed list; DEVICES replaces SystemSpec, CACHED adds
        CachedDriverIDs, when given."""
        return wc.Client(d or self.d).call('SyncUpdates', wc.driver_sync_body(
            cookie, installed, cached, devices))

    def driver_page(self, *a, **kw):
        r = self.driver_pass(*a, **kw)
        self.assertEqual(r.status, 200, r.body)
        p = DriverPage(r.body)
        order = ['NewUpdates', 'OutOfScopeRevisionIDs', 'ChangedUpdates',
                 'Truncated', 'NewCookie', 'DriverSyncNotNeeded']
        self.assertEqual(p.children, [c for c in order if c in p.children])
        return p

    def test_matching(self):
        usb = self.publish_driver('DrvUSB', [ICH9_USB], '2024-01-15',
                                  '10.0.1.0')
        # Newer, same device, never approved: never offered.
        hidden = self.publish_driver('DrvUSBNewer', [ICH9_USB],
                                     '2025-01-15', '10.0.2.0',
                                     approve=False)
        # CHID-targeted at another computer: not offered.
        other_pc = self.publish_driver('DrvOtherPC', [ICH9_USB],
                                       '2025-06-01', '10.0.3.0',
                                       '--target-chid', CHID_OTHER)
        # Targeted at this computer through a compatible id: offered
        # although older than an untargeted candidate would need.
        chid = self.publish_driver('DrvCHID', [ICH9_USB2_COMPAT],
                                   '2020-01-01', '1.0.0.0',
                                   '--target-chid', CHID_OF_CLIENT)
        # Older than the installed driver, same id: not offered.
        old = self.publish_driver('DrvOld', [VOLMGR], '2005-01-01',
                                  '99.0.0.0')
        # Printers: only the installed driver's Provider + Manufacturer.
        foreign = self.publish_driver('DrvPrnOther', [PRINTER],
                                      '2025-01-01', '11.0.0.0',
                                      '--driver-provider', 'Contoso',
                                      '--driver-manufacturer', 'Contoso',
                                      '--driver-class', 'Printers')
        prn = self.publish_driver('DrvPrnMS', [PRINTER], '2024-01-01',
                                  '11.0.0.0', '--driver-provider',
                                  'Microsoft', '--driver-manufacturer',
                                  'microsoft', '--driver-class',
                                  'Printers')
        cookie = self.session()
        pages, installed, other, cookie = self.full_pass(cookie)
        seen = wc.updates_of(pages)
        # The software pass never carries a driver, but what approved
        # drivers require (product, classification) as Evaluate.
        for u in (usb, hidden, other_pc, chid, old, foreign, prn):
            self.assertNotIn(u, seen)
        cats = wc.categories(self.d)
        self.assertEqual(seen[cats['Driver Product']][1], 'Evaluate')
        self.assertEqual(seen[cats['Drivers']][1], 'Evaluate')
        self.assertEqual(pages[-1].result.find(
            NS + 'DriverSyncNotNeeded').text, 'false')

        p = self.driver_page(cookie, installed)
        got = p.drivers()
        self.assertEqual(sorted(got), sorted([usb, chid, prn]))
        self.assertEqual(p.truncated, 'false')
        self.assertEqual(p.not_needed(), 'false')
        self.assertEqual(got[usb][1], 'Install')
        # HardwareIds: the driver-table id that won (client protocol 2.90).
        self.assertEqual(got[usb][2], [ICH9_USB])
        self.assertEqual(got[chid][2], [ICH9_USB2_COMPAT])
        self.assertIn('<d.WindowsDriverMetaData HardwareID="%s"' %
                      ICH9_USB.replace('&', '&amp;'), got[usb][3])

        # Prerequisites unmet (the client has not installed the
        # categories): nothing.
        p = self.driver_page(cookie, [])
        self.assertEqual(p.infos, [])

        # CachedDriverIDs: a cached driver is not sent again; one no
        # device needs any more goes out of scope.
        p = self.driver_page(cookie, installed,
                             cached=[got[usb][0], seen[cats['Drivers']][0]])
        self.assertEqual(sorted(p.drivers()), sorted([chid, prn]))
        self.assertEqual(p.out_of_scope, [seen[cats['Drivers']][0]])

        # Declined: gone at the next pass.
        harness.run_wsusutil(self.d.dir, 'decline', usb)
        self.assertEqual(sorted(self.driver_page(cookie, installed)
                                .drivers()), sorted([chid, prn]))

    def test_best_of_several(self):
        """More specific id beats a newer date; a newer date beats a
        higher version (MS-WUSP 3.1.5.7's order)."""
        dev = ('<Device><HardwareIDs><string>TEST\\DEV_1&amp;REV_2</string>'
               '<string>TEST\\DEV_1</string></HardwareIDs>'
               '<CompatibleIDs><string>TEST\\GENERIC</string>'
               '</CompatibleIDs><installedDriver><MatchingID>TEST\\GENERIC'
               '</MatchingID><DriverVerDate>2010-01-01T00:00:00Z'
               '</DriverVerDate><DriverVerVersion>1</DriverVerVersion>'
               '<DriverRank>16711682</DriverRank></installedDriver>'
               '</Device>')
        generic = self.publish_driver('BestGeneric', ['test\\generic'],
                                      '2026-01-01', '9.0.0.0')
        exact_old = self.publish_driver('BestExact', ['TEST\\DEV_1&REV_2'],
                                        '2019-01-01', '1.0.0.0')
        exact_new = self.publish_driver('BestExactNew',
                                        ['TEST\\DEV_1&REV_2'],
                                        '2019-06-01', '0.1.0.0')
        cookie = self.session()
        _, installed, _, cookie = self.full_pass(cookie)
        got = self.driver_page(cookie, installed, devices=dev).drivers()
        self.assertEqual(list(got), [exact_new])
        self.assertNotIn(generic, got)
        self.assertNotIn(exact_old, got)
        # Same date, higher version wins.
        exact_ver = self.publish_driver('BestExactVer',
                                        ['TEST\\DEV_1&REV_2'],
                                        '2019-06-01', '0.2.0.0')
        got = self.driver_page(cookie, installed, devices=dev).drivers()
        self.assertEqual(list(got), [exact_ver])
        # A device with no driver installed gets the best one too.
        bare = dev.replace('<installedDriver>', '<x>').replace(
            '</installedDriver>', '</x>')
        got = self.driver_page(cookie, installed, devices=bare).drivers()
        self.assertEqual(list(got), [exact_ver])

    def test_bad_system_spec(self):
        cookie = self.session()
        bad = ('<Device><HardwareIDs><string>X</string></HardwareIDs>'
               '<installedDriver><MatchingID>X</MatchingID>'
               '<DriverVerDate>2010-01-01T00:00:00Z</DriverVerDate>'
               '<DriverVerVersion>abc</DriverVerVersion></installedDriver>'
               '</Device>')
        r = self.driver_pass(cookie, [], devices=bad)
        self.assertEqual(wc.fault(r), ('InvalidParameters',
                                       'parameters.SystemSpec'))
        r = self.driver_pass(cookie, [], devices='<Device><HardwareIDs>'
                             '<string>X</string></HardwareIDs></Device>' *
                             4097)
        self.assertEqual(wc.fault(r), ('InvalidParameters',
                                       'parameters.SystemSpec'))
        body = ('<Device><HardwareIDs>%s</HardwareIDs></Device>' %
                ('<string>X</string>' * 65))
        r = self.driver_pass(cookie, [], devices=body)
        self.assertEqual(wc.fault(r), ('InvalidParameters',
                                       'parameters.SystemSpec'))
        # The daemon is fine afterwards.
        self.assertEqual(self.driver_pass(cookie, []).status, 200)

    def test_no_driver_approved(self):
        """The captured pass against a server with no driver approved:
        the real server's answer (flow/000014)."""
        d = Wsusd()
        d.start()
        self.addCleanup(d.cleanup)
        self.addCleanup(d.stop)
        cookie = self.session(d)
        p = self.driver_page(cookie, [], d=d)
        real = capture('flow', '000014', 'response.body')
        self.assertEqual(shape(p.root), shape(real))
        self.assertEqual(p.not_needed(), 'true')
        pages, _, _, _ = self.full_pass(cookie, d)
        self.assertEqual(pages[-1].result.find(
            NS + 'DriverSyncNotNeeded').text, 'true')


if __name__ == '__main__':
    unittest.main(verbosity=2)
