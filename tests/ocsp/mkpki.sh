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
d=$1
mkdir -p "$d"
cd "$d"
cat > ext.cnf <<'CNF'
[req]
distinguished_name=dn
[dn]
[v3_ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
[v3_leaf]
basicConstraints=CA:FALSE
keyUsage=digitalSignature
[v3_resp_nc]
basicConstraints=CA:FALSE
keyUsage=digitalSignature
extendedKeyUsage=OCSPSigning
noCheck=ignored
[v3_resp_eku]
basicConstraints=CA:FALSE
keyUsage=digitalSignature
extendedKeyUsage=OCSPSigning
[v3_ext]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,digitalSignature
extendedKeyUsage=OCSPSigning
subjectKeyIdentifier=hash
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
selfsigned() { # name subject extensions
	key "$1.key"
	openssl req -config ext.cnf -x509 -new -key "$1.key" -out "$1.pem" -subj "$2" \
		-days 3650 -extensions "$3" 2>/dev/null
}
issue() { # name subject serial extensions [ca]
	ca=${5:-ca}
	key "$1.key"
	openssl req -config ext.cnf -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "$ca.pem" -CAkey "$ca.key" -set_serial "0x$3" \
		-days 365 -extfile ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
}
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
