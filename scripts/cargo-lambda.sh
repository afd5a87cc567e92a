#!/usr/bin/env bash
# `cargo lambda …` from the project's venv (cargo-lambda from PyPI; see scripts/venv.sh).
#   scripts/cargo-lambda.sh install        install (or keep) the pinned tools
#   scripts/cargo-lambda.sh [ARGS…]         run `cargo lambda ARGS…`
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/venv.sh"
[[ "${1:-}" == install ]] && exit 0
PATH="$ROOT/.venv/bin:$PATH" exec "$ROOT/.venv/bin/cargo-lambda" lambda "$@"
