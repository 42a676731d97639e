// The wasm size budget of DESIGN.md: the whole browser client, as the relay
// serves it, at most 1 050 KiB gzip and 800 KiB brotli (1 KiB = 1 024 B).
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
const BUDGET = { gzip: 1050 * KiB, brotli: 800 * KiB };

test('fieldrelay.wasm fits the size budget', { timeout: 10 * 60_000 }, () => {
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
    console.log(`budget: gzip ${kib(BUDGET.gzip)}, brotli ${kib(BUDGET.brotli)}`);
    assert.ok(gzip <= BUDGET.gzip, `gzip ${kib(gzip)} is over the budget of ${kib(BUDGET.gzip)} by ${kib(gzip - BUDGET.gzip)}`);
    assert.ok(brotli <= BUDGET.brotli, `brotli ${kib(brotli)} is over the budget of ${kib(BUDGET.brotli)} by ${kib(brotli - BUDGET.brotli)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
