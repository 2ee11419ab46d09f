// The simulator's speed in the browser, for `cargo xtask bench` (not a test):
// loads the lab, runs one fixed scenario a few times through the wasm module,
// and prints {"packets_per_s":..,"runs":..} on stdout.
//   LAB_URL=http://127.0.0.1:PORT/ node tests/browser/bench.mjs [PRESET] [RUNS]

import { LAB_URL, WAIT, launch, openPage } from './lib.mjs';

const preset = process.argv[2] || 'tcp-transfer-lossy';
const runs = Number(process.argv[3] || 5);

const browser = await launch();
try {
  const page = await openPage(browser.context, LAB_URL);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: WAIT });
  const r = await page.evaluate(async ({ preset, runs }) => {
    const wk = await import(new URL('pkg/wirekit_wasm.js', document.baseURI).href);
    await wk.default();
    const p = JSON.parse(wk.presets()).find((x) => x.name === preset);
    if (!p) throw new Error(`no preset ${preset}`);
    const json = JSON.stringify(p.scenario);
    // One warm-up run, so compilation is not timed.
    wk.simulate(json, '7');
    let packets = 0;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) packets += JSON.parse(wk.simulate(json, String(7 + i))).stats.packets_sent;
    const s = (performance.now() - t0) / 1000;
    return { packets, s };
  }, { preset, runs });
  console.log(JSON.stringify({
    packets_per_s: Math.round(r.packets / r.s), runs, packets: r.packets, seconds: Number(r.s.toFixed(4)),
    preset, browser: browser.version,
  }));
  if (page.problems.length) console.error(page.problems.join('\n'));
} finally {
  await browser.close();
}
