#!/usr/bin/env bash
# Front-end files podkeys vendors from npm (web/package.json, pinned with integrity hashes by
# web/package-lock.json) into web/node_modules (git-ignored). functions/site embeds them at
# build time. Idempotent: reinstalls only when the lock file changes.
set -euo pipefail
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/../web" && pwd)"
STAMP="$WEB/node_modules/.podkeys-lock-sha256"
want="$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)"
[[ "$(cat "$STAMP" 2>/dev/null)" == "$want" ]] && exit 0
command -v npm >/dev/null || { echo "web.sh: npm is needed (Debian: apt-get install npm)" >&2; exit 1; }
(cd "$WEB" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
echo "$want" >"$STAMP"
