# Quarry build, run and test targets. See README.md.
GO        ?= go
BIN       := bin/quarry
SHARED    ?= ../shared
TEST_TIMEOUT ?= 45m
BENCH_SF  ?= 1
SF        ?= $(BENCH_SF)
BENCH_DIR ?= bench-data/sf$(SF)
THREADS   ?= 2
RUNS      ?= 3
BENCH_FLAGS ?=
EXECUTORS ?= 2
EXECUTOR_THREADS ?= 1

.PHONY: all build run run-cluster test vet bench bench-micro bench-data clean proto

all: build

build:
	$(GO) build -o $(BIN) ./cmd/quarry

# Serve the checked-in TPC-H sample (scale 0.01) over the HTTP API on
# 127.0.0.1:9047 (see README.md for how to connect).
run: build
	$(BIN) serve --data-dir ./quarry-data --source tpch=testdata/tpch/sf0.01 --schema tpch

# The same sample on a local cluster: a coordinator (same front doors as
# run) and $(EXECUTORS) executor processes; Ctrl-C stops them all.
run-cluster: build
	@secret=$${QUARRY_CLUSTER_SECRET:-$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}; \
	export QUARRY_CLUSTER_SECRET=$$secret; \
	pids=; trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 1 $(EXECUTORS)); do \
		$(BIN) executor --coordinator 127.0.0.1:45677 --listen 127.0.0.1:$$((45677 + i)) --threads $(EXECUTOR_THREADS) & \
		pids="$$pids $$!"; \
	done; \
	$(BIN) coordinator --data-dir ./quarry-data --source tpch=testdata/tpch/sf0.01 --schema tpch \
		--cluster-addr 127.0.0.1:45677

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

# TPC-H Q1-Q22 at scale $(SF) on embedded Quarry and on DuckDB over the same
# Parquet files: agreement check, median times, ratios, geomean, peak RSS.
# The harness is its own module (bench/, cgo for DuckDB) so this one stays
# cgo-free. BENCH_DIR=/tmp/sf1 reuses data; BENCH_FLAGS="--json out.json".
bench: bench-data
	cd bench && CGO_ENABLED=1 $(GO) build -mod=mod -o ../bin/quarry-bench .
	bin/quarry-bench --data $(abspath $(BENCH_DIR)) --queries-dir $(abspath $(SHARED))/tpch/queries \
		--threads $(THREADS) --runs $(RUNS) $(BENCH_FLAGS)

# The same queries on a local cluster -- the coordinator in the harness,
# $(EXECUTORS) `quarry executor` processes of $(EXECUTOR_THREADS) thread(s)
# each -- against embedded Quarry with $(THREADS) threads: agreement check,
# median times, ratio cluster/embedded, geomean, bytes exchanged per query.
.PHONY: bench-cluster
bench-cluster: bench-data
	cd bench && CGO_ENABLED=1 $(GO) build -mod=mod -o ../bin/quarry-bench .
	bin/quarry-bench --data $(abspath $(BENCH_DIR)) --queries-dir $(abspath $(SHARED))/tpch/queries \
		--threads $(THREADS) --runs $(RUNS) --cluster $(EXECUTORS) --executor-threads $(EXECUTOR_THREADS) \
		--quarry-bin $(abspath $(BIN)) $(BENCH_FLAGS)

# TPC-H data at scale $(SF) in $(BENCH_DIR), generated once.
bench-data: build
	@if [ ! -f $(BENCH_DIR)/lineitem.parquet ]; then \
		echo "generating TPC-H scale $(SF) into $(BENCH_DIR)"; \
		$(BIN) tpch --sf $(SF) --out $(BENCH_DIR); \
	fi

# Micro-benchmarks of the executor, then TPC-H Q1 and Q6 at scale $(SF)
# with per-statement timing.
bench-micro: bench-data
	$(GO) test -run '^$$' -bench . -benchmem ./exec/...
	@for q in 01 06; do \
		echo "== TPC-H Q$$q (sf $(SF))"; \
		$(BIN) sql --data-dir bench-data/catalog --source tpch=$(BENCH_DIR) --schema tpch \
			--timing --format psv -f $(SHARED)/tpch/queries/q$$q.sql > /dev/null || exit 1; \
	done

# Regenerate the checked-in protobuf code (CI does not run protoc). Needs
# protoc (Debian protobuf-compiler) and the Go plugins:
# go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
# go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
proto:
	protoc --proto_path=. --go_out=. --go_opt=paths=source_relative \
		planner/physical/planpb/plan.proto
	protoc --proto_path=. --go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		executor/clusterpb/cluster.proto

clean:
	rm -rf bin
