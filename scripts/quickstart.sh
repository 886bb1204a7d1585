#!/bin/sh
# quickstart.sh: installs what certval needs, builds it, generates an example PKI, starts
# certvald on an example configuration and asks it for three verdicts (one accepted, one
# rejected as expired, one rejected as revoked by a CRL). Everything it makes lives under ./run; the daemon keeps
# running afterwards.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
run=$top/run

./scripts/setup-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

# A daemon left by an earlier quick start is stopped first.
if [ -f "$run/certvald.pid" ] && kill "$(cat "$run/certvald.pid")" 2>/dev/null; then
	sleep 0.5
fi
rm -rf "$run"
mkdir -p "$run/cache"
./scripts/example-pki.sh "$run/pki"

cat >"$run/certvald.conf" <<CONF
! Example certvald configuration (see README.md, "Configuration reference").
socket $run/certvald.sock
socket-mode 0660
cache-dir $run/cache

crypto pki trustpoint EXAMPLE-ROOT
 ca-certificate $run/pki/root.pem
 revocation-check crl
 crl file $run/pki/root.crl
 crl file $run/pki/sub.crl
CONF

./build/daemon/certvald -f -c "$run/certvald.conf" </dev/null >"$run/certvald.log" 2>&1 &
echo $! >"$run/certvald.pid"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ -S "$run/certvald.sock" ] && break
	sleep 0.25
done
[ -S "$run/certvald.sock" ] || { cat "$run/certvald.log"; exit 3; }

ctl() { ./build/ctl/certvalctl --socket "$run/certvald.sock" "$@"; }
echo "== certvalctl verify --trustpoint EXAMPLE-ROOT run/pki/good-chain.pem"
ctl verify --trustpoint EXAMPLE-ROOT "$run/pki/good-chain.pem" && echo "(exit status 0: accepted)"
echo
echo "== certvalctl verify --trustpoint EXAMPLE-ROOT run/pki/expired-chain.pem"
if ctl verify --trustpoint EXAMPLE-ROOT "$run/pki/expired-chain.pem"; then
	echo "unexpected: the expired chain was accepted" >&2
	exit 1
else
	echo "(exit status $?: rejected)"
fi
echo
echo "== certvalctl verify --trustpoint EXAMPLE-ROOT run/pki/revoked-chain.pem"
if ctl verify --trustpoint EXAMPLE-ROOT "$run/pki/revoked-chain.pem"; then
	echo "unexpected: the revoked chain was accepted" >&2
	exit 1
else
	echo "(exit status $?: rejected)"
fi
echo
echo "certvald is running (pid $(cat "$run/certvald.pid"), log $run/certvald.log)."
echo "Try: ./build/ctl/certvalctl --socket $run/certvald.sock verify --json --trustpoint EXAMPLE-ROOT run/pki/good-chain.pem"
echo "Stop it with: kill \$(cat run/certvald.pid)"
