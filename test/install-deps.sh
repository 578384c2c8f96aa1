#!/bin/sh
# Installs what the end-to-end tests need when it is missing: Debian's
# libvirt-clients (virsh, virt-admin), libvirt-daemon (libvirtd, whose
# storage driver the volume test uses) and python3-libvirt (for
# /usr/bin/python3, the interpreter that has the module), and the system
# tools the daemon tests drive. Quiet when all is
# there; a clear message and a non-zero exit when it cannot install.
set -u

missing=""
command -v virsh >/dev/null 2>&1 && command -v virt-admin >/dev/null 2>&1 \
  || missing="$missing libvirt-clients"
/usr/bin/python3 -c 'import libvirt' >/dev/null 2>&1 || missing="$missing python3-libvirt"
command -v setpriv >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 \
  || missing="$missing util-linux"
command -v make >/dev/null 2>&1 || missing="$missing make"
# The volume test resolves storage volumes through libvirt's own daemon.
[ -x /usr/sbin/libvirtd ] || missing="$missing libvirt-daemon"
# The activation test uses systemd's own activator; the manual page test
# renders with man and groff; the OpenRC test drives start-stop-daemon.
command -v systemd-socket-activate >/dev/null 2>&1 || missing="$missing systemd"
command -v man >/dev/null 2>&1 || missing="$missing man-db"
command -v groff >/dev/null 2>&1 || missing="$missing groff-base"
command -v start-stop-daemon >/dev/null 2>&1 || missing="$missing dpkg"

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: cannot install:$missing" >&2
  echo "install-deps: run as root: apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/tmp/virtvzd-install-deps.log 2>&1; then
  echo "install-deps: apt-get failed installing:$missing (log: /tmp/virtvzd-install-deps.log)" >&2
  tail -20 /tmp/virtvzd-install-deps.log >&2
  exit 1
fi
/usr/bin/python3 -c 'import libvirt' || { echo "install-deps: python3-libvirt still missing" >&2; exit 1; }
command -v virsh >/dev/null 2>&1 || { echo "install-deps: virsh still missing" >&2; exit 1; }
[ -x /usr/sbin/libvirtd ] || { echo "install-deps: libvirtd still missing" >&2; exit 1; }
echo "install-deps: done"
