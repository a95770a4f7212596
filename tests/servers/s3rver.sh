#!/usr/bin/env bash
# s3rver.sh start|stop <state_dir> — s3rver 3.7.1 (npm) on 127.0.0.1: lenient and fast.
# It checks only the access key id (S3RVER); any secret passes, so S3_VERIFIES_SIGV4=false. It has no
# AbortMultipartUpload / ListParts / ListMultipartUploads (405). See BEHAVIOUR.md.
# The kernel picks the port (-p 0); the server prints it, and the env file carries it.
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cs_init s3rver "${2:-}"

start() {
  cs_already_running && return 0
  cs_npm_ready
  cs_need_cmd curl curl
  local t0; t0=$(cs_now_us)
  rm -rf "$CS_DATA"; mkdir -p "$CS_DATA"
  # --openssl-legacy-provider: without it Node 17+ fails the DES-encrypted continuation token of ListObjectsV2
  # page 2 with a 500 (TESTBED.md).
  cs_spawn node --openssl-legacy-provider "$SERVERS_DIR/node_modules/s3rver/bin/s3rver.js" \
    -d "$CS_DATA" -a 127.0.0.1 -p 0 -s --configure-bucket "$S3_BUCKET_NAME"
  cs_wait 30 "the 'listening' line in $CS_LOG" grep -q 'S3rver listening on' "$CS_LOG"
  local port
  port=$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$CS_LOG" | head -1)
  [ -n "$port" ] || { cs_kill_group; cs_die "could not read the port from $CS_LOG"; }
  cs_wait 30 "HTTP on 127.0.0.1:$port" cs_http_answers "http://127.0.0.1:$port/"
  cs_write_env "S3_ENDPOINT=http://127.0.0.1:$port" "S3_REGION=$S3_REGION_NAME" \
    "S3_ACCESS_KEY=S3RVER" "S3_SECRET_KEY=S3RVER" "S3_BUCKET=$S3_BUCKET_NAME" \
    "S3_VERIFIES_SIGV4=false" "S3_HAS_LIST_MULTIPART_UPLOADS=false"
  cs_log "serving http://127.0.0.1:$port (pid $(cat "$CS_PIDFILE"), ready in $(cs_ms_since "$t0") ms), env in $CS_ENV"
}

case "${1:-}" in
  start) start ;;
  stop) cs_stop_default ;;
  *) echo "usage: $0 start|stop <state_dir>" >&2; exit 2 ;;
esac
