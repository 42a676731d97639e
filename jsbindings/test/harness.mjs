// What the Chromium tests of the npm package share: prerequisites (Go,
// Chromium, playwright-core; tests skip without them), building build/web
// when it is stale, child processes in their own process groups (killed
// by stopAll), bounded waits, and launching Chromium.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const lib = path.join(root, 'build', 'web', 'lib', 'fieldrelay');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

export const BUILD_TIMEOUT = 10 * 60_000;
export const RELAY_START_TIMEOUT = 180_000; // `go run` may compile from cold
export const STEP_TIMEOUT = 30_000;

// ------------------------------------------------------------ prerequisites

export let chromium = null;
export let skipReason = '';
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  skipReason = 'playwright-core is not installed (npm ci)';
}
if (!skipReason && !fs.existsSync(chromiumPath)) skipReason = `no Chromium at ${chromiumPath} (bash .ci/install-browser.sh, or set CHROMIUM)`;
if (!skipReason && spawnSync('go', ['version']).status !== 0) skipReason = 'no go command';
if (skipReason) console.log(`SKIP browser tests: ${skipReason}`);

function newest(dir, exts) {
  let t = 0;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) t = Math.max(t, newest(p, exts));
    else if (exts.some((e) => ent.name.endsWith(e))) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

// build/web is stale if a source of the wasm or of the package changed since.
export function ensureBuilt() {
  const wasm = path.join(lib, 'fieldrelay.wasm');
  const direct = path.join(lib, 'fieldrelay-direct.wasm');
  const builtAt = fs.existsSync(wasm) && fs.existsSync(direct) ? Math.min(fs.statSync(wasm).mtimeMs, fs.statSync(direct).mtimeMs) : 0;
  const sources = Math.max(
    newest(path.join(root, 'wasm'), ['.go']),
    newest(path.join(root, 'proto'), ['.go']),
    newest(path.join(root, 'jsbindings', 'src'), ['.js', '.ts']),
    fs.statSync(path.join(root, 'jsbindings', 'test', 'page.html')).mtimeMs,
  );
  const page = path.join(root, 'build', 'web', 'test', 'page.html');
  if (builtAt > sources && fs.existsSync(page)) return;
  console.log('running .ci/build-web.sh (build/web is missing or older than its sources)');
  const r = spawnSync('bash', [path.join(root, '.ci', 'build-web.sh')], { cwd: root, stdio: 'inherit', timeout: BUILD_TIMEOUT });
  if (r.status !== 0) throw new Error(`.ci/build-web.sh failed (${r.error?.message ?? r.signal ?? r.status})`);
}

// ------------------------------------------------------------ processes

const children = [];

// start runs a command in its own process group and resolves with the
// first match of pattern on its stdout.
export function start(args, pattern, { stdin = 'ignore' } = {}) {
  const child = spawn(args[0], args.slice(1), { cwd: root, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
  children.push(child);
  const log = [];
  const keep = (prefix) => (chunk) => {
    for (const line of String(chunk).split('\n')) if (line) log.push(prefix + line);
    if (log.length > 100) log.splice(0, log.length - 100);
  };
  child.stderr.on('data', keep('! '));
  let out = '';
  const matched = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no ${pattern} within ${RELAY_START_TIMEOUT / 1000} s:\n${log.join('\n')}`)), RELAY_START_TIMEOUT);
    child.stdout.on('data', (chunk) => {
      keep('  ')(chunk);
      out += chunk;
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}):\n${log.join('\n')}`));
    });
  });
  return { child, matched, lines: () => out.split('\n') };
}

export async function stopAll() {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise((r) => c.once('exit', r));
    try { process.kill(-c.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
    await exited;
    clearTimeout(t);
  }
}

export function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// launchChromium starts headless Chromium with a fresh profile; close it
// with the returned close().
export async function launchChromium() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldrelay-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: STEP_TIMEOUT,
  });
  return {
    context,
    close: async () => {
      await within(STEP_TIMEOUT, context.close(), 'closing Chromium').catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
