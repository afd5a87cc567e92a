#!/usr/bin/env bash
# make dev: the whole stack on this machine. DynamoDB Local, the table, an admin key (printed
# once), and the local API Gateway with the functions in-process, until Ctrl-C.
#   PODKEYS_PORT (3000), DYNAMODB_PORT (8000), TABLE_NAME (podkeys), KEY_PREFIX (pod)
#   PODCAST_BACKEND_URL: a real podcast backend instead of the built-in echo backend
#     (http:// only on loopback)
# Every other configuration variable of the functions passes straight through to them, as on
# Lambda: LAST_USED_INTERVAL_SECS, RETENTION_DAYS, AUDIT_RETENTION_DAYS, USAGE_FLUSH_SECS, SIGNING_TABLE_NAME, ASSERTION_AUDIENCE,
# ASSERTION_ISSUER, MAX_ACTIVE_KEYS_PER_OWNER, FEED_PATHS, PLANS, DEFAULT_PLAN, RUST_LOG
# (README, Configuration), and WEBHOOK_URL / WEBHOOK_SECRET: with both set, the local gateway runs
# the notifier on DynamoDB Local's stream and signs a POST to WEBHOOK_URL for every key change
# (README, Webhooks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PODKEYS_PORT="${PODKEYS_PORT:-3000}"
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
export TABLE_NAME="${TABLE_NAME:-podkeys}"
export KEY_PREFIX="${KEY_PREFIX:-pod}"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
# DynamoDB Local accepts any credentials; fixed ones keep a developer's real AWS set-up out.
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
unset AWS_PROFILE AWS_SESSION_TOKEN
export RUST_LOG="${RUST_LOG:-warn}"

say() { printf '%s\n' "$*" >&2; }

scripts/prereqs.sh rust java node python
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in "$PODKEYS_PORT" "$DYNAMODB_PORT"; do
  if busy "$port"; then
    say "make dev: port $port is in use (another make dev?). Set PODKEYS_PORT / DYNAMODB_PORT."
    exit 1
  fi
done

scripts/web.sh
say "==> building the local gateway and the apikeys CLI"
cargo build --quiet -p local-gateway -p apikeys
say "==> DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT"
eval "$(scripts/dynamodb-local.sh start "$DYNAMODB_PORT")"
cleanup() { scripts/dynamodb-local.sh stop "$DDB_PID"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The CLI's errors go to the terminal: a failing table create or admin-key mint says why.
target/debug/apikeys table create >/dev/null \
  || { say "make dev: creating table $TABLE_NAME on DynamoDB Local failed (above)"; exit 1; }
KEY="$(target/debug/apikeys create --owner admin --name "make dev admin" --scopes '*' --admin --plan unlimited)" \
  || { say "make dev: minting the admin key failed (above)"; exit 1; }
API="http://127.0.0.1:$PODKEYS_PORT"

cat <<EOT

podkeys is running at $API (table $TABLE_NAME on DynamoDB Local, in memory).

Admin key: $KEY

Try it:
  curl -s $API/api/v1/auth/me -H "X-API-Key: $KEY"
  curl -s -X POST $API/api/v1/auth/api-keys -H "X-API-Key: $KEY" -d '{"name":"staging","scopes":["*"],"expires_in_days":90}'
  curl -s "$API/api/v1/auth/api-keys?status=active" -H "Authorization: Bearer $KEY"
  curl -s $API/api/v1/podcasts/42 -H "Api-Key: $KEY"
  curl -s -X DELETE $API/api/v1/auth/api-keys/<id> -H "X-API-Key: $KEY"
  curl -s $API/api/v1/auth/me                 # 401: no key

In a browser (no key needed to load them):
  $API/console            the key-management console: sign in by pasting the admin key
  $API/api/docs           the API reference
  $API/api/openapi.json   the OpenAPI document

Webhooks: ${WEBHOOK_URL:-off (set WEBHOOK_URL and WEBHOOK_SECRET; README, Webhooks)}
  AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB WEBHOOK_URL=<as above> WEBHOOK_SECRET=<yours> \\
    target/debug/apikeys notify-expiring      # the daily expiry scan, now

The admin key lives only in this in-memory table: it is gone when you stop (Ctrl-C).
EOT

target/debug/local-gateway --port "$PODKEYS_PORT"
