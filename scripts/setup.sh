#!/usr/bin/env bash
# Installs every Debian package gruq needs to build, test and run. Idempotent: when everything
# is already installed it only checks (no apt-get update, no network) and returns in about a second.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ccache
  # core: LibTorch + fast BLAS (without OpenBLAS libtorch falls back to reference BLAS, ~10x slower)
  libtorch-dev libopenblas0-pthread libblas-dev
  # core: search, audio, storage, config, compression, FFT, resampling
  libpagmo-dev libboost-serialization-dev libtbb-dev libeigen3-dev
  libsndfile1-dev libsamplerate0-dev libfftw3-dev
  libsqlite3-dev nlohmann-json3-dev zlib1g-dev libespeak-ng-dev libssl-dev
  # data: NumPy .npz datasets and torch.save model files (zip archives); ONNX models (protobuf classes)
  libzip-dev libonnx-dev
  # app: command-line parsing; MPI for searches spread over cluster nodes (gruq-cli search --mpi)
  libcli11-dev libopenmpi-dev openmpi-bin
  # ui: Qt 6 Widgets + QCustomPlot (Qt 6 build) + platform plugins
  qt6-base-dev qt6-base-dev-tools qt6-qpa-plugins libqcustomplot-dev libqcustomplot2.1-qt6
  libgl-dev fonts-dejavu-core
  # data: default task (Fashion-MNIST IDX files), speech generator
  dataset-fashion-mnist espeak-ng
  # export checks: the C runtime cross-built for Cortex-M4 (run on QEMU's mps2-an386 board) and for
  # 32-bit ARM Linux (run under qemu-arm), and fuzzed with libFuzzer (clang + its runtime)
  gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
  qemu-system-arm
  clang libclang-rt-14-dev
  # packaging check (scripts/package_check.sh): .desktop and AppStream validation; python3 for the
  # check and fuzz scripts' small data generators
  desktop-file-utils appstream python3
  # tests: .npz files written by NumPy itself (read back by the NumPy dataset reader)
  python3-numpy
  # benchmarks (scripts/bench.sh): Google Benchmark, and PyTorch for the eager-Python peer step and for
  # the tests that import models trained by PyTorch itself
  libbenchmark-dev python3-torch
  # running and looking at the GUI headless
  xvfb xauth imagemagick
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
