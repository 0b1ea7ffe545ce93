# The two commands of the README: `make demo` runs gatewatch, `make test` runs every check.
# Each does its own setup, so both work on a fresh Debian/Ubuntu machine.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Real parts the tests and the stack run: Prometheus/promtool, Alertmanager/amtool, Redis,
# PostgreSQL, and Chromium for the browser tests (Playwright drives it; no browser download).
# Installed from Debian's packages when missing, never downloaded by hand.
APT_PACKAGES := prometheus prometheus-alertmanager redis-server postgresql chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_WORKERS ?= auto

.PHONY: setup system-packages demo test lint bench clean

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/gatewatch up --demo

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

bench: setup
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.notify
	$(BIN)/python -m bench.gateway

clean:
	rm -rf $(VENV) .gatewatch .pytest_cache .mypy_cache .ruff_cache src/*.egg-info test-artifacts
