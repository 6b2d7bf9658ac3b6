#!/bin/sh
# make run: data directory, test CA on first start, then wsusd in the
# foreground. WSUSD_DATA (default var) and WSUSD_PORT (default 8531).
set -eu

DATA=${WSUSD_DATA:-var}
PORT=${WSUSD_PORT:-8531}
WSUSUTIL=./build/wsusutil
WSUSD=./build/wsusd

export WSUSD_PORT="$PORT"  # wsusutil prints URLs with this port

if [ "$PORT" = 443 ]; then HTTP_PORT=80; else HTTP_PORT=$((PORT - 1)); fi

mkdir -p "$DATA"
chmod 0750 "$DATA"

FQDN=$(hostname -f 2>/dev/null || true)
case "$FQDN" in ""|*" "*) FQDN=localhost ;; esac

if [ ! -f "$DATA/tls/server.crt" ]; then
	echo "make run: no TLS yet: making a test CA for localhost and $FQDN"
	if [ "$FQDN" = localhost ]; then
		"$WSUSUTIL" --data "$DATA" testca localhost 127.0.0.1 ::1
	else
		"$WSUSUTIL" --data "$DATA" testca localhost "$FQDN" 127.0.0.1 ::1
	fi
	"$WSUSUTIL" --data "$DATA" configuressl "$FQDN" \
		--cert "$DATA/tls/testca-server.crt" \
		--key "$DATA/tls/testca-server.key"
fi

NAME=$(sed -n 's/^[[:space:]]*server_name[[:space:]]*=[[:space:]]*//p' \
	"$DATA/wsusd.conf" 2>/dev/null | tail -n 1)
NAME=${NAME:-$FQDN}

cat <<MSG

wsusd is starting.
  Client URL (web services): https://$NAME:$PORT
  Content URL:               http://$NAME:$HTTP_PORT/Content/
  CA certificate to import on clients (Trusted Root Certification
  Authorities, or the WindowsServerUpdateServices store):
                             $(cd "$DATA" && pwd)/tls/ca.pem
  Group Policy (Computer Configuration > Administrative Templates >
  Windows Components > Windows Update > Specify intranet Microsoft update
  service location):
    Set the intranet update service for detecting updates: https://$NAME:$PORT
    Set the intranet statistics server:                     https://$NAME:$PORT
  Registry equivalents (HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate):
    WUServer       = https://$NAME:$PORT
    WUStatusServer = https://$NAME:$PORT
    (and AU\\UseWUServer = 1)

MSG

exec "$WSUSD" --data "$DATA" --port "$PORT" --foreground
