// The fieldrelay demo page: one WebSocket to the relay that served this
// page, one subscription to '#' (every channel of the tenant), and a feed
// per device kind. It uses @fieldrelay/client exactly as an outside app
// would: through the import map in index.html, nothing else.
import { init, connect, Codes, Kinds, Commands } from '@fieldrelay/client';

const FEED_ROWS = 50; // rows kept per feed
const LOG_ITEMS = 20; // items kept per small log
const OFFSETS_KEPT = 20000; // offsets kept in window.__demo.offsets
const RATE_SECONDS = 60; // width of the rate plot

// Event kinds (docs/protocol.md §7), as the library names them.
const KIND = {
  uplink: Kinds.UPLINK,
  join: Kinds.JOIN,
  gateway: Kinds.GATEWAY,
  downlink: Kinds.DOWNLINK,
  link: Kinds.LINK_STATUS,
};

// The panes of device kinds this page only lists: which channels' first
// level or kinds' prefix goes there, and which upstream protocols feed them.
const FAMILIES = [
  { pane: 'scanners', noun: 'scanner', prefixes: ['scanner'], protocols: /^(proglove|scanner)/ },
  { pane: 'gps', noun: 'GPS tracker', prefixes: ['gps', 'tracker'], protocols: /^(itrack|navixy|atmosphere|gps)/ },
  { pane: 'pos', noun: 'POS', prefixes: ['pos'], protocols: /^(doshii|pos)/ },
];

// Gateway heartbeat age (seconds) at which a gateway is shown late, then
// silent. The dev simulator beats every 10 s, a real ResIOT network every
// 30 s or so.
const GATEWAY_LATE_S = 45;
const GATEWAY_SILENT_S = 120;

const $ = (id) => document.getElementById(id);

// What tests (and curious developers, from the console) can read.
const demo = {
  state: 'connecting', // the client's last state
  states: [], // every state change: {state, at (ms since page load), error}
  reconnects: 0, // connections made after the first one
  recovered: [], // the recovered flag of every (re)subscription, in order
  subscriptions: [], // every onSubscribed info, in order
  startOffset: null, // the position of the first subscription
  epoch: null,
  offsets: [], // offsets of every displayed event (latest values excepted), in display order
  latestOffsets: [], // offsets of the latest values shown on subscribe
  gaps: 0, // missing offsets the page noticed (unannounced)
  duplicates: 0, // offsets shown twice or out of order
  lost: 0, // offsets the relay told us it could not recover (recovered: false)
  events: 0, // events displayed, latest values included
  byKind: {},
  firstEventMs: null, // ms from navigation start to the first event on screen
  firstUplinkMs: null, // … and to the first uplink
  connectedMs: null,
  devices: [], // "appEUI/devEUI" seen, in order
  replies: [], // downlink outcomes: {target, ok, reference} or {target, ok: false, code, name, message}
  errors: [], // errors the client reported
};
window.__demo = demo;

// ---------------------------------------------------------------- helpers

const pad2 = (n) => String(n).padStart(2, '0');

function hex(bytes) {
  if (bytes == null) return '';
  if (typeof bytes === 'string') return bytes;
  let s = '';
  for (const b of bytes) s += (b & 0xff).toString(16).padStart(2, '0');
  return s;
}

function parseHex(text) {
  const clean = text.replace(/^0x/i, '').replace(/[\s:_-]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// µs since the Unix epoch (number or BigInt) → ms, or 0.
function usToMs(us) {
  if (us == null) return 0;
  const n = Number(us);
  return Number.isFinite(n) && n > 0 ? n / 1000 : 0;
}

function clock(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function ago(ms) {
  if (!ms) return '–';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function num(v, digits) {
  if (v == null || v === '') return '';
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  return digits == null ? String(n) : n.toFixed(digits);
}

function eventTimeMs(value) {
  const m = value?.meta;
  return usToMs(m?.time) || usToMs(m?.received);
}

function td(text, cls) {
  const c = document.createElement('td');
  c.textContent = text;
  if (cls) c.className = cls;
  return c;
}

function offsetCell(ev) {
  const c = td(String(ev.offset), 'off');
  if (ev.latest) c.append(tag('latest', 'last known value, sent on subscribe'));
  else if (ev.replayed) c.append(tag('replayed', 'missed while disconnected, replayed by the relay'));
  return c;
}

function tag(text, title) {
  const s = document.createElement('span');
  s.className = `tag ${text}`;
  s.textContent = text;
  s.title = title;
  return s;
}

function rowFor(ev, cells) {
  const tr = document.createElement('tr');
  tr.dataset.offset = String(ev.offset);
  if (ev.latest) tr.className = 'latest';
  else if (ev.replayed) tr.className = 'replayed';
  tr.append(offsetCell(ev), ...cells);
  return tr;
}

// The error's own text: the library's message may already start with a
// "client: NAME (code): " prefix, which errText shows once.
function errMessage(err) {
  const message = String(err?.message ?? err ?? '');
  if (err?.code == null) return message;
  const prefix = new RegExp(`^(?:[a-z ]+: )*${codeName(err.code)} \\(${err.code}\\)(?:: )?`);
  return message.replace(prefix, '');
}

// "NAME (code): message", the way the page shows errors.
function errText(err) {
  if (err == null) return '';
  const message = errMessage(err);
  if (err.code == null) return message;
  return `${codeName(err.code)} (${err.code})${message ? `: ${message}` : ''}`;
}

function codeName(code) {
  if (Codes) {
    for (const [name, value] of Object.entries(Codes)) if (value === code) return name;
  }
  return `code ${code}`;
}

// A compact, readable summary of an event value (bytes as hex, no raw).
function summary(value) {
  const seen = new WeakSet();
  const s = JSON.stringify(value, (k, v) => {
    if (k === 'raw') return undefined;
    if (v instanceof Uint8Array) return hex(v);
    if (typeof v === 'bigint') return Number(v);
    if (v && typeof v === 'object') {
      if (seen.has(v)) return undefined;
      seen.add(v);
    }
    return v;
  });
  return s && s.length > 240 ? `${s.slice(0, 239)}…` : s ?? '';
}

// ---------------------------------------------------------------- feeds

// Rows of one batch are gathered per table and inserted at once, newest on
// top; each table keeps FEED_ROWS rows.
const pending = new Map();

function feedAdd(id, row) {
  let frag = pending.get(id);
  if (!frag) pending.set(id, (frag = document.createDocumentFragment()));
  frag.prepend(row);
}

function flushFeeds() {
  for (const [id, frag] of pending) {
    const el = $(id);
    const body = el.tBodies ? el.tBodies[0] : el;
    body.prepend(frag);
    const limit = el.tagName === 'OL' ? LOG_ITEMS : FEED_ROWS;
    while (body.children.length > limit) body.lastElementChild.remove();
    markFilled(id);
  }
  pending.clear();
}

function markFilled(id) {
  const empty = document.querySelector(`.empty[data-for="${id}"]`);
  if (empty) empty.hidden = true;
}

function logItem(ev, text) {
  const li = document.createElement('li');
  li.dataset.offset = String(ev.offset);
  const off = document.createElement('span');
  off.className = 'off';
  off.textContent = `#${ev.offset}`;
  if (ev.latest) off.append(tag('latest', 'last known value, sent on subscribe'));
  else if (ev.replayed) off.append(tag('replayed', 'missed while disconnected, replayed by the relay'));
  const body = document.createElement('span');
  body.textContent = text;
  li.append(off, body);
  return li;
}

// ---------------------------------------------------------------- devices

const devices = new Map(); // "app/dev" → {app, dev}

function sawDevice(app, dev) {
  if (!app || !dev) return;
  const key = `${app}/${dev}`;
  if (devices.has(key)) return;
  devices.set(key, { app, dev });
  demo.devices.push(key);
  const sel = $('dl-device');
  const opt = document.createElement('option');
  opt.value = key;
  opt.textContent = `${dev}  (app ${app})`;
  sel.insertBefore(opt, sel.querySelector('option[value="other"]'));
  const placeholder = sel.querySelector('option[value=""]');
  if (placeholder && sel.value === '') {
    placeholder.remove();
    sel.value = key;
    onDeviceChange();
  }
}

// ---------------------------------------------------------------- per kind

let uplinkCount = 0;

function onUplink(ev) {
  const v = ev.value ?? {};
  sawDevice(v.appEUI, v.devEUI);
  const gws = Array.isArray(v.gateways) ? v.gateways.join(', ') : '';
  feedAdd('uplinks', rowFor(ev, [
    td(clock(eventTimeMs(v)), 'time'),
    td(v.devEUI ?? '', 'eui'),
    td(num(v.port), 'num'),
    td(hex(v.payload), 'hex'),
    td(num(v.fcnt), 'num'),
    td(num(v.rssi, 0), 'num'),
    td(num(v.snr, 1), 'num'),
    td(v.sf ? `SF${v.sf}` : '', 'num'),
    td(num(v.frequency, 1), 'num'),
    td(gws, 'eui small'),
  ]));
  if (!ev.latest) {
    uplinkCount++;
    if (demo.firstUplinkMs == null) demo.firstUplinkMs = Math.round(performance.now());
  }
}

function onJoin(ev) {
  const v = ev.value ?? {};
  sawDevice(v.appEUI, v.devEUI);
  feedAdd('joins', rowFor(ev, [
    td(clock(eventTimeMs(v)), 'time'),
    td(v.devEUI ?? '', 'eui'),
    td(v.appEUI ?? '', 'eui'),
    td(Array.isArray(v.gateways) ? v.gateways.join(', ') : '', 'eui small'),
  ]));
}

function onDownlink(ev) {
  const v = ev.value ?? {};
  sawDevice(v.appEUI, v.devEUI);
  feedAdd('downlinks', rowFor(ev, [
    td(clock(eventTimeMs(v)), 'time'),
    td(v.devEUI ?? '', 'eui'),
    td(num(v.port), 'num'),
    td(hex(v.payload), 'hex'),
    td(v.reference ?? '', 'ref'),
  ]));
}

const gateways = new Map(); // EUI → {row, seenMs}

function onGateway(ev) {
  const v = ev.value ?? {};
  const eui = v.gateway || ev.channel.split('/').pop();
  const seen = usToMs(v.meta?.received) || usToMs(v.meta?.time);
  let g = gateways.get(eui);
  if (!g) {
    const tr = document.createElement('tr');
    tr.dataset.gateway = eui;
    tr.append(td(eui, 'eui'), td('', 'ago'), td('', 'off'), td('', 'eui small'));
    $('gateways').tBodies[0].append(tr);
    markFilled('gateways');
    g = { row: tr, seenMs: 0 };
    gateways.set(eui, g);
  }
  if (seen >= g.seenMs) {
    g.seenMs = seen;
    g.row.dataset.offset = String(ev.offset);
    g.row.cells[2].textContent = String(ev.offset);
    g.row.cells[3].textContent = v.connector ?? '';
    g.row.cells[1].title = `last heartbeat at ${clock(seen)}`;
  }
  renderGateway(g);
}

function renderGateway(g) {
  const age = g.seenMs ? (Date.now() - g.seenMs) / 1000 : Infinity;
  const cell = g.row.cells[1];
  cell.textContent = ago(g.seenMs);
  g.row.dataset.health = age < GATEWAY_LATE_S ? 'alive' : age < GATEWAY_SILENT_S ? 'late' : 'silent';
}

const links = new Map(); // link name → row

function onLink(ev) {
  const v = ev.value ?? {};
  const parts = ev.channel.split('/');
  const name = v.meta?.link || (parts.length >= 3 ? parts.slice(1, -1).join('/') : ev.channel);
  const state = v.state || 'unknown';
  let detail = v.reason || '';
  if (state === 'backing_off' || state === 'connecting') {
    const bits = [];
    if (v.attempt) bits.push(`attempt ${v.attempt}`);
    if (v.retryMs) bits.push(`retry in ${(Number(v.retryMs) / 1000).toFixed(1)} s`);
    if (bits.length) detail = detail ? `${detail} · ${bits.join(', ')}` : bits.join(', ');
  }
  noteFamilyLink(name, v.meta?.protocol);
  let tr = links.get(name);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.link = name;
    tr.append(td(name, 'name'), td('', 'st'), td('', 'detail'), td('', 'time'), td('', 'off'));
    $('links').tBodies[0].append(tr);
    markFilled('links');
    links.set(name, tr);
  }
  tr.dataset.state = state;
  tr.cells[1].textContent = state.replace('_', ' ');
  tr.cells[2].textContent = detail;
  tr.cells[3].textContent = clock(eventTimeMs(v));
  tr.cells[4].textContent = String(ev.offset);
  feedAdd('link-log', logItem(ev, `${clock(eventTimeMs(v))}  ${name}: ${state.replace('_', ' ')}${detail ? ` (${detail})` : ''}`));
}

function familyOf(ev) {
  const top = ev.channel.split('/')[0];
  const prefix = String(ev.kind).split('.')[0];
  return FAMILIES.find((f) => f.prefixes.includes(top) || f.prefixes.includes(prefix));
}

// One line for the kinds of the listed families; others fall back to the
// value as JSON.
const join = (...parts) => parts.filter((p) => p != null && p !== '').join(' · ');
const LINES = {
  [Kinds.TRACKER_STATE]: (v) => join(
    v.label ? `${v.label} (#${v.trackerId})` : `tracker #${v.trackerId}`,
    v.hasPosition ? `${num(v.lat, 5)}, ${num(v.lng, 5)}` : 'no fix',
    v.speed != null ? `${num(v.speed, 0)} km/h` : '',
    v.movement, v.connection,
    v.ignition != null ? `ignition ${v.ignition ? 'on' : 'off'}` : '',
    v.battery != null ? `battery ${v.battery}%` : ''),
  [Kinds.TRACKER_LIFECYCLE]: (v) => join(v.label || `tracker #${v.trackerId}`, v.event, v.status),
  [Kinds.TRACKER_SUBSCRIPTION]: (v) => join(`tracker #${v.trackerId || '?'}`, `source ${v.sourceId}`, v.event),
  [Kinds.GPS_OTHER]: (v) => join('event', v.event),
  [Kinds.POS]: (v) => join(v.category, v.name, v.id && `id ${v.id}`, v.status, v.locationId && `location ${v.locationId}`),
  [Kinds.SCAN]: (v) => join(v.serial, `scanned ${v.code}`, v.symbology),
  [Kinds.CLOUD_SCAN]: (v) => join(v.serial, `scanned ${v.code}`, v.symbology),
  [Kinds.SCANNER_STATE]: (v) => join(v.serial, v.state, v.reason),
  [Kinds.SCANNER_BUTTON]: (v) => join(v.serial, v.gesture),
  [Kinds.SCANNER_ERROR]: (v) => join(v.serial, v.severity, v.code, v.message),
  [Kinds.SCANNER_GATEWAY]: (v) => join(`gateway ${v.gateway}`, `${v.devices?.length ?? 0} scanner(s)`, v.appVersion),
};

function onOther(ev) {
  const fam = familyOf(ev);
  const line = LINES[ev.kind] && ev.value ? LINES[ev.kind](ev.value) : '';
  const body = ev.value == null ? `(a kind this client version does not decode: ${ev.data?.length ?? 0} bytes)` : summary(ev.value);
  const text = line ? `${clock(eventTimeMs(ev.value))}  ${ev.kind}  ${line}` : `${ev.kind}  ${ev.channel}  ${body}`;
  const li = logItem(ev, text);
  li.title = `${ev.channel}\n${body}`;
  feedAdd(fam ? fam.pane : 'other', li);
}

// A link of a kind this page only lists: say it exists.
const familyLinks = new Map(); // pane → Set of link names
function noteFamilyLink(name, protocol) {
  const fam = FAMILIES.find((f) => f.protocols.test(protocol ?? ''));
  if (!fam) return;
  let set = familyLinks.get(fam.pane);
  if (!set) familyLinks.set(fam.pane, (set = new Set()));
  if (set.has(name)) return;
  set.add(name);
  const empty = document.querySelector(`.empty[data-for="${fam.pane}"]`);
  if (empty) empty.textContent = `${[...set].join(', ')} configured (${protocol}); waiting for ${fam.noun} events.`;
}

// ---------------------------------------------------------------- device tables

// One row per device (scanner serial, tracker id, POS order or
// transaction), updated in place; the log under each table keeps the
// events themselves.
const deviceRows = new Map(); // table id → Map(key → tr)

function deviceRow(table, key, columns) {
  let rows = deviceRows.get(table);
  if (!rows) deviceRows.set(table, (rows = new Map()));
  let tr = rows.get(key);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.key = key;
    for (let i = 0; i < columns; i++) tr.append(td(''));
    rows.set(key, tr);
  }
  // Most recently changed first.
  $(table).tBodies[0].prepend(tr);
  return tr;
}

function setCells(tr, values) {
  values.forEach((v, i) => {
    if (v !== undefined) tr.cells[i].textContent = v;
  });
}

function onScanner(ev) {
  onOther(ev);
  const v = ev.value;
  if (!v?.serial) return;
  const cloud = ev.kind === Kinds.CLOUD_SCAN;
  const tr = deviceRow('scanner-table', v.serial, 8);
  tr.cells[0].className = 'mono';
  if (ev.kind === Kinds.SCANNER_STATE) {
    tr.dataset.state = v.connected ? 'connected' : 'disconnected';
    setCells(tr, [v.serial, undefined, v.connected ? 'connected' : `disconnected${v.reason ? ` (${v.reason})` : ''}`]);
  } else {
    setCells(tr, [v.serial, cloud ? 'Insight cloud' : 'Insight Mobile', tr.dataset.state ?? (cloud ? '–' : 'connected'), v.code, v.symbology || '–']);
    if (cloud && v.battery) tr.cells[5].textContent = `${num(v.battery, 0)}%`;
  }
  tr.cells[6].textContent = clock(eventTimeMs(v));
  // Insight Mobile takes commands; the cloud feed is read-only.
  if (!cloud && !tr.cells[7].firstChild) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'small';
    b.textContent = 'Feedback';
    b.title = 'Play the positive feedback (green light, beep) on this scanner';
    const target = ev.channel.replace(/\/[^/]+$/, '/cmd');
    b.addEventListener('click', () => sendFeedback(target, v.serial, b));
    tr.cells[7].append(b);
  }
  markFilled('scanners');
}

async function sendFeedback(target, serial, button) {
  if (!client) return;
  button.disabled = true;
  const out = $('fb-result');
  out.dataset.outcome = 'pending';
  out.textContent = `Feedback to ${serial}…`;
  try {
    await client.command(target, Commands.SCANNER_FEEDBACK, { action: 'FEEDBACK_POSITIVE' });
    demo.replies.push({ target, ok: true });
    out.dataset.outcome = 'success';
    out.textContent = `Success · ${serial} played the positive feedback`;
  } catch (err) {
    demo.replies.push({ target, ok: false, code: err?.code, message: errMessage(err) });
    out.dataset.outcome = 'error';
    out.textContent = err?.code != null ? errText(err) : `ERROR: ${errMessage(err)}`;
  } finally {
    button.disabled = false;
  }
}

function onTracker(ev) {
  onOther(ev);
  const v = ev.value;
  if (v?.trackerId == null) return;
  const tr = deviceRow('tracker-table', String(v.trackerId), 8);
  tr.dataset.movement = v.movement ?? '';
  setCells(tr, [
    v.label ? `${v.label} (#${v.trackerId})` : `#${v.trackerId}`,
    v.hasPosition ? `${num(v.lat, 5)}, ${num(v.lng, 5)}` : 'no fix',
    v.hasPosition ? num(v.speed, 0) : '–',
    v.hasPosition ? `${num(v.heading, 0)}°` : '–',
    v.movement || '–',
    v.ignition == null ? '–' : v.ignition ? 'on' : 'off',
    v.battery == null ? '–' : `${v.battery}%`,
    clock(usToMs(v.lastUpdate) || eventTimeMs(v)),
  ]);
  for (const i of [2, 3, 6]) tr.cells[i].className = 'num';
  markFilled('gps');
}

function onPOS(ev) {
  onOther(ev);
  const v = ev.value;
  if (!v) return;
  const key = `${v.category}/${v.id || v.name}`;
  const tr = deviceRow('pos-table', key, 6);
  tr.dataset.status = v.status ?? '';
  setCells(tr, [v.category, v.id || '–', v.name, v.status || '–', v.locationId || '–', clock(eventTimeMs(v))]);
  markFilled('pos');
}

const handlers = {
  [Kinds.SCAN]: onScanner,
  [Kinds.CLOUD_SCAN]: onScanner,
  [Kinds.SCANNER_STATE]: onScanner,
  [Kinds.TRACKER_STATE]: onTracker,
  [Kinds.POS]: onPOS,
  [KIND.uplink]: onUplink,
  [KIND.join]: onJoin,
  [KIND.downlink]: onDownlink,
  [KIND.gateway]: onGateway,
  [KIND.link]: onLink,
};

// ---------------------------------------------------------------- offsets

let lastOffset = null; // last displayed offset of the current epoch
let lossAnnounced = false; // a recovered:false was received: the next gap is known

function checkOffset(ev) {
  if (ev.epoch && ev.epoch !== demo.epoch) {
    if (demo.epoch != null) lastOffset = null; // a new log: offsets start again
    demo.epoch = ev.epoch;
    $('epoch-line').textContent = `epoch ${ev.epoch}`;
  }
  const off = Number(ev.offset);
  if (lastOffset != null) {
    if (off <= lastOffset) demo.duplicates++;
    else if (off > lastOffset + 1) {
      if (lossAnnounced) demo.lost += off - lastOffset - 1;
      else demo.gaps += off - lastOffset - 1;
    }
  }
  lossAnnounced = false;
  if (lastOffset == null || off > lastOffset) lastOffset = off;
  demo.offsets.push(off);
  if (demo.offsets.length > OFFSETS_KEPT) demo.offsets.splice(0, demo.offsets.length - OFFSETS_KEPT);
}

function renderCounters() {
  $('event-count').textContent = demo.events.toLocaleString();
  $('uplink-count').textContent = uplinkCount.toLocaleString();
  $('last-offset').textContent = lastOffset == null ? '–' : String(lastOffset);
  $('reconnects').textContent = String(demo.reconnects);
  const ok = demo.gaps === 0 && demo.duplicates === 0;
  const el = $('offset-check');
  el.dataset.ok = String(ok);
  let text = demo.offsets.length === 0 ? '–' : ok ? 'consecutive' : `${demo.gaps} missing, ${demo.duplicates} repeated`;
  if (demo.lost) text += ` · ${demo.lost} lost (announced)`;
  $('offset-check-text').textContent = text;
}

// ---------------------------------------------------------------- rate plot

const buckets = new Map(); // Unix second → {live, replayed, latest}

function count(ev) {
  const sec = Math.floor(Date.now() / 1000);
  let b = buckets.get(sec);
  if (!b) buckets.set(sec, (b = { live: 0, replayed: 0, latest: 0 }));
  if (ev.latest) b.latest++;
  else if (ev.replayed) b.replayed++;
  else b.live++;
}

function niceMax(v) {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function drawRate() {
  const canvas = $('rate');
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 600;
  const cssH = canvas.clientHeight || 120;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim() || '#888';

  const now = Math.floor(Date.now() / 1000);
  for (const sec of buckets.keys()) if (sec <= now - RATE_SECONDS) buckets.delete(sec);
  let max = 0;
  let total = 0;
  for (const b of buckets.values()) {
    max = Math.max(max, b.live + b.replayed + b.latest);
    total += b.live + b.replayed + b.latest;
  }
  const top = niceMax(max);
  const left = 34;
  const bottom = 16;
  const plotW = cssW - left - 6;
  const plotH = cssH - bottom - 6;
  const y0 = 6 + plotH;

  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = color('--muted');
  ctx.strokeStyle = color('--grid');
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const f of [0, 0.5, 1]) {
    const y = Math.round(y0 - f * plotH) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + plotW, y);
    ctx.stroke();
    ctx.fillText(String(Number((top * f).toFixed(1))), left - 4, y);
  }
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'left';
  ctx.fillText(`-${RATE_SECONDS} s`, left, cssH - 3);
  ctx.textAlign = 'right';
  ctx.fillText('now', left + plotW, cssH - 3);

  const slot = plotW / RATE_SECONDS;
  const barW = Math.max(1, slot - 1);
  for (let i = 0; i < RATE_SECONDS; i++) {
    const b = buckets.get(now - (RATE_SECONDS - 1) + i);
    if (!b) continue;
    const x = left + i * slot;
    let y = y0;
    for (const [key, cssVar] of [['live', '--live'], ['replayed', '--replayed'], ['latest', '--latest']]) {
      if (!b[key]) continue;
      const h = (b[key] / top) * plotH;
      ctx.fillStyle = color(cssVar);
      ctx.fillRect(x, y - h, barW, h);
      y -= h;
    }
  }
  const last = buckets.get(now - 1);
  const lastRate = last ? last.live + last.replayed + last.latest : 0;
  $('rate-summary').textContent = `${lastRate} events/s now · ${(total / RATE_SECONDS).toFixed(1)}/s average over ${RATE_SECONDS} s`;
}

let drawQueued = false;
function queueDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    drawRate();
  });
}

// ---------------------------------------------------------------- events

function onEvents(batch) {
  for (const ev of batch) {
    demo.events++;
    demo.byKind[ev.kind] = (demo.byKind[ev.kind] ?? 0) + 1;
    if (demo.firstEventMs == null) {
      demo.firstEventMs = Math.round(performance.now());
      document.body.dataset.firstEventMs = String(demo.firstEventMs);
      $('first-event').textContent = `first event ${demo.firstEventMs} ms after the page started loading`;
    }
    if (ev.latest) demo.latestOffsets.push(Number(ev.offset));
    else checkOffset(ev);
    count(ev);
    try {
      (handlers[ev.kind] ?? onOther)(ev);
    } catch (err) {
      console.error('demo: cannot show event', ev.kind, ev.channel, err);
    }
  }
  flushFeeds();
  renderCounters();
  queueDraw();
}

function onSubscribed(info) {
  demo.subscriptions.push({ ...info, at: Math.round(performance.now()) });
  if (!info.resumed) {
    demo.startOffset = Number(info.offset);
    if (lastOffset == null) lastOffset = Number(info.offset);
  }
  if (info.resumed) {
    demo.recovered.push(Boolean(info.recovered));
    if (!info.recovered) lossAnnounced = true;
  }
  const el = $('recovered');
  const text = $('recovered-text');
  if (!info.resumed) {
    el.dataset.recovered = 'fresh';
    text.textContent = 'fresh start';
    el.title = `Subscribed from offset ${info.offset}: nothing to recover yet.`;
  } else if (info.recovered) {
    el.dataset.recovered = 'true';
    text.textContent = `yes · ${info.replayed ?? 0} replayed`;
    el.title = `Resubscribed at offset ${info.offset}; the relay replayed every missed event.`;
  } else {
    el.dataset.recovered = 'false';
    text.textContent = 'NO · events were lost';
    el.title = `Resubscribed at offset ${info.offset}; the relay no longer had the missed events (history trimmed or relay restarted).`;
  }
}

// ---------------------------------------------------------------- state

let everConnected = false;

function setState(state, err) {
  const at = Math.round(performance.now());
  demo.states.push({ state, at, error: err ? errText(err) : undefined });
  if (state === 'connected') {
    if (everConnected && demo.state !== 'connected') demo.reconnects++;
    everConnected = true;
    if (demo.connectedMs == null) demo.connectedMs = at;
  }
  demo.state = state;
  const pill = $('conn-state');
  pill.dataset.state = state;
  $('conn-state-text').textContent = state;
  pill.title = err ? `${state}: ${errText(err)}` : state;
  if (state === 'connected') $('conn-cause').textContent = '';
  else if (err) {
    $('conn-cause').textContent = errText(err);
    $('reconnects-pill').title = `Connections made again after a drop. Last drop at ${clock(Date.now())}: ${errText(err)}`;
  }
  document.body.dataset.state = state;
  renderCounters();
  if (state === 'closed') notice(`The connection is closed${err ? `: ${errText(err)}` : ''}. Reload the page to start again.`, 'error');
}

function notice(text, level = 'info') {
  const n = $('notice');
  n.textContent = text;
  n.dataset.level = level;
  n.hidden = !text;
}

// The client's own counters (gaps it detected and recovered, duplicates
// it dropped), next to what the page saw.
function renderStats() {
  if (!client || client.state === 'closed') return;
  try {
    const st = client.stats();
    demo.clientStats = st;
    $('client-stats').textContent = `client: ${st.delivered} delivered · ${st.gaps} gaps recovered · ${st.duplicates} duplicates dropped · ${st.lost} lost`;
  } catch {
    // not available in this library version
  }
}

// ---------------------------------------------------------------- downlink form

let client = null;

function onDeviceChange() {
  $('dl-other').hidden = $('dl-device').value !== 'other';
}

function showResult(outcome, text) {
  const out = $('dl-result');
  out.dataset.outcome = outcome;
  out.textContent = text;
}

async function sendDownlink(e) {
  e.preventDefault();
  if (!client) return showResult('error', 'Not connected yet.');
  const choice = $('dl-device').value;
  let app;
  let dev;
  if (choice === 'other') {
    app = $('dl-app').value.trim().toLowerCase();
    dev = $('dl-dev').value.trim().toLowerCase();
    if (!/^[0-9a-f]{16}$/.test(app) || !/^[0-9a-f]{16}$/.test(dev)) return showResult('error', 'Type both EUIs as 16 hex digits.');
  } else if (devices.has(choice)) {
    ({ app, dev } = devices.get(choice));
  } else {
    return showResult('error', 'Pick a device.');
  }
  const port = Number($('dl-port').value);
  if (!Number.isInteger(port) || port < 1 || port > 223) return showResult('error', 'Port must be 1 to 223.');
  const payload = parseHex($('dl-payload').value);
  if (!payload) return showResult('error', 'Payload must be hex bytes, e.g. 0a1bff.');
  const confirm = $('dl-confirm').checked;
  const target = `lora/${app}/${dev}/down`;
  const button = $('dl-send');
  button.disabled = true;
  showResult('pending', `Sending ${payload.length} byte(s) to ${dev} on port ${port}…`);
  try {
    const res = await client.command(target, KIND.downlink, { port, payload, confirm });
    const reference = res?.data?.reference ?? res?.data?.ref ?? '';
    demo.replies.push({ target, ok: true, reference });
    showResult('success', `Success · reference ${reference || '(none)'}`);
  } catch (err) {
    const code = err?.code;
    const name = code != null ? codeName(code) : 'ERROR';
    const message = errMessage(err);
    demo.replies.push({ target, ok: false, code, name, message });
    showResult('error', code != null ? errText(err) : `ERROR: ${message}`);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- start

async function getToken() {
  const r = await fetch('/dev/token', { cache: 'no-store' });
  if (!r.ok) throw new Error(`GET /dev/token answered ${r.status}: start the relay with --dev`);
  return (await r.text()).trim();
}

async function main() {
  $('downlink-form').addEventListener('submit', sendDownlink);
  $('dl-device').addEventListener('change', onDeviceChange);
  setInterval(() => {
    for (const g of gateways.values()) renderGateway(g);
    drawRate();
    renderStats();
  }, 1000);
  window.addEventListener('resize', queueDraw);
  drawRate();
  setState('connecting');

  await init();
  const wsURL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/v1/ws`;
  client = await connect(wsURL, { getToken, name: 'demo' });
  window.__demoClient = client;
  client.on('state', (state, err) => setState(state, err));
  client.on('error', (err) => {
    demo.errors.push(errText(err));
    console.warn('fieldrelay:', err);
  });
  // connect resolves once the session is up; its first 'connected' may
  // have fired before the listener above existed.
  if (demo.state !== 'connected' && (client.state ?? 'connected') === 'connected') setState('connected');
  await client.subscribe('#', { latest: true, onEvents, onSubscribed });
}

main().catch((err) => {
  console.error('demo: cannot start', err);
  setState('closed', err);
  notice(`Cannot start: ${err?.message ?? err}`, 'error');
});
