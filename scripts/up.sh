#!/usr/bin/env bash
# Sets up the machine (idempotent) and runs the whole system on the embedded default: broker,
# simulators, topics, services, demo orders and a live view. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/sagebridge-dev up "$@"
