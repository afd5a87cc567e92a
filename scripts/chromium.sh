#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver, for the browser tests (tests/api/browser.rs).
# Idempotent: installs only what is missing (needs root for apt-get, as on CI).
set -euo pipefail
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
((${#missing[@]})) || exit 0
command -v apt-get >/dev/null || { echo "chromium.sh: install ${missing[*]} (Debian packages)" >&2; exit 1; }
echo "==> apt-get install ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
