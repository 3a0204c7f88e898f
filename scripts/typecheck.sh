#!/usr/bin/env bash
# mypy cannot follow setuptools' package-dir mapping (app/ installed as flowql.app, ...), so give
# it a copy of the sources in the installed layout and check that (mypy skips symbolic links).
# Errors name build/typecheck/flowql/<folder>/...: the same file under <folder>/ in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/typecheck/flowql
rm -rf build/typecheck
mkdir -p "$tree"
cp -r flowql/. "$tree"
for folder in app graph executors client; do
  cp -r "$folder" "$tree/$folder"
done
find build/typecheck -name __pycache__ -prune -exec rm -rf {} +
exec "${VENV:-.venv}/bin/mypy" "$@"
