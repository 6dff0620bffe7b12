#!/usr/bin/env bash
# Installs what the test suite needs and is not part of the Rust toolchain, only when it is missing.
# Called by the README's test command and by .ci/run, so a fresh machine and CI do the same thing.
set -euo pipefail

need=()
# The browser tests (tests/it/browser*) drive Debian's Chromium through ChromeDriver.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# A Chinese font, so the screenshots the browser tests save show the console's Chinese text.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
# The Python client's cases against esdb-testserver (esdb-testserver/tests/python_client.rs) make a
# virtual environment and pip-install the client from PyPI into target/; so does the S3-compatible
# evidence store's test (tests/it/evidence_store.rs), for moto's local S3 server.
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)

if [ ${#need[@]} -gt 0 ]; then
  echo "安装测试依赖 installing test dependencies: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
