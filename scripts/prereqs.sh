#!/usr/bin/env bash
# The README's prerequisites, checked before `make test`, `make dev` and `make build` install the
# rest themselves. Each missing one is named in one line with what to install; nothing is
# installed here (that needs root and is the machine owner's call). Exit 1 if any is missing.
#   scripts/prereqs.sh [rust] [java] [node] [python]     (default: all four)
set -uo pipefail

missing=0
need() { printf 'prerequisite missing: %s\n' "$*" >&2; missing=1; }

check_rust() {
  command -v cargo >/dev/null || { need "a Rust toolchain (rustup: https://rustup.rs), then run this again"; return; }
  command -v rustup >/dev/null \
    || need "rustup (the project adds rustfmt, clippy and the aarch64 target with it; https://rustup.rs)"
}
check_java() {
  command -v java >/dev/null \
    || need "Java 17+ for DynamoDB Local (Debian/Ubuntu: apt-get install default-jre-headless)"
}
check_node() {
  command -v npm >/dev/null \
    || need "Node.js and npm for DynamoDB Local and Swagger UI (Debian/Ubuntu: apt-get install nodejs npm)"
}
check_python() {
  if ! command -v python3 >/dev/null; then
    need "Python 3 for the project's tools venv (Debian/Ubuntu: apt-get install python3 python3-venv)"
  elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    need "python3 -m venv does not work here (Debian/Ubuntu: apt-get install python3-venv)"
  fi
}

parts=("$@")
((${#parts[@]})) || parts=(rust java node python)
for part in "${parts[@]}"; do "check_$part"; done
exit "$missing"
