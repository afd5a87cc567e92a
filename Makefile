# podkeys: the two commands are `make dev` and `make test`.
.PHONY: dev test build lint-infra bench fmt lint ddb-install

## make dev: DynamoDB Local, the table, an admin key and the API on 127.0.0.1:3000 (Ctrl-C stops)
dev:
	@scripts/dynamodb-local.sh install
	@scripts/dev.sh

## make test: formatting, clippy, template lint, every test (DynamoDB Local, headless Chromium) and the API contract (Schemathesis)
test:
	@scripts/test.sh

## make build: release arm64 bootstraps of the six functions, with their sizes
build:
	@scripts/build.sh

## make lint-infra: cfn-lint + sam validate --lint + sam validate on infra/template.yaml
lint-infra:
	@scripts/lint-infra.sh

## make bench: every SPEC §7 figure against same-run baselines; rewrites BENCHMARKS.md (not in make test)
bench:
	@scripts/dynamodb-local.sh install
	@scripts/bench.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

ddb-install:
	@scripts/dynamodb-local.sh install
