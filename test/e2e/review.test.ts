// Review in the real workbench, keyboard only: a reviewer goes through an examples/ dataset with
// 1/2/3, a note (n) and next unreviewed (u); the decisions survive closing and reopening the file,
// an edit and a save, and a reorder of the file on disk; `parrot export --accepted` writes exactly
// the accepted records; and the dataset's bytes are the same before and after reviewing.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { parseSidecar, recordIdentity } from '../../src/core/review';
import { findWebviewFrame, openFile, runCommand, screenshot, startWorkbench } from './support/workbench';

const FILE = 'llamafactory_identity.jsonl';

describe('review: keyboard-first review in the dialogue editor (UI)', () => {
  let frame: Frame;
  let file: string;
  let root: string;

  async function open(): Promise<void> {
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.review-progress-text', 60_000);
  }

  async function progressIs(text: string): Promise<void> {
    await frame.locator('.review-progress-text', { hasText: text }).waitFor({ timeout: 30_000 });
  }

  async function recordIs(n: number): Promise<void> {
    await frame
      .locator('.detail-title', { hasText: new RegExp(`^Record ${n}$`) })
      .waitFor({ timeout: 15_000 });
  }

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    root = wb.root;
    file = path.join(wb.workspace, FILE);
    await open();
  });

  after(async () => {
    await runCommand('View: Close All Editors').catch(() => undefined);
  });

  it('reviews with the keyboard only and never touches the dataset', async () => {
    const { page } = await startWorkbench();
    const before = fs.readFileSync(file);
    await progressIs('0/91 reviewed');
    await frame.locator('.vlist').focus();
    await recordIs(1);
    await page.keyboard.press('1');
    await progressIs('1/91 reviewed · 1 accepted');
    await page.keyboard.press('j');
    await recordIs(2);
    await page.keyboard.press('2');
    await progressIs('2/91 reviewed · 1 accepted · 1 rejected');
    await page.keyboard.press('j');
    await recordIs(3);
    await page.keyboard.press('3');
    await progressIs('3/91 reviewed · 1 accepted · 1 rejected · 1 needs work');
    await page.keyboard.press('j');
    await recordIs(4);
    await page.keyboard.press('n');
    const note = frame.locator('vscode-textfield.review-note');
    await note.waitFor({ state: 'visible', timeout: 15_000 });
    // Type once the field has the focus (it takes it a moment after it shows).
    await frame.waitForFunction(
      "document.activeElement?.classList.contains('review-note') === true",
      undefined,
      {
        timeout: 15_000,
      },
    );
    await page.keyboard.type('Say which assistant this is.');
    await page.keyboard.press('Enter');
    await progressIs('4/91 reviewed · 1 accepted · 1 rejected · 2 needs work');
    await frame
      .locator('.review-current', { hasText: 'Say which assistant this is.' })
      .waitFor({ timeout: 15_000 });
    await note.waitFor({ state: 'hidden', timeout: 15_000 });
    // Focus went back to the list: the keys go on working there.
    await page.keyboard.press('j');
    await recordIs(5);
    await page.keyboard.press('1');
    await progressIs('5/91 reviewed · 2 accepted');
    // Next unreviewed, from record 1: record 6 (records 2–5 are decided).
    await page.keyboard.press('Home');
    await recordIs(1);
    await page.keyboard.press('u');
    await recordIs(6);
    // Badges in the rows, with the status in each row's accessible name.
    await frame.locator('.vrow .review-badge.review-accepted').first().waitFor({ timeout: 15_000 });
    const label = await frame
      .locator('.vrow', { has: frame.locator('.review-badge.review-rejected') })
      .getAttribute('aria-label');
    assert.match(label ?? '', /^Record 2, .*rejected/);
    const bar = frame.locator('.review-progress');
    assert.equal(await bar.getAttribute('role'), 'progressbar');
    assert.equal(await bar.getAttribute('aria-valuenow'), '5');
    assert.equal(await bar.getAttribute('aria-valuemax'), '91');
    const shot = await screenshot('review');
    assert.ok(fs.statSync(shot).size > 10_000);

    assert.deepEqual(fs.readFileSync(file), before, 'the dataset is byte-identical after reviewing');
    const decisions = parseSidecar(fs.readFileSync(file + '.review.jsonl', 'utf8')).decisions;
    assert.deepEqual(
      decisions.map((d) => d.status),
      ['accepted', 'rejected', 'needs-work', 'needs-work', 'accepted'],
    );
    assert.equal(
      page.locator(`.tabs-container .tab.dirty[data-resource-name="${FILE}"]`).count !== undefined,
      true,
    );
    assert.equal(await page.locator(`.tabs-container .tab.dirty[data-resource-name="${FILE}"]`).count(), 0);
  });

  it('keeps the decisions through closing and reopening, an edit and a save, and a reorder on disk', async () => {
    const { page } = await startWorkbench();
    await runCommand('View: Close All Editors');
    await open();
    await progressIs('5/91 reviewed · 2 accepted · 1 rejected · 2 needs work');

    // Edit record 1 (accepted) from the keyboard, and save.
    await frame.locator('.vlist').focus();
    await page.keyboard.press('Home');
    await recordIs(1);
    await page.keyboard.press('Enter'); // into the dialogue
    await page.keyboard.press('ArrowDown'); // system prompt -> the user turn
    await page.keyboard.press('Enter'); // edit it
    const editor = frame.locator('textarea.editor');
    await editor.waitFor({ timeout: 15_000 });
    await editor.fill('hi there');
    await page.keyboard.press('Control+Enter');
    await frame.locator('.review-current', { hasText: 'changed since review' }).waitFor({ timeout: 15_000 });
    await frame.locator('.review-current', { hasText: 'accepted' }).waitFor({ timeout: 15_000 });
    await page.keyboard.press('Control+s');
    await page
      .locator(`.tabs-container .tab.dirty[data-resource-name="${FILE}"]`)
      .waitFor({ state: 'detached', timeout: 15_000 });
    assert.match(fs.readFileSync(file, 'utf8').split('\n')[0] ?? '', /"instruction":"hi there"/);
    await progressIs('5/91 reviewed · 2 accepted · 1 rejected · 2 needs work');

    // Reorder the file on disk (reversed, as a sort by another tool would): the editor reloads it.
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(file, [...lines].reverse().join('\n') + '\n');
    await frame.locator('.vlist').focus();
    await page.keyboard.press('End');
    await recordIs(91);
    await frame.locator('.review-current', { hasText: 'accepted' }).waitFor({ timeout: 30_000 });
    await progressIs('5/91 reviewed · 2 accepted · 1 rejected · 2 needs work');
    await page.keyboard.press('k');
    await recordIs(90);
    await frame.locator('.review-current', { hasText: 'rejected' }).waitFor({ timeout: 15_000 });

    // The export holds exactly the accepted records (the edited record 1 and record 5), in file order.
    const out = path.join(path.dirname(file), 'identity.accepted.jsonl');
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'dist', 'cli.js'), 'export', file, '--accepted', '-o', out],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const now = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    const accepted = [now[now.length - 5], now[now.length - 1]];
    assert.equal(fs.readFileSync(out, 'utf8'), accepted.map((l) => `${l}\n`).join(''));
    assert.match(r.stderr, /warning: accepted, but changed since it was reviewed/);
    const keys = new Set(
      parseSidecar(fs.readFileSync(file + '.review.jsonl', 'utf8')).decisions.map((d) => d.key),
    );
    for (const l of accepted) assert.ok(keys.has(recordIdentity(l ?? '').key));
  });
});
