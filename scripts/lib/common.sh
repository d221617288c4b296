# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Shared helpers for scripts/*. Source it; it defines paths and small functions, runs nothing.
#
#   PINPIPE_ROOT   the repository root
#   STATE          ${PINPIPE_STATE_DIR:-$PINPIPE_ROOT/.pinpipe}: everything the scripts create
#   KAFKA_VERSION  the Kafka release the local broker runs
#   KAFKA_LIBS     where scripts/setup puts its jars (PINPIPE_KAFKA_LIBS overrides: scripts/test
#                  points its separate state dir at the main one's jars)

PINPIPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${PINPIPE_STATE_DIR:-$PINPIPE_ROOT/.pinpipe}"
KAFKA_VERSION=3.9.1
KAFKA_LIBS="${PINPIPE_KAFKA_LIBS:-$STATE/opt/kafka-$KAFKA_VERSION/libs}"
PG_BIN=/usr/lib/postgresql/15/bin

if [[ -t 2 ]]; then
  _c_bold=$'\e[1m' _c_red=$'\e[31m' _c_yellow=$'\e[33m' _c_off=$'\e[0m'
else
  _c_bold='' _c_red='' _c_yellow='' _c_off=''
fi

# Messages go to stderr so stdout stays usable (`scripts/services kafka libs`).
log()  { printf '%s==>%s %s\n' "$_c_bold" "$_c_off" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_c_yellow" "$_c_off" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$_c_red" "$_c_off" "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root for: $* (run as root, or install sudo)"
  fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when the process in pidfile $1 is alive.
pid_alive() {
  local pid
  [[ -f $1 ]] || return 1
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# Sends SIGTERM to the process in pidfile $1, waits up to $2 seconds (default 30), then SIGKILL.
# Removes the pidfile. Succeeds when nothing was running.
stop_pidfile() {
  local pidfile=$1 timeout=${2:-30} pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "pid $pid did not stop within ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
}

# Sends SIGKILL to the process in pidfile $1 and waits until it is gone.
stop_pidfile_now() {
  local pid i
  pid_alive "$1" || return 0
  pid="$(cat "$1")"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}
