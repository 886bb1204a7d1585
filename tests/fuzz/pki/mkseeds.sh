#!/bin/sh
# mkseeds.sh: makes the fixed PKI of the fuzz targets (ca.pem, sub.pem, leaf.pem, revoked.pem
# here; fuzz_config also reads ca.pem and sub.pem) and real OCSP responses for it with
# `openssl ocsp` (signed-*.der here: the responses a legitimate signer made; all responses
# into ../corpus/ocsp). Run from anywhere; it replaces the previous PKI, so re-run it whole
# (the OCSP seeds and the PKI belong together).
#  signed-*.der  signed by the CA or by a delegated responder it certified (GOOD/REVOKED allowed)
#  bad-*.der     signed by a certificate that may not sign for the CA (must be refused)
# Requests carry the fixed nonce 00 01 .. 0f that fuzz_ocsp.c expects, or none.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/../corpus/ocsp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$here/../../support/openssl_pki.sh"
selfsigned ca "/O=certval fuzz/CN=OCSP Fuzz CA" v3_ca
issue leaf "/CN=leaf good" 1001 v3_leaf
issue revoked "/CN=leaf revoked" 1002 v3_leaf
issue sub "/O=certval fuzz/CN=Fuzz Sub CA" 4001 v3_ca
issue resp_nc "/CN=responder nocheck" 2001 v3_resp_nc
issue resp_eku "/CN=responder eku" 2002 v3_resp_eku
issue resp_noeku "/CN=responder no eku" 2003 v3_leaf
selfsigned ext "/CN=external responder" v3_ext
printf 'V\t300101000000Z\t\t1001\tunknown\t/CN=leaf good\n' > index.txt
printf 'R\t300101000000Z\t250101000000Z,keyCompromise\t1002\tunknown\t/CN=leaf revoked\n' >> index.txt

# request NAME DIGEST NONCE(yes|no): both certificates in one request
request() {
	n=-nonce
	[ "$3" = no ] && n=-no_nonce
	openssl ocsp "-$2" -issuer ca.pem -cert leaf.pem -cert revoked.pem $n -reqout "$1.req" \
		2>/dev/null
	# the random nonce (OCTET STRING of 16 in an OCTET STRING) becomes 00 01 .. 0f
	[ "$3" = yes ] && python3 - "$1.req" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
oid = bytes.fromhex("06092b0601050507300102")
i = d.index(oid) + len(oid)
assert d[i:i + 4] == bytes.fromhex("04120410"), d[i:i + 4].hex()
d[i + 4:i + 20] = bytes(range(16))
open(p, "wb").write(bytes(d))
PY
	return 0
}
# respond OUT REQ SIGNER [extra openssl options]
respond() {
	out=$1 req=$2 signer=$3
	shift 3
	openssl ocsp -index index.txt -CA ca.pem -rsigner "$signer.pem" -rkey "$signer.key" \
		-reqin "$req.req" -respout "$out" -ndays 3650 "$@" 2>/dev/null
}
request sha1n sha1 yes
request sha1 sha1 no
request sha256n sha256 yes
rm -f "$here"/signed-*.der "$corpus"/*.der
mkdir -p "$corpus"
respond "$here/signed-ca-nonce.der" sha1n ca
respond "$here/signed-ca-nononce.der" sha1 ca
respond "$here/signed-ca-keyid.der" sha1n ca -resp_key_id -resp_no_certs
respond "$here/signed-ca-sha256.der" sha256n ca
respond "$here/signed-nc.der" sha1n resp_nc
respond "$here/signed-eku.der" sha1 resp_eku -resp_key_id
respond "$corpus/bad-noeku.der" sha1n resp_noeku
respond "$corpus/bad-ext.der" sha1n ext
cp "$here"/signed-*.der "$corpus/"
printf '\060\003\012\001\003' > "$corpus/trylater.der"
printf '\060\003\012\001\006' > "$corpus/unauthorized.der"
for f in ca sub leaf revoked; do cp "$f.pem" "$here/"; done
