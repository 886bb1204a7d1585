# openssl_pki.sh: sourced by the test scripts that build small PKIs with the openssl CLI
# (tests/ocsp/mkpki.sh, tests/fuzz/pki/mkseeds.sh): writes ext.cnf, the certificate profiles,
# into the current directory and defines key, selfsigned NAME SUBJECT PROFILE and
# issue NAME SUBJECT SERIAL PROFILE [CA].
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
