# s3rver-fork.bash — sourced by s3rver-sigv4.sh, s3rver-tls.sh and s3rver-tls-wronghost.sh: @20minutes/s3rver
# 5.0.0 (verifies SigV4, credentials S3RVER / S3RVER) through the launcher s3rver-sigv4.js, over plain HTTP or
# HTTPS. The fork passes key/cert to https.createServer, so TLS needs no proxy in front.
#   s3rver-sigv4          http://127.0.0.1:PORT
#   s3rver-tls            https://127.0.0.1:PORT, certificate for IP:127.0.0.1 + DNS:localhost, S3_CA_BUNDLE
#   s3rver-tls-wronghost  https://127.0.0.1:PORT, certificate only for DNS:wrong.example (same CA): a client
#                         that verifies host names must refuse it (S3_TLS_CERT_MATCHES_HOST=false)
# Like s3rver 3.7.1 it lacks AbortMultipartUpload / ListParts / ListMultipartUploads. See BEHAVIOUR.md.
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

s3rver_fork_main() {  # s3rver_fork_main SERVER start|stop STATE_DIR
  local server=$1 action=${2:-}
  cs_init "$server" "${3:-}"
  local certs=$CS_STATE/$server-certs
  case "$action" in
    start) s3rver_fork_start "$server" "$certs" ;;
    stop) cs_stop_default; rm -rf "$certs" ;;
    *) echo "usage: $server.sh start|stop <state_dir>" >&2; exit 2 ;;
  esac
}

s3rver_fork_start() {
  local server=$1 certs=$2 scheme=http tls_args=() curl_args=() leaf=""
  cs_already_running && return 0
  cs_npm_ready
  cs_need_cmd curl curl
  case "$server" in
    s3rver-tls) leaf=server ;;
    s3rver-tls-wronghost) leaf=wronghost ;;
  esac
  local t0; t0=$(cs_now_us)
  if [ -n "$leaf" ]; then
    cs_need_cmd openssl openssl
    "$SERVERS_DIR/make-certs.sh" "$certs" || cs_die "make-certs.sh $certs failed"
    scheme=https
    tls_args=(--key "$certs/$leaf.key" --cert "$certs/$leaf.pem")
    curl_args=(--cacert "$certs/ca.pem")
  fi
  rm -rf "$CS_DATA"; mkdir -p "$CS_DATA"
  # --openssl-legacy-provider: ListObjectsV2 continuation tokens are DES-encrypted (TESTBED.md)
  cs_spawn node --openssl-legacy-provider "$SERVERS_DIR/s3rver-sigv4.js" \
    --directory "$CS_DATA" --bucket "$S3_BUCKET_NAME" "${tls_args[@]}"
  cs_wait 30 "the 'listening on' line in $CS_LOG" grep -q "^listening on $scheme://127.0.0.1:" "$CS_LOG"
  local port
  port=$(sed -n 's|^listening on https\{0,1\}://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$CS_LOG" | head -1)
  [ -n "$port" ] || { cs_kill_group; cs_die "could not read the port from $CS_LOG"; }
  local extra=()
  case "$server" in
    s3rver-tls)
      # the certificate chain and the host name must verify with the CA bundle we hand out
      cs_wait 30 "HTTPS on 127.0.0.1:$port" cs_http_answers "https://127.0.0.1:$port/" "${curl_args[@]}"
      extra=("S3_CA_BUNDLE=$certs/ca.pem" "S3_TLS_CERT_MATCHES_HOST=true") ;;
    s3rver-tls-wronghost)
      # it answers for wrong.example (chain fine) ...
      cs_wait 30 "HTTPS on 127.0.0.1:$port (as wrong.example)" cs_http_answers "https://wrong.example:$port/" \
        "${curl_args[@]}" --connect-to "wrong.example:$port:127.0.0.1:$port"
      # ... and curl refuses it as 127.0.0.1 (exit 60: peer certificate cannot be authenticated)
      local rc=0
      curl -s -o /dev/null --max-time 5 "${curl_args[@]}" "https://127.0.0.1:$port/" || rc=$?
      [ "$rc" = 60 ] || { cs_kill_group; cs_die "expected curl to refuse the wrong-host certificate (exit 60), got exit $rc"; }
      extra=("S3_CA_BUNDLE=$certs/ca.pem" "S3_TLS_CERT_MATCHES_HOST=false") ;;
    *)
      cs_wait 30 "HTTP on 127.0.0.1:$port" cs_http_answers "http://127.0.0.1:$port/" ;;
  esac
  cs_write_env "S3_ENDPOINT=$scheme://127.0.0.1:$port" "S3_REGION=$S3_REGION_NAME" \
    "S3_ACCESS_KEY=S3RVER" "S3_SECRET_KEY=S3RVER" "S3_BUCKET=$S3_BUCKET_NAME" \
    "S3_VERIFIES_SIGV4=true" "S3_HAS_LIST_MULTIPART_UPLOADS=false" "${extra[@]}"
  cs_log "serving $scheme://127.0.0.1:$port (pid $(cat "$CS_PIDFILE"), ready in $(cs_ms_since "$t0") ms), env in $CS_ENV"
}
