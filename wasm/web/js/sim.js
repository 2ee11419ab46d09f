// The page's only door into the simulator: the wasm-bindgen façade. Values
// cross as JSON text; this module parses them so the rest of the page sees
// plain objects.

import init, * as wk from '../pkg/wirekit_wasm.js';

let loading = null;

// The wasm's URL is given, not left to the glue: relative to this module, it
// is right both at the site's root and in the book's copy under lab/.
export const WASM_URL = new URL('../pkg/wirekit_wasm_bg.wasm', import.meta.url);

export function load() {
  loading ??= init({ module_or_path: WASM_URL }).then(() => wk);
  return loading;
}

export const presets = () => JSON.parse(wk.presets());
export const version = () => wk.version();
export const parseScenario = (text) => JSON.parse(wk.parse_scenario(text));
export const checkNetem = (text) => wk.check_netem(text);
export const simulate = (scenario, seed) => JSON.parse(wk.simulate(JSON.stringify(scenario), String(seed)));

// One scenario and seed, run twice: `full` to the end at once (for the
// report, the plots, the log and the downloads), and `live`, re-created from
// zero whenever playback goes back in time, for the animated diagram.
export class Session {
  constructor(scenario, seed) {
    this.scenario = scenario;
    this.seed = String(seed);
    this.json = JSON.stringify(scenario);
    this.full = new wk.Run(this.json, this.seed);
    const t0 = performance.now();
    this.full.finish();
    this.wallMs = performance.now() - t0;
    this.records = JSON.parse(this.full.records_since(0));
    this.report = JSON.parse(this.full.report());
    this.hash = this.full.trace_hash();
    this.hosts = JSON.parse(this.full.hosts());
    this.apps = JSON.parse(this.full.apps());
    this.endUs = Math.max(this.full.now_us(), this.report.ended_at ?? 0);
    this.live = null;
    this.liveCount = 0;
  }

  // A fresh live run at time zero; returns its records so far.
  rewind() {
    this.live?.free();
    this.live = new wk.Run(this.json, this.seed);
    this.liveCount = 0;
    return [];
  }

  // Moves the live run to virtual time t and hands back the new records.
  advanceTo(t) {
    if (!this.live) this.rewind();
    this.live.advance(Math.floor(t));
    const fresh = JSON.parse(this.live.records_since(this.liveCount));
    this.liveCount += fresh.length;
    return fresh;
  }

  // The time of the live run's next event, or null once it is over.
  nextEventUs() {
    if (!this.live) this.rewind();
    const t = this.live.next_event_us();
    return t === undefined || t === null ? null : t;
  }

  liveNow() {
    return this.live ? this.live.now_us() : 0;
  }

  liveDone() {
    return this.live ? this.live.done() : false;
  }

  packet(n) {
    return JSON.parse(this.full.packet(n));
  }

  // A short name for packet n from the core's decoding (TFTP "DATA block 3",
  // a WKFT/1 header line), else its flags and length.
  label(n, fallback) {
    this.labels ??= new Map();
    if (!this.labels.has(n)) {
      let text = fallback;
      try {
        const first = this.packet(n)?.decoded?.[0];
        // A slice of a stream's body says less than its flags and length.
        if (first && !/^(\d+ bytes of\b|not a valid\b)/.test(first)) {
          // The name of the message, not its details: up to the first ", " or ": ".
          const name = first.split(/, |: /)[0];
          text = name.length > 24 ? `${name.slice(0, 23)}…` : name;
        }
      } catch { /* the fallback is still true */ }
      this.labels.set(n, text);
    }
    return this.labels.get(n);
  }

  statesAt(t) {
    return JSON.parse(this.full.states_at(t));
  }

  pcap() {
    return this.full.pcap();
  }

  traceJsonl() {
    return this.full.trace_jsonl();
  }

  summaryText() {
    return this.full.summary();
  }

  free() {
    this.live?.free();
    this.full.free();
    this.live = null;
  }
}
