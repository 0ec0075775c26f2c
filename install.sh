#!/usr/bin/env bash
# Set up ospo-bot in ./.venv: a CPU build of PyTorch first (a plain install would pull a
# multi-GB CUDA build that a Slack bot does not need), then the project with its dev extra.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  # This machine keeps the CPU wheel (torch 2.13.0+cpu) on disk; elsewhere use PyTorch's CPU index.
  .venv/bin/pip install -q "torch==2.13.0+cpu" 2>/dev/null \
    || .venv/bin/pip install -q torch --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
fi
.venv/bin/pip install -q -e '.[dev]'
echo "ospo-bot installed in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
