#!/usr/bin/env bash
# make-certs.sh <dir> — a throwaway CA and two server certificates for the TLS test servers (openssl CLI).
#   ca.pem / ca.key                 the CA (give ca.pem to clients as their CA bundle)
#   server.pem / server.key         SAN IP:127.0.0.1, DNS:localhost        (the right host)
#   wronghost.pem / wronghost.key   SAN DNS:wrong.example only             (host-name verification must fail)
# Keys are EC P-256, certificates valid for 30 days from now. Existing files are kept (idempotent); all of
# them are written to temporary names first and renamed, so a reader never sees half a set.
set -euo pipefail
dir=${1:?usage: make-certs.sh <dir>}
mkdir -p "$dir"
if [ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/wronghost.pem" ] \
   && openssl x509 -checkend 86400 -noout -in "$dir/server.pem" >/dev/null 2>&1; then
  exit 0
fi
command -v openssl >/dev/null || { echo "make-certs.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }
tmp=$(mktemp -d "$dir/.certs.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 30 -subj "/CN=cache-step test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$tmp/ca.pem" 2>/dev/null

# leaf NAME CN SAN
leaf() {
  key "$tmp/$1.key"
  openssl req -new -key "$tmp/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$3" >"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 30 -sha256 \
    -extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
  openssl verify -CAfile "$tmp/ca.pem" "$tmp/$1.pem" >/dev/null
}
leaf server 127.0.0.1 "IP:127.0.0.1,DNS:localhost"
leaf wronghost wrong.example "DNS:wrong.example"

chmod 600 "$tmp"/*.key
for f in ca.key ca.pem server.key server.pem wronghost.key wronghost.pem; do mv "$tmp/$f" "$dir/$f"; done
