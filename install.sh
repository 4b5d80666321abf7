#!/usr/bin/env bash
# Installs QMS on Debian/Ubuntu, as root or as a user, and links ./qms to the installed command.
#
#   bash install.sh                  the server: voice, fonts, then `pip install -e .`
#   bash install.sh postgres,redis   with the province drivers (PostgreSQL + Redis)
#   bash install.sh --test           everything the tests need (what .ci/run uses)
#
# Debian packages are installed only when missing: as root directly, as a user through sudo (a clear
# message when there is no sudo). Python packages go into the active virtualenv, else into the Python
# on PATH when pip may install there, else into ./.venv (Debian 12's own Python refuses `pip install`).
set -euo pipefail
cd "$(dirname "$0")"

extras=""
packages=(espeak-ng fonts-dejavu-core)
for arg in "$@"; do
  case "$arg" in
    --test)
      extras="test"
      packages+=(libespeak-ng1 chromium postgresql redis-server tesseract-ocr tesseract-ocr-vie zbar-tools libzbar0 sox) ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) extras="${extras:+$extras,}$arg" ;;
  esac
done

python_ok() {  # a Python 3.11+ at "$1"
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}
may_pip_install() {  # "$1" is a virtualenv's Python, or one that is not "externally managed" (PEP 668)
  "$1" -c '
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if sys.prefix != sys.base_prefix or not managed else 1)' >/dev/null 2>&1 && "$1" -m pip --version >/dev/null 2>&1
}

python=""
if [ -n "${VIRTUAL_ENV:-}" ] && python_ok "$VIRTUAL_ENV/bin/python"; then
  python="$VIRTUAL_ENV/bin/python"
elif [ -x .venv/bin/python ] && python_ok .venv/bin/python; then
  python=.venv/bin/python
else
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null && python_ok "$candidate" && may_pip_install "$candidate"; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then  # a ./.venv will be made: Python and its venv module must be there
  command -v python3 >/dev/null || packages+=(python3)
  packages+=(python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
    echo "Installing Debian packages with sudo (it may ask for your password): ${missing[*]}"
  else
    echo "error: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    echo "       as root run: apt-get install -y ${missing[*]}   then run this script again" >&2
    exit 1
  fi
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -z "$python" ]; then
  python3 -m venv .venv
  python=.venv/bin/python
fi
python="$("$python" -c 'import sys; print(sys.executable)')"
"$python" -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
ln -sfn "$(dirname "$python")/qms" qms
echo "QMS is installed for $python; ./qms runs it (e.g. ./qms serve --demo)"
