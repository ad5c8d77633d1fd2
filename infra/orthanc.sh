#!/usr/bin/env bash
# A private Orthanc with the DICOMweb plugin: the stand-in for a hospital PACS in tests.
#
#   infra/orthanc.sh start DIR HTTP_PORT DICOM_PORT   start it (storage, index, logs in DIR),
#                                                     wait until it answers, print its settings
#   infra/orthanc.sh info DIR                         print its settings again
#   infra/orthanc.sh stop DIR                         SIGTERM, wait for it to exit (SIGKILL after 30 s)
#
# `start` and `info` print shell-style lines on stdout (eval-able; easy to parse in Python):
#   ORTHANC_URL=http://127.0.0.1:PORT  ORTHANC_DICOMWEB_URL=...  ORTHANC_USER=...
#   ORTHANC_PASSWORD=...  ORTHANC_DICOM_PORT=...  ORTHANC_AET=ORTHANC
# HTTP needs basic auth as ORTHANC_USER (default `pointcare`) with ORTHANC_PASSWORD (default:
# random, made on the first start and kept in DIR/password). Both can be set in the environment.
# The configuration comes from infra/orthanc.json.template; see it for what is enabled.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATE=$here/orthanc.json.template
STOP_TIMEOUT=30
START_TIMEOUT=30

say() { printf 'orthanc: %s\n' "$*" >&2; }
die() {
  say "ERROR: $*"
  exit 1
}

usage() {
  sed -n '4,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

orthanc_bin() {
  local bin
  for bin in "${ORTHANC_BIN:-}" /usr/sbin/Orthanc "$(command -v Orthanc || true)"; do
    if [[ -n "$bin" && -x "$bin" ]]; then
      printf '%s\n' "$bin"
      return
    fi
  done
  die "Orthanc not found; run infra/install-system-packages.sh as root"
}

pid_of() {
  # The PID recorded by `start`, if that process is still an Orthanc (and not a zombie).
  local pid state
  [[ -f "$DIR/orthanc.pid" ]] || return 1
  pid=$(cat "$DIR/orthanc.pid")
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "Orthanc.*$DIR/orthanc.json" || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ "$state" != Z ]] || return 1
  printf '%s\n' "$pid"
}

print_info() {
  [[ -f "$DIR/settings" ]] || die "no Orthanc started in $DIR"
  cat "$DIR/settings"
}

answers() {
  curl -fsS --max-time 2 -o /dev/null -u "$user:$password" "http://127.0.0.1:$http_port/system" 2>/dev/null
}

start() {
  local pid waited=0
  [[ "$http_port" =~ ^[0-9]+$ && "$dicom_port" =~ ^[0-9]+$ ]] || die "ports must be numbers"
  command -v curl >/dev/null 2>&1 || die "curl is missing; run infra/install-system-packages.sh"
  if pid=$(pid_of); then
    say "already running (pid $pid)"
    print_info
    return
  fi
  mkdir -p "$DIR/storage" "$DIR/index" "$DIR/log"

  if [[ -n "${ORTHANC_PASSWORD:-}" ]]; then
    password=$ORTHANC_PASSWORD
  elif [[ -f "$DIR/password" ]]; then
    password=$(cat "$DIR/password")
  else
    password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  fi
  (umask 077 && printf '%s' "$password" >"$DIR/password")
  [[ "$user" =~ ^[A-Za-z0-9._-]+$ && "$password" =~ ^[A-Za-z0-9._-]+$ ]] ||
    die "ORTHANC_USER and ORTHANC_PASSWORD may only hold letters, digits, '.', '_' and '-'"

  sed -e "s|@DIR@|$DIR|g" -e "s|@HTTP_PORT@|$http_port|g" -e "s|@DICOM_PORT@|$dicom_port|g" \
    -e "s|@USER@|$user|g" -e "s|@PASSWORD@|$password|g" "$TEMPLATE" >"$DIR/orthanc.json"
  chmod 0600 "$DIR/orthanc.json"

  # Output to a file, never to our stdout: a caller that captures our output (subprocess.run)
  # would otherwise wait for Orthanc to exit.
  "$(orthanc_bin)" --logdir="$DIR/log" "$DIR/orthanc.json" >"$DIR/orthanc.out" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$DIR/orthanc.pid"

  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$DIR/orthanc.out" >&2
      tail -n 15 "$DIR/log/Orthanc.log" >&2 2>/dev/null || true
      die "Orthanc exited during start-up (ports $http_port/$dicom_port in use?); logs in $DIR/log"
    fi
    if ((waited >= START_TIMEOUT * 10)); then
      kill -TERM "$pid" 2>/dev/null || true
      die "Orthanc did not answer GET /system within $START_TIMEOUT s; logs in $DIR/log"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done

  cat >"$DIR/settings" <<EOF
ORTHANC_URL=http://127.0.0.1:$http_port
ORTHANC_DICOMWEB_URL=http://127.0.0.1:$http_port/dicom-web
ORTHANC_USER=$user
ORTHANC_PASSWORD=$password
ORTHANC_DICOM_PORT=$dicom_port
ORTHANC_AET=ORTHANC
EOF
  chmod 0600 "$DIR/settings"
  say "running (pid $pid) on 127.0.0.1:$http_port, DICOM port $dicom_port, data in $DIR"
  print_info
}

stop() {
  local pid waited=0
  if ! pid=$(pid_of); then
    say "not running in $DIR"
    rm -f "$DIR/orthanc.pid"
    return
  fi
  kill -TERM "$pid"
  while pid_of >/dev/null; do
    if ((waited >= STOP_TIMEOUT * 10)); then
      say "still running after $STOP_TIMEOUT s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$DIR/orthanc.pid"
  say "stopped (pid $pid) after $((waited / 10)).$((waited % 10)) s"
}

(($# >= 2)) || usage
command=$1
DIR=$(realpath -m -- "$2")
[[ "$DIR" =~ ^[A-Za-z0-9/._-]+$ ]] || die "DIR may only hold letters, digits, '/', '.', '_' and '-': $DIR"
user=${ORTHANC_USER:-pointcare}

case "$command" in
  start)
    (($# == 4)) || usage
    http_port=$3
    dicom_port=$4
    start
    ;;
  info) print_info ;;
  stop) stop ;;
  *) usage ;;
esac
