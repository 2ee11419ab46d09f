// Runs one scenario under many seeds, off the page's thread. Seeds are u64
// decimal strings, so they are counted with BigInt.

import init, * as wk from '../pkg/wirekit_wasm.js';

let stopped = false;

self.onmessage = async (e) => {
  const { scenario, from, count } = e.data;
  try {
    await init({ module_or_path: new URL('../pkg/wirekit_wasm_bg.wasm', import.meta.url) });
  } catch (err) {
    self.postMessage({ type: 'error', message: `the simulator did not load in the worker: ${err.message}` });
    return;
  }
  const json = JSON.stringify(scenario);
  const t0 = performance.now();
  for (let i = 0; i < count && !stopped; i++) {
    const seed = (BigInt(from) + BigInt(i)).toString();
    try {
      const r = JSON.parse(wk.simulate(json, seed));
      self.postMessage({
        type: 'result', i, seed, outcome: r.outcome, completed_at: r.completed_at, ended_at: r.ended_at,
        packets: r.stats.packets_sent, hash: r.trace_hash,
      });
    } catch (err) {
      self.postMessage({ type: 'result', i, seed, outcome: { Failed: err.message }, completed_at: null, ended_at: 0, packets: 0, hash: '' });
    }
  }
  self.postMessage({ type: 'done', ms: performance.now() - t0 });
};
