#!/usr/bin/env bash
# cargo-lambda from PyPI in the project's own venv (.venv, git-ignored). Idempotent.
#   scripts/cargo-lambda.sh install        install (or keep) the pinned version
#   scripts/cargo-lambda.sh [ARGS…]         run `cargo lambda ARGS…` with it
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="1.9.2"
VENV="$ROOT/.venv"
BIN="$VENV/bin/cargo-lambda"

install() {
  if [[ -x "$BIN" ]] && "$BIN" lambda --version 2>/dev/null | grep -q " $VERSION "; then
    return 0
  fi
  command -v python3 >/dev/null || { echo "cargo-lambda: python3 is needed" >&2; exit 1; }
  [[ -x "$VENV/bin/pip" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$VERSION"
}

case "${1:-}" in
  install) install ;;
  *) install; PATH="$VENV/bin:$PATH" exec "$BIN" lambda "$@" ;;
esac
