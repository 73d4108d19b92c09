// The walkthrough in the real workbench: offered on the Welcome page (which `npm start` opens at
// start-up), its steps shown, and its first step opening an example in the dialogue editor.
import * as assert from 'node:assert/strict';
import { findWebviewFrame, runCommand, screenshot, startWorkbench } from './support/workbench';

describe('walkthrough', () => {
  before(async function () {
    this.timeout(300_000);
    await startWorkbench();
  });

  it('is offered on the Welcome page and opens an example in the dialogue editor', async function () {
    this.timeout(120_000);
    const { page } = await startWorkbench();
    await runCommand('Help: Welcome');
    const entry = page.locator('.gettingStartedContainer button', {
      hasText: 'Get started with Parrot Studio',
    });
    await entry.first().waitFor({ state: 'visible', timeout: 30_000 });
    await entry.first().click();

    for (const title of [
      'Open a dataset in the Dialogue Editor',
      'Edit a dialogue',
      'Validate it',
      'Ask a follow-up question',
      'Make a CaPO preference pair',
      'Export large jobs',
    ]) {
      await page
        .locator('.gettingStartedContainer .getting-started-step', { hasText: title })
        .first()
        .waitFor({ state: 'attached', timeout: 15_000 });
    }
    // The step's Markdown media is rendered (in a webview of its own).
    const media = await findWebviewFrame('h1:has-text("Open a dataset")', 30_000);
    assert.ok((await media.locator('li').count()) >= 3, 'the open step lists its ways in');
    await screenshot('walkthrough');

    await page.getByRole('button', { name: 'Open a Sample Dataset' }).click();
    // The workspace (a copy of examples/) has several datasets: a quick pick lists them.
    await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 15_000 });
    assert.ok(
      (await page.locator('.quick-input-list .monaco-list-row').count()) >= 5,
      'every example is listed',
    );
    // More examples than rows on screen: narrow the list to the one to open.
    await page.keyboard.type('mt_bench_questions');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'mt_bench_questions.jsonl' });
    await row.first().waitFor({ state: 'visible', timeout: 15_000 });
    await row.first().click();
    const frame = await findWebviewFrame('.detail .turn', 60_000);
    assert.ok((await frame.locator('.detail .turn').count()) > 0, 'the dialogue is shown');
    const tab = page.locator('.tabs-container .tab.active');
    assert.match((await tab.getAttribute('aria-label')) ?? '', /mt_bench_questions\.jsonl/);
    await page.keyboard.press('Control+W').catch(() => undefined);
  });
});
