#!/usr/bin/env python3
"""Prints the plain closing line 'N passed, N failed, N skipped' from a
Meson test log (testlog.json), counting cmocka and unittest cases inside
each test program where their output says, else the program itself."""
import json
import re
import sys

passed = failed = skipped = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = (t.get('stdout') or '') + '\n' + (t.get('stderr') or '')
    result = t.get('result')
    # cmocka: "[  PASSED  ] 9 test(s)."; unittest: "Ran 33 tests" + "OK"
    m_ok = re.findall(r'\[  PASSED  \] (\d+) test', out)
    m_fail = re.findall(r'\[  FAILED  \] (\d+) test', out)
    m_skip = re.findall(r'\[  SKIPPED \] (\d+) test', out)
    m_ran = re.findall(r'^Ran (\d+) tests?', out, re.M)
    m_sh = re.findall(r'^(\d+) passed, (\d+) failed', out, re.M)
    if m_ok or m_fail:
        passed += sum(map(int, m_ok))
        failed += sum(map(int, m_fail))
        skipped += sum(map(int, m_skip))
    elif m_sh:
        passed += int(m_sh[-1][0])
        failed += int(m_sh[-1][1])
    elif m_ran:
        n = int(m_ran[-1])
        f = re.search(r'FAILED \((?:failures|errors)=(\d+)(?:, (?:errors|failures)=(\d+))?', out)
        s = re.search(r'skipped=(\d+)', out)
        nf = (int(f.group(1)) + int(f.group(2) or 0)) if f else 0
        ns = int(s.group(1)) if s else 0
        if result != 'OK' and nf == 0:
            nf = 1
        failed += nf
        skipped += ns
        passed += n - nf - ns
    else:
        if result == 'OK':
            passed += 1
        elif result == 'SKIP':
            skipped += 1
        else:
            failed += 1
print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
