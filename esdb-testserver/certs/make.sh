#!/bin/sh
# Makes the test certificates in this folder: a CA and a node certificate it signed for
# localhost / 127.0.0.1, valid for 100 years. For tests only: the keys are public.
# Run from this folder; the files are committed, so tests need no openssl.
set -eu
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=esdb-testserver test CA" -keyout ca.key -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=localhost" -keyout node.key -out node.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' > node.ext
openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 36500 \
  -extfile node.ext -out node.crt
rm -f node.csr node.ext ca.srl
