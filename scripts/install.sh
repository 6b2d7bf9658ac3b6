#!/bin/sh
# make install: wsusd, wsusutil and wuagent to $PREFIX/sbin (default
# /usr/local), the systemd unit to /etc/systemd/system, the system user
# wsusd and /var/lib/wsusd (0750 wsusd:wsusd). DESTDIR stages everything
# under another root (then no user is created and nothing is chowned).
# Starts nothing; runs systemctl daemon-reload only when systemd runs.
set -eu

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BUILD=${BUILD:-build}
USER_NAME=wsusd
DATA=/var/lib/wsusd
UNIT_DIR=/etc/systemd/system

cd "$(dirname "$0")/.."

for b in wsusd wsusutil wuagent; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "install.sh: $BUILD/$b missing: run 'make build' first" >&2
		exit 1
	fi
done

install -d -m 0755 "$DESTDIR$PREFIX/sbin"
for b in wsusd wsusutil wuagent; do
	install -m 0755 "$BUILD/$b" "$DESTDIR$PREFIX/sbin/$b"
	echo "installed $DESTDIR$PREFIX/sbin/$b"
done

install -d -m 0755 "$DESTDIR$UNIT_DIR"
# The unit names /usr/local/sbin; follow PREFIX.
sed "s#/usr/local/sbin/#$PREFIX/sbin/#g" packaging/wsusd.service \
	>"$DESTDIR$UNIT_DIR/wsusd.service.tmp"
chmod 0644 "$DESTDIR$UNIT_DIR/wsusd.service.tmp"
mv -f "$DESTDIR$UNIT_DIR/wsusd.service.tmp" "$DESTDIR$UNIT_DIR/wsusd.service"
echo "installed $DESTDIR$UNIT_DIR/wsusd.service"

if [ -n "$DESTDIR" ]; then
	install -d -m 0750 "$DESTDIR$DATA"
	echo "staged under $DESTDIR: create the user $USER_NAME and give it" \
	     "$DATA (0750 $USER_NAME:$USER_NAME) on the target system"
	exit 0
fi

if ! getent passwd "$USER_NAME" >/dev/null 2>&1; then
	if getent group "$USER_NAME" >/dev/null 2>&1; then
		group_opt="--gid $USER_NAME"
	else
		group_opt=--user-group
	fi
	# shellcheck disable=SC2086 # group_opt is one or two words
	useradd --system $group_opt --home-dir "$DATA" --no-create-home \
		--shell /usr/sbin/nologin "$USER_NAME"
	echo "created the system user $USER_NAME"
fi
group=$(id -gn "$USER_NAME")

if [ ! -e "$DATA" ]; then
	install -d -m 0750 -o "$USER_NAME" -g "$group" "$DATA"
	echo "created $DATA (0750 $USER_NAME:$group)"
else
	# Never chown existing data behind the administrator's back.
	owner=$(stat -c %U "$DATA")
	if [ "$owner" != "$USER_NAME" ]; then
		echo "install.sh: $DATA exists and belongs to $owner; wsusd" \
		     "refuses to start until: chown -R $USER_NAME: $DATA" >&2
	fi
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload
fi

cat <<MSG

Next steps (nothing was started):
  $PREFIX/sbin/wsusutil --data $DATA configuressl NAME --cert CERT.pem --key KEY.pem
      (run as root, wsusutil works as $USER_NAME on $DATA: CERT.pem and
      KEY.pem must be readable by $USER_NAME)
  systemctl enable --now wsusd
MSG
