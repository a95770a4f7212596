#!/usr/bin/env bash
# cache-step cp through cachestep-wan-proxy in front of a loopback test server: download and upload of one
# object at several --concurrency values, to see what parallel connections are worth on an S3-shaped link.
#
#   bench/wan_proxy/cp_through_proxy.sh [--server s3rver-sigv4|s3rver-tls|rgw] [--size-mb 256]
#        [--concurrency "1 2 4 8"] [--cache-step BIN] [--proxy BIN] [-- PROXY_ARGS...]
#
# Starts the server in a fresh state dir (stopped at the end), writes SIZE random bytes, uploads them once
# directly, then per concurrency: a download to /dev/null and an upload through the proxy, each timed, with the
# proxy's CPU (from /proc) for that run. The last upload is read back directly and compared. Prints one line per
# run. The proxy's own totals line (its stderr) comes last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
server=s3rver-sigv4
size_mb=256
concurrency="1 2 4 8"
cs=""
proxy=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --cache-step) cs=$2; shift 2 ;;
    --proxy) proxy=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
newest() { ls -t $1 2>/dev/null | head -1; }
[ -n "$cs" ] || cs=$(newest "$repo/build*/apps/cache-step/cache-step")
[ -n "$proxy" ] || proxy=$(newest "$repo/build*/bench/wan_proxy/cachestep-wan-proxy")
[ -x "$cs" ] && [ -x "$proxy" ] || { echo "need cache-step ($cs) and cachestep-wan-proxy ($proxy)" >&2; exit 2; }

work=$(mktemp -d /tmp/cp-through-proxy.XXXXXX)
pp=""
cleanup() {
  [ -n "$pp" ] && kill "$pp" 2>/dev/null && wait "$pp" 2>/dev/null || true
  "$repo/tests/servers/$server.sh" stop "$work/state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cp "$cs" "$work/cache-step"  # a rebuild elsewhere must not swap the binary mid-run
cs=$work/cache-step

"$repo/tests/servers/$server.sh" start "$work/state" >/dev/null
set -a; . "$work/state/$server.env"; set +a
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
s3=(--path-style)
[ -n "${S3_CA_BUNDLE:-}" ] && s3+=(--ca-bundle "$S3_CA_BUNDLE")
scheme=${S3_ENDPOINT%%://*}
head -c $((size_mb * 1048576)) /dev/urandom > "$work/obj"
"$cs" cp -q "$work/obj" "s3://$S3_BUCKET/wan-obj" --endpoint "$S3_ENDPOINT" "${s3[@]}"

"$proxy" --upstream "${S3_ENDPOINT#*://}" --port-file "$work/port" "$@" > "$work/proxy.out" 2> "$work/proxy.err" &
pp=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
ep="$scheme://127.0.0.1:$(cat "$work/port")"
head -1 "$work/proxy.err"
cpu() { awk '{print $14 + $15}' "/proc/$pp/stat"; }
run() {  # label, then the cache-step cp arguments
  local label=$1; shift
  local c0 t0 t1 c1
  c0=$(cpu); t0=$(date +%s.%N)
  "$cs" cp -q "$@" --endpoint "$ep" "${s3[@]}"
  t1=$(date +%s.%N); c1=$(cpu)
  awk -v l="$label" -v t0="$t0" -v t1="$t1" -v mb="$size_mb" -v pc=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
    w = t1 - t0; gb = mb * 1.048576 / 1000
    printf "%-26s %7.2f s %7.1f MB/s   proxy CPU %.2f s (%.2f s per GB)\n", l, w, mb * 1.048576 / w, pc / hz, pc / hz / gb }'
}
for c in $concurrency; do
  run "download, concurrency $c" "s3://$S3_BUCKET/wan-obj" /dev/null --concurrency "$c"
done
for c in $concurrency; do
  run "upload, concurrency $c" "$work/obj" "s3://$S3_BUCKET/wan-up-$c" --concurrency "$c"
done
"$cs" cp -q "s3://$S3_BUCKET/wan-up-$c" "$work/back" --endpoint "$S3_ENDPOINT" "${s3[@]}"
cmp -s "$work/obj" "$work/back" && echo "uploaded through the proxy, read back directly: bytes equal" \
  || { echo "uploaded through the proxy, read back directly: BYTES DIFFER"; exit 1; }
kill "$pp"; wait "$pp" || true; pp=""
tail -1 "$work/proxy.err"
