#!/usr/bin/env bash
# moto.sh start|stop <state_dir> — moto_server (Python) on 127.0.0.1 with SigV4 verification on.
# moto checks signatures only after INITIAL_NO_AUTH_ACTION_COUNT authenticated actions (TESTBED.md): the first
# three (CreateUser, CreateAccessKey, PutUserPolicy allowing everything, through its IAM API) go unchecked,
# and every request after them must be signed with the access key made there. Those keys go in the env file.
# Good for the real multipart rules (EntityTooSmall, InvalidPart, NoSuchUpload) and ListMultipartUploads.
# moto is not a Debian package and PyPI is not reachable: moto_server must already be installed (it is, via
# pyenv, on this project's machines); otherwise start fails saying so.
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cs_init moto "${2:-}"

find_moto() {
  MOTO=$(command -v moto_server || true)
  [ -z "$MOTO" ] && [ -x "$HOME/.pyenv/shims/moto_server" ] && MOTO=$HOME/.pyenv/shims/moto_server
  [ -n "$MOTO" ] || cs_die "moto_server not found (install with: pip install 'moto[server]'; needs PyPI)"
}

# iam ACTION PARAMS: one IAM query call; these are the unauthenticated ones, so any credentials do.
iam() {
  curl -sS --fail-with-body --max-time 10 --aws-sigv4 "aws:amz:$S3_REGION_NAME:iam" --user "bootstrap:bootstrap" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$ENDPOINT/" --data "Action=$1&Version=2010-05-08&$2"
}
xml_value() { sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p"; }

start() {
  cs_already_running && return 0
  find_moto
  cs_need_cmd curl curl
  local t0 port attempt
  t0=$(cs_now_us)
  # The kernel names a free port, moto binds it a moment later; if another process took it meanwhile the
  # server dies with "Address already in use": try again with another port.
  for attempt in 1 2 3; do
    port=$(cs_free_ports 1)
    INITIAL_NO_AUTH_ACTION_COUNT=3 cs_spawn "$MOTO" -H 127.0.0.1 -p "$port"
    # /moto-api/ is moto's own dashboard API: it does not count as an action
    local rc=0
    cs_poll 60 cs_http_answers "http://127.0.0.1:$port/moto-api/" || rc=$?
    [ $rc = 0 ] && break
    [ $rc = 1 ] && grep -q 'Address already in use' "$CS_LOG" && [ "$attempt" -lt 3 ] && continue
    [ $rc = 1 ] && cs_die "moto_server exited before answering on 127.0.0.1:$port"
    cs_kill_group; cs_die "timeout (60 s) waiting for moto on 127.0.0.1:$port"
  done
  ENDPOINT=http://127.0.0.1:$port
  local user=cache-step policy keys ak sk
  policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
  iam CreateUser "UserName=$user" >>"$CS_LOG" || { cs_kill_group; cs_die "IAM CreateUser failed"; }
  keys=$(iam CreateAccessKey "UserName=$user") || { cs_kill_group; cs_die "IAM CreateAccessKey failed: $keys"; }
  ak=$(xml_value AccessKeyId <<<"$keys"); sk=$(xml_value SecretAccessKey <<<"$keys")
  [ -n "$ak" ] && [ -n "$sk" ] || { cs_kill_group; cs_die "no access key in the CreateAccessKey answer"; }
  iam PutUserPolicy "UserName=$user&PolicyName=everything&PolicyDocument=$(urlencode "$policy")" >>"$CS_LOG" \
    || { cs_kill_group; cs_die "IAM PutUserPolicy failed"; }
  # from here on signatures are checked: create the bucket with the new key (and so prove it works)
  local code
  code=$(curl -s -o "$CS_STATE/moto.bucket-answer" -w '%{http_code}' --max-time 10 \
    --aws-sigv4 "aws:amz:$S3_REGION_NAME:s3" --user "$ak:$sk" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    -X PUT "$ENDPOINT/$S3_BUCKET_NAME") || true
  [ "$code" = 200 ] || { cs_kill_group; cs_die "signed CreateBucket returned HTTP $code: $(cat "$CS_STATE/moto.bucket-answer")"; }
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    --aws-sigv4 "aws:amz:$S3_REGION_NAME:s3" --user "$ak:wrong-secret" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    "$ENDPOINT/$S3_BUCKET_NAME") || true
  [ "$code" = 403 ] || { cs_kill_group; cs_die "a wrong secret got HTTP $code, not 403: signatures are not verified"; }
  rm -f "$CS_STATE/moto.bucket-answer"
  cs_write_env "S3_ENDPOINT=$ENDPOINT" "S3_REGION=$S3_REGION_NAME" "S3_ACCESS_KEY=$ak" "S3_SECRET_KEY=$sk" \
    "S3_BUCKET=$S3_BUCKET_NAME" "S3_VERIFIES_SIGV4=true" "S3_HAS_LIST_MULTIPART_UPLOADS=true"
  cs_log "serving $ENDPOINT (pid $(cat "$CS_PIDFILE"), ready in $(cs_ms_since "$t0") ms), env in $CS_ENV"
}

# percent-encodes a form value (RFC 3986 unreserved kept) without python or jq
urlencode() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in [a-zA-Z0-9.~_-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}

case "${1:-}" in
  start) start ;;
  stop) cs_stop_default ;;
  *) echo "usage: $0 start|stop <state_dir>" >&2; exit 2 ;;
esac
