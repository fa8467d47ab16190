# Quarry build, run and test targets. See README.md.
GO        ?= go
BIN       := bin/quarry
SHARED    ?= ../shared
TEST_TIMEOUT ?= 45m
BENCH_SF  ?= 1
BENCH_DIR ?= bench-data/sf$(BENCH_SF)

.PHONY: all build run test vet bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/quarry

# Serve the checked-in TPC-H sample (scale 0.01) over the HTTP API on
# 127.0.0.1:9047 (see README.md for how to connect).
run: build
	$(BIN) serve --data-dir ./quarry-data --source tpch=testdata/tpch/sf0.01 --schema tpch

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

# Micro-benchmarks of the executor, then TPC-H Q1 and Q6 at scale $(BENCH_SF)
# with per-statement timing (the data is generated into $(BENCH_DIR) once).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./exec/...
	@if [ ! -f $(BENCH_DIR)/lineitem.parquet ]; then \
		echo "generating TPC-H scale $(BENCH_SF) into $(BENCH_DIR)"; \
		$(BIN) tpch --sf $(BENCH_SF) --out $(BENCH_DIR); \
	fi
	@for q in 01 06; do \
		echo "== TPC-H Q$$q (sf $(BENCH_SF))"; \
		$(BIN) sql --data-dir bench-data/catalog --source tpch=$(BENCH_DIR) --schema tpch \
			--timing --format psv -f $(SHARED)/tpch/queries/q$$q.sql > /dev/null || exit 1; \
	done

clean:
	rm -rf bin
