#!/bin/sh
# setup-deps.sh: installs the Debian 12 packages certval needs to build, run and test.
# Installs only what is missing, so a second run costs a few dpkg queries.
set -eu

# What each is for, beyond the compilers and libraries: gnutls-bin (certtool, gnutls-cli),
# openssl (test PKIs, OCSP responder), slapd and ldap-utils (LDAP servers of the tests),
# freeradius (the RADIUS server of the tests), faketime (expiry tests), util-linux (setpriv:
# tests that switch users; unshare and nsenter: the strongSwan test's namespaces), netbase
# (/etc/services and /etc/protocols, which a minimal system lacks and libraries such as libldap
# and FreeRADIUS consult), libkrad-dev (RADIUS) with
# libkrb5-dev (krad.h includes krb5.h, which Debian's libkrad-dev does not pull in) and
# libverto-dev (libkrad's event loop; it brings the libev and glib modules, and libverto1
# alone pulls libverto-libev1 on a system that only runs certvald); nginx, curl and
# python3-prometheus-client (the HTTP front tests: a real nginx, its client, a real
# Prometheus text parser); strongswan-charon (with libstrongswan, and the openssl plugin of
# libstrongswan-standard-plugins, only recommended), strongswan-swanctl and
# iproute2 (the strongSwan plugin and its tests: two charon daemons in network namespaces),
# dpkg-dev, bzip2 and xz-utils (apt-get source unpacks strongSwan's source package for the
# plugin's headers: scripts/strongswan-headers.sh); strace (the reliability test that each rename into cache-dir is
# followed by an fsync of the directory); libssl-dev (test only: the differential fuzz target
# compares the offline verdict with OpenSSL's X509_verify_cert); libclang-rt-14-dev (clang's
# libFuzzer and sanitizer runtimes, which Debian's clang only recommends: the fuzz run);
# valgrind (bench/verify_instructions.py counts instructions per verdict with callgrind; its
# smoke run is in the test suite); nettle-dev (cv_base64_decode calls nettle directly);
# libgoogle-perftools-dev (tcmalloc, certvald's malloc: daemon/allocator.c).
PACKAGES="
build-essential pkg-config meson ninja-build clang clang-format libclang-rt-14-dev
libgnutls28-dev nettle-dev libgoogle-perftools-dev libpsl-dev libcurl4-gnutls-dev libldap2-dev libevent-dev libjansson-dev
libkrad-dev libkrb5-dev libverto-dev
gnutls-bin openssl python3 slapd ldap-utils util-linux faketime netbase strace libssl-dev
freeradius
nginx curl python3-prometheus-client
valgrind
strongswan-charon strongswan-swanctl libstrongswan libstrongswan-standard-plugins iproute2
dpkg-dev bzip2 xz-utils
"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The tests start their own slapd; the packaged system service is not needed.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet slapd 2>/dev/null; then
	$SUDO systemctl stop slapd || true
fi
