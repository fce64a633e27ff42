#!/bin/sh
# Made the Java truststore seeds of corpus/javastore once with the real keytool (kept as
# data: fuzzing does not depend on their dates). Password "password", as fuzz_javastore
# tries; 1000 iterations, below the harness's limit, so decryption and MAC are reached.
# Rerun only to change them: sh make-javastore-seeds.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/r.key" \
	-subj "/O=Fuzz Seeds/CN=Fuzz Java Root" -days 36500 -out "$tmp/root.pem" 2>/dev/null
low="-J-Dkeystore.pkcs12.certPbeIterationCount=1000 -J-Dkeystore.pkcs12.keyPbeIterationCount=1000
	-J-Dkeystore.pkcs12.macIterationCount=1000"
# store FILE KEYTOOL-OPTIONS...: a trusted root and a self-signed key pair.
store() {
	f=$1
	shift
	keytool -importcert -alias root -file "$tmp/root.pem" -keystore "$tmp/$f" \
		-storepass password -noprompt "$@" >/dev/null 2>&1
	keytool -genkeypair -alias key -keyalg EC -groupname secp256r1 -dname CN=key \
		-validity 36500 -keystore "$tmp/$f" -storepass password "$@" >/dev/null 2>&1
	cp "$tmp/$f" "javastore/$f"
}
# shellcheck disable=SC2086
store pkcs12-aes.p12 $low
# shellcheck disable=SC2086
store pkcs12-rc2.p12 -J-Dkeystore.pkcs12.legacy $low
store pkcs12-plain.p12 -J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE \
	-J-Dkeystore.pkcs12.macAlgorithm=NONE
store truststore.jks -storetype JKS
# keytool's legacy mode ignores the iteration settings: the same RC2-40 from openssl, with
# few iterations (and, as openssl writes them, no Java trust attribute).
openssl pkcs12 -export -legacy -nokeys -in "$tmp/root.pem" -iter 1000 -maciter -macalg sha1 \
	-passout pass:password -out javastore/openssl-rc2.p12
chmod 644 javastore/*
