"""Chained servers end to end (issue #7): a downstream wsusd synchronizes
from an upstream wsusd over TLS with Kerberos, both real daemons on
loopback with a private MIT KDC (krb5kdc.py).

The upstream keeps the guide's defaults: anonymous access to
ServerSyncWebService off, Negotiate required, its keytab holds
HTTP/localhost, and the authorization list allows CORP\\DS1$ and denies
everyone else. The downstream's `wsusutil sync` authenticates as DS1$ from
a client keytab (wsusd.conf sync_keytab) and trusts the upstream's CA
through `wsusutil upstream set --ca`.

  - an allowed downstream gets metadata and content, byte for byte; a
    wuagent pointed at the downstream then scans and installs;
  - a second synchronization fetches nothing new (anchors), a new update
    upstream arrives alone;
  - denied (list) -> the synchronization fails saying 403, nothing stored;
  - an untrusted upstream certificate, or one for another name -> refused,
    saying why;
  - a content file tampered with upstream -> quarantined downstream, never
    served by it;
  - kill -9 in the middle of a synchronization -> the next one completes,
    integrity_check passes, no duplicate revisions;
  - replica mode mirrors groups and approvals;
  - `wsusutil sync status --json` shows what happened.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import krb5kdc  # noqa: E402
import wusp_client as wc  # noqa: E402
from test_serversync_auth import KrbWsusd  # noqa: E402
from test_serversync_cert import CA  # noqa: E402

WUAGENT = os.environ.get('WUAGENT') or os.path.join(harness.REPO, 'build',
                                                    'wuagent')
GUID = r'[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}'
REALM = 'CORP.EXAMPLE'
PRODUCT = 'Chained Product'
SYNC_TIMEOUT = 300
INSTALL_SH = ('#!/bin/sh\n'
              'printf "installed by the chain %s\\n" "$*" > "$1"\n')


class Chain(unittest.TestCase):
    """One KDC per class; a fresh upstream and downstream per test."""

    @classmethod
    def setUpClass(cls):
        cls.k = krb5kdc.KrbEnv(REALM)
        cls.a = cls.k.realm
        cls.ds1_kt = cls.a.keytab(cls.k.path('ds1.keytab'), cls.a.ds1)
        cls.ds2_kt = cls.a.keytab(cls.k.path('ds2.keytab'), cls.a.ds2)

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def setUp(self):
        self.up = KrbWsusd(self.k, conf={
            'kerberos_realm_map': REALM + ' = CORP'})
        self.down = None
        try:
            os.makedirs(self.up.path('tls'), mode=0o700, exist_ok=True)
            self.a.keytab(self.up.path('tls', 'http.keytab'), self.a.http)
            self.up.write_list('<allow users="CORP\\DS1$"/>'
                               '<deny users="*"/>')
            self.up.start()
            wc.publishing_cert(self.up)
            self.down = KrbWsusd(self.k)
        except BaseException:
            self.up.cleanup()
            if self.down is not None:
                self.down.cleanup()
            raise

    def tearDown(self):
        reports = []
        for d in (self.up, self.down):
            if d.proc is not None:
                d.stop()
            r = d.sanitizer_report()
            if r:
                reports.append(r)
            d.cleanup()
        if reports:
            self.fail('sanitizer report:\n' + '\n'.join(reports))

    # -- helpers ----------------------------------------------------------

    def url(self, host='localhost'):
        return 'https://%s:%d' % (host, self.up.https_port)

    def wsusutil(self, d, *args, check=True, keytab=None, env_extra=None,
                 timeout=SYNC_TIMEOUT):
        env = self.k.env()
        env.setdefault('ASAN_OPTIONS', 'abort_on_error=0:detect_leaks=1')
        if env_extra:
            env.update(env_extra)
        p = subprocess.run([harness.WSUSUTIL, '--data', d.dir, *args],
                           env=env, capture_output=True, text=True,
                           timeout=timeout)
        for m in harness.SANITIZER_MARKERS:
            self.assertNotIn(m, p.stderr, p.stderr)
        if check:
            self.assertEqual(p.returncode, 0, '%s -> %d\n%s\n%s'
                             % (args, p.returncode, p.stdout, p.stderr))
        return p

    def set_upstream(self, *extra, url=None, ca=True):
        args = ['upstream', 'set', url or self.url()]
        if ca:
            args += ['--ca', self.up.ca]
        self.down.set_conf('sync_keytab', self.ds1_kt)
        self.down.set_conf('sync_account_name', 'ds1.corp.example')
        return self.wsusutil(self.down, *args, *extra)

    def sync(self, check=True, keytab=None, env_extra=None):
        if keytab is not None:
            self.down.set_conf('sync_keytab', keytab)
        return self.wsusutil(self.down, 'sync', '--wait', check=check,
                             env_extra=env_extra)

    def publish(self, title, payload=INSTALL_SH, approve=True):
        work = tempfile.mkdtemp(prefix='pub-', dir=self.up.base)
        cab = wc.make_cab(work, 'install.sh', payload,
                          re.sub(r'\W', '_', title) + '.cab')
        rules = os.path.join(work, 'linux.rules')
        with open(rules, 'w') as f:
            f.write('[installable]\nnot windows >= 0.0\n')
        out = self.wsusutil(self.up, 'publish', cab, '--title', title,
                            '--product', PRODUCT, '--classification',
                            'Updates', '--arguments', '$MARKER',
                            '--applicability', rules).stdout
        uid = re.search(GUID, out).group(0)
        if approve:
            wc.approve(self.up, uid)
        return uid, cab

    def db(self, d):
        return sqlite3.connect(d.path('wsusd.db'))

    def revisions(self, d):
        with self.db(d) as c:
            return sorted(c.execute(
                'SELECT u.update_id, r.revision_number FROM revision r '
                'JOIN update_ u USING (update_pk)').fetchall())

    def updates(self, d):
        """{update id: title} of the non-category updates."""
        out = self.wsusutil(d, 'updates', 'list', '--json').stdout
        return {u['update_id']: u['title'] for u in json.loads(out)}

    def files(self, d):
        with self.db(d) as c:
            return {r[0].hex().upper(): r[1] for r in c.execute(
                'SELECT sha1, state FROM file')}

    def file_of(self, d, update_id):
        """(SHA-1 hex, content path) of UPDATE_ID's one file on D."""
        with self.db(d) as c:
            (sha1,), = c.execute(
                'SELECT f.sha1 FROM file f JOIN revision_file rf USING '
                '(sha1) JOIN revision r USING (revision_id) JOIN update_ u '
                'USING (update_pk) WHERE u.update_id = ?', (update_id,))
        h = sha1.hex().upper()
        paths = glob.glob(d.path('content', h[-2:], h + '*'))
        return h, paths[0] if paths else None

    def restart_up_with_fault(self, point):
        """Restarts the upstream with WSUSD_TEST_FAULT=POINT."""
        self.up.stop()
        # KrbWsusd starts the daemon with the KDC environment only.
        krb_env = self.k.env
        self.k.env = lambda extra=None: dict(krb_env(extra),
                                             WSUSD_TEST_FAULT=point)
        try:
            self.up.start()
        finally:
            self.k.env = krb_env

    def status(self):
        return json.loads(self.wsusutil(self.down, 'sync', 'status',
                                        '--json').stdout)

    # -- tests ------------------------------------------------------------

    def test_allowed_downstream_syncs_and_agent_installs(self):
        uid, cab = self.publish('Chained Tool 1.0')
        self.set_upstream()
        out = self.sync().stdout
        self.assertIn('synchronization succeeded', out)
        ups = self.updates(self.up)
        downs = self.updates(self.down)
        self.assertIn(uid, downs)
        self.assertEqual(downs[uid], ups[uid])
        # Every revision of the upstream, categories included, once.
        self.assertEqual(self.revisions(self.down), self.revisions(self.up))
        # The metadata is the upstream's, fragment for fragment.
        q = ('SELECT r.xml_core, r.xml_extended FROM revision r JOIN '
             'update_ u USING (update_pk) WHERE u.update_id = ?')
        with self.db(self.up) as c:
            want = c.execute(q, (uid,)).fetchall()
        with self.db(self.down) as c:
            got = c.execute(q, (uid,)).fetchall()
        self.assertEqual(got, want)
        # The content, verified and byte for byte.
        sha1, upath = self.file_of(self.up, uid)
        self.assertEqual(self.files(self.down).get(sha1), 'present')
        stored = glob.glob(self.down.path('content', sha1[-2:], sha1 + '*'))
        self.assertEqual(len(stored), 1, stored)
        with open(stored[0], 'rb') as f, open(upath, 'rb') as g:
            data = f.read()
            self.assertEqual(data, g.read())
        self.assertEqual(hashlib.sha1(data).hexdigest().upper(), sha1)
        st = self.status()[0]
        self.assertEqual(st['result'], 'succeeded', st)
        self.assertGreaterEqual(st['new_revisions'], 3)
        self.assertEqual(st['files_done'], 1)
        self.assertGreater(st['metadata_bytes'], 0)
        self.assertGreater(st['content_bytes'], 0)

        # The upstream knows it by the name it gave.
        out = self.wsusutil(self.up, 'downstream', 'servers').stdout
        self.assertRegex(out, GUID + r'  ds1\.corp\.example  first ')
        # Autonomous: approvals are the downstream's own.
        wc.approve(self.down, uid)
        self.down.start()
        wc.publishing_cert(self.down)
        state = os.path.join(self.down.base, 'agent-state')
        marker = os.path.join(self.down.base, 'marker')
        cmd = [WUAGENT, '--server', 'https://127.0.0.1:%d'
               % self.down.https_port, '--ca-file', self.down.ca,
               '--state', state, '--allow-unsigned-packages']
        env = dict(os.environ, MARKER=marker)
        p = subprocess.run(cmd + ['scan'], capture_output=True, text=True,
                           timeout=180, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r'scan: 1 needed')
        p = subprocess.run(cmd + ['install'], capture_output=True, text=True,
                           timeout=180, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_second_sync_fetches_only_what_is_new(self):
        first, _ = self.publish('Chained First')
        self.set_upstream()
        self.sync()
        p = self.wsusutil(self.down, 'checkhealth', check=False)
        self.assertRegex(p.stdout, r'ok +upstream %s: last synchronization '
                         r'\S+ succeeded' % re.escape(self.url()))
        before = self.revisions(self.down)
        self.sync()
        st = self.status()[0]
        self.assertEqual(st['result'], 'succeeded', st)
        self.assertEqual(st['new_revisions'], 0, st)
        self.assertEqual(self.revisions(self.down), before)
        second, _ = self.publish('Chained Second')
        self.sync()
        st = self.status()[0]
        self.assertEqual(st['new_revisions'], 1, st)
        self.assertEqual(st['items_total'], 1, st)
        self.assertIn(second, self.updates(self.down))
        self.assertEqual(self.revisions(self.down), self.revisions(self.up))

    def test_body_naming_another_server_refused(self):
        """SECURITY.md S8: DS1$ authenticates but its GetAuthorization-
        Cookie named ds2: GetCookie is refused."""
        self.publish('Chained Impostor')
        self.up.write_list('<allow users="CORP\\DS1$,CORP\\DS2$"/>'
                           '<deny users="*"/>')
        self.up.reload()
        self.set_upstream()
        self.down.set_conf('sync_account_name', 'ds2.corp.example')
        p = self.sync(check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('InvalidAuthorizationCookie', p.stderr)
        self.assertEqual(self.updates(self.down), {})
        self.assertRegex(self.up.stderr(), r'CORP\\DS1\$ presented the '
                         r'authorization of ds2\.corp\.example')

    def test_denied_downstream_gets_nothing(self):
        self.publish('Chained Denied')
        self.set_upstream()
        p = self.sync(check=False, keytab=self.ds2_kt)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('403', p.stderr)
        self.assertEqual(self.updates(self.down), {})
        self.assertEqual(self.status()[0]['result'], 'failed')
        p = self.wsusutil(self.down, 'checkhealth', check=False)
        self.assertIn('PROBLEM upstream %s: last synchronization'
                      % self.url(), p.stdout)
        # The upstream logged who was refused and which rule decided.
        self.assertRegex(self.up.stderr(), r'CORP\\DS2\$')

    def test_no_credentials_is_401(self):
        self.publish('Chained Anonymous')
        self.set_upstream()
        p = self.sync(check=False,
                      keytab=self.k.path('missing.keytab'))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('401', p.stderr)
        self.assertEqual(self.updates(self.down), {})

    def test_untrusted_upstream_refused(self):
        self.publish('Chained Untrusted')
        # The downstream trusts another CA only.
        other = KrbWsusd(self.k)
        try:
            self.down.set_conf('sync_keytab', self.ds1_kt)
            self.down.set_conf('sync_account_name', 'ds1.corp.example')
            self.wsusutil(self.down, 'upstream', 'set', self.url(), '--ca',
                          other.ca)
        finally:
            other.cleanup()
        p = self.sync(check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('not trusted', p.stderr)
        self.assertEqual(self.updates(self.down), {})

    def test_name_mismatch_refused(self):
        self.publish('Chained Mismatch')
        # The upstream's certificate names another host.
        self.up.stop()
        self.wsusutil(self.up, 'testca', 'wrong.example', '--out',
                      self.up.path('tls', 'wrong'))
        self.up.set_conf('tls_certificate', self.up.path('tls', 'wrong.crt'))
        self.up.set_conf('tls_key', self.up.path('tls', 'wrong.key'))
        self.up.start()
        self.set_upstream()
        p = self.sync(check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('does not match', p.stderr)

    def test_plain_http_needs_no_ssl(self):
        p = self.wsusutil(self.down, 'upstream', 'set',
                          'http://localhost:%d' % self.up.http_port,
                          check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('Use SSL when synchronizing', p.stderr)

    def test_tampered_content_quarantined(self):
        uid, _ = self.publish('Chained Tampered')
        sha1, path = self.file_of(self.up, uid)
        os.chmod(path, 0o640)
        with open(path, 'r+b') as f:
            f.seek(10)
            f.write(b'\xff\xfe')
        self.set_upstream()
        p = self.sync(check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('quarantined', p.stderr)
        self.assertIn(uid, self.updates(self.down))
        self.assertEqual(self.files(self.down).get(sha1), 'quarantined')
        self.assertEqual(glob.glob(self.down.path('content', sha1[-2:],
                                                  sha1 + '*')), [])
        self.assertTrue(os.listdir(self.down.path('quarantine')))
        self.assertEqual(self.status()[0]['files_quarantined'], 1)
        # Never served by the downstream.
        self.down.start()
        name = os.path.basename(path)
        r = self.down.http('GET', '/Content/%s/%s' % (sha1[-2:], name))
        self.assertEqual(r.status, 404)

    def test_kill9_mid_sync_resumes(self):
        ids = [self.publish('Chained Kill %d' % i)[0] for i in range(3)]
        self.set_upstream()
        env = self.k.env()
        env['WSUSD_TEST_PAUSE'] = 'sync-batch'
        p = subprocess.Popen([harness.WSUSUTIL, '--data', self.down.dir,
                              'sync', '--wait'], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        deadline = time.monotonic() + SYNC_TIMEOUT
        err = ''
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            err += line
            if 'paused at sync-batch' in line or not line:
                break
        self.assertIn('paused at sync-batch', err)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()
        # Half a synchronization: staged, nothing in the catalog yet.
        self.assertEqual(self.updates(self.down), {})
        self.sync()
        self.assertEqual(set(ids) - set(self.updates(self.down)), set())
        revs = self.revisions(self.down)
        self.assertEqual(len(revs), len(set(revs)))
        self.assertEqual(revs, self.revisions(self.up))
        with self.db(self.down) as c:
            self.assertEqual(c.execute('PRAGMA integrity_check').fetchone(),
                             ('ok',))
            self.assertEqual(c.execute('SELECT count(*) FROM sync_stage')
                             .fetchone(), (0,))
        hist = self.status()
        self.assertEqual(hist[0]['result'], 'succeeded')
        self.assertEqual(hist[1]['result'], 'interrupted')

    def test_cookie_refused_mid_sync(self):
        """The upstream refuses our Cookie after the first batch
        (InvalidCookie): the downstream authorizes again and finishes."""
        uid, _ = self.publish('Chained Cookie')
        self.set_upstream()
        p = self.sync(env_extra={'WSUSD_TEST_FAULT': 'sync-cookie'})
        self.assertIn('fault injected at sync-cookie', p.stderr)
        self.assertIn('cookie refused (InvalidCookie): authorizing again',
                      p.stderr)
        self.assertIn(uid, self.updates(self.down))
        self.assertEqual(self.revisions(self.down), self.revisions(self.up))

    def test_server_changed_resets_anchors(self):
        """ServerChanged (WSUSSS.md 3): the downstream forgets its anchors
        and synchronizes everything again, storing nothing twice."""
        uid, _ = self.publish('Chained Changed')
        self.set_upstream()
        self.sync()
        with self.db(self.down) as c:
            before = c.execute('SELECT anchor_updates FROM upstream') \
                .fetchone()[0]
        self.assertTrue(before)
        self.restart_up_with_fault('sss-server-changed')
        p = self.sync()
        self.assertIn('(ServerChanged): anchors reset', p.stderr)
        st = self.status()[0]
        self.assertEqual(st['result'], 'succeeded', st)
        self.assertEqual(st['new_revisions'], 0, st)
        revs = self.revisions(self.down)
        self.assertEqual(revs, self.revisions(self.up))
        self.assertEqual(len(revs), len(set(revs)))
        self.assertIn(uid, self.updates(self.down))

    def test_vanished_revision_alerted(self):
        """SECURITY.md S8: a revision the upstream lists but will not
        deliver (one it never had, as when one expires between
        GetRevisionIdList and GetUpdateData) is dropped, and the sync
        says so: its result, `sync status`, the event log."""
        phantom = '0badf00d-0000-4000-8000-00000000dead'
        uid, _ = self.publish('Chained Vanished')
        self.set_upstream()
        self.restart_up_with_fault('sss-phantom-revision')
        p = self.sync()
        self.assertIn('1 listed revisions were not delivered', p.stderr)
        st = self.status()[0]
        self.assertEqual(st['result'], 'succeeded', st)
        self.assertEqual(st['revisions_vanished'], 1, st)
        self.assertIn('1 listed revisions were not delivered', st['message'])
        text = self.wsusutil(self.down, 'sync', 'status').stdout
        self.assertIn('1 revisions the upstream listed were not delivered',
                      text)
        self.assertIn(uid, self.updates(self.down))
        self.assertNotIn(phantom, self.updates(self.down))
        self.assertEqual(self.revisions(self.down), self.revisions(self.up))
        with self.db(self.down) as c:
            self.assertEqual(c.execute(
                "SELECT count(*) FROM event WHERE kind = "
                "'sync-revisions-vanished'").fetchone()[0], 1)
        # The next synchronization lists nothing missing: no alert.
        self.sync()
        self.assertEqual(self.status()[0]['revisions_vanished'], 0)

    def test_sync_secrets_never_logged(self):
        """SECURITY.md S19, the synchronization half: the upstream at
        log_level = debug serves two synchronizations (a Kerberos ticket
        accepted, cookies issued and renewed) to a downstream also at
        debug (wsusutil sync runs at the downstream's log_level); nothing
        that authenticates (a Negotiate token, a cookie: base64 runs of
        80 characters and more) nor the upstream's cookie key is in any
        log of either server or in wsusutil's output. Controls: the
        upstream logged the accepted ticket, and the synchronization its
        requests, at debug level."""
        self.up.stop()
        self.up.set_conf('log_level', 'debug')
        self.up.start()
        self.down.set_conf('log_level', 'debug')
        self.publish('Chained Secrets')
        self.set_upstream()
        out = []
        for _ in range(2):
            p = self.sync()
            out += [p.stdout, p.stderr]
        self.down.set_conf('log_level', 'info')
        text = '\n'.join(out) + self.up.stderr(all_runs=True)
        for d in (self.up, self.down):
            for top, _, files in os.walk(d.base):
                for f in files:
                    if f.endswith('.log') or f == 'audit.log':
                        with open(os.path.join(top, f), 'rb') as fh:
                            text += fh.read().decode(errors='replace')
        self.assertRegex(text, r'debug: negotiate: accepted DS1\$@')
        self.assertRegex(text, r'debug: sync: POST https://\S+\.asmx '
                         r'\(\S+/GetCookie\): HTTP 200')
        runs = re.findall(r'[A-Za-z0-9+/]{80,}', text)
        self.assertEqual(runs, [], 'long base64 runs in the logs')
        with open(self.up.path('tls', 'cookie.key'), 'rb') as f:
            key = f.read()
        import base64
        for k in (key.hex(), key.hex().upper(),
                  base64.b64encode(key).decode()):
            for i in range(0, max(1, len(k) - 24), 12):
                self.assertNotIn(k[i:i + 24], text)

    def test_replica_mirrors_groups_and_approvals(self):
        uid, _ = self.publish('Chained Replica', approve=False)
        self.wsusutil(self.up, 'groups', 'add', 'Ring 1')
        wc.approve(self.up, uid, 'Ring 1')
        self.set_upstream('--replica')
        self.sync()
        # The roll-up went up through the gate (Kerberos, the list): the
        # upstream knows this replica as a downstream server.
        st = self.status()[0]
        self.assertNotIn('roll-up failed', st['message'])
        with self.db(self.down) as c:
            (sid,), = c.execute("SELECT value FROM meta WHERE key = "
                                "'server_id'")
        with self.db(self.up) as c:
            self.assertIn((sid,), c.execute(
                'SELECT server_id FROM rollup_server').fetchall())
        groups = {g['name']: g for g in json.loads(self.wsusutil(
            self.down, 'groups', 'list', '--json').stdout)}
        ugroups = {g['name']: g for g in json.loads(self.wsusutil(
            self.up, 'groups', 'list', '--json').stdout)}
        self.assertIn('Ring 1', groups)
        self.assertEqual(groups['Ring 1']['id'], ugroups['Ring 1']['id'])
        with self.db(self.down) as c:
            rows = c.execute(
                'SELECT u.update_id, g.name, a.action FROM approval a '
                'JOIN update_ u USING (update_pk) JOIN target_group g '
                'USING (group_pk)').fetchall()
        self.assertEqual(rows, [(uid, 'Ring 1', 'Install')])
        # A replica's approvals and groups are the upstream's.
        for args in (('approve', uid, '--group', 'All Computers'),
                     ('decline', uid), ('groups', 'add', 'Local'),
                     ('groups', 'remove', 'Ring 1')):
            p = self.wsusutil(self.down, *args, check=False)
            self.assertEqual(p.returncode, 1, args)
            self.assertIn('is a replica of', p.stderr)
        with self.db(self.down) as c:
            self.assertEqual(c.execute('SELECT count(*) FROM approval')
                             .fetchone(), (1,))
        # Un-approved upstream -> gone downstream at the next sync.
        wc.approve(self.up, uid, 'Ring 1', '--action', 'NotApproved')
        self.sync()
        with self.db(self.down) as c:
            self.assertEqual(c.execute('SELECT count(*) FROM approval')
                             .fetchone(), (0,))

    def test_client_certificate_without_kdc(self):
        """No Kerberos at all on the downstream: a TLS client certificate
        from the CA the upstream trusts, naming a listed server."""
        uid, _ = self.publish('Chained Certificate')
        ca = CA(self.up.base, 'dsca', 'Downstream CA')
        other = CA(self.up.base, 'otherca', 'Other CA')
        self.up.stop()
        self.up.set_conf('serversync_client_ca', ca.cert)
        self.up.start()
        crt, key = ca.issue('/CN=ds1.corp.example',
                            san='DNS:ds1.corp.example')
        self.down.set_conf('sync_account_name', 'ds1.corp.example')
        self.wsusutil(self.down, 'upstream', 'set', self.url(), '--ca',
                      self.up.ca, '--client-cert', crt, '--client-key', key)
        self.sync(keytab=self.k.path('missing.keytab'))
        self.assertIn(uid, self.updates(self.down))
        self.assertRegex(self.up.stderr(),
                         r'identity CORP\\DS1\$ from client certificate')
        # Another CA's certificate for the same name: refused.
        crt2, key2 = other.issue('/CN=ds1.corp.example',
                                 san='DNS:ds1.corp.example')
        self.wsusutil(self.down, 'upstream', 'set', self.url(), '--ca',
                      self.up.ca, '--client-cert', crt2, '--client-key',
                      key2)
        p = self.sync(check=False, keytab=self.k.path('missing.keytab'))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('401', p.stderr)

    def test_cross_realm(self):
        """DS3$@EAST.EXAMPLE synchronizes from the CORP.EXAMPLE upstream
        only while the realms trust each other."""
        uid, _ = self.publish('Chained Cross Realm')
        east = getattr(Chain, 'east', None)
        if east is None:
            east = Chain.east = self.k.add_realm('EAST.EXAMPLE')
            Chain.ds3_kt = east.keytab(self.k.path('ds3.keytab'),
                                       east.add_principal('DS3$'))
        self.up.set_conf('kerberos_realm_map',
                         REALM + ' = CORP, EAST.EXAMPLE = EAST')
        self.up.write_list('<allow users="EAST\\DS3$"/><deny users="*"/>')
        self.up.stop()
        self.up.start()
        self.set_upstream()
        self.down.set_conf('sync_account_name', 'ds3.east.example')
        # No trust: EAST's KDC has no ticket for HTTP/localhost@CORP.
        p = self.sync(check=False, keytab=self.ds3_kt)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('401', p.stderr)
        self.assertEqual(self.updates(self.down), {})
        self.k.trust(east, self.a)
        try:
            self.sync(keytab=self.ds3_kt)
        finally:
            self.k.untrust(east, self.a)
        self.assertIn(uid, self.updates(self.down))
        self.assertIn('EAST\\DS3$', self.up.stderr())

    def test_scheduled_sync(self):
        uid, _ = self.publish('Chained Scheduled')
        self.set_upstream()
        # The next whole minute, local time, as wsusd.conf takes it.
        t = time.localtime(time.time() + 60)
        self.down.set_conf('sync_schedule', '%02d:%02d' % (t.tm_hour,
                                                           t.tm_min))
        self.down.start()
        deadline = time.monotonic() + 150
        rows = []
        while time.monotonic() < deadline:
            rows = [r for r in self.status() if r['result'] != 'running']
            if rows:
                break
            time.sleep(1)
        self.assertTrue(rows, 'no scheduled synchronization; wsusd:\n'
                        + self.down.stderr()[-3000:])
        self.assertEqual(rows[0]['trigger'], 'schedule', rows)
        self.assertEqual(rows[0]['result'], 'succeeded', rows)
        self.assertIn(uid, self.updates(self.down))
        self.assertIn('scheduled synchronization started',
                      self.down.stderr())

    def test_bad_schedule_refused(self):
        self.down.set_conf('sync_schedule', '25:00')
        p = subprocess.run(self.down.argv(), capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('sync_schedule', p.stderr)


if __name__ == '__main__':
    unittest.main()
