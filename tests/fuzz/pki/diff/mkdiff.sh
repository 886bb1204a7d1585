#!/bin/sh
# mkdiff.sh: the fixed PKI of the differential target fuzz_diff (root.pem, the trust anchor;
# sub.pem and its key sub.key, which signs whatever TBSCertificate the fuzzer makes) and its
# seeds in ../../corpus/diff/: the TBSCertificate of leaves of several shapes. Test data only:
# the key signs nothing outside the fuzz target. Re-run it whole (PKI and seeds belong together).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/../../corpus/diff
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$here/../../../support/openssl_pki.sh"
cat >> ext.cnf <<'CNF'
[v3_sub]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[l_plain]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
authorityKeyIdentifier=keyid
subjectAltName=DNS:a.example
[l_eku]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash
subjectAltName=DNS:b.example,IP:192.0.2.1,email:x@b.example
certificatePolicies=1.2.3.4,2.5.29.32.0
[l_ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash
nameConstraints=critical,permitted;DNS:example
[l_crit]
basicConstraints=CA:FALSE
authorityKeyIdentifier=keyid
1.2.3.4.5=critical,ASN1:NULL
[l_min]
authorityKeyIdentifier=keyid
CNF
selfsigned root "/O=certval fuzz/CN=Diff Root" v3_ca
issue sub "/O=certval fuzz/CN=Diff Sub" 5001 v3_sub root
n=1
for p in l_plain l_eku l_ca l_crit l_min; do
	issue "$p" "/O=certval fuzz/CN=$p.example" "60$n$n" "$p" sub
	openssl x509 -in "$p.pem" -outform DER -out "$p.der"
	# the TBSCertificate: the first element inside the Certificate SEQUENCE
	python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
def hdr(b, i):
    l = b[i + 1]
    if l < 0x80:
        return 2, l
    n = l & 0x7F
    return 2 + n, int.from_bytes(b[i + 2:i + 2 + n], "big")
h, _ = hdr(d, 0)
th, tl = hdr(d, h)
open(sys.argv[2], "wb").write(d[h:h + th + tl])' "$p.der" "$corpus/$p.tbs"
	n=$((n + 1))
done
cp root.pem sub.pem sub.key "$here/"
