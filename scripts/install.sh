#!/usr/bin/env bash
# Create or reuse .venv and install the project, the test stack, Chromium and the npm assets.
set -euo pipefail
cd "$(dirname "$0")/.."

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

# The Python that creates .venv (Django 6 needs 3.12 or newer): $PYTHON if set, else the first new enough
# python3, python3.13 or python3.12 on PATH, else the oldest new enough one a pyenv on PATH has installed
# (its shims run only the selected version, so pyenv is asked). No path under the home directory is assumed.
python_find() {
  if [ -n "${PYTHON:-}" ]; then
    new_enough "$PYTHON" || { echo "PYTHON=$PYTHON is not Python 3.12 or newer (Django 6 needs it)" >&2; return 1; }
    echo "$PYTHON"; return
  fi
  for cand in python3 python3.13 python3.12; do
    if command -v "$cand" >/dev/null 2>&1 && new_enough "$cand"; then echo "$cand"; return; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)*$' | sort -V); do
      cand=$(PYENV_VERSION="$version" pyenv which python3 2>/dev/null) && new_enough "$cand" && { echo "$cand"; return; }
    done
  fi
  echo "Python 3.12 or newer is needed (Django 6): put python3.12 on PATH, or run PYTHON=/path/to/python3.12 make run" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY=$(python_find)
  "$PY" -m venv .venv
fi
# The locked versions (requirements/dev.txt: the app with its sandbox and test extras, every package pinned with
# its hashes; scripts/lock.sh regenerates it from pyproject.toml), then the project itself without resolving again.
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements/dev.txt -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q --require-hashes -r requirements/dev.txt
  .venv/bin/pip install -q --no-deps -e '.[sandbox,test]'
  # A dependency added to pyproject.toml but not to the lock is missing now: say so rather than fail later.
  if ! broken=$(.venv/bin/pip check); then
    echo "$broken"$'\n'"run scripts/lock.sh: the lock files are behind pyproject.toml" >&2
    exit 1
  fi
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
