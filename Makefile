# Two commands from a fresh clone: `make synth` then `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth dashboards test lint typecheck validators diagram bench footprint digests clean verify diff \
	kube-api-cidrs settings-doc crds

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## synth: create .venv, install the package and the pinned cdk8s CLI, render the dashboards, write dist/
synth: dashboards node_modules/.installed
	$(BIN)/python -O app.py

## dashboards: render the built-in dashboards from their code into vaultaio_constructs/grafana/dashboards/rendered/
dashboards: $(BIN)/.installed
	$(BIN)/python -m vaultaio_constructs.grafana.dashboards.render

lint: $(BIN)/.installed
	$(BIN)/ruff check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

## validators: build the pinned validators (tools/go/*) into .tools/bin once; a no-op when they are current
validators: $(BIN)/.installed
	$(BIN)/python -m tests.tools

## crds: the CRDs the custom-resource tests validate against, from the upstream Go modules at the pinned
## versions (the tests read ../shared/crds/ when it exists; this is for a clone elsewhere)
crds:
	go mod download github.com/prometheus-operator/prometheus-operator@v0.93.0 \
		github.com/cert-manager/cert-manager@v1.21.1

## test: lint, type check, the pinned validators and the whole test suite
test: lint typecheck validators
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .tools

## settings-doc: docs/SETTINGS.md and vaultaio.schema.json from the props models (a test fails when stale)
settings-doc: $(BIN)/.installed
	$(BIN)/python tools/settings_doc.py

## diagram: docs/network.dot and docs/network.svg from the synthesized NetworkPolicies
diagram: $(BIN)/.installed
	$(BIN)/python tools/diagram.py

## bench: synth time of the stack vs. an empty cdk8s-plus-27 app (prints medians and the ratio)
bench: $(BIN)/.installed
	$(BIN)/python tools/bench.py

## digests: print each image's registry digest (crane or skopeo) as settings to merge into vaultaio.yaml
digests: $(BIN)/.installed
	$(BIN)/python tools/image_digests.py

## footprint: requests, limits and PVC sizes per component from dist/
footprint: $(BIN)/.installed
	$(BIN)/python tools/footprint.py

## verify: prove on the cluster (kubectl's current context) what dist/ promises; VERIFY_ARGS="--token-file F"
verify: $(BIN)/.installed
	$(BIN)/vault-aio verify --dist dist $(VERIFY_ARGS)

## diff: what kubectl apply -k dist/ would change on the cluster
diff:
	kubectl diff -k dist/
## kube-api-cidrs: print network.kube_api (API server addresses and ports) for the cluster kubectl points at
kube-api-cidrs:
	scripts/kube-api-cidrs.sh
