#!/usr/bin/env bash
# The newcomer's first command: install what is missing, build, and start the gruq window on the
# default task (row-wise sequential Fashion-MNIST). Without a display it runs under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found, starting gruq under Xvfb (xvfb-run)"
  exec xvfb-run -a -s "-screen 0 1400x900x24" ./build/app/gruq "$@"
fi
exec ./build/app/gruq "$@"
