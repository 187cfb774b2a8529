# SPASS gateway. `make run` serves the gateway on the embedded default (the built-in
# simulator); `make test` runs every test, including the SDK drivers; `make help`
# lists the targets (the ones with a "## what it does" comment).
GO       ?= go
NODE_SDK := local/sdktest/node

# SQLite's FTS5 (RAG keyword search) is compiled into mattn/go-sqlite3 only with the
# build tag sqlite_fts5; without it the store's migrations fail. Every go command
# below (run, test, vet, bench, host builds, and the go builds tests start) gets it
# through GOFLAGS, kept on top of the go env's own GOFLAGS (-buildvcs=false here).
# A command-line -tags replaces GOFLAGS' tags, so LAMBDA_TAGS repeats it.
FTS_TAG := -tags=sqlite_fts5
export GOFLAGS := $(strip $(filter-out $(FTS_TAG),$(shell $(GO) env GOFLAGS)) $(FTS_TAG))

.PHONY: help run test test-setup test-go fuzz node-deps browser-deps bench vet fmt build clean check-infra lambda-local bench-lambda host \
	build-ChatFunction build-ConversationsFunction build-AgentsFunction build-DiscoveryFunction build-TenantFunction build-AdminFunction build-RagFunction build-McpFunction

run: ## the gateway on 127.0.0.1:8080 with the built-in simulator (SPASS_SIM_TOKEN_DELAY sets its pace)
	$(GO) run ./local/cmd/gateway

test: node-deps test-setup vet test-go fuzz ## every test: Go, the OpenAI SDKs, the docs' examples, the browser; then what was skipped
	@bash local/testsetup.sh report

# The browser and Redocly tests' npm packages, and Chromium when run as root (as
# .ci/run does); without them those tests skip, and `make test` says so at its end.
test-setup:
	@bash local/testsetup.sh prepare

help: ## this list
	@echo "make <target>:"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:[^=]*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test-go: ## the Go tests only (go test ./...)
	$(GO) test -count=1 ./...

# The request scanner against a strict JSON parser, for a bounded time (issue: the
# gateway and the backend must read the same request).
FUZZTIME ?= 20s
fuzz: ## the request scanner against a strict JSON parser for FUZZTIME (20s)
	$(GO) test -run '^$$' -fuzz FuzzScannerAgreesWithStrictParser -fuzztime $(FUZZTIME) ./shared/chat

node-deps: ## npm ci of the Node SDK test (local/sdktest/node)
	cd $(NODE_SDK) && npm ci --no-audit --no-fund --loglevel=error

vet: ## go vet and gofmt
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

# Added latency through the gateway (billing on, then off to compare), the
# ledger's committed rows per second, one /c1 turn on a conversation of 10,000
# messages against one of 10 and one /a1 agent turn on a session of 1,000 messages
# against one of 10 (each fails above 1.2x; -v prints the ratio), interactive chat
# p50 while a 1,000-line batch runs against the idle gateway and the batch's lines
# per second, then RAG: query p50/p99 at 10,000 and 100,000 chunks per mode, and
# indexing throughput in chunks/s.
bench: ## latency the gateway adds, its CPU, RSS and capacity against a bare proxy, ledger rows per second, /c1 and /a1 turns on long histories, a batch beside chat, RAG queries
	$(GO) run ./local/cmd/bench
	$(GO) run ./local/cmd/bench -cost
	$(GO) test -run '^$$' -bench LedgerWrites -benchtime 3s ./shared/billing
	$(GO) test -run '^$$' -bench 'BenchmarkTurn$$' -benchtime 200x -count 5 -v ./functions/conversations
	$(GO) test -run '^$$' -bench 'BenchmarkTurn$$' -benchtime 200x -count 5 -v ./functions/agents
	$(GO) run ./local/cmd/bench -batch
	$(GO) test -run '^$$' -bench RAGQuery -benchtime 200x ./shared/rag
	$(GO) test -run '^$$' -bench RAGIndexing -benchtime 20x ./shared/rag
	$(GO) test -run '^$$' -bench AffinityTTFB -benchtime 1x -count 3 ./local/affinitybench

build: ## bin/gateway and bin/simulator for this machine
	$(GO) build -o bin/gateway ./local/cmd/gateway
	$(GO) build -o bin/simulator ./local/cmd/simulator

clean: ## remove bin/
	rm -rf bin

# Cross builds for linux: cgo stays on (SQLite needs it), so a foreign architecture is
# compiled with Debian's cross gcc (gcc-aarch64-linux-gnu, gcc-x86-64-linux-gnu).
# goarch maps arm64/aarch64/x86_64/amd64 to GOARCH; cgo_env gives its build variables.
goarch = $(if $(filter x86_64 amd64,$(1)),amd64,$(if $(filter arm64 aarch64,$(1)),arm64,$(error architecture must be arm64 or x86_64, not "$(1)")))
cross_cc_arm64 := aarch64-linux-gnu-gcc
cross_cc_amd64 := x86_64-linux-gnu-gcc
cgo_env = CGO_ENABLED=1 GOOS=linux GOARCH=$(call goarch,$(1)) $(if $(filter $(shell $(GO) env GOHOSTARCH),$(call goarch,$(1))),,CC=$(cross_cc_$(call goarch,$(1))))

# Lambda. `sam build` runs build-<LogicalId> for every template.yaml function with
# BuildMethod makefile and ARTIFACTS_DIR set; each target writes $(ARTIFACTS_DIR)/bootstrap
# for provided.al2023. sam build cannot pass the architecture on, so LAMBDA_ARCH must
# match the template's Architecture parameter (default arm64 in both).
LAMBDA_ARCH ?= arm64
LAMBDA_TAGS := lambda.norpc,netgo,osusergo,sqlite_fts5

# bootstrap builds functions/$(1)/bootstrap into $(ARTIFACTS_DIR)/bootstrap.
define bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	$(call cgo_env,$(LAMBDA_ARCH)) $(GO) build -tags $(LAMBDA_TAGS) -trimpath -ldflags="-s -w" -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(1)/bootstrap
endef

# One target per function of template.yaml, naming the endpoint group it runs.
build-ChatFunction:
	$(call bootstrap,openai)
build-ConversationsFunction:
	$(call bootstrap,conversations)
build-AgentsFunction:
	$(call bootstrap,agents)
build-DiscoveryFunction:
	$(call bootstrap,discovery)
build-TenantFunction:
	$(call bootstrap,tenant)
build-AdminFunction:
	$(call bootstrap,admin)
build-RagFunction:
	$(call bootstrap,rag)
build-McpFunction:
	$(call bootstrap,mcp)

# The whole bundle as Lambda functions on one port, under local/lambda's Runtime API
# emulator (the bootstraps are built for this machine into bin/lambda).
lambda-local: ## every group as a Lambda function on one port (the real bootstraps, emulated runtime)
	$(GO) run ./local/cmd/lambda-local

# Cold start of each bootstrap: process start to first response.
bench-lambda: ## cold start of each Lambda bootstrap
	$(GO) run ./local/cmd/lambda-local -bench

# The DGX host's binaries for infra/systemd (the Spark is arm64).
HOST_ARCH ?= arm64
host: ## the DGX host binaries into bin/host (HOST_ARCH=arm64|x86_64)
	$(call cgo_env,$(HOST_ARCH)) $(GO) build -trimpath -o bin/host/spass-gateway ./cmd/gateway
	$(call cgo_env,$(HOST_ARCH)) $(GO) build -trimpath -o bin/host/spass-workers ./workers

# infra/: systemd units, env templates, Prometheus config and alert rules (promtool).
check-infra: ## systemd units, env templates, Prometheus rules (go test ./infra/)
	$(GO) test -count=1 ./infra/

# Chromium and the npm packages of the browser test (needs root for apt).
browser-deps: ## Chromium and the npm packages of the browser and Redocly tests (apt: root)
	bash local/browsertest/setup.sh
