#!/usr/bin/env bash
# Set up numtorch on a fresh machine (a virtual environment in .venv) and run the main job.
# For now the main job trains the seed articles' networks from examples/ (XOR, the 2-3-1
# regression, linear regression, hand-written backprop, the MLP) and prints their results.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
for example in xor regression_231 linear_regression manual_backprop mlp; do
    echo "=== examples/$example.py"
    .venv/bin/python "examples/$example.py"
done
