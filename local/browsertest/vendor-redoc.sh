#!/usr/bin/env bash
# Copies ReDoc's standalone bundle from the npm package pinned in package.json into
# shared/docsite/third_party/redoc, where the gateway embeds it (no Go module ships
# ReDoc). Run after changing the redoc version and `npm install`.
set -euo pipefail
cd "$(dirname "$0")"
src=node_modules/redoc
dst=../../shared/docsite/third_party/redoc
cp "$src/bundles/redoc.standalone.js" "$src/bundles/redoc.standalone.js.LICENSE.txt" "$dst/"
cp "$src/LICENSE" "$dst/LICENSE"
echo "vendored redoc $(node -p "require('./$src/package.json').version")"
