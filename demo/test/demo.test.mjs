// End-to-end test of the demo page, as a user would see it: the relay with
// its simulators serves build/web, headless Chromium opens the page, and we
// check what appears on screen.
//
//   node --test demo/test/
//
// Needs Go, the browser library built into build/web (this test runs
// .ci/build-web.sh when the library is missing or the demo files in
// build/web are stale), /usr/bin/chromium (or $CHROMIUM) and playwright-core
// (npm, in the workspace). Writes test-artifacts/demo.png.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const demoDir = path.join(root, 'demo');
const webDir = path.join(root, 'build', 'web');
const libFile = path.join(webDir, 'lib', 'fieldrelay', 'index.js');
const buildScript = path.join(root, '.ci', 'build-web.sh');
const artifacts = path.join(root, 'test-artifacts');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// Bounded waits (ms).
const BUILD_TIMEOUT = 10 * 60_000;
const RELAY_START_TIMEOUT = 180_000; // `go run` may compile from cold
const PAGE_TIMEOUT = 30_000;
const STEP_TIMEOUT = 20_000;

// ------------------------------------------------------------ prerequisites

// The files build-web.sh copies from demo/ into build/web.
function demoFiles(dir = demoDir, rel = '') {
  const out = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${ent.name}` : ent.name;
    if (!rel && ['test', 'package.json', 'README.md', 'node_modules'].includes(ent.name)) continue;
    if (ent.isDirectory()) out.push(...demoFiles(path.join(dir, ent.name), r));
    else if (ent.isFile()) out.push(r);
  }
  return out;
}

function staleDemoFiles() {
  return demoFiles().filter((r) => {
    try {
      return !fs.readFileSync(path.join(demoDir, r)).equals(fs.readFileSync(path.join(webDir, r)));
    } catch {
      return true;
    }
  });
}

// The library in build/web is stale when its JavaScript differs from
// jsbindings/src or a Go file it is built from is newer than the wasm.
function staleLibrary() {
  const why = [];
  const src = path.join(root, 'jsbindings', 'src');
  const lib = path.dirname(libFile);
  for (const f of fs.existsSync(src) ? fs.readdirSync(src) : []) {
    try {
      if (!fs.readFileSync(path.join(src, f)).equals(fs.readFileSync(path.join(lib, f)))) why.push(`jsbindings/src/${f}`);
    } catch {
      why.push(`jsbindings/src/${f}`);
    }
  }
  let wasmTime = 0;
  try {
    wasmTime = fs.statSync(path.join(lib, 'fieldrelay.wasm')).mtimeMs;
  } catch {
    return ['fieldrelay.wasm missing'];
  }
  const walk = (dir) => {
    for (const ent of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (ent.name.endsWith('.go') && !ent.name.endsWith('_test.go') && fs.statSync(full).mtimeMs > wasmTime) {
        why.push(path.relative(root, full));
      }
    }
  };
  for (const dir of ['wasm', 'proto']) walk(path.join(root, dir));
  return why;
}

let skipReason = false;
if (!fs.existsSync(libFile) && !fs.existsSync(buildScript)) {
  skipReason = `the browser library is not built (${path.relative(root, libFile)} missing) and .ci/build-web.sh does not exist yet`;
} else if (!fs.existsSync(chromiumPath)) {
  skipReason = `no Chromium at ${chromiumPath} (run bash .ci/install-browser.sh, or set CHROMIUM)`;
}
if (skipReason) console.log(`SKIP demo browser test: ${skipReason}`);

function ensureBuilt() {
  const missing = !fs.existsSync(libFile);
  const stale = missing ? [] : [...staleDemoFiles().map((f) => `demo/${f}`), ...staleLibrary()];
  if (!missing && stale.length === 0) return;
  const why = missing ? 'library missing' : `changed since the last build: ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''}`;
  if (!fs.existsSync(buildScript)) throw new Error(`build/web is out of date (${why}) and .ci/build-web.sh does not exist`);
  console.log(`running bash .ci/build-web.sh (${why})`);
  const r = spawnSync('bash', [buildScript], { cwd: root, stdio: 'inherit', timeout: BUILD_TIMEOUT });
  if (r.error) throw new Error(`.ci/build-web.sh: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`.ci/build-web.sh exited with ${r.status ?? r.signal}`);
  if (!fs.existsSync(libFile)) throw new Error(`.ci/build-web.sh did not produce ${path.relative(root, libFile)}`);
  const still = staleDemoFiles();
  if (still.length) throw new Error(`.ci/build-web.sh did not copy the demo files: ${still.join(', ')}`);
}

// ------------------------------------------------------------ the relay

// Starts the relay in its own process group and resolves with its base URL.
function startRelay() {
  const child = spawn('go', ['run', './relay/cmd/fieldrelay', 'serve', '--dev', '--listen', '127.0.0.1:0',
    '--static', 'build/web', '--sim-every', '500ms'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Should this process die before stopRelay, take the relay with it.
  process.once('exit', () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const log = [];
  const keep = (prefix) => (chunk) => {
    for (const line of String(chunk).split('\n')) if (line) log.push(prefix + line);
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stderr.on('data', keep('relay! '));
  const url = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the relay did not print its address within ${RELAY_START_TIMEOUT / 1000} s:\n${log.join('\n')}`)), RELAY_START_TIMEOUT);
    child.stdout.on('data', (chunk) => {
      keep('relay: ')(chunk);
      out += chunk;
      const m = out.match(/fieldrelay relay listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited (${code ?? signal}) before listening:\n${log.join('\n')}`));
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return { child, url, log };
}

async function stopRelay(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const killGroup = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  killGroup('SIGTERM');
  const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    killGroup('SIGKILL');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  }
  // `go run` leaves the compiled binary running if only go itself died.
  killGroup('SIGKILL');
}

// ------------------------------------------------------------ the test

describe('demo page in headless Chromium', { skip: skipReason, timeout: BUILD_TIMEOUT + 5 * 60_000 }, () => {
  let relay;
  let base;
  let context;
  let page;
  let userDataDir;
  const consoleErrors = [];
  const pageErrors = [];

  // Waits for fn(arg) to be truthy in the page; on timeout fails with what
  // the page said and what it shows.
  async function waitFor(what, fn, arg, timeout = STEP_TIMEOUT) {
    try {
      return await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    } catch (err) {
      let state = '';
      try {
        state = JSON.stringify(await page.evaluate(() => {
          const d = window.__demo;
          if (!d) return { demo: 'window.__demo missing' };
          return { state: d.state, states: d.states, reconnects: d.reconnects, recovered: d.recovered, events: d.events,
            byKind: d.byKind, lastOffsets: d.offsets.slice(-20), gaps: d.gaps, duplicates: d.duplicates, replies: d.replies,
            errors: d.errors, notice: document.getElementById('notice')?.textContent };
        }));
      } catch (e) {
        state = `(cannot read the page: ${e.message})`;
      }
      throw new Error(`${what}: not seen within ${timeout / 1000} s (${err.message.split('\n')[0]})\n` +
        `page state: ${state}\n` +
        `page errors:\n  ${pageErrors.join('\n  ') || '(none)'}\n` +
        `console errors:\n  ${consoleErrors.join('\n  ') || '(none)'}\n` +
        `relay log (last lines):\n  ${relay?.log.slice(-15).join('\n  ')}`);
    }
  }

  const demoState = () => page.evaluate(() => JSON.parse(JSON.stringify(window.__demo)));

  before(async () => {
    ensureBuilt();
    const { chromium } = await import('playwright-core');
    relay = startRelay();
    base = await relay.url;
    console.log(`relay at ${base}`);

    // The dev endpoints the page depends on.
    const tok = await fetch(`${base}/dev/token`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(tok.status, 200, 'GET /dev/token (the relay needs --dev)');

    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldrelay-demo-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1100 },
      timeout: 60_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(String(err?.stack ?? err)));
    page.on('requestfailed', (req) => consoleErrors.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  });

  after(async () => {
    try {
      if (page) {
        fs.mkdirSync(artifacts, { recursive: true });
        await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {});
        await page.screenshot({ path: path.join(artifacts, 'demo.png'), fullPage: true, timeout: 10_000 });
        console.log(`screenshot: ${path.relative(process.cwd(), path.join(artifacts, 'demo.png'))}`);
      }
    } catch (err) {
      console.log(`no screenshot: ${err.message}`);
    }
    await context?.close().catch(() => {});
    await stopRelay(relay?.child);
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('loads, connects and shows uplinks from the simulator', async () => {
    const t0 = Date.now();
    await page.goto(`${base}/`, { waitUntil: 'load', timeout: PAGE_TIMEOUT });
    await waitFor('the connection state "connected"', () => document.querySelector('#conn-state')?.dataset.state === 'connected', null, PAGE_TIMEOUT);
    await waitFor('a LoRa uplink row', () => document.querySelectorAll('#uplinks tbody tr:not(.latest)').length > 0, null, PAGE_TIMEOUT);
    const wall = Date.now() - t0;
    const d = await demoState();
    console.log(`time to first event: ${d.firstEventMs} ms after navigation start (connected at ${d.connectedMs} ms; ` +
      `first uplink at ${d.firstUplinkMs} ms; uplink row visible ${wall} ms after page.goto)`);

    assert.equal(await page.textContent('#conn-state-text'), 'connected');
    const row = await page.$$eval('#uplinks tbody tr:not(.latest)', (rows) => [...rows[0].cells].map((c) => c.textContent));
    // offset, time, device, port, payload, fcnt, rssi, snr, sf, freq, gateways
    assert.match(row[0], /^\d+/, 'the offset');
    assert.match(row[2], /^[0-9a-f]{16}$/, 'the device EUI');
    assert.match(row[3], /^\d+$/, 'the port');
    assert.match(row[4], /^([0-9a-f]{2})+$/, 'the payload as hex');
    assert.match(row[8], /^SF\d+$/, 'the spreading factor');
    assert.match(row[9], /^\d+\.\d$/, 'the frequency in MHz');
    assert.ok(row[10].length > 0, 'the gateways');
    await waitFor('a gateway row with "last seen"', () => /s ago/.test(document.querySelector('#gateways tbody tr .ago')?.textContent ?? ''));
    await waitFor('an upstream link row', () => document.querySelectorAll('#links tbody tr').length > 0);
    // Every simulator of `make run` feeds its pane: one row per device.
    await waitFor('a scanner row with a scanned code', () => [...document.querySelectorAll('#scanner-table tbody tr')].some((tr) => tr.cells[3].textContent.length > 0));
    await waitFor('a tracker row with a position', () => [...document.querySelectorAll('#tracker-table tbody tr')].some((tr) => /^-?\d+\.\d{5}, -?\d+\.\d{5}$/.test(tr.cells[1].textContent)));
    await waitFor('a POS row', () => document.querySelectorAll('#pos-table tbody tr').length > 0);
    await page.evaluate(() => document.getElementById('rate').scrollIntoView());
  });

  it('plays feedback on an Insight Mobile scanner and shows Success', async () => {
    await waitFor('a Feedback button', () => !!document.querySelector('#scanner-table button'));
    await page.click('#scanner-table button');
    await waitFor('the feedback outcome', () => ['success', 'error'].includes(document.getElementById('fb-result').dataset.outcome));
    const text = await page.textContent('#fb-result');
    assert.match(text, /^Success · \S+ played the positive feedback$/, text);
  });

  it('sends a downlink from the form and shows Success with the reference', async () => {
    await waitFor('a device in the downlink form', () => !!document.querySelector('#dl-device option[value*="/"]'));
    const device = await page.$eval('#dl-device option[value*="/"]', (o) => o.value);
    await page.selectOption('#dl-device', device);
    await page.fill('#dl-port', '15');
    await page.fill('#dl-payload', '0a 0b 0c');
    await page.click('#dl-send');
    await waitFor('a downlink reply', () => ['success', 'error'].includes(document.querySelector('#dl-result').dataset.outcome));
    const text = await page.textContent('#dl-result');
    assert.equal(await page.getAttribute('#dl-result', 'data-outcome'), 'success', `reply shown: ${text}`);
    const m = text.match(/^Success · reference (\S+)$/);
    assert.ok(m, `reply shown: ${text}`);
    // The network's log of the downlink comes back as an event.
    await waitFor(`the downlink ${m[1]} in the feed`, (ref) => [...document.querySelectorAll('#downlinks tbody tr')]
      .some((tr) => tr.textContent.includes(ref) && tr.textContent.includes('0a0b0c')), m[1]);
  });

  it('shows a rejected downlink with the code name and the vendor text', async () => {
    await page.selectOption('#dl-device', 'other');
    const app = (await page.$eval('#dl-device option[value*="/"]', (o) => o.value)).split('/')[0];
    await page.fill('#dl-app', app);
    await page.fill('#dl-dev', '00000000000000f1');
    await page.fill('#dl-payload', '01');
    await page.click('#dl-send');
    await waitFor('a downlink reply', () => ['success', 'error'].includes(document.querySelector('#dl-result').dataset.outcome));
    const text = await page.textContent('#dl-result');
    assert.equal(await page.getAttribute('#dl-result', 'data-outcome'), 'error', `reply shown: ${text}`);
    assert.equal(text, 'DEVICE_REJECTED (502): device not found', 'the code name, number and the vendor text');
  });

  // Round 1 holds the page's reconnection back (its GET /dev/token answers
  // after TOKEN_DELAY ms, like a slow network), so the simulator publishes
  // while the page is away and the relay must replay those events. Round 2
  // reconnects as fast as the client can.
  it('recovers across POST /dev/drop with consecutive offsets', async () => {
    const TOKEN_DELAY = 2_000; // four simulator intervals
    for (const round of [1, 2]) {
      const slow = round === 1;
      const start = await demoState();
      await waitFor('more live events', (n) => window.__demo.offsets.length >= n + 3, start.offsets.length);
      const b = await demoState();
      if (slow) {
        await page.route('**/dev/token', async (route) => {
          await new Promise((resolve) => setTimeout(resolve, TOKEN_DELAY));
          await route.continue().catch(() => {});
        });
      }
      const res = await fetch(`${base}/dev/drop`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, 200, 'POST /dev/drop');
      const body = await res.text();
      assert.match(body, /dropped [1-9]/, `POST /dev/drop: ${body.trim()}`);

      await waitFor('reconnecting, then connected again with a new subscription',
        (x) => window.__demo.reconnects > x.reconnects && window.__demo.recovered.length > x.recovered && window.__demo.state === 'connected',
        { reconnects: b.reconnects, recovered: b.recovered.length });
      if (slow) await page.unroute('**/dev/token');
      const after = await demoState();
      const states = after.states.slice(b.states.length).map((s) => s.state);
      assert.ok(states.includes('reconnecting'), `states after the drop: ${states.join(' → ')}`);
      assert.equal(states.at(-1), 'connected', `states after the drop: ${states.join(' → ')}`);
      assert.equal(after.recovered.at(-1), true, 'recovered flag after the drop');
      assert.equal(await page.getAttribute('#recovered', 'data-recovered'), 'true');
      assert.match(await page.textContent('#recovered-text'), /^yes/);
      assert.equal(await page.textContent('#reconnects'), String(after.reconnects));
      const info = after.subscriptions.at(-1);
      console.log(`drop ${round}${slow ? ` (token delayed ${TOKEN_DELAY} ms)` : ''}: ${states.join(' → ')}; ` +
        `resubscribed at offset ${info.offset}, recovered ${info.recovered}, ${info.replayed} replayed`);
      if (slow) {
        assert.ok(info.replayed > 0, 'events published while the page was away are replayed');
        await waitFor('replayed rows on screen', () => document.querySelectorAll('#uplinks tbody tr.replayed').length > 0);
      }

      await waitFor('live events after the reconnect', (n) => window.__demo.offsets.length >= n + 3, after.offsets.length);
    }

    const d = await demoState();
    const offs = d.offsets;
    assert.ok(offs.length > 10, `offsets displayed: ${offs.length}`);
    assert.equal(offs[0], d.startOffset + 1, `the first live offset follows the subscription's start ${d.startOffset}`);
    for (let i = 1; i < offs.length; i++) {
      if (offs[i] !== offs[i - 1] + 1) {
        assert.fail(`offsets not consecutive at index ${i}: … ${offs.slice(Math.max(0, i - 5), i + 5).join(', ')} …`);
      }
    }
    assert.equal(d.gaps, 0, 'gaps the page counted');
    assert.equal(d.duplicates, 0, 'duplicates the page counted');
    assert.equal(await page.getAttribute('#offset-check', 'data-ok'), 'true');

    // What is on screen agrees: every offset row shown once, all from the sequence.
    const shown = await page.$$eval('#uplinks tbody tr:not(.latest), #joins tbody tr:not(.latest), #downlinks tbody tr:not(.latest), ol.log li',
      (els) => els.filter((e) => !e.querySelector('.tag.latest')).map((e) => Number(e.dataset.offset)));
    const seq = new Set(offs);
    assert.equal(new Set(shown).size, shown.length, 'an offset shown twice on screen');
    for (const o of shown) assert.ok(seq.has(o), `offset ${o} on screen but not in the sequence`);
    console.log(`${offs.length} consecutive offsets ${offs[0]}…${offs.at(-1)} across ${d.reconnects} reconnects`);
  });

  it('raised no uncaught error in the page', () => {
    assert.deepEqual(pageErrors, [], `page errors:\n${pageErrors.join('\n')}`);
  });
});
