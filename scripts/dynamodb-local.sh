#!/usr/bin/env bash
# The official DynamoDB Local, from the jar inside the npm package amplify-dynamodb-simulator.
#
#   scripts/dynamodb-local.sh install          idempotent; into .local/dynamodb (git-ignored)
#   scripts/dynamodb-local.sh start [PORT]     in-memory, on PORT or a free port; waits until it
#                                              answers, then prints shell assignments:
#                                              DDB_PID=… DDB_PORT=… PODKEYS_TEST_DYNAMODB=…
#   scripts/dynamodb-local.sh stop PID         stops that process (and only it)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG_VERSION="2.9.30" # amplify-dynamodb-simulator; ships DynamoDB Local 1.25.1
DIR="$ROOT/.local/dynamodb"
JAR="$DIR/emulator/DynamoDBLocal.jar"
STAMP="$DIR/.version"

die() { echo "dynamodb-local: $*" >&2; exit 1; }

install() {
  if [[ -f "$JAR" && "$(cat "$STAMP" 2>/dev/null)" == "$PKG_VERSION" ]]; then
    return 0
  fi
  command -v npm >/dev/null || die "npm is needed to fetch DynamoDB Local (install Node.js)"
  # A subshell owns the temporary folder: its EXIT trap removes it whichever way the subshell
  # ends. (A `trap … RETURN` set here would stay set and fire again when the caller returns,
  # where `tmp` is unbound under `set -u`: the first-run failure of issue 16.)
  (
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$PKG_VERSION" >/dev/null) \
      || die "npm pack amplify-dynamodb-simulator@$PKG_VERSION failed"
    tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp" package/emulator
    rm -rf "$DIR"
    mkdir -p "$DIR"
    mv "$tmp/package/emulator" "$DIR/emulator"
    echo "$PKG_VERSION" >"$STAMP"
  )
  [[ -f "$JAR" ]] || die "the package did not contain emulator/DynamoDBLocal.jar"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# DynamoDB Local answers an unsigned request with HTTP 400 once it is serving.
answers() {
  python3 - "$1" <<'PY' 2>/dev/null
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1)
except urllib.error.HTTPError:
    sys.exit(0)
except Exception:
    sys.exit(1)
PY
}

start() {
  install
  command -v java >/dev/null || die "java (17+) is needed to run DynamoDB Local"
  local port="${1:-$(free_port)}" log pid
  mkdir -p "$DIR/logs"
  log="$DIR/logs/$port.log"
  (cd "$DIR/emulator" && exec java -Xms64m -Xmx1g -Djava.library.path=./DynamoDBLocal_lib \
      -jar DynamoDBLocal.jar -inMemory -port "$port" </dev/null >"$log" 2>&1) &
  pid=$!
  for _ in $(seq 1 150); do
    if answers "$port"; then
      echo "DDB_PID=$pid DDB_PORT=$port PODKEYS_TEST_DYNAMODB=http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  echo "dynamodb-local: did not answer on port $port within 30 s; its log:" >&2
  cat "$log" >&2
  exit 1
}

stop() {
  local pid="${1:-}"
  [[ "$pid" =~ ^[0-9]+$ ]] || die "stop needs the PID that start printed"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) die "usage: $0 install | start [PORT] | stop PID" ;;
esac
