#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine (a virtual environment in .venv with
# numtorch and its test dependencies, torch==2.13.0 as the oracle) and run the test suite.
# Extra arguments go to pytest, e.g. `bash test.sh tests/autograd -x`.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
