#!/usr/bin/env python3
"""wsusutil administration: groups, computers, approvals, decline, updates
listing (--json), and bad input that names the problem and changes
nothing. Real SQLite in a fresh data directory; updates and computers are
put in through the catalog tables the way later commands (publish, import,
RegisterComputer) will, since those commands are not here yet."""

import json
import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SECURITY = '0fa1201d-4330-4fa8-8ae9-b877473b6441'
UPD = '11111111-2222-3333-4444-5555555555aa'
PC = 'aaaaaaaa-0000-0000-0000-0000000000bb'


def wsusutil(d, *args):
    p = harness.run_wsusutil(d, *args, check=False)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class Admin(unittest.TestCase):

    def setUp(self):
        import tempfile
        self.base = tempfile.mkdtemp(prefix='wsusd-admin-')
        self.d = os.path.join(self.base, 'data')
        os.mkdir(self.d, 0o750)
        rc, out, err = wsusutil(self.d, 'groups', 'list')  # creates the db
        self.assertEqual(rc, 0, err)
        db = sqlite3.connect(os.path.join(self.d, 'wsusd.db'))
        with db:
            db.execute("INSERT INTO update_ (update_id, update_type, origin,"
                       " created) VALUES (?, 'Software', 'local', 'now')",
                       (UPD,))
            db.execute("INSERT INTO revision (update_pk, revision_number, "
                       "title, kb_article, xml_core, created, "
                       "explicitly_deployable) SELECT update_pk, 100, "
                       "'Test \"quoted\" update', '5000001', "
                       "CAST('<x />' AS BLOB), 'now', 1 FROM update_ "
                       "WHERE update_id = ?", (UPD,))
            db.execute("INSERT INTO revision_category (revision_id, "
                       "category_id) SELECT max(revision_id), ? FROM "
                       "revision", (SECURITY,))
            db.execute("INSERT INTO computer (computer_id, dns_name, "
                       "created) VALUES (?, 'pc1.example', 'now')", (PC,))
            db.execute("INSERT INTO computer_group_member SELECT "
                       "computer_pk, (SELECT group_pk FROM target_group "
                       "WHERE name = 'Unassigned Computers') FROM computer")
        db.close()

    def tearDown(self):
        import shutil
        shutil.rmtree(self.base)

    def snapshot(self):
        db = sqlite3.connect(os.path.join(self.d, 'wsusd.db'))
        try:
            return [db.execute('SELECT * FROM %s ORDER BY 1' % t).fetchall()
                    for t in ('target_group', 'approval', 'update_',
                              'computer_group_member')]
        finally:
            db.close()

    def jlist(self, *args):
        rc, out, err = wsusutil(self.d, *args, '--json')
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def test_groups(self):
        self.assertEqual(wsusutil(self.d, 'groups', 'add', 'Servers')[0], 0)
        self.assertEqual(wsusutil(self.d, 'groups', 'add', 'Web',
                                  '--parent', 'Servers')[0], 0)
        groups = {g['name']: g for g in self.jlist('groups', 'list')}
        self.assertEqual(groups['All Computers']['id'],
                         'a0a08746-4dbe-4a37-9adf-9e7652c0b421')
        self.assertEqual(groups['Unassigned Computers']['id'],
                         'b73ca6ed-5727-47f3-84de-015e03f6a88a')
        self.assertTrue(groups['All Computers']['builtin'])
        self.assertEqual(groups['Web']['parent'], 'Servers')
        self.assertEqual(groups['Unassigned Computers']['computers'], 1)
        self.assertEqual(wsusutil(self.d, 'groups', 'remove', 'Web')[0], 0)
        self.assertNotIn('Web', [g['name'] for g in
                                 self.jlist('groups', 'list')])

    def test_approve_inherit_and_decline(self):
        wsusutil(self.d, 'groups', 'add', 'Servers')
        rc, out, err = wsusutil(self.d, 'approve', UPD.upper(), '--group',
                                'All Computers', '--deadline',
                                '2026-12-24T18:00')
        self.assertEqual(rc, 0, err)
        ap = self.jlist('updates', 'approvals', UPD)
        self.assertEqual(ap, [{'update_id': UPD, 'group': 'All Computers',
                               'action': 'Install',
                               'deadline': '2026-12-24T18:00:00Z',
                               'created': ap[0]['created']}])
        rc, _, err = wsusutil(self.d, 'approve', UPD, '--group', 'Servers',
                              '--action', 'notapproved')
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.jlist('updates', 'approvals')), 2)
        ups = self.jlist('updates', 'list')
        self.assertEqual([u['update_id'] for u in ups], [UPD])
        self.assertEqual(ups[0]['classification'], 'Security Updates')
        self.assertEqual(ups[0]['title'], 'Test "quoted" update')
        self.assertEqual(ups[0]['kb'], '5000001')
        self.assertEqual(wsusutil(self.d, 'decline', UPD)[0], 0)
        self.assertEqual(self.jlist('updates', 'list'), [])
        self.assertEqual(self.jlist('updates', 'approvals'), [])
        self.assertTrue(self.jlist('updates', 'list', '--declined')[0]
                        ['declined'])
        rc, _, err = wsusutil(self.d, 'approve', UPD, '--group', 'Servers')
        self.assertEqual(rc, 1)
        self.assertIn('update is declined', err)

    def test_filters(self):
        self.assertEqual(len(self.jlist('updates', 'list',
                                        '--classification',
                                        'security updates')), 1)
        self.assertEqual(self.jlist('updates', 'list', '--classification',
                                    'Critical Updates'), [])
        rc, _, err = wsusutil(self.d, 'updates', 'list', '--classification',
                              'Nonsense')
        self.assertEqual(rc, 1)
        self.assertIn("unknown classification 'Nonsense'", err)
        cats = self.jlist('updates', 'list', '--categories')
        self.assertEqual(len(cats), 11)  # Microsoft + ten classifications

    def test_computers(self):
        wsusutil(self.d, 'groups', 'add', 'Servers')
        rc, _, err = wsusutil(self.d, 'computers', 'move', 'PC1.example',
                              'Servers')
        self.assertEqual(rc, 0, err)
        cs = self.jlist('computers', 'list')
        self.assertEqual(cs[0]['groups'], 'Servers')
        self.assertEqual(cs[0]['id'], PC)

    def test_bad_input_changes_nothing(self):
        wsusutil(self.d, 'groups', 'add', 'Servers')
        before = self.snapshot()
        cases = [
            (('approve', UPD, '--group', 'Nope'), 1, 'unknown group'),
            (('approve', 'not-a-uuid', '--group', 'Servers'), 1,
             'malformed UpdateID'),
            (('approve', '11111111-2222-3333-4444-000000000000', '--group',
              'Servers'), 1, 'unknown update'),
            (('approve', UPD, '--group', 'Servers', '--action', 'maybe'), 1,
             '--action must be'),
            (('approve', UPD, '--group', 'Servers', '--deadline',
              '2026-13-01'), 1, 'deadline is not an ISO-8601'),
            (('approve', SECURITY, '--group', 'Servers'), 1,
             'categories cannot be approved'),
            (('decline', 'zz'), 1, 'malformed UpdateID'),
            (('groups', 'add', 'servers'), 1, 'group already exists'),
            (('groups', 'add', 'X', '--parent', 'Nope'), 1,
             'unknown parent group'),
            (('groups', 'remove', 'All Computers'), 1,
             'built-in groups cannot be removed'),
            (('groups', 'remove', 'Nope'), 1, 'unknown group'),
            (('computers', 'move', 'nobody', 'Servers'), 1,
             'unknown computer'),
            (('computers', 'move', PC, 'Nope'), 1, 'unknown group'),
            (('approve', UPD), 2, 'usage'),
            (('groups', 'frobnicate'), 2, 'usage'),
        ]
        for args, want_rc, want_msg in cases:
            rc, out, err = wsusutil(self.d, *args)
            self.assertEqual(rc, want_rc, '%r: %s' % (args, err))
            self.assertIn(want_msg, err, args)
        self.assertEqual(self.snapshot(), before)


if __name__ == '__main__':
    unittest.main(verbosity=2)
