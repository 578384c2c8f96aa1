#!/bin/sh
# make bench: installs libvirt's own daemon for the side-by-side run when it
# is missing. On Debian 12 /usr/sbin/libvirtd is in the package
# libvirt-daemon; the test driver it serves (test:///default) is built into
# libvirt.so (libvirt0), so nothing else is needed. Quiet when it is there;
# a clear message and a non-zero exit when it cannot install.
set -u

[ -x /usr/sbin/libvirtd ] && exit 0

echo "bench: installing Debian's libvirt-daemon (for /usr/sbin/libvirtd)"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench: /usr/sbin/libvirtd is missing and this is not root with apt-get" >&2
  echo "bench: run as root: apt-get install -y --no-install-recommends libvirt-daemon" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
log=/tmp/virtvzd-bench-install.log
# Another apt-get may hold the lock for a moment: try a few times.
for attempt in 1 2 3 4 5 6; do
  if apt-get install -y -qq --no-install-recommends libvirt-daemon >"$log" 2>&1 \
     || { apt-get update -qq >>"$log" 2>&1 \
          && apt-get install -y -qq --no-install-recommends libvirt-daemon >>"$log" 2>&1; }; then
    [ -x /usr/sbin/libvirtd ] && { echo "bench: libvirtd installed"; exit 0; }
  fi
  echo "bench: apt-get failed (attempt $attempt), retrying in 10 s" >&2
  sleep 10
done
echo "bench: cannot install libvirt-daemon (log: $log)" >&2
tail -20 "$log" >&2
exit 1
