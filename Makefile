# crashwatch — the two commands of the quick start, and the steps behind them.
#   make demo   install missing packages, build, crash the example daemon
#   make test   install missing packages, build, run the whole suite (CTest)
#   make format reformat the tracked C sources with clang-format (14)
#   make package  Debian packages of the library, -dev and the command
# Everything the project needs is installed here; nothing by hand.

BUILD     ?= build
BUILDTYPE ?= RelWithDebInfo
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=
# Ninja (ninja-build, in PACKAGES) for new build trees: a full build takes
# about 40% less time than with Makefiles, and its up-to-date check, which
# `cpack` runs per package, is instant. An existing tree keeps the
# generator it was configured with (CMake reads this only for a new one).
export CMAKE_GENERATOR ?= Ninja

# Debian packages the build, the tests, the fuzzers and the benchmarks use.
PACKAGES = cmake make gcc pkg-config libunwind-dev libelf-dev libdw-dev \
           libcurl4-openssl-dev zlib1g-dev libcmocka-dev lldb clang llvm \
           libclang-rt-14-dev libdebuginfod-dev elfutils binutils openssl \
           python3 file clang-format groff-base man-db \
           bash-completion ninja-build

.PHONY: all deps build demo test test-plain test-sanitize bench fuzz clean install \
        format package

all: build

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILDTYPE) -DCW_WERROR=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The demo builds only its own targets (the library with its embedded
# watchdog, the example daemon, the crashwatch command), with the build's
# output in $(BUILD)/demo-build.log rather than on the terminal.
DEMO_TARGETS = crashwatch-example-daemon crashwatch_cli
demo: deps
	@log=$(BUILD)/demo-build.log; mkdir -p $(BUILD); \
	echo "== Building the demo: libcrashwatch, the example daemon, crashwatch (log: $$log)"; \
	{ [ -f $(BUILD)/CMakeCache.txt ] || \
	  cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILDTYPE) -DCW_WERROR=ON; } >$$log 2>&1 && \
	cmake --build $(BUILD) -j $(JOBS) --target $(DEMO_TARGETS) >>$$log 2>&1 || \
	{ tail -n 30 $$log; echo "make demo: the build failed; the whole log is $$log" >&2; exit 1; }
	@./examples/run-demo.sh $(BUILD)

# Debian packages (CPack, cmake/packaging.cmake): libcrashwatchN,
# libcrashwatch-dev and crashwatch, into $(BUILD)/packages.
package: build
	cd $(BUILD) && cpack -G DEB
	@ls -1 $(BUILD)/packages/*.deb

# The whole suite: the plain build, then the same suite under ASan+UBSan.
test: test-plain test-sanitize

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-sanitize: deps
	cmake -S . -B $(BUILD)-san -DCMAKE_BUILD_TYPE=Debug -DCW_WERROR=ON -DCW_SANITIZE=ON
	cmake --build $(BUILD)-san -j $(JOBS)
	cd $(BUILD)-san && ctest --output-on-failure -j $(JOBS) -LE nosan $(CTEST_ARGS)

# Benchmarks print their figures; they are never part of the test suite.
bench: build
	@for b in bench/*.sh; do echo "== $$b"; "$$b" $(BUILD) || exit 1; done

# Real coverage-guided fuzzing with libFuzzer (clang), FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S . -B $(BUILD)-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCW_LIBFUZZER=ON
	cmake --build $(BUILD)-fuzz -j $(JOBS)
	@for f in $(BUILD)-fuzz/fuzz/*_libfuzzer; do \
	  name=$$(basename $$f _libfuzzer); mkdir -p $(BUILD)-fuzz/corpus/$$name; \
	  echo "== $$name"; $$f -max_total_time=$(FUZZ_SECONDS) $(BUILD)-fuzz/corpus/$$name fuzz/corpus/$$name || exit 1; \
	done

# The tree as clang-format 14 makes it with .clang-format; the suite's
# `format` test (tests/check-format.sh) fails on any difference.
CLANG_FORMAT ?= clang-format
format:
	git ls-files -z -- '*.c' '*.h' | xargs -0 -r $(CLANG_FORMAT) --style=file -i

install: build
	cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

clean:
	rm -rf $(BUILD) $(BUILD)-san $(BUILD)-fuzz
