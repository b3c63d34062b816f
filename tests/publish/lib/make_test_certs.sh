#!/bin/sh
# make_test_certs.sh - a throw-away CA and a server certificate for localhost/127.0.0.1 in DIR.
# Usage: make_test_certs.sh DIR   (writes ca.pem, server.pem, server.key; EC P-256, valid 2 days)
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
ssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout server.key -out server.csr -subj /CN=localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
ssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out server.pem -days 2 -extfile server.ext
# mosquitto reads these after dropping root privileges.
chmod 0644 ca.pem server.pem server.key
rm -f server.csr server.ext ca.srl openssl.log
