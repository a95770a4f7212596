#!/usr/bin/env bash
# down.sh — stop the throwaway cluster made by up.sh (by PID) and delete it.
# Origin: copied from the team's shared test-bed notes (shared/ceph-rgw/down.sh, 2026-11-27). Changed: each
# daemon is stopped and waited for before the next (radosgw then osd then mon), and a zombie counts as gone.
# The original sent TERM to all three at once: radosgw, its monitor gone, then hung until the KILL at 6 s.
# Usage: ./down.sh            (CEPHBED_DIR defaults to /tmp/cephbed/cluster)
#        KEEP=1 ./down.sh     stop daemons but keep the directory (logs)
set -uo pipefail
BASE=${CEPHBED_DIR:-/tmp/cephbed/cluster}
[ -d "$BASE" ] || { echo "nothing at $BASE"; exit 0; }
# safety: only ever touch a directory that up.sh created
[ -f "$BASE/ceph.conf" ] && [ -d "$BASE/run" ] && [ -d "$BASE/mon.a" ] \
  || { echo "refusing: $BASE does not look like a up.sh cluster dir" >&2; exit 1; }

gone() {  # no such process, or a zombie waiting for its parent (PID 1 here) to reap it
  [ -d "/proc/$1" ] || return 0
  grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
# stop in reverse order: rgw, osd, mon -- one at a time, so each can still talk to the ones below it
for name in client.rgw.a osd.0 mon.a; do
  f=$BASE/run/$name.pid
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  # only signal it if it really is a ceph daemon of ours
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qE '^(/usr/bin/)?(ceph-mon|ceph-osd|radosgw) '; then
    kill -TERM "$pid" 2>/dev/null && echo "sent TERM to $name (pid $pid)" || continue
    for _ in $(seq 1 60); do gone "$pid" && break; sleep 0.1; done
    if ! gone "$pid"; then echo "pid $pid still alive after 6 s, sending KILL"; kill -KILL "$pid" 2>/dev/null; fi
  fi
done
if [ "${KEEP:-0}" = 1 ]; then echo "daemons stopped; kept $BASE"; else rm -rf "$BASE"; echo "daemons stopped; removed $BASE"; fi
