"""A podcast backend's view, through a running podkeys (the local gateway of `make dev`):

a proxied request's X-Podkeys-Assertion verifies with PyJWT against /.well-known/jwks.json and
names the key's owner, and headers a client forges (X-Podkeys-*, in any letter case) change
nothing. Run by scripts/contract.sh in `make test`.

    verify-assertion.py API_URL KEY OWNER
"""
import json
import sys
import urllib.request

import jwt

api, key, owner = sys.argv[1:4]
forged = {
    "X-API-Key": key,
    "x-podkeys-owner-id": "victim",
    "X-PODKEYS-SCOPES": "* admin",
    "X-Podkeys-Key-Id": "key_forgedforgedforged",
    "X-Podkeys-Assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ2aWN0aW0ifQ.",
}
request = urllib.request.Request(f"{api}/api/v1/podcasts/42", headers=forged)
with urllib.request.urlopen(request) as response:
    echoed = json.load(response)
headers = {name.lower(): value for name, value in echoed["headers"].items()}
token = headers["x-podkeys-assertion"]

signing_key = jwt.PyJWKClient(f"{api}/.well-known/jwks.json").get_signing_key_from_jwt(token)
claims = jwt.decode(token, signing_key.key, algorithms=["EdDSA"], audience="podcast-backend")

failures = []
if claims["sub"] != owner:
    failures.append(f"sub is {claims['sub']!r}, not {owner!r}")
if headers.get("x-podkeys-owner-id") != owner:
    failures.append(f"X-Podkeys-Owner-Id is {headers.get('x-podkeys-owner-id')!r}")
if "victim" in json.dumps(echoed) or "forged" in json.dumps(echoed):
    failures.append("a forged header reached the backend")
if key in json.dumps(echoed):
    failures.append("the caller's key reached the backend")
if failures:
    sys.exit("assertion check FAILED: " + "; ".join(failures))
print(f"assertion: verified with PyJWT {jwt.__version__} against the JWKS; sub={claims['sub']}, "
      f"kid={jwt.get_unverified_header(token)['kid']}, forged headers ignored")
