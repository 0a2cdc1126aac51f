# kvbench: `make demo` runs the main job end to end on the engine simulator;
# `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
PNPM_VERSION := 12.4.2
# better-sqlite3 builds against Node's own headers (no download from nodejs.org).
export npm_config_nodedir ?= $(shell [ -f /usr/include/node/node.h ] && echo /usr)

.PHONY: all deps nats-server chromium build test test-unit test-process test-browser demo up bench clean

all: build

deps: node_modules/.modules.yaml nats-server

node_modules/.modules.yaml: pnpm-lock.yaml package.json pnpm-workspace.yaml $(wildcard libs/*/package.json services/*/package.json)
	@command -v pnpm >/dev/null && [ "$$(pnpm -v)" = "$(PNPM_VERSION)" ] || npm install -g --allow-scripts=pnpm pnpm@$(PNPM_VERSION)
	pnpm install --frozen-lockfile
	@touch $@

nats-server:
	@command -v nats-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server; }
	@command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ]

chromium:
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

build: deps
	pnpm exec tsc -b

# Three lanes (scripts/run-tests.mjs): unit first, then process and browser side by side.
test: build chromium
	node scripts/run-tests.mjs

test-unit: build
	node scripts/run-tests.mjs --lane unit

test-process: build
	node scripts/run-tests.mjs --lane process

test-browser: build chromium
	node scripts/run-tests.mjs --lane browser

demo: build
	node apps/cli/dist/src/main.js demo --out demo-out

up: build
	node apps/cli/dist/src/main.js up

bench: build
	node bench/run.mjs

clean:
	rm -rf node_modules libs/*/node_modules services/*/node_modules libs/*/dist services/*/dist libs/*/*.tsbuildinfo services/*/*.tsbuildinfo apps/*/node_modules apps/*/dist
