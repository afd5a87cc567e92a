#!/usr/bin/env bash
# make lint-infra: cfn-lint, `sam validate --lint`, plain `sam validate` and Checkov on
# infra/template.yaml, from the project's venvs. Needs no AWS credentials or network (beyond
# PyPI the first time). Checkov must report no failed check: every exception is a `skip` in
# the resource's Metadata with its reason.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/venv.sh
scripts/venv.sh checkov
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
run .venv-checkov/bin/checkov --file infra/template.yaml --framework cloudformation \
  --compact --quiet --skip-download
