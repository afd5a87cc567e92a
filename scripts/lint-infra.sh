#!/usr/bin/env bash
# make lint-infra: cfn-lint, `sam validate --lint` and plain `sam validate` on
# infra/template.yaml, from the project's venv. Needs no AWS credentials or network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/venv.sh
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-lint}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-lint}"
run() {
  local out
  if ! out="$("$@" 2>&1)"; then
    echo "lint-infra: $* failed:" >&2
    echo "$out" >&2
    exit 1
  fi
}
run .venv/bin/cfn-lint infra/template.yaml
(cd infra && run ../.venv/bin/sam validate --lint --template template.yaml)
(cd infra && run ../.venv/bin/sam validate --template template.yaml)
