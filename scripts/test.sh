#!/usr/bin/env bash
# The newcomer's second command (and CI's): install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd build
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j "${GRUQ_TEST_JOBS:-2}" --timeout 900
cd ..
# The .deb: build, install, tiny search + export + GUI start from the installed files, uninstall.
bash scripts/package_check.sh build
# The core library, gruq-cli and the core tests again under AddressSanitizer + UBSan (build-asan/).
bash scripts/sanitize.sh
