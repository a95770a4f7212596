#!/usr/bin/env bash
# s3sink.sh start <state_dir> [sink flags...] | stop <state_dir>
# Starts cachestep-s3sink in its own process group (setsid) with <state_dir>/s3sink.env, s3sink.pid (the process
# group, as tests/servers write theirs) and s3sink.log, and waits until it listens; stop kills that group.
# Then: python3 bench/s3_transfer_bench.py --env <state_dir>/s3sink.env   (its "srv" columns are the sink's CPU)
# The binary: $CACHESTEP_S3SINK, else build/bench/s3sink/cachestep-s3sink under the repository.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${CACHESTEP_S3SINK:-$here/../../build/bench/s3sink/cachestep-s3sink}
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: s3sink.sh start|stop <state_dir> [sink flags]" >&2; exit 2; }
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case $cmd in
  start)
    [ -x "$bin" ] || { echo "s3sink.sh: $bin not built (ninja -C build cachestep-s3sink)" >&2; exit 1; }
    if [ -s "$dir/s3sink.pid" ] && kill -0 -- "-$(cat "$dir/s3sink.pid")" 2>/dev/null; then
      echo "s3sink.sh: already running (pgid $(cat "$dir/s3sink.pid"))" >&2; exit 0
    fi
    rm -f "$dir/s3sink.env" "$dir/s3sink.pid"
    setsid "$bin" --env-file "$dir/s3sink.env" --pid-file "$dir/s3sink.pid" "$@" >"$dir/s3sink.log" 2>&1 </dev/null &
    for _ in $(seq 100); do
      grep -q '^listening on ' "$dir/s3sink.log" 2>/dev/null && { head -1 "$dir/s3sink.log"; exit 0; }
      kill -0 $! 2>/dev/null || break
      sleep 0.1
    done
    echo "s3sink.sh: the sink did not start:" >&2; cat "$dir/s3sink.log" >&2; exit 1 ;;
  stop)
    [ -s "$dir/s3sink.pid" ] || exit 0
    pgid=$(cat "$dir/s3sink.pid")
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/s3sink.pid"
    tail -1 "$dir/s3sink.log" ;;
  *) echo "usage: s3sink.sh start|stop <state_dir> [sink flags]" >&2; exit 2 ;;
esac
