# Shared set-up for scripts/test and scripts/demo (sourced, not run).
# Idempotent: each step is skipped when already done.

PYTHON="${PYTHON:-python3}"

setup_python() {  # $1: the extra to install (test | demo)
  if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    "$PYTHON" -m venv .venv
  fi
  echo "== installing jobs-widgets[$1] into .venv"
  # (pip's noise about this machine's missing local index folders is filtered out)
  JOBS_WIDGETS_SKIP_JS=1 .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$1]" \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
}

node_required() {  # the Node.js version js/package.json asks for (engines.node ">=X.Y"), as X.Y
  sed -n 's/^ *"node": *">=\([0-9.]*\)".*/\1/p' js/package.json
}

check_node() {  # fail early, saying what to install, when node or npm is missing or too old
  local need have
  need="$(node_required)"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Node.js >= $need with npm is required to build the panel's front end (https://nodejs.org)" >&2
    exit 1
  fi
  have="$(node --version 2>/dev/null)"
  have="${have#v}"
  if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
    echo "Node.js $have is too old: the panel's front end needs Node.js >= $need with npm (https://nodejs.org)" >&2
    exit 1
  fi
}

setup_frontend() {  # build the panel's front end into jobs_widgets/static/
  [ -f js/package.json ] || return 0
  check_node
  echo "== building the front end (js/)"
  (cd js && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; } && npm run --silent build)
}

setup_chromium() {  # Debian's chromium for the real-browser tests
  [ -d tests/e2e ] || return 0
  if [ -x /usr/bin/chromium ]; then return 0; fi
  echo "== installing chromium (apt)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "chromium is missing and this user cannot install it; browser tests will be skipped" >&2
      return 0
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
}
