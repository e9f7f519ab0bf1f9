#!/usr/bin/env bash
# Installs everything Sagebridge needs on a fresh Debian machine: system packages (ODBC drivers,
# load tools), a virtualenv with the Python dependencies, and every project package in editable mode.
# Safe to run again: each step is skipped or fast when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="unixodbc unixodbc-dev libsqliteodbc odbc-postgresql wrk prometheus php-cli"
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.requirements.sha
want=$(cat requirements.txt libs/*/pyproject.toml connectors/pyproject.toml services/*/pyproject.toml simulators/pyproject.toml devstack/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    -e libs/common -e connectors -e services/ingest -e services/transform -e services/erp_writer -e services/erp_cdc -e services/storefront_writer \
    -e simulators -e devstack
  echo "$want" > "$stamp"
fi
