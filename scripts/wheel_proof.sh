#!/usr/bin/env bash
# Proves that a repaired stratacache wheel installs and works on a machine without the libraries
# it was built against:
#
#   scripts/wheel_proof.sh                  the wheel in dist/ for python3
#   scripts/wheel_proof.sh PYTHON ...       the wheels for these interpreters (`make wheel-proof`)
#   scripts/wheel_proof.sh --all            every CPython 3.10-3.13 under ~/.pyenv/versions
#
# How. The script re-runs itself in a private mount namespace (`unshare -m`, as root; a user
# namespace otherwise), so nothing it hides is hidden for the rest of the machine, and inside it:
#
# 1. Hides, by bind-mounting an empty file over each, every file of the -dev packages
#    (liblz4-dev, libzstd-dev, libssl-dev, libmsgpack-cxx-dev, liblmdb-dev, libisal-dev: headers, pkg-config
#    files, CMake configs, static and linker libraries) and every system copy of libcrypto, libssl,
#    liblz4, libzstd, liblmdb and libisal in the linker's directories; empty directories go over the header directories.
#    /etc/ld.so.cache is replaced by one rebuilt from what is left (`ldconfig -X -C`, which
#    changes no symlink on disk).
# 2. Verifies they are gone: `ldconfig -p` lists none of them, dlopen() of each soname fails,
#    `#include <lz4.h>` (zstd.h, openssl/evp.h, msgpack.hpp) no longer compiles, pkg-config
#    finds none of them, and, as a control, the unrepaired wheel's _core.so no longer loads.
# 3. Per interpreter: a fresh venv, `pip install --no-index` of the wheel alone (with pip's
#    configuration and environment cleared, so no find-links or index can supply anything: the
#    install succeeds only because the wheel needs no dependency), then scripts/wheel_smoke.py
#    with `python -I` from an empty directory (L1, Codec lz4/zstd/AES-GCM/HMAC, simulate on the
#    sample trace, the native libraries the process maps are the wheel's own), then the console
#    script: `stratacache --version`, and `stratacache analyze` failing with the [cli] pip line.
# 4. Unhides libssl and libcrypto only (Python's ssl is needed to import the Redis tier's client
#    module) and checks that in each bare venv Cache(redis=...) names the [redis] pip line.
#
# Hiding libcrypto and libssl breaks Python's own _ssl and _hashlib modules too, for the whole
# proof. That is fine and deliberate: venv, ensurepip and pip work without them (ssl is optional
# in pip and asyncio, and hashlib falls back to its built-in sha256/blake2), --no-index needs no
# TLS, and the smoke test thereby also shows that `import stratacache` and L1/Codec/simulate need
# neither module, i.e. stratacache's crypto is the wheel's libcrypto, not Python's. Only the
# Redis tier needs ssl (step 4), and the bare wheel has no Redis tier anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf 'wheel_proof: %s\n' "$*" >&2; }

if [ -z "${STRATACACHE_PROOF_NS:-}" ]; then
  flags=(--mount --propagation private)
  [ "$(id -u)" -eq 0 ] || flags+=(--map-root-user)
  export STRATACACHE_PROOF_NS=1
  exec unshare "${flags[@]}" bash "$0" "$@"
fi

# --- which interpreters and wheels -------------------------------------------------------------
if [ "${1:-}" = "--all" ]; then
  pythons=()
  for v in 10 11 12 13; do
    d=$(ls -d "$HOME"/.pyenv/versions/3."$v".* 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$d" ]; then pythons+=("$d/bin/python"); fi
  done
elif (($#)); then
  pythons=("$@")
else
  pythons=(python3)
fi
# Absolute paths: the installs below run with a cleared environment, where neither a bare name
# nor a pyenv shim would resolve (a venv's python stays itself).
for i in "${!pythons[@]}"; do
  pythons[i]=$("${pythons[i]}" -c 'import sys; print(sys.executable)')
done
declare -A wheel_of
for py in "${pythons[@]}"; do
  tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  whl=$(ls -t "$ROOT"/dist/stratacache-*-"$tag"-"$tag"-manylinux*.whl 2>/dev/null | head -n 1)
  [ -n "$whl" ] || { log "no manylinux wheel for $tag in dist/: run make wheel first"; exit 1; }
  wheel_of[$py]=$whl
done

W=$(mktemp -d /tmp/stratacache-proof.XXXXXX)
trap 'rm -rf "$W"' EXIT
: >"$W/empty"
mkdir "$W/empty.d"

# --- 1. hide -----------------------------------------------------------------------------------
DEV_PACKAGES=(liblz4-dev libzstd-dev libssl-dev libmsgpack-cxx-dev libmsgpack-c-dev libmsgpack-dev
  liblmdb-dev libisal-dev)
LIB_GLOBS=(libcrypto.so* libssl.so* liblz4.so* libzstd.so* liblmdb.so* libisal.so*)
LIB_DIRS=(/usr/lib/x86_64-linux-gnu /usr/lib /usr/local/lib /usr/lib64 /lib64)
HEADER_DIRS=(/usr/include/openssl /usr/include/x86_64-linux-gnu/openssl /usr/include/msgpack
  /usr/include/isa-l)

hidden_files() {
  local p d g f
  for p in "${DEV_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || continue
    # Files under the header directories go with their directory; docs hide nothing.
    dpkg -L "$p" | grep -vE "^(/usr/share/(doc|man)|$(IFS='|'; echo "${HEADER_DIRS[*]}"))/" |
      while read -r f; do if [ -f "$f" ] && [ ! -L "$f" ]; then echo "$f"; fi; done
  done
  for d in "${LIB_DIRS[@]}" $(ldconfig -p | sed -n 's|.* => \(.*\)/[^/]*$|\1|p' | sort -u); do
    for g in "${LIB_GLOBS[@]}"; do
      for f in "$d"/$g; do if [ -e "$f" ]; then realpath "$f"; fi; done
    done
  done
}
mapfile -t files < <(hidden_files | sort -u)
for f in "${files[@]}"; do mount --bind "$W/empty" "$f"; done
for d in "${HEADER_DIRS[@]}"; do if [ -d "$d" ]; then mount --bind "$W/empty.d" "$d"; fi; done
ldconfig -X -C "$W/ld.so.cache" 2>/dev/null
mount --bind "$W/ld.so.cache" /etc/ld.so.cache
dev=$(for p in "${DEV_PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then echo "$p"; fi
done | tr '\n' ' ')
log "hid ${#files[@]} files and ${#HEADER_DIRS[@]} header directories: ${dev}and the system's ${LIB_GLOBS[*]}"

# --- 2. verify they are hidden -----------------------------------------------------------------
fail() { log "FAIL: $*"; exit 1; }
left=$(ldconfig -p | grep -E 'lib(crypto|ssl|lz4|zstd|lmdb|isal)\.so' || true)
[ -z "$left" ] || fail "ldconfig -p still lists: $left"
for soname in libcrypto.so.3 libssl.so.3 liblz4.so.1 libzstd.so.1 liblmdb.so.0 libisal.so.2; do
  if "${pythons[0]}" -I -S -c "import ctypes; ctypes.CDLL('$soname')" 2>/dev/null; then
    fail "dlopen($soname) still works"
  fi
done
if command -v c++ >/dev/null; then
  for h in lz4.h zstd.h openssl/evp.h msgpack.hpp lmdb.h isa-l/igzip_lib.h; do
    if printf '#include <%s>\n' "$h" | c++ -fsyntax-only -x c++ - 2>/dev/null; then
      fail "#include <$h> still compiles"
    fi
  done
fi
for pc in liblz4 libzstd libcrypto openssl msgpack-cxx lmdb libisal; do
  ! pkg-config --exists "$pc" 2>/dev/null || fail "pkg-config still finds $pc"
done
control=""
raw=$(ls -t "$ROOT"/build/wheel/raw/stratacache-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$raw" ]; then
  mkdir "$W/raw" && (cd "$W/raw" && "${pythons[0]}" -I -S -m zipfile -e "$raw" .)
  # An empty file where a library was is "file too short" for the loader; no file, "not found".
  if why=$(ldd "$W"/raw/stratacache/_core.*.so 2>&1) && [[ $why != *"not found"* ]]; then
    fail "the unrepaired $(basename "$raw") still loads: $why"
  fi
  why=$(grep -oE '(lib[a-z0-9]+\.so[.0-9]*(: file too short| => not found))' <<<"$why" | head -n 1)
  control="; control: the unrepaired $(basename "$raw") does not load ($why)"
fi
log "verified: ldconfig -p, dlopen, #include and pkg-config find none of them$control"

# --- 3. install and smoke-test each wheel ------------------------------------------------------
clean_env=(env -i PATH=/usr/bin:/bin HOME="$W" LANG=C.UTF-8 PIP_CONFIG_FILE=/dev/null
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore)
for py in "${pythons[@]}"; do
  whl=${wheel_of[$py]}
  tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  venv=$W/venv-$tag
  log "$tag: $(basename "$whl") ($(du -k "$whl" | cut -f1) KiB) into a fresh venv"
  "${clean_env[@]}" "$py" -m venv "$venv"
  "${clean_env[@]}" "$venv/bin/python" -m pip install -q --no-index "$whl"
  installed=$("${clean_env[@]}" "$venv/bin/python" -m pip list --format=freeze |
    grep -vE '^(pip|setuptools|wheel)==' | tr '\n' ' ' | sed 's/ $//')
  [ "$installed" = "stratacache==$("$venv/bin/python" -I -c 'import stratacache; print(stratacache.__version__)')" ] ||
    fail "$tag: the venv holds more than stratacache: $installed"
  mkdir -p "$W/run-$tag"
  cp scripts/wheel_smoke.py "$W/run-$tag/"
  (cd "$W/run-$tag" && "${clean_env[@]}" "$venv/bin/python" -I wheel_smoke.py) ||
    fail "$tag: the smoke test failed"
  version=$(cd "$W/run-$tag" && "${clean_env[@]}" "$venv/bin/stratacache" --version)
  set +e
  out=$(cd "$W/run-$tag" && "${clean_env[@]}" "$venv/bin/stratacache" analyze --out r 2>&1)
  code=$?
  set -e
  [[ $code -eq 1 && $out == *"pip install 'stratacache[cli]'"* ]] ||
    fail "$tag: stratacache analyze without the cli extra: exit $code: $out"
  log "$tag: passed (installed alone: $installed; $version; analyze names the [cli] extra)"
done

# --- 4. the Redis extra, with Python's ssl back ------------------------------------------------
# The Redis tier's client module imports ssl, which cannot load while libssl/libcrypto are
# hidden; unhide those two (lz4 and zstd stay hidden) and check, in the same bare venvs, that
# Cache(redis=...) raises MissingExtraError naming pip install 'stratacache[redis]'.
for f in "${files[@]}"; do
  case $(basename "$f") in libssl.so* | libcrypto.so*) umount "$f" ;; esac
done
for py in "${pythons[@]}"; do
  tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  out=$(cd "$W/run-$tag" && "${clean_env[@]}" "$W/venv-$tag/bin/python" -I wheel_smoke.py missing_extra 2>&1) || true
  [[ $out == *"ok   Cache(redis=...) without redis names the extra"* ]] ||
    fail "$tag: Cache(redis=...) in the bare venv did not name the [redis] extra: $out"
  log "$tag: Cache(redis=...) without redis names pip install 'stratacache[redis]'"
done
log "all ${#pythons[@]} wheel(s) passed"
