#!/usr/bin/env bash
# Builds the core library, gruq-cli and the core tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, no GUI, no benchmarks) and runs those tests. Any sanitizer report fails the test that
# produced it. Run by scripts/test.sh (hence CI) after the normal suite.
#
#     scripts/sanitize.sh                 build and run every core test
#     scripts/sanitize.sh -R test_blob    extra arguments go to ctest
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${GRUQ_SANITIZE_BUILD_DIR:-$ROOT/build-asan}
JOBS=${GRUQ_JOBS:-$(nproc)}

if [ ! -f "$BUILD/build.ninja" ]; then
  # -O1 keeps the sanitized tests fast enough for CI while stack traces stay readable; asserts stay on.
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DGRUQ_SANITIZE=ON -DGRUQ_BUILD_GUI=OFF -DGRUQ_BUILD_BENCH=OFF
fi
cmake --build "$BUILD" -j "$JOBS"

# Leaks are checked (LeakSanitizer); the suppressions cover only allocations libraries make once
# and keep for the process lifetime (see the file). Child processes (gruq-cli started by tests)
# inherit these settings, so a report there fails the test too.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87:suppressions=$ROOT/scripts/sanitizer/ubsan.supp"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/sanitizer/lsan.supp:print_suppressions=0"
cd "$BUILD"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j "${GRUQ_TEST_JOBS:-2}" --timeout 1500 "$@"
