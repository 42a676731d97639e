# fieldrelay — the two commands a newcomer needs:
#   make run    the relay with every simulator and the demo page on 127.0.0.1
#   make test   every test: generated code, lint for both targets, the race-
#               enabled suite over real loopback sockets, and a bounded fuzz run
SHELL := /bin/bash
GO ?= go
FUZZTIME ?= 10s
# Packages the edge (Workers) deployment hosts in GOOS=js: they must build there.
WASM_PKGS := ./proto/... ./relay/hub ./relay/broker ./relay/auth ./wasm/...

.PHONY: run web test generate check-generated lint build-wasm-core unit browser fuzz bench soak clean

run: web
	$(GO) run ./relay/cmd/fieldrelay serve --dev

# The browser library (wasm + npm package) and the demo, into build/web.
web:
	bash .ci/build-web.sh

test: check-generated lint build-wasm-core unit browser fuzz

generate:
	$(GO) generate ./...

check-generated:
	bash .ci/check-generated.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet $(WASM_PKGS)
	GOOS=js GOARCH=wasm $(GO) vet -tags direct ./wasm/bridge
	$(GO) mod tidy -diff

build-wasm-core:
	GOOS=js GOARCH=wasm $(GO) build $(WASM_PKGS)

unit:
	$(GO) test -race -count=1 -timeout 15m ./...

# The npm package and the demo page in headless Chromium, and the wasm size.
# Installs Debian's chromium and the npm packages when missing.
browser:
	bash .ci/install-browser.sh
	bash .ci/build-web.sh
	node --test --test-concurrency=1 jsbindings/test/ demo/test/

# Every fuzz target runs for FUZZTIME on top of its committed corpus
# (.ci/fuzz.sh says how a known toolchain flake is told from a failure).
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz.sh

# The delivery contract under 1 000 forced disconnects (docs/reliability.md).
soak:
	$(GO) run ./relay/cmd/fieldrelay soak

# Every benchmark, figures and ratios side by side (docs/benchmarks.md):
# codecs against encoding/json; fan-out and latency against a bare
# broadcast and a JSON-frames hub; idle-connection memory; wasm size and
# in-browser throughput. About 7 minutes on 2 cores.
bench:
	$(GO) test ./proto/ -run '^$$' -bench EventFrame -benchmem -count 5 | tee /tmp/bench-proto.txt
	$(GO) run ./internal/benchratio < /tmp/bench-proto.txt
	$(GO) test ./proto/ -run '^$$' -bench Frames -benchmem -count 3 | tee /tmp/bench-frames.txt
	$(GO) run ./internal/benchratio < /tmp/bench-frames.txt
	$(GO) test ./proto/event -run '^$$' -bench Kinds -benchmem -count 3 -benchtime 200ms | tee /tmp/bench-kinds.txt
	$(GO) run ./internal/benchratio < /tmp/bench-kinds.txt
	$(GO) build -o bin/fieldrelay ./relay/cmd/fieldrelay
	bin/fieldrelay loadgen --subscribers 1000 --channels 1000 --rate 10000 --duration 5s --procs 1
	bin/fieldrelay loadgen --subscribers 100 --rate 20000 --duration 3s
	bin/fieldrelay loadgen --idle 19500
	bash .ci/install-browser.sh
	bash .ci/build-web.sh
	node --test --test-concurrency=1 --test-reporter=spec jsbindings/test/size.test.mjs jsbindings/test/browser.test.mjs demo/test/ 2>&1 | grep -E 'wasm|events/s|first event' || true

clean:
	rm -rf bin build test-artifacts
