# haikei: the two commands a newcomer runs are `make demo` and `make test`.
# Both create .venv if it is missing and install what they need; nothing else is required.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
CONSTRAINTS := constraints.txt
DEMO_DIR ?= demo-production
# Debian packages the test suite drives for real: Chromium (browser tests), PostgreSQL (queue
# tests), iproute2 + util-linux (private network namespaces for Ray tests), redis-server (the Kitsu
# test server, scripts/kitsu-test-server.sh)
APT_TEST_PKGS := chromium chromium-driver fonts-ipafont-gothic postgresql iproute2 util-linux redis-server

.PHONY: demo test setup setup-dev system-deps lint typecheck bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.core-installed: pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP) install -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(CONSTRAINTS) $(VENV)/.core-installed
	$(PIP) install -c $(CONSTRAINTS) -e '.[dev,sd,ray,postgres,kitsu]'
	touch $@

setup: $(VENV)/.core-installed

setup-dev: $(VENV)/.dev-installed

system-deps:
	@missing=""; \
	for p in $(APT_TEST_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "note: missing Debian packages:$$missing (tests that need them will be skipped)"; \
	  fi; \
	fi

demo: setup
	$(VENV)/bin/haikei demo $(DEMO_DIR) --force

test: setup-dev system-deps
	$(PY) -m pytest -q

lint: setup-dev
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

typecheck: setup-dev
	$(VENV)/bin/mypy

bench: setup
	$(VENV)/bin/haikei bench --json artifacts/bench.json --sheet artifacts/bench_sheet.png

clean:
	rm -rf $(DEMO_DIR) artifacts .pytest_cache
