#!/usr/bin/env bash
# Create or reuse .venv and install the project, the test stack, Chromium and the npm assets.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.13 python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.13*/bin/python3.13; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "Python 3.12 or newer is needed (Django 6)"; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser tests"
  (apt-get update -q && apt-get install -y -q chromium) >/dev/null
fi
if ! command -v prometheus >/dev/null 2>&1; then
  echo "installing Debian's prometheus for the request metrics (make run, tests)"
  (apt-get update -q && apt-get install -y -q --no-install-recommends prometheus) >/dev/null
fi
# Checked by a file the pages load, not the folder: an emptied node_modules reinstalls too.
if [ -f package.json ] && { [ ! -f node_modules/chart.js/package.json ] || [ package.json -nt node_modules ]; }; then
  npm ci --silent --no-audit --no-fund && touch node_modules
fi
