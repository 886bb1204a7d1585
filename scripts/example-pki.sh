#!/bin/sh
# example-pki.sh DIR: generates the quick start's example PKI with certtool: a root CA, an
# intermediate CA, a server certificate that validates, one that has expired and one that its
# CA has revoked, and the two CAs' CRLs.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"

key() { certtool --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$1" 2>/dev/null; }

cert() { # cert NAME ISSUER TEMPLATE-LINES...
	name=$1 issuer=$2
	shift 2
	printf '%s\n' "$@" >"$name.tmpl"
	key "$name.key"
	if [ "$issuer" = self ]; then
		certtool --generate-self-signed --load-privkey "$name.key" --template "$name.tmpl" \
			--outfile "$name.pem" 2>/dev/null
	else
		certtool --generate-certificate --load-privkey "$name.key" \
			--load-ca-certificate "$issuer.pem" --load-ca-privkey "$issuer.key" \
			--template "$name.tmpl" --outfile "$name.pem" 2>/dev/null
	fi
	rm -f "$name.tmpl"
}

cert root self 'cn = "Example Root CA"' 'organization = "Example"' ca cert_signing_key \
	crl_signing_key 'expiration_days = 3650'
cert sub root 'cn = "Example Issuing CA"' 'organization = "Example"' ca 'path_len = 0' \
	cert_signing_key crl_signing_key 'expiration_days = 1825'
cert good sub 'cn = "vpn.example.net"' 'dns_name = "vpn.example.net"' tls_www_server \
	signing_key 'expiration_days = 365'
cert expired sub 'cn = "old.example.net"' 'dns_name = "old.example.net"' tls_www_server \
	signing_key 'activation_date = "2020-01-01 00:00:00"' \
	'expiration_date = "2021-01-01 00:00:00"'

cert revoked sub 'cn = "lost.example.net"' 'dns_name = "lost.example.net"' tls_www_server \
	signing_key 'expiration_days = 365'

# CRLs, as the CAs would publish them: the issuing CA's lists the revoked certificate.
crl() { # crl ISSUER [REVOKED-CERT]
	printf '%s\n' 'crl_next_update = 7' 'crl_number = 1' >crl.tmpl
	if [ $# -gt 1 ]; then
		certtool --generate-crl --load-ca-privkey "$1.key" --load-ca-certificate "$1.pem" \
			--load-certificate "$2.pem" --template crl.tmpl --outfile "$1.crl" 2>/dev/null
	else
		certtool --generate-crl --load-ca-privkey "$1.key" --load-ca-certificate "$1.pem" \
			--template crl.tmpl --outfile "$1.crl" 2>/dev/null
	fi
	rm -f crl.tmpl
}
crl root
crl sub revoked

# Chains as a peer sends them: its own certificate first, then the intermediate.
cat good.pem sub.pem >good-chain.pem
cat expired.pem sub.pem >expired-chain.pem
cat revoked.pem sub.pem >revoked-chain.pem
