#!/usr/bin/env bash
# The README cannot drift: every command it shows is run, and the output it shows is checked.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The SDK example in the README stamps the test SDK sample: make sure it is built.
[ -f build/sdk/patch_gcc_x64.dll ] || bash tests/oracle/test_sdk.sh >/dev/null
python3 tests/oracle/test_readme.py
