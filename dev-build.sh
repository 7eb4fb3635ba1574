#!/usr/bin/env bash
# Developer build: compiles into build/dev and drops _C*.so next to the sources, so that
# `PYTHONPATH=python pytest` runs against the working tree. Users install with `pip install .`.
set -euo pipefail
cd "$(dirname "$0")"
BUILD=${BUILD_DIR:-build/dev}
PYBIND11_DIR=$(python -c "import pybind11; print(pybind11.get_cmake_dir())")
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -Dpybind11_DIR="$PYBIND11_DIR" \
  -DPython_EXECUTABLE="$(command -v python)" -DTGX_CUDA=${TGX_CUDA:-OFF} "$@" >/dev/null
cmake --build "$BUILD"
cp "$BUILD"/_C*.so python/tinygrad_ext/
