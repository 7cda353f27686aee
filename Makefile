# One-line entry points; build flags live in CMakePresets.json.
PY ?= python3
JOBS ?= 2
# Editable by default, so a developer's tree stays the installed package; CI sets it empty to
# test a real wheel install (stubs, py.typed and all).
INSTALL_MODE ?= -e
# What `make install` installs, with the extras the tests need: the source tree by default; CI
# passes the repaired wheel it built, so the suite runs against the artifact users get.
INSTALL_SRC ?= .
# Interpreters `make wheel` / `make wheel-proof` build and prove for; empty: every CPython
# 3.10-3.13 under ~/.pyenv/versions.
WHEEL_PYTHONS ?=
export CMAKE_BUILD_PARALLEL_LEVEL := $(JOBS)

.PHONY: bootstrap install demo test test-cpp test-py faults wheel sdist wheel-proof bench bench-quick sanitize fuzz format lint clean

bootstrap:
	PYTHON=$(PY) bash scripts/bootstrap.sh

install: bootstrap
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation $(INSTALL_MODE) \
	  "$(INSTALL_SRC)[test]"

demo: install
	$(PY) -m stratacache.demo --web

test-cpp: bootstrap
	cmake --preset release >/dev/null
	cmake --build --preset release
	ctest --preset release -j $(JOBS)

test-py: install
	$(PY) -m pytest

test: test-cpp test-py

# The fault suite's long form (make test runs its short form): longer phases, more trials;
# figures in bench/results/faults.json.
faults: install
	$(PY) -m pytest tests_py/faults -m faults --faults-long

# Repaired manylinux wheels and the sdist, in dist/; the proof that a wheel works without the
# system's libcrypto/liblz4/libzstd and -dev packages (scripts/wheel_proof.sh says how).
wheel: bootstrap
	bash scripts/build_wheels.sh $(WHEEL_PYTHONS)

sdist:
	bash scripts/build_wheels.sh --sdist

wheel-proof:
	bash scripts/wheel_proof.sh $(if $(WHEEL_PYTHONS),$(WHEEL_PYTHONS),--all)

bench: install
	$(PY) bench/py/bench_l1.py
	$(PY) bench/py/bench_hit_ratio.py
	$(PY) bench/py/bench_predict.py
	$(PY) bench/py/bench_mrc.py
	$(PY) bench/py/bench_recording.py
	$(PY) bench/py/bench_l2.py
	$(PY) bench/py/bench_l2_faults.py
	$(PY) bench/py/bench_disk.py
	$(PY) bench/py/bench_codec.py
	$(PY) bench/py/bench_scale.py

bench-quick: install
	$(PY) bench/py/bench_l1.py --quick
	$(PY) bench/py/bench_hit_ratio.py --quick
	$(PY) bench/py/bench_predict.py --quick
	$(PY) bench/py/bench_mrc.py --quick
	$(PY) bench/py/bench_recording.py --quick
	$(PY) bench/py/bench_l2.py --quick
	$(PY) bench/py/bench_l2_faults.py --quick
	$(PY) bench/py/bench_disk.py --quick
	$(PY) bench/py/bench_codec.py --quick
	$(PY) bench/py/bench_scale.py --quick

sanitize: bootstrap
	cmake --preset asan >/dev/null && cmake --build --preset asan && ctest --preset asan -j $(JOBS)
	cmake --preset tsan >/dev/null && cmake --build --preset tsan && ctest --preset tsan
	$(MAKE) fuzz FUZZ_SECONDS=30

FUZZ_SECONDS ?= 60
fuzz: bootstrap
	cmake --preset fuzz >/dev/null && cmake --build --preset fuzz --target fuzz_trace fuzz_envelope
	mkdir -p build/fuzz/corpus-trace build/fuzz/corpus-envelope
	build/fuzz/tests_cpp/fuzz/fuzz_trace -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  build/fuzz/corpus-trace tests_cpp/fuzz/corpus/trace
	build/fuzz/tests_cpp/fuzz/fuzz_envelope -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  build/fuzz/corpus-envelope tests_cpp/fuzz/corpus/envelope

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')
	ruff format python tests_py bench scripts

lint:
	@! grep -rnE 'pybind11|Python\.h' cpp/ || (echo "cpp/ must not know Python" && false)
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')
	ruff format --check python tests_py bench scripts
	ruff check python tests_py bench scripts
	mypy
	$(PY) scripts/unasync.py --check
	$(PY) -m mypy.stubtest stratacache._core --allowlist scripts/stubtest-allowlist.txt

clean:
	rm -rf build
