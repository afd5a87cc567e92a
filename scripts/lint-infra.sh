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
# Twice: as written, and with every optional part on: the HTTP API front door
# (HttpApiFrontDoor=true, SPEC §17) and lifecycle webhooks (WebhookUrl and WebhookSecretArn,
# SPEC §14; placeholder values, nothing is resolved). Checkov evaluates conditions from
# parameter defaults, so the second copy is what makes it look at those resources at all.
# (Its file name, which infra/.gitignore lists, is from when it turned on the front door only.)
all_on=infra/.template-http-front-door.yaml
trap 'rm -f "$all_on"' EXIT
python3 - infra/template.yaml "$all_on" <<'PY'
import sys
text = open(sys.argv[1]).read()
def set_default(text, name, old, new):
    start = text.index(f"  {name}:\n")
    at = text.index(f"    Default: {old}\n", start)
    return text[:at] + f"    Default: {new}\n" + text[at + len(f"    Default: {old}\n"):]
text = set_default(text, "HttpApiFrontDoor", '"false"', '"true"')
text = set_default(text, "WebhookUrl", '""', '"https://hooks.example.com/podkeys"')
text = set_default(text, "WebhookSecretArn", '""',
                   '"arn:aws:secretsmanager:us-east-1:123456789012:secret:podkeys-webhook-AbCdEf"')
open(sys.argv[2], "w").write(text)
PY
for template in template.yaml .template-http-front-door.yaml; do
  run .venv/bin/cfn-lint "infra/$template"
  (cd infra && run ../.venv/bin/sam validate --lint --template "$template")
  (cd infra && run ../.venv/bin/sam validate --template "$template")
  run .venv-checkov/bin/checkov --file "infra/$template" --framework cloudformation \
    --compact --quiet --skip-download
done
