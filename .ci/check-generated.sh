#!/usr/bin/env bash
# Regenerates every generated file into a scratch directory and fails if any
# committed copy differs: generated code must be committed and current.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
while IFS= read -r gofile; do
  dir=$(dirname "$gofile")
  args=$(sed -n 's#^//go:generate go tool msgp ##p' "$gofile")
  out=$(echo "$args" | sed -n 's/.*-o \([^ ]*\).*/\1/p')
  mkdir -p "$tmp/$dir"
  # Same flags as the go:generate line, output redirected to the scratch dir.
  # shellcheck disable=SC2046
  (cd "$dir" && go tool msgp $(echo "$args" | sed "s# -o [^ ]*# -o $tmp/$dir/$out#") >/dev/null)
  for f in "$out" "${out%.go}_test.go"; do
    if ! cmp -s "$dir/$f" "$tmp/$dir/$f"; then
      echo "stale generated file: $dir/$f (run: go generate ./...)" >&2
      diff -u "$dir/$f" "$tmp/$dir/$f" | head -20 >&2 || true
      status=1
    fi
  done
done < <(grep -rl --include='*.go' '^//go:generate go tool msgp' proto relay wasm 2>/dev/null)
# The bridge's transcoding plans are generated from proto/event's types.
(cd wasm/bridge/internal/batch && go run ./gen -o "$tmp/plans_gen.go")
if ! cmp -s wasm/bridge/internal/batch/plans_gen.go "$tmp/plans_gen.go"; then
  echo "stale generated file: wasm/bridge/internal/batch/plans_gen.go (run: go generate ./wasm/...)" >&2
  diff -u wasm/bridge/internal/batch/plans_gen.go "$tmp/plans_gen.go" | head -20 >&2 || true
  status=1
fi
# The codes table renders docs/codes.md and jsbindings/src/codes.{js,d.ts};
# proto/codes' TestGeneratedFilesCurrent checks those.
exit $status
