#!/usr/bin/env bash
# up.sh — throwaway single-node Ceph (pacific 16.2, Debian 12) + RADOS Gateway (S3)
# on loopback only.  1 mon + 1 osd + 1 radosgw, no mgr, cephx disabled, pool size 1.
#
# Origin: copied from the team's shared test-bed notes (shared/ceph-rgw/up.sh, 2026-11-27) so that the
# project stands alone. Changes: packages are installed with "apt-get update" first and through sudo when
# not root, serialised with the other server scripts (/tmp/cache-step-servers-apt.lock). tests/servers/rgw.sh
# drives it (free ports, cluster dir under the caller's state dir, bucket, env file).
#
# Usage:   sudo ./up.sh            # installs packages if missing, builds + starts cluster
#          ./down.sh               # stops daemons by PID, deletes the cluster dir
# Env knobs (all optional):
#   CEPHBED_DIR   cluster dir               (default /tmp/cephbed/cluster)  -- must not exist yet
#   OBJECTSTORE   memstore | bluestore      (default bluestore: data in a sparse file, RAM bounded)
#   OSD_SIZE_GB   bluestore file / memstore capacity in GiB (default 20 / 4)
#   RGW_PORT      S3 port on 127.0.0.1      (default 7480)
#   MON_PORT_V2 / MON_PORT_V1               (default 3300 / 6789)
#   S3_ACCESS_KEY / S3_SECRET_KEY           (default testaccesskey / testsecretkey)
# On success prints the endpoint + credentials and exits 0 with the daemons running in background.
set -euo pipefail

BASE=${CEPHBED_DIR:-/tmp/cephbed/cluster}
OBJECTSTORE=${OBJECTSTORE:-bluestore}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT_V2=${MON_PORT_V2:-3300}
MON_PORT_V1=${MON_PORT_V1:-6789}
AK=${S3_ACCESS_KEY:-testaccesskey}
SK=${S3_SECRET_KEY:-testsecretkey}
if [ "$OBJECTSTORE" = memstore ]; then OSD_SIZE_GB=${OSD_SIZE_GB:-4}; else OSD_SIZE_GB=${OSD_SIZE_GB:-20}; fi
IP=127.0.0.1
case $OBJECTSTORE in memstore|bluestore) ;; *) echo "OBJECTSTORE must be memstore or bluestore" >&2; exit 1;; esac

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $(( t / 1000 )); }
t0=$(now_ms)
log() { local d=$(( $(now_ms) - t0 )); printf '[%3d.%01ds] %s\n' $(( d / 1000 )) $(( d % 1000 / 100 )) "$*"; }
OURS=0   # set to 1 once $BASE is ours: only then does a failure stop what we started
die() {
  echo "ERROR: $*" >&2
  [ -n "${pools_pid:-}" ] && kill "$pools_pid" 2>/dev/null
  if [ "$OURS" = 1 ]; then
    stop_started; echo "stopped the daemons started so far; logs kept in $BASE/log/ (remove $BASE before retrying)" >&2
  fi
  exit 1
}
stop_started() {  # TERM (then KILL) every daemon whose pid file is in $BASE/run -- by PID only
  local f pid
  for f in "$BASE"/run/*.pid; do
    [ -f "$f" ] || continue; pid=$(cat "$f")
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE '^(/usr/bin/)?(ceph-mon|ceph-osd|radosgw) ' || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
port_busy() { (exec 3<>"/dev/tcp/$IP/$1") 2>/dev/null; }
wait_for() {  # wait_for <timeout-s> <description> <cmd...>
  local to=$1 what=$2; shift 2
  local end=$(( $(date +%s) + to ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timeout (${to}s) waiting for $what"
    sleep 0.5
  done
}

# ---------------------------------------------------------------- 0. packages
need=()
for b in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw ceph:ceph-common curl:curl uuidgen:uuid-runtime; do
  command -v "${b%%:*}" >/dev/null 2>&1 || need+=("${b#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  echo "installing: ${need[*]}"
  (
    flock 8
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  ) 8>/tmp/cache-step-servers-apt.lock || { echo "apt-get install ${need[*]} failed" >&2; exit 1; }
fi
t0=$(now_ms)   # time-to-serve is measured from here (after packages)

# ---------------------------------------------------------------- 1. layout + config
[ -e "$BASE" ] && die "$BASE already exists (run down.sh first)"
for p in "$MON_PORT_V2" "$MON_PORT_V1" "$RGW_PORT"; do
  port_busy "$p" && die "port $IP:$p is already in use"
done
mkdir -p "$BASE"/{run,log,mon.a,osd.0,rgw.a}
OURS=1
FSID=$(uuidgen)
export CEPH_CONF=$BASE/ceph.conf

cat > "$CEPH_CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:$IP:$MON_PORT_V2,v1:$IP:$MON_PORT_V1]
mon initial members = a
public addr = $IP
public network = $IP/32
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = $BASE/keyring
run dir = $BASE/run
admin socket = $BASE/run/\$name.asok
pid file = $BASE/run/\$name.pid
log file = $BASE/log/\$name.log
crash dir = $BASE/log/crash
log to stderr = false
err to stderr = true
# single node / single OSD friendly settings
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon warn on insecure global id reclaim = false
# faster map commits -> pools (and so radosgw) come up in fewer seconds
paxos propose interval = 0.1
paxos min wait = 0.01

[mon]
mon data = $BASE/mon.\$id
mon cluster log file = $BASE/log/cluster.log

[osd]
osd data = $BASE/osd.\$id
osd objectstore = $OBJECTSTORE
memstore device bytes = $(( OSD_SIZE_GB * 1024 * 1024 * 1024 ))
bluestore block create = true
bluestore block size = $(( OSD_SIZE_GB * 1024 * 1024 * 1024 ))
bluestore fsck on mount = false
osd memory target = 1073741824
bluestore cache autotune = true

[client.rgw.a]
rgw data = $BASE/rgw.a
rgw frontends = beast endpoint=$IP:$RGW_PORT
rgw dns name = localhost
# radosgw's built-in defaults are ms_mon_client_mode=secure + auth_client_required=cephx;
# "secure" cannot be negotiated with auth none -> EACCES (-13) forever.  Force crc.
ms mon client mode = crc
ms client mode = crc
client mount timeout = 30
rgw init timeout = 60
# delete garbage after ~1 min instead of 2 h (matters for memstore, where data lives in RAM)
rgw gc obj min wait = 60
rgw gc processor period = 60
EOF

# ---------------------------------------------------------------- 2. monitor
log "creating monitor (fsid $FSID)"
# (cephx is off, but ceph-mon --mkfs still wants a keyring with a mon. key)
ceph-authtool --create-keyring "$BASE/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$BASE/keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:$IP:$MON_PORT_V2,v1:$IP:$MON_PORT_V1]" \
  "$BASE/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$BASE/monmap" --keyring "$BASE/keyring" >"$BASE/log/mon.a.mkfs.log" 2>&1 \
  || die "ceph-mon --mkfs failed: $(tail -5 "$BASE/log/mon.a.mkfs.log")"
ceph-mon -i a </dev/null >>"$BASE/log/mon.a.stderr" 2>&1 || die "ceph-mon failed to start"
wait_for 30 "monitor quorum" timeout 5 ceph mon stat
log "mon up"

# ---------------------------------------------------------------- 3. OSD
OSD_UUID=$(uuidgen)
OSD_ID=$(timeout 20 ceph osd new "$OSD_UUID") || die "ceph osd new failed"
[ "$OSD_ID" = 0 ] || die "unexpected osd id '$OSD_ID'"
ceph-osd -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$BASE/log/osd.0.mkfs.log" 2>&1 \
  || die "ceph-osd --mkfs failed: $(tail -5 "$BASE/log/osd.0.mkfs.log")"
ceph-osd -i 0 </dev/null >>"$BASE/log/osd.0.stderr" 2>&1 || die "ceph-osd failed to start"
# While the OSD boots: pre-create the bucket pools radosgw would otherwise create lazily on the
# first bucket/object PUT (each lazy pool creation makes that first S3 request slow).
(
  for pool in default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
    timeout 20 ceph osd pool create "$pool" 8 8 replicated && timeout 20 ceph osd pool application enable "$pool" rgw || exit 1
  done
) >"$BASE/log/pool-create.log" 2>&1 &
pools_pid=$!
osd_up() { timeout 5 ceph osd dump -f json | grep -q '"up":1'; }
wait_for 60 "osd.0 up" osd_up
log "osd.0 up ($OBJECTSTORE, ${OSD_SIZE_GB} GiB)"
wait "$pools_pid" || die "pre-creating rgw pools failed: $(tail -3 "$BASE/log/pool-create.log")"
log "bucket pools created"

# ---------------------------------------------------------------- 4. radosgw + S3 user
radosgw -n client.rgw.a </dev/null >>"$BASE/log/client.rgw.a.stderr" 2>&1 || die "radosgw failed to start"
wait_for 120 "radosgw on $IP:$RGW_PORT" curl -sf "http://$IP:$RGW_PORT/"
log "radosgw serving on http://$IP:$RGW_PORT"
radosgw-admin user create --uid=test --display-name=test \
  --access-key="$AK" --secret="$SK" >"$BASE/log/user-create.json" 2>>"$BASE/log/radosgw-admin.stderr" \
  || die "radosgw-admin user create failed"
# end-to-end check: a SigV4-signed ListBuckets with the new credentials must return 200
# (the explicit x-amz-content-sha256 header is needed with curl < 8, which does not send it)
code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" \
       -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "http://$IP:$RGW_PORT/")
[ "$code" = 200 ] || die "signed S3 request with the new user returned HTTP $code"
log "S3 user 'test' created, signed request OK"

cat <<EOF
READY
  endpoint:   http://$IP:$RGW_PORT   (region us-east-1, path-style)
  access key: $AK
  secret key: $SK
  ceph:       CEPH_CONF=$CEPH_CONF ceph -s
  pids:       $(cat "$BASE"/run/*.pid | tr '\n' ' ')
  stop:       $(dirname "$(readlink -f "$0")")/down.sh   (CEPHBED_DIR=$BASE)
EOF
