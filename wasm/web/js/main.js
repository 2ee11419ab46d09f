// The lab page: wires the scenario form, the run, the diagram and its
// playback, the inspector, plots, log, report and downloads together.

import * as sim from './sim.js';
import { ScenarioForm } from './scenario.js';
import { Lanes, defaultScale } from './lanes.js';
import { Inspector } from './inspector.js';
import { Plots, tcpFlows } from './plots.js';
import { EventLog } from './log.js';
import { TraceContext, fmtTime, outcomeText, statusText, packetLabel } from './trace.js';
import { shareUrl, fromLocation } from './share.js';
import { downloadPcap, downloadSvg, downloadTrace } from './export.js';
import { Compare } from './compare.js';
import { Sweep } from './sweep.js';
import { setupExperiments } from './experiments.js';

const $ = (id) => document.getElementById(id);
const DEFAULT = { preset: 'tcp-transfer-lossy', seed: '7' };

const lab = {
  session: null,
  lanes: null,
  cursor: 0,
  playing: false,
  lastFrame: 0,
  scale: 2,
  runs: 0,
};
// For the browser tests and the curious: the current run, read-only use.
window.wirekitLab = lab;

function setStatus(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.style.color = isError ? '#ff9b9b' : '';
}

const inspector = new Inspector($('inspector'));
const plots = new Plots({ seq: $('plot-seq'), goodput: $('plot-goodput'), queue: $('plot-queue') }, (p) => select(p));
const log = new EventLog({
  box: $('log'), hostSelect: $('log-host'), kindSelect: $('log-kind'), count: $('log-count'),
  onSelect: (p) => select(p, { fromLog: true }),
  onRecord: (i) => showRecord(i),
});

// A log line without a packet (a note, a start, a profile change): bring
// the playback there and the diagram to its place.
function showRecord(i) {
  const r = lab.session?.records[i];
  if (!r) return;
  if (r.at > lab.cursor) { pause(); seek(r.at); }
  const y = lab.lanes.recY[i];
  if (y !== undefined) $('diagram').scrollTop = Math.max(0, y - $('diagram').clientHeight / 3);
}
const form = new ScenarioForm({ onRun: (scenario, seed) => runScenario(scenario, seed) });

function select(packet, { fromLog = false } = {}) {
  if (!lab.session) return;
  lab.selected = packet;
  // A packet still in the future of the playback: jump there so it is drawn.
  const send = lab.session.records.find((r) => r.kind.Link && (r.kind.Link.packet === packet || r.kind.Link.duplicate === packet));
  if (send && send.at > lab.cursor) {
    pause();
    seek(send.at);
  }
  lab.lanes.select(packet);
  log.select(packet);
  inspector.show(lab.session, packet);
}

function runScenario(scenario, seed) {
  pause();
  setStatus('running…');
  let session;
  try {
    session = new sim.Session(scenario, seed);
  } catch (e) {
    setStatus('the scenario did not run', true);
    $('scenario-error').textContent = e.message;
    $('editor').open = true;
    $('outcome').textContent = 'not run';
    $('outcome').className = 'bad';
    $('trace-hash').textContent = '';
    return;
  }
  lab.session?.free();
  lab.session = session;
  session.ctx = new TraceContext(scenario, session.apps);
  const flows = tcpFlows(session.records);
  session.isn = (sip, sport, dip, dport) => flows.get(`${sip}:${sport}>${dip}:${dport}`)?.isn ?? null;
  lab.scale = defaultScale(session.records, session.endUs);
  lab.lanes = new Lanes($('diagram'), session.ctx, {
    scale: lab.scale,
    compress: $('compress').checked,
    header: $('lane-names'),
    labelFor: (n, L) => session.label(n, packetLabel(L)),
    onSelect: (p) => select(p),
  });
  lab.selected = null;
  inspector.clear('Click a packet (or focus the diagram and press ↓) to see its headers, its payload as the core decodes it, what the link did with it, and each endpoint\'s state at that moment.');
  seek(session.endUs);
  $('diagram').scrollTop = 0;
  showReport(session);
  plots.draw(session);
  log.show(session);
  const preset = form.presetName();
  const url = shareUrl(location.href, { preset, scenario, seed });
  history.replaceState(null, '', url);
  $('share-url').value = url;
  lab.runs += 1;
  document.body.dataset.runs = String(lab.runs);
  setStatus(`${session.report.stats.packets_sent} packets simulated in ${session.wallMs.toFixed(0)} ms`);
}

function stat(value, name) {
  const d = document.createElement('div');
  d.className = 'stat';
  const v = document.createElement('div');
  v.className = 'v';
  v.textContent = value;
  const n = document.createElement('div');
  n.className = 'n';
  n.textContent = name;
  d.append(v, n);
  return d;
}

function showReport(session) {
  const r = session.report;
  const o = $('outcome');
  o.textContent = outcomeText(r.outcome);
  o.className = r.outcome === 'Completed' ? 'ok' : 'bad';
  $('trace-hash').textContent = session.hash;
  const st = r.stats;
  const drops = Object.entries(st.drops ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const box = $('stats');
  const cells = [
    stat(r.completed_at != null ? fmtTime(r.completed_at) : '—', 'completed at'),
    stat(fmtTime(r.ended_at), 'ended at'),
    stat(`${r.delivered_bytes}`, 'bytes delivered'),
    stat(`${(r.goodput_bps / 1e6).toFixed(3)} Mbit/s`, 'goodput'),
    stat(`${st.packets_sent}`, 'packets sent'),
    stat(`${st.packets_delivered}`, 'packets delivered'),
    stat(`${r.tcp_retransmissions}`, 'TCP retransmissions'),
    stat(`${r.app_retries}`, 'application retries'),
    stat(drops, 'drops by reason'),
    stat(`${st.duplicated} / ${st.corrupted} / ${st.reordered}`, 'duplicated / corrupted / reordered'),
    stat(`${r.events}`, 'events'),
    stat(`${session.wallMs.toFixed(1)} ms`, 'wall time in this browser'),
  ];
  for (const [c, id] of cells.map((c, i) => [c, ['completed-at', 'ended-at', 'delivered', 'goodput', 'packets-sent', 'packets-delivered', 'tcp-rtx', 'app-retries', 'drops', 'dup-corrupt-reorder', 'events', 'wall'][i]])) {
    c.dataset.stat = id;
  }
  const apps = document.createElement('table');
  apps.className = 'apps';
  for (const a of r.apps) {
    const tr = apps.insertRow();
    for (const t of [`${a.kind} on ${a.host}`, statusText(a.status), `${a.delivered} B`, `${a.retries} retries`]) tr.insertCell().textContent = t;
  }
  box.replaceChildren(...cells, apps);
  $('summary-text').textContent = session.summaryText();
}

// ---- playback ----------------------------------------------------------

let plotTimer = 0;
function showCursor() {
  const s = lab.session;
  // Redrawing three plots costs a few ms: a few times a second is enough.
  if (!plotTimer) plotTimer = setTimeout(() => { plotTimer = 0; plots.setNow(lab.cursor); }, 120);
  $('clock').textContent = fmtTime(lab.cursor);
  $('scrub').value = String(Math.round((lab.cursor / Math.max(1, s.endUs)) * 1000));
}

// Moves the live run and the diagram to virtual time t (back means re-running from zero).
function seek(t) {
  const s = lab.session;
  t = Math.max(0, Math.min(s.endUs, t));
  if (t < lab.cursor || !s.live) {
    s.rewind();
    lab.lanes.records = [];
    lab.lanes.reset();
  }
  lab.lanes.append(s.advanceTo(t));
  lab.cursor = t;
  lab.lanes.setNow(t);
  if (lab.selected != null) lab.lanes.select(lab.selected);
  showCursor();
}

function follow() {
  const c = $('diagram');
  const y = lab.lanes.nowY();
  if (y > c.scrollTop + c.clientHeight - 40 || y < c.scrollTop) c.scrollTop = Math.max(0, y - c.clientHeight * 0.6);
}

function frame(ts) {
  if (!lab.playing) return;
  const dt = Math.min(100, ts - lab.lastFrame);
  lab.lastFrame = ts;
  const speed = Number($('speed').value);
  const t = Math.min(lab.session.endUs, lab.cursor + dt * 1000 * speed);
  lab.lanes.append(lab.session.advanceTo(t));
  lab.cursor = t;
  lab.lanes.setNow(t);
  showCursor();
  follow();
  if (t >= lab.session.endUs) pause();
  else requestAnimationFrame(frame);
}

function play() {
  if (!lab.session) return;
  if (lab.cursor >= lab.session.endUs) {
    seek(0);
    $('diagram').scrollTop = 0;
  }
  lab.playing = true;
  $('play').textContent = '‖ Pause';
  $('play').setAttribute('aria-pressed', 'true');
  lab.lastFrame = performance.now();
  requestAnimationFrame(frame);
}

function pause() {
  lab.playing = false;
  $('play').textContent = '▶ Play';
  $('play').setAttribute('aria-pressed', 'false');
}

// One event forward is the live run's next event; one back is the latest
// record before now, reached by re-running from zero.
function step(dir = 1) {
  const s = lab.session;
  if (!s) return;
  pause();
  if (lab.cursor >= s.endUs && dir > 0) seek(0);
  const recs = s.records;
  if (dir > 0) {
    // Some events (a timer that finds nothing to do) leave no record: step
    // on until something shows.
    const before = s.liveCount;
    for (let i = 0; i < 10_000 && s.liveCount === before; i++) {
      const next = s.nextEventUs();
      if (next === null || next > s.endUs) { seek(s.endUs); break; }
      seek(Math.max(next, lab.cursor + 1));
    }
  } else {
    let prev = 0;
    for (const r of recs) { if (r.at < lab.cursor) prev = r.at; else break; }
    seek(prev);
  }
  follow();
}

$('play').addEventListener('click', () => (lab.playing ? pause() : play()));
$('step').addEventListener('click', () => step(1));
$('to-end').addEventListener('click', () => { pause(); seek(lab.session.endUs); });
$('scrub').addEventListener('input', () => {
  pause();
  seek((Number($('scrub').value) / 1000) * lab.session.endUs);
  follow();
});
function rezoom(f) {
  if (!lab.lanes) return;
  const c = $('diagram');
  const frac = c.scrollTop / Math.max(1, c.scrollHeight);
  lab.scale = Math.min(400, Math.max(0.005, lab.scale * f));
  lab.lanes.relayout({ scale: lab.scale, compress: $('compress').checked });
  if (lab.selected != null) lab.lanes.select(lab.selected);
  c.scrollTop = frac * c.scrollHeight;
}
$('zoom-in').addEventListener('click', () => rezoom(2));
$('zoom-out').addEventListener('click', () => rezoom(0.5));
$('compress').addEventListener('change', () => rezoom(1));
$('diagram').addEventListener('wheel', (e) => {
  if (!e.ctrlKey) return;
  e.preventDefault();
  rezoom(e.deltaY < 0 ? 1.25 : 0.8);
}, { passive: false });

function moveSelection(d) {
  const list = lab.lanes?.packets() ?? [];
  if (!list.length) return;
  const i = lab.selected == null ? (d > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, list.indexOf(lab.selected) + d));
  select(list[i]);
}

document.addEventListener('keydown', (e) => {
  const t = e.target;
  const typing = t.matches?.('input, textarea, select, [contenteditable]');
  if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
  // On a button Space is the button's own (on Play, that is play/pause too).
  const onButton = t.matches?.('button, summary, a');
  if (e.key === ' ' && !onButton) {
    e.preventDefault();
    lab.playing ? pause() : play();
  } else if (e.key === 'ArrowRight') {
    e.preventDefault();
    step(1);
  } else if (e.key === 'ArrowLeft') {
    e.preventDefault();
    step(-1);
  } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && (t.id === 'diagram' || t.id === 'log')) {
    e.preventDefault();
    moveSelection(e.key === 'ArrowDown' ? 1 : -1);
  }
});

// ---- share and export ----------------------------------------------------

$('copy-share').addEventListener('click', async () => {
  $('share-url').select();
  try {
    await navigator.clipboard.writeText($('share-url').value);
    setStatus('link copied');
  } catch {
    setStatus('select the link and copy it (the clipboard is not available here)');
  }
});
$('dl-pcap').addEventListener('click', () => lab.session && downloadPcap(lab.session));
$('dl-svg').addEventListener('click', () => lab.session && downloadSvg(lab.session, lab.lanes));
$('dl-jsonl').addEventListener('click', () => lab.session && downloadTrace(lab.session));

// ---- start -----------------------------------------------------------------

// Inside the book the lab is a copy under lab/, so the book is one level up.
if (/\/lab\/(index\.html)?$/.test(location.pathname)) $('book-link').href = '../simulator.html';

async function start() {
  try {
    await sim.load();
  } catch (e) {
    setStatus(`the simulator did not load: ${e.message}`, true);
    document.body.dataset.state = 'error';
    throw e;
  }
  $('version').textContent = `wirekit-wasm ${sim.version()}`;
  const list = sim.presets();
  form.setPresets(list);
  const api = {
    current: () => ({ scenario: form.scenario, seed: form.seed(), preset: form.presetName() }),
    open: (scenario, seed) => {
      form.load(structuredClone(scenario));
      $('seed').value = String(seed);
      form.run();
      $('run-panel').scrollIntoView({ block: 'start' });
    },
    lanesFor: (box, session, opts) => new Lanes(box, session.ctx, opts),
  };
  new Compare(api);
  new Sweep(api);
  setupExperiments(api, list);

  let want = DEFAULT;
  try {
    want = fromLocation(location) ?? DEFAULT;
  } catch (e) {
    $('scenario-error').textContent = e.message;
  }
  let scenario = null;
  if (want.scenarioText !== undefined) {
    try {
      scenario = sim.parseScenario(want.scenarioText);
    } catch (e) {
      $('scenario-error').textContent = `The link's scenario: ${e.message}`;
      $('editor').open = true;
      $('scenario-text').value = want.scenarioText;
    }
  } else {
    const p = list.find((x) => x.name === want.preset);
    if (!p) $('seed-error').textContent = `There is no preset called "${want.preset}"; showing ${DEFAULT.preset}.`;
    scenario = structuredClone((p ?? list.find((x) => x.name === DEFAULT.preset) ?? list[0]).scenario);
  }
  if (scenario) {
    form.load(scenario);
    $('seed').value = want.seed ?? String(scenario.seed ?? 7);
    if (form.checkSeed()) form.run();
  }
  document.body.dataset.state = 'ready';
}

start();
