// The book's live widgets. A chapter writes
//   <div class="wirekit-widget" data-preset="udp-echo-backoff" data-seed="7" data-until-ms="3000"></div>
// and this module (loaded from theme/head.hbs) turns it into a small lane
// diagram of that run with a play button and a link to the full lab. Every
// URL is relative to this module, since the lab is copied into the book.

import * as sim from './js/sim.js';
import { Lanes, defaultScale } from './js/lanes.js';
import { TraceContext, outcomeText, fmtTime, packetLabel } from './js/trace.js';

const CSS = `
.wirekit-widget{border:1px solid #d5dae3;border-radius:6px;margin:1em 0;background:#fff;color:#1d2433;font:13px system-ui,sans-serif}
.wirekit-widget .wk-bar{display:flex;gap:8px;align-items:center;padding:4px 8px;border-bottom:1px solid #d5dae3;background:#f6f7f9;border-radius:6px 6px 0 0}
.wirekit-widget .wk-bar button{font:inherit;border:1px solid #b9c1cf;border-radius:4px;background:#fff;padding:2px 10px;cursor:pointer;color:#1d2433}
.wirekit-widget .wk-title{font-weight:600}
.wirekit-widget .wk-clock{font:12px ui-monospace,monospace;width:90px;text-align:right}
.wirekit-widget .wk-outcome{flex:1;color:#5b6475;font-size:12px}
.wirekit-widget .wk-diagram{height:300px;overflow:auto}
.wirekit-widget .wk-lanes{position:relative;height:20px;border-bottom:1px solid #eef0f4}
.wirekit-widget .wk-lanes span{position:absolute;top:2px;transform:translateX(-50%);font-weight:600;font-size:12px}
.wirekit-widget .wk-error{color:#c62828;padding:8px}
.wirekit-widget a{font-size:12px}
`;

function h(tag, attrs = {}, text = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function mount(box, presets) {
  const name = box.dataset.preset;
  const seed = box.dataset.seed ?? '7';
  const preset = presets.find((p) => p.name === name);
  if (!preset) {
    box.replaceChildren(h('p', { class: 'wk-error' }, `No preset called "${name}".`));
    return;
  }
  const session = new sim.Session(preset.scenario, seed);
  session.ctx = new TraceContext(preset.scenario, session.apps);
  const untilMs = Number(box.dataset.untilMs);
  const until = Number.isFinite(untilMs) && untilMs > 0 ? Math.min(untilMs * 1000, session.endUs) : session.endUs;
  const shown = session.records.filter((r) => r.at <= until).length;
  const play = h('button', { type: 'button', 'aria-label': `play ${name}` }, '▶ Play');
  const clock = h('output', { class: 'wk-clock' }, fmtTime(0));
  const link = h('a', { href: new URL(`./index.html?preset=${encodeURIComponent(name)}&seed=${encodeURIComponent(seed)}`, import.meta.url).href }, 'open in the lab');
  const bar = h('div', { class: 'wk-bar' });
  bar.append(h('span', { class: 'wk-title' }, `${name}, seed ${seed}`), h('span', { class: 'wk-outcome' }, `${shown} events to ${fmtTime(until)} · run: ${outcomeText(session.report.outcome)}`), clock, play, link);
  const names = h('div', { class: 'wk-lanes', 'aria-hidden': 'true' });
  const diagram = h('div', { class: 'wk-diagram', tabindex: '0', 'aria-label': `lane diagram of ${name}` });
  box.replaceChildren(bar, names, diagram);
  const lanes = new Lanes(diagram, session.ctx, { compact: false, header: names, labelFor: (n, L) => session.label(n, packetLabel(L)), scale: defaultScale(session.records.slice(0, shown), until), width: Math.max(360, diagram.clientWidth - 4) });
  let t = until;
  let playing = false;
  let last = 0;
  const show = (to) => {
    if (to < t) { session.rewind(); lanes.records = []; lanes.reset(); }
    lanes.append(session.advanceTo(to));
    lanes.setNow(to);
    t = to;
    clock.textContent = fmtTime(to);
    const y = lanes.nowY();
    if (playing && y > diagram.scrollTop + diagram.clientHeight - 30) diagram.scrollTop = y - diagram.clientHeight * 0.6;
  };
  // Playback runs at a pace that fits the shown range into about ten seconds.
  const rate = Math.max(until / 10_000, 50);
  const frame = (ts) => {
    if (!playing) return;
    const next = Math.min(until, t + Math.min(100, ts - last) * rate);
    last = ts;
    show(next);
    if (next >= until) stop();
    else requestAnimationFrame(frame);
  };
  const stop = () => { playing = false; play.textContent = '▶ Play'; box.dataset.state = 'played'; };
  play.addEventListener('click', () => {
    if (playing) { stop(); return; }
    if (t >= until) { show(0); diagram.scrollTop = 0; }
    playing = true;
    box.dataset.state = 'playing';
    play.textContent = '‖ Pause';
    last = performance.now();
    requestAnimationFrame(frame);
  });
  show(until);
  box.dataset.state = 'ready';
}

async function main() {
  const boxes = [...document.querySelectorAll('.wirekit-widget')];
  if (!boxes.length) return;
  document.head.append(h('style', {}, CSS));
  try {
    await sim.load();
  } catch (e) {
    for (const b of boxes) b.replaceChildren(h('p', { class: 'wk-error' }, `The simulator did not load (${e.message}); build the lab with cargo xtask web.`));
    return;
  }
  const presets = sim.presets();
  for (const b of boxes) {
    try {
      mount(b, presets);
    } catch (e) {
      b.replaceChildren(h('p', { class: 'wk-error' }, e.message));
    }
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
