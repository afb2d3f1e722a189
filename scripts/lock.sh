#!/usr/bin/env bash
# Regenerate the Python lock files from pyproject.toml; run it after changing a dependency there.
#   requirements/dev.txt      the app with its sandbox and test extras: scripts/install.sh (make run, make test, CI)
#   requirements/sandbox.txt  the app with the sandbox extra: the Dockerfile's sandbox image (the demo)
#   requirements/base.txt     the app alone: the Dockerfile's production image
# Every package pinned with its hashes (pip-tools' pip-compile --generate-hashes), resolved from the index pip is
# configured with, for this Python (3.12, as the image). The two smaller files are constrained by dev.txt, so a
# package has the same version in all three. --upgrade takes the newest versions pyproject.toml allows.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=.venv/lock-tools  # pip-tools in a venv of its own: the project's .venv stays as the lock files say
if [ ! -x "$tools/bin/pip-compile" ]; then
  .venv/bin/python -m venv "$tools"
  "$tools/bin/pip" install -q "pip-tools==7.6.2"
fi
export CUSTOM_COMPILE_COMMAND="scripts/lock.sh"
compile() {
  "$tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --no-emit-trusted-host --output-file "$@" pyproject.toml
}
mkdir -p requirements
compile requirements/dev.txt --extra sandbox --extra test "$@"
compile requirements/sandbox.txt --extra sandbox --constraint requirements/dev.txt
compile requirements/base.txt --constraint requirements/dev.txt
