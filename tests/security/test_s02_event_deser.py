#!/usr/bin/env python3
"""SECURITY.md S2: ReportEventBatch with a SoapFormatter-shaped MiscData
(the CVE-2025-59287 SynchronizationUpdateErrorsKey variant).

(a) 200 KiB gadget without a cookie -> SOAP fault InvalidCookie, no event
    stored (sqlite3 count unchanged);
(b) with a valid cookie: the 200 KiB gadget is refused (fault, nothing
    stored); a small gadget is stored verbatim as text in
    client_event.misc_data, never interpreted, and `wsusutil report events
    --last 1` prints it as literal text (and as JSON); newlines and C1
    controls a client sends are shown escaped, so a report line cannot be
    forged nor the terminal driven;
and in both cases no child process and the daemon alive.
"""

import json
import os
import sqlite3
import sys
import unittest
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sec_common as sc  # noqa: E402
from sec_common import harness, wc  # noqa: E402

TARGET = 'e1da06a3-5601-43c9-bac3-52d5db701494'  # scan/000004's client

# What a SoapFormatter (System.Runtime.Serialization.Formatters.Soap)
# stream of the ObjectDataProvider gadget looks like, as ysoserial.net
# writes it; it travels escaped inside <string>.
GADGET = (
    '<SOAP-ENV:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:clr="http://schemas.microsoft.com/soap/encoding/clr/1.0" '
    'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
    '<SOAP-ENV:Body><a1:ObjectDataProvider id="ref-1" xmlns:a1="http://'
    'schemas.microsoft.com/clr/nsassem/System.Windows.Data/PresentationFr'
    'amework"><MethodName id="ref-2">Start</MethodName><ObjectInstance '
    'href="#ref-3"/></a1:ObjectDataProvider><a2:Process id="ref-3" '
    'xmlns:a2="http://schemas.microsoft.com/clr/nsassem/System.Diagnostics'
    '/System"><StartInfo><FileName>/bin/sh</FileName><Arguments>-c touch '
    '/tmp/wsusd-s2-pwned</Arguments></StartInfo></a2:Process>'
    '</SOAP-ENV:Body></SOAP-ENV:Envelope>')
MARKER = '/tmp/wsusd-s2-pwned'


def event(inst, misc):
    return ('<ReportingEvent><BasicData><TargetID><Sid>%s</Sid></TargetID>'
            '<SequenceNumber>0</SequenceNumber><TimeAtTarget>2026-10-04T15:'
            '21:00Z</TimeAtTarget><EventInstanceID>%s</EventInstanceID>'
            '<NamespaceID>1</NamespaceID><EventID>183</EventID><SourceID>101'
            '</SourceID><UpdateID><UpdateID>00000000-0000-0000-0000-'
            '000000000000</UpdateID><RevisionNumber>100</RevisionNumber>'
            '</UpdateID><Win32HResult>0</Win32HResult></BasicData>'
            '<ExtendedData><ReplacementStrings/><MiscData><string>%s'
            '</string></MiscData></ExtendedData><PrivateData/>'
            '</ReportingEvent>' % (TARGET, inst, escape(misc)))


class EventDeserialization(harness.DaemonTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = wc.Client(cls.d)
        cls.cookie = cls.c.session(register=True).cookie

    def batch(self, cookie, events):
        inner = ('<clientTime>2026-10-04T15:20:47Z</clientTime><eventBatch>'
                 '%s</eventBatch>' % ''.join(events))
        if cookie is not None:
            inner = wc.cookie_xml(cookie) + inner
        return self.c.call('ReportEventBatch', wc.envelope(
            'ReportEventBatch', wc.REPORTING, inner))

    def misc_of(self, inst):
        db = sqlite3.connect(self.d.path('wsusd.db'))
        try:
            row = db.execute('SELECT misc_data FROM client_event WHERE '
                             'event_instance_id = ?', (inst,)).fetchone()
        finally:
            db.close()
        return None if row is None else row[0]

    def after(self):
        self.assertEqual(sc.children(self.d.pid), [])
        self.assertFalse(os.path.exists(MARKER))
        sc.assert_alive(self, self.d)

    def test_a_big_gadget_without_cookie(self):
        misc = 'SynchronizationUpdateErrorsKey=' + GADGET + \
            'A' * (200 * 1024)
        before = wc.stored_events(self.d)
        inst = 'aaaaaaaa-0000-0000-0000-0000000000a1'
        for cookie in (None, 'AAAA', 'A' * 300):
            with self.subTest(cookie=cookie and cookie[:8]):
                r = self.batch(cookie, [event(inst, misc)])
                self.assertEqual(r.status, 500, r)
                self.assertEqual(sc.fault_of(r.body)[0], 'InvalidCookie', r)
        self.assertEqual(wc.stored_events(self.d), before)
        self.assertIsNone(self.misc_of(inst))
        self.after()

    def test_b_big_gadget_with_cookie_refused(self):
        misc = 'SynchronizationUpdateErrorsKey=' + GADGET + \
            'A' * (200 * 1024)
        before = wc.stored_events(self.d)
        inst = 'aaaaaaaa-0000-0000-0000-0000000000b1'
        r = self.batch(self.cookie, [event(inst, misc)])
        if r.status == 200:  # the other allowed outcome: verbatim
            self.assertEqual(self.misc_of(inst), misc)
        else:
            self.assertEqual(r.status, 500, r)
            self.assertIsNotNone(sc.fault_of(r.body)[0], r)
            self.assertEqual(wc.stored_events(self.d), before)
            self.assertIsNone(self.misc_of(inst))
        self.after()

    def test_b_small_gadget_stored_verbatim(self):
        misc = 'SynchronizationUpdateErrorsKey=' + GADGET
        inst = 'aaaaaaaa-0000-0000-0000-0000000000b2'
        before = wc.stored_events(self.d)
        r = self.batch(self.cookie, [event(inst, misc)])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(wc.text(r.body, 'ReportEventBatchResult'), 'true')
        self.assertEqual(wc.stored_events(self.d), before + 1)
        stored = self.misc_of(inst)
        self.assertIsNotNone(stored)
        self.assertIn(misc, stored)  # the literal text, unparsed
        # The administrator's view: the newest event, its text literal.
        p = harness.run_wsusutil(self.d.dir, 'report', 'events', '--last',
                                 '1')
        out = p.stdout.decode()
        self.assertIn('misc data: ' + misc, out)
        self.assertIn(inst, out)
        self.assertEqual(out.count('\n  event instance: '), 1)
        p = harness.run_wsusutil(self.d.dir, 'report', 'events', '--last',
                                 '1', '--computer', TARGET, '--json')
        rows = json.loads(p.stdout)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]['event_instance_id'], inst)
        self.assertEqual(rows[0]['misc_data'], stored)
        self.after()

    def test_report_escapes_what_clients_send(self):
        # A made-up report line after a newline, and CSI (U+009B) then
        # "2J": what would clear some terminals. XML carries both.
        misc = 'x\n2026-01-01T00:00:00Z  event 183  forged\u009b2J'
        inst = 'aaaaaaaa-0000-0000-0000-0000000000c1'
        r = self.batch(self.cookie, [event(inst, misc)])
        self.assertEqual(r.status, 200, r)
        p = harness.run_wsusutil(self.d.dir, 'report', 'events', '--last',
                                 '1')
        out = p.stdout
        self.assertNotIn(b'\xc2\x9b', out)
        self.assertIn(b'x\\n2026-01-01T00:00:00Z  event 183  forged'
                      b'\\u009b2J', out)
        self.assertNotIn(b'\n2026-01-01T00:00:00Z', out)
        rows = json.loads(harness.run_wsusutil(
            self.d.dir, 'report', 'events', '--last', '1',
            '--json').stdout)
        self.assertEqual(rows[0]['misc_data'], self.misc_of(inst))
        # Refusals name the problem.
        for args, code, text in (
                (('--last', '0'), 1, '--last takes a number'),
                (('--computer', 'no-such-host'), 1, 'unknown computer'),
                (('--bogus',), 2, 'usage')):
            p = harness.run_wsusutil(self.d.dir, 'report', 'events', *args,
                                     check=False)
            self.assertEqual(p.returncode, code, args)
            self.assertIn(text, p.stderr.decode())
        self.after()


if __name__ == '__main__':
    unittest.main(verbosity=2)
