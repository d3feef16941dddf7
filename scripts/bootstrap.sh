#!/usr/bin/env bash
# Install everything the harness needs on Debian 12 (run as root or with sudo):
# the Arm cross-compiler, newlib, QEMU, make, and the Python packages in ./.venv.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
              qemu-system-arm make python3-venv python3-pip gcc git
              libgemmlowp-dev  # gemmlowp fixedpoint headers for the tflm runtime
              chromium  # chromium: the tests that open report.html and matrix.html headless
              ser2net)  # ser2net: labgrid's exporter shares a serial port with it (the --place test)
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import harness, ai_edge_litert, tflite_micro, pytest, labgrid" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "bootstrap: installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip
  # The distribution was called `harness` before it became tflite-mcu-crosscheck: drop the
  # old editable install so one distribution owns the `harness` package and command.
  .venv/bin/pip uninstall -q -y harness 2>/dev/null || true
  # Editable (hatchling): harness/ and firmware/, templates/, ... are read from this checkout.
  # farm: labgrid, for --place and its test with a real coordinator and exporter.
  .venv/bin/pip install -q -e '.[dev,farm]'
  touch .venv/.installed
fi
echo "bootstrap: ready ($(arm-none-eabi-gcc --version | head -1); $(qemu-system-arm --version | head -1))"
