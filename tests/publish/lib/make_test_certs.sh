#!/bin/sh
# make_test_certs.sh - a throw-away CA and a server certificate for localhost/127.0.0.1 in DIR.
# Usage: make_test_certs.sh DIR   (writes ca.pem, server.pem, server.key; EC P-256, valid 2 days)
set -eu
dir=${1:?usage: make_test_certs.sh DIR}
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj /CN=auscult-test-ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out server.pem -days 2 -extfile server.ext 2>/dev/null
# mosquitto reads these after dropping root privileges.
chmod 0644 ca.pem server.pem server.key
rm -f server.csr server.ext ca.srl
