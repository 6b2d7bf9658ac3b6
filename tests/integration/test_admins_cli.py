#!/usr/bin/env python3
"""wsusutil admins list | add | remove (issue #8 item 3, SECURITY.md S6):
who may administer the server, kept in DIR/admins (auth/admin_roles.h),
edited end to end on a temporary data directory. Checks the file after
every edit (byte for byte: comments and order are kept), the mode (0640),
that no temporary file is left behind, that bad names, bad roles and a
broken file are refused with a message and nothing changed, and that
concurrent edits all land. No daemon: wsusd reads the same file on every
admin call."""

import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def run(d, *args):
    p = harness.run_wsusutil(d, 'admins', *args, check=False, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class AdminsCli(unittest.TestCase):

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix='wsusd-admins-')
        self.d = os.path.join(self.base, 'data')
        os.mkdir(self.d, 0o750)
        self.path = os.path.join(self.d, 'admins')

    def tearDown(self):
        shutil.rmtree(self.base)

    def ok(self, *args):
        rc, out, err = run(self.d, *args)
        self.assertEqual(rc, 0, 'admins %s: %s%s' % (args, out, err))
        return out

    def refused(self, *args, rc=1):
        got, out, err = run(self.d, *args)
        self.assertEqual(got, rc, 'admins %s: %s%s' % (args, out, err))
        if rc == 1:
            self.assertIn('wsusutil: admins', err)
        else:
            self.assertIn('usage: wsusutil admins', err)
        return err

    def text(self):
        with open(self.path, encoding='utf-8', newline='') as f:
            return f.read()

    def rules(self):
        """The rule lines of the file, whitespace normalised."""
        out = []
        for line in self.text().splitlines():
            line = line.strip()
            if line and not line.startswith('#'):
                out.append(' '.join(line.split()))
        return out

    def listing(self):
        return [' '.join(l.split()) for l in self.ok('list').splitlines()
                if not l.startswith('note:') and not l.startswith('no rules')]

    def assert_clean_dir(self):
        """Only what we expect in DIR: no temporary file left behind."""
        left = [n for n in os.listdir(self.d)
                if n not in ('admins', 'audit.log')
                and not n.endswith('.conf')]
        self.assertEqual(left, [], 'left behind: %s' % left)

    # ------------------------------------------------------------ basics

    def test_list_without_file(self):
        out = self.ok('list')
        self.assertIn('no rules', out)
        self.assertIn('note: root and ', out)
        self.assertIn('always administrators', out)
        # Listing creates nothing.
        self.assertFalse(os.path.exists(self.path))
        j = json.loads(self.ok('list', '--json'))
        self.assertEqual(j['rules'], [])
        self.assertIn('root', j['always_administrators'])
        self.assertEqual(len(j['always_administrators']), 2)

    def test_add_change_remove(self):
        out = self.ok('add', 'user:alice', 'approver')
        self.assertIn('user:alice', out)
        self.assertIn('approver', out)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o640)
        self.assertEqual(self.rules(), ['approver user:alice'])
        self.assert_clean_dir()

        self.ok('add', 'group:wsus-reporters', 'Reporter')
        self.ok('add', 'cert:CORP\\ops1', 'ADMINISTRATOR')
        self.assertEqual(self.rules(), [
            'approver user:alice', 'reporter group:wsus-reporters',
            'administrator cert:CORP\\ops1'])
        self.assertEqual(self.listing(), self.rules())

        # Change a role in place: order kept.
        self.ok('add', 'user:alice', 'administrator')
        self.assertEqual(self.rules(), [
            'administrator user:alice', 'reporter group:wsus-reporters',
            'administrator cert:CORP\\ops1'])
        # The same role again: nothing written.
        before = os.stat(self.path)
        out = self.ok('add', 'user:alice', 'administrator')
        self.assertIn('unchanged', out)
        self.assertEqual(os.stat(self.path).st_ino, before.st_ino)
        # A certificate identity is case-insensitive: same principal.
        self.ok('add', 'cert:corp\\OPS1', 'reporter')
        self.assertEqual(self.rules(), [
            'administrator user:alice', 'reporter group:wsus-reporters',
            'reporter cert:corp\\OPS1'])

        j = json.loads(self.ok('list', '--json'))
        self.assertEqual(j['rules'], [
            {'role': 'administrator', 'kind': 'user', 'name': 'alice'},
            {'role': 'reporter', 'kind': 'group', 'name': 'wsus-reporters'},
            {'role': 'reporter', 'kind': 'cert', 'name': 'corp\\OPS1'}])

        self.ok('remove', 'user:alice')
        self.ok('remove', 'cert:CORP\\ops1')
        self.assertEqual(self.rules(), ['reporter group:wsus-reporters'])
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o640)
        self.assert_clean_dir()

        # Removing an absent name is refused, the file untouched.
        before = self.text()
        err = self.refused('remove', 'user:alice')
        self.assertIn('not listed', err)
        self.assertEqual(self.text(), before)

    def test_keeps_comments_and_line_ends(self):
        orig = ('# hand-written\r\n'
                'administrator user:root2\r\n'
                '\r\n'
                '# helpdesk\n'
                'reporter   group:helpdesk\n')
        with open(self.path, 'w', newline='') as f:
            f.write(orig)
        os.chmod(self.path, 0o600)
        self.ok('add', 'user:bob', 'approver')
        self.assertTrue(self.text().startswith(orig))
        self.assertTrue(self.text().endswith('user:bob\n'))
        # The edit writes 0640.
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o640)
        self.ok('remove', 'user:bob')
        self.assertEqual(self.text(), orig)
        self.ok('add', 'user:root2', 'reporter')
        self.assertEqual(self.rules(), ['reporter user:root2',
                                        'reporter group:helpdesk'])
        self.assertIn('# hand-written\r\n', self.text())
        self.assertIn('# helpdesk\n', self.text())
        self.assert_clean_dir()

    # ---------------------------------------------------------- refusals

    def test_bad_names_and_roles_refused(self):
        self.ok('add', 'user:alice', 'reporter')
        before = self.text()
        for name in ('alice', 'user:', 'users:alice', 'user:a b',
                     'user:a\tb', 'user:a\x01b', 'cert:ops1',
                     'cert:\\ops1', 'user:' + 'x' * 129):
            err = self.refused('add', name, 'approver')
            self.assertIn('bad name', err)
            err = self.refused('remove', name)
            self.assertIn('bad name', err)
        for role in ('admin', 'none', 'root', ''):
            err = self.refused('add', 'user:bob', role)
            self.assertIn('bad role', err)
        self.assertEqual(self.text(), before)
        # Bad names never create the file either.
        os.unlink(self.path)
        self.refused('add', 'nobody', 'approver')
        self.assertFalse(os.path.exists(self.path))
        self.assert_clean_dir()

    def test_usage(self):
        self.refused(rc=2)
        self.refused('frobnicate', rc=2)
        self.refused('List', rc=2)
        self.refused('list', '--xml', rc=2)
        self.refused('add', 'user:a', rc=2)
        self.refused('add', 'user:a', 'reporter', 'extra', rc=2)
        self.refused('remove', rc=2)

    def test_broken_file_refused_with_line(self):
        broken = '# ok\nreporter user:a\nsuperuser user:b\n'
        with open(self.path, 'w') as f:
            f.write(broken)
        os.chmod(self.path, 0o640)
        for args in (('list',), ('add', 'user:c', 'reporter'),
                     ('remove', 'user:a')):
            err = self.refused(*args)
            self.assertIn('admins:3:', err)
            self.assertIn('unknown role', err)
        self.assertEqual(self.text(), broken)
        self.assert_clean_dir()

    def test_too_many_rules(self):
        with open(self.path, 'w') as f:
            for i in range(256):
                f.write('reporter user:u%d\n' % i)
        before = self.text()
        err = self.refused('add', 'user:one-more', 'reporter')
        self.assertIn('256', err)
        self.assertEqual(self.text(), before)
        # Changing one of them still works.
        self.ok('add', 'user:u7', 'approver')
        self.assertIn('approver user:u7', self.rules())
        self.assert_clean_dir()

    # ------------------------------------------------------ concurrency

    def test_concurrent_edits_all_land(self):
        names = ['user:c%d' % i for i in range(8)]
        errors = []

        def add(n):
            rc, out, err = run(self.d, 'add', n, 'reporter')
            if rc != 0:
                errors.append((n, out, err))

        threads = [threading.Thread(target=add, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(sorted(self.rules()),
                         sorted('reporter ' + n for n in names))
        self.assert_clean_dir()


if __name__ == '__main__':
    unittest.main(verbosity=2)
