#!/bin/sh
# Made the certificate seeds of corpus/chain and corpus/store once (kept as data: fuzzing
# does not depend on their dates). Rerun only to change them: sh make-cert-seeds.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$1.key"; }
# cert NAME SUBJECT ISSUER EXTENSIONS: signed by ISSUER (itself when ISSUER is NAME).
cert() {
	printf '%s\n' "$4" >"$tmp/$1.ext"
	openssl req -utf8 -new -key "$tmp/$1.key" -subj "$2" -out "$tmp/$1.csr"
	if [ "$3" = "$1" ]; then
		openssl x509 -req -in "$tmp/$1.csr" -signkey "$tmp/$1.key" -days 36500 \
			-extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
	else
		openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$3.pem" -CAkey "$tmp/$3.key" \
			-set_serial 0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n') -days 36500 \
			-extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
	fi
	openssl x509 -in "$tmp/$1.pem" -outform DER -out "$tmp/$1.der"
}
ca='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign'
for k in root inter leaf twocn utf8; do key $k; done
cert root "/O=Fuzz Seeds/CN=Fuzz Root CA" root "$ca"
cert inter "/O=Fuzz Seeds/CN=Fuzz Intermediate CA" root "$ca"
cert leaf "/CN=db.example.com" inter 'subjectAltName=DNS:db.example.com,DNS:*.pg.example.com,IP:192.0.2.10,IP:2001:db8::10,email:ops@example.com'
cert twocn "/CN=other.pg.example/CN=twocn.pg.example" inter 'basicConstraints=CA:FALSE'
cert utf8 "/C=DE/O=Bücher \"GmbH\", Köln/OU=a\\+b;c<d>/CN=dß.example.com" root 'subjectAltName=DNS:xn--d-fka.example.com'
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/rsa.key" 2>/dev/null
cert rsa "/CN=rsa.example.com" rsa 'subjectAltName=DNS:rsa.example.com'

cat "$tmp/leaf.pem" "$tmp/inter.pem" "$tmp/root.pem" >chain/served-chain.pem
cat "$tmp/leaf.der" "$tmp/inter.der" "$tmp/root.der" >chain/served-chain.der
cat "$tmp/twocn.pem" "$tmp/inter.pem" >chain/two-cns.pem
cp "$tmp/utf8.der" chain/utf8-names.der
cp "$tmp/rsa.der" chain/rsa-self-signed.der
cat "$tmp/leaf.key" "$tmp/leaf.pem" >chain/key-then-cert.pem

cp "$tmp/root.pem" store/one-root.pem
# A bundle as sslrootcert files hold them: roots, an intermediate, a CRL, a trusted cert.
printf 'basicConstraints=critical,CA:TRUE\n' >"$tmp/crl.ext"
mkdir "$tmp/ca" && : >"$tmp/ca/index.txt"
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/ca/index.txt\ndefault_md=sha256\ndefault_crl_days=36500\n' \
	"$tmp" >"$tmp/ca.cnf"
openssl ca -config "$tmp/ca.cnf" -gencrl -keyfile "$tmp/root.key" -cert "$tmp/root.pem" \
	-out "$tmp/root.crl" 2>/dev/null
openssl x509 -in "$tmp/inter.pem" -trustout -addtrust serverAuth -out "$tmp/trusted.pem"
cat "$tmp/root.pem" "$tmp/root.crl" "$tmp/trusted.pem" "$tmp/rsa.pem" >store/bundle-with-crl.pem
