# lib.sh — shared by the per-server scripts in this folder (sourced, not run).
#
# Every server script follows one shape:
#   <server>.sh start <state_dir>   start it on 127.0.0.1 (no-op if already running from this state dir),
#                                   wait until it answers, create the bucket, write <state_dir>/<server>.env
#   <server>.sh stop  <state_dir>   stop it by its PID file (the whole process group), remove its data
# All files of one server live under <state_dir>, named after the server, so several servers may share one
# state dir and run side by side; a lock file per server serialises start/stop of the same server there.
# The log (<state_dir>/<server>.log) is kept after stop for post-mortems.

set -euo pipefail

SERVERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S3_BUCKET_NAME=cache-step-test
S3_REGION_NAME=us-east-1

cs_log() { printf '[%s] %s\n' "$CS_SERVER" "$*" >&2; }
cs_die() {
  printf '[%s] ERROR: %s\n' "$CS_SERVER" "$*" >&2
  if [ -n "${CS_LOG:-}" ] && [ -s "$CS_LOG" ]; then
    printf '[%s] last lines of %s:\n' "$CS_SERVER" "$CS_LOG" >&2
    tail -n 30 "$CS_LOG" | sed 's/^/    /' >&2
  fi
  exit 1
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# cs_install_debs PKG...: apt-get installs the Debian packages that are not installed yet (only then touches apt).
# Serialised machine-wide: two servers starting at once must not both run apt.
cs_install_debs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  cs_log "installing Debian packages: ${missing[*]}"
  (
    flock 8
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ) 8>/tmp/cache-step-servers-apt.lock || cs_die "apt-get install ${missing[*]} failed"
}

# cs_need_cmd CMD DEBIAN_PACKAGE: installs the package when the command is not on PATH.
cs_need_cmd() { command -v "$1" >/dev/null 2>&1 || cs_install_debs "$2"; }

# cs_npm_ready: tests/servers/node_modules matches the committed package-lock.json ("npm ci" otherwise).
# The stamp is the lock file's hash; the lock is flock()ed so concurrent starts run npm ci once.
cs_npm_ready() {
  cs_need_cmd node nodejs
  cs_need_cmd npm npm
  local lock=$SERVERS_DIR/package-lock.json stamp=$SERVERS_DIR/node_modules/.cache-step-lock.sha256 want
  want=$(sha256sum "$lock" | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  (
    flock 9
    [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0
    cs_log "npm ci in $SERVERS_DIR (node_modules missing or stale)"
    (cd "$SERVERS_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 || exit 1
    echo "$want" >"$stamp"
  ) 9<"$lock" || cs_die "npm ci failed in $SERVERS_DIR"
}

# cs_init SERVER STATE_DIR: names every file of this server and takes its lock for the rest of the script.
cs_init() {
  CS_SERVER=$1
  [ -n "${2:-}" ] || { echo "usage: $CS_SERVER.sh start|stop <state_dir>" >&2; exit 2; }
  mkdir -p "$2"
  CS_STATE=$(cd "$2" && pwd)
  CS_PIDFILE=$CS_STATE/$CS_SERVER.pid
  CS_LOG=$CS_STATE/$CS_SERVER.log
  CS_ENV=$CS_STATE/$CS_SERVER.env
  CS_DATA=$CS_STATE/$CS_SERVER-data
  exec 7>"$CS_STATE/$CS_SERVER.lock"
  flock -w 600 7 || cs_die "another start/stop of $CS_SERVER in $CS_STATE holds $CS_STATE/$CS_SERVER.lock"
}

# cs_proc_state PID: sets CS_STATE_OF / CS_PGRP_OF from /proc/PID/stat ("pid (comm) state ppid pgrp ...";
# comm may hold spaces, so cut after the last ')'). Fails when there is no such process. No subshell: it runs
# once per process on the machine in cs_group_alive.
cs_proc_state() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  read -r CS_STATE_OF _ CS_PGRP_OF _ <<<"$stat"
}

# cs_running: the PID file names a live (not zombie) process group leader that we started.
cs_running() {
  local pid
  pid=$(cat "$CS_PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cs_proc_state "$pid" || return 1
  [ "$CS_STATE_OF" != Z ] && [ "$CS_PGRP_OF" = "$pid" ]
}

# cs_group_alive PGID: some process of the group is alive. Zombies do not count: PID 1 of some sandboxes
# reaps them only every second or so, and a dead server must not look alive that long.
cs_group_alive() {
  local f
  for f in /proc/[0-9]*; do
    cs_proc_state "${f#/proc/}" || continue
    [ "$CS_PGRP_OF" = "$1" ] && [ "$CS_STATE_OF" != Z ] && return 0
  done
  return 1
}

# cs_spawn CMD...: runs CMD in a new session (so its own process group, detached from ctest's pipes),
# output to the log, PID (= process group id) to the PID file; fd 7 (our flock) is closed in the child, or
# the server would hold the lock for its lifetime. This shell is not a process group leader,
# so setsid(1) calls setsid() in place without forking: $! is the server's (or its wrapper's) PID.
cs_spawn() {
  : >"$CS_LOG"
  setsid "$@" </dev/null >>"$CS_LOG" 2>&1 7>&- &
  echo $! >"$CS_PIDFILE"
}

# cs_kill_group: TERM the process group, KILL it after 10 s.
cs_kill_group() {
  cs_running || { rm -f "$CS_PIDFILE"; return 0; }
  local pid
  pid=$(cat "$CS_PIDFILE")
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    cs_group_alive "$pid" || break
    sleep 0.1
  done
  if cs_group_alive "$pid"; then
    cs_log "process group $pid still alive after 10 s, sending KILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$CS_PIDFILE"
}

# cs_poll SECONDS CMD...: polls CMD until it succeeds (0); 1 when the server process died, 2 on timeout.
cs_poll() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    cs_running || { rm -f "$CS_PIDFILE"; return 1; }
    [ "$SECONDS" -lt "$end" ] || return 2
    sleep 0.1
  done
}

# cs_wait SECONDS WHAT CMD...: cs_poll, failing with a clear message and the log tail (server stopped).
cs_wait() {
  local to=$1 what=$2 rc=0; shift 2
  cs_poll "$to" "$@" || rc=$?
  case $rc in
    0) return 0 ;;
    1) cs_die "the server exited while waiting for $what" ;;
    *) cs_kill_group; cs_die "timeout (${to} s) waiting for $what" ;;
  esac
}

# cs_free_ports [N]: N (default 1) distinct TCP ports free on 127.0.0.1 right now (the kernel's choice; all
# held open together while choosing, so they differ), one per line.
cs_free_ports() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c '
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held: s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in held))' "${1:-1}"
  else
    node -e '
const net = require("net"); const n = Number(process.argv[1]); const held = [];
const next = () => { if (held.length === n) { console.log(held.map(s => s.address().port).join("\n")); held.forEach(s => s.close()); return; }
  const s = net.createServer().listen(0, "127.0.0.1", () => { held.push(s); next(); }); };
next();' "${1:-1}"
  fi
}

# cs_http_answers URL [curl args...]: the server returned any HTTP status.
cs_http_answers() {
  local url=$1; shift
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url") || return 1
  [ "$code" != 000 ]
}

# cs_write_env KEY=VALUE...: writes the env file atomically (a reader never sees half a file).
cs_write_env() {
  printf '%s\n' "$@" >"$CS_ENV.tmp"
  mv "$CS_ENV.tmp" "$CS_ENV"
}

# cs_already_running: true (and says so) when a previous start from this state dir is still serving.
cs_already_running() {
  if cs_running && [ -f "$CS_ENV" ]; then
    cs_log "already running (pid $(cat "$CS_PIDFILE")), env in $CS_ENV"
    return 0
  fi
  # a dead or half-started server: clear what it left
  cs_kill_group
  rm -f "$CS_ENV"
  return 1
}

cs_stop_default() {
  cs_kill_group
  rm -rf "$CS_DATA" "$CS_ENV" "$CS_ENV.tmp"
  cs_log "stopped"
}

cs_ms_since() { echo $(( (${EPOCHREALTIME/[.,]/} - $1) / 1000 )); }
cs_now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
