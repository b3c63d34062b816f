#!/bin/sh
# make_test_certs.sh - a throw-away CA and the certificates it signs, in DIR.
# Usage: make_test_certs.sh DIR   (EC P-256, valid 2 days) writes
#   ca.pem                     the CA
#   server.pem, server.key     a server certificate for localhost/127.0.0.1
#   wrong.pem, wrong.key       a server certificate for another name (wrong.example only)
#   client.pem, client.key     a client certificate (CN=auscult-client)
set -eu
. "$(dirname "$0")/../../lib/tools.sh"
require_tools openssl:openssl
dir=${1:?usage: make_test_certs.sh DIR}
cd "$dir"
# openssl's progress chatter goes to openssl.log, shown only when a step fails.
ssl() {
	openssl "$@" 2>>openssl.log || { echo "FAIL: openssl $1 failed:" >&2; cat openssl.log >&2; exit 1; }
}
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj /CN=auscult-test-ca
# sign NAME SUBJECT EXTENSIONS: NAME.key and NAME.pem, signed by the CA.
sign() {
	ssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "$2"
	printf '%s\n' "$3" > "$1.ext"
	ssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-out "$1.pem" -days 2 -extfile "$1.ext"
	rm -f "$1.csr" "$1.ext"
}
sign server /CN=localhost 'subjectAltName=DNS:localhost,IP:127.0.0.1'
sign wrong /CN=wrong.example 'subjectAltName=DNS:wrong.example'
sign client /CN=auscult-client 'extendedKeyUsage=clientAuth'
# mosquitto reads these after dropping root privileges.
chmod 0644 ca.pem server.pem server.key wrong.pem wrong.key
rm -f ca.srl openssl.log
