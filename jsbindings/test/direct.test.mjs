// Direct mode in headless Chromium: the npm package's connectDirect talks
// to ProGlove Insight Mobile's Streams API server (our simulator, `fieldrelay
// sim proglove`) from a page, with no relay in between. The dev relay only
// serves the page and the package (build/web).
//
//   node --test jsbindings/test/direct.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  skipReason, ensureBuilt, start, stopAll, within, launchChromium, STEP_TIMEOUT,
} from './harness.mjs';

describe('connectDirect in Chromium against the Insight Mobile simulator', { skip: skipReason || false, timeout: 10 * 60_000 }, () => {
  let web; // the base URL serving build/web
  let sim; // ws://127.0.0.1:port/ of the simulator
  let browser;
  const pageErrors = [];

  async function openPage() {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${web}/test/page.html`, { timeout: STEP_TIMEOUT });
    await page.waitForFunction(() => window.pageReady === true, null, { timeout: STEP_TIMEOUT });
    return page;
  }

  before(async () => {
    ensureBuilt();
    const w = start(['go', 'run', './relay/cmd/fieldrelay', 'serve', '--dev', '--listen', '127.0.0.1:0',
      '--static', 'build/web', '--log-level', 'warn'], /fieldrelay relay listening on (http:\/\/\S+)/);
    const s = start(['go', 'run', './relay/cmd/fieldrelay', 'sim', '--every', '100ms', 'proglove=127.0.0.1:0'],
      /proglove\s+(ws:\/\/\S+)/);
    [web, sim] = await Promise.all([w.matched, s.matched]);
    browser = await launchChromium();
  });

  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });

  it('yields typed scanner events and settles commands as the relay does', async () => {
    const page = await openPage();
    const r = await within(STEP_TIMEOUT * 2, page.evaluate(async (url) => {
      const { connectDirect, Kinds, Commands, Codes, FieldRelayError } = window.fr;
      const out = { states: [] };
      const waitFor = (pred, what, ms = 15_000) => new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => (pred() ? resolve() : Date.now() - t0 > ms ? reject(new Error(`timed out: ${what}`)) : setTimeout(tick, 20));
        tick();
      });
      const code = async (p) => { try { await p; return 'resolved'; } catch (e) { return e instanceof FieldRelayError ? e.code : `not a FieldRelayError: ${e}`; } };

      const c = await connectDirect(url, { link: 'app', commandTimeout: 500 });
      c.on('state', (s) => out.states.push(s));
      out.state = c.state;
      const events = [];
      await c.subscribe('scanner/#', { latest: true, onEvents: (b) => events.push(...b) });
      await waitFor(() => events.some((e) => e.kind === Kinds.SCAN), 'a scan');
      const scan = events.find((e) => e.kind === Kinds.SCAN);
      out.scan = {
        channel: scan.channel, serial: scan.value.serial, code: scan.value.code,
        link: scan.value.meta.link, protocol: scan.value.meta.protocol,
        raw: scan.value.meta.raw instanceof Uint8Array ? new TextDecoder().decode(scan.value.meta.raw) : null,
        epoch: typeof scan.epoch === 'string' && scan.epoch.length > 0,
      };
      // Offsets of one session's log increase by one per published event;
      // this subscription sees a subset, in order.
      const offs = events.map((e) => e.offset);
      out.ordered = offs.every((o, i) => i === 0 || o > offs[i - 1]);
      out.kinds = [...new Set(events.map((e) => e.kind))].sort();

      const target = scan.channel.replace(/\/[^/]+$/, '/cmd');
      const ok = await c.command(target, Commands.SCANNER_FEEDBACK, { action: 'FEEDBACK_POSITIVE' });
      out.feedback = { eventId: ok.data?.eventId ?? null };
      out.unknownScanner = await code(c.command('scanner/nosuchscanner0/cmd', Commands.SCANNER_FEEDBACK, { action: 'FEEDBACK_POSITIVE' }));
      out.badBody = await code(c.command(target, Commands.SCANNER_FEEDBACK, { action: 42 }));
      out.since = await code(c.subscribe('#', { since: { epoch: 'x', offset: 1 } }));
      await c.close();
      out.closed = c.state;
      out.codes = { DEVICE_REJECTED: Codes.DEVICE_REJECTED, BAD_REQUEST: Codes.BAD_REQUEST };
      return out;
    }, sim), 'the direct session');
    assert.equal(r.state, 'connected');
    assert.match(r.scan.channel, /^scanner\/[a-z0-9_]+\/scan$/);
    assert.ok(r.scan.code.length > 0, 'the scanned code');
    assert.equal(r.scan.link, 'app');
    assert.equal(r.scan.protocol, 'proglove');
    assert.match(r.scan.raw, /"event_type"\s*:\s*"scan"/, 'meta.raw is the app\'s message verbatim');
    assert.ok(r.scan.epoch, 'a session epoch');
    assert.ok(r.ordered, 'offsets in order');
    assert.match(r.feedback.eventId ?? '', /^[0-9a-f-]{36}$/, 'the command\'s event_id');
    assert.equal(r.unknownScanner, r.codes.DEVICE_REJECTED, 'the app\'s error event fails the command');
    assert.equal(r.badBody, r.codes.BAD_REQUEST);
    assert.equal(r.since, r.codes.BAD_REQUEST, 'no history to resume across sessions');
    assert.equal(r.closed, 'closed');
    console.log(`direct mode: kinds seen ${r.kinds.join(', ')}`);
    await page.close();
  });

  it('says clearly when the loaded wasm has no direct mode', async () => {
    const page = await openPage();
    const r = await page.evaluate(async (url) => {
      const { init, connectDirect, FieldRelayError } = window.fr;
      await init(); // fieldrelay.wasm, the relay-only build
      try {
        await connectDirect(url);
        return 'resolved';
      } catch (e) {
        return e instanceof FieldRelayError ? e.message : `not a FieldRelayError: ${e}`;
      }
    }, sim);
    assert.match(r, /no direct mode.*fieldrelay-direct\.wasm/);
    await page.close();
  });

  it('raised no uncaught error in the pages', () => {
    assert.deepEqual(pageErrors, []);
  });
});
