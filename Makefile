# Agora: the two commands a fresh machine needs are `make up` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# One target dir for every build of this checkout (CI may point it at a cache outside the clone).
export CARGO_TARGET_DIR ?= $(CURDIR)/target
FOUNDRY := $(CURDIR)/node_modules/@foundry-rs
FORGE := $(FOUNDRY)/forge-linux-amd64/bin/forge
export PATH := $(FOUNDRY)/forge-linux-amd64/bin:$(FOUNDRY)/anvil-linux-amd64/bin:$(FOUNDRY)/cast-linux-amd64/bin:$(PATH)

.PHONY: up test deps ffmpeg contracts contracts-test artifacts artifacts-check rust-lint rust-test

## Install the pinned chain toolchain (forge, anvil, cast, solcjs, OpenZeppelin, viem) from npm,
## and ffmpeg (video transcode jobs) from Debian when it is missing.
deps: node_modules/.agora-installed ffmpeg
node_modules/.agora-installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

ffmpeg:
	@command -v ffmpeg >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg; }

## Build and bring everything up on the embedded defaults (anvil, SQLite, local API).
up: deps
	cargo build -p agora-cli
	$(CARGO_TARGET_DIR)/debug/agora up

## Every test: contracts (fmt, build, artifacts fresh, tests, gas snapshot), Rust (fmt, clippy, tests on SQLite and PostgreSQL).
test: deps contracts-test artifacts-check rust-lint rust-test

contracts: deps
	cd contracts && $(FORGE) build

contracts-test: deps
	cd contracts && $(FORGE) fmt --check
	cd contracts && $(FORGE) test
	cd contracts && $(FORGE) snapshot --check

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
