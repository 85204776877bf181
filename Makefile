# Kedge — the two commands a user needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

export KEDGE_CACHE ?= $(HOME)/.cache/kedge
KEDGE_BIN := $(KEDGE_CACHE)/bin
NODE := $(CURDIR)/node_modules/.bin/node
JEST := $(NODE) --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js
export PATH := $(KEDGE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## deps: install npm dependencies, including Node 24 (node_modules/.bin/node), when package-lock.json changed
deps: node_modules/.deps-stamp
# `npm install`, not `npm ci`: the registry mirror lacks some optional platform packages (e.g. @swc/core for
# darwin), which the lock file cannot list, and `npm ci` refuses a lock file without them.
node_modules/.deps-stamp: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

## tools: build kcp, kubectl, kcp plugins, etcd, Kubernetes (incl. kubelet, kube-proxy), kwok, Dex and Helm from Go modules into $(KEDGE_BIN)
tools:
	bash hack/tools/build.sh all

# What `make run` needs: kcp (kubectl and the kcp plugins come along for the user).
tools-kcp:
	bash hack/tools/build.sh kcp kcp-cli kube

# What `make test` needs (Dex for the OIDC suites), plus the OS's OpenSSH, tmux and rsync for the SSH suites and
# Chromium for the browser login suite (installed with apt when root, otherwise the command to run is printed).
tools-test: os-packages
	bash hack/tools/build.sh kcp kcp-cli kube etcd kwok dex

os-packages:
	bash hack/tools/os-packages.sh

## run: start kcp and the hub on https://127.0.0.1:$${KEDGE_HUB_PORT:-8443} and print how to log in
run: deps tools-kcp
	$(NODE) hack/run.ts

## run-oidc: `make run` plus a local Dex (users alice|bob|carol@example.com, password "password") for `kedge login` with OIDC
run-oidc: deps tools-kcp
	bash hack/tools/build.sh dex
	KEDGE_RUN_DEX=1 $(NODE) hack/run.ts

## test: typecheck, lint, unit tests, then integration tests against a real kcp
test: deps tools-test
	bash hack/test.sh

## typecheck: tsc --noEmit over src, e2e and hack
typecheck: deps
	$(NODE) node_modules/typescript/bin/tsc --noEmit

## lint: ESLint (type-aware) and Prettier's check over src, e2e, hack and bench
lint: deps
	$(NODE) node_modules/eslint/bin/eslint.js --max-warnings=0 .
	$(NODE) node_modules/prettier/bin/prettier.cjs --check --log-level=warn .

## format: rewrite files with Prettier and apply ESLint's fixes
format: deps
	$(NODE) node_modules/prettier/bin/prettier.cjs --write --log-level=warn .
	$(NODE) node_modules/eslint/bin/eslint.js --fix .

## unit: unit tests only (no kcp)
unit: deps
	$(JEST) --selectProjects unit -w 2

## generate: regenerate crds/ from crds/src and config/kcp from crds/ (never edit generated files by hand)
generate: deps
	$(NODE) hack/gen-crds.ts
	$(NODE) hack/gen-kcp-config.ts

## bench: every benchmark, then one table of headline ratios (BENCH_ARGS="--quick" or "--only tunnel"); see docs/benchmarks.md
# kcp (scheduling, edges) and an edge cluster's etcd, Kubernetes and kwok (edges): the tools `make test` needs, no Dex.
bench: deps tools-test
	$(NODE) bench/run.ts $(BENCH_ARGS)

## image: build the kedge-hub, kedge-agent and kedge images with buildah from the Dockerfile (docs/images.md)
image: deps
	bash hack/images/build.sh kedge-hub kedge-agent kedge

## build: compile TypeScript to dist/ (the npm package and container use it)
build: deps
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.build.json

.PHONY: help deps tools tools-kcp tools-test os-packages run run-oidc test typecheck lint format unit generate bench build image
