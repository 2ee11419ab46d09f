// Two runs of the current scenario side by side: each side may change the
// seed, or the link profile of every direction, so a learner sees what a
// change does to the same workload.

import * as sim from './sim.js';
import { TraceContext, outcomeText, fmtTime, packetLabel } from './trace.js';
import { seedError } from './scenario.js';
import { defaultScale } from './lanes.js';

const $ = (id) => document.getElementById(id);

function side(api, tag) {
  const err = $(`cmp-${tag}-error`);
  err.textContent = '';
  const seed = $(`cmp-${tag}-seed`).value.trim();
  const se = seedError(seed);
  if (se) { err.textContent = se; return null; }
  const scenario = structuredClone(api.current().scenario);
  const netem = $(`cmp-${tag}-netem`).value.trim();
  if (netem) {
    try {
      const canon = sim.checkNetem(netem);
      for (const l of scenario.links) { l.a_to_b = canon; l.b_to_a = canon; }
      scenario.changes = [];
    } catch (e) {
      err.textContent = e.message;
      return null;
    }
  }
  try {
    const s = new sim.Session(scenario, seed);
    s.ctx = new TraceContext(scenario, s.apps);
    return { s, netem: netem || 'as the scenario', seed };
  } catch (e) {
    err.textContent = e.message;
    return null;
  }
}

export class Compare {
  constructor(api) {
    this.api = api;
    this.sessions = [];
    $('cmp-run').addEventListener('click', () => this.run());
  }

  run() {
    for (const s of this.sessions) s.free();
    this.sessions = [];
    const a = side(this.api, 'a');
    const b = side(this.api, 'b');
    if (!a || !b) return;
    this.sessions = [a.s, b.s];
    const box = $('cmp-result');
    box.replaceChildren();
    const table = document.createElement('table');
    table.className = 'cmp-table';
    const head = table.createTHead().insertRow();
    for (const t of ['', `A: seed ${a.seed}, link ${a.netem}`, `B: seed ${b.seed}, link ${b.netem}`]) {
      const th = document.createElement('th');
      th.textContent = t;
      head.append(th);
    }
    const rows = [
      ['outcome', (r) => outcomeText(r.outcome)],
      ['completed at', (r) => (r.completed_at != null ? fmtTime(r.completed_at) : '—')],
      ['goodput', (r) => `${(r.goodput_bps / 1e6).toFixed(3)} Mbit/s`],
      ['bytes delivered', (r) => r.delivered_bytes],
      ['packets sent', (r) => r.stats.packets_sent],
      ['TCP retransmissions', (r) => r.tcp_retransmissions],
      ['application retries', (r) => r.app_retries],
      ['drops', (r) => Object.entries(r.stats.drops ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
      ['trace hash', (r) => r.trace_hash.slice(0, 16) + '…'],
    ];
    const body = table.createTBody();
    for (const [name, f] of rows) {
      const tr = body.insertRow();
      tr.insertCell().textContent = name;
      tr.insertCell().textContent = String(f(a.s.report));
      tr.insertCell().textContent = String(f(b.s.report));
    }
    box.append(table);
    // One scale for both, so equal heights mean equal times.
    const scale = Math.min(defaultScale(a.s.records, a.s.endUs), defaultScale(b.s.records, b.s.endUs));
    for (const [tag, x] of [['A', a], ['B', b]]) {
      const col = document.createElement('div');
      col.className = 'cmp-side';
      const h = document.createElement('h3');
      h.textContent = `${tag}: ${outcomeText(x.s.report.outcome)}`;
      const d = document.createElement('div');
      d.className = 'diagram';
      d.id = `cmp-${tag.toLowerCase()}-diagram`;
      col.append(h, d);
      box.append(col);
      const lanes = this.api.lanesFor(d, x.s, { scale, compress: true, labelFor: (n, L) => x.s.label(n, packetLabel(L)) });
      lanes.append(x.s.records);
      lanes.setNow(x.s.endUs);
    }
    // Scrolled together: the same height is the same moment on both sides.
    const [da, db] = [$('cmp-a-diagram'), $('cmp-b-diagram')];
    let syncing = false;
    const sync = (from, to) => from.addEventListener('scroll', () => {
      if (syncing) { syncing = false; return; }
      if (to.scrollTop === from.scrollTop) return;
      syncing = true;
      to.scrollTop = from.scrollTop;
    });
    sync(da, db);
    sync(db, da);
    box.dataset.done = String((Number(box.dataset.done) || 0) + 1);
  }
}
