#!/usr/bin/env python3
"""SyncUpdates against the real daemon over TLS (WUSP.md 3.6, 4.1-4.3).

The session is replayed from the captured Windows 11 requests
(scan/000001-4), then SyncUpdates pages are built from the captured
software-pass request (scan/000006) and driver-pass request
(flow/000014), modelling the client's iterative pass: the revisions a
page returns with IsLeaf=false are reported back as installed non-leaf,
the others as other cached. Updates are published for real with
wsusutil (gcab CABs) and approved, declined and re-approved with it."""

import os
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402
from harness import Wsusd  # noqa: E402
from wusp_client import NS, Page, capture, shape, text  # noqa: E402

COMPANY_SEEDED_UPDATES = 'cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83'


class Sync(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Wsusd()
        cls.d.start()
        wc.publishing_cert(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    # -- session, as test_wusp_session.py replays it --------------------

    def post(self, action, body, d=None):
        return wc.Client(d or self.d).call(action, body)

    def session(self, d=None, register=True):
        """GetConfig .. GetCookie (.. RegisterComputer), 200 each; keeps
        the cookie's Expiration, which every NewCookie must repeat."""
        s = wc.Client(d or self.d).session(register=register)
        self.expiration = s.expiration
        return s.cookie

    # -- SyncUpdates requests ------------------------------------------

    def sync_raw(self, cookie, installed=(), other=(), d=None):
        """scan/000006 with COOKIE and the cache lists, without its
        FilterCategoryIds (as the unfiltered scan flow/000001)."""
        return self.post('SyncUpdates',
                         wc.sync_body(cookie, installed, other), d)

    def sync(self, cookie, installed=(), other=(), d=None):
        """A software page: 200, SyncInfo's children in order with
        DriverSyncNotNeeded last, the session's Expiration kept
        (wc.sync_page)."""
        return wc.sync_page(self.sync_raw(cookie, installed, other, d),
                            self.expiration)

    def full_pass(self, cookie, installed=(), other=(), d=None):
        """The client's loop (WUSP.md 4.1 item 1), bounded: every page,
        and the installed/other sets it ends with (wc.full_pass)."""
        return wc.full_pass(lambda c, i, o: self.sync(c, i, o, d), cookie,
                            installed, other)

    # -- catalog -------------------------------------------------------

    def publish(self, title, *extra, d=None, product='Sync Product'):
        return wc.publish(d or self.d, title, *extra, product=product)

    def categories(self, d=None):
        return wc.categories(d or self.d)

    def test_iterative_pass(self):
        a = self.publish('SyncA')
        b = self.publish('SyncB', '--prerequisite', a)
        c = self.publish('SyncC')
        for u in (a, b):
            harness.run_wsusutil(self.d.dir, 'approve', u, '--group',
                                 'All Computers')
        cats = self.categories()
        product = cats['Sync Product']
        company = [u for t, u in cats.items() if u not in (product,) and
                   t not in ('Microsoft',) and
                   self.is_company(u)]
        self.assertEqual(len(company), 1)
        cookie = self.session()

        # Page 1: the roots, categories with Evaluate, non-leaf.
        p1 = self.sync(cookie)
        u1 = p1.updates()
        self.assertEqual(p1.truncated, 'false')
        self.assertIn(COMPANY_SEEDED_UPDATES, u1)
        for uid in company:
            self.assertIn(uid, u1)
        self.assertNotIn(product, u1)  # needs its company first
        for uid, (rid, act, leaf, dep) in u1.items():
            self.assertEqual((act, leaf), ('Evaluate', 'false'), uid)
        for u in (a, b, c):
            self.assertNotIn(u, u1)
        self.assertEqual(p1.out_of_scope, [])
        # Each UpdateInfo has the captured one's shape (scan/000008).
        real = Page(capture('scan', '000008', 'response.body'))
        for i in p1.infos:
            self.assertEqual(shape(i), shape(real.infos[0]))
        # Xml escaped as WSUS does: &lt; &gt;, literal quotes.
        r = self.sync_raw(cookie)
        self.assertIn(b'<Xml>&lt;UpdateIdentity UpdateID="', r.body)
        self.assertNotIn(b'&quot;', r.body)

        pages, installed, other, cookie = self.full_pass(
            p1.cookie, [v[0] for v in u1.values()])
        # Company+classification, product, A, B: four pages in all.
        self.assertEqual(len(pages), 3)
        seen = {}
        for p in pages:
            for uid, v in p.updates().items():
                self.assertNotIn(uid, seen, 'sent twice')
                seen[uid] = v
        self.assertEqual(seen[product][1:3], ('Evaluate', 'false'))
        # A is a prerequisite of B: non-leaf; B a leaf. Both Install.
        self.assertEqual(seen[a][1:3], ('Install', 'false'))
        self.assertEqual(seen[b][1:3], ('Install', 'true'))
        self.assertNotIn(c, seen)
        self.assertLess(seen[a][3], 0x40000000)  # an approval row id
        # B comes on a page after the one that brought A.
        pa = [i for i, p in enumerate(pages) if a in p.updates()][0]
        pb = [i for i, p in enumerate(pages) if b in p.updates()][0]
        self.assertGreater(pb, pa)
        for p in pages:
            for i in p.infos:
                if i.find(NS + 'Deployment/' + NS + 'Action').text == \
                        'Install':
                    self.assertEqual(shape(i), shape(real.infos[0]))
                    self.assertRegex(
                        i.find(NS + 'Deployment/' + NS +
                               'LastChangeTime').text,
                        r'^\d{4}-\d\d-\d\d$')

        # Nothing new on a rescan with everything cached.
        p = self.sync(cookie, installed, other)
        self.assertEqual((p.infos, p.out_of_scope, p.changed),
                         ([], [], {}))

        # Declining B: not offered, its cached revision out of scope.
        harness.run_wsusutil(self.d.dir, 'decline', b)
        p = self.sync(cookie, installed, other)
        self.assertNotIn(b, p.updates())
        self.assertEqual(p.out_of_scope, [seen[b][0]])
        other.remove(seen[b][0])

        # An approval change is seen on the next rescan: C approved.
        harness.run_wsusutil(self.d.dir, 'approve', c, '--group',
                             'All Computers')
        p = self.sync(cookie, installed, other)
        self.assertEqual(list(p.updates()), [c])
        self.assertEqual(p.updates()[c][1:3], ('Install', 'true'))
        crid = p.updates()[c][0]
        other.append(crid)
        # Uninstall for the computer's own group beats All Computers'
        # Install by inheritance: C comes back with Uninstall when it is
        # not cached, A leaves the scope with NotApproved.
        harness.run_wsusutil(self.d.dir, 'approve', c, '--group',
                             'Unassigned Computers', '--action',
                             'uninstall')
        harness.run_wsusutil(self.d.dir, 'approve', a, '--group',
                             'Unassigned Computers', '--action',
                             'notapproved')
        p = self.sync(cookie, installed, [i for i in other if i != crid])
        self.assertEqual(p.updates()[c][:2], (crid, 'Uninstall'))
        self.assertIn(seen[a][0], p.out_of_scope)
        self.assertNotIn(a, p.updates())
        self.assertEqual(p.changed, {})  # C is not cached in that call
        # With C cached, its new deployment comes in ChangedUpdates
        # (WUSP.md 4.2 item 8), once: the NewCookie moves the anchor.
        p = self.sync(cookie, installed, other)
        self.assertEqual(p.changed, {crid: ('Uninstall', 'true')})
        self.assertNotIn(c, p.updates())
        p2 = self.sync(p.cookie, installed, other)
        self.assertEqual(p2.changed, {})
        # A new deadline is a change too.
        harness.run_wsusutil(self.d.dir, 'approve', c, '--group',
                             'Unassigned Computers', '--action',
                             'uninstall', '--deadline', '2030-01-02')
        p3 = self.sync(p2.cookie, installed, other)
        self.assertEqual(p3.changed, {crid: ('Uninstall', 'true')})
        # An unrelated approval changes nothing this client caches.
        d = self.publish('SyncD')
        harness.run_wsusutil(self.d.dir, 'approve', d, '--group',
                             'All Computers')
        p4 = self.sync(p3.cookie, installed, other)
        self.assertEqual(p4.changed, {})
        self.assertEqual(list(p4.updates()), [d])

    def test_truncation(self):
        # 31 approved leaves: a page of 30 with Truncated=true, then 1.
        other = Wsusd()
        self.addCleanup(other.cleanup)
        other.start()
        self.addCleanup(other.stop)
        wc.publishing_cert(other)
        ids = set()
        for i in range(31):
            u = self.publish('Many%02d' % i, d=other)
            harness.run_wsusutil(other.dir, 'approve', u, '--group',
                                 'All Computers')
            ids.add(u)
        cookie = self.session(other)
        pages, _, _, _ = self.full_pass(cookie, d=other)
        got = [(len(p.infos), p.truncated) for p in pages]
        # Company + Updates, product, then the 31 leaves.
        self.assertEqual(got, [(2, 'false'), (1, 'false'), (30, 'true'),
                               (1, 'false')])
        sent = set()
        for p in pages[2:]:
            sent |= set(p.updates())
        self.assertEqual(sent, ids)

    def is_company(self, uid):
        db = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            row = db.execute('SELECT category_type FROM update_ WHERE '
                             'update_id = ?', (uid,)).fetchone()
        finally:
            db.close()
        return row is not None and row[0] == 'Company'

    def test_faults(self):
        cookie = self.session()
        flipped = cookie[:10] + ('A' if cookie[10] != 'A' else 'B') + \
            cookie[11:]
        self.assertEqual(wc.fault_code(self.sync_raw(flipped)),
                         'InvalidCookie')
        self.assertEqual(wc.fault_code(self.sync_raw('AAAA')),
                         'InvalidCookie')
        r = self.sync_raw(cookie, installed=range(1, 402))
        self.assertEqual(wc.fault(r), ('InvalidParameters',
                                   'parameters.InstalledNonLeafUpdateIDs'))
        # 400 is accepted (WUSP.md 4.2 item 14).
        r = self.sync_raw(cookie, installed=range(1, 401))
        self.assertEqual(r.status, 200, r.body)

    def test_registration_required(self):
        other = Wsusd()
        self.addCleanup(other.cleanup)
        other.start()
        self.addCleanup(other.stop)
        cookie = self.session(other, register=False)
        r = self.sync_raw(cookie, d=other)
        self.assertEqual(wc.fault_code(r), 'RegistrationRequired')

    def test_driver_pass(self):
        cookie = self.session()
        r = self.post('SyncUpdates', wc.driver_sync_body(cookie))
        self.assertEqual(r.status, 200, r.body)
        real = capture('flow', '000014', 'response.body')
        self.assertEqual(shape(r.body), shape(real))
        self.assertEqual(text(r.body, 'Truncated'), 'false')
        self.assertEqual(text(r.body, 'DriverSyncNotNeeded'), 'true')
        self.assertEqual(text(r.body, 'Expiration'), self.expiration)
        self.assertNotEqual(text(r.body, 'EncryptedData'), cookie)

    def sync_filtered(self, cookie, cats, two, installed=(), other=(),
                      d=None):
        """A category-filtered scan, as the OOBE scan (scan/000006):
        FilterCategoryIds CATS, NeedTwoGroupOutOfScopeUpdates TWO."""
        r = self.post('SyncUpdates', wc.sync_body(
            cookie, installed, other, categories=cats, two_groups=two), d)
        self.assertEqual(r.status, 200, r.body)
        return Page(r.body)

    def test_unapproved_and_filtered(self):
        """detect_unapproved = yes: unapproved software goes out as
        PreDeploymentCheck; FilterCategoryIds narrows a scan to some
        categories, and with NeedTwoGroupOutOfScopeUpdates what is still
        deployed elsewhere is DeployedOutOfScope, not out of scope."""
        d = Wsusd(conf={'detect_unapproved': 'yes'})
        d.start()
        self.addCleanup(d.cleanup)
        self.addCleanup(d.stop)
        wc.publishing_cert(d)
        e = self.publish('FiltE', d=d)
        f = self.publish('FiltF', d=d, product='Other Product')
        harness.run_wsusutil(d.dir, 'approve', e, '--group',
                             'All Computers')
        cats = self.categories(d)
        sync_product, other_product = cats['Sync Product'], \
            cats['Other Product']
        cookie = self.session(d)
        pages, installed, other, cookie = self.full_pass(cookie, d=d)
        seen = wc.updates_of(pages)
        self.assertEqual(seen[e][1], 'Install')
        self.assertEqual(seen[f][1], 'PreDeploymentCheck')
        self.assertGreater(seen[f][3], 0)

        # Filtered, everything cached: nothing new; F and its product
        # are still deployed (unfiltered), so DeployedOutOfScope.
        p = self.sync_filtered(cookie, [sync_product], True, installed,
                               other, d)
        self.assertEqual(p.infos, [])
        self.assertIn(seen[f][0], p.deployed_oos)
        self.assertIn(seen[other_product][0], p.deployed_oos)
        self.assertNotIn(seen[f][0], p.out_of_scope)
        self.assertNotIn(seen[e][0], p.deployed_oos + p.out_of_scope)
        self.assertEqual(p.children[-2:], ['DeployedOutOfScopeRevisionIds',
                                           'DriverSyncNotNeeded'])
        # Without NeedTwoGroupOutOfScopeUpdates: plain out of scope.
        p = self.sync_filtered(cookie, [sync_product], False, installed,
                               other, d)
        self.assertIn(seen[f][0], p.out_of_scope)
        self.assertEqual(p.deployed_oos, [])
        # From an empty cache the filtered pass brings E, never F.
        fresh = self.session(d)
        inst, oth, got = [], [], {}
        for _ in range(20):
            p = self.sync_filtered(fresh, [sync_product], True, inst, oth,
                                   d)
            fresh = p.cookie
            got.update(p.updates())
            nonleaf = False
            for uid, (rid, act, leaf, _) in p.updates().items():
                (inst if leaf == 'false' else oth).append(rid)
                nonleaf |= leaf == 'false'
            if p.truncated == 'false' and not nonleaf:
                break
        self.assertIn(e, got)
        self.assertIn(sync_product, got)
        self.assertNotIn(f, got)
        self.assertNotIn(other_product, got)
        # A bad filter is InvalidParameters, not a crash.
        r = self.post('SyncUpdates', capture(
            'scan', '000006', 'request.body').replace(
                b'dd78b8a1-0b20-45c1-add6-4da72e9364cf', b'not-a-guid'), d)
        self.assertEqual(r.status, 500)

    def test_filtered_scan_anchor(self):
        """A filtered scan refreshes the anchor like any page (WUSP.md
        4.2 item 10; the next page does not repeat what it just sent as
        ChangedUpdates, vectors scan/000006-8), except over a cached
        deployment outside its filter that changed: the next unfiltered
        pass must still report that one."""
        d = Wsusd()
        d.start()
        self.addCleanup(d.cleanup)
        self.addCleanup(d.stop)
        wc.publishing_cert(d)
        e = self.publish('AnchE', d=d)
        f = self.publish('AnchF', d=d, product='Anch Other')
        for u in (e, f):
            harness.run_wsusutil(d.dir, 'approve', u, '--group',
                                 'All Computers')
        cats = self.categories(d)
        # Fresh cookie, filtered pass page by page: no ChangedUpdates.
        cookie = self.session(d)
        inst, oth = [], []
        for _ in range(10):
            p = self.sync_filtered(cookie, [cats['Sync Product']], False,
                                   inst, oth, d)
            self.assertEqual(p.changed, {})
            cookie = p.cookie
            new = p.updates()
            for rid, _, leaf, _ in new.values():
                (inst if leaf == 'false' else oth).append(rid)
            if not new:
                break
        pages, inst, oth, cookie = self.full_pass(cookie, inst, oth, d)
        seen = wc.updates_of(pages)
        self.assertIn(f, seen)
        # F (outside the filter) changes; a filtered scan does not
        # report it and must not hide it from the next full pass.
        harness.run_wsusutil(d.dir, 'approve', f, '--group',
                             'All Computers', '--deadline', '2031-01-01')
        p = self.sync_filtered(cookie, [cats['Sync Product']], False,
                               inst, oth, d)
        self.assertEqual(p.changed, {})
        p = self.sync(p.cookie, inst, oth, d)
        self.assertEqual(list(p.changed), [seen[f][0]])
        self.assertEqual(self.sync(p.cookie, inst, oth, d).changed, {})

    def test_cookie_renewal_keeps_anchor(self):
        """GetCookie with the old cookie carries what the client was
        told: a rescan after renewal sends no ChangedUpdates."""
        u = self.publish('RenewU')
        harness.run_wsusutil(self.d.dir, 'approve', u, '--group',
                             'All Computers')
        cookie = self.session()
        pages, installed, other, cookie = self.full_pass(cookie)
        p = self.sync(cookie, installed, other)
        self.assertEqual(p.changed, {})
        # A fresh cookie knows nothing: every cached deployment is news.
        fresh = self.session()
        p = self.sync(fresh, installed, other)
        self.assertNotEqual(p.changed, {})
        # Renewal with the old cookie keeps the anchor.
        c = wc.Client(self.d)
        lc = text(c.getconfig().body, 'LastChange')
        # GetCookie (scan/000003) whose oldCookie is the one we hold.
        r = c.getcookie(c.authcookie(), lc, old=cookie,
                        expiration=self.expiration)
        self.assertEqual(r.status, 200, r.body)
        renewed = text(r.body, 'EncryptedData')
        self.expiration = text(r.body, 'Expiration')
        p = self.sync(renewed, installed, other)
        self.assertEqual(p.changed, {})

    def test_large_answer(self):
        """A catalog of 400 updates (bench/catalog_gen), all approved: the
        whole pass, then a rescan under a fresh cookie, whose
        ChangedUpdates lists every cached revision in one answer well
        over 64 KiB (answers are not capped at a small buffer)."""
        gen = os.path.join(os.path.dirname(os.environ['WSUSD']), 'bench',
                           'catalog_gen')
        d = Wsusd()
        subprocess.run([gen, d.dir, '400'], check=True,
                       stdout=subprocess.DEVNULL)
        db = sqlite3.connect(os.path.join(d.dir, 'wsusd.db'))
        db.execute("INSERT INTO approval (update_pk, group_pk, action, "
                   "admin, created) SELECT u.update_pk, g.group_pk, "
                   "'Install', 'test', '2026-01-01T00:00:00Z' FROM update_ u, "
                   "target_group g WHERE u.update_type = 'Software' AND "
                   "g.name = 'All Computers'")
        db.commit()
        db.close()
        d.start()
        self.addCleanup(d.cleanup)
        self.addCleanup(d.stop)
        cookie = self.session(d)
        pages, installed, other, cookie = self.full_pass(cookie, d=d)
        seen = wc.updates_of(pages)
        self.assertGreaterEqual(len(seen), 400)
        p = self.sync(cookie, installed, other, d)
        self.assertEqual((p.infos, p.changed), ([], {}))
        fresh = self.session(d)
        r = self.sync_raw(fresh, installed, other, d)
        self.assertEqual(r.status, 200)
        self.assertGreater(len(r.body), 96 * 1024)
        p = Page(r.body)
        self.assertEqual(sorted(p.changed), sorted(installed + other))


if __name__ == '__main__':
    unittest.main(verbosity=2)
