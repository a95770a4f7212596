#!/usr/bin/env bash
# selftest.sh [ENV_FILE] — proves a started server is what its env file says, with curl --aws-sigv4 only:
# a signed PUT, GET (same bytes), ListObjectsV2 (lists it), DELETE; a wrong secret gets 403 exactly when
# S3_VERIFIES_SIGV4=true; over TLS the CA bundle verifies the server, and for S3_TLS_CERT_MATCHES_HOST=false
# curl must refuse the host name (exit 60). ENV_FILE defaults to $CACHESTEP_S3_ENV (set by
# cachestep_add_s3_test). Prints "N passed, 0 failed" or exits 1 at the first failure.
set -euo pipefail
env_file=${1:-${CACHESTEP_S3_ENV:?usage: selftest.sh ENV_FILE (or set CACHESTEP_S3_ENV)}}
set -a; . "$env_file"; set +a
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
passed=0
ok() { echo "PASS  $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; echo "$passed passed, 1 failed"; exit 1; }

tls=()
[ -n "${S3_CA_BUNDLE:-}" ] && tls=(--cacert "$S3_CA_BUNDLE")
# curl 7.88 signs only with an explicit x-amz-content-sha256 (TESTBED.md)
sig() { curl -sS --max-time 30 "${tls[@]}" --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$1" \
          -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "${@:2}"; }

if [ "${S3_TLS_CERT_MATCHES_HOST:-true}" = false ]; then
  rc=0; sig "$S3_ACCESS_KEY:$S3_SECRET_KEY" -o /dev/null "$S3_ENDPOINT/$S3_BUCKET" 2>/dev/null || rc=$?
  [ "$rc" = 60 ] && ok "certificate refused for $S3_ENDPOINT (curl exit 60)" || fail "wrong-host certificate: curl exit $rc, expected 60"
  echo "$passed passed, 0 failed"; exit 0
fi

creds="$S3_ACCESS_KEY:$S3_SECRET_KEY"
key="selftest-$$-$RANDOM"   # no '/' or specials: moto's verifier rejects them (BEHAVIOUR.md)
head -c 100000 /dev/urandom >"$work/body"
code=$(sig "$creds" -o "$work/out" -w '%{http_code}' -T "$work/body" "$S3_ENDPOINT/$S3_BUCKET/$key")
[ "$code" = 200 ] && ok "PUT $key" || fail "PUT $key: HTTP $code $(cat "$work/out")"
code=$(sig "$creds" -o "$work/got" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/$key")
[ "$code" = 200 ] && cmp -s "$work/body" "$work/got" && ok "GET returns the same 100000 bytes" || fail "GET: HTTP $code"
code=$(sig "$creds" -o "$work/list" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET?list-type=2&prefix=$key")
[ "$code" = 200 ] && grep -q "<Key>$key</Key>" "$work/list" && ok "ListObjectsV2 lists it" || fail "list: HTTP $code $(head -c 300 "$work/list")"
code=$(sig "$S3_ACCESS_KEY:not-the-secret" -o "$work/out" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/$key")
if [ "$S3_VERIFIES_SIGV4" = true ]; then
  [ "$code" = 403 ] && grep -q SignatureDoesNotMatch "$work/out" && ok "wrong secret: 403 SignatureDoesNotMatch" || fail "wrong secret: HTTP $code"
else
  [ "$code" = 200 ] && ok "wrong secret accepted, as S3_VERIFIES_SIGV4=false says" || fail "wrong secret: HTTP $code, expected 200"
fi
code=$(sig "$creds" -o /dev/null -w '%{http_code}' -X DELETE "$S3_ENDPOINT/$S3_BUCKET/$key")
[ "$code" = 204 ] && ok "DELETE" || fail "DELETE: HTTP $code"
echo "$passed passed, 0 failed"
