// The wasm size of the whole browser client, as the relay serves it
// (1 KiB = 1 024 B). DESIGN.md's budget is 1 050 KiB gzip and 800 KiB
// brotli; the client does not meet it yet (docs/benchmarks.md says why and
// what would), so this test enforces a ceiling at today's size plus a few
// KiB: the size may only go down until the budget is met, and it prints how
// far from the budget it is.
// Deterministic: it builds fieldrelay.wasm with .ci/build-web.sh --wasm
// (the build the page gets) and compresses it as the build does (gzip -9,
// brotli quality 11 with Node's zlib). Needs Go.
//
//   node --test jsbindings/test/size.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KiB = 1024;
const BUDGET = { gzip: 1050 * KiB, brotli: 800 * KiB }; // DESIGN.md
const CEILING = { gzip: 1330 * KiB, brotli: 975 * KiB }; // measured + ~1 %

test('fieldrelay.wasm stays under its ceiling', { timeout: 10 * 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldrelay-size-'));
  try {
    const wasm = path.join(dir, 'fieldrelay.wasm');
    const r = spawnSync('bash', [path.join(root, '.ci', 'build-web.sh'), '--wasm', wasm], {
      cwd: root, encoding: 'utf8', timeout: 10 * 60_000,
    });
    assert.equal(r.status, 0, `build-web.sh --wasm failed (${r.error?.message ?? r.signal ?? r.status}):\n${r.stderr}`);
    const raw = fs.readFileSync(wasm);
    // The served .gz is GNU gzip's (build-web.sh); Node's zlib at level 9
    // comes out some 8 KiB larger, so it only stands in without gzip.
    const cli = spawnSync('gzip', ['-9', '-n', '-c', wasm], { maxBuffer: 64 << 20 });
    const gzip = cli.status === 0 ? cli.stdout.length : zlib.gzipSync(raw, { level: 9 }).length;
    const brotli = zlib.brotliCompressSync(raw, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
    }).length;
    const kib = (n) => `${(n / KiB).toFixed(1)} KiB`;
    console.log(`fieldrelay.wasm: raw ${raw.length} B (${kib(raw.length)}), gzip -9 ${gzip} B (${kib(gzip)}), brotli 11 ${brotli} B (${kib(brotli)})`);
    console.log(`budget (DESIGN.md): gzip ${kib(BUDGET.gzip)}, brotli ${kib(BUDGET.brotli)}; ` +
      `over it by gzip ${kib(Math.max(0, gzip - BUDGET.gzip))}, brotli ${kib(Math.max(0, brotli - BUDGET.brotli))}`);
    assert.ok(gzip <= CEILING.gzip, `gzip ${kib(gzip)} grew past the ceiling of ${kib(CEILING.gzip)}`);
    assert.ok(brotli <= CEILING.brotli, `brotli ${kib(brotli)} grew past the ceiling of ${kib(CEILING.brotli)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
