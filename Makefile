# Offre d'insertion : commandes de développement.
# `make run` et `make test` font toute l'installation sur une machine neuve.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# On a workstation the app runs in development mode; production (gunicorn,
# Procfile) refuses to start without a real FLASK_SECRET_KEY.
FLASK := $(BIN)/flask --app app --debug

.PHONY: run test migrer verifier exporter index bench lint paquets-systeme

# Debian ships venv apart (python3-venv): installed if missing.
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "Installation de python3-venv (paquet Debian)…"; rm -rf $(VENV); \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null && \
	  $(PYTHON) -m venv $(VENV); }

# Reinstall only when the dependencies change.
$(VENV)/.installe: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

# Debian's chromium drives the browser tests (never a downloaded browser);
# Debian's PostgreSQL gives the tests a throwaway cluster.
paquets-systeme:
	@{ command -v chromium >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; } || { \
	  echo "Installation de chromium et PostgreSQL (paquets Debian)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium postgresql >/dev/null; }

migrer: $(VENV)/.installe
	$(FLASK) db migrer

# Links sent by SMS or e-mail point to this very server unless told otherwise.
run: migrer
	FLASK_URL_PUBLIQUE=$${FLASK_URL_PUBLIQUE:-http://$(HOST):$(PORT)} \
	  $(FLASK) run --host $(HOST) --port $(PORT)

# Lint (with the import contracts), then the whole suite on SQLite, then on
# a throwaway PostgreSQL cluster.
test: $(VENV)/.installe paquets-systeme lint
	$(BIN)/pytest
	$(BIN)/pytest --base postgresql

verifier: $(VENV)/.installe
	$(FLASK) fiches verifier

exporter: $(VENV)/.installe
	$(FLASK) fiches exporter --sortie export

index: $(VENV)/.installe
	$(FLASK) index reconstruire

bench: $(VENV)/.installe
	$(BIN)/python bench/bench_chargement.py
	$(BIN)/python bench/bench_recherche.py
	$(BIN)/python bench/bench_pertinence.py
	$(BIN)/python bench/poids_page.py
	$(BIN)/python bench/bouton_telephone.py
	$(BIN)/python bench/meilisearch_muet.py

lint: $(VENV)/.installe
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
