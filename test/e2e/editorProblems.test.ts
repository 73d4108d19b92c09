// Problems inside the dialogue editor, in the real workbench: each row's badge says invalid, its
// warnings or valid (preference pairs too), Invalid only and Has problems filter by the records' own
// validation rules, and a click on an entry of the Problems panel shows its record in the dialogue
// editor instead of opening a second, text tab.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';

const FILE = 'editor-problems.jsonl';

const user = (content: string): object => ({ role: 'user', content });
const assistant = (content: string): object => ({ role: 'assistant', content });

/** Six records: valid, a warning, a schema error; a valid pair, a pair with a warning, an invalid pair. */
function dataset(): string {
  const rows = [
    { id: 'p1', messages: [user('Where do herons nest?'), assistant('In colonies.')] },
    { id: 'p2', messages: [user('Name a wader.')] },
    { id: 'p3', messages: [user('What do egrets eat?'), { ...assistant('Fish.'), weight: 2 }] },
    {
      id: 'p4',
      prompt: [user('Is a stork a wader?')],
      chosen: [assistant('Yes.')],
      rejected: [assistant('No.')],
    },
    {
      id: 'p5',
      prompt: [user('Do ibises fly?')],
      chosen: [assistant('Yes, they do.')],
      rejected: [assistant('Yes, they do.')],
    },
    {
      id: 'p6',
      prompt: [user('Can a crane swim?')],
      chosen: [user('Rarely.')],
      rejected: [assistant('Often.')],
    },
  ];
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

describe('dialogue editor: problems in the list and from the Problems panel (UI)', () => {
  let frame: Frame;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    fs.writeFileSync(path.join(wb.workspace, FILE), dataset());
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.turn-body :text("herons")', 60_000);
  });

  /** The visible rows' "#n", pair mark and badge, in list order. */
  async function rows(): Promise<string[]> {
    type Node = { querySelector(selector: string): { textContent: string | null } | null };
    const parts = await frame
      .locator('.vrow:not([hidden]) .vrow-top')
      .evaluateAll((els) =>
        (els as unknown as Node[]).map((top) =>
          ['.num', '.kind', '.badge'].map((c) => top.querySelector(c)?.textContent ?? ''),
        ),
      );
    return parts
      .map((p) => p.filter(Boolean).join(' '))
      .sort((a, b) => Number(a.split(' ')[0]?.slice(1)) - Number(b.split(' ')[0]?.slice(1)));
  }

  async function waitForRows(expected: string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    let last: string[] = [];
    while (Date.now() < deadline) {
      last = await rows();
      if (JSON.stringify(last) === JSON.stringify(expected)) return;
      await frame.page().waitForTimeout(100);
    }
    assert.deepEqual(last, expected);
  }

  async function setFilter(label: string, on: boolean): Promise<void> {
    const box = frame.locator('vscode-checkbox', { hasText: label });
    const checked = await box.evaluate((e) => (e as unknown as { checked: boolean }).checked);
    if (checked !== on) await box.click();
  }

  it('badges each record with its validity: invalid, its warnings, or valid; pairs too', async () => {
    await waitForRows([
      '#1 valid',
      '#2 1 warning',
      '#3 invalid',
      '#4 pair valid',
      '#5 pair 1 warning',
      '#6 pair invalid',
    ]);
    const label = await frame.locator('.vrow[aria-posinset="2"]').getAttribute('aria-label');
    assert.match(label ?? '', /1 warning/, 'the warning is in the row’s accessible name');
  });

  it('Invalid only shows records with errors; Has problems adds those with warnings', async () => {
    await setFilter('Invalid only', true);
    await waitForRows(['#3 invalid', '#6 pair invalid']);
    await setFilter('Invalid only', false);
    await setFilter('Has problems', true);
    await waitForRows(['#2 1 warning', '#3 invalid', '#5 pair 1 warning', '#6 pair invalid']);
    await setFilter('Has problems', false);
    await waitForRows([
      '#1 valid',
      '#2 1 warning',
      '#3 invalid',
      '#4 pair valid',
      '#5 pair 1 warning',
      '#6 pair invalid',
    ]);
  });

  it('a click on a problem in the Problems panel shows its record in the dialogue editor', async () => {
    const page = frame.page();
    await runCommand('Focus on Problems View');
    // Files opened by earlier tests list their problems too: filter the panel to this one's.
    const filter = page.locator('.part.panel input[placeholder^="Filter"]').first();
    await filter.waitFor({ timeout: 10_000 });
    await filter.fill('the pair teaches nothing');
    const entry = page.locator('.markers-panel .monaco-list-row', { hasText: 'the pair teaches nothing' });
    await entry.first().waitFor({ timeout: 30_000 });
    await entry.first().click();
    // The dialogue editor shows record 5 (its webview was hidden behind the text tab for a moment,
    // so it is loaded again); no text tab of the file stays open.
    frame = await findWebviewFrame('.detail-title:has-text("Record 5")', 30_000);
    await frame.locator('.vrow.selected[aria-posinset="5"]').waitFor({ timeout: 5_000 });
    const tabs = page.locator(`.tabs-container .tab[data-resource-name="${FILE}"]`);
    const deadline = Date.now() + 10_000;
    while ((await tabs.count()) !== 1 && Date.now() < deadline) await page.waitForTimeout(100);
    assert.equal(await tabs.count(), 1, 'one tab for the file');
    assert.ok(
      (await tabs.first().getAttribute('aria-label'))?.includes(FILE),
      'the tab left is the dialogue editor',
    );
    assert.equal(await page.locator('.monaco-editor .view-lines :text("Do ibises fly")').count(), 0);
    await filter.fill('');
  });
});
