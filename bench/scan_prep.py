#!/usr/bin/env python3
"""Prepares the SyncUpdates benchmark (bench/scan.sh).

Talks MS-WUSP to a running wsusd the way Windows does (the captured
requests of vectors/native-capture-wsus-rs with our values in them) and
writes the request bodies wrk replays:

  OUT/cold/NNNN  every page of one full software pass from an empty cache,
                 for each of COLD clients (the pages a client sends, in
                 order, each with the cache it has by then)
  OUT/warm/NNNN  one rescan with the whole cache, for each of WARM clients

Each client is one of the registered computers (bench computer ids are
GUIDs 00000000-0000-4000-8000-%012x) with its own cookie, sealed after
a scan, so what the server does for them is what it does for a client
between two scans.

  scan_prep.py PORT CA SHARED OUT COLD WARM
"""
import http.client
import os
import re
import ssl
import sys

CLIENT = 'http://www.microsoft.com/SoftwareDistribution/Server/' \
    'ClientWebService'
AUTH = 'http://www.microsoft.com/SoftwareDistribution/Server/' \
    'SimpleAuthWebService'


def computer(i):
    return '00000000-0000-4000-8000-%012x' % i


class Conn:
    def __init__(self, port, ca, shared):
        ctx = ssl.create_default_context(cafile=ca)
        self.c = http.client.HTTPSConnection('localhost', port, context=ctx,
                                             timeout=120)
        self.cap = os.path.join(shared, 'protocol', 'vectors',
                                'native-capture-wsus-rs', 'scan')

    def capture(self, n):
        with open(os.path.join(self.cap, n, 'request.body')) as f:
            return f.read()

    def post(self, action, body):
        path, ns = '/ClientWebService/client.asmx', CLIENT
        if action == 'GetAuthorizationCookie':
            path, ns = '/SimpleAuthWebService/SimpleAuth.asmx', AUTH
        self.c.request('POST', path, body.encode(), {
            'Content-Type': 'text/xml; charset=utf-8',
            'SOAPAction': '"%s/%s"' % (ns, action)})
        r = self.c.getresponse()
        data = r.read().decode()
        if r.status != 200:
            sys.exit('%s: HTTP %d: %s' % (action, r.status, data[:300]))
        return data

    def cookie(self, cid):
        lc = text(self.post('GetConfig', self.capture('000001')),
                  'LastChange')
        body = re.sub(r'<clientId>[^<]*</clientId>',
                      '<clientId>%s</clientId>' % cid,
                      self.capture('000002'))
        auth = text(self.post('GetAuthorizationCookie', body), 'CookieData')
        body = re.sub(r'<CookieData>[^<]*</CookieData>',
                      '<CookieData>%s</CookieData>' % auth,
                      self.capture('000003'))
        body = re.sub(r'<lastChange>[^<]*</lastChange>',
                      '<lastChange>%s</lastChange>' % lc, body)
        return text(self.post('GetCookie', body), 'EncryptedData')

    def sync_body(self, cookie, installed, other):
        body = re.sub(r'<EncryptedData>[^<]*</EncryptedData>',
                      '<EncryptedData>%s</EncryptedData>' % cookie,
                      self.capture('000006'))
        body = re.sub(r'<FilterCategoryIds>.*</FilterCategoryIds>', '',
                      body)
        ids = ''
        if installed:
            ids += '<InstalledNonLeafUpdateIDs>%s' \
                   '</InstalledNonLeafUpdateIDs>' % ''.join(
                       '<int>%d</int>' % i for i in installed)
        if other:
            ids += '<OtherCachedUpdateIDs>%s</OtherCachedUpdateIDs>' % \
                ''.join('<int>%d</int>' % i for i in other)
        return body.replace('</ExpressQuery>', '</ExpressQuery>' + ids, 1)


def text(body, name):
    m = re.search(r'<(?:\w+:)?%s>([^<]*)</' % name, body)
    if m is None:
        sys.exit('no %s in %s' % (name, body[:300]))
    return m.group(1)


def full_pass(c, cookie):
    """The client's loop (WUSP.md 4.1): [(installed, other)] before each
    page, the final cache and the last NewCookie."""
    installed, other, states = [], [], []
    for _ in range(1000):
        states.append((list(installed), list(other)))
        r = c.post('SyncUpdates', c.sync_body(cookie, installed, other))
        cookie = text(r, 'EncryptedData')
        nonleaf = False
        for m in re.finditer(r'<UpdateInfo><ID>(\d+)</ID>.*?<IsLeaf>(\w+)'
                             r'</IsLeaf>', r.split('<OutOfScope')[0]):
            if m.group(2) == 'false':
                installed.append(int(m.group(1)))
                nonleaf = True
            else:
                other.append(int(m.group(1)))
        if '<Truncated>false</Truncated>' in r and not nonleaf:
            return states, (installed, other), cookie
    sys.exit('software pass did not end')


def main():
    port, ca, shared, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
        sys.argv[4]
    n_cold, n_warm = int(sys.argv[5]), int(sys.argv[6])
    c = Conn(port, ca, shared)
    os.makedirs(os.path.join(out, 'cold'), exist_ok=True)
    os.makedirs(os.path.join(out, 'warm'), exist_ok=True)
    # The reference pass: every client has the same groups, so the same
    # pages (only the cookie differs).
    states, cache, _ = full_pass(c, c.cookie(computer(1)))
    n = 0
    for i in range(max(n_cold, n_warm)):
        cookie = c.cookie(computer(i + 1))
        # One rescan seals the cookie's anchor, as after a real scan.
        r = c.post('SyncUpdates', c.sync_body(cookie, *cache))
        cookie = text(r, 'EncryptedData')
        if i < n_cold:
            for st in states:
                with open(os.path.join(out, 'cold', '%06d' % n), 'w') as f:
                    f.write(c.sync_body(cookie, *st))
                n += 1
        if i < n_warm:
            with open(os.path.join(out, 'warm', '%06d' % i), 'w') as f:
                f.write(c.sync_body(cookie, *cache))
    print('pages=%d cached=%d installed_nonleaf=%d' %
          (len(states), len(cache[0]) + len(cache[1]), len(cache[0])))


if __name__ == '__main__':
    main()
