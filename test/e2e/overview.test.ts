// The Dataset Overview in the real workbench: its charts are drawn in the webview (SVG bars and a
// table for each), a click on a bar filters the dialogue editor's list, and it follows the theme
// (light and dark screenshots for the README).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { findWebviewFrame, openFile, runCommand, screenshot, startWorkbench } from './support/workbench';

const FILE = 'llamafactory_glaive_toolcall_en_demo.jsonl';

/** What the page function below uses of the webview's window (the tests are type-checked without DOM). */
type Win = { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } };

describe('dataset overview (UI)', () => {
  it('draws the charts, filters the list on a bar click, follows the theme', async function () {
    this.timeout(300_000);
    const { page } = await startWorkbench();
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    const editor = await findWebviewFrame('.vlist', 60_000);
    await editor.locator('.status-text', { hasText: /records/ }).waitFor({ timeout: 60_000 });
    await runCommand('Parrot: Show Dataset Overview');
    const overview = await findWebviewFrame('.overview svg', 120_000);
    const bars = overview.locator('g.bar[data-sel]');
    assert.ok((await bars.count()) > 10, `${await bars.count()} bars`);
    // Each chart has its table alternative, and every bar is reachable from the keyboard.
    assert.equal(
      await overview.locator('section.chart svg').count(),
      await overview.locator('section.chart details.alt table').count(),
    );
    assert.equal(await overview.locator('g.bar:not([tabindex="0"])').count(), 0);

    // The bar of the most frequent turn count: the list shows exactly its records.
    const turnBars = overview.locator(`g.bar[data-sel*='"turns"']`);
    const labels: string[] = [];
    for (let i = 0; i < (await turnBars.count()); i++)
      labels.push((await turnBars.nth(i).getAttribute('aria-label')) ?? '');
    const counts = labels.map((l) => Number(/: ([\d,]+) records/.exec(l)?.[1]?.replace(/,/g, '') ?? 0));
    const pick = counts.indexOf(Math.max(...counts));
    const count = counts[pick];
    assert.ok(count > 0, labels.join('; '));
    const bar = turnBars.nth(pick);
    await bar.click();
    await editor
      .locator('.status-text', { hasText: new RegExp(`\\(${count} records\\)`) })
      .waitFor({ timeout: 30_000 });
    assert.equal(await editor.locator('.vlist').getAttribute('aria-setsize'), String(count));
    // The pane shows the first record of the bar, not the one shown before.
    const firstRecord = (await editor.locator('.vlist [aria-posinset="1"]').innerText()).match(/#(\d+)/)?.[1];
    await editor
      .locator('.detail-title', { hasText: new RegExp(`^Record ${firstRecord}$`) })
      .waitFor({ timeout: 15_000 });

    // Room for the charts in the screenshots: the side bar is hidden meanwhile.
    await runCommand('View: Toggle Primary Side Bar Visibility');
    const dark = (await page.locator('.monaco-workbench.vs-dark').count()) > 0;
    const background = await overview.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    const first = await screenshot(dark ? 'overview-dark' : 'overview-light');
    await runCommand('Preferences: Toggle between Light/Dark Themes');
    await page
      .locator(dark ? '.monaco-workbench.vs:not(.vs-dark)' : '.monaco-workbench.vs-dark')
      .waitFor({ timeout: 15_000 });
    // (A function, not a string: the webview's CSP allows no eval.)
    await overview.waitForFunction((before: string) => {
      const w = globalThis as unknown as Win;
      return w.getComputedStyle(w.document.body).backgroundColor !== before;
    }, background);
    const second = await screenshot(dark ? 'overview-light' : 'overview-dark');
    assert.ok(fs.statSync(first).size > 10_000 && fs.statSync(second).size > 10_000);
    await runCommand('Preferences: Toggle between Light/Dark Themes');
    await runCommand('View: Toggle Primary Side Bar Visibility');
  });
});
