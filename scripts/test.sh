#!/usr/bin/env bash
# Sets up the machine (idempotent) and runs the whole test suite on the embedded broker.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k webhook`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
