#!/usr/bin/env bash
# The README (and docs/scan-example.md) cannot drift: every command it shows is run, and the output it shows is checked
# (tests/oracle/test_readme.py). Here the offline ones; the transcript blocks (commands under
# Wine) are matched against scripts/tour.sh and scripts/demo.sh by wine-tests/test_tour.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh
# what the README's offline commands use: build what is missing (fresh clone)
hp_need build/native/hotpe build/x64/quote-server.exe
python3 tests/oracle/test_readme.py
# the docs that show offline commands with their output, the same way (scan-example.md's
# library section scans the x86 image tests/oracle/test_scan_objects.sh builds)
[ -f build/scan-objects/x86/app.dll ] || bash tests/cover/build.sh x86 build/scan-objects/x86
python3 tests/oracle/test_readme.py --readme docs/scan-example.md
