#!/usr/bin/env bash
# make bench: every SPEC §7 figure against a same-run baseline (tools/bench), then the
# criterion benchmarks of key parsing and generation. Rewrites the results in BENCHMARKS.md.
# Not part of make test. Arguments pick parts: authorizer ratelimit garbage crud flat cold
# memory sizes;
# a partial run prints its rows as Markdown and leaves BENCHMARKS.md alone.
# Honours CARGO_TARGET_DIR (the bench finds the binaries there too).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# One invocation, so the authorizer and both hello-world baselines share the release profile
# and one feature resolution.
echo "==> release builds (authorizer, hello-lambda baselines, bench driver)"
cargo build --quiet --release -p authorizer -p podkeys-bench
echo "==> DynamoDB Local"
eval "$(scripts/dynamodb-local.sh start)"
trap 'scripts/dynamodb-local.sh stop "$DDB_PID"' EXIT
PODKEYS_BENCH_DYNAMODB="http://127.0.0.1:$DDB_PORT" PODKEYS_ROOT="$PWD" \
  "${CARGO_TARGET_DIR:-target}/release/podkeys-bench" "$@"
if [[ $# -eq 0 ]]; then
  echo "==> criterion: key parse, hash, generation (shared/apikey)"
  cargo bench --quiet -p apikey --bench keys -- --warm-up-time 1 --measurement-time 3 2>&1 \
    | grep -E '^(parse|generate)/|time:'
  echo "==> criterion: signing the assertion (shared/assertion; SPEC 7b: < 50 us)"
  cargo bench --quiet -p assertion --bench sign -- --warm-up-time 1 --measurement-time 3 2>&1 \
    | grep -E '^assertion/|time:'
fi
