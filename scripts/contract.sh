#!/usr/bin/env bash
# The API contract, checked against the running local stack (part of `make test`):
#   0. a proxied request's assertion verifies with PyJWT against the JWKS (a backend's view);
#   1. the OpenAPI document (infra/openapi.yaml, and the public form served at
#      /api/openapi.json) is valid OpenAPI 3 (openapi-spec-validator);
#   2. Schemathesis generates requests for every operation from the served document, with a
#      real admin key, and runs all its checks on the answers.
# Needs PODKEYS_TEST_DYNAMODB (a DynamoDB Local endpoint; scripts/test.sh starts one).
#   CONTRACT_EXAMPLES   examples per operation and phase (default 40)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${PODKEYS_TEST_DYNAMODB:?set PODKEYS_TEST_DYNAMODB to a DynamoDB Local endpoint}"
EXAMPLES="${CONTRACT_EXAMPLES:-40}"
OUT=target/contract
mkdir -p "$OUT"

scripts/venv.sh
cargo build --quiet -p local-gateway -p apikeys

# Schemathesis creates many keys for one owner: the per-owner limit is raised for it.
export TABLE_NAME="contract-$$-$RANDOM" KEY_PREFIX=pod RUST_LOG=error MAX_ACTIVE_KEYS_PER_OWNER=10000
export AWS_ENDPOINT_URL_DYNAMODB="$PODKEYS_TEST_DYNAMODB"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
unset AWS_PROFILE AWS_SESSION_TOKEN

target/debug/apikeys table create >/dev/null
KEY="$(target/debug/apikeys create --owner admin --name contract --scopes '*' --admin --plan unlimited)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
target/debug/local-gateway --port "$PORT" >"$OUT/gateway.log" 2>&1 &
GW=$!
trap 'kill "$GW" 2>/dev/null || true' EXIT
API="http://127.0.0.1:$PORT"
for _ in $(seq 100); do
  curl -fsS -o "$OUT/openapi.json" "$API/api/openapi.json" 2>/dev/null && break
  sleep 0.1
done
[[ -s "$OUT/openapi.json" ]] || { echo "contract: the local gateway did not start:" >&2; cat "$OUT/gateway.log" >&2; exit 1; }

# The podcast backend's view: the assertion verifies with PyJWT, forged headers change nothing.
.venv/bin/python scripts/verify-assertion.py "$API" "$KEY" admin

# The operator's deploy check, against this stack, so that it cannot rot; and it must fail
# (and print no key) when the admin key is wrong.
PODKEYS_ADMIN_KEY="$KEY" scripts/smoke.sh "$API" - >"$OUT/smoke.log" 2>&1 \
  || { echo "contract: scripts/smoke.sh failed:" >&2; cat "$OUT/smoke.log" >&2; exit 1; }
grep -E '^(PASS|SKIP) smoke' "$OUT/smoke.log" || true
# The default plan (free, 100 a minute) is limited here: the 429 step must run, not skip.
grep -q '^PASS over its limit it gets 429' "$OUT/smoke.log" \
  || { echo "contract: smoke.sh did not see a 429:" >&2; cat "$OUT/smoke.log" >&2; exit 1; }
if PODKEYS_ADMIN_KEY="${KEY%?}x" scripts/smoke.sh "$API" - >"$OUT/smoke-bad.log" 2>&1; then
  echo "contract: smoke.sh passed with a wrong admin key" >&2; exit 1
fi
grep -q '^FAIL the admin key works' "$OUT/smoke-bad.log" \
  || { echo "contract: smoke.sh did not fail on a wrong admin key:" >&2; cat "$OUT/smoke-bad.log" >&2; exit 1; }
if grep -qF "${KEY:4}" "$OUT/smoke.log" "$OUT/smoke-bad.log"; then
  echo "contract: smoke.sh printed a key" >&2; exit 1
fi

.venv/bin/openapi-spec-validator infra/openapi.yaml "$OUT/openapi.json" >"$OUT/validator.log" 2>&1 \
  || { echo "contract: the OpenAPI document is not valid:" >&2; cat "$OUT/validator.log" >&2; exit 1; }

# All checks but one, every phase, bounded by examples per operation. `use_after_free` is off
# (tests/contract/schemathesis.toml says why: DELETE revokes, and a revoked key, its usage and
# its audit events stay readable); `--checks all` on the command line would turn the config
# file's `enabled = false` back on in the stateful phase, where a CI run met it. The seed is fixed so that a
# failure reproduces; CONTRACT_SEED picks another. One worker: Schemathesis's workers are
# threads, and Hypothesis describes lambdas with ast.parse, which before CPython 3.11.8 shares
# one recursion counter between threads when GC releases the GIL (python/cpython#106905, fixed
# by #113476) and fails at random with "SystemError: AST constructor recursion depth mismatch".
# The machines' pyenv Python is 3.11.7; a CI run failed exactly that way.
if ! .venv/bin/schemathesis --config-file tests/contract/schemathesis.toml \
    run "$API/api/openapi.json" \
    --header "X-API-Key: $KEY" \
    --checks all \
    --exclude-checks use_after_free \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$EXAMPLES" \
    --seed "${CONTRACT_SEED:-20261123}" \
    --workers 1 \
    --suppress-health-check too_slow \
    --report ndjson --report-dir "$OUT" \
    --no-color >"$OUT/schemathesis.log" 2>&1; then
  echo "contract: Schemathesis found problems ($OUT/schemathesis.log):" >&2
  cat "$OUT/schemathesis.log" >&2
  exit 1
fi
grep -E "test cases|passed|Test cases" "$OUT/schemathesis.log" | tail -3 || true
