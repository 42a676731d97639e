#!/usr/bin/env bash
# Builds what the relay serves at / (build/web) and what the npm package
# ships (jsbindings/dist):
#
#   build/web/lib/fieldrelay/  fieldrelay.wasm and fieldrelay-direct.wasm
#                              (+ .gz, .br), wasm_exec.js,
#                              and jsbindings/src/* (index.js, codes.js, .d.ts)
#   build/web/                 the demo app (demo/ without its tests and
#                              package files)
#   build/web/test/            jsbindings/test/page.html, the browser test's page
#   jsbindings/dist/           the npm package's files: build/web/lib/fieldrelay
#                              without the .gz and .br
#
# and prints the wasm's raw, gzip and brotli sizes. jsbindings/test/
# size.test.mjs builds the wasm with this script (--wasm) to check its
# size budget.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
out=build/web
lib=$out/lib/fieldrelay

# The one place the wasm's build flags are written. `build-web.sh --wasm
# FILE [TAGS]` builds only the wasm, to FILE (the size test does).
# fieldrelay-direct.wasm is the same program with direct mode (-tags
# direct: ProGlove Insight Mobile without a relay, wasm/bridge/direct.go).
build_wasm() {
  GOOS=js GOARCH=wasm "$GO" build -trimpath -ldflags="-s -w" -tags "${2:-}" -o "$1" ./wasm/bridge
}
if [ "${1:-}" = "--wasm" ]; then
  build_wasm "${2:?usage: build-web.sh --wasm FILE [TAGS]}" "${3:-}"
  exit
fi

mkdir -p "$lib"
build_wasm "$lib/fieldrelay.wasm"
build_wasm "$lib/fieldrelay-direct.wasm" direct
# wasm_exec.js must come from the Go that built the wasm: the two are one
# program (the JavaScript half of the runtime).
cp "$("$GO" env GOROOT)/lib/wasm/wasm_exec.js" "$lib/wasm_exec.js"
cp jsbindings/src/* "$lib/"

# The demo: every file of demo/ but its tests and package files.
(cd demo && find . -type f \
  ! -path './test/*' ! -path './node_modules/*' ! -name package.json ! -name README.md \
  -print0) | while IFS= read -r -d '' f; do
  mkdir -p "$out/$(dirname "$f")"
  cp "demo/$f" "$out/$f"
done
mkdir -p "$out/test"
cp jsbindings/test/page.html "$out/test/page.html"

# Precompressed variants for the relay's static handler. No brotli CLI is
# assumed: Node's zlib has it.
for w in fieldrelay fieldrelay-direct; do
gzip -9 -n -c "$lib/$w.wasm" > "$lib/$w.wasm.gz"
node -e '
const zlib = require("zlib"), fs = require("fs");
const [src, dst] = process.argv.slice(1);
fs.writeFileSync(dst, zlib.brotliCompressSync(fs.readFileSync(src), {
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC },
}));' "$lib/$w.wasm" "$lib/$w.wasm.br"
done

# The npm package ships the library without the precompressed copies:
# whoever serves it compresses it their way.
rm -rf jsbindings/dist
mkdir -p jsbindings/dist
cp "$lib"/index.js "$lib"/*.d.ts "$lib"/codes.js "$lib"/wasm_exec.js "$lib"/fieldrelay.wasm "$lib"/fieldrelay-direct.wasm jsbindings/dist/

size() { stat -c %s "$1"; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
for w in fieldrelay fieldrelay-direct; do
  raw=$(size "$lib/$w.wasm")
  gz=$(size "$lib/$w.wasm.gz")
  br=$(size "$lib/$w.wasm.br")
  echo "$w.wasm: raw $raw B ($(kib "$raw")), gzip -9 $gz B ($(kib "$gz")), brotli 11 $br B ($(kib "$br"))"
done
