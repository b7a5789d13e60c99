#!/usr/bin/env bash
# Set up numtorch on a fresh machine and run the main job: train the seed articles' CNN on
# Fashion-MNIST with `numtorch train`, report its test accuracy and save checkpoints and plots
# (runs/fashion_mnist_cnn/).
#   - creates a virtual environment in .venv with numtorch, Pillow, matplotlib and tqdm;
#   - takes Fashion-MNIST from Debian's dataset-fashion-mnist package (installed with apt-get
#     when running as root and missing), or from FASHION_MNIST_ROOT=DIR;
#   - `bash run.sh --examples` instead runs the small seed examples (XOR, regressions, MLP).
# Extra arguments go to `numtorch train` (e.g. `bash run.sh --epochs 3`; `--resume` continues an
# interrupted run).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[vision,plots,progress,jit]'

if [ "${1:-}" = "--examples" ]; then
    for example in xor regression_231 linear_regression manual_backprop mlp; do
        echo "=== examples/$example.py"
        .venv/bin/python "examples/$example.py"
    done
    exit 0
fi

DEBIAN_DIR=/usr/share/datasets/fashion-mnist
if [ -z "${FASHION_MNIST_ROOT:-}" ] && [ ! -e "$DEBIAN_DIR/train-images-idx3-ubyte.gz" ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "Installing Debian's dataset-fashion-mnist package ..."
        (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
         (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null))
    else
        echo "Fashion-MNIST not found. Install Debian's package (sudo apt-get install" \
             "dataset-fashion-mnist) or put the four IDX files in a directory and run" \
             "FASHION_MNIST_ROOT=DIR bash run.sh" >&2
        exit 1
    fi
fi
OUT=runs/fashion_mnist_cnn
if [ -e "$OUT/last.safetensors" ] && [[ " $* " != *" --resume "* ]]; then
    # a finished or interrupted earlier run: keep it, start this one in a fresh directory
    OUT="runs/fashion_mnist_cnn_$(date +%Y%m%d_%H%M%S)"
fi
exec .venv/bin/numtorch train --data-dir "${FASHION_MNIST_ROOT:-data}" --out "$OUT" "$@"
