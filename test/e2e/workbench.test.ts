import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { openFile, outputText, runCommand, screenshot, startWorkbench } from './support/workbench';

describe('workbench', () => {
  before(async function () {
    this.timeout(300_000); // the first run installs code-server
    await startWorkbench();
  });

  it('shows the example datasets in the explorer', async () => {
    const { page } = await startWorkbench();
    const row = page.locator('.explorer-folders-view .monaco-list-row', {
      hasText: 'mt_bench_questions.jsonl',
    });
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await row.count(), 1);
  });

  it('opens a sample dataset', async () => {
    const { page } = await startWorkbench();
    await openFile('mt_bench_questions.jsonl');
    const tab = page.locator('.tabs-container .tab.active');
    assert.match((await tab.getAttribute('aria-label')) ?? '', /mt_bench_questions\.jsonl/);
    const shot = await screenshot('workbench-dataset-open');
    assert.ok(fs.statSync(shot).size > 10_000, 'screenshot is empty');
  });

  it('runs "Parrot: Show Log" from the command palette and shows the extension log', async () => {
    const { page } = await startWorkbench();
    await runCommand('Parrot: Show Log');
    await page.locator('.part.panel').waitFor({ state: 'visible', timeout: 15_000 });
    await page
      .locator('.part.panel .view-lines', { hasText: 'Parrot Studio activated' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await outputText(), /Parrot Studio activated/);
    await screenshot('workbench-parrot-log');
  });
});
