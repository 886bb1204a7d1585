#!/bin/sh
# mkpki.sh: builds the OCSP unit tests' PKI with the openssl CLI into directory $1.
#  ca.pem/key            Test CA (issues everything below)
#  leaf.pem              serial 1001, "V" in index.txt (good)
#  revoked.pem           serial 1002, "R" (2025-01-01, keyCompromise)
#  unknown.pem           serial 1003, absent from index.txt (unknown)
#  resp_nc.pem/key       delegated responder: OCSPSigning + id-pkix-ocsp-nocheck
#  resp_eku.pem/key      delegated responder: OCSPSigning, no nocheck
#  resp_noeku.pem/key    CA-issued certificate without OCSPSigning
#  ext.pem/key           unrelated self-signed responder (OCSPSigning)
#  ext_leaf.pem/key      issued by ext.pem, OCSPSigning (a responder under another PKI)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
d=$1
mkdir -p "$d"
cd "$d"
. "$here/../support/openssl_pki.sh"
selfsigned ca "/O=certval tests/CN=OCSP Test CA" v3_ca
issue leaf "/CN=leaf good" 1001 v3_leaf
issue revoked "/CN=leaf revoked" 1002 v3_leaf
issue unknown "/CN=leaf unknown" 1003 v3_leaf
issue resp_nc "/CN=responder nocheck" 2001 v3_resp_nc
issue resp_eku "/CN=responder eku" 2002 v3_resp_eku
issue resp_noeku "/CN=responder no eku" 2003 v3_leaf
selfsigned ext "/CN=external responder" v3_ext
issue ext_leaf "/CN=external responder leaf" 3001 v3_resp_eku ext
printf 'V\t300101000000Z\t\t1001\tunknown\t/CN=leaf good\n' > index.txt
printf 'R\t300101000000Z\t250101000000Z,keyCompromise\t1002\tunknown\t/CN=leaf revoked\n' >> index.txt
