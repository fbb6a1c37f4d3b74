# teslahome: every command a user types. `make help` lists them.

PROXY_PORT   ?= 8080
WALLBOX_PORT ?= 5000
WEB_PORT     ?= 8081
DATA_DIR     ?= data
CERTS_DIR    ?= certs
ARGS         ?=
TESLA_EMAIL  ?=
FLEET_CLIENT_ID ?=
FLEET_REDIRECT_URI ?=
SIM_PORT     ?= 5010
DEMO_DIR     ?= data-demo
DEMO_BACKEND ?= ble

VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# mitmproxy 12 needs Python 3.12+. The first candidate that runs and is new enough wins;
# pyenv shims for versions that are not activated fail the check and are skipped.
PYENV_ROOTS := $(HOME)/.pyenv $(PYENV_ROOT) /root/.pyenv
PYTHON_CANDIDATES := $(PYTHON) python3.14 python3.13 python3.12 python3 \
	$(foreach v,3.14 3.13 3.12,$(wildcard $(addsuffix /versions/$(v)*/bin/python3,$(PYENV_ROOTS)))) \
	$(wildcard /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9])
FIND_PYTHON := for c in $(PYTHON_CANDIDATES); do \
	  if command -v "$$c" >/dev/null 2>&1 && \
	     "$$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; \
	  then echo "$$c"; exit 0; fi; done; exit 1

# Listeners are declared with --mode ...@port, so a --mode in ARGS adds one instead of replacing.
PROXY_ARGS := --set confdir=$(abspath $(CERTS_DIR)) -s addons/entry.py \
	--mode regular@$(PROXY_PORT) \
	--set data_dir=$(DATA_DIR) \
	--set wallbox_port=$(WALLBOX_PORT)

.PHONY: help install run web test ha-venv ha-check bench bench-tools lint status cert wireguard login demo export state clean distclean

help:
	@echo "make run      start the proxy (port $(PROXY_PORT)) and the wallbox API (port $(WALLBOX_PORT))"
	@echo "make web      the same under mitmweb (web UI on port $(WEB_PORT))"
	@echo "make test     run the whole test suite"
	@echo "make ha-check  only the test against a real Home Assistant core, its walk printed"
	@echo "make bench    measure throughput, latency, memory, disk and Tesla API calls (BENCHMARKS.md)"
	@echo "make status   what is stored, what TeslaLogger has to fetch, the mirror's backlog"
	@echo "make cert     show the CA files and export them for an Android phone"
	@echo "make wireguard  print the phone's WireGuard config (WG_ENDPOINT=host:port)"
	@echo "make login    sign in to Tesla for the wallbox API (FLEET_CLIENT_ID=<your app's id>)"
	@echo "make demo     the wallbox API against a simulated car (port $(WALLBOX_PORT)), no Tesla needed"
	@echo "              (DEMO_BACKEND=ble|relay|owner: which vehicle back-end it goes through)"
	@echo "make export   write the ScanMyTesla history (TOKEN FROM TO FORMAT=csv|jsonl OUT=file)"
	@echo "make state    print the newest value of every id (TOKEN)"
	@echo "make lint     ruff"
	@echo "Variables: PROXY_PORT WALLBOX_PORT WEB_PORT DATA_DIR CERTS_DIR ARGS PYTHON TESLA_EMAIL"
	@echo "           FLEET_CLIENT_ID FLEET_REDIRECT_URI SIM_PORT DEMO_BACKEND WRK"

$(BIN)/python:
	@py=$$($(FIND_PYTHON)) || { \
	  echo "No Python 3.12 or newer found (tried: $(PYTHON_CANDIDATES))." >&2; \
	  echo "Install one (Debian/Ubuntu: apt install python3.12 python3.12-venv; or pyenv install 3.13)," >&2; \
	  echo "or point PYTHON at it: make PYTHON=/path/to/python3.12 ..." >&2; exit 1; }; \
	echo "Creating $(VENV) with $$py ($$($$py -V))"; \
	"$$py" -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mitmdump $(PROXY_ARGS) $(ARGS)

web: $(STAMP)
	$(BIN)/mitmweb $(PROXY_ARGS) --set web_port=$(WEB_PORT) $(ARGS)

# The real Home Assistant test needs HA's venv (ha-venv below): made once, then reused.
# Without Python 3.13 that test skips, saying why (under CI=true a skip fails the run).
test: $(STAMP)
	@$(MAKE) --no-print-directory ha-venv || \
	  echo "make test: Home Assistant could not be installed; its test will skip" >&2
	TESLAHOME_HASS=$(HA_VENV)/bin/hass $(BIN)/python -m pytest $(PYTEST_ARGS)

# A real Home Assistant core in a venv of its own, outside the clone (HA and its ~200
# packages are no part of teslahome): 2025.4.4 is the newest that runs on Python
# 3.13.0/3.13.1. tests/e2e/test_home_assistant.py says what it checks.
HA_VERSION ?= 2025.4.4
HA_VENV    ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/teslahome/ha-$(HA_VERSION)
HA_STAMP   := $(HA_VENV)/.installed-$(HA_VERSION)
HA_PYTHON_CANDIDATES := $(HA_PYTHON) python3.13 \
	$(wildcard $(addsuffix /versions/3.13*/bin/python3,$(PYENV_ROOTS))) \
	$(wildcard /usr/local/bin/python3.13 /usr/bin/python3.13)
HA_FIND_PYTHON := for c in $(HA_PYTHON_CANDIDATES); do \
	  if command -v "$$c" >/dev/null 2>&1 && \
	     "$$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; \
	  then echo "$$c"; exit 0; fi; done; exit 1

$(HA_STAMP):
	@test -x $(HA_VENV)/bin/python || { py=$$($(HA_FIND_PYTHON)) || { \
	  echo "Home Assistant $(HA_VERSION) needs Python 3.13 (tried: $(HA_PYTHON_CANDIDATES))." >&2; \
	  echo "Install one (pyenv install 3.13) or point HA_PYTHON at it." >&2; exit 1; }; \
	  echo "Creating $(HA_VENV) with $$py ($$($$py -V))"; "$$py" -m venv $(HA_VENV); }
	$(HA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(HA_VENV)/bin/python -m pip install --quiet homeassistant==$(HA_VERSION) paho-mqtt==2.1.0
	@touch $@

ha-venv: $(HA_STAMP)

# The Home Assistant test alone, with its walk printed.
ha-check: $(STAMP) $(HA_STAMP)
	TESLAHOME_HASS=$(HA_VENV)/bin/hass $(BIN)/python -m pytest -s tests/e2e/test_home_assistant.py

# QUICK=1: smaller runs, to try it out. The upload benchmark drives the proxy with
# wrk, a C load generator (a Python client would be the bottleneck, not the proxy).
bench: $(STAMP) bench-tools
	WRK=$(WRK) $(BIN)/python tests/bench/run.py $(if $(QUICK),--quick)

# wrk: WRK=/path/to/wrk, or on PATH, or installed from Debian's packages (as root).
WRK ?= $(shell command -v wrk 2>/dev/null)
bench-tools:
	@if [ -z "$(WRK)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make bench: wrk not found, installing it: apt-get install wrk"; \
	  apt-get install -y wrk >/dev/null 2>&1 || \
	    { apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1; }; \
	fi
	@wrk="$(WRK)"; [ -n "$$wrk" ] || wrk=$$(command -v wrk); \
	if [ -z "$$wrk" ] || ! "$$wrk" -v 2>&1 | grep -q wrk; then \
	  echo "make bench needs wrk, a C load generator, and could not find or install it." >&2; \
	  echo "Install it (Debian/Ubuntu: sudo apt install wrk; macOS: brew install wrk)," >&2; \
	  echo "or point WRK at one: make bench WRK=/path/to/wrk" >&2; exit 1; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

status: $(STAMP)
	@$(BIN)/python -m storage.status --data-dir $(DATA_DIR)

cert: $(STAMP)
	$(BIN)/python -m certs.export --confdir $(CERTS_DIR)

# Tesla's sign-in, for the wallbox API: writes teslapy's token cache into DATA_DIR.
# FLEET_CLIENT_ID: the Fleet API with your own developer app (the secret is asked for,
# or read from TESLA_CLIENT_SECRET); without it, teslapy's Owner API sign-in.
login: $(STAMP)
	$(BIN)/python -m wallbox.vehicle.login --token-file $(DATA_DIR)/tesla_token.json \
		$(if $(TESLA_EMAIL),--email $(TESLA_EMAIL)) \
		$(if $(FLEET_CLIENT_ID),--client-id $(FLEET_CLIENT_ID)) \
		$(if $(FLEET_REDIRECT_URI),--redirect-uri $(FLEET_REDIRECT_URI))

# The wallbox API against the car simulator, both clocks 10x faster; its own data directory.
# DEMO_BACKEND: ble (TeslaBleHttpProxy, the default), relay, or owner: the simulator plays
# that API and the wallbox API drives it through that back-end.
DEMO_VIN := 5YJ3E7EA1KF000001
DEMO_SIM_ble   := --shape ble --vin $(DEMO_VIN)
DEMO_SET_ble   := --set tesla_backend=ble --set wallbox_cars=$(DEMO_VIN)
DEMO_SIM_relay := --shape relay --token demo-relay-token
DEMO_SET_relay := --set tesla_backend=relay --set tesla_api_token=demo-relay-token
DEMO_SIM_owner := --shape owner
DEMO_SET_owner := --set tesla_backend=owner
demo: $(STAMP)
	@test -n "$(DEMO_SIM_$(DEMO_BACKEND))" || { echo "DEMO_BACKEND: ble, relay or owner" >&2; exit 2; }
	@$(BIN)/python -m wallbox.vehicle.simulator --port $(SIM_PORT) --time-factor 10 --asleep \
		$(DEMO_SIM_$(DEMO_BACKEND)) & sim=$$!; \
	trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	echo "Demo: a simulated, sleeping Tesla behind $(DEMO_BACKEND); Ctrl-C ends the demo."; \
	echo "  Open http://localhost:$(WALLBOX_PORT)/ : the status page, live. Then try:"; \
	echo "  curl -s localhost:$(WALLBOX_PORT)/tlwb/1/status"; \
	echo "  curl -s 'localhost:$(WALLBOX_PORT)/tlwb/1/control?1&wait=60'"; \
	echo "  curl -s localhost:$(WALLBOX_PORT)/tlwb/1/set_amps?8"; \
	echo "  curl -s localhost:$(WALLBOX_PORT)/tlwb/1/set_soc?45"; \
	echo "  curl -s localhost:$(SIM_PORT)/sim/calls     # what a real car would have been sent"; \
	$(BIN)/mitmdump --set confdir=$(abspath $(CERTS_DIR)) -s addons/entry.py \
		--mode regular@$(PROXY_PORT) --set data_dir=$(DEMO_DIR) \
		--set wallbox_port=$(WALLBOX_PORT) --set tesla_api_url=http://127.0.0.1:$(SIM_PORT) \
		$(DEMO_SET_$(DEMO_BACKEND)) \
		--set wallbox_time_factor=10 --set wallbox_pv_location=48.1374,11.5755 $(ARGS) & proxy=$$!; \
	trap 'kill $$sim $$proxy 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 50); do curl -sf -o /dev/null localhost:$(WALLBOX_PORT)/ && break; sleep 0.2; done; \
	if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && command -v xdg-open >/dev/null; then \
		xdg-open http://localhost:$(WALLBOX_PORT)/ >/dev/null 2>&1 || true; fi; \
	wait $$proxy

# WG_ENDPOINT: where the phone reaches this host's WireGuard port, e.g. home.example.org:51820
# (asked for, not guessed). WG_SPLIT=1: only teslalogger.de goes through the tunnel.
# The keys are the ones the proxy made in CERTS_DIR: use the CERTS_DIR of `make run`.
WG_ENDPOINT  ?=
WG_ALLOWED   ?=
WG_SPLIT     ?=
wireguard: $(STAMP)
	@$(BIN)/python -m certs.export --confdir $(CERTS_DIR) --wireguard "$(WG_ENDPOINT)" \
		$(if $(WG_ALLOWED),--allowed-ips $(WG_ALLOWED)) $(if $(WG_SPLIT),--split)

# export/state read the database read-only, also while the proxy runs.
# FROM/TO: a date or ISO time (TO exclusive); OUT=- is stdout; EXPORT_ARGS e.g. --fill --ids 43,442
TOKEN       ?=
FROM        ?=
TO          ?=
FORMAT      ?= csv
OUT         ?= -
EXPORT_ARGS ?=
export: $(STAMP)
	@$(BIN)/python -m storage.export --data-dir $(DATA_DIR) --format $(FORMAT) --output $(OUT) \
	  $(if $(TOKEN),--token $(TOKEN)) $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(EXPORT_ARGS)

state: $(STAMP)
	@$(BIN)/python -m storage.export --data-dir $(DATA_DIR) --state $(if $(TOKEN),--token $(TOKEN))

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(HA_VENV)
