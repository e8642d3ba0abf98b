#!/usr/bin/env bash
# Builds the Debian package from a build tree, installs it, and smoke-tests the INSTALLED files (never
# the build tree): both --version flags without a display, the installed file list, a tiny search on a
# generated MNIST-format dataset, a firmware export compiled with strict C99 flags, and the GUI started
# offscreen on the search archive. Then uninstalls the package again, so the machine is left as found.
#
#   scripts/package_check.sh [BUILD_DIR]        BUILD_DIR defaults to ./build (configured if missing)
#   KEEP_INSTALLED=1 scripts/package_check.sh   leave the package installed afterwards
#   KEEP_LOGS=1 scripts/package_check.sh        keep the work folder (logs, data, archive, export)
#
# Prints PASS / FAIL / SKIP per step with its time; exits non-zero when any step failed.
# Needs root for apt-get / dpkg (uses sudo otherwise), dpkg-dev (dpkg-shlibdeps), python3 and cc.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
keep="${KEEP_INSTALLED:-0}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

work="$(mktemp -d "${TMPDIR:-/tmp}/gruq-package-check.XXXXXX")"
logs="$work/logs"
mkdir -p "$logs" "$work/home" "$work/cache" "$work/runtime"
chmod 700 "$work/runtime"

failures=0
installed_by_us=0
was_installed=0
added_packages=()
results=()

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# step NAME FUNCTION [REQUIRED_FUNCTION...]: runs FUNCTION with its output in a log and prints the verdict
# (and on failure the log's tail). Skipped (counted as failed) unless every REQUIRED_FUNCTION passed.
# A passing FUNCTION sets ok_FUNCTION=1.
step() {
  local name="$1" fn="$2" req t0 rc t log
  shift 2
  for req in "$@"; do
    local flag="ok_$req"
    if [ "${!flag:-0}" != 1 ]; then
      printf 'SKIP  %-36s (needs: %s)\n' "$name" "${req#do_}"
      results+=("SKIP  $name")
      failures=$((failures + 1))
      return 1
    fi
  done
  log="$logs/$(printf '%02d' "${#results[@]}")-${fn#do_}.log"
  t0="$(now)"
  "$fn" >"$log" 2>&1
  rc=$?
  t="$(elapsed "$t0")"
  if [ "$rc" -eq 0 ]; then
    printf 'PASS  %-36s %6s s\n' "$name" "$t"
    results+=("PASS  $name ($t s)")
    printf -v "ok_$fn" 1
  else
    printf 'FAIL  %-36s %6s s  (exit %d, log: %s)\n' "$name" "$t" "$rc" "$log"
    tail -n 25 "$log" | sed 's/^/      | /'
    results+=("FAIL  $name ($t s)")
    failures=$((failures + 1))
  fi
  return "$rc"
}

# ---- steps ----------------------------------------------------------------------------------------------

do_build() {
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo || return 1
  fi
  cmake --build "$build" -j "${GRUQ_JOBS:-$(nproc)}"
}

deb=""
do_package() {
  # A rebuilt package of the same version must replace the old file, and old versions must not be picked.
  rm -f "$build"/gruq_*.deb
  (cd "$build" && cpack -G DEB) || return 1
  local debs=("$build"/gruq_*.deb)
  [ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || { echo "expected one gruq_*.deb in $build, found: ${debs[*]}"; return 1; }
  deb="${debs[0]}"
  echo "package: $deb"
  dpkg-deb --info "$deb"
  dpkg-deb --contents "$deb"
}

do_install() {
  if dpkg-query -W -f='${Status}' gruq 2>/dev/null | grep -q "install ok installed"; then
    was_installed=1
    echo "gruq was installed before this check: it stays installed (with this build) afterwards"
  fi
  local before after
  before="$(dpkg-query -W -f='${Package}:${Architecture} ${Status}\n' | awk '/ installed$/ { print $1 }' | sort)"
  # --reinstall: the same version may be installed already (from an earlier run) with other contents.
  $SUDO apt-get install -y --reinstall "$deb" || {
    echo "apt-get install failed; trying dpkg -i + apt-get -f install"
    $SUDO dpkg -i "$deb"
    $SUDO apt-get -f install -y || return 1
  }
  installed_by_us=1
  after="$(dpkg-query -W -f='${Package}:${Architecture} ${Status}\n' | awk '/ installed$/ { print $1 }' | sort)"
  mapfile -t added_packages < <(comm -13 <(echo "$before") <(echo "$after") | grep -v '^gruq:')
  [ "${#added_packages[@]}" -eq 0 ] || echo "dependencies installed for gruq: ${added_packages[*]}"
  dpkg-query -W -f='${Package} ${Version} ${Status}\n' gruq | grep -q "install ok installed"
}

do_files() {
  local f missing=0
  for f in /usr/bin/gruq /usr/bin/gruq-cli \
           /usr/share/applications/gruq.desktop /usr/share/icons/hicolor/scalable/apps/gruq.svg \
           /usr/share/metainfo/io.github.gruq.metainfo.xml \
           /usr/share/gruq/runtime/gruq_runtime.h /usr/share/gruq/runtime/gruq_runtime.c \
           /usr/share/doc/gruq/blob-format.md /usr/share/doc/gruq/quantization.md /usr/share/doc/gruq/copyright \
           /usr/share/man/man1/gruq.1.gz /usr/share/man/man1/gruq-cli.1.gz; do
    if dpkg -S "$f" >/dev/null 2>&1 && [ -s "$f" ]; then echo "ok      $f"; else echo "MISSING $f"; missing=1; fi
  done
  # The desktop entry's Icon= must name the installed icon.
  local icon
  icon="$(sed -n 's/^Icon=//p' /usr/share/applications/gruq.desktop)"
  [ -f "/usr/share/icons/hicolor/scalable/apps/$icon.svg" ] || { echo "Icon=$icon has no hicolor icon"; missing=1; }
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate /usr/share/applications/gruq.desktop || missing=1
  else
    echo "desktop-file-validate not installed: desktop entry not validated"
  fi
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net /usr/share/metainfo/io.github.gruq.metainfo.xml || missing=1
  else
    echo "appstreamcli not installed: AppStream metadata not validated"
  fi
  # Binaries must not run from the build tree: no RUNPATH into it.
  if readelf -d /usr/bin/gruq /usr/bin/gruq-cli | grep -E 'R(UN)?PATH'; then echo "installed binaries carry an RPATH"; missing=1; fi
  return "$missing"
}

# Run the installed binaries: system PATH only, from the work folder, with no display and private
# XDG folders (no settings or caches of the user touched).
installed_env() {
  env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_CACHE_HOME="$work/home/.cache" \
    XDG_DATA_HOME="$work/home/.local/share" XDG_RUNTIME_DIR="$work/runtime" GRUQ_CACHE_DIR="$work/cache" \
    "$@"
}

expect_version() {  # expect_version BINARY: prints "<name> <version>" and exits 0, without a display
  local out
  out="$(cd "$work" && installed_env "$1" --version)" || { echo "$1 --version failed"; return 1; }
  echo "$out"
  [ "$(command -v "$1")" = "/usr/bin/$1" ] || { echo "$1 resolves to $(command -v "$1"), not /usr/bin/$1"; return 1; }
  echo "$out" | grep -Eq '^gruq(-cli)? [0-9]+\.[0-9]+\.[0-9]+' || { echo "unexpected version output"; return 1; }
}
do_cli_version() { expect_version gruq-cli; }
do_gui_version() { expect_version gruq; }

do_dataset() {
  mkdir -p "$work/data"
  # The learnable pattern of tests/test_support.h writeTinyMnist: a bright horizontal (even labels) or
  # vertical (odd labels) stripe whose position encodes the label, on background noise. Gzipped IDX.
  python3 - "$work/data" <<'PY'
import gzip, struct, sys
out = sys.argv[1]
def make(n, prefix, seed=1):
    s = (seed + n) & 0xffffffff
    images, labels = bytearray(), bytearray()
    for i in range(n):
        label = i % 10
        labels.append(label)
        img = bytearray(28 * 28)
        for p in range(28 * 28):
            s = (s * 1664525 + 1013904223) & 0xffffffff
            img[p] = (s >> 24) & 0x3f
        band = 2 + label * 2 + (s >> 8) % 2
        for k in range(28):
            img[band * 28 + k if label % 2 == 0 else k * 28 + band] = 255
        images += img
    with gzip.open(f"{out}/{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + images)
    with gzip.open(f"{out}/{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels)
make(600, "train")
make(200, "t10k")
PY
  ls -l "$work/data"
}

do_search() {
  (cd "$work" && installed_env gruq-cli search --path "$work/data" --hidden 8 --float-epochs 2 \
     --population 8 --generations 1 --qat-samples 64 --qat-batch 32 --calibration-batches 2 --workers 1 \
     --out "$work/run.gruq") || return 1
  [ -s "$work/run.gruq" ]
}

pick=""
do_front() {
  (cd "$work" && installed_env gruq-cli front "$work/run.gruq" --json) >"$work/front.json" || return 1
  head -c 2000 "$work/front.json"; echo
  pick="$(python3 - "$work/front.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc if isinstance(doc, list) else next((doc[k] for k in ("front", "individuals", "items") if k in doc), [])
print(rows[0]["id"] if rows else "")
PY
)" || return 1
  [ -n "$pick" ] || { echo "no individual id in the front"; return 1; }
  echo "picked id $pick"
}

do_export() {
  rm -rf "$work/fw"
  (cd "$work" && installed_env gruq-cli export "$work/run.gruq" --pick "$pick" --out "$work/fw") || return 1
  ls -l "$work/fw"
  # Every export carries the runtime compiled into gruq; the package installs the same sources.
  local f
  for f in gruq_runtime.h gruq_runtime.c; do
    cmp "$work/fw/$f" "/usr/share/gruq/runtime/$f" || { echo "exported $f differs from /usr/share/gruq/runtime/$f"; return 1; }
  done
}

do_compile() {
  (cd "$work/fw" && cc -std=c99 -Wall -Wextra -Werror -pedantic -c gruq_runtime.c gruq_model.c) || return 1
  ls -l "$work/fw"/*.o
}

do_gui() {
  # Smoke test: the window opens the archive offscreen and stays up until timeout ends it (exit 124);
  # a clean exit 0 also counts. A crash (abort, segfault) or an error exit fails.
  local rc
  (cd "$work" && installed_env QT_QPA_PLATFORM=offscreen timeout "${GUI_SECONDS:-10}" gruq "$work/run.gruq")
  rc=$?
  echo "gruq exited with $rc"
  [ "$rc" -eq 124 ] || [ "$rc" -eq 0 ]
}

do_uninstall() {
  $SUDO dpkg -r gruq || return 1
  if [ "${#added_packages[@]}" -gt 0 ]; then
    echo "removing the dependencies this check installed: ${added_packages[*]}"
    $SUDO apt-get remove -y "${added_packages[@]}" || return 1
  fi
  ! dpkg-query -W -f='${Status}' gruq 2>/dev/null | grep -q "install ok installed"
}

cleanup() {
  # Interrupted or failed before the uninstall step: still leave the machine as found.
  if [ "$installed_by_us" -eq 1 ] && [ "$keep" != "1" ] && [ "$was_installed" -eq 0 ]; then
    do_uninstall >/dev/null 2>&1 || true
  fi
  if [ "$failures" -eq 0 ] && [ "${KEEP_LOGS:-0}" != "1" ]; then rm -rf "$work"; else echo "logs kept in $logs"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- run ------------------------------------------------------------------------------------------------

echo "gruq package check: build tree $build"
for tool in cmake cpack dpkg-shlibdeps python3 cc timeout; do
  command -v "$tool" >/dev/null || { echo "package_check: $tool missing (run scripts/setup.sh)"; exit 2; }
done
t_all="$(now)"

step "build (cmake --build)" do_build
step "package (cpack -G DEB)" do_package do_build
step "install (apt-get install ./deb)" do_install do_package
step "installed files" do_files do_install
step "gruq-cli --version (no display)" do_cli_version do_install
step "gruq --version (no display)" do_gui_version do_install
step "tiny MNIST-format dataset" do_dataset
step "gruq-cli search" do_search do_install do_dataset
step "gruq-cli front --json" do_front do_search
step "gruq-cli export --pick" do_export do_front
step "cc -std=c99 -pedantic -Werror" do_compile do_export
step "gruq offscreen on the archive" do_gui do_search
if [ "$installed_by_us" -eq 1 ]; then
  if [ "$keep" = "1" ]; then
    echo "KEEP_INSTALLED=1: gruq stays installed"
  elif [ "$was_installed" -eq 1 ]; then
    echo "gruq was installed before this check: it stays installed (now with this build)"
  else
    step "uninstall (dpkg -r gruq)" do_uninstall && installed_by_us=0
  fi
fi

echo
echo "summary ($(elapsed "$t_all") s, package: ${deb:-none}):"
printf '  %s\n' "${results[@]}"
if [ "$failures" -ne 0 ]; then
  echo "package check: FAIL ($failures step(s))"
  exit 1
fi
echo "package check: PASS"
