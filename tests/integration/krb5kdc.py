"""Private MIT Kerberos realms for the integration tests (stdlib only).

Not a test.  Each KrbEnv owns one temporary directory holding a krb5.conf
and one or more realms; each Realm has its own kdc.conf, database (made
with kdb5_util), principals and keytabs (made with kadmin.local) and one
krb5kdc process in the foreground (-n) listening on 127.0.0.1 only (UDP
and TCP on one free port).  Nothing outside the temporary directory is
read or written: every Kerberos command gets KRB5_CONFIG, KRB5_KDC_PROFILE,
KRB5CCNAME, KRB5_KTNAME, KRB5_CLIENT_KTNAME and KRB5RCACHEDIR in its own
environment (env()); os.environ is never changed, and /etc/krb5.conf,
/etc/krb5kdc and /var/tmp are never used.

    with KrbEnv() as k:                       # realm CORP.EXAMPLE
        a = k.realm                           # HTTP/localhost, DS1$, DS2$
        a.keytab(path, a.http)                # acceptor keytab
        a.keytab(path2, a.ds1)                # a downstream's client keytab
        b = k.add_realm('EAST.CORP.EXAMPLE')  # a second KDC
        k.trust(b, a)                         # B's clients reach A's services
        subprocess.run([...], env=k.env())

Principals are written as kadmin takes them; name() adds the realm.  The
machine accounts are upper case as Active Directory spells a
sAMAccountName ('DS1$'); Kerberos principal names are case-sensitive.

Cross-realm trust (trust(client_realm, service_realm)) adds
krbtgt/SERVICE@CLIENT with one password to both KDCs (same salt, same
kvno), which is what lets a client of CLIENT_REALM get a ticket for a
service of SERVICE_REALM.  krb5.conf lists a direct [capaths] entry for
every pair, so the client goes straight to the service realm; without the
krbtgt principals its KDC refuses (S_PRINCIPAL_UNKNOWN).

Set WSUSD_INTEG_KEEP=1 to keep the directory (its path goes to stderr),
with each KDC's kdc.log.
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = '127.0.0.1'
START_TIMEOUT = float(os.environ.get('WSUSD_KDC_START_TIMEOUT', '20'))
CMD_TIMEOUT = 60.0
ENCTYPES = 'aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96'

_SBIN = ('/usr/sbin', '/usr/bin', '/sbin', '/bin')


class KdcError(Exception):
    pass


def _die_with_parent():
    """preexec_fn: the KDC gets SIGTERM when the test process dies, even
    by SIGKILL (Linux PR_SET_PDEATHSIG), so no KDC outlives its test."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def find_tool(name):
    """Path of an MIT krb5 tool (krb5kdc, kdb5_util, kadmin.local live in
    /usr/sbin, which a non-root PATH may lack); None if not installed."""
    path = shutil.which(name)
    if path:
        return path
    for d in _SBIN:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def tools_missing():
    """Names of the tools a KrbEnv needs that are not installed (the
    Debian packages krb5-kdc, krb5-admin-server, krb5-user)."""
    return [t for t in ('krb5kdc', 'kdb5_util', 'kadmin.local', 'klist')
            if find_tool(t) is None]


def _udp_tcp_free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_kdc_port(rnd_seed=None):
    """A port in 20000-60000 free for both UDP and TCP on loopback."""
    import random
    rnd = random.Random(rnd_seed if rnd_seed is not None
                        else os.getpid() ^ int(time.time() * 1e6))
    for _ in range(500):
        n = rnd.randrange(20000, 60000)
        if _udp_tcp_free(n):
            return n
    raise KdcError('no free UDP+TCP port in 20000-60000')


class Realm:
    """One realm: database, principals, keytabs and its krb5kdc."""

    def __init__(self, env, name, master='master-' + str(os.getpid())):
        self.env_owner = env
        self.name = name
        self.dir = os.path.join(env.dir, name)
        os.mkdir(self.dir, 0o700)
        self.port = free_kdc_port()
        self.kdc_conf = os.path.join(self.dir, 'kdc.conf')
        self.log = os.path.join(self.dir, 'kdc.log')
        self.proc = None
        self._stderr = None
        self._write_kdc_conf()
        self._run([find_tool('kdb5_util'), 'create', '-s', '-r', name,
                   '-P', master], what='kdb5_util create')
        # The usual machine and service principals.
        self.http = self.add_principal('HTTP/localhost')
        self.ds1 = self.add_principal('DS1$')
        self.ds2 = self.add_principal('DS2$')

    def _write_kdc_conf(self):
        d = self.dir
        with open(self.kdc_conf, 'w') as f:
            f.write(f"""[kdcdefaults]
	kdc_listen = {HOST}:{self.port}
	kdc_tcp_listen = {HOST}:{self.port}

[realms]
	{self.name} = {{
		database_name = {d}/principal
		key_stash_file = {d}/stash
		acl_file = {d}/kadm5.acl
		kdc_listen = {HOST}:{self.port}
		kdc_tcp_listen = {HOST}:{self.port}
		kadmind_listen = {HOST}:0
		kpasswd_listen = {HOST}:0
		max_life = 10h 0m 0s
		max_renewable_life = 1d 0h 0m 0s
		master_key_type = aes256-cts-hmac-sha1-96
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}}

[logging]
	kdc = FILE:{self.log}
	admin_server = FILE:{d}/kadmin.log
	default = FILE:{d}/krb5lib.log
""")
        with open(os.path.join(d, 'kadm5.acl'), 'w') as f:
            f.write('')

    def env(self, extra=None):
        e = self.env_owner.env(extra)
        e['KRB5_KDC_PROFILE'] = self.kdc_conf
        return e

    def _run(self, argv, what, check=True):
        if argv[0] is None:
            raise KdcError(f'{what}: tool not installed '
                           '(scripts/deps: krb5-kdc krb5-admin-server krb5-user)')
        r = subprocess.run(argv, env=self.env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=CMD_TIMEOUT)
        if check and r.returncode != 0:
            raise KdcError(f'{what} ({self.name}) exited {r.returncode}: '
                           f'{r.stdout.decode(errors="replace")}'
                           f'{r.stderr.decode(errors="replace")}')
        return r

    def kadmin(self, query, check=True):
        """One kadmin.local query against this realm's database. kadmin
        reports a failed query on stderr but exits 0, so any stderr line
        but its "no policy" notice counts as a failure."""
        r = self._run([find_tool('kadmin.local'), '-r', self.name,
                       '-q', query], what=f'kadmin.local -q {query!r}',
                      check=check)
        err = [ln for ln in r.stderr.decode(errors='replace').splitlines()
               if ln.strip() and not ln.startswith('No policy specified')]
        if check and err:
            raise KdcError(f'kadmin.local -q {query!r} ({self.name}): ' +
                           ' / '.join(err))
        return r

    def name_of(self, princ):
        return princ if '@' in princ else f'{princ}@{self.name}'

    def add_principal(self, princ, password=None):
        """Creates PRINC (random key unless PASSWORD); returns its full
        name with the realm."""
        if password is None:
            self.kadmin(f'addprinc -randkey {princ}')
        else:
            self.kadmin(f'addprinc -pw {password} {princ}')
        return self.name_of(princ)

    def delete_principal(self, princ):
        self.kadmin(f'delprinc -force {princ}')

    def has_principal(self, princ):
        r = self.kadmin(f'getprinc {princ}', check=False)
        return r.returncode == 0 and b'Principal:' in r.stdout

    def keytab(self, path, *principals):
        """Appends the current keys of PRINCIPALS to the keytab PATH
        (-norandkey: the KDC keeps the same keys, so several keytabs may
        hold one principal); returns PATH."""
        if not principals:
            raise KdcError('keytab: no principal')
        for p in principals:
            self.kadmin(f'ktadd -k {path} -norandkey {p}')
        os.chmod(path, 0o600)
        return path

    # -------------------------------------------------------------- KDC

    def start(self):
        """Starts krb5kdc and waits for its port. A KDC that exits at
        once (its port taken since free_kdc_port looked) is retried on
        another port, three times at most."""
        if self.proc is not None:
            return
        for attempt in range(3):
            try:
                return self._start_once()
            except KdcError:
                if attempt == 2 or self.proc is not None:
                    raise
            self.port = free_kdc_port()
            self._write_kdc_conf()
            self.env_owner.write_conf()

    def _start_once(self):
        self._stderr = open(os.path.join(self.dir, 'krb5kdc.stderr'), 'ab')
        self.proc = subprocess.Popen(
            [find_tool('krb5kdc'), '-n', '-r', self.name],
            env=self.env(), stdin=subprocess.DEVNULL, stdout=self._stderr,
            stderr=self._stderr, start_new_session=True,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                self._stderr.close()
                self._stderr = None
                raise KdcError(f'krb5kdc for {self.name} exited {rc}: '
                               f'{self.tail()}')
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise KdcError(f'krb5kdc for {self.name} not listening on '
                       f'{HOST}:{self.port} after {START_TIMEOUT}s')

    def stop(self):
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def tail(self, n=2000):
        out = ''
        for f in (os.path.join(self.dir, 'krb5kdc.stderr'), self.log):
            try:
                with open(f, 'rb') as fh:
                    out += fh.read()[-n:].decode(errors='replace')
            except OSError:
                pass
        return out


class KrbEnv:
    """A temporary directory with a krb5.conf naming every realm in it."""

    def __init__(self, realm='CORP.EXAMPLE', start=True,
                 hosts=('localhost',)):
        missing = tools_missing()
        if missing:
            raise KdcError('MIT krb5 tools missing: ' + ', '.join(missing) +
                           ' (scripts/deps installs krb5-kdc, '
                           'krb5-admin-server, krb5-user)')
        self.realms = []
        self.closed = False
        self.dir = tempfile.mkdtemp(prefix='wsusd-krb5-')
        self.keep = os.environ.get('WSUSD_INTEG_KEEP') == '1'
        self.conf = os.path.join(self.dir, 'krb5.conf')
        self.ccache = 'FILE:' + os.path.join(self.dir, 'ccache')
        self.rcache_dir = os.path.join(self.dir, 'rcache')
        os.mkdir(self.rcache_dir, 0o700)
        self.hosts = {h: realm for h in hosts}  # host -> realm (domain_realm)
        self.trusts = []                         # (client realm, service realm)
        atexit.register(self.close)              # idempotent
        try:
            self.realm = self.add_realm(realm, start=start)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def add_realm(self, name, start=True):
        r = Realm(self, name)
        self.realms.append(r)
        self.write_conf()
        if start:
            r.start()
        return r

    def map_host(self, host, realm):
        """Puts HOST in REALM ([domain_realm]): the realm a client asks
        for when it wants HTTP/HOST."""
        self.hosts[host] = realm.name if isinstance(realm, Realm) else realm
        self.write_conf()

    def trust(self, client_realm, service_realm, password=None,
              both_ways=False):
        """Lets clients of CLIENT_REALM use services of SERVICE_REALM:
        krbtgt/SERVICE@CLIENT with the same password in both KDCs (and,
        with BOTH_WAYS, krbtgt/CLIENT@SERVICE too: a two-way forest
        trust). Returns the principal (the first one)."""
        pw = password or f'trust-{client_realm.name}-{service_realm.name}'
        princ = f'krbtgt/{service_realm.name}@{client_realm.name}'
        for r in (client_realm, service_realm):
            r.add_principal(princ, password=pw)
        self.trusts.append((client_realm.name, service_realm.name))
        if both_ways:
            self.trust(service_realm, client_realm, password=password)
        return princ

    def untrust(self, client_realm, service_realm, both_ways=False):
        """Removes what trust() added."""
        princ = f'krbtgt/{service_realm.name}@{client_realm.name}'
        for r in (client_realm, service_realm):
            if r.has_principal(princ):
                r.delete_principal(princ)
        pair = (client_realm.name, service_realm.name)
        if pair in self.trusts:
            self.trusts.remove(pair)
        if both_ways:
            self.untrust(service_realm, client_realm)

    def write_conf(self):
        realms = ''.join(f"""	{r.name} = {{
		kdc = {HOST}:{r.port}
		kdc = tcp/{HOST}:{r.port}
	}}
""" for r in self.realms)
        domain_realm = ''.join(f'	{h} = {r}\n'
                               for h, r in sorted(self.hosts.items()))
        # Direct paths between every pair of realms: no hierarchical
        # guessing through a parent realm that does not exist.
        capaths = ''
        for a in self.realms:
            inner = ''.join(f'		{b.name} = .\n'
                            for b in self.realms if b is not a)
            if inner:
                capaths += f'	{a.name} = {{\n{inner}	}}\n'
        default = self.realms[0].name if self.realms else 'CORP.EXAMPLE'
        text = f"""[libdefaults]
	default_realm = {default}
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	ignore_acceptor_hostname = false
	kdc_timeout = 3000
	max_retries = 2
	permitted_enctypes = {ENCTYPES}
	default_ccache_name = {self.ccache}
	default_keytab_name = FILE:{self.dir}/no-default.keytab
	default_client_keytab_name = FILE:{self.dir}/no-default-client.keytab

[realms]
{realms}
[domain_realm]
{domain_realm}
[capaths]
{capaths}
[logging]
	default = FILE:{self.dir}/krb5lib.log
"""
        with open(self.conf + '.tmp', 'w') as f:
            f.write(text)
        os.replace(self.conf + '.tmp', self.conf)

    def env(self, extra=None):
        """os.environ plus this directory's Kerberos variables, for one
        subprocess (never exported)."""
        e = dict(os.environ)
        for k in ('KRB5_TRACE', 'KRB5_KDC_PROFILE', 'KRB5CCNAME',
                  'KRB5_KTNAME', 'KRB5_CLIENT_KTNAME', 'KRB5RCACHEDIR',
                  'KRB5RCACHETYPE', 'KRB5RCACHENAME'):
            e.pop(k, None)
        e['KRB5_CONFIG'] = self.conf
        e['KRB5CCNAME'] = self.ccache
        e['KRB5_KTNAME'] = f'FILE:{self.dir}/no-default.keytab'
        e['KRB5_CLIENT_KTNAME'] = f'FILE:{self.dir}/no-default-client.keytab'
        e['KRB5RCACHEDIR'] = self.rcache_dir
        if os.environ.get('WSUSD_KRB5_TRACE') == '1':
            e['KRB5_TRACE'] = os.path.join(self.dir, 'trace.log')
        if extra:
            e.update(extra)
        return e

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def logs(self):
        return '\n'.join(f'--- {r.name} ---\n{r.tail()}' for r in self.realms)

    def close(self):
        """Stops every KDC and removes the directory; idempotent."""
        for r in self.realms:
            r.stop()
        if self.closed:
            return
        self.closed = True
        if self.keep:
            print(f'krb5kdc: kept {self.dir}', file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
