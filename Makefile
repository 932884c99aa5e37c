# kbq's everyday commands. CI runs `make test` (see .ci/run).
#
#   make build   debug build of everything
#   make test    the test suite: the engine's tests and the CLI's (the real binary, under pipes
#                and a pseudo-terminal)
#   make release the release kbq: one static executable (see RELEASE_FLAGS)
#   make run     the REPL on the built-in article KB (release build, built when needed)
#   make mcp     the release kbq-mcp beside the release kbq (`kbq mcp`, docs/AGENTS.md)

SWIFT ?= swift
# The release kbq is one static executable: it starts about 1.5 ms sooner than with
# -static-stdlib, which still loads and relocates libstdc++ and glibc (docs/PERFORMANCE.md),
# and runs without Swift installed. libedit is linked in from the archives that libedit-dev
# and its dependencies install (a static program cannot dlopen it: CEditLine/shim.h). lld,
# the linker Swift ships, leaves out glibc's link-time notes on dlopen and getpw* in static
# programs. kbq's own code calls only getpwuid, when $HOME is unset (on a machine with
# another glibc it then finds no home and keeps no history); the rest is the Swift runtime's
# and Foundation's (pulled in by swift-argument-parser), on paths kbq never takes.
# -disable-concrete-type-metadata-mangled-name-accessors: generic types such as [Field] or
# [String: Int] get their metadata from accessor functions, not from mangled names the
# runtime demangles and checks by searching every conformance record: a third of the
# instructions of `kbq -e QUERY` (1.6 M down to 1.1 M), for a slightly larger binary. It is
# the code Swift emits for runtimes that predate mangled-name accessors.
# -function-sections and --symbol-ordering-file: the functions start-up runs
# (scripts/startup-order.txt, rewritten by `make startup-order`) are placed side by side,
# so the kernel maps about half as many of the executable's pages as kbq starts.
RELEASE_FLAGS := -c release -Xswiftc -static-executable -Xswiftc -use-ld=lld -Xcc -DKBQ_EDITLINE_STATIC \
	-Xlinker -ledit -Xlinker -ltinfo -Xlinker -lbsd -Xlinker -lmd \
	-Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors \
	-Xswiftc -Xfrontend -Xswiftc -function-sections \
	-Xlinker --symbol-ordering-file=$(CURDIR)/scripts/startup-order.txt -Xlinker --no-warn-symbol-ordering

.PHONY: build release test run deps mcp

# libedit's headers come from Debian's libedit-dev, libpq's (for kbq-db) from libpq-dev;
# install them only when they are missing.
deps:
	@if ! pkg-config --exists libedit libpq 2>/dev/null; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		packages="libedit-dev libpq-dev"; command -v pkg-config >/dev/null || packages="$$packages pkg-config"; \
		echo "installing $$packages"; \
		$$sudo apt-get update && $$sudo apt-get install -y $$packages; \
	fi

build: deps
	$(SWIFT) build

# kbq-db (push, --db, --sql) is put beside kbq, dynamically linked against libpq: it is
# built in a scratch folder of its own, since the static flags would apply to it too.
release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product kbq
	$(SWIFT) build -c release --scratch-path .build/kbq-db --product kbq-db
	cp .build/kbq-db/release/kbq-db "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/kbq-db"

test: deps editor-deps difftest-deps
	$(SWIFT) test
	@$(MAKE) --no-print-directory test-editors
	KBQ_BIN="$$($(SWIFT) build --show-bin-path)/kbq" $(EDITOR_PYTHON) -m pytest -q -p no:cacheprovider Tests/Agents
	@$(MAKE) --no-print-directory difftest DIFF_QUERIES=300

# make difftest [DIFF_QUERIES=N] [DIFF_SEED=S]: kbq's differential test (Tests/differential/):
# N random queries over six shapes of generated data, run by kbq and, as SQL written to
# kbq's documented semantics, by SQLite and DuckDB, and through `kbq --db` on the PostgreSQL
# server KBQ_TEST_PG names (.ci/run starts one; under CI=true without it the test fails;
# 300 queries take about 10 s more that way); fails on any row that differs, and
# prints the coverage of clauses and operators. `make test` runs 300 of them. DuckDB's
# Python module comes from PyPI into .build-python/ (`make difftest-deps`, which `make test`
# runs); without it only SQLite answers, and under CI=true the test fails.
DIFF_QUERIES ?= 4800
DIFF_SEED ?= 1
.PHONY: difftest difftest-deps
difftest-deps:
	@if ! $(EDITOR_PYTHON) -c 'import duckdb' 2>/dev/null; then \
		echo "installing duckdb into .build-python/"; \
		[ -x $(EDITOR_PYTHON) ] || python3 -m venv .build-python; \
		$(EDITOR_PYTHON) -m pip install --quiet --disable-pip-version-check duckdb; \
	fi

difftest:
	$(SWIFT) build --product kbq
	@if [ -n "$$KBQ_TEST_PG" ]; then $(SWIFT) build --product kbq-db; \
	elif [ "$$CI" = true ]; then echo "difftest: CI=true but KBQ_TEST_PG is unset: .ci/run starts a PostgreSQL server for kbqdiff --db" >&2; exit 1; fi
	@python=python3; [ -x $(EDITOR_PYTHON) ] && python=$(EDITOR_PYTHON); \
	$$python Tests/differential/kbqdiff.py --kbq "$$($(SWIFT) build --show-bin-path)/kbq" --queries $(DIFF_QUERIES) --seed $(DIFF_SEED) \
		$${KBQ_TEST_PG:+--db "$$KBQ_TEST_PG"}

# kbq-mcp links the MCP SDK and Foundation (with its networking part, whose static form needs
# libcurl), so it is built as an ordinary, dynamically linked release program (not
# the static kbq's flags) in a build folder of its own, and copied beside kbq, where `kbq mcp`
# looks for it (Sources/kbq/Subcommands.swift).
mcp: release
	$(SWIFT) build -c release --scratch-path .build/kbq-mcp --product kbq-mcp
	cp "$$($(SWIFT) build -c release --scratch-path .build/kbq-mcp --show-bin-path)/kbq-mcp" \
		"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/kbq-mcp"

# The editor tests (Tests/Editors): `kbq lsp` driven end to end by a real LSP client
# (pytest-lsp), and the TextMate grammar checked on the Examples; the agent tests
# (Tests/Agents): `kbq mcp` driven by the official MCP client. Their Python packages live in a
# virtual environment of their own, .build-python/, which `make editor-deps` makes from PyPI
# when they are missing (`make test` and .ci/run do). Without them the editor tests say they
# were skipped; under CI=true they fail.
EDITOR_PYTHON := $(CURDIR)/.build-python/bin/python
.PHONY: editor-deps test-editors
editor-deps:
	@if ! $(EDITOR_PYTHON) -c 'import pytest_lsp, lsprotocol, mcp' 2>/dev/null; then \
		echo "installing pytest-lsp, lsprotocol and mcp into .build-python/"; \
		python3 -m venv .build-python && \
		$(EDITOR_PYTHON) -m pip install --quiet --disable-pip-version-check 'pytest-lsp==1.0.1' 'lsprotocol==2025.0.0' 'mcp==2.3.0'; \
	fi

test-editors:
	@if ! $(EDITOR_PYTHON) -c 'import pytest_lsp, lsprotocol' 2>/dev/null; then \
		if [ "$${CI:-}" = true ]; then echo "test-editors: pytest-lsp is missing (make editor-deps)" >&2; exit 1; fi; \
		echo "test-editors: SKIPPED, pytest-lsp is not installed (make editor-deps installs it)"; \
	else \
		cd Tests/Editors && KBQ_BINARY="$$($(SWIFT) build --show-bin-path)/kbq" $(EDITOR_PYTHON) -m pytest -q -p no:cacheprovider; \
	fi

run: release
	@"$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/kbq"

# make startup-order: rewrites scripts/startup-order.txt from the release kbq and its link
# map (needs valgrind). The build does not track the list, so kbq is linked anew on both sides.
.PHONY: startup-order release-flags
startup-order: deps
	bin="$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)" && rm -f "$$bin/kbq" && \
	$(SWIFT) build $(RELEASE_FLAGS) -Xlinker -Map="$$bin/kbq.map" --product kbq && \
	scripts/startup-order.sh "$$bin/kbq" "$$bin/kbq.map" && rm "$$bin/kbq" "$$bin/kbq.map"

release-flags:
	@echo '$(RELEASE_FLAGS)'

# make embed: after editing Sources/KBQ/Article/article.kb.json, compiles it into the binary:
# its JSON (ArticleKBData.swift) and the compiled KB that `kbq build` writes from it
# (Sources/CArticleKB/article_kb.c), which kbq opens at start-up; ArticleKBTests and
# ArticleCompiledTests fail until it runs.
.PHONY: embed
embed: deps
	scripts/embed-article-kb.sh

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
	KBQ_RELEASE_FLAGS='$(RELEASE_FLAGS)' scripts/bench.sh
