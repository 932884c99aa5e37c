# kbq's everyday commands. CI runs `make test` (see .ci/run).
#
#   make build   debug build of everything
#   make test    the test suite: the engine's tests and the CLI's (the real binary, under pipes
#                and a pseudo-terminal)
#   make run     the REPL on the built-in article KB (release build, built when needed)

SWIFT ?= swift
# Release binaries carry the Swift runtime, so a copied kbq runs anywhere and starts fast.
RELEASE_FLAGS := -c release -Xswiftc -static-stdlib

.PHONY: build release test run deps

# libedit's headers come from Debian's libedit-dev; install it only when it is missing.
deps:
	@if ! pkg-config --exists libedit 2>/dev/null; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		packages=libedit-dev; command -v pkg-config >/dev/null || packages="$$packages pkg-config"; \
		echo "installing $$packages"; \
		$$sudo apt-get update && $$sudo apt-get install -y $$packages; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product kbq

test: deps
	$(SWIFT) test

run: release
	@"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/kbq"

# make fuzz [FUZZ_SECONDS=N]: builds the libFuzzer targets (Fuzz/) and runs each for N
# seconds side by side; fails on any crash or timeout (scripts/fuzz.sh says more).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# make bench: kbq beside sqlite3 and DuckDB on ../shared/bench's questions (release build,
# 10k/100k/1M rows); prints every figure with its ratio and writes docs/PERFORMANCE.md.
.PHONY: bench
bench: deps
	scripts/bench.sh
