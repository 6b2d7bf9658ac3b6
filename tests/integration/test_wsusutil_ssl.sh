#!/usr/bin/env bash
#
# wsusutil testca and configuressl end to end: a good certificate installs;
# every bad one is refused with exit 1, names its problem, and leaves
# server.crt, server.key, wsusd.conf (and the rest of the data directory)
# byte-identical.
#
# Bad certificates come from the openssl 3.0 CLI (Debian 12): dates in the
# past or future via `openssl ca -startdate/-enddate` signed by the test CA
# (`openssl x509 -req` has no -not_before/-not_after before 3.4, and no
# faketime is needed); a self-signed leaf via `openssl req -x509`.
#
# Usage: WSUSUTIL=build-x/wsusutil tests/integration/test_wsusutil_ssl.sh
set -euo pipefail

WSUSUTIL=${WSUSUTIL:-build/wsusutil}
case $WSUSUTIL in
/*) ;;
*) WSUSUTIL=$PWD/$WSUSUTIL ;;
esac
if [ ! -x "$WSUSUTIL" ]; then
	echo "no wsusutil at $WSUSUTIL (set WSUSUTIL)" >&2
	exit 2
fi
command -v openssl >/dev/null || { echo "needs openssl" >&2; exit 2; }

T=30 # seconds any one command may take
work=$(mktemp -d /tmp/wsusd-ssl-test-XXXXXX)
bgpids=()
cleanup() {
	for p in "${bgpids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

data=$work/data
mkdir -m 0750 "$data"
pass=0
fail=0

ok() {
	echo "ok   - $1"
	pass=$((pass + 1))
}
notok() {
	echo "FAIL - $1: $2"
	fail=$((fail + 1))
}

wsusutil() {
	timeout "$T" "$WSUSUTIL" "$@"
}

# Every file in DIR with its mode and SHA-256 (no temporary files left),
# but the audit log, which records every attempt (docs/ADMIN.md).
snapshot() {
	(
		cd "$1"
		find . ! -name audit.log -printf '%p %y %m\n' | LC_ALL=C sort
		find . -type f ! -name audit.log -print0 | LC_ALL=C sort -z |
		    xargs -0 -r sha256sum
	)
}

# refuse LABEL EXPECTED-PROBLEM configuressl-arguments...
refuse() {
	local label=$1 want=$2 before after out rc=0
	shift 2
	before=$(snapshot "$data")
	out=$(wsusutil --data "$data" configuressl "$@" 2>&1) || rc=$?
	after=$(snapshot "$data")
	if [ "$rc" -ne 1 ]; then
		notok "$label" "exit $rc, want 1; output: $out"
	elif ! grep -qxF "wsusutil: configuressl: $want" <<<"$out"; then
		notok "$label" "no 'wsusutil: configuressl: $want' in: $out"
	elif [ "$before" != "$after" ]; then
		notok "$label" "data directory changed: $(diff <(echo "$before") <(echo "$after") || true)"
	else
		ok "$label"
	fi
}

# usage LABEL command-and-arguments...: exit 2, nothing changed.
usage() {
	local label=$1 before after out rc=0
	shift
	before=$(snapshot "$data")
	out=$(wsusutil --data "$data" "$@" 2>&1) || rc=$?
	after=$(snapshot "$data")
	if [ "$rc" -ne 2 ]; then
		notok "$label" "exit $rc, want 2; output: $out"
	elif [ "$before" != "$after" ]; then
		notok "$label" "data directory changed"
	else
		ok "$label"
	fi
}

mode() { stat -c %a "$1"; }

# ---- testca ----

out=$(wsusutil --data "$data" testca localhost 127.0.0.1 2>&1) || {
	echo "testca failed: $out" >&2
	exit 1
}
tls=$data/tls
if [ -s "$tls/ca.pem" ] && [ -s "$tls/testca-server.crt" ] &&
    [ "$(mode "$tls/ca.key")" = 600 ] &&
    [ "$(mode "$tls/testca-server.key")" = 600 ] &&
    [ "$(mode "$tls/testca-server.crt")" = 644 ] &&
    [ "$(mode "$tls/ca.pem")" = 644 ] &&
    [ "$(mode "$tls")" = 700 ] &&
    grep -qF "server certificate:  $tls/testca-server.crt" <<<"$out" &&
    openssl verify -CAfile "$tls/ca.pem" -purpose sslserver \
	"$tls/testca-server.crt" >/dev/null 2>&1; then
	ok "testca makes a CA and a server certificate (keys 0600)"
else
	notok "testca makes a CA and a server certificate" "$out"
fi

ca_sum=$(sha256sum <"$tls/ca.pem")
if wsusutil --data "$data" testca --rsa --days 30 --out "$work/second" \
	other.example.test >/dev/null 2>&1 &&
    [ "$(sha256sum <"$tls/ca.pem")" = "$ca_sum" ] &&
    [ "$(mode "$work/second.key")" = 600 ] &&
    openssl x509 -in "$work/second.crt" -noout -text |
    grep -q "Public-Key: (2048 bit)"; then
	ok "testca --rsa --out reuses the CA"
else
	notok "testca --rsa --out reuses the CA" "CA changed or files missing"
fi

usage "testca without NAME exits 2" testca
usage "testca with a bad NAME exits 2" testca localhost bad_name
usage "testca --days 0 exits 2" testca --days 0 localhost

# ---- configuressl: the good path ----

out=$(wsusutil --data "$data" configuressl localhost \
	--cert "$tls/testca-server.crt" --key "$tls/testca-server.key" 2>&1) ||
	true
if cmp -s "$tls/server.crt" "$tls/testca-server.crt" &&
    cmp -s "$tls/server.key" "$tls/testca-server.key" &&
    [ "$(mode "$tls/server.key")" = 600 ] &&
    [ "$(mode "$tls/server.crt")" = 644 ] &&
    grep -qx "server_name = localhost" "$data/wsusd.conf" &&
    grep -qF "SSL configured for localhost: https://localhost:8531/ (certificate valid until " <<<"$out" &&
    grep -qxF "content URL: http://localhost:8530/Content/" <<<"$out"; then
	ok "configuressl installs server.crt, server.key (0600), server_name"
else
	notok "configuressl installs" "$out"
fi

out=$(wsusutil --data "$data" configuressl localhost 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 0 ] && grep -qF "SSL configured for localhost" <<<"$out"; then
	ok "configuressl without --cert checks the installed certificate"
else
	notok "configuressl installed check" "exit $rc: $out"
fi

# ---- bad inputs ----

cadir=$work/ca
mkdir -p "$cadir/new"
: >"$cadir/index.txt"
cat >"$cadir/ca.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
database = $cadir/index.txt
new_certs_dir = $cadir/new
serial = $cadir/serial
rand_serial = yes
default_md = sha256
policy = pol
copy_extensions = copy
unique_subject = no
[ pol ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
EOF

# sign_with_testca OUT KEY START END: a localhost certificate from our CA.
sign_with_testca() {
	local out=$1 key=$2 start=$3 end=$4
	timeout "$T" openssl req -new -key "$key" -subj /CN=localhost \
	    -addext subjectAltName=DNS:localhost -out "$out.csr" 2>/dev/null
	timeout "$T" openssl ca -config "$cadir/ca.cnf" -batch -notext \
	    -extensions ext -cert "$tls/ca.pem" -keyfile "$tls/ca.key" \
	    -startdate "$start" -enddate "$end" -in "$out.csr" \
	    -out "$out" >/dev/null 2>&1
}

timeout "$T" openssl genpkey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$work/ec.key" 2>/dev/null
timeout "$T" openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 \
    -out "$work/rsa1024.key" 2>/dev/null
sign_with_testca "$work/expired.crt" "$work/ec.key" 20200101000000Z \
    20200201000000Z
sign_with_testca "$work/future.crt" "$work/ec.key" 20990101000000Z \
    21000101000000Z
sign_with_testca "$work/weak.crt" "$work/rsa1024.key" \
    "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" \
    "$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)"
sign_with_testca "$work/control.crt" "$work/ec.key" \
    "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" \
    "$(date -u -d '+90 days' +%Y%m%d%H%M%SZ)"
timeout "$T" openssl req -x509 -key "$work/ec.key" -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost \
    -addext basicConstraints=critical,CA:FALSE -days 30 \
    -out "$work/selfsigned.crt" 2>/dev/null
printf 'this is not a certificate\n%s\n' "$(head -c 300 /dev/urandom | base64)" \
    >"$work/garbage.pem"
cat "$tls/testca-server.key" "$tls/testca-server.crt" >"$work/withkey.crt"
{
	cat "$tls/testca-server.crt"
	head -c 1100000 /dev/zero | tr '\0' 'x'
} >"$work/big.crt"
mkdir "$work/adir"

crt=$tls/testca-server.crt
key=$tls/testca-server.key

refuse "wrong name" "certificate does not cover the name" \
    wsus.example.test --cert "$crt" --key "$key"
refuse "wrong name for the installed certificate" \
    "certificate does not cover the name" wsus.example.test
refuse "mismatched key" "private key does not match the certificate" \
    localhost --cert "$crt" --key "$work/second.key"
refuse "expired certificate" "certificate has expired" \
    localhost --cert "$work/expired.crt" --key "$work/ec.key"
refuse "not yet valid certificate" "certificate is not yet valid" \
    localhost --cert "$work/future.crt" --key "$work/ec.key"
refuse "nonexistent certificate file" "cannot read certificate file" \
    localhost --cert "$work/nonexistent.crt" --key "$key"
refuse "directory as certificate file" "cannot read certificate file" \
    localhost --cert "$work/adir" --key "$key"
refuse "nonexistent key file" "cannot read private key file" \
    localhost --cert "$crt" --key "$work/nonexistent.key"
refuse "directory as key file" "cannot read private key file" \
    localhost --cert "$crt" --key "$work/adir"
refuse "nonexistent chain file" "cannot read chain file" \
    localhost --cert "$crt" --key "$key" --chain "$work/nonexistent.pem"
refuse "garbage certificate" "certificate file has no PEM certificate" \
    localhost --cert "$work/garbage.pem" --key "$key"
refuse "garbage key" "private key file has no unencrypted PEM private key" \
    localhost --cert "$crt" --key "$work/garbage.pem"
refuse "self-signed certificate" "certificate chain does not verify" \
    localhost --cert "$work/selfsigned.crt" --key "$work/ec.key"
refuse "RSA-1024 key" "certificate key is too weak (needs RSA 2048+ or ECDSA P-256/P-384/P-521)" \
    localhost --cert "$work/weak.crt" --key "$work/rsa1024.key"
refuse "certificate file holding a private key" \
    "certificate file contains a private key; pass it with --key only" \
    localhost --cert "$work/withkey.crt" --key "$key"
refuse "certificate file over 1 MiB" "certificate file is larger than 1 MiB" \
    localhost --cert "$work/big.crt" --key "$key"
chmod 0644 "$tls/server.key"
refuse "installed key readable by others" \
    "installed private key is accessible by group or others; chmod 600 it" \
    localhost
chmod 0600 "$tls/server.key"

usage "configuressl without CERTIFICATENAME exits 2" configuressl
usage "configuressl --cert without --key exits 2" \
    configuressl localhost --cert "$crt"
usage "configuressl with an IPv6 name exits 2" configuressl ::1 \
    --cert "$crt" --key "$key"

if cmp -s "$tls/server.crt" "$crt" && cmp -s "$tls/server.key" "$key" &&
    [ "$(grep -c server_name "$data/wsusd.conf")" = 1 ] &&
    grep -qx "server_name = localhost" "$data/wsusd.conf"; then
	ok "after all refusals the first installation is intact"
else
	notok "first installation intact" "server.crt/key or wsusd.conf differ"
fi

# ---- no certificate installed; --chain; reload ----

data2=$work/data2
mkdir "$data2"
before=$(snapshot "$data2")
out=$(wsusutil --data "$data2" configuressl localhost 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 1 ] && [ "$before" = "$(snapshot "$data2")" ] &&
    grep -qxF "wsusutil: configuressl: no certificate installed; pass --cert and --key" <<<"$out"; then
	ok "nothing installed: refused"
else
	notok "nothing installed" "exit $rc: $out"
fi

data3=$work/data3
mkdir "$data3"
echo "no_such_key = 1" >"$data3/wsusd.conf"
before=$(snapshot "$data3")
out=$(wsusutil --data "$data3" configuressl localhost --cert "$crt" \
	--key "$key" 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 1 ] && [ "$before" = "$(snapshot "$data3")" ] &&
    grep -qxF "wsusutil: configuressl: bad wsusd.conf" <<<"$out"; then
	ok "unloadable wsusd.conf: refused"
else
	notok "unloadable wsusd.conf" "exit $rc: $out"
fi

# The openssl-ca recipe with good dates installs (so the expired and
# future refusals above were about dates only); the chain comes separately.
out=$(wsusutil --data "$data2" configuressl localhost --cert \
	"$work/control.crt" --key "$work/ec.key" --chain "$tls/ca.pem" 2>&1) &&
	rc=0 || rc=$?
if [ "$rc" -eq 0 ] &&
    cmp -s "$data2/tls/server.crt" <(cat "$work/control.crt" "$tls/ca.pem") &&
    [ "$(mode "$data2/tls/server.key")" = 600 ] &&
    [ "$(mode "$data2/tls")" = 700 ]; then
	ok "openssl-ca control certificate with --chain installs"
else
	notok "control certificate with --chain" "exit $rc: $out"
fi

# Run as root, installed files belong to the data directory's owner.
if [ "$(id -u)" = 0 ]; then
	data4=$work/data4
	mkdir "$data4"
	chown 65534:65534 "$data4"
	out=$(wsusutil --data "$data4" configuressl localhost --cert "$crt" \
		--key "$key" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ] &&
	    [ "$(stat -c %u:%a "$data4/tls/server.key")" = 65534:600 ] &&
	    [ "$(stat -c %u "$data4/tls/server.crt")" = 65534 ] &&
	    [ "$(stat -c %u:%a "$data4/tls")" = 65534:700 ]; then
		ok "as root: installed files owned by the data directory's owner"
	else
		notok "ownership as root" "exit $rc: $out"
	fi
fi

# A process whose comm is "wsusd": configuressl must send it SIGHUP.
# A subshell reaps it, so bash's "Hangup" job notice stays quiet.
cp "$(command -v sleep)" "$work/wsusd"
# env --default-signal: a runner started under nohup must not make the
# fake immune to the signal it is there to receive.
(
	env --default-signal=HUP "$work/wsusd" 60 &
	echo $! >"$work/fake.pid"
	st=0
	wait $! || st=$?
	echo "$st" >"$work/fake.status"
) 2>/dev/null &
runner=$!
bgpids+=("$runner")
for _ in $(seq 100); do # at most 10 s
	[ -s "$work/fake.pid" ] && break
	sleep 0.1
done
fake=$(cat "$work/fake.pid")
bgpids+=("$fake")
echo "$fake" >"$data2/wsusd.pid"
out=$(wsusutil --data "$data2" configuressl localhost 2>&1) && rc=0 || rc=$?
timeout "$T" tail --pid="$runner" -f /dev/null || true
st=$(cat "$work/fake.status" 2>/dev/null || echo none)
if [ "$st" = none ]; then
	kill "$fake" 2>/dev/null || true
fi
bgpids=()
if [ "$rc" -eq 0 ] && [ "$st" = 129 ] &&
    grep -qxF "wsusd (pid $fake) reloaded" <<<"$out"; then
	ok "running wsusd gets SIGHUP"
else
	notok "SIGHUP to wsusd" "exit $rc, signalled status $st: $out"
fi

# A pid file naming some other program: it is left alone.
sleep 60 &
other=$!
bgpids+=("$other")
echo "$other" >"$data2/wsusd.pid"
out=$(wsusutil --data "$data2" configuressl localhost 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 0 ] && kill -0 "$other" 2>/dev/null &&
    ! grep -qF "reloaded" <<<"$out"; then
	ok "pid file naming another program: not signalled"
else
	notok "stale pid file" "exit $rc: $out"
fi
kill "$other" 2>/dev/null || true
wait "$other" 2>/dev/null || true

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
