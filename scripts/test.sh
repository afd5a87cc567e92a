#!/usr/bin/env bash
# Everything `make test` checks: formatting, clippy, the infra linters, then every test (unit,
# property, DynamoDB Local, end-to-end, browser) against a DynamoDB Local started here and
# stopped on exit, then the API contract (OpenAPI validity and Schemathesis).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s\n' "$*"; }

scripts/prereqs.sh rust java node python

step "cargo fmt --check"
cargo fmt --all --check

step "front-end files from npm (web/), Chromium for the browser tests"
scripts/web.sh
scripts/chromium.sh

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --workspace --all-targets -- -D warnings

step "lint-infra (cfn-lint, sam validate --lint, sam validate)"
scripts/lint-infra.sh

step "DynamoDB Local"
ddb="$(scripts/dynamodb-local.sh start)"
eval "$ddb"
trap 'scripts/dynamodb-local.sh stop "$DDB_PID"' EXIT
export PODKEYS_TEST_DYNAMODB

step "cargo test (DynamoDB Local on port $DDB_PORT)"
# The functions' own binaries too: tests/api/log_levels.rs runs them as Lambda would.
cargo build --quiet --workspace --bins
cargo test --quiet --workspace --all-targets
# Doc tests are not part of --all-targets.
cargo test --quiet --workspace --doc

step "API contract: openapi-spec-validator, Schemathesis against the local gateway"
scripts/contract.sh
