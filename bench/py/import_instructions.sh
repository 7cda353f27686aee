#!/bin/bash
# Instructions (callgrind) of `import stratacache`, of its first use and of cachebox's, with
# the package taken from a directory, so two versions run under one interpreter with the same
# startup: `python -S` (no site, no .pth or editable hooks), PYTHONPATH=<dir>:<site-packages>.
# Each figure is the statement's run minus `python -S -c pass`. PYTHONHASHSEED=0.
#
#   bench/py/import_instructions.sh DIR [DIR...]   # each DIR holds stratacache/ with its _core
#
# A DIR is made by copying python/stratacache and the built _core*.so next to it.
set -euo pipefail
PY=${PY:-python3}
SITE=$($PY -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
export PYTHONHASHSEED=0
unset PYTHONDONTWRITEBYTECODE
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
ir() {  # ir DIR CODE
  PYTHONPATH="$1:$SITE" $PY -S -c "$2" >/dev/null  # writes the .pyc files first
  PYTHONPATH="$1:$SITE" valgrind --tool=callgrind --callgrind-out-file="$OUT" $PY -S -c "$2" \
    >/dev/null 2>&1
  grep -E "^(summary|totals):" "$OUT" | head -1 | awk '{print $2}'
}
FIRST=$'import stratacache\nc = stratacache.Cache()\nc.set("k", 1)\nassert c.get("k") == 1
@stratacache.cache\ndef f(a, b):\n    return a + b\nassert f(1, 2) == 3 and f(1, 2) == 3'
CB=$'import cachebox\nc = cachebox.LRUCache(10_000)\nc["k"] = 1\nassert c.get("k") == 1
@cachebox.cached(cachebox.LRUCache(10_000))\ndef f(a, b):\n    return a + b
assert f(1, 2) == 3 and f(1, 2) == 3'
floor=$(ir "$1" pass)
for dir in "$@"; do
  echo "$dir import stratacache $(($(ir "$dir" 'import stratacache') - floor))"
  echo "$dir first-use stratacache $(($(ir "$dir" "$FIRST") - floor))"
done
echo "- import cachebox $(($(ir "$1" 'import cachebox') - floor))"
echo "- first-use cachebox $(($(ir "$1" "$CB") - floor))"
