#!/usr/bin/env python3
"""wsusutil export / import (issue #4 item 7, SECURITY.md S16 and S24).

A realistic catalog is published on a source server (gcab-built CABs
signed by `wsusutil publish`: an update, one superseding it, one needing
it as a prerequisite, a declined one, two custom groups and approvals with
a deadline), exported, and imported into fresh data directories: the
catalog, fragments, approvals and content must come out the same; a second
import changes nothing; tampered, truncated, oversized, malformed,
unknown-version and self-contradictory packages and compression bombs are
refused with the reason in the log and nothing changed; kill -9 before the
commit leaves the old state; trusted exporters decide whose signed
packages are accepted."""

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wusp_client as wc  # noqa: E402

SECURITY = '0fa1201d-4330-4fa8-8ae9-b877473b6441'
TABLES = ('update_', 'revision', 'revision_localized', 'file',
          'revision_file', 'revision_category', 'prerequisite',
          'bundle_member', 'supersedes', 'target_group', 'approval', 'event')


def wsusutil(d, *args, env=None, timeout=300):
    cmd = [harness.WSUSUTIL, '--data', d] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    err = p.stderr.decode()
    # A sanitizer report fails the test whatever the exit status says
    # (UBSan goes on; an ASan abort exits 1 like a refusal).
    for marker in harness.SANITIZER_MARKERS:
        if marker in err:
            raise AssertionError('sanitizer report from %r:\n%s' %
                                 (args, err))
    return p.returncode, p.stdout.decode(), err


def db_rows(d, sql, *args):
    c = sqlite3.connect(os.path.join(d, 'wsusd.db'))
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def snapshot(d):
    """Every catalog table and the content directory, for 'nothing
    changed' checks."""
    if not os.path.exists(os.path.join(d, 'wsusd.db')):
        return None
    rows = [db_rows(d, 'SELECT * FROM %s ORDER BY 1, 2' % t) for t in TABLES]
    files = []
    for r, _, fs in os.walk(os.path.join(d, 'content')):
        if os.path.basename(r) == '.tmp':
            continue
        files += [os.path.relpath(os.path.join(r, f), d) for f in fs]
    return rows, sorted(files)


def catalog(d):
    """The catalog as data independent of server-local ids: every
    revision with its fragments byte for byte and all it carries."""
    revs = db_rows(d, """
        SELECT u.update_id, r.revision_number, u.update_type,
               coalesce(u.category_type, ''), u.declined, r.is_latest,
               r.explicitly_deployable, r.is_leaf, r.is_bundle,
               coalesce(r.kb_article, ''), coalesce(r.msrc_severity, ''),
               coalesce(r.eula_id, ''), r.title, r.xml_core,
               coalesce(r.xml_extended, x''), r.revision_id
        FROM revision r JOIN update_ u USING (update_pk)""")
    out = {}
    for row in revs:
        rid = row[-1]
        key = (row[0], row[1])
        out[key] = {
            'fields': row[2:-1],
            'localized': sorted(db_rows(
                d, 'SELECT language, title, xml FROM revision_localized '
                'WHERE revision_id = ?', rid)),
            'files': sorted(db_rows(
                d, 'SELECT f.sha1, f.sha256, f.size, f.file_name, '
                'f.modified, f.patching_type FROM revision_file rf JOIN file '
                'f USING (sha1) WHERE rf.revision_id = ?', rid)),
            'categories': sorted(db_rows(
                d, 'SELECT category_id FROM revision_category WHERE '
                'revision_id = ?', rid)),
            'prereqs': sorted(db_rows(
                d, 'SELECT clause, update_id, is_category FROM prerequisite '
                'WHERE revision_id = ?', rid)),
            'bundle': sorted(db_rows(
                d, 'SELECT clause, update_id, revision_number FROM '
                'bundle_member WHERE revision_id = ?', rid)),
            'supersedes': sorted(db_rows(
                d, 'SELECT superseded_id FROM supersedes WHERE '
                'revision_id = ?', rid)),
        }
    return out


def listing(d, *args):
    rc, out, err = wsusutil(d, *args)
    if rc != 0:
        raise AssertionError('%r: %s' % (args, err))
    return json.loads(out)


def strip(rows, *keys):
    return [{k: v for k, v in r.items() if k not in keys} for r in rows]


# ------------------------------------------------------------ packages

def read_doc(path):
    with gzip.open(path, 'rb') as f:
        return f.read()


def fix_manifest(doc):
    """Recomputes bytes= and sha256= as a forger would, and drops the
    signature the forger cannot redo (without trusted exporters an
    unsigned package is accepted, so the checks after the manifest are
    what stands in the way)."""
    doc = re.sub(rb'<Signature [^>]*>[A-Za-z0-9+/=]*</Signature>\n', b'',
                 doc)
    m = doc.rfind(b'<Manifest ')
    head = doc[:m]
    end = doc.index(b'/>', m)
    old = doc[m:end]
    new = re.sub(rb'bytes="\d+"', b'bytes="%d"' % len(head), old)
    new = re.sub(rb'sha256="[0-9a-f]{64}"',
                 b'sha256="' + hashlib.sha256(head).hexdigest().encode() +
                 b'"', new)
    return head + new + doc[end:]


def write_doc(path, doc, fix=True):
    if fix:
        doc = fix_manifest(doc)
    with open(path, 'wb') as f:
        f.write(gzip.compress(doc, 6))


def edit_core(doc, update_id, fn):
    """Applies FN to the decoded core fragment of UPDATE_ID's revision."""
    i = doc.index(b'<Update id="%s"' % update_id.encode())
    a = doc.index(b'<Core>', i) + 6
    b = doc.index(b'</Core>', a)
    core = fn(base64.b64decode(doc[a:b]))
    return doc[:a] + base64.b64encode(core) + doc[b:]


# zlib's crc32_combine, for the trailer of a bomb too large to hash.
def _gf2_times(mat, vec):
    s = 0
    i = 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    if len2 <= 0:
        return crc1
    odd = [0xedb88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if len2 == 0:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if len2 == 0:
            break
    return crc1 ^ crc2


def gzip_bomb(path, head, byte, total):
    """A single-member gzip of HEAD and TOTAL bytes of BYTE, written in
    seconds: after a full flush deflate restarts, so compressing the same
    chunk again gives the same block, which is written TOTAL/CHUNK times.
    Equivalent to `(printf HEAD; head -c TOTAL /dev/zero) | gzip -9`."""
    chunk = 16 << 20
    data = byte * chunk
    assert total % chunk == 0
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = c.compress(head + data) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    crc_chunk = zlib.crc32(data)
    crc = zlib.crc32(head + data)
    n = total // chunk
    with open(path, 'wb') as f:
        f.write(first)
        for _ in range(n - 1):
            f.write(block)
            crc = crc32_combine(crc, crc_chunk, chunk)
        f.write(b'\x03\x00')  # an empty final fixed-Huffman block
        f.write(struct.pack('<II', crc & 0xffffffff,
                            (len(head) + total) & 0xffffffff))


class ExportImport(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix='wsusd-expimp-')
        cls.src = os.path.join(cls.base, 'source')
        os.mkdir(cls.src, 0o750)
        rc, _, err = wsusutil(cls.src, 'publishingcert', 'create')
        assert rc == 0, err
        cls.ids = {}
        cls.ids['a'] = cls.publish('a.cab', b'first payload\n', 'Contoso A')
        cls.ids['b'] = cls.publish('b.cab', b'second payload\n',
                                   'Contoso B "quoted" & <tagged>',
                                   '--supersedes', cls.ids['a'])
        cls.ids['c'] = cls.publish('c.cab', b'third payload\n', 'Contoso C',
                                   '--prerequisite', cls.ids['b'])
        cls.ids['d'] = cls.publish('d.cab', b'fourth payload\n',
                                   'Contoso D (declined)')
        for args in (('groups', 'add', 'Ring 1'),
                     ('groups', 'add', 'Ring 1a', '--parent', 'Ring 1'),
                     ('approve', cls.ids['b'], '--group', 'Ring 1',
                      '--deadline', '2026-12-31T08:00'),
                     ('approve', cls.ids['c'], '--group', 'Ring 1a'),
                     ('approve', cls.ids['a'], '--group', 'Ring 1a',
                      '--action', 'uninstall'),
                     ('decline', cls.ids['d'])):
            rc, _, err = wsusutil(cls.src, *args)
            assert rc == 0, (args, err)
        cls.before_export = snapshot(cls.src)
        cls.pkg = cls.export('full.gz', '--with-approvals')
        cls.pkg_content = cls.export('content.gz', '--with-approvals',
                                     '--with-content')
        cls.pkg_meta = cls.export('meta.gz')

    @classmethod
    def tearDownClass(cls):
        if os.environ.get('WSUSD_INTEG_KEEP'):
            sys.stderr.write('kept %s\n' % cls.base)
        else:
            shutil.rmtree(cls.base)

    @classmethod
    def publish(cls, name, payload, title, *extra):
        cab = wc.make_cab(cls.base, name + '.txt', payload, name)
        rc, out, err = wsusutil(cls.src, 'publish', cab, '--title', title,
                                '--product', 'Contoso Suite',
                                '--classification', 'Security Updates',
                                '--kb', '5000123', '--severity', 'Important',
                                *extra)
        assert rc == 0, err
        return out.strip()

    @classmethod
    def export(cls, name, *flags):
        path = os.path.join(cls.base, name)
        log = path + '.log'
        t0 = time.monotonic()
        rc, out, err = wsusutil(cls.src, 'export', path, log, *flags)
        if rc != 0:
            with open(log) as f:
                raise AssertionError(err + f.read())
        sys.stderr.write('export %s: %.2f s, %d bytes\n' %
                         (name, time.monotonic() - t0,
                          os.path.getsize(path)))
        return path

    def fresh(self, name):
        d = os.path.join(self.base, name)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.mkdir(d, 0o750)
        # An initialised, empty catalog to compare against.
        rc, _, err = wsusutil(d, 'groups', 'list')
        self.assertEqual(rc, 0, err)
        return d

    def do_import(self, d, pkg, env=None):
        log = os.path.join(self.base, 'import-%s.log' %
                           os.path.basename(d))
        t0 = time.monotonic()
        rc, out, err = wsusutil(d, 'import', pkg, log, env=env)
        dt = time.monotonic() - t0
        with open(log) as f:
            text = f.read()
        return rc, out, err, text, dt

    def assert_refused(self, d, pkg, reason, maxtime=None):
        before = snapshot(d)
        rc, out, err, log, dt = self.do_import(d, pkg)
        self.assertEqual(rc, 1, (out, err, log))
        self.assertIn(reason, log)
        self.assertIn(reason, err)
        self.assertRegex(log, r'REFUSED: ')
        self.assertIn('nothing was imported', log)
        self.assertEqual(snapshot(d), before, 'refused import changed '
                         'the store: ' + reason)
        self.assertEqual(db_rows(d, 'PRAGMA integrity_check'), [('ok',)])
        if maxtime is not None:
            self.assertLess(dt, maxtime, reason)
        return log

    def assert_same_catalog(self, d):
        self.assertEqual(catalog(d), catalog(self.src))
        for args in (('updates', 'list', '--json', '--declined'),
                     ('updates', 'list', '--json', '--categories')):
            self.assertEqual(strip(listing(d, *args), 'revision_id',
                                   'origin'),
                             strip(listing(self.src, *args), 'revision_id',
                                   'origin'), args)

    # -------------------------------------------------------- tests

    def test_export_leaves_source_alone(self):
        self.assertEqual(snapshot(self.src), self.before_export)
        doc = read_doc(self.pkg)
        self.assertTrue(doc.startswith(b'<WsusdPackage version="1" '))
        self.assertTrue(doc.endswith(b'</WsusdPackage>\n'))
        with open(self.pkg + '.log') as f:
            log = f.read()
        self.assertIn('manifest: ', log)
        self.assertIn('signed with the publishing certificate', log)
        # No temporary file is left beside the packages.
        self.assertEqual([f for f in os.listdir(self.base)
                          if f.startswith('.')], [])

    def test_round_trip_with_approvals(self):
        d = self.fresh('rt')
        rc, out, err, log, dt = self.do_import(d, self.pkg)
        self.assertEqual(rc, 0, err + log)
        sys.stderr.write('import: %.2f s\n' % dt)
        self.assert_same_catalog(d)
        # Locally published updates arrive as imported ones.
        ups = {u['update_id']: u for u in
               listing(d, 'updates', 'list', '--json', '--declined')}
        self.assertEqual(ups[self.ids['b']]['origin'], 'import')
        self.assertTrue(ups[self.ids['d']]['declined'])
        self.assertEqual(ups[self.ids['a']]['superseded_by'], 1)
        # Approvals, deadline included; groups by name and parent.
        self.assertEqual(
            strip(listing(d, 'updates', 'approvals', '--json'), 'created'),
            strip(listing(self.src, 'updates', 'approvals', '--json'),
                  'created'))
        self.assertEqual(
            sorted((g['name'], g['parent']) for g in
                   listing(d, 'groups', 'list', '--json')),
            sorted((g['name'], g['parent']) for g in
                   listing(self.src, 'groups', 'list', '--json')))
        self.assertIn('2026-12-31T08:00:00Z', json.dumps(
            listing(d, 'updates', 'approvals', '--json')))
        # Metadata only: the files are known and missing.
        self.assertEqual(set(r[0] for r in db_rows(d, 'SELECT state FROM '
                                                   'file')), {'missing'})
        self.assertEqual(db_rows(d, 'PRAGMA integrity_check'), [('ok',)])
        self.assertEqual(db_rows(d, "SELECT count(*) FROM event WHERE "
                                 "kind = 'import'"), [(1,)])
        self.assertIn('import complete', log)

    def test_local_decline_wins(self):
        d = self.fresh('localdecline')
        self.assertEqual(self.do_import(d, self.pkg_meta)[0], 0)
        c = self.ids['c']
        self.assertEqual(wsusutil(d, 'decline', c)[0], 0)
        rc, out, err, log, _ = self.do_import(d, self.pkg)
        self.assertEqual(rc, 0, err + log)
        self.assertIn('approval skipped: %s' % c, log)
        self.assertIn('update is declined', log)
        ups = {u['update_id']: u for u in
               listing(d, 'updates', 'list', '--json', '--declined')}
        self.assertTrue(ups[c]['declined'])
        appr = listing(d, 'updates', 'approvals', '--json')
        self.assertNotIn(c, [a['update_id'] for a in appr])
        self.assertIn(self.ids['b'], [a['update_id'] for a in appr])

    def test_second_import_is_a_noop(self):
        d = self.fresh('twice')
        self.assertEqual(self.do_import(d, self.pkg_content)[0], 0)
        before = snapshot(d)
        rc, out, err, log, dt = self.do_import(d, self.pkg_content)
        self.assertEqual(rc, 0, err + log)
        self.assertIn('nothing to import', log)
        self.assertIn('0 new revisions', out)
        self.assertEqual(snapshot(d), before)
        # A metadata-only package over it changes nothing either.
        self.assertEqual(self.do_import(d, self.pkg)[0], 0)
        self.assertEqual(snapshot(d), before)

    def test_with_content(self):
        d = self.fresh('content')
        rc, out, err, log, dt = self.do_import(d, self.pkg_content)
        self.assertEqual(rc, 0, err + log)
        self.assert_same_catalog(d)
        self.assertIn('4 content files stored', out)
        # Same files at the same WsusContent paths, verified and present.
        src_files = snapshot(self.src)[1]
        self.assertEqual(snapshot(d)[1], src_files)
        for rel in src_files:
            with open(os.path.join(d, rel), 'rb') as f:
                data = f.read()
            self.assertEqual(hashlib.sha1(data).hexdigest().upper(),
                             os.path.basename(rel).split('.')[0])
        self.assertEqual(set(r[0] for r in db_rows(d, 'SELECT state FROM '
                                                   'file')), {'present'})
        rc, out, _ = wsusutil(d, 'reset')
        self.assertIn('4 verified, 0 missing, 0 quarantined', out)

    def test_content_copied_separately(self):
        # As WSUS: metadata by import, WsusContent copied by hand, then
        # reset verifies every file and marks it present.
        d = self.fresh('copied')
        self.assertEqual(self.do_import(d, self.pkg_meta)[0], 0)
        shutil.copytree(os.path.join(self.src, 'content'),
                        os.path.join(d, 'content'), dirs_exist_ok=True)
        rc, out, _ = wsusutil(d, 'reset')
        self.assertEqual(rc, 0)
        self.assertIn('4 verified', out)
        self.assertEqual(set(r[0] for r in db_rows(d, 'SELECT state FROM '
                                                   'file')), {'present'})

    def test_tampered_refused(self):
        d = self.fresh('tamper')
        doc = read_doc(self.pkg)
        # A title edited, re-compressed with a valid gzip CRC.
        bad = os.path.join(self.base, 'tampered.gz')
        write_doc(bad, doc.replace(b'title="Contoso C"',
                                   b'title="Contoso X"', 1), fix=False)
        log = self.assert_refused(d, bad, 'package digest does not match '
                                  'its manifest')
        self.assertIn('altered after export', log)
        # One byte of the compressed file flipped.
        with open(self.pkg, 'rb') as f:
            raw = bytearray(f.read())
        raw[len(raw) // 2] ^= 0x40
        flip = os.path.join(self.base, 'flipped.gz')
        with open(flip, 'wb') as f:
            f.write(raw)
        rc, _, err, log, _ = self.do_import(d, flip)
        self.assertEqual(rc, 1)
        self.assertRegex(log, r'REFUSED: (corrupt compressed data|package '
                         r'digest does not match its manifest)')
        # A record removed, the rest untouched.
        cut = os.path.join(self.base, 'removed.gz')
        i = doc.index(b'<Approval ')
        j = doc.index(b'\n', i) + 1
        write_doc(cut, doc[:i] + doc[j:], fix=False)
        self.assert_refused(d, cut, 'package length does not match its '
                            'manifest')
        self.assertIsNotNone(snapshot(d))

    def test_fragments_disagree(self):
        d = self.fresh('disagree')
        doc = read_doc(self.pkg)
        cases = [
            # The core fragment names another revision.
            (edit_core(doc, self.ids['c'], lambda c: c.replace(
                b'RevisionNumber="100"', b'RevisionNumber="101"')),
             'core fragment names another revision'),
            # ... another update.
            (edit_core(doc, self.ids['c'], lambda c: c.replace(
                self.ids['c'].encode(), self.ids['a'].encode())),
             'core fragment names another update'),
            # A File digest that is not the extended fragment's.
            (re.sub(rb'(<File sha1=")([0-9A-F])', lambda m: m.group(1) + (
                b'0' if m.group(2) != b'0' else b'1'), doc, count=1),
             'file digest differs from the extended fragment'),
            # A superseded update the fragment does not list.
            (doc.replace(b'<Supersedes id="%s"/>' % self.ids['a'].encode(),
                         b'<Supersedes id="%s"/>' % self.ids['c'].encode(),
                         1), 'superseded updates differ from the core '
             'fragment'),
        ]
        for n, (bad_doc, reason) in enumerate(cases):
            self.assertNotEqual(bad_doc, doc, reason)
            bad = os.path.join(self.base, 'disagree-%d.gz' % n)
            write_doc(bad, bad_doc)
            self.assert_refused(d, bad, reason)

    def test_bad_input(self):
        d = self.fresh('bad')
        doc = read_doc(self.pkg)
        cases = []
        p = os.path.join(self.base, 'notgzip.gz')
        with open(p, 'wb') as f:
            f.write(b'<WsusdPackage version="1">\n')
        cases.append((p, 'corrupt compressed data'))
        p = os.path.join(self.base, 'truncated.gz')
        with open(self.pkg, 'rb') as f:
            raw = f.read()
        with open(p, 'wb') as f:
            f.write(raw[:len(raw) * 2 // 3])
        cases.append((p, 'package is truncated'))
        p = os.path.join(self.base, 'truncdoc.gz')
        write_doc(p, doc[:len(doc) // 2], fix=False)
        cases.append((p, 'package has no manifest at its end'))
        p = os.path.join(self.base, 'v2.gz')
        write_doc(p, doc.replace(b'version="1"', b'version="2"', 1))
        cases.append((p, 'unknown package version'))
        p = os.path.join(self.base, 'longtitle.gz')
        write_doc(p, doc.replace(b'title="Contoso C"',
                                 b'title="' + b'C' * 70000 + b'"', 1))
        cases.append((p, 'string longer than 64 KiB (PKG_MAX_STRING)'))
        p = os.path.join(self.base, 'bigfragment.gz')
        write_doc(p, edit_core(doc, self.ids['c'], lambda c: c + b' ' *
                               (1100 * 1024)))
        cases.append((p, 'fragment larger than 1 MiB'))
        p = os.path.join(self.base, 'doctype.gz')
        write_doc(p, doc.replace(b'\n<Group ', b'\n<!-- x -->\n<Group ', 1))
        cases.append((p, 'comment in package'))
        p = os.path.join(self.base, 'badguid.gz')
        write_doc(p, doc.replace(b'<Update id="%s"' % self.ids['c'].encode(),
                                 b'<Update id="not-a-guid"', 1))
        cases.append((p, 'malformed GUID'))
        p = os.path.join(self.base, 'missing.gz')
        cases.append((p, 'cannot read'))
        for path, reason in cases:
            self.assert_refused(d, path, reason, maxtime=60)
        # Pass 1 runs before the database is opened: a refused package
        # leaves an empty data directory empty.
        empty = os.path.join(self.base, 'empty')
        os.makedirs(empty, exist_ok=True)
        rc, _, err = wsusutil(empty, 'import', cases[0][0],
                              os.path.join(self.base, 'empty.log'))
        self.assertEqual(rc, 1, err)
        # Only the audit log's record of the attempt (docs/ADMIN.md).
        self.assertEqual([f for f in os.listdir(empty) if f != 'audit.log'],
                         [])
        # Usage errors.
        self.assertEqual(wsusutil(d, 'import', self.pkg)[0], 2)
        self.assertEqual(wsusutil(d, 'export', 'x')[0], 2)
        self.assertEqual(wsusutil(d, 'export', 'x', 'y', '--bogus')[0], 2)

    def test_compression_bombs(self):
        d = self.fresh('bombs')
        # The generator is right: a small one decompresses as it says.
        small = os.path.join(self.base, 'small-bomb.gz')
        gzip_bomb(small, b'<x>', b' ', 48 << 20)
        self.assertEqual(read_doc(small), b'<x>' + b' ' * (48 << 20))
        # head -c 10G /dev/zero | gzip: not a package from its first byte.
        zeros = os.path.join(self.base, 'zeros.gz')
        gzip_bomb(zeros, b'', b'\0', 10 << 30)
        self.assertLess(os.path.getsize(zeros), 64 << 20)
        log = self.assert_refused(d, zeros, 'not a wsusd package',
                                  maxtime=10)
        # A valid head, then 10 GiB of blanks: the ratio cap stops it.
        head = (b'<WsusdPackage version="1" created="" exporter="" '
                b'approvals="false" content="false">\n')
        blanks = os.path.join(self.base, 'blanks.gz')
        gzip_bomb(blanks, head, b' ', 10 << 30)
        log = self.assert_refused(d, blanks, 'compression ratio exceeds '
                                  'the cap', maxtime=10)
        self.assertIn('compression bomb', log)
        # The same head and 10 GiB of zeros (pass 1 does not parse XML,
        # so it is the cap, not the NUL bytes, that stops it).
        zhead = os.path.join(self.base, 'zeros-head.gz')
        gzip_bomb(zhead, head, b'\0', 10 << 30)
        self.assert_refused(d, zhead, 'compression ratio exceeds the cap',
                            maxtime=10)
        # The same inside a content chunk.
        chunk = os.path.join(self.base, 'chunk.gz')
        gzip_bomb(chunk, head.replace(b'content="false"', b'content="true"')
                  + b'<Content sha1="00"><Chunk>', b'A', 10 << 30)
        self.assert_refused(d, chunk, 'compression ratio exceeds the cap',
                            maxtime=10)

    def kill_at(self, d, pkg, point):
        env = dict(os.environ, WSUSD_TEST_PAUSE=point)
        log = os.path.join(self.base, 'killed.log')
        p = subprocess.Popen([harness.WSUSUTIL, '--data', d, 'import', pkg,
                              log], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 120
        line = b''
        while time.monotonic() < deadline and b'paused at' not in line:
            line = p.stderr.readline()
            if not line and p.poll() is not None:
                break
        self.assertIn(('paused at ' + point).encode(), line)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()

    def test_kill9_before_commit(self):
        d = self.fresh('kill')
        # Old state: something imported already.
        self.assertEqual(self.do_import(d, self.pkg_meta)[0], 0)
        before = snapshot(d)
        self.kill_at(d, self.pkg_content, 'import:before-commit')
        self.assertEqual(db_rows(d, 'PRAGMA integrity_check'), [('ok',)])
        after = snapshot(d)
        # The database is the old one; verified content may have been
        # stored (never referenced as present), as with publish.
        self.assertEqual(after[0], before[0])
        for rel in after[1]:
            with open(os.path.join(d, rel), 'rb') as f:
                self.assertEqual(hashlib.sha1(f.read()).hexdigest().upper(),
                                 os.path.basename(rel).split('.')[0])
        # And the import then goes through.
        rc, out, err, log, _ = self.do_import(d, self.pkg_content)
        self.assertEqual(rc, 0, err + log)
        self.assert_same_catalog(d)

    def test_trusted_exporters(self):
        trust_ok = self.fresh('trust-ok')
        tdir = os.path.join(trust_ok, 'tls', 'trusted-exporters')
        os.makedirs(tdir)
        pem = os.path.join(tdir, 'source.pem')
        self.assertEqual(wsusutil(self.src, 'publishingcert', 'export',
                                  pem)[0], 0)
        rc, out, err, log, _ = self.do_import(trust_ok, self.pkg)
        self.assertEqual(rc, 0, err + log)
        self.assertIn('signature verified: signed by trusted exporter', log)
        # Another server's certificate only: refused.
        other = os.path.join(self.base, 'other-server')
        os.makedirs(other, exist_ok=True)
        wsusutil(other, 'publishingcert', 'create')
        trust_no = self.fresh('trust-no')
        tdir = os.path.join(trust_no, 'tls', 'trusted-exporters')
        os.makedirs(tdir)
        shutil.copy(os.path.join(other, 'tls', 'publishing.crt'),
                    os.path.join(tdir, 'other.pem'))
        self.assert_refused(trust_no, self.pkg, 'package signer is not a '
                            'trusted exporter')
        # An unsigned package (exporter without a publishing key).
        nokey = os.path.join(self.base, 'nokey')
        if os.path.exists(nokey):
            shutil.rmtree(nokey)
        shutil.copytree(self.src, nokey)
        os.unlink(os.path.join(nokey, 'tls', 'publishing.key'))
        os.unlink(os.path.join(nokey, 'tls', 'publishing.crt'))
        unsigned = os.path.join(self.base, 'unsigned.gz')
        rc, _, err = wsusutil(nokey, 'export', unsigned, unsigned + '.log')
        self.assertEqual(rc, 0, err)
        with open(unsigned + '.log') as f:
            self.assertIn('package not signed', f.read())
        self.assert_refused(trust_ok, unsigned, 'package is not signed')
        # Without trusted exporters it is accepted, and the log says so.
        plain = self.fresh('trust-none')
        rc, out, err, log, _ = self.do_import(plain, unsigned)
        self.assertEqual(rc, 0, err + log)
        self.assertIn('package not signed', log)
        # A signature over other bytes is refused even then.
        doc = read_doc(self.pkg)
        i = doc.index(b'<Signature ')
        j = doc.index(b'">', i) + 2
        sig = bytearray(doc)
        sig[j + 10] = ord('A') if sig[j + 10] != ord('A') else ord('B')
        bad = os.path.join(self.base, 'badsig.gz')
        write_doc(bad, bytes(sig), fix=False)
        self.assert_refused(self.fresh('trust-bad'), bad,
                            'package signature does not verify')

    def test_export_refuses_missing_content(self):
        broken = os.path.join(self.base, 'broken')
        if os.path.exists(broken):
            shutil.rmtree(broken)
        shutil.copytree(self.src, broken)
        victim = sorted(snapshot(broken)[1])[0]
        os.chmod(os.path.join(broken, victim), 0o640)
        os.unlink(os.path.join(broken, victim))
        out = os.path.join(self.base, 'broken.gz')
        rc, _, err = wsusutil(broken, 'export', out, out + '.log',
                              '--with-content')
        self.assertEqual(rc, 1)
        self.assertIn('a content file is missing or changed', err)
        with open(out + '.log') as f:
            log = f.read()
        self.assertIn('REFUSED: content/%s' % os.path.relpath(
            os.path.join(broken, victim), os.path.join(broken, 'content')),
            log)
        self.assertIn('run wsusutil reset', log)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(self.base)
                          if f.startswith('.broken')], [])
        # After reset marks it missing, export leaves it out and says so.
        self.assertEqual(wsusutil(broken, 'reset')[0], 0)
        rc, _, err = wsusutil(broken, 'export', out, out + '.log',
                              '--with-content')
        self.assertEqual(rc, 0, err)
        with open(out + '.log') as f:
            self.assertIn('not included: content/', f.read())
        d = self.fresh('partial')
        rc, out_, err, log, _ = self.do_import(d, out)
        self.assertEqual(rc, 0, err + log)
        self.assertIn('3 content files stored', out_)


if __name__ == '__main__':
    unittest.main(verbosity=2)
