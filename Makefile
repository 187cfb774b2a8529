# SPASS gateway. `make run` serves the gateway on the embedded default (the built-in
# simulator); `make test` runs every test, including the SDK drivers.
GO       ?= go
NODE_SDK := local/sdktest/node

.PHONY: run test test-go node-deps bench vet fmt build clean

run:
	$(GO) run ./local/cmd/gateway

test: node-deps vet test-go

test-go:
	$(GO) test -count=1 ./...

node-deps:
	cd $(NODE_SDK) && npm ci --no-audit --no-fund --loglevel=error

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

bench:
	$(GO) run ./local/cmd/bench

build:
	$(GO) build -o bin/gateway ./local/cmd/gateway
	$(GO) build -o bin/simulator ./local/cmd/simulator

clean:
	rm -rf bin
