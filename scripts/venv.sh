#!/usr/bin/env bash
# The project's own Python venvs (git-ignored) with pinned tools: .venv from
# scripts/python-tools.txt, or with `checkov`, .venv-checkov from scripts/python-checkov.txt
# (Checkov's pins clash with aws-sam-cli's). Idempotent: reinstalls only when the file changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  "") VENV="$ROOT/.venv"; REQ="$ROOT/scripts/python-tools.txt" ;;
  checkov) VENV="$ROOT/.venv-checkov"; REQ="$ROOT/scripts/python-checkov.txt" ;;
  *) echo "venv: unknown venv ${1}" >&2; exit 2 ;;
esac
STAMP="$VENV/.tools-sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/pip" && "$(cat "$STAMP" 2>/dev/null)" == "$want" ]]; then
  exit 0
fi
command -v python3 >/dev/null || { echo "venv: python3 is needed" >&2; exit 1; }
[[ -x "$VENV/bin/pip" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
echo "$want" >"$STAMP"
