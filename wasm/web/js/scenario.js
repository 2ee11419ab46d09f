// The scenario form: preset picker, seed, link profiles (controls and netem
// text side by side), workload parameters and the scenario text. The core
// validates everything (check_netem, parse_scenario); the form only shows
// its messages next to the field they are about.

import * as sim from './sim.js';

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) e.append(k);
  return e;
}

const U64_MAX = (1n << 64n) - 1n;

export function seedError(text) {
  if (!/^\d{1,20}$/.test(text)) return 'A seed is a whole number from 0 to 18446744073709551615.';
  if (BigInt(text) > U64_MAX) return 'Too big: seeds go up to 18446744073709551615.';
  return '';
}

// Splits the core's canonical netem text (fixed keyword order, every value
// explicit) into the form's fields. Only display: the core parses for real.
export function netemFields(text) {
  const w = text.split(/\s+/).filter(Boolean);
  const f = {
    delay: '', jitter: '', corr: '', dist: 'uniform', lossModel: 'none', loss: '',
    duplicate: '', corrupt: '', reorder: '', gap: '', rate: '', limit: '', mtu: '',
    partition: false, hold: false,
  };
  const isVal = (s) => s !== undefined && /^[\d.]/.test(s);
  const take = () => { const out = []; while (isVal(w[0])) out.push(w.shift()); return out; };
  const trimZero = (vals) => { while (vals.length > 1 && /^0(\.0*)?%?$/.test(vals[vals.length - 1])) vals.pop(); return vals.join(' '); };
  while (w.length) {
    const k = w.shift();
    if (k === 'delay') {
      const [d, j, c] = take();
      f.delay = d ?? '';
      f.jitter = j && !/^0(ms|us)?$/.test(j) ? j : '';
      f.corr = c && c !== '0%' ? c : '';
      if (w[0] === 'distribution') { w.shift(); f.dist = w.shift(); }
    } else if (k === 'loss' || k === 'drop') {
      f.lossModel = ['random', 'gemodel', 'state'].includes(w[0]) ? w.shift() : 'random';
      const vals = take();
      f.loss = f.lossModel === 'random' ? trimZero(vals) : vals.join(' ');
    } else if (k === 'duplicate' || k === 'corrupt') {
      f[k] = trimZero(take());
    } else if (k === 'reorder') {
      f.reorder = trimZero(take());
      if (w[0] === 'gap') { w.shift(); f.gap = w.shift(); }
    } else if (k === 'rate') {
      const vals = take();
      const m = /^(\d+)bit$/.exec(vals[0] ?? '');
      if (m) {
        const b = Number(m[1]);
        vals[0] = b % 1e9 === 0 ? `${b / 1e9}gbit` : b % 1e6 === 0 ? `${b / 1e6}mbit` : b % 1e3 === 0 ? `${b / 1e3}kbit` : vals[0];
      }
      while (vals.length > 1 && vals[vals.length - 1] === '0') vals.pop();
      f.rate = vals.join(' ');
    } else if (k === 'limit' || k === 'mtu') {
      f[k] = w.shift() ?? '';
    } else if (k === 'partition' || k === 'hold') {
      f[k] = true;
    }
  }
  return f;
}

export function netemText(f) {
  const out = [];
  if (f.delay) {
    let d = `delay ${f.delay}`;
    if (f.jitter) d += ` ${f.jitter}${f.corr ? ` ${f.corr}` : ''}`;
    if (f.dist && f.dist !== 'uniform') d += ` distribution ${f.dist}`;
    out.push(d);
  }
  if (f.lossModel !== 'none' && f.loss) out.push(`loss ${f.lossModel} ${f.loss}`);
  if (f.duplicate) out.push(`duplicate ${f.duplicate}`);
  if (f.corrupt) out.push(`corrupt ${f.corrupt}`);
  if (f.reorder) out.push(`reorder ${f.reorder}${f.gap ? ` gap ${f.gap}` : ''}`);
  if (f.rate) out.push(`rate ${f.rate}`);
  if (f.limit) out.push(`limit ${f.limit}`);
  if (f.mtu) out.push(`mtu ${f.mtu}`);
  if (f.partition) out.push('partition');
  if (f.hold) out.push('hold');
  return out.join(' ');
}

const FIELDS = [
  ['delay', 'delay', 'e.g. 20ms'],
  ['jitter', 'jitter', 'e.g. 5ms'],
  ['corr', 'jitter corr.', 'e.g. 25%'],
  ['dist', 'distribution', null, ['uniform', 'normal', 'pareto', 'paretonormal']],
  ['lossModel', 'loss model', null, ['none', 'random', 'gemodel', 'state']],
  ['loss', 'loss', 'random: P% [corr%]; gemodel: p r 1-h 1-k', null, 'wide2'],
  ['duplicate', 'duplicate', 'e.g. 1%'],
  ['corrupt', 'corrupt', 'e.g. 0.5%'],
  ['reorder', 'reorder', 'e.g. 25% (needs delay)'],
  ['gap', 'reorder gap', 'e.g. 5'],
  ['rate', 'rate', 'e.g. 10mbit'],
  ['limit', 'queue limit', 'packets'],
  ['mtu', 'mtu', 'bytes'],
];

// Per workload kind: which parameters the form offers, as [path, label].
const WORKLOAD_FIELDS = {
  'transfer-server': [['files.0.size', 'file size (bytes)']],
  'transfer-put': [['size', 'upload size (bytes)']],
  'echo-stream-client': [['bytes', 'bytes to echo']],
  'echo-udp-client': [['requests', 'message count']],
  'tftp-server': [['files.0.size', 'file size (bytes)']],
  'tftp-get': [['blksize', 'blksize (blank: 512)'], ['windowsize', 'windowsize (blank: 1)']],
};

function getPath(o, path) {
  return path.split('.').reduce((x, k) => (x == null ? undefined : x[k]), o);
}

function setPath(o, path, v) {
  const ks = path.split('.');
  const last = ks.pop();
  const t = ks.reduce((x, k) => x[k], o);
  t[last] = v;
}

export class ScenarioForm {
  constructor({ onChange, onRun }) {
    this.onChange = onChange;
    this.onRun = onRun;
    this.presets = [];
    this.scenario = null;
    this.netemErrors = new Map();
    $('preset').addEventListener('change', () => {
      const p = this.presets.find((x) => x.name === $('preset').value);
      if (p) {
        this.load(structuredClone(p.scenario));
        $('seed').value = String(p.scenario.seed ?? 7);
        this.changed(true);
      }
    });
    $('seed').addEventListener('input', () => this.checkSeed());
    $('seed').addEventListener('keydown', (e) => { if (e.key === 'Enter') this.run(); });
    $('time-limit').addEventListener('change', () => {
      const v = Number($('time-limit').value);
      if (Number.isInteger(v) && v > 0) {
        this.scenario.time_limit_ms = v;
        this.changed(true);
      }
    });
    $('run').addEventListener('click', () => this.run());
    $('scenario-apply').addEventListener('click', () => this.applyText());
    $('scenario-text').addEventListener('input', () => {
      clearTimeout(this.textTimer);
      this.textTimer = setTimeout(() => this.checkText(), 500);
    });
  }

  setPresets(list) {
    this.presets = list;
    const sel = $('preset');
    sel.replaceChildren(...list.map((p) => h('option', { value: p.name, text: p.name })));
    sel.append(h('option', { value: '', text: '(custom scenario)', disabled: true }));
  }

  // The preset this scenario is, unchanged, or null for a custom one.
  presetName() {
    const s = JSON.stringify(this.scenario);
    const p = this.presets.find((x) => JSON.stringify(x.scenario) === s);
    return p ? p.name : null;
  }

  load(scenario) {
    this.scenario = scenario;
    this.netemErrors.clear();
    const name = this.presetName();
    $('preset').value = name ?? '';
    const p = this.presets.find((x) => x.name === name);
    $('preset-description').textContent = p ? p.description : `custom: ${scenario.description || scenario.name || 'a scenario of your own'}`;
    $('time-limit').value = scenario.time_limit_ms;
    this.renderLinks();
    this.renderWorkload();
    this.showText();
    $('scenario-error').textContent = '';
    $('scenario-text').classList.remove('invalid');
  }

  seed() {
    return $('seed').value.trim();
  }

  checkSeed() {
    const msg = seedError(this.seed());
    $('seed-error').textContent = msg;
    $('seed').classList.toggle('invalid', !!msg);
    return !msg;
  }

  valid() {
    return this.checkSeed() && this.netemErrors.size === 0;
  }

  run() {
    if (this.valid()) this.onRun(this.scenario, this.seed());
  }

  // A change from a control: keep the text and the preset picker in step.
  changed(runNow) {
    const name = this.presetName();
    $('preset').value = name ?? '';
    if (!name) $('preset-description').textContent = 'a custom scenario (edited)';
    this.showText();
    this.onChange?.(this.scenario);
    if (runNow) this.run();
  }

  renderLinks() {
    const box = $('links');
    box.replaceChildren();
    this.scenario.links.forEach((link, li) => {
      for (const [key, from, to] of [['a_to_b', link.a, link.b], ['b_to_a', link.b, link.a]]) {
        box.append(this.netemFieldset(li, key, `link ${li}: ${from} → ${to}`));
      }
    });
    if (this.scenario.changes?.length) {
      box.append(h('p', { class: 'hint', text: `Profile changes during the run: ${this.scenario.changes.map((c) => `at ${c.at_ms} ms link ${c.link} ${c.direction}: "${c.profile}"`).join('; ')} (edit them in the scenario text).` }));
    }
  }

  netemFieldset(li, key, legend) {
    const id = `netem-${li}-${key}`;
    const fs = h('fieldset', { class: 'netem' }, h('legend', { text: legend }));
    const grid = h('div', { class: 'netem-grid' });
    const text = h('input', { type: 'text', id, class: 'netem-text', 'aria-describedby': `${id}-error`, spellcheck: 'false' });
    const err = h('p', { id: `${id}-error`, class: 'error', 'aria-live': 'polite' });
    const controls = {};
    const fromControls = () => {
      const f = {};
      for (const [k, c] of Object.entries(controls)) f[k] = c.type === 'checkbox' ? c.checked : c.value.trim();
      text.value = netemText(f);
      this.setNetem(li, key, text, err, controls, false);
    };
    for (const [k, label, ph, options, cls] of FIELDS) {
      const cid = `${id}-${k}`;
      const c = options
        ? h('select', { id: cid }, ...options.map((o) => h('option', { value: o, text: o })))
        : h('input', { type: 'text', id: cid, placeholder: ph, size: 6 });
      c.addEventListener('change', fromControls);
      controls[k] = c;
      grid.append(h('div', { class: cls ?? '' }, h('label', { for: cid, text: label }), c));
    }
    const checks = h('div', { class: 'checks' });
    for (const k of ['partition', 'hold']) {
      const c = h('input', { type: 'checkbox', id: `${id}-${k}` });
      c.addEventListener('change', fromControls);
      controls[k] = c;
      checks.append(h('label', {}, c, ` ${k}`));
    }
    grid.append(checks);
    text.value = this.scenario.links[li][key] ?? '';
    this.fillControls(controls, text.value);
    text.addEventListener('change', () => this.setNetem(li, key, text, err, controls, true));
    text.addEventListener('keydown', (e) => { if (e.key === 'Enter') text.dispatchEvent(new Event('change')); });
    fs.append(grid, h('label', { for: id, text: 'netem' }), text, err);
    return fs;
  }

  fillControls(controls, netem) {
    const f = netemFields(netem);
    for (const [k, c] of Object.entries(controls)) {
      if (c.type === 'checkbox') c.checked = !!f[k];
      else c.value = f[k] ?? '';
    }
  }

  setNetem(li, key, input, err, controls, fromText) {
    const tag = `${li}-${key}`;
    try {
      const canon = sim.checkNetem(input.value);
      this.netemErrors.delete(tag);
      err.textContent = '';
      input.classList.remove('invalid');
      input.value = canon;
      if (fromText) this.fillControls(controls, canon);
      this.scenario.links[li][key] = canon;
      this.changed(true);
    } catch (e) {
      this.netemErrors.set(tag, e.message);
      err.textContent = e.message;
      input.classList.add('invalid');
    }
  }

  renderWorkload() {
    const box = $('workload');
    box.replaceChildren();
    this.scenario.apps.forEach((app, ai) => {
      const kind = app.workload.kind;
      const fs = h('fieldset', {}, h('legend', { text: `app ${ai}: ${kind} on ${app.host}` }));
      const grid = h('div', { class: 'workload-grid' });
      const fields = [...(WORKLOAD_FIELDS[kind] ?? []), ['@start_ms', 'starts at (ms)'], ['@instances', 'copies']];
      for (const [path, label] of fields) {
        const onApp = path.startsWith('@');
        const p = onApp ? path.slice(1) : path;
        const target = onApp ? app : app.workload;
        if (!onApp && p.startsWith('files.') && !target.files?.length) continue;
        const cid = `wl-${ai}-${p.replace(/\./g, '-')}`;
        const v = getPath(target, p);
        const input = h('input', { type: 'number', id: cid, min: 0, step: 1, value: v ?? '' });
        const err = h('p', { class: 'error', id: `${cid}-error` });
        input.setAttribute('aria-describedby', err.id);
        input.addEventListener('change', () => {
          const raw = input.value.trim();
          const nullable = p === 'blksize' || p === 'windowsize';
          if (raw === '' && nullable) {
            setPath(target, p, null);
          } else if (/^\d+$/.test(raw)) {
            setPath(target, p, Number(raw));
          } else {
            err.textContent = 'a whole number, please';
            input.classList.add('invalid');
            return;
          }
          // The core judges the whole scenario (limits, names, sizes).
          try {
            sim.parseScenario(JSON.stringify(this.scenario));
            err.textContent = '';
            input.classList.remove('invalid');
            this.changed(true);
          } catch (e) {
            err.textContent = e.message;
            input.classList.add('invalid');
          }
        });
        grid.append(h('div', {}, h('label', { for: cid, text: label }), input, err));
      }
      fs.append(grid);
      box.append(fs);
    });
  }

  showText() {
    $('scenario-text').value = JSON.stringify(this.scenario, null, 2);
  }

  checkText() {
    try {
      const s = sim.parseScenario($('scenario-text').value);
      $('scenario-error').textContent = '';
      $('scenario-text').classList.remove('invalid');
      return s;
    } catch (e) {
      $('scenario-error').textContent = e.message;
      $('scenario-text').classList.add('invalid');
      return null;
    }
  }

  applyText() {
    const s = this.checkText();
    if (!s) return;
    this.load(s);
    this.changed(true);
  }
}
