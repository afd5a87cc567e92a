#!/usr/bin/env bash
# make build: release arm64 bootstraps for the six functions (provided.al2023), via
# cargo-lambda (PyPI, in .venv; it brings zig for the cross-link). Prints each size against
# the SPEC §7 limit and fails if one is over.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUNCTIONS=(authorizer create-key list-keys revoke-key site notifier)
LIMIT=8000000 # SPEC §7: under 8 MB (decimal, the stricter reading)

scripts/prereqs.sh rust node python

rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' \
  || rustup target add aarch64-unknown-linux-gnu
scripts/cargo-lambda.sh install
scripts/web.sh

args=()
for f in "${FUNCTIONS[@]}"; do args+=(--package "$f"); done
scripts/cargo-lambda.sh build --quiet --release --arm64 "${args[@]}"

status=0
for f in "${FUNCTIONS[@]}"; do
  bin="target/lambda/$f/bootstrap"
  [[ -f "$bin" ]] || { echo "missing $bin" >&2; status=1; continue; }
  size=$(stat -c %s "$bin")
  verdict="ok"
  if ((size >= LIMIT)); then verdict="OVER the 8 MB (8,000,000 bytes) limit"; status=1; fi
  awk -v f="$f" -v s="$size" -v v="$verdict" 'BEGIN { printf "%-12s %9d bytes  %5.2f MB  %s\n", f, s, s / 1000000, v }'
done
exit $status
