// The lane (sequence) diagram: one vertical lane per host, time running down,
// one arrow per packet. Records are appended in trace order, so the picture
// of a run played step by step is the same as the picture of a finished one.
//
// The vertical axis is time-proportional with two exceptions, both marked:
// records at the same instant are spread SEP px apart (a TCP burst leaves in
// one microsecond and would otherwise be one line), and an idle stretch longer
// than SQUEEZE_OVER px is drawn GAP_CAP px tall with its length written on it.

import { kindOf, packetLabel, verdictClass, DROP_REASONS, fmtUs } from './trace.js';

const NS = 'http://www.w3.org/2000/svg';
const SEP = 3;
const NOTE_SEP = 13;
const GAP_CAP = 36;
// Only stretches much longer than the cap are squeezed: a band for every
// 5 ms pause would hide the time axis instead of saving room.
const SQUEEZE_OVER = 3 * GAP_CAP;
const TOP = 16;
const LABEL_EVERY = 44;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function title(parent, text) {
  el('title', {}, parent).textContent = text;
}

// Kept in one place so the downloaded SVG looks like the page.
export const DIAGRAM_CSS = `
.lane{stroke:#8a94a6;stroke-width:1}
.lane-name{font:600 12px system-ui,sans-serif;fill:#1d2433;text-anchor:middle}
.tick{font:10px ui-monospace,monospace;fill:#5b6475}
.gap{fill:#eef1f6}
.gap-text{font:10px ui-monospace,monospace;fill:#5b6475;text-anchor:middle}
.pkt line.v{stroke-width:1.3}
.pkt line.hit{stroke:transparent;stroke-width:8}
.pkt.d0 line.v{stroke:#2463c7}.pkt.d0 .head{fill:#2463c7}
.pkt.d1 line.v{stroke:#138a52}.pkt.d1 .head{fill:#138a52}
.pkt.drop line.v{stroke:#c62828;stroke-dasharray:3 2}
.pkt.overflow line.v{stroke:#b35c00;stroke-dasharray:1 2}
.pkt.corrupt line.v{stroke:#8e24aa;stroke-dasharray:6 2}
.pkt.corrupt .head{fill:#8e24aa}
.pkt.reorder line.v{stroke:#d97706}
.pkt.reorder .head{fill:#d97706}
.pkt.dup line.v{stroke-dasharray:2 2;opacity:.8}
.pkt.hold line.v{stroke:#6b7280;stroke-dasharray:4 3}
.pkt.flight line.v{opacity:.55}
.pkt.sel line.v{stroke-width:3}
.pkt .x{stroke-width:2;fill:none}
.pkt.drop .x{stroke:#c62828}.pkt.overflow .x{stroke:#b35c00}
.mark{font:600 9px system-ui,sans-serif}
.drop .mark{fill:#c62828}.overflow .mark{fill:#b35c00}.corrupt .mark{fill:#8e24aa}
.reorder .mark{fill:#d97706}.dup .mark{fill:#555}.hold .mark{fill:#6b7280}
.plabel{font:9px ui-monospace,monospace;fill:#374151}
.note circle{fill:#1d2433}
.note text{font:10px system-ui,sans-serif;fill:#1d2433}
.note.fail text{fill:#c62828;font-weight:600}
.change line{stroke:#b45309;stroke-dasharray:6 3}
.change text{font:10px system-ui,sans-serif;fill:#b45309}
.now{stroke:#e11d48;stroke-width:1}
`;

// A fitting scale: a typical (median) trip across a link 20 px tall, so
// arrows slant visibly, and about 4 px between events on average. The median,
// not the shortest: a reordered packet may cross in no time at all.
export function defaultScale(records, endUs) {
  const trips = [];
  for (const r of records) {
    const c = r.kind.Link?.verdict?.Carry;
    if (c && c.after_us > 0) trips.push(c.after_us);
  }
  trips.sort((a, b) => a - b);
  const trip = trips.length ? trips[trips.length >> 1] : 0;
  const byEvents = (Math.max(1, records.length) * 4) / Math.max(1, endUs / 1000);
  const byTrip = trip ? 20 / (trip / 1000) : 0;
  return Math.min(40, Math.max(0.05, byEvents, byTrip));
}

export class Lanes {
  // hosts: names; ctx: TraceContext; opts.compact draws no labels.
  constructor(container, ctx, opts = {}) {
    this.container = container;
    this.ctx = ctx;
    this.compact = !!opts.compact;
    this.onSelect = opts.onSelect || (() => {});
    // Lane names in an element outside the scrolled box stay in view.
    this.header = opts.header ?? null;
    // What an arrow says: by default its flags and length; the page passes
    // the core's own decoding of the payload when it has it.
    this.labelFor = opts.labelFor ?? ((n, L) => packetLabel(L));
    this.scale = opts.scale ?? 1; // px per ms
    this.compress = opts.compress ?? true;
    this.width = opts.width ?? Math.max(320, container.clientWidth - 4);
    this.records = [];
    this.selected = null;
    this.svg = el('svg', { class: 'lanes', role: 'img', 'aria-label': 'lane diagram' });
    this.svg.addEventListener('click', (e) => {
      const g = e.target.closest('[data-packet]');
      if (g) this.onSelect(Number(g.dataset.packet));
    });
    container.replaceChildren(this.svg);
    this.reset();
  }

  laneX(h) {
    const n = this.ctx.hosts.length;
    const margin = this.compact ? 40 : Math.min(150, this.width * 0.2);
    const left = (this.compact ? 8 : 56) + margin;
    const right = this.width - margin;
    if (n <= 1) return (left + right) / 2;
    return left + ((right - left) * h) / (n - 1);
  }

  reset() {
    this.svg.replaceChildren();
    el('style', {}, this.svg).textContent = DIAGRAM_CSS;
    this.gBack = el('g', {}, this.svg);
    this.gLanes = el('g', {}, this.svg);
    this.gPkts = el('g', {}, this.svg);
    this.gNotes = el('g', {}, this.svg);
    this.nowLine = el('line', { class: 'now', x1: 0, x2: this.width, y1: TOP, y2: TOP }, this.svg);
    this.y = TOP;
    this.t = 0;
    this.lastTick = -1e9;
    this.lastLabelY = -1e9;
    this.pending = new Map(); // packet -> arrow waiting for its Delivered record
    this.held = new Map(); // packet -> hold point
    this.arrows = new Map(); // packet -> <g>
    this.recY = [];
    this.lanes = this.ctx.hosts.map((name, h) => {
      const x = this.laneX(h);
      if (!this.compact && !this.header) el('text', { class: 'lane-name', x, y: 11 }, this.gLanes).textContent = name;
      return el('line', { class: 'lane', x1: x, x2: x, y1: TOP, y2: TOP }, this.gLanes);
    });
    this.nowUs = 0;
    this.drawHeader();
    this.resize();
  }

  drawHeader() {
    if (!this.header) return;
    this.header.replaceChildren(...this.ctx.hosts.map((name, h) => {
      const s = document.createElement('span');
      s.textContent = name;
      s.style.left = `${this.laneX(h)}px`;
      return s;
    }));
  }

  // The y of the next record at time t, and the gap marker it may need.
  advanceY(t, sep) {
    const dt = t - this.t;
    let dy = (dt / 1000) * this.scale;
    if (this.compress && dy > SQUEEZE_OVER) {
      el('rect', { class: 'gap', x: 0, y: this.y + 4, width: this.width, height: GAP_CAP - 8 }, this.gBack);
      el('text', { class: 'gap-text', x: this.width / 2, y: this.y + GAP_CAP / 2 + 3 }, this.gBack)
        .textContent = `⋯ ${fmtUs(dt)} with nothing happening ⋯`;
      dy = GAP_CAP;
    }
    this.y += Math.max(dt === 0 && this.records.length === 0 ? 0 : sep, dy);
    this.t = t;
    if (!this.compact && this.y - this.lastTick >= LABEL_EVERY) {
      el('text', { class: 'tick', x: 2, y: this.y + 3 }, this.gBack).textContent = `${(t / 1e6).toFixed(this.scale > 2 ? 4 : 3)} s`;
      el('line', { x1: 52, x2: 56, y1: this.y, y2: this.y, stroke: '#8a94a6' }, this.gBack);
      this.lastTick = this.y;
    }
    return this.y;
  }

  // The y that virtual time t would get if nothing happened before it.
  yAt(t) {
    if (t <= this.t) return this.y;
    let dy = ((t - this.t) / 1000) * this.scale;
    if (this.compress && dy > SQUEEZE_OVER) dy = GAP_CAP;
    return this.y + dy;
  }

  append(records) {
    for (const rec of records) this.add(rec);
    this.refreshFlight();
    this.resize();
  }

  add(rec) {
    const i = this.records.length;
    const k = kindOf(rec);
    const body = rec.kind[k];
    let sep = 0;
    if (k === 'Link' || k === 'Delivered') sep = SEP;
    else if (k === 'App' || k === 'Changed') sep = this.compact ? SEP : NOTE_SEP;
    const y = this.advanceY(rec.at, sep);
    this.records.push(rec);
    this.recY[i] = y;
    if (k === 'Link') this.drawSend(rec, body, y);
    else if (k === 'Delivered') this.drawArrival(rec, body, y);
    else if (k === 'App') this.drawNote(body, y);
    else if (k === 'Changed') this.drawChange(body, y);
    else if (k === 'NoRoute') this.drawNoRoute(body, y);
  }

  group(packet, cls, label) {
    const g = el('g', { class: `pkt ${cls}`, 'data-packet': packet }, this.gPkts);
    title(g, label);
    if (this.selected === packet) g.classList.add('sel');
    return g;
  }

  line(g, x1, y1, x2, y2) {
    const hit = el('line', { class: 'hit', x1, y1, x2, y2 }, g);
    return [hit, el('line', { class: 'v', x1, y1, x2, y2 }, g)];
  }

  cross(g, x, y) {
    const r = 4;
    el('path', { class: 'x', d: `M${x - r} ${y - r}L${x + r} ${y + r}M${x - r} ${y + r}L${x + r} ${y - r}` }, g);
  }

  mark(g, x, y, text, anchor = 'middle') {
    if (this.compact && text.length > 8) return;
    el('text', { class: 'mark', x, y, 'text-anchor': anchor }, g).textContent = text;
  }

  drawSend(rec, L, y) {
    const [s, d] = this.ctx.ends(L.on);
    const xs = this.held.has(L.packet) ? this.held.get(L.packet).x : this.laneX(s);
    const xd = this.laneX(d);
    const v = L.verdict;
    const cls = verdictClass(v);
    const label = `#${L.packet} ${this.ctx.hosts[s]} → ${this.ctx.hosts[d]} ${packetLabel(L)}`;
    const g = this.group(L.packet, `d${L.on.dir} ${cls}`, label);
    this.arrows.set(L.packet, g);
    if (this.held.has(L.packet)) {
      // Released: a dotted stay on the hold line, then on its way.
      const h = this.held.get(L.packet);
      el('line', { class: 'v', x1: h.x, y1: h.y, x2: h.x, y2: y, 'stroke-dasharray': '1 2', stroke: '#6b7280' }, g);
      this.held.delete(L.packet);
    }
    if (v === 'Hold') {
      const x = xs + (xd - xs) * 0.3;
      this.line(g, xs, y, x, y + 6);
      el('rect', { x: x - 3, y: y + 3, width: 6, height: 6, fill: '#6b7280' }, g);
      this.mark(g, x, y + 17, 'held');
      this.held.set(L.packet, { x, y: y + 6 });
      return;
    }
    if (v.Drop) {
      // Where it dies says why: overflow at the sender's queue, the rest on the wire.
      const f = v.Drop === 'QueueFull' || v.Drop === 'NoRoute' || v.Drop === 'Mtu' ? 0.12 : 0.45;
      const x = xs + (xd - xs) * f;
      this.line(g, xs, y, x, y + 8);
      this.cross(g, x, y + 8);
      const side = xd > xs ? 'start' : 'end';
      this.mark(g, x + (xd > xs ? 7 : -7), y + 11, DROP_REASONS[v.Drop] ?? v.Drop, side);
      return;
    }
    const c = v.Carry;
    const arrow = { g, xs, ys: y, xd, at: rec.at, due: rec.at + c.after_us, line: this.line(g, xs, y, xs, y), label: this.compact ? '' : this.labelFor(L.packet, L) };
    this.pending.set(L.packet, arrow);
    g.classList.add('flight');
    if (L.duplicate !== null && L.duplicate !== undefined && c.duplicate_after_us !== null) {
      const dg = this.group(L.duplicate, `d${L.on.dir} dup`, `#${L.duplicate} duplicate of #${L.packet}`);
      this.arrows.set(L.duplicate, dg);
      this.pending.set(L.duplicate, {
        g: dg, xs, ys: y, xd, at: rec.at, due: rec.at + c.duplicate_after_us,
        line: this.line(dg, xs, y, xs, y), label: 'dup',
      });
      dg.classList.add('flight');
    }
  }

  drawArrival(rec, D, y) {
    const a = this.pending.get(D.packet);
    if (!a) return;
    this.pending.delete(D.packet);
    a.g.classList.remove('flight');
    for (const l of a.line) {
      l.setAttribute('x2', a.xd);
      l.setAttribute('y2', y);
    }
    const dx = a.xd > a.xs ? -1 : 1;
    const dyl = y - a.ys;
    const len = Math.hypot(a.xd - a.xs, dyl) || 1;
    const ux = (a.xd - a.xs) / len, uy = dyl / len;
    const hx = a.xd - ux * 7, hy = y - uy * 7;
    el('path', { class: 'head', d: `M${a.xd} ${y}L${hx - uy * 3} ${hy + ux * 3}L${hx + uy * 3} ${hy - ux * 3}Z` }, a.g);
    const cls = a.g.classList;
    const mx = a.xs + (a.xd - a.xs) * 0.5, my = a.ys + dyl * 0.5;
    if (cls.contains('corrupt')) this.mark(a.g, mx + 4 * dx, my - 2, 'corrupt');
    else if (cls.contains('reorder')) this.mark(a.g, mx, my - 2, 'reordered');
    else if (cls.contains('dup')) this.mark(a.g, mx, my - 2, 'dup');
    if (!this.compact && a.ys - this.lastLabelY >= 11 && a.label) {
      const x = a.xs + (a.xd - a.xs) * 0.33;
      el('text', { class: 'plabel', x, y: a.ys + dyl * 0.33 - 2, 'text-anchor': 'middle' }, a.g).textContent = a.label;
      this.lastLabelY = a.ys;
    }
  }

  drawNote(A, y) {
    const h = this.ctx.appHost(A.app);
    if (h < 0) return;
    const x = this.laneX(h);
    const fail = /\b(fail|failed|error|gave up|give up|gives up|server down|refused|abort)/i.test(A.note);
    const g = el('g', { class: `note${fail ? ' fail' : ''}` }, this.gNotes);
    title(g, `app ${A.app}: ${A.note}`);
    el('circle', { cx: x, cy: y, r: 2.5 }, g);
    if (this.compact) return;
    const left = h === 0 && this.ctx.hosts.length > 1;
    const max = Math.floor(Math.min(150, this.width * 0.2) / 5.6);
    const text = A.note.length > max ? `${A.note.slice(0, max - 1)}…` : A.note;
    el('text', { x: left ? x - 6 : x + 6, y: y + 3, 'text-anchor': left ? 'end' : 'start' }, g).textContent = text;
  }

  drawChange(C, y) {
    const g = el('g', { class: 'change' }, this.gNotes);
    el('line', { x1: 56, x2: this.width, y1: y, y2: y }, g);
    if (!this.compact) {
      el('text', { x: this.width - 4, y: y - 3, 'text-anchor': 'end' }, g).textContent =
        `link ${C.on.link} ${C.on.dir === 0 ? 'a→b' : 'b→a'}: new profile`;
    }
  }

  drawNoRoute(N, y) {
    const x = this.laneX(N.host);
    const g = this.group(N.packet, 'drop', `#${N.packet}: no route`);
    this.cross(g, x + 10, y);
    this.mark(g, x + 16, y + 3, 'no route', 'start');
  }

  // In-flight arrows grow towards the now-line as the clock runs.
  setNow(us) {
    this.nowUs = us;
    this.refreshFlight();
    this.resize();
  }

  refreshFlight() {
    const yNow = this.yAt(this.nowUs);
    this.nowLine.setAttribute('y1', yNow);
    this.nowLine.setAttribute('y2', yNow);
    for (const a of this.pending.values()) {
      const f = Math.min(1, Math.max(0, (this.nowUs - a.at) / Math.max(1, a.due - a.at)));
      for (const l of a.line) {
        l.setAttribute('x2', a.xs + (a.xd - a.xs) * f);
        l.setAttribute('y2', Math.max(a.ys, yNow));
      }
    }
  }

  resize() {
    const h = Math.ceil(Math.max(this.yAt(this.nowUs), this.y) + 24);
    this.svg.setAttribute('width', this.width);
    this.svg.setAttribute('height', h);
    this.svg.setAttribute('viewBox', `0 0 ${this.width} ${h}`);
    for (const l of this.lanes) l.setAttribute('y2', h - 8);
  }

  nowY() {
    return this.yAt(this.nowUs);
  }

  // Zooming redraws from the kept records: the layout is a pure function of them.
  relayout(patch) {
    Object.assign(this, patch);
    const recs = this.records;
    const now = this.nowUs;
    this.records = [];
    this.reset();
    this.nowUs = now;
    this.append(recs);
  }

  select(packet) {
    if (this.selected !== null) this.arrows.get(this.selected)?.classList.remove('sel');
    this.selected = packet;
    const g = this.arrows.get(packet);
    if (!g) return;
    g.classList.add('sel');
    const box = g.getBBox();
    const c = this.container;
    if (box.y < c.scrollTop || box.y + box.height > c.scrollTop + c.clientHeight) {
      c.scrollTop = Math.max(0, box.y - c.clientHeight / 3);
    }
  }

  packets() {
    return [...this.arrows.keys()].sort((a, b) => a - b);
  }

  svgText() {
    const clone = this.svg.cloneNode(true);
    clone.setAttribute('xmlns', NS);
    clone.querySelector('.now')?.remove();
    if (this.header) {
      this.ctx.hosts.forEach((name, h) => {
        const t = document.createElementNS(NS, 'text');
        t.setAttribute('class', 'lane-name');
        t.setAttribute('x', this.laneX(h));
        t.setAttribute('y', 11);
        t.textContent = name;
        clone.append(t);
      });
    }
    const bg = document.createElementNS(NS, 'rect');
    for (const [k, v] of Object.entries({ x: 0, y: 0, width: '100%', height: '100%', fill: '#fff' })) bg.setAttribute(k, v);
    clone.insertBefore(bg, clone.firstChild.nextSibling);
    return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(clone)}\n`;
  }
}
