// The book's live widgets, served by `cargo xtask lab` under /book/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { LAB_URL, SHOTS_DIR, WAIT, launch, openPage } from './lib.mjs';

const CHAPTERS = ['tcp', 'echo', 'tftp', 'transfer', 'simulator'];
let browser;

before(async () => {
  browser = await launch();
  console.log(`# chromium ${browser.version}, book at ${LAB_URL}book/`);
});

after(async () => {
  await browser?.close();
});

for (const chapter of CHAPTERS) {
  test(`the widget in book/${chapter}.html loads and plays`, { timeout: WAIT * 2 }, async () => {
    const page = await openPage(browser.context, `${LAB_URL}book/${chapter}.html`);
    const widget = page.locator('.wirekit-widget').first();
    await widget.waitFor({ timeout: WAIT });
    await page.waitForSelector('.wirekit-widget[data-state="ready"], .wirekit-widget .wk-error', { timeout: WAIT });
    assert.equal(await page.locator('.wirekit-widget .wk-error').count(), 0, await page.locator('.wirekit-widget').first().textContent());
    assert.ok((await widget.locator('g.pkt').count()) > 0, 'the diagram has packets');
    const link = await widget.locator('a').getAttribute('href');
    assert.match(link, /\?preset=[\w-]+&seed=\d+/);
    await widget.locator('button').click();
    await page.waitForSelector('.wirekit-widget[data-state="played"]', { timeout: WAIT });
    assert.ok((await widget.locator('g.pkt').count()) > 0, 'the diagram has packets after playing');
    await widget.scrollIntoViewIfNeeded();
    await widget.screenshot({ path: path.join(SHOTS_DIR, `widget-${chapter}.png`) });
    // The link opens the lab on the same run.
    const lab = await openPage(browser.context, new URL(link, page.url()).href);
    await lab.waitForFunction(() => Number(document.body.dataset.runs ?? 0) > 0, null, { timeout: WAIT });
    assert.match(await lab.textContent('#trace-hash'), /^[0-9a-f]{64}$/);
    assert.deepEqual(lab.problems, []);
    await lab.close();
    assert.deepEqual(page.problems, [], 'no console errors, page errors or failed requests');
    await page.close();
  });
}
