#!/usr/bin/env bash
# The project's own Python venv (.venv, git-ignored) with the pinned tools of
# scripts/python-tools.txt. Idempotent: reinstalls only when that file changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQ="$ROOT/scripts/python-tools.txt"
STAMP="$VENV/.tools-sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/pip" && "$(cat "$STAMP" 2>/dev/null)" == "$want" ]]; then
  exit 0
fi
command -v python3 >/dev/null || { echo "venv: python3 is needed" >&2; exit 1; }
[[ -x "$VENV/bin/pip" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
echo "$want" >"$STAMP"
