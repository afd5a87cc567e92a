# podkeys: the two commands are `make dev` and `make test`.
.PHONY: test bench fmt lint ddb-install

## make test: formatting, clippy and every test, against a DynamoDB Local started for the run
test:
	@scripts/test.sh

## make bench: criterion benchmarks (not part of make test); figures go in BENCHMARKS.md
bench:
	cargo bench -p apikey --bench keys

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

ddb-install:
	@scripts/dynamodb-local.sh install
