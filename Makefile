# make install   system packages (apt, only when missing) + .venv + the package in editable mode
# make test      install, then lint (ruff), types (mypy) and the whole test suite
# make test-fast the fast tier: lint, types and every test not marked slow (under a minute)
# make demo      install, then `harvester demo`
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
APT_PACKAGES ?= postgresql libreoffice-writer-nogui libreoffice-calc-nogui redis-server fonts-noto-cjk chromium python3-venv
PYTEST_ARGS ?= -q

.PHONY: install system-deps venv lint typecheck test test-fast demo pg-test-server clean-pg

install: system-deps venv

# dpkg -s is quick: apt-get runs only when a package is missing (root on Debian 12, or sudo).
system-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project metadata changed.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev,redis,serve]'
	@touch $@

# ruff on the whole tree; mypy strict on harvester/extract/ and harvester/link.py (pyproject.toml [tool.mypy])
lint: venv typecheck
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy

test: install lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-fast: venv lint
	$(VENV)/bin/pytest $(PYTEST_ARGS) -m "not slow"

demo: install
	$(VENV)/bin/harvester demo

# A throwaway PostgreSQL for running tests by hand: eval "$$(scripts/pg-test-server --export)"
pg-test-server:
	@scripts/pg-test-server --export

clean-pg:
	@scripts/pg-test-server stop
