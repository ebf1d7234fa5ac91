# Trailwatch. Targets wrap go and scripts/; logic lives there, not here.
GO      ?= go
BIN     := bin/trailwatch
PKGS    := ./...

.PHONY: deps build image run test bench lint e2e fuzz clean

deps: ## fetch Go modules and the embedded ClickHouse engine (libchdb)
	$(GO) mod download
	./scripts/fetch-chdb.sh

build: ## build the one binary
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/trailwatch

image: ## the production container image (static binary, distroless; needs Docker)
	docker build -t trailwatch:dev .

run: deps build ## the whole pipeline on the embedded Kafka and ClickHouse
	./scripts/run-demo.sh

test: deps ## every test, with the race detector, on the embedded engines
	./scripts/test.sh

bench: deps ## benchmarks for the hot paths
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

lint: ## go vet and staticcheck
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.7.0 $(PKGS)

e2e: deps ## the integration tests against docker compose services
	./scripts/e2e.sh

clean:
	rm -rf bin
