// Shared by the browser tests and the benchmark: the environment the xtask
// passes, the Chromium launch that works with Debian's build, and a page that
// records every console error and page error.

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LAB_URL = (process.env.LAB_URL || 'http://127.0.0.1:7080/').replace(/\/?$/, '/');
export const WIREKIT_BIN = process.env.WIREKIT_BIN || '';
export const SHOTS_DIR = process.env.SHOTS_DIR || path.resolve('target/browser');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The machine is shared by several builds: waits are long on purpose.
export const WAIT = 90_000;

fs.mkdirSync(SHOTS_DIR, { recursive: true });

export async function launch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirekit-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(WAIT);
  const version = context.browser()?.version() ?? (await versionOf(context));
  return {
    context,
    version,
    async close() {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function versionOf(context) {
  const p = await context.newPage();
  const ua = await p.evaluate(() => navigator.userAgent);
  await p.close();
  return /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? ua;
}

// A page whose console errors, page errors and failed requests are kept in
// `problems`, so a test can insist on none.
export async function openPage(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.problems = problems;
  if (url) await page.goto(url, { waitUntil: 'load', timeout: WAIT });
  return page;
}

export async function runs(page) {
  return Number((await page.getAttribute('body', 'data-runs')) ?? 0);
}

// Does `action`, then waits until the page has finished one more run.
export async function afterRun(page, action) {
  const before = await runs(page);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.runs ?? 0) > n, before, { timeout: WAIT });
}

export async function waitFirstRun(page) {
  await page.waitForFunction(() => Number(document.body.dataset.runs ?? 0) > 0 || document.body.dataset.state === 'error', null, { timeout: WAIT });
}

// Runs the native binary; resolves with its stdout whatever its exit code
// (a failed workload exits non-zero but still prints the summary).
export function native(args) {
  return new Promise((resolve, reject) => {
    if (!WIREKIT_BIN) { reject(new Error('WIREKIT_BIN is not set')); return; }
    const p = spawn(WIREKIT_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

export async function nativeHash(preset, seed) {
  const { out } = await native(['sim', preset, '--seed', String(seed)]);
  const last = out.trim().split('\n').pop();
  const m = /^trace-hash: ([0-9a-f]+)$/.exec(last);
  if (!m) throw new Error(`no trace-hash line from wirekit sim ${preset} --seed ${seed}: ${last}`);
  return m[1];
}

export async function nativeReport(preset, seed) {
  const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wirekit-trace-')), 't.jsonl');
  const { out } = await native(['sim', preset, '--seed', String(seed), '--json', '--trace', trace]);
  const report = JSON.parse(out);
  const records = fs.readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  fs.rmSync(path.dirname(trace), { recursive: true, force: true });
  return { report, records };
}

export function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

export function outcomeText(o) {
  if (o === 'Completed') return 'completed';
  if (o === 'DidNotFinish') return 'did not finish';
  return `failed: ${o.Failed}`;
}
