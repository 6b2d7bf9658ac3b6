#!/usr/bin/env python3
"""wsusutil downstream list | allow | deny | remove (issue #7 item 3,
docs/CHAINING.md): the authorization list in
DIR/ServerSyncWebService/web.config, edited end to end on a temporary data
directory. Checks the file after every edit (parsed with xml.etree, and
byte for byte where the layout is ours), bad names and bad files refused
with a message and nothing changed, a pasted Windows web.config kept
working with its other sections intact, and concurrent edits serialised.
No daemon: wsusd reads the same file (auth/authz.c) on start and SIGHUP."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REL = os.path.join('ServerSyncWebService', 'web.config')

PASTED = (
    '\ufeff<?xml version="1.0" encoding="utf-8"?>\r\n'
    '<!-- ServerSyncWebService, pasted from a Windows WSUS -->\r\n'
    '<configuration>\r\n'
    '  <configSections>\r\n'
    '    <section name="microsoft.web.services3" type="Microsoft.Web.'
    'Services3.Configuration.WebServicesConfiguration, Microsoft.Web.'
    'Services3" />\r\n'
    '  </configSections>\r\n'
    '  <appSettings>\r\n'
    '    <add key="SomeSetting" value="1" />\r\n'
    '  </appSettings>\r\n'
    '  <system.web>\r\n'
    '    <httpRuntime maxRequestLength="4096" executionTimeout="3600" />\r\n'
    '    <authentication mode="Windows" />\r\n'
    '    <authorization>\r\n'
    '      <allow users="CONTOSO\\DSS1$, CONTOSO\\DSS2$" />\r\n'
    '      <deny users="*" />\r\n'
    '    </authorization>\r\n'
    '    <webServices>\r\n'
    '      <protocols><remove name="HttpPost" /><remove name="HttpGet" />'
    '</protocols>\r\n'
    '    </webServices>\r\n'
    '  </system.web>\r\n'
    '  <system.webServer>\r\n'
    '    <security><authorization><add accessType="Allow" users="*" />'
    '</authorization></security>\r\n'
    '  </system.webServer>\r\n'
    '  <runtime>\r\n'
    '    <assemblyBinding xmlns="urn:schemas-microsoft-com:asm.v1">'
    '<dependentAssembly><assemblyIdentity name="Microsoft.Web.Services3" '
    'publicKeyToken="31bf3856ad364e35" /></dependentAssembly>'
    '</assemblyBinding>\r\n'
    '  </runtime>\r\n'
    '</configuration>\r\n')


def run(d, *args):
    p = harness.run_wsusutil(d, 'downstream', *args, check=False,
                             timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def rules_of(path):
    """[(kind, users-attribute, other attributes)] in document order."""
    root = ET.parse(path).getroot()
    auth = root.find('system.web/authorization')
    if auth is None:
        return None
    out = []
    for el in auth:
        out.append((el.tag, el.get('users'),
                    {k: v for k, v in el.attrib.items() if k != 'users'}))
    return out


class DownstreamCli(unittest.TestCase):

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix='wsusd-downstream-')
        self.d = os.path.join(self.base, 'data')
        os.mkdir(self.d, 0o750)
        self.path = os.path.join(self.d, REL)

    def tearDown(self):
        shutil.rmtree(self.base)

    def ok(self, *args):
        rc, out, err = run(self.d, *args)
        self.assertEqual(rc, 0, 'downstream %s: %s%s' % (args, out, err))
        return out

    def refused(self, *args, rc=1):
        got, out, err = run(self.d, *args)
        self.assertEqual(got, rc, 'downstream %s: %s%s' % (args, out, err))
        self.assertIn('wsusutil: downstream', err)
        return err

    def listing(self):
        return [l for l in self.ok('list').splitlines()
                if not l.startswith('note:')]

    # ------------------------------------------------------------ basics

    def test_list_without_file(self):
        out = self.ok('list')
        self.assertEqual(out, 'no rules (no ServerSyncWebService/web.config)'
                         ': every authenticated downstream server is '
                         'admitted\n')
        # Listing creates nothing.
        self.assertFalse(os.path.exists(os.path.dirname(self.path)))

    def test_allow_deny_remove_sequence(self):
        out = self.ok('allow', 'CORP\\DS1$')
        self.assertIn('CORP\\DS1$ allowed', out)
        self.assertIn('SIGHUP', out)
        # A new file, laid out by us, mode 0640, directory 0750.
        with open(self.path, encoding='utf-8') as f:
            self.assertEqual(f.read(),
                             '<?xml version="1.0" encoding="UTF-8"?>\n'
                             '<configuration>\n'
                             '  <system.web>\n'
                             '    <authorization>\n'
                             '      <allow users="CORP\\DS1$"/>\n'
                             '    </authorization>\n'
                             '  </system.web>\n'
                             '</configuration>\n')
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o640)
        self.assertEqual(stat.S_IMODE(os.stat(
            os.path.dirname(self.path)).st_mode), 0o750)

        # The guide's list: deny * first, allows go above it.
        self.ok('deny', '*')
        self.assertEqual(rules_of(self.path), [
            ('deny', '*', {}), ('allow', 'CORP\\DS1$', {})])
        out = self.ok('list')
        self.assertIn('note: rule 1 matches everyone', out)
        self.ok('remove', 'CORP\\DS1$')
        self.assertEqual(rules_of(self.path), [('deny', '*', {})])
        self.ok('allow', 'CORP\\DS1$')
        self.ok('allow', 'CORP\\DS2$')
        self.assertEqual(rules_of(self.path), [
            ('allow', 'CORP\\DS1$,CORP\\DS2$', {}), ('deny', '*', {})])
        self.assertEqual(self.listing(), [
            '1 allow users=CORP\\DS1$,CORP\\DS2$', '2 deny users=*'])

        # Allowing again (any case) changes nothing, not even the file.
        before = os.stat(self.path)
        out = self.ok('allow', 'corp\\ds2$')
        self.assertIn('already allowed', out)
        after = os.stat(self.path)
        self.assertEqual((before.st_ino, before.st_mtime_ns),
                         (after.st_ino, after.st_mtime_ns))

        # deny: out of the allow rule, a deny rule on top.
        self.ok('deny', 'CORP\\DS2$')
        self.assertEqual(rules_of(self.path), [
            ('deny', 'CORP\\DS2$', {}), ('allow', 'CORP\\DS1$', {}),
            ('deny', '*', {})])
        # allow again: out of the deny (dropped, now empty), back into
        # the first allow rule, which now comes first.
        self.ok('allow', 'CORP\\DS2$')
        self.assertEqual(rules_of(self.path), [
            ('allow', 'CORP\\DS1$,CORP\\DS2$', {}), ('deny', '*', {})])
        # Anonymous.
        self.ok('deny', '?')
        self.assertEqual(rules_of(self.path)[0], ('deny', '?', {}))

        # remove: from every rule; a name in none is refused.
        for name in ('CORP\\DS1$', 'CORP\\DS2$', '?', '*'):
            self.ok('remove', name)
        self.assertEqual(rules_of(self.path), [])
        self.assertIn('<authorization> is empty', self.ok('list'))
        err = self.refused('remove', 'CORP\\DS1$')
        self.assertIn('in no rule', err)

    def test_machine_account_forms_are_distinct_entries(self):
        self.ok('allow', 'CORP\\DS1')
        self.ok('allow', 'CORP\\DS1$')
        self.assertEqual(self.listing(), ['1 allow users=CORP\\DS1,CORP\\DS1$'])
        # remove is exact: the other form stays.
        self.ok('remove', 'CORP\\DS1')
        self.assertEqual(self.listing(), ['1 allow users=CORP\\DS1$'])

    # ------------------------------------------------------- refusals

    def test_bad_names_refused_nothing_changed(self):
        bad = ['DS1$', 'CORP\\', '\\DS1$', 'A\\B\\C', 'CORP\\a,b',
               'CORP\\a"b', 'CORP\\a<b', 'CORP\\a>b', 'CORP\\a&b',
               'CORP\\a\tb', 'CO RP\\x', 'ABCDEFGHIJKLMNOP\\x',
               'CORP\\' + 'a' * 65, 'CORP\\ a', '**', '']
        # No file yet: nothing gets created.
        for name in bad:
            for op in ('allow', 'deny', 'remove'):
                err = self.refused(op, name)
                self.assertIn('bad name', err)
        self.assertFalse(os.path.exists(os.path.dirname(self.path)))
        # With a file: byte for byte and inode unchanged.
        self.ok('allow', 'CORP\\DS1$')
        with open(self.path, 'rb') as f:
            text = f.read()
        ino = os.stat(self.path).st_ino
        for name in bad:
            self.refused('allow', name)
        with open(self.path, 'rb') as f:
            self.assertEqual(f.read(), text)
        self.assertEqual(os.stat(self.path).st_ino, ino)
        # The longest valid names pass.
        self.ok('allow', 'ABCDEFGHIJKLMNO\\' + 'a' * 64)

    def test_usage(self):
        for args in ([], ['list', 'x'], ['allow'], ['allow', 'A\\b', 'c'],
                     ['frobnicate', 'A\\b']):
            rc, out, err = run(self.d, *args)
            self.assertEqual(rc, 2, args)
            self.assertIn('usage: wsusutil downstream', err)
        p = harness.run_wsusutil(self.d, '--help')
        self.assertIn(b'downstream list | allow NAME', p.stdout)

    def test_malformed_file_refused_with_line(self):
        os.makedirs(os.path.dirname(self.path))
        bad = ('<configuration>\n<system.web>\n<authorization>\n'
               '<allow users="CORP\\DS1$"/>\n<deny users="*">\n'
               '</authorization>\n</system.web></configuration>\n')
        with open(self.path, 'w') as f:
            f.write(bad)
        err = self.refused('list')
        self.assertIn('web.config:6: web.config is not well-formed XML',
                      err)
        err = self.refused('allow', 'CORP\\DS2$')
        self.assertIn(':6:', err)
        with open(self.path) as f:
            self.assertEqual(f.read(), bad)
        # The other refusals name their line too.
        cases = [
            ('<!DOCTYPE c [<!ENTITY x "y">]>\n<configuration/>', ':1:',
             'DOCTYPE'),
            ('<configuration><system.web><authorization>\n\n'
             '<allow users="&xxe;"/></authorization></system.web>'
             '</configuration>', ':3:', 'entity reference'),
            ('<configuration><system.web><authorization>\n'
             '<allow user="CORP\\DS1$"/></authorization></system.web>'
             '</configuration>', ':2:', 'unknown attribute'),
            ('<configuration>\n<location path=".">\n<system.web>'
             '<authorization><deny users="*"/></authorization>'
             '</system.web></location></configuration>', ':3:',
             'inside <location>'),
        ]
        for text, line, what in cases:
            with open(self.path, 'w') as f:
                f.write(text)
            err = self.refused('deny', 'CORP\\DS9$')
            self.assertIn(line, err, text)
            self.assertIn(what, err, text)
            with open(self.path) as f:
                self.assertEqual(f.read(), text)
        # Over 1 MiB.
        with open(self.path, 'w') as f:
            f.write('<configuration><!--' + 'x' * (1 << 20) +
                    '--></configuration>')
        err = self.refused('list')
        self.assertIn('1 MiB', err)

    # ------------------------------------------------ a pasted web.config

    def test_pasted_web_config(self):
        os.makedirs(os.path.dirname(self.path))
        with open(self.path, 'w', encoding='utf-8', newline='') as f:
            f.write(PASTED)
        self.assertEqual(self.listing(), [
            '1 allow users=CONTOSO\\DSS1$,CONTOSO\\DSS2$', '2 deny users=*'])
        self.ok('allow', 'CONTOSO\\DSS3$')
        self.assertEqual(rules_of(self.path), [
            ('allow', 'CONTOSO\\DSS1$,CONTOSO\\DSS2$,CONTOSO\\DSS3$', {}),
            ('deny', '*', {})])
        with open(self.path, encoding='utf-8') as f:
            text = f.read()
        # The rest of the document is still there.
        for kept in ('<!-- ServerSyncWebService, pasted from a Windows WSUS',
                     '<section name="microsoft.web.services3"',
                     '<add key="SomeSetting" value="1"/>',
                     '<httpRuntime maxRequestLength="4096" '
                     'executionTimeout="3600"/>',
                     '<authentication mode="Windows"/>',
                     '<remove name="HttpGet"/>',
                     '<add accessType="Allow" users="*"/>',
                     'publicKeyToken="31bf3856ad364e35"'):
            self.assertIn(kept, text)
        # Other elements named like ours are untouched.
        root = ET.parse(self.path).getroot()
        self.assertEqual(
            root.find('system.webServer/security/authorization/add')
            .get('users'), '*')
        self.ok('deny', 'CONTOSO\\DSS1$')
        self.ok('remove', 'CONTOSO\\DSS2$')
        self.assertEqual(self.listing(), [
            '1 deny users=CONTOSO\\DSS1$',
            '2 allow users=CONTOSO\\DSS3$',
            '3 deny users=*'])
        with open(self.path, encoding='utf-8') as f:
            self.assertIn('<httpRuntime maxRequestLength="4096"', f.read())

    def test_web_config_without_section(self):
        os.makedirs(os.path.dirname(self.path))
        text = ('<?xml version="1.0"?>\n<configuration>\n'
                '  <system.web>\n    <compilation debug="false"/>\n'
                '  </system.web>\n</configuration>\n')
        with open(self.path, 'w') as f:
            f.write(text)
        os.chmod(self.path, 0o600)
        self.assertIn('has no <authorization>', self.ok('list'))
        self.ok('allow', 'CORP\\DS1$')
        with open(self.path) as f:
            self.assertEqual(f.read(),
                             '<?xml version="1.0" encoding="UTF-8"?>\n'
                             '<configuration>\n'
                             '  <system.web>\n'
                             '    <compilation debug="false"/>\n'
                             '    <authorization>\n'
                             '      <allow users="CORP\\DS1$"/>\n'
                             '    </authorization>\n'
                             '  </system.web>\n'
                             '</configuration>\n')
        # A tighter mode stays.
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)

    # ------------------------------------------------------ concurrency

    def test_concurrent_edits_all_land(self):
        names = ['CORP\\PAR%d$' % i for i in range(8)]
        procs = [subprocess.Popen(
            [harness.WSUSUTIL, '--data', self.d, 'downstream', 'allow', n],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in names]
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
        users = rules_of(self.path)[0][1].split(',')
        self.assertEqual(sorted(users), sorted(names))
        # No temporary files left next to it.
        self.assertEqual(os.listdir(os.path.dirname(self.path)),
                         ['web.config'])


if __name__ == '__main__':
    unittest.main()
