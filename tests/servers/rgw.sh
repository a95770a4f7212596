#!/usr/bin/env bash
# rgw.sh start|stop <state_dir> — Ceph RADOS Gateway 16.2 (Debian's radosgw): the production S3 server.
# Runs rgw/up.sh (one monitor, one OSD, one radosgw on 127.0.0.1, cephx off) with three free ports and the
# cluster in <state_dir>/rgw-data, then creates the bucket. The first start installs the Ceph packages
# (~250 MiB, ~20 s); then ~10 s to serving (bluestore in a sparse file; RGW_OBJECTSTORE=memstore is faster to
# start but keeps objects in RAM, 4 GiB at most). The daemons fork into the background themselves, so there
# is no process group: stop is rgw/down.sh, which kills them by their own PID files.
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cs_init rgw "${2:-}"
RGW_DIR=$SERVERS_DIR/rgw
ACCESS_KEY=cachesteptestkey
SECRET_KEY=cachesteptestsecret

rgw_running() {
  local pid
  pid=$(cat "$CS_DATA/run/client.rgw.a.pid" 2>/dev/null) || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE '^(/usr/bin/)?radosgw '
}

# down: stops whatever a previous up.sh left in the cluster dir (daemons by PID) and deletes the dir.
down() {
  [ -e "$CS_DATA" ] || return 0
  CEPHBED_DIR=$CS_DATA "$RGW_DIR/down.sh" >>"$CS_LOG" 2>&1 7>&- || true
  # down.sh refuses a dir that up.sh had only begun (no ceph.conf yet): then no daemon was started from it
  rm -rf "$CS_DATA"
}

start() {
  if rgw_running && [ -f "$CS_ENV" ]; then
    cs_log "already running (radosgw pid $(cat "$CS_DATA/run/client.rgw.a.pid")), env in $CS_ENV"
    return 0
  fi
  rm -f "$CS_ENV"
  : >"$CS_LOG"
  down
  cs_need_cmd curl curl
  local t0 rgw_port mon2 mon1
  t0=$(cs_now_us)
  { read -r rgw_port; read -r mon2; read -r mon1; } < <(cs_free_ports 3)
  # fd 7 (our lock) closed: the daemons up.sh starts must not inherit it
  if ! CEPHBED_DIR=$CS_DATA OBJECTSTORE=${RGW_OBJECTSTORE:-bluestore} RGW_PORT=$rgw_port \
       MON_PORT_V2=$mon2 MON_PORT_V1=$mon1 S3_ACCESS_KEY=$ACCESS_KEY S3_SECRET_KEY=$SECRET_KEY \
       "$RGW_DIR/up.sh" </dev/null >>"$CS_LOG" 2>&1 7>&-; then
    # up.sh has stopped what it started; the daemons' own logs stay in $CS_DATA/log until the next start
    cs_die "rgw/up.sh failed (daemon logs in $CS_DATA/log/)"
  fi
  local endpoint=http://127.0.0.1:$rgw_port code
  code=$(curl -s -o "$CS_STATE/rgw.bucket-answer" -w '%{http_code}' --max-time 30 \
    --aws-sigv4 "aws:amz:$S3_REGION_NAME:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X PUT "$endpoint/$S3_BUCKET_NAME") || true
  if [ "$code" != 200 ]; then
    local answer; answer=$(cat "$CS_STATE/rgw.bucket-answer" 2>/dev/null)
    down
    cs_die "CreateBucket returned HTTP $code: $answer"
  fi
  rm -f "$CS_STATE/rgw.bucket-answer"
  cs_write_env "S3_ENDPOINT=$endpoint" "S3_REGION=$S3_REGION_NAME" "S3_ACCESS_KEY=$ACCESS_KEY" \
    "S3_SECRET_KEY=$SECRET_KEY" "S3_BUCKET=$S3_BUCKET_NAME" "S3_VERIFIES_SIGV4=true" \
    "S3_HAS_LIST_MULTIPART_UPLOADS=true"
  cs_log "serving $endpoint (ready in $(cs_ms_since "$t0") ms, packages included), env in $CS_ENV"
}

stop() {
  down
  rm -f "$CS_ENV" "$CS_ENV.tmp"
  cs_log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop <state_dir>" >&2; exit 2 ;;
esac
