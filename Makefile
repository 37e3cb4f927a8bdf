# Thin wrapper over meson. `make demo` and `make test` install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps build asan demo test unit scenarios stress bench install package package-test image clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug >/dev/null

build: $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null

asan: $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD) >/dev/null

# libFuzzer harnesses (tests/fuzz/README.md): clang, ASan + UBSan, the library instrumented.
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null

fuzz-build: $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD) fuzzers >/dev/null

# Each harness for FUZZ_SECONDS (default 60); `make fuzz FUZZ_SECONDS=600 HARNESSES=smaps`.
fuzz: deps fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh fuzz

demo: deps build
	@bash demo/run.sh

test: deps build asan fuzz-build
	@bash tests/run.sh

scenarios: deps build
	@bash scripts/install-deps.sh scenarios
	@bash tests/scenarios/run.sh

# The long stress runs (tests/stress/run.sh): PID churn and cgroup churn for STRESS_SECONDS
# (default 600) each, KILL_ROUNDS (200) SIGKILLs during bundle writes; then shorter with ASan.
stress: deps build asan
	@bash tests/stress/run.sh

bench: deps build
	@bash bench/run.sh

# meson install of build/ (prefix chosen at setup: meson setup build --prefix=/usr); honours
# DESTDIR. Installs the binary, man pages, bash/zsh/fish completions and docs.
install: build
	meson install -C $(BUILD) --no-rebuild

# The Debian package (dpkg-buildpackage -b in a copy of the tree, then lintian) into
# build/package/; package-test installs it on this machine, checks it and purges it (root).
package:
	@bash scripts/install-deps.sh package
	@bash packaging/build-deb.sh build/package

package-test: package
	@bash packaging/test-deb.sh

# The DaemonSet's image (deploy/image/Containerfile) without a registry: debootstrap + buildah
# (vfs), then run inside; storage, cache and the OCI archive under build/image/ (root).
image:
	@bash scripts/install-deps.sh image
	@bash packaging/build-image.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
