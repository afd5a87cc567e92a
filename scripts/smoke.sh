#!/usr/bin/env bash
# scripts/smoke.sh API_URL ADMIN_KEY — the deploy check (SPEC §17): runs the client flows
# against any running podkeys stack (a fresh `sam deploy`, or `make dev`) and prints one
# PASS / FAIL / SKIP line per step. Exits non-zero if any step failed.
#
#   API_URL    the API's base URL, with its stage if it has one (the stack output ApiUrl,
#              e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod)
#   ADMIN_KEY  an admin key (`apikeys create --owner ops --name smoke --admin`); or set
#              PODKEYS_ADMIN_KEY and pass "-" so the key stays out of the process list.
#
# It creates keys named smoke-<time> and revokes every one of them before it exits, whatever
# happened. It never prints a key: only key ids. Needs bash, curl and python3 (standard
# library only). make test runs it against the local stack (scripts/contract.sh).
set -uo pipefail

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then usage; exit 0; fi
if [[ $# -ne 2 ]]; then usage >&2; exit 2; fi
API="${1%/}"
ADMIN="$2"
[[ "$ADMIN" == "-" ]] && ADMIN="${PODKEYS_ADMIN_KEY:-}"
[[ -n "$ADMIN" ]] || { echo "smoke: no admin key" >&2; exit 2; }
command -v curl >/dev/null || { echo "smoke: curl is needed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "smoke: python3 is needed" >&2; exit 2; }

WORK="$(mktemp -d)"
FAILED=0
CREATED=()
cleanup() {
  for id in "${CREATED[@]}"; do
    call DELETE "/api/v1/auth/api-keys/$id" "$ADMIN" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; FAILED=1; }
skip() { printf 'SKIP %s: %s\n' "$1" "$2"; }

# call METHOD PATH KEY [BODY]: the status on stdout, the body in $WORK/body. The key goes to
# curl through a header file, never on its command line.
call() {
  local method="$1" path="$2" key="$3" body="${4:-}"
  local headers="$WORK/headers"
  : >"$headers"
  chmod 600 "$headers"
  [[ -n "$key" ]] && printf 'X-API-Key: %s\n' "$key" >"$headers"
  local args=(-sS -o "$WORK/body" -D "$WORK/response-headers" -w '%{http_code}' -X "$method" -H "@$headers"
              --max-time 15 --connect-timeout 5)
  if [[ -n "$body" ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  # On no answer curl prints 000 itself.
  curl "${args[@]}" "$API$path" 2>"$WORK/curl.err" || true
}

# json EXPR: evaluates a Python expression over the last body (bound to `b`); prints it.
json() {
  python3 - "$WORK/body" "$1" <<'PY' 2>/dev/null
import json, sys
try:
    b = json.load(open(sys.argv[1]))
except Exception:
    b = None
try:
    v = eval(sys.argv[2], {"b": b})
except Exception:
    v = None
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))
PY
}

error_code() { json 'b["error"]["code"]'; }

# header NAME: a header of the last answer (case-insensitive), without its line end.
header() {
  grep -i "^$1:" "$WORK/response-headers" 2>/dev/null | head -n 1 | cut -d: -f2- | tr -d ' \r'
}

# expect STEP STATUS CODE: the last answer was STATUS with error code CODE.
expect() {
  local step="$1" want="$2" code="$3"
  if [[ "$status" == "$want" && "$(error_code)" == "$code" ]]; then
    pass "$step ($want $code)"
  else
    fail "$step" "answered $status $(error_code), not $want $code"
  fi
}

# ---- the flows ----

status="$(call GET /api/v1/auth/me "$ADMIN")"
if [[ "$status" == 000 ]]; then
  fail "reach the API" "no answer from $API ($(head -c 200 "$WORK/curl.err"))"
  echo "FAIL smoke: the API is unreachable; nothing else was tried"
  exit 1
fi
if [[ "$status" == 200 && "$(json 'b["admin"]')" == "true" ]]; then
  pass "the admin key works (GET /api/v1/auth/me, admin)"
else
  fail "the admin key works" "GET /api/v1/auth/me answered $status $(error_code), not an admin 200"
  echo "FAIL smoke: without a working admin key nothing else can be checked"
  exit 1
fi

NAME="smoke-$(date -u +%Y%m%dT%H%M%SZ)"
status="$(call POST /api/v1/auth/api-keys "$ADMIN" \
  "{\"name\":\"$NAME\",\"scopes\":[\"podcasts:read\",\"keys:read\"],\"expires_in_days\":1}")"
KEY="$(json 'b["key"]')"
ID="$(json 'b["id"]')"
if [[ "$status" == 201 && -n "$KEY" && -n "$ID" ]]; then
  CREATED+=("$ID")
  pass "create a key ($ID)"
else
  fail "create a key" "POST /api/v1/auth/api-keys answered $status $(error_code)"
  echo "FAIL smoke: no key to continue with"
  exit 1
fi

status="$(call GET /api/v1/podcasts/podkeys-smoke "$KEY")"
case "$status" in
  401|403|429|5*|000)
    fail "use it on the podcast API" "GET /api/v1/podcasts/… answered $status $(error_code)" ;;
  *) pass "use it on the podcast API (the gateway let it through; the backend said $status)" ;;
esac
if [[ "$(json 'b is not None and "verified_assertion" in b')" == "true" ]]; then
  if [[ "$(json 'b["verified_assertion"]["key_id"]')" == "$ID" ]]; then
    pass "the backend verified the signed assertion against the JWKS"
  else
    fail "the backend verified the signed assertion" "$(json 'b.get("assertion_error")')"
  fi
else
  skip "the backend verified the signed assertion" \
    "this backend does not echo it (the make dev echo backend does); verify X-Podkeys-Assertion in yours"
fi

status="$(call GET /.well-known/jwks.json "")"
if [[ "$status" == 200 && "$(json 'bool(b["keys"]) and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k.get("kid") for k in b["keys"])')" == "true" ]]; then
  pass "the JWKS serves Ed25519 keys (GET /.well-known/jwks.json, no key)"
else
  fail "the JWKS serves Ed25519 keys" "answered $status"
fi

status="$(call GET /api/v1/auth/me "$KEY")"
if [[ "$status" == 200 && "$(json 'b["key"]["id"]')" == "$ID" ]]; then
  pass "GET /api/v1/auth/me with the new key names it"
else
  fail "GET /api/v1/auth/me with the new key" "answered $status $(error_code)"
fi

listed=false
for _ in 1 2 3 4 5 6 7 8 9 10; do
  status="$(call GET "/api/v1/auth/api-keys?status=active&limit=100" "$ADMIN")"
  if [[ "$status" == 200 && "$(json "any(k['id'] == '$ID' for k in b)")" == "true" ]]; then
    listed=true
    break
  fi
  sleep 1 # listings read an eventually consistent index
done
if $listed; then pass "the key is listed"; else fail "the key is listed" "not in the active list ($status)"; fi

# SPEC §11 and §12: the audit log has the key's creation; its usage reads every day of 30.
audited=false
for _ in 1 2 3 4 5 6 7 8 9 10; do
  status="$(call GET "/api/v1/auth/audit-log?key_id=$ID&action=key.created" "$ADMIN")"
  if [[ "$status" == 200 && "$(json "any(e['target']['key_id'] == '$ID' for e in b)")" == "true" ]]; then
    audited=true
    break
  fi
  sleep 1 # the audit log reads an eventually consistent index
done
if $audited; then pass "the audit log records its creation"; else fail "the audit log records its creation" "no key.created event ($status)"; fi
status="$(call GET "/api/v1/auth/api-keys/$ID/usage" "$KEY")"
if [[ "$status" == 200 && "$(json 'len(b["days"]) == 30 and b["key_id"]')" == "$ID" ]]; then
  pass "its usage answers with the last 30 days"
else
  fail "its usage answers" "GET /api/v1/auth/api-keys/$ID/usage answered $status $(error_code)"
fi

status="$(call GET /api/v1/podcasts/podkeys-smoke "pod_smokeUnknownKey000000000000000000000000000000000")"
expect "an unknown key is refused" 401 unauthorized

status="$(call POST "/api/v1/auth/api-keys/$ID/rotate" "$ADMIN" '{"grace_period_seconds":0}')"
NEW_KEY="$(json 'b["key"]')"
NEW_ID="$(json 'b["id"]')"
if [[ "$status" == 201 && -n "$NEW_KEY" && -n "$NEW_ID" ]]; then
  CREATED+=("$NEW_ID")
  pass "rotate it ($ID -> $NEW_ID, no grace)"
  status="$(call GET /api/v1/auth/me "$KEY")"
  expect "the rotated-out key is refused at once" 403 key_revoked
  status="$(call GET /api/v1/auth/me "$NEW_KEY")"
  if [[ "$status" == 200 ]]; then pass "the new key works"; else fail "the new key works" "answered $status $(error_code)"; fi
else
  fail "rotate it" "answered $status $(error_code)"
  NEW_KEY=""
fi

if [[ -n "$NEW_KEY" ]]; then
  status="$(call DELETE "/api/v1/auth/api-keys/$NEW_ID" "$ADMIN")"
  if [[ "$status" == 200 && "$(json 'b["status"]')" == revoked ]]; then
    pass "revoke it"
    status="$(call GET /api/v1/podcasts/podkeys-smoke "$NEW_KEY")"
    expect "the revoked key is refused on the very next request" 403 key_revoked
  else
    fail "revoke it" "answered $status $(error_code)"
  fi
fi

# SPEC §10: a key on a limited plan sees its figures, then 429s with them. The key is on
# SMOKE_PLAN (an admin may name any plan), else on the stack's default plan; a plan whose
# smallest limit is over 300 is not exhausted here.
PLAN_FIELD=""
[[ -n "${SMOKE_PLAN:-}" ]] && PLAN_FIELD=",\"plan\":\"$SMOKE_PLAN\""
status="$(call POST /api/v1/auth/api-keys "$ADMIN" \
  "{\"name\":\"$NAME-limited\",\"scopes\":[\"keys:read\"],\"expires_in_days\":1$PLAN_FIELD}")"
LIMITED_KEY="$(json 'b["key"]')"
LIMITED_ID="$(json 'b["id"]')"
if [[ "$status" != 201 || -z "$LIMITED_KEY" ]]; then
  fail "a rate-limited key gets 429" "creating it answered $status $(error_code)"
else
  CREATED+=("$LIMITED_ID")
  status="$(call GET /api/v1/auth/me "$LIMITED_KEY")"
  plan="$(json 'b["plan"]')"
  limit="$(json 'b["rate_limit"]["limit"] if b and b.get("rate_limit") else None')"
  if [[ "$status" != 200 ]]; then
    fail "a rate-limited key gets 429" "GET /api/v1/auth/me answered $status $(error_code)"
  elif [[ -z "$limit" ]]; then
    skip "a rate-limited key gets 429" "plan $plan has no limit; set SMOKE_PLAN to a limited plan"
  elif (( limit > 300 )); then
    skip "a rate-limited key gets 429" "plan $plan allows $limit; set SMOKE_PLAN to a plan of at most 300"
  else
    if [[ "$(header X-RateLimit-Limit)" == "$limit" && "$(header X-RateLimit-Remaining)" == "$((limit - 1))" ]]; then
      pass "a key on plan $plan sees X-RateLimit-Limit $limit, X-RateLimit-Remaining $((limit - 1))"
    else
      fail "X-RateLimit-* headers" "Limit '$(header X-RateLimit-Limit)', Remaining '$(header X-RateLimit-Remaining)' for a limit of $limit"
    fi
    for _ in $(seq 1 "$limit"); do
      status="$(call GET /api/v1/auth/me "$LIMITED_KEY")"
      [[ "$status" == 429 ]] && break
    done
    if [[ "$status" == 429 && "$(error_code)" == rate_limit_exceeded \
          && "$(json 'b["error"]["limit"]')" == "$limit" \
          && "$(json 'b["error"]["retry_after"] >= 1')" == true \
          && -n "$(header Retry-After)" ]]; then
      pass "over its limit it gets 429 rate_limit_exceeded with limit, retry_after and Retry-After"
    else
      fail "a rate-limited key gets 429" "after $((limit + 1)) requests: $status $(error_code), Retry-After '$(header Retry-After)'"
    fi
  fi
fi

if [[ "$FAILED" == 0 ]]; then
  echo "PASS smoke: $API works end to end"
else
  echo "FAIL smoke: see the FAIL lines above"
fi
exit "$FAILED"
