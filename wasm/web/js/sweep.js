// The seed sweep: the current scenario under N seeds in a module Web Worker,
// with a progress bar, the outcomes, the completion times as a histogram, and
// the seeds that did not complete, each a button that opens that run.

import { outcomeText } from './trace.js';
import { seedError } from './scenario.js';

const $ = (id) => document.getElementById(id);
const NS = 'http://www.w3.org/2000/svg';

function svgEl(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  parent?.append(e);
  return e;
}

function outcomeKey(o) {
  if (o === 'Completed') return 'completed';
  if (o === 'DidNotFinish') return 'did not finish';
  return 'failed';
}

export class Sweep {
  constructor(api) {
    this.api = api;
    this.worker = null;
    $('sweep-run').addEventListener('click', () => this.start());
    $('sweep-stop').addEventListener('click', () => this.stop('stopped'));
  }

  start() {
    this.stop();
    const from = $('sweep-from').value.trim();
    const count = Math.min(2000, Math.max(1, Number($('sweep-count').value) || 1));
    const se = seedError(from);
    if (se) { $('sweep-status').textContent = se; return; }
    const { scenario } = this.api.current();
    this.scenario = structuredClone(scenario);
    this.results = [];
    this.count = count;
    $('sweep-progress').max = count;
    $('sweep-progress').value = 0;
    $('sweep-status').textContent = `0 / ${count}`;
    $('sweep-run').disabled = true;
    $('sweep-stop').disabled = false;
    $('sweep-result').dataset.state = 'running';
    this.worker = new Worker(new URL('./sweep-worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e) => this.message(e.data);
    this.worker.onerror = (e) => this.stop(`the worker failed: ${e.message ?? 'unknown error'}`);
    this.worker.postMessage({ scenario: this.scenario, from, count });
  }

  stop(why) {
    if (this.worker) {
      this.worker.terminate();
      this.worker = null;
      if (why) $('sweep-status').textContent = `${why} after ${this.results.length} / ${this.count}`;
      if (this.results.length) this.render();
    }
    $('sweep-run').disabled = false;
    $('sweep-stop').disabled = true;
  }

  message(m) {
    if (m.type === 'error') {
      this.stop(m.message);
      return;
    }
    if (m.type === 'result') {
      this.results.push(m);
      $('sweep-progress').value = this.results.length;
      $('sweep-status').textContent = `${this.results.length} / ${this.count}`;
      if (this.results.length % 10 === 0) this.render();
      return;
    }
    if (m.type === 'done') {
      $('sweep-status').textContent = `${this.results.length} seeds in ${m.ms < 1000 ? `${Math.round(m.ms)} ms` : `${(m.ms / 1000).toFixed(1)} s`}`;
      this.worker.terminate();
      this.worker = null;
      $('sweep-run').disabled = false;
      $('sweep-stop').disabled = true;
      this.render();
      $('sweep-result').dataset.state = 'done';
    }
  }

  render() {
    const box = $('sweep-result');
    const counts = {};
    for (const r of this.results) counts[outcomeKey(r.outcome)] = (counts[outcomeKey(r.outcome)] ?? 0) + 1;
    const left = document.createElement('div');
    const summary = document.createElement('p');
    summary.id = 'sweep-summary';
    summary.textContent = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ');
    left.append(summary, this.histogram());
    const right = document.createElement('div');
    const bad = this.results.filter((r) => r.outcome !== 'Completed');
    const h = document.createElement('h3');
    h.textContent = bad.length ? `Seeds that did not complete (${bad.length})` : 'Every seed completed';
    const list = document.createElement('div');
    list.className = 'seed-list';
    list.id = 'sweep-failed';
    for (const r of bad.slice(0, 200)) list.append(this.seedButton(r, outcomeText(r.outcome)));
    const slow = this.results.filter((r) => r.completed_at != null).sort((a, b) => b.completed_at - a.completed_at).slice(0, 5);
    const h2 = document.createElement('h3');
    h2.textContent = 'Slowest to complete';
    const slowList = document.createElement('div');
    slowList.className = 'seed-list';
    for (const r of slow) slowList.append(this.seedButton(r, `${(r.completed_at / 1e6).toFixed(3)} s`));
    right.append(h, list, h2, slowList);
    box.replaceChildren(left, right);
  }

  seedButton(r, title) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = r.seed;
    b.title = `${title}: open this run`;
    b.dataset.seed = r.seed;
    b.addEventListener('click', () => this.api.open(this.scenario, r.seed));
    return b;
  }

  // Completion times of the seeds that completed, in up to 16 bins.
  histogram() {
    const W = 520, H = 170, P = 28;
    const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'completion time histogram' });
    const done = this.results.filter((r) => r.completed_at != null).map((r) => r.completed_at / 1e6);
    if (!done.length) {
      svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'bar-label' }, svg).textContent = 'no seed completed';
      return svg;
    }
    const lo = Math.min(...done), hi = Math.max(...done);
    const bins = Math.min(16, Math.max(1, done.length));
    const w = (hi - lo) / bins || 1;
    const c = new Array(bins).fill(0);
    for (const t of done) c[Math.min(bins - 1, Math.floor((t - lo) / w))]++;
    const max = Math.max(...c);
    const bw = (W - 2 * P) / bins;
    c.forEach((n, i) => {
      const bh = ((H - 2 * P) * n) / max;
      const r = svgEl('rect', { class: 'bar', x: P + i * bw + 1, y: H - P - bh, width: bw - 2, height: bh }, svg);
      svgEl('title', {}, r).textContent = `${n} seeds completed in ${(lo + i * w).toFixed(2)}–${(lo + (i + 1) * w).toFixed(2)} s`;
      if (n) svgEl('text', { class: 'bar-label', x: P + i * bw + bw / 2, y: H - P - bh - 3, 'text-anchor': 'middle' }, svg).textContent = n;
    });
    svgEl('text', { class: 'bar-label', x: P, y: H - 8 }, svg).textContent = `${lo.toFixed(2)} s`;
    svgEl('text', { class: 'bar-label', x: W - P, y: H - 8, 'text-anchor': 'end' }, svg).textContent = `${hi.toFixed(2)} s`;
    svgEl('text', { class: 'bar-label', x: W / 2, y: H - 8, 'text-anchor': 'middle' }, svg).textContent = 'completion time';
    return svg;
  }
}
